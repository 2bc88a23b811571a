import { Alert, Badge, Button, Checkbox, Group, Stack, Text, Textarea, UnstyledButton } from '@mantine/core';
import { useIsMutating } from '@tanstack/react-query';
import { IconAlertTriangle, IconCheck, IconLock, IconNote, IconPlayerPause, IconPlayerSkipForward } from '@tabler/icons-react';
import { forwardRef, useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import { Markdown } from '../../components/Markdown';
import { StepStateIcon } from '../../components/StepStateIcon';
import { formatLocalTime } from '../../components/time';
import type { Profile, RunDetail, RunStep, RunStepState } from '../../ipc/types';
import { runbookKeys, useRunChange } from '../../ipc/runbooks';
import { blockerText, isActionable, needsMarkDone, STATE_COLOR, STATE_WORD } from './runModel';
import { StepAction, StepOutputBlock } from './StepAction';

/** A reason (to skip) or a note, written in a small form that opens on demand. */
function TextForm({
  label,
  submit,
  busy,
  onSubmit,
  onCancel,
  danger = false,
}: {
  label: string;
  submit: string;
  busy: boolean;
  onSubmit: (text: string) => void;
  onCancel: () => void;
  danger?: boolean;
}) {
  const [text, setText] = useState('');
  return (
    <Stack gap={6} maw={560}>
      <Textarea
        label={label}
        value={text}
        autosize
        minRows={2}
        required
        data-autofocus
        onChange={(event) => {
          setText(event.currentTarget.value);
        }}
      />
      <Group gap="xs">
        <Button
          size="xs"
          color={danger ? 'red.8' : undefined}
          disabled={text.trim() === ''}
          loading={busy}
          onClick={() => {
            onSubmit(text.trim());
          }}
        >
          {submit}
        </Button>
        <Button size="xs" variant="subtle" onClick={onCancel}>
          Cancel
        </Button>
      </Group>
    </Stack>
  );
}

interface StepCardProps {
  run: RunDetail;
  step: RunStep;
  profile: Profile | undefined;
  expanded: boolean;
  current: boolean;
  onToggle: () => void;
}

function whenText(step: RunStep): string | null {
  const at = step.finishedMs ?? step.startedMs;
  if (at === null) {
    return null;
  }
  return `${formatLocalTime(at)}${step.by ? ` · ${step.by}` : ''}`;
}

/** One step of a run: its state at a glance, and when open, everything needed to do it. */
export const StepCard = forwardRef<HTMLButtonElement, StepCardProps>(function StepCard(
  { run, step, profile, expanded, current, onToggle },
  headerRef,
) {
  const spec = run.runbook.steps[step.index];
  const runId = run.summary.id;
  const change = useRunChange(runId);
  const [form, setForm] = useState<'skip' | 'note' | null>(null);
  const streaming = useIsMutating({ mutationKey: runbookKeys.runStep(runId, step.index) }) > 0;
  if (!spec) {
    return null;
  }
  const state: RunStepState = streaming ? 'running' : step.state;
  const open = run.summary.state === 'running';
  const blocker = blockerText(step);
  const locked = step.blocker?.kind === 'gate' || step.blocker?.kind === 'waitingFor';
  const actionable = isActionable(run, step) && !streaming;
  const notes = run.events.filter((e) => e.kind === 'note' && e.stepIndex === step.index);
  const bodyId = `run-step-${step.index}`;
  const when = whenText(step);
  const label = `${step.index + 1}. ${step.title}`;

  return (
    <li
      className="sy-rb-step"
      data-state={state}
      data-current={current || undefined}
      data-expanded={expanded || undefined}
      aria-label={`${label}: ${STATE_WORD[state]}${locked ? ', locked' : ''}`}
      aria-current={current ? 'step' : undefined}
    >
      <UnstyledButton
        ref={headerRef}
        className="sy-rb-step-header"
        aria-expanded={expanded}
        aria-controls={bodyId}
        onClick={onToggle}
      >
        <Group gap="sm" wrap="nowrap" align="center">
          <StepStateIcon state={state} locked={locked} />
          <Text fw={current ? 700 : 600} size={current ? 'md' : 'sm'} style={{ flex: 1, minWidth: 0 }}>
            {label}
          </Text>
          {spec.gate && (
            <Badge size="xs" variant="outline" color="orange" tt="none" leftSection={<IconLock size={10} aria-hidden />}>
              gate
            </Badge>
          )}
          {current && open && (
            <Badge size="sm" variant="filled" color="blue.8" tt="none">
              you are here
            </Badge>
          )}
          <Badge size="sm" variant="light" color={STATE_COLOR[state]} tt="none">
            {STATE_WORD[state]}
          </Badge>
        </Group>
      </UnstyledButton>
      {!expanded && step.state === 'skipped' && step.skipReason && (
        <Text size="xs" c="dimmed" className="sy-rb-step-aside">{`Skipped: ${step.skipReason}`}</Text>
      )}
      {!expanded && locked && blocker && (
        <Text size="xs" c="dimmed" className="sy-rb-step-aside">
          {blocker}
        </Text>
      )}
      {expanded && (
        <Stack id={bodyId} gap="sm" className="sy-rb-step-body">
          {blocker && step.state !== 'skipped' && (
            <Group gap={6} wrap="nowrap" className="sy-rb-lock">
              <IconLock size={16} aria-hidden />
              <Text size="sm" fw={600}>
                {blocker}
              </Text>
            </Group>
          )}
          {step.state === 'skipped' && (
            <Group gap={6} wrap="nowrap">
              <IconPlayerSkipForward size={16} aria-hidden />
              <Text size="sm" fw={600}>
                {step.skippedByCondition
                  ? `Skipped: ${step.skipReason ?? 'its condition was not met'}`
                  : `Skipped by ${step.by ?? 'the operator'}: ${step.skipReason ?? ''}`}
              </Text>
            </Group>
          )}
          {step.state === 'interrupted' && (
            <Alert color="orange" variant="light" icon={<IconPlayerPause aria-hidden />} title="Interrupted">
              Switchyard stopped while this step was running, so whether it finished is unknown. Its output up to that
              moment is below. Check what it did, then retry it (or skip it, saying why).
            </Alert>
          )}
          {spec.markdown.trim() !== '' && <Markdown>{spec.markdown}</Markdown>}
          {step.checks.length > 0 && (
            <Stack gap={6} role="group" aria-label={`Checks of ${step.title}`}>
              {step.checks.map((c) => (
                <Checkbox
                  key={c.index}
                  checked={c.checked}
                  disabled={!open || step.state === 'skipped' || locked || change.isPending}
                  label={<Markdown inline>{c.text}</Markdown>}
                  description={c.checked && c.atMs !== null ? `Ticked ${formatLocalTime(c.atMs)}${c.by ? ` by ${c.by}` : ''}` : undefined}
                  onChange={(event) => {
                    change.mutate({ kind: 'check', stepIndex: step.index, checkIndex: c.index, checked: event.currentTarget.checked });
                  }}
                />
              ))}
            </Stack>
          )}
          <StepAction run={run} step={step} spec={spec} profile={profile} />
          {!spec.action && step.output !== '' && <StepOutputBlock text={step.output} title={step.title} live={false} />}
          {state === 'passed' && (
            <Group gap={6} wrap="nowrap" c="green.8">
              <IconCheck size={16} aria-hidden />
              <Text size="sm" fw={600}>{`Passed${when ? ` · ${when}` : ''}`}</Text>
            </Group>
          )}
          {state === 'failed' && (
            <Group gap={6} wrap="nowrap" c="red.8" align="flex-start">
              <IconAlertTriangle size={16} aria-hidden style={{ marginTop: 2, flexShrink: 0 }} />
              <Text size="sm" fw={600}>
                {`Failed${step.error ? `: ${step.error}` : ''}`}
              </Text>
            </Group>
          )}
          {change.isError && <ErrorNotice error={change.error} context="Saving the step" />}
          {form === 'skip' && (
            <TextForm
              label="Why skip this step?"
              submit="Skip this step"
              busy={change.isPending}
              onCancel={() => {
                setForm(null);
              }}
              onSubmit={(reason) => {
                change.mutate({ kind: 'skip', stepIndex: step.index, reason }, { onSuccess: () => { setForm(null); } });
              }}
            />
          )}
          {form === 'note' && (
            <TextForm
              label={`Note about “${step.title}”`}
              submit="Save note"
              busy={change.isPending}
              onCancel={() => {
                setForm(null);
              }}
              onSubmit={(text) => {
                change.mutate({ kind: 'note', stepIndex: step.index, text }, { onSuccess: () => { setForm(null); } });
              }}
            />
          )}
          {form === null && (
            <Group gap="xs">
              {actionable && needsMarkDone(spec) && (
                <Button
                  size="sm"
                  leftSection={<IconCheck size={16} aria-hidden />}
                  loading={change.isPending}
                  onClick={() => {
                    change.mutate({ kind: 'complete', stepIndex: step.index });
                  }}
                >
                  Mark done
                </Button>
              )}
              {actionable && step.skipRefusal === null && (
                <Button
                  size="xs"
                  variant="default"
                  leftSection={<IconPlayerSkipForward size={14} aria-hidden />}
                  onClick={() => {
                    setForm('skip');
                  }}
                >
                  Skip…
                </Button>
              )}
              {actionable && step.skipRefusal !== null && (
                <Text size="xs" c="dimmed">
                  {step.skipRefusal}
                </Text>
              )}
              {!(spec.action?.action.kind === 'note' && actionable) && (
                <Button
                  size="xs"
                  variant="subtle"
                  leftSection={<IconNote size={14} aria-hidden />}
                  onClick={() => {
                    setForm('note');
                  }}
                >
                  Add note
                </Button>
              )}
            </Group>
          )}
          {notes.length > 0 && (
            <Stack gap={4} role="list" aria-label={`Notes on ${step.title}`}>
              {notes.map((n) => (
                <Text key={n.seq ?? n.atMs} size="sm" role="listitem" className="sy-rb-note">
                  <Text span size="xs" c="dimmed">{`${n.atMs !== null ? formatLocalTime(n.atMs) : ''} · ${n.by}: `}</Text>
                  {n.message}
                </Text>
              ))}
            </Stack>
          )}
        </Stack>
      )}
    </li>
  );
});
