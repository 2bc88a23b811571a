import { Channel } from '@tauri-apps/api/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { commands } from './bindings';
import type { ActiveFault, AppError, RehearsalFault, RunbookCatalog, RunbookLink, RunDetail, RunSummary, StepOutput, StepPlan, StepRunRequest } from './types';
import { deployKeys } from './deploy';
import { callCommand } from './errors';
import { queryKeys } from './queries';

/** Query keys of the Runbooks area. */
export const runbookKeys = {
  catalog: ['runbooks', 'catalog'] as const,
  link: (section: string) => ['runbooks', 'link', section] as const,
  runs: ['runbooks', 'runs'] as const,
  run: (runId: string) => ['runbooks', 'run', runId] as const,
  faults: (profileId: string) => ['runbooks', 'faults', profileId] as const,
  /** Running a step's action from this window (a prefix of one run's steps, or one step). */
  runStep: (runId: string, stepIndex?: number) =>
    stepIndex === undefined ? (['runbooks', 'runStep', runId] as const) : (['runbooks', 'runStep', runId, stepIndex] as const),
};

/**
 * Every runbook (built-in and the user's) and the user files that did not load. Read only while
 * `enabled` (the command palette asks for it only when it is open).
 */
export function useRunbookCatalog(enabled = true) {
  return useQuery<RunbookCatalog, AppError>({
    queryKey: runbookKeys.catalog,
    queryFn: () => callCommand(() => commands.runbookCatalog()),
    staleTime: 30_000,
    enabled,
  });
}

/** The runbook (and step) an error's runbook section leads to; null when none covers it. */
export function useRunbookLink(section: string | null) {
  return useQuery<RunbookLink | null, AppError>({
    queryKey: runbookKeys.link(section ?? ''),
    queryFn: () => callCommand(() => commands.runbookForError(section ?? '')),
    enabled: section !== null && section !== '',
    staleTime: Infinity,
  });
}

/** Every run, newest first, open and finished, of every profile. */
export function useRuns() {
  return useQuery<RunSummary[], AppError>({
    queryKey: runbookKeys.runs,
    queryFn: () => callCommand(() => commands.listRuns(null)),
  });
}

/**
 * A run in full. While one of its steps runs and this window is not the one streaming it (the
 * area was left and opened again), it is read again every second and a half.
 */
export function useRunDetail(runId: string | null, streaming: boolean) {
  return useQuery<RunDetail, AppError>({
    queryKey: runbookKeys.run(runId ?? ''),
    queryFn: () => callCommand(() => commands.runDetail(runId ?? '')),
    enabled: runId !== null,
    refetchInterval: (query) =>
      !streaming && query.state.data?.steps.some((s) => s.state === 'running') ? 1500 : false,
  });
}

/** Keep a run the back-end returned: the run's cache and the list of runs. */
export function useStoreRun() {
  const client = useQueryClient();
  return (run: RunDetail) => {
    client.setQueryData(runbookKeys.run(run.summary.id), run);
    void client.invalidateQueries({ queryKey: runbookKeys.runs });
  };
}

/** Start a run of a runbook on a profile. */
export function useStartRun() {
  const store = useStoreRun();
  return useMutation<
    RunDetail,
    AppError,
    { profileId: string; runbookId: string; inputs: Record<string, string>; rehearsal: boolean }
  >({
    mutationFn: ({ profileId, runbookId, inputs, rehearsal }) =>
      callCommand(() => commands.startRun(profileId, runbookId, inputs, rehearsal)),
    onSuccess: store,
  });
}

/** What running a step would do, and the confirmation it needs. */
export function useStepPlan() {
  return useMutation<StepPlan, AppError, { runId: string; stepIndex: number; values: Record<string, string> }>({
    mutationFn: ({ runId, stepIndex, values }) => callCommand(() => commands.stepPlan(runId, stepIndex, values)),
  });
}

/** A channel that hands every piece of a step's output to `onOutput`. */
export function outputChannel(onOutput: (output: StepOutput) => void): Channel<StepOutput> {
  const channel = new Channel<StepOutput>();
  channel.onmessage = onOutput;
  return channel;
}

/**
 * Run a step's action with its output streaming to `onOutput`. A failing action resolves (the
 * step reads failed); only refusals reject. What it changed makes history, versions and health
 * stale.
 */
