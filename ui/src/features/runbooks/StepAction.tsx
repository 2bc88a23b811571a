import { Button, Code, Group, Paper, ScrollArea, Stack, Table, Text } from '@mantine/core';
import { IconPlayerPlay, IconPlayerStop, IconRefresh } from '@tabler/icons-react';
import { useEffect, useRef, useState } from 'react';

import { ConfirmAction, type ConfirmationGiven } from '../../components/ConfirmAction';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { ParamValue, Profile, RunbookStep, RunDetail, RunStep, StepPlan } from '../../ipc/types';
import { useRunStep, useStepPlan, useStopStep } from '../../ipc/runbooks';
import { LogsButton } from '../logs/LogsButton';
import { fieldLabel, isActionable } from './runModel';
import { ValueField } from './ValueField';

/** A step's output, monospace, kept scrolled to the newest line while it streams. */
export function StepOutputBlock({ text, title, live }: { text: string; title: string; live: boolean }) {
  const viewport = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = viewport.current;
    if (el && live) {
      el.scrollTop = el.scrollHeight;
    }
  }, [text, live]);
  if (text === '') {
    return null;
  }
  return (
    <ScrollArea.Autosize mah={280} viewportRef={viewport} type="auto" className="sy-step-output">
      <Code block aria-label={`Output of ${title}`} aria-live={live ? 'polite' : undefined}>
        {text.replace(/\n$/, '')}
      </Code>
    </ScrollArea.Autosize>
  );
}

