import { Alert, Badge, Button, Group, Kbd, Loader, Paper, Progress, Stack, Text, Textarea, Title } from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { useIsMutating } from '@tanstack/react-query';
import { IconCircleCheck, IconFlag, IconNote, IconTimeline, IconX } from '@tabler/icons-react';
import { useEffect, useRef, useState } from 'react';

import { environmentLook } from '../../shell/environment';
import { useNavigation } from '../../shell/navigation';
import { BAND_HEIGHT, FOOTER_HEIGHT, HEADER_HEIGHT } from '../../shell/layout';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatLocalTime } from '../../components/time';
import type { Profile, RunDetail } from '../../ipc/types';
import { runbookKeys, useRunChange, useRunDetail } from '../../ipc/runbooks';
import { IncidentReport } from './IncidentReport';
import { RunTimeline } from './RunTimeline';
import { allSettled, currentStepIndex, progressText, RUN_STATE_WORD, runStateColor, stepsLeft } from './runModel';
import { StepCard } from './StepCard';

/**
 * Scroll the window just enough that `el`'s top is in view below the top bar (or, when it fits,
 * all of it above the status bar). The window, not the visual viewport: WebKit's scrollIntoView
 * can slide the fixed bars out of sight.
 */
function revealInWindow(el: Element) {
  const rect = el.getBoundingClientRect();
  if (rect.height === 0) {
    return; // not laid out (tests)
  }
  const top = HEADER_HEIGHT + BAND_HEIGHT + 12;
  const bottom = window.innerHeight - FOOTER_HEIGHT - 12;
  let by = 0;
  if (rect.top < top) {
    by = rect.top - top;
  } else if (rect.bottom > bottom) {
    by = Math.min(rect.bottom - bottom, rect.top - top);
  }
  if (by !== 0) {
    window.scrollBy({ top: by, behavior: 'smooth' });
  }
}

function RunHeader({ run }: { run: RunDetail }) {
  const { navigate } = useNavigation();
  const s = run.summary;
  const look = run.environment ? environmentLook(run.environment) : null;
  const p = s.progress;
  const pct = (n: number) => (p.total === 0 ? 0 : (n / p.total) * 100);
  const inputs = Object.entries(run.inputs);
  return (
    <Stack gap={6}>
      <Group gap="xs">
        <Badge color={look?.badgeColor ?? 'gray'} variant={look?.badgeVariant ?? 'light'}>
          {`${run.profileName}${look ? ` · ${look.label}` : ''}`}
        </Badge>
        {s.rehearsal && (
          <Badge color="grape.8" variant="filled">
            Rehearsal
          </Badge>
        )}
        <Badge variant="light" color={runStateColor(s.state)} tt="none">
          {`Run ${RUN_STATE_WORD[s.state]}`}
        </Badge>
      </Group>
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <Title order={2} size="h3">
          {run.runbook.title}
        </Title>
        <Button
          size="xs"
          variant="default"
          leftSection={<IconTimeline size={14} aria-hidden />}
          onClick={() => {
            navigate('audit', { timeline: { runId: s.id } });
          }}
        >
          Open timeline
        </Button>
      </Group>
      <Text size="sm" c="dimmed">
        {`Started ${s.startedMs !== null ? formatLocalTime(s.startedMs) : ''} by ${s.startedBy}`}
        {inputs.length > 0 && ` · ${inputs.map(([k, v]) => `${k} = ${v}`).join(', ')}`}
      </Text>
      <Group gap="sm" wrap="nowrap">
        <Progress.Root size="lg" style={{ flex: 1 }} aria-hidden>
          <Progress.Section value={pct(p.passed)} color="green.7" />
          <Progress.Section value={pct(p.skipped)} color="gray.5" />
          <Progress.Section value={pct(p.failed)} color="red.7" />
          <Progress.Section value={pct(p.interrupted)} color="orange.7" />
        </Progress.Root>
        <Text size="sm" fw={700} role="status" aria-label="Progress">
          {progressText(p)}
        </Text>
      </Group>
    </Stack>
  );
}

function KeyHint() {
  return (
    <Text size="xs" c="dimmed" className="sy-rb-keys">
      Keys: <Kbd size="xs">j</Kbd> or <Kbd size="xs">↓</Kbd> next step · <Kbd size="xs">k</Kbd> or <Kbd size="xs">↑</Kbd>{' '}
      previous step · <Kbd size="xs">Enter</Kbd> open or close the step · <Kbd size="xs">c</Kbd> back to the current step
      · <Kbd size="xs">Tab</Kbd> to its buttons
    </Text>
  );
}