export function useRunStep(profileId: string, runId: string, stepIndex: number) {
  const store = useStoreRun();
  const client = useQueryClient();
  return useMutation<
    RunDetail,
    AppError,
    { request: StepRunRequest; onOutput: (o: StepOutput) => void }
  >({
    mutationKey: runbookKeys.runStep(runId, stepIndex),
    mutationFn: ({ request, onOutput }) =>
      callCommand(() => commands.runStep(runId, stepIndex, request, outputChannel(onOutput))),
    onSuccess: (run) => {
      store(run);
      void client.invalidateQueries({ queryKey: queryKeys.history(profileId) });
      void client.invalidateQueries({ queryKey: deployKeys.all(profileId) });
      void client.invalidateQueries({ queryKey: ['health', profileId] });
      // A rollback or a deploy lifts a rehearsal's bad deploy: the sandbox's faults change too.
      void client.invalidateQueries({ queryKey: runbookKeys.faults(profileId) });
    },
  });
}

/** Stop a step's running command. */
export function useStopStep() {
  return useMutation<boolean, AppError, { runId: string; stepIndex: number }>({
    mutationFn: ({ runId, stepIndex }) => callCommand(() => commands.stopStep(runId, stepIndex)),
  });
}

/** The changes an operator makes to a run by hand, each answered with the run as it is now. */
export type RunChange =
  | { kind: 'check'; stepIndex: number; checkIndex: number; checked: boolean }
  | { kind: 'complete'; stepIndex: number }
  | { kind: 'skip'; stepIndex: number; reason: string }
  | { kind: 'note'; stepIndex: number | null; text: string }
  | { kind: 'finish' }
  | { kind: 'abandon'; reason: string };

function applyChange(runId: string, change: RunChange): Promise<RunDetail> {
  switch (change.kind) {
    case 'check':
      return callCommand(() => commands.setCheck(runId, change.stepIndex, change.checkIndex, change.checked));
    case 'complete':
      return callCommand(() => commands.completeStep(runId, change.stepIndex));
    case 'skip':
      return callCommand(() => commands.skipStep(runId, change.stepIndex, change.reason));
    case 'note':
      return callCommand(() => commands.addRunNote(runId, change.stepIndex, change.text));
    case 'finish':
      return callCommand(() => commands.finishRun(runId));
    case 'abandon':
      return callCommand(() => commands.abandonRun(runId, change.reason));
  }
}

/** Tick a check, mark a step done, skip it, add a note, finish or abandon the run. */
export function useRunChange(runId: string) {
  const store = useStoreRun();
  const client = useQueryClient();
  return useMutation<RunDetail, AppError, RunChange>({
    mutationFn: (change) => applyChange(runId, change),
    onSuccess: (run) => {
      store(run);
      void client.invalidateQueries({ queryKey: ['runbooks', 'report', runId] });
    },
  });
}

/** The run as a Markdown incident report. */
export function useIncidentReport(runId: string, enabled: boolean) {
  return useQuery<string, AppError>({
    queryKey: ['runbooks', 'report', runId],
    queryFn: () => callCommand(() => commands.incidentReport(runId)),
    enabled,
    staleTime: 0,
  });
}

/** The faults in force in the sandbox of a sandbox profile. */
export function useSandboxFaults(profileId: string, enabled: boolean) {
  return useQuery<ActiveFault[], AppError>({
    queryKey: runbookKeys.faults(profileId),
    queryFn: () => callCommand(() => commands.sandboxFaults(profileId)),
    enabled,
  });
}

function useAfterFaults(profileId: string, runId: string | null) {
  const client = useQueryClient();
  return (faults: ActiveFault[]) => {
    client.setQueryData(runbookKeys.faults(profileId), faults);
    void client.invalidateQueries({ queryKey: ['health', profileId] });
    if (runId !== null) {
      void client.invalidateQueries({ queryKey: runbookKeys.run(runId) });
      void client.invalidateQueries({ queryKey: runbookKeys.runs });
    }
  };
}

/** Inject a fault into the sandbox; with a run, it lands on the run's timeline. */
export function useInjectFault(profileId: string, runId: string | null) {
  const after = useAfterFaults(profileId, runId);
  return useMutation<ActiveFault[], AppError, RehearsalFault>({
    mutationFn: (fault) => callCommand(() => commands.injectFault(profileId, fault, runId)),
    onSuccess: after,
  });
}

/** Clear one fault (its target), or every fault (null). */
export function useClearFault(profileId: string, runId: string | null) {
  const after = useAfterFaults(profileId, runId);
  return useMutation<ActiveFault[], AppError, string | null>({
    mutationFn: (target) => callCommand(() => commands.clearFault(profileId, target, runId)),
    onSuccess: after,
  });
}
