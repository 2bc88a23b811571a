import { Alert, Badge, Button, Code, Group, Paper, Stack, Switch, Text, Title } from '@mantine/core';
import { IconArrowRight, IconLock, IconPlayerPlay } from '@tabler/icons-react';
import { useEffect, useRef, useState } from 'react';

import { environmentLook } from '../../shell/environment';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Markdown } from '../../components/Markdown';
import { formatLocalTime } from '../../components/time';
import type { Profile, Runbook, RunbookInput, RunSummary } from '../../ipc/types';
import { useStartRun } from '../../ipc/runbooks';
import { fieldLabel, progressText } from './runModel';
import { ValueField } from './ValueField';

function initialValue(input: RunbookInput, profile: Profile | undefined): string {
  if (input.default !== null) {
    return input.default;
  }
  if (input.kind === 'environment') {
    return profile?.environment ?? '';
  }
  if (input.kind === 'namespace') {
    return profile?.namespace ?? '';
  }
  return '';
}

interface StartRunFormProps {
  runbook: Runbook;
  profile: Profile | undefined;
  onStarted: (runId: string) => void;
}

/** The run's inputs (pickers from the active profile), the rehearsal switch, and Start. */
function StartRunForm({ runbook, profile, onStarted }: StartRunFormProps) {
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(runbook.inputs.map((i) => [i.name, initialValue(i, profile)])),
  );
  const sandbox = profile?.sandbox ?? false;
  const [rehearsal, setRehearsal] = useState(sandbox);
  const start = useStartRun();
  const missing = runbook.inputs.filter((i) => (values[i.name] ?? '').trim() === '').map((i) => fieldLabel(i.name));
  if (!profile) {
    return (
      <Text size="sm" c="dimmed">
        Choose a profile in the top bar to start a run.
      </Text>
    );
  }
  const look = environmentLook(profile.environment);
  return (
    <Paper withBorder p="md" component="section" aria-label="Start a run">
      <Stack gap="sm">
        <Group gap="xs">
          <Text fw={700}>Start a run on</Text>
          <Badge color={look.badgeColor} variant={look.badgeVariant}>
            {`${profile.name} · ${look.label}`}
          </Badge>
        </Group>
        {runbook.inputs.map((input) => (
          <ValueField
            key={input.name}
            label={fieldLabel(input.name)}
            kind={input.kind}
            value={values[input.name] ?? ''}
            profile={profile}
            onChange={(v) => {
              setValues((old) => ({ ...old, [input.name]: v }));
            }}
          />
        ))}
        <div>
          <Switch
            label="Rehearsal"
            checked={sandbox && rehearsal}
            disabled={!sandbox}
            aria-describedby="sy-rb-rehearsal-why"
            onChange={(event) => {
              setRehearsal(event.currentTarget.checked);
            }}
          />
          <Text id="sy-rb-rehearsal-why" size="xs" c="dimmed" mt={4} ml={48}>
            {sandbox
              ? 'Practice on the Local sandbox: the run and its report are marked as a rehearsal. Inject faults from the Rehearsal tab.'
              : `Rehearsals run on the Local sandbox only; “${profile.name}” is a real platform. Switch to the Local sandbox profile to rehearse.`}
          </Text>
        </div>
        {start.isError && <ErrorNotice error={start.error} context="Starting the run" />}
        {missing.length > 0 && (
          <Text size="sm" c="dimmed">
            {`Fill in: ${missing.join(', ')}.`}
          </Text>
        )}
        <div>
          <Button
            leftSection={<IconPlayerPlay size={16} aria-hidden />}
            disabled={missing.length > 0}
            loading={start.isPending}
            onClick={() => {
              start.mutate(
                {
                  profileId: profile.id,
                  runbookId: runbook.id,
                  inputs: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.trim()])),
                  rehearsal: sandbox && rehearsal,
                },
                {
                  onSuccess: (run) => {
                    onStarted(run.summary.id);
                  },
                },
              );
            }}
          >
            {sandbox && rehearsal ? 'Start rehearsal' : 'Start run'}
          </Button>
        </div>
      </Stack>
    </Paper>
  );
}