/** Finish, or abandon with a reason; the run's own notes. */
function RunActions({ run }: { run: RunDetail }) {
  const change = useRunChange(run.summary.id);
  const [form, setForm] = useState<'abandon' | 'note' | null>(null);
  const [text, setText] = useState('');
  const open = run.summary.state === 'running';
  const settled = allSettled(run);
  const left = stepsLeft(run);
  const close = () => {
    setForm(null);
    setText('');
  };
  const runNotes = run.events.filter((e) => e.kind === 'note' && e.stepIndex === null);
  return (
    <Stack gap="sm" component="section" aria-label="This run">
      {runNotes.length > 0 && (
        <Stack gap={4} role="list" aria-label="Notes on this run">
          <Text fw={700} size="sm">
            Notes
          </Text>
          {runNotes.map((n) => (
            <Text key={n.seq ?? n.atMs} size="sm" role="listitem" className="sy-rb-note">
              <Text span size="xs" c="dimmed">{`${n.atMs !== null ? formatLocalTime(n.atMs) : ''} · ${n.by}: `}</Text>
              {n.message}
            </Text>
          ))}
        </Stack>
      )}
      {change.isError && <ErrorNotice error={change.error} context="Saving the run" />}
      {form !== null && (
        <Stack gap={6} maw={560}>
          <Textarea
            label={form === 'abandon' ? 'Why abandon this run?' : 'Note on this run'}
            value={text}
            autosize
            minRows={2}
            required
            onChange={(event) => {
              setText(event.currentTarget.value);
            }}
          />
          <Group gap="xs">
            <Button
              size="xs"
              color={form === 'abandon' ? 'red.8' : undefined}
              disabled={text.trim() === ''}
              loading={change.isPending}
              onClick={() => {
                change.mutate(
                  form === 'abandon' ? { kind: 'abandon', reason: text.trim() } : { kind: 'note', stepIndex: null, text: text.trim() },
                  { onSuccess: close },
                );
              }}
            >
              {form === 'abandon' ? 'Abandon this run' : 'Save note'}
            </Button>
            <Button size="xs" variant="subtle" onClick={close}>
              Cancel
            </Button>
          </Group>
        </Stack>
      )}
      {form === null && (
        <Group justify="space-between" align="center">
          <Group gap="sm">
            {open && (
              <Button
                leftSection={<IconFlag size={16} aria-hidden />}
                color="green.8"
                disabled={!settled}
                loading={change.isPending}
                onClick={() => {
                  change.mutate({ kind: 'finish' });
                }}
              >
                Finish run
              </Button>
            )}
            {open && !settled && (
              <Text size="sm" c="dimmed">{`${left} ${left === 1 ? 'step' : 'steps'} still to pass, fail or skip before finishing.`}</Text>
            )}
            {open && settled && run.escalation !== null && (
              <Text size="sm" c="orange.9">{`Finishing now ends the run escalated: ${run.escalation}.`}</Text>
            )}
            <Button
              variant="subtle"
              size="xs"
              leftSection={<IconNote size={14} aria-hidden />}
              onClick={() => {
                setForm('note');
              }}
            >
              Add note to the run
            </Button>
          </Group>
          {open && (
            <Button
              variant="outline"
              color="red.8"
              size="xs"
              leftSection={<IconX size={14} aria-hidden />}
              onClick={() => {
                setForm('abandon');
              }}
            >
              Abandon run…
            </Button>
          )}
        </Group>
      )}
    </Stack>
  );
}

interface RunViewProps {
  runId: string;
  /** Every profile: the run's own is used (it may not be the active one). */
  profiles: readonly Profile[];
  /** A step to show first (by id), e.g. from an error's runbook link. */
  focusStepId?: string | null;
}

/** A run: its header and progress, the steps as a checklist with the current one open and in view. */
export function RunView({ runId, profiles, focusStepId = null }: RunViewProps) {
  const streaming = useIsMutating({ mutationKey: runbookKeys.runStep(runId) }) > 0;
  const detail = useRunDetail(runId, streaming);
  if (detail.isPending) {
    return <Loader size="sm" aria-label="Loading the run" />;
  }
  if (detail.isError) {
    return (
      <ErrorNotice
        error={detail.error}
        context="Loading the run"
        onRetry={() => {
          void detail.refetch();
        }}
      />
    );
  }
  const profile = profiles.find((p) => p.id === detail.data.summary.profileId);
  return <RunChecklist key={runId} run={detail.data} profile={profile} focusStepId={focusStepId} />;
}

