import type { CheckState, DeployEvent, DeployStepId, OutputStream, StepState } from '../../ipc/types';

/** At most this many output lines are kept per step (the last ones). */
export const MAX_LINES_PER_STEP = 2000;

export interface OutputRow {
  stream: OutputStream;
  line: string;
}

export interface StepView {
  state: StepState;
  detail: string | null;
  lines: OutputRow[];
  /** Lines dropped from the start to keep MAX_LINES_PER_STEP. */
  dropped: number;
}

export interface CheckView {
  id: string;
  label: string;
  state: CheckState;
  detail: string;
  error: string | null;
}

export interface Progress {
  /** Steps in the order they were first heard of. */
  order: DeployStepId[];
  steps: Partial<Record<DeployStepId, StepView>>;
  checks: CheckView[];
}

export const EMPTY_PROGRESS: Progress = { order: [], steps: {}, checks: [] };

export const STEP_LABEL: Record<DeployStepId, string> = {
  inspect: 'Read the service folder',
  test: 'Run the tests',
  build: 'Build',
  verifyBundle: 'Check the bundle',
  preflight: 'Preflight checks',
  plan: 'Plan',
  archive: 'Archive the bundle',
  upload: 'Upload to the Deploy API',
  verifyRecord: 'Check the new deployment record',
  verifyHealth: 'Check the service answers /health',
  retention: 'Tidy the bundle archive',
};

function withStep(progress: Progress, step: DeployStepId, change: (view: StepView) => StepView): Progress {
  const known = progress.steps[step];
  const view = known ?? { state: 'pending' as StepState, detail: null, lines: [], dropped: 0 };
  return {
    ...progress,
    order: known ? progress.order : [...progress.order, step],
    steps: { ...progress.steps, [step]: change(view) },
  };
}

/** Fold one event from the engine into what the window shows. */
export function applyEvent(progress: Progress, event: DeployEvent): Progress {
  switch (event.kind) {
    case 'step':
      return withStep(progress, event.step, (v) => ({ ...v, state: event.state, detail: event.detail ?? v.detail }));
    case 'output':
      return withStep(progress, event.step, (v) => {
        const lines = [...v.lines, { stream: event.stream, line: event.line }];
        const over = Math.max(0, lines.length - MAX_LINES_PER_STEP);
        return { ...v, lines: over > 0 ? lines.slice(over) : lines, dropped: v.dropped + over };
      });
    case 'preflight':
      return {
        ...progress,
        checks: event.checks.map((c) => ({
          id: c.id,
          label: c.label,
          state: c.state,
          detail: c.detail,
          error: c.error?.message ?? null,
        })),
      };
  }
}

/** Whether a step of the run has begun (heard of, and no longer pending). */
export function stepStarted(progress: Progress, step: DeployStepId): boolean {
  const view = progress.steps[step];
  return view !== undefined && view.state !== 'pending';
}