interface RunbookDetailProps {
  runbook: Runbook;
  profile: Profile | undefined;
  /** The step an error pointed at, shown highlighted. */
  focusStepId: string | null;
  openRuns: RunSummary[];
  onStarted: (runId: string) => void;
  onOpenRun: (runId: string) => void;
}

/** A runbook before it runs: what it is for, its steps, its open runs, and how to start one. */
export function RunbookDetail({ runbook, profile, focusStepId, openRuns, onStarted, onOpenRun }: RunbookDetailProps) {
  const focusRef = useRef<HTMLLIElement>(null);
  useEffect(() => {
    focusRef.current?.scrollIntoView({ block: 'center' });
  }, [focusStepId, runbook.id]);
  const focusStep = runbook.steps.find((s) => s.id === focusStepId);
  return (
    <Stack gap="md" className="sy-rb-detail">
      <div>
        <Group gap="xs">
          <Badge variant="light" color={runbook.category.toLowerCase().startsWith('emergency') ? 'red' : 'gray'} tt="none">
            {runbook.category}
          </Badge>
          {runbook.origin !== 'builtIn' && (
            <Badge variant="light" color="grape" tt="none">
              {`Your runbook: ${runbook.origin.user.path}`}
            </Badge>
          )}
        </Group>
        <Title order={2} size="h3" mt={6}>
          {runbook.title}
        </Title>
        {runbook.replaces && (
          <Text size="sm" c="dimmed">{`Replaces the runbook section “${runbook.replaces}”.`}</Text>
        )}
      </div>
      <Markdown>{runbook.summary}</Markdown>
      {focusStep && (
        <Alert color="blue" variant="light" icon={<IconArrowRight aria-hidden />} title="Where to look">
          {`The error you came from is covered by step ${focusStep.index + 1}: “${focusStep.title}”.`}
        </Alert>
      )}
      {openRuns.length > 0 && (
        <Paper withBorder p="sm" component="section" aria-label="Open runs of this runbook">
          <Stack gap={6}>
            <Text fw={700} size="sm">
              Already open
            </Text>
            {openRuns.map((r) => (
              <Group key={r.id} justify="space-between" wrap="nowrap">
                <Text size="sm">{`Started ${r.startedMs !== null ? formatLocalTime(r.startedMs) : ''} by ${r.startedBy} — ${progressText(r.progress)}`}</Text>
                <Button
                  size="xs"
                  variant="light"
                  onClick={() => {
                    onOpenRun(r.id);
                  }}
                >
                  Resume run
                </Button>
              </Group>
            ))}
          </Stack>
        </Paper>
      )}
      <StartRunForm key={`${runbook.id}:${profile?.id ?? ''}`} runbook={runbook} profile={profile} onStarted={onStarted} />
      <section aria-label="Steps of this runbook">
        <Text fw={700} mb={6}>{`${runbook.steps.length} steps`}</Text>
        <ol className="sy-rb-outline">
          {runbook.steps.map((s) => (
            <li
              key={s.id}
              ref={s.id === focusStepId ? focusRef : undefined}
              data-focus={s.id === focusStepId || undefined}
            >
              <Group gap={6} wrap="nowrap" align="baseline">
                <Text size="sm" fw={600}>{`${s.index + 1}. ${s.title}`}</Text>
                {s.gate && (
                  <Badge size="xs" variant="outline" color="orange" tt="none" leftSection={<IconLock size={10} aria-hidden />}>
                    gate
                  </Badge>
                )}
                {s.condition && (
                  <Badge size="xs" variant="outline" color="gray" tt="none">
                    {`only if ${runbook.steps[s.condition.stepIndex]?.title ?? s.condition.stepId} ${s.condition.outcome}`}
                  </Badge>
                )}
              </Group>
              {s.action && (
                <Code className="sy-rb-source">{s.action.source.split('\n')[0]?.replace(/^switchyard /, '') ?? ''}</Code>
              )}
            </li>
          ))}
        </ol>
      </section>
    </Stack>
  );
}