function RunChecklist({ run, profile, focusStepId }: { run: RunDetail; profile: Profile | undefined; focusStepId: string | null }) {
  const current = currentStepIndex(run);
  const focusIndex = run.steps.find((s) => s.id === focusStepId)?.index;
  // The step the keyboard is on; it follows the current step whenever that moves.
  const [selected, setSelected] = useState<{ index: number; forCurrent: number }>({
    index: focusIndex ?? current,
    forCurrent: current,
  });
  // What the operator opened or closed by hand, over what is shown by default.
  const [toggled, setToggled] = useState<ReadonlyMap<number, boolean>>(new Map());
  const active = selected.forCurrent === current ? selected.index : current;
  const headers = useRef<(HTMLButtonElement | null)[]>([]);
  const items = useRef<HTMLOListElement>(null);
  const open = run.summary.state === 'running';

  useEffect(() => {
    const el = items.current?.children[active];
    if (el) {
      revealInWindow(el);
    }
  }, [active]);

  const from = active < 0 ? Math.max(current, 0) : active;
  const select = (index: number) => {
    const i = Math.max(0, Math.min(run.steps.length - 1, index));
    setSelected({ index: i, forCurrent: current });
    headers.current[i]?.focus();
  };
  useHotkeys([
    ['j', () => { select(from + 1); }],
    ['ArrowDown', () => { select(from + 1); }],
    ['k', () => { select(from - 1); }],
    ['ArrowUp', () => { select(from - 1); }],
    ['c', () => { if (current >= 0) { select(current); } }],
  ]);

  // The current step is always open (and so is a running one); failed and interrupted steps are
  // open until closed, so their error and output stay in sight.
  const pinned = (i: number) => (open && i === current) || run.steps[i]?.state === 'running';
  const byDefault = (i: number) => {
    const state = run.steps[i]?.state;
    return i === active || state === 'failed' || state === 'interrupted';
  };
  const isExpanded = (i: number) => pinned(i) || (toggled.get(i) ?? byDefault(i));
  const toggle = (i: number) => {
    const expand = !isExpanded(i);
    if (!pinned(i)) {
      setToggled((old) => new Map([...old, [i, expand]]));
    }
    setSelected({ index: expand || pinned(i) ? i : -1, forCurrent: current });
  };

  return (
    <Stack gap="md" className="sy-rb-run">
      <Paper withBorder p="md" className="sy-rb-run-header" component="section" aria-label="Run header">
        <RunHeader run={run} />
      </Paper>
      {run.summary.state === 'finished' && (
        <Alert color="green" variant="light" icon={<IconCircleCheck aria-hidden />} title="Run finished">
          {`Finished${run.summary.finishedMs !== null ? ` ${formatLocalTime(run.summary.finishedMs)}` : ''}${run.finishedBy ? ` by ${run.finishedBy}` : ''}. Copy the incident report below.`}
        </Alert>
      )}
      {run.summary.state === 'escalated' && (
        <Alert color="orange" variant="light" icon={<IconFlag aria-hidden />} title="Run escalated">
          {`Ended${run.summary.finishedMs !== null ? ` ${formatLocalTime(run.summary.finishedMs)}` : ''}${run.finishedBy ? ` by ${run.finishedBy}` : ''}: ${run.endReason ?? 'a gate failed'}. Hand the incident report below to whoever takes it over.`}
        </Alert>
      )}
      {open && run.escalation !== null && (
        <Alert color="orange" variant="light" title="The procedure did not fix it">
          {`${run.escalation[0]?.toUpperCase() ?? ''}${run.escalation.slice(1)}. Follow the escalation steps below, then finish: the run ends escalated${
            run.notReached.length > 0 ? ' (the steps behind the failed gate are not needed)' : ''
          }.`}
        </Alert>
      )}
      {run.summary.state === 'abandoned' && (
        <Alert color="gray" variant="light" icon={<IconX aria-hidden />} title="Run abandoned">
          {`Abandoned${run.summary.finishedMs !== null ? ` ${formatLocalTime(run.summary.finishedMs)}` : ''}${run.finishedBy ? ` by ${run.finishedBy}` : ''}: ${run.endReason ?? 'no reason given'}`}
        </Alert>
      )}
      {open && <KeyHint />}
      <ol className="sy-rb-steps" ref={items} aria-label={`Steps of ${run.runbook.title}`}>
        {run.steps.map((step) => (
          <StepCard
            key={step.index}
            ref={(el) => {
              headers.current[step.index] = el;
            }}
            run={run}
            step={step}
            profile={profile}
            current={open && step.index === current}
            expanded={isExpanded(step.index)}
            onToggle={() => {
              toggle(step.index);
            }}
          />
        ))}
      </ol>
      <RunActions run={run} />
      <IncidentReport key={run.summary.state} runId={run.summary.id} finished={!open} />
      <RunTimeline run={run} />
    </Stack>
  );
}