/** What running the step will do: the plan in words, the action as written, its parameters. */
function StepPlanView({ plan }: { plan: StepPlan }) {
  return (
    <Stack gap={6}>
      <Text fw={700} size="sm">{`Plan: ${plan.summary}`}</Text>
      {plan.command !== null ? (
        <>
          <Text size="sm">
            In folder <Code className="sy-rb-path">{plan.folder ?? ''}</Code>
            {plan.timeoutSecs !== null ? `, stopped after ${plan.timeoutSecs} s` : ''}:
          </Text>
          <Code block aria-label="Command to run" className="sy-rb-command">
            {plan.command}
          </Code>
        </>
      ) : (
        <Code aria-label="Action">{plan.display}</Code>
      )}
      {plan.params.length > 0 && plan.command === null && (
        <Table withTableBorder className="sy-rb-params" aria-label="Parameters" w="auto">
          <Table.Tbody>
            {plan.params.map((p) => (
              <Table.Tr key={p.name}>
                <Table.Th scope="row">{p.name}</Table.Th>
                <Table.Td>{p.value}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

/**
 * The service a step acts on, when it names one: what it ran with, else what the runbook writes
 * (`service=gateway`), a run input (`service=$service`) or what the operator typed for `service=?`.
 */
export function stepService(
  run: RunDetail,
  step: RunStep,
  spec: RunbookStep,
  typed: Record<string, string>,
): string | null {
  const ran = step.params.find((p) => p.name === 'service')?.value;
  if (ran) {
    return ran;
  }
  const action = spec.action?.action as { service?: ParamValue | null } | undefined;
  const param = action?.service ?? null;
  if (!param) {
    return null;
  }
  if (param.from === 'literal') {
    return param.value;
  }
  if (param.from === 'input') {
    return run.inputs[param.value] ?? null;
  }
  return (typed['service'] ?? '').trim() || null;
}

interface StepActionProps {
  run: RunDetail;
  step: RunStep;
  spec: RunbookStep;
  profile: Profile | undefined;
}

/**
 * A step's automated action: the values it asks for, "Run" (or "Retry"), the plan and the
 * confirmation it needs, then the output streaming in, and "Stop" for a command.
 */
export function StepAction({ run, step, spec, profile }: StepActionProps) {
  const action = spec.action;
  const runId = run.summary.id;
  const [values, setValues] = useState<Record<string, string>>({});
  const [base, setBase] = useState('');
  const [live, setLive] = useState('');
  const plan = useStepPlan();
  const runStep = useRunStep(run.summary.profileId, runId, step.index);
  const stop = useStopStep();
  if (!action) {
    return null;
  }
  const streaming = runStep.isPending;
  const running = streaming || step.state === 'running';
  const canRun = isActionable(run, step) && !streaming;
  const asks = action.asks;
  const missing = asks.filter((a) => (values[a.param] ?? '').trim() === '').map((a) => fieldLabel(a.param));
  const isNote = action.action.kind === 'note';
  const isCommand = action.action.kind === 'command';
  const prompt = action.action.kind === 'note' ? action.action.prompt : null;

  const execute = (p: StepPlan, given: ConfirmationGiven | null) => {
    setBase(step.output);
    setLive('');
    const confirmation =
      p.confirmation.kind === 'confirm'
        ? p.confirmation.phrase
        : p.confirmation.kind === 'typeName'
          ? (given?.typed ?? null)
          : null;
    runStep.mutate(
      {
        request: { values, confirmation, basis: p.basis },
        onOutput: (o) => {
          if (o.runId === runId && o.stepIndex === step.index) {
            setLive((old) => old + o.text);
          }
        },
      },
      {
        onSettled: () => {
          plan.reset();
        },
      },
    );
  };

  const review = () => {
    runStep.reset();
    plan.mutate(
      { runId, stepIndex: step.index, values },
      {
        onSuccess: (p) => {
          if (p.confirmation.kind === 'none') {
            execute(p, null);
          }
        },
      },
    );
  };

  const retry = step.state === 'failed' || step.state === 'interrupted';
  const runLabel = isNote ? 'Save note' : step.state === 'failed' ? 'Run again' : retry ? 'Retry' : 'Run';
  const shownPlan = plan.data && plan.data.confirmation.kind !== 'none' && !streaming ? plan.data : null;
  const output = streaming ? base + live : step.output;
  const service = stepService(run, step, spec, values);

  return (
    <Stack gap="sm">
      {canRun && !shownPlan && asks.length > 0 && (
        <Stack gap="xs" maw={560}>
          {asks.map((a) => (
            <ValueField
              key={a.param}
              label={isNote ? (prompt ?? 'Note') : fieldLabel(a.param)}
              kind={a.kind}
              multiline={isNote}
              value={values[a.param] ?? ''}
              profile={profile}
              onChange={(v) => {
                setValues((old) => ({ ...old, [a.param]: v }));
              }}
            />
          ))}
        </Stack>
      )}
      {canRun && !shownPlan && (
        <Group gap="sm">
          <Button
            variant={step.state === 'failed' ? 'default' : 'filled'}
            leftSection={retry ? <IconRefresh size={16} aria-hidden /> : <IconPlayerPlay size={16} aria-hidden />}
            loading={plan.isPending}
            disabled={missing.length > 0}
            onClick={review}
          >
            {runLabel}
          </Button>
          {service && <LogsButton service={service} variant="default" />}
          {missing.length > 0 ? (
            <Text size="sm" c="dimmed">{isNote ? 'Write the note first.' : `Fill in: ${missing.join(', ')}.`}</Text>
          ) : (
            action.mutates && (
              <Text size="sm" c="dimmed">
                This changes things: you see the plan and confirm before it runs.
              </Text>
            )
          )}
        </Group>
      )}
      {plan.isError && <ErrorNotice error={plan.error} context="Planning the step" />}
      {shownPlan && (
        <Paper withBorder p="sm" className="sy-rb-plan" component="section" aria-label="Plan of this step">
          <Stack gap="sm">
            <StepPlanView plan={shownPlan} />
            <ConfirmAction
              key={`${shownPlan.display}:${shownPlan.confirmation.kind}`}
              requirement={shownPlan.confirmation}
              action={shownPlan.command !== null ? 'Run this command' : shownPlan.summary}
              danger={run.environment === 'production' && shownPlan.mutates}
              busy={streaming}
              confirmLabel={shownPlan.command !== null ? 'I have read the command above and want to run it' : undefined}
              onConfirm={(given) => {
                execute(shownPlan, given);
              }}
            />
            <div>
              <Button
                variant="subtle"
                size="xs"
                onClick={() => {
                  plan.reset();
                }}
              >
                Cancel
              </Button>
            </div>
          </Stack>
        </Paper>
      )}
      {running && (
        <Group gap="sm">
          <Text size="sm" fw={600} c="blue.8" role="status">
            {streaming ? 'Running…' : 'Running (started earlier; its output is read every few seconds)…'}
          </Text>
          {isCommand && (
            <Button
              size="xs"
              color="red.8"
              variant="outline"
              leftSection={<IconPlayerStop size={14} aria-hidden />}
              loading={stop.isPending}
              onClick={() => {
                stop.mutate({ runId, stepIndex: step.index });
              }}
            >
              Stop
            </Button>
          )}
        </Group>
      )}
      {stop.isError && <ErrorNotice error={stop.error} context="Stopping the command" />}
      {runStep.isError && <ErrorNotice error={runStep.error} context="Running the step" />}
      <StepOutputBlock text={output} title={step.title} live={running} />
    </Stack>
  );
}
