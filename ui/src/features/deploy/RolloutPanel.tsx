import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  Group,
  List,
  Loader,
  NumberInput,
  Paper,
  Progress,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Channel } from '@tauri-apps/api/core';
import { IconAlertTriangle, IconCircleCheck } from '@tabler/icons-react';
import { useState } from 'react';

import { ConfirmAction } from '../../components/ConfirmAction';
import { type DataColumn, DataTable, KeyValue, KeyValueList } from '../../components/DataTable';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatBytes, shortHash } from '../../components/format';
import { PathField } from '../../components/PathField';
import { formatLocalTime } from '../../components/time';
import { commands } from '../../ipc/bindings';
import type { AppError, Environment, Profile, Rollout, RolloutCommand, RolloutPlan as RolloutPlan, RolloutRequest, RolloutState, VersionTest as VersionTest } from '../../ipc/types';
import { callCommand, toAppError } from '../../ipc/errors';
import { ServiceEnvironmentFields } from './ServiceEnvironment';
import { PlanHead } from './PlanView';

const rolloutKeys = {
  list: (profileId: string) => ['rollouts', profileId] as const,
};

/** Words and colour of each state, as the operator reads them. */
const STATE: Record<RolloutState, { label: string; color: string }> = {
  testing: { label: 'At 0 %: test it, then begin', color: 'blue' },
  stepping: { label: 'Stepping', color: 'blue' },
  paused: { label: 'Paused', color: 'yellow' },
  stopped: { label: 'Stopped: a platform call failed', color: 'orange' },
  interrupted: { label: 'Interrupted: the app stopped', color: 'orange' },
  completed: { label: 'Completed', color: 'green' },
  rolledBack: { label: 'Rolled back automatically', color: 'red' },
  aborted: { label: 'Aborted', color: 'gray' },
};

/** What the step reached says, by the rollout's state. */
const STEP_NOW: Record<RolloutState, string> = {
  testing: 'to come',
  stepping: 'now, its gates watched',
  paused: 'held here (paused)',
  stopped: 'held here (stopped)',
  interrupted: 'held here (the app stopped)',
  completed: 'passed',
  rolledBack: 'its gate failed: rolled back',
  aborted: 'aborted here',
};

/** "10, 50, 100" → [10, 50, 100]; null when a part is not a whole number. */
export function parseSteps(text: string): number[] | null {
  const parts = text
    .split(/[,\s→>]+/)
    .map((p) => p.replace('%', '').trim())
    .filter((p) => p !== '');
  const steps = parts.map((p) => Number(p));
  return steps.length > 0 && steps.every((n) => Number.isInteger(n)) ? steps : null;
}

function useRollouts(profileId: string) {
  return useQuery<Rollout[], AppError>({
    queryKey: rolloutKeys.list(profileId),
    queryFn: () => callCommand(() => commands.listRollouts(profileId)),
  });
}

function updates(onUpdate: (r: Rollout) => void): Channel<Rollout> {
  const channel = new Channel<Rollout>();
  channel.onmessage = onUpdate;
  return channel;
}

/** The split as a bar: the new version's share against the stable one's. */
function SplitBar({ r }: { r: Rollout }) {
  return (
    <Stack gap={4}>
      <Progress.Root size={22} aria-label={`Traffic: ${r.percent} % on the new version, ${100 - r.percent} % on the stable one`}>
        <Progress.Section value={r.percent} color="teal">
          <Progress.Label>{r.percent > 0 ? `new ${r.percent} %` : ''}</Progress.Label>
        </Progress.Section>
        <Progress.Section value={100 - r.percent} color="gray">
          <Progress.Label>{r.percent < 100 ? `stable ${100 - r.percent} %` : ''}</Progress.Label>
        </Progress.Section>
      </Progress.Root>
      <Text size="xs" c="dimmed">
        {`New version ${shortHash(r.newVersionId)} · stable version ${shortHash(r.stableVersionId)}`}
      </Text>
    </Stack>
  );
}

function Steps({ r }: { r: Rollout }) {
  const reached = r.step ?? -1;
  return (
    <List size="sm" aria-label="Steps">
      {r.settings.steps.map((p, i) => {
        const state =
          i < reached || (i === reached && r.state === 'completed')
            ? 'passed'
            : i === reached
              ? STEP_NOW[r.state]
              : 'to come';
        return <List.Item key={p}>{`Step ${i + 1}: ${p} % — ${state}`}</List.Item>;
      })}
    </List>
  );
}

function Gate({ r }: { r: Rollout }) {
  const g = r.gate;
  if (!g) {
    return null;
  }
  const rate = g.errorRatePct === null || g.errorRatePct === undefined ? '—' : `${g.errorRatePct.toFixed(1)} %`;
  return (
    <KeyValueList label="Gate" labelWidth={220}>
      <KeyValue label="Health of the service">
        {g.healthOk === null || g.healthOk === undefined ? 'not checked yet' : g.healthDetail}
      </KeyValue>
      <KeyValue label="New version’s requests (tail)">{`${g.requests} seen, ${g.errors} failed`}</KeyValue>
      <KeyValue label="Error rate">
        {`${rate} (allowed: ${r.settings.maxErrorRatePct} %, judged from ${r.settings.minRequests} requests)`}
      </KeyValue>
      <KeyValue label="Gate">{g.summary}</KeyValue>
    </KeyValueList>
  );
}

/** The operator's own checks, asked after a passing gate; ticking them all lets the split go on. */
function OperatorChecks({ r, busy, onDone }: { r: Rollout; busy: boolean; onDone: () => void }) {
  const [ticked, setTicked] = useState<string[]>([]);
  const checks = r.settings.operatorChecks ?? [];
  const all = checks.every((c) => ticked.includes(c));
  const next = r.settings.steps[(r.step ?? -1) + 1];
  return (
    <Stack gap={6} role="group" aria-label="Your checks at this gate">
      {checks.map((c) => (
        <Checkbox
          key={c}
          label={c}
          checked={ticked.includes(c)}
          onChange={(e) => {
            const on = e.currentTarget.checked;
            setTicked((t) => (on ? [...t, c] : t.filter((x) => x !== c)));
          }}
        />
      ))}
      <Group>
        <Button disabled={!all} loading={busy} onClick={onDone}>
          {next === undefined ? 'Checks done: complete the rollout' : `Checks done: go on to ${next} %`}
        </Button>
      </Group>
    </Stack>
  );
}

type PinnedAnswer = VersionTest['answers'][number];

const answerBody = (a: PinnedAnswer) => a.error ?? a.body;

const ANSWER_COLUMNS: DataColumn<PinnedAnswer>[] = [
  {
    id: 'status',
    header: 'Status',
    accessorFn: (a) => a.status ?? 0,
    meta: { width: 120 },
    cell: ({ row: { original: a } }) => (
      <Badge color={a.status !== null && a.status < 400 ? 'green' : 'red'} tt="none">
        {a.status ?? 'no answer'}
      </Badge>
    ),
  },
  { id: 'time', header: 'Time', accessorFn: (a) => a.ms, meta: { width: 100 }, cell: ({ row }) => `${row.original.ms} ms` },
  {
    id: 'body',
    header: 'Body',
    meta: { cellClassName: 'sy-table-break' },
    cell: ({ row }) => <Code>{answerBody(row.original)}</Code>,
  },
];

const answerId = (_: PinnedAnswer, index: number) => String(index);
const answerText = (a: PinnedAnswer) => `${a.status ?? 'no answer'}\t${a.ms} ms\t${answerBody(a)}`;

function TestVersion({ r }: { r: Rollout }) {
  const [path, setPath] = useState('/');
  const test = useMutation<VersionTest, AppError, string>({
    mutationFn: (p) => callCommand(() => commands.testRolloutVersion(r.id, p, 5)),
  });
  return (
    <Stack gap="xs">
      <Group align="flex-end" gap="xs">
        <TextInput
          label="Path"
          value={path}
          onChange={(e) => {
            setPath(e.currentTarget.value);
          }}
          w={260}
        />
        <Button variant="light" loading={test.isPending} onClick={() => { test.mutate(path); }}>
          Test this version
        </Button>
      </Group>
      <Text size="xs" c="dimmed">
        Sends 5 requests pinned to the new version (Cloudflare-Workers-Version-Overrides), whatever its share of traffic.
      </Text>
      {test.isError && <ErrorNotice error={test.error} context="Testing the new version" />}
      {test.data && (
        <DataTable
          label="Answers of the new version"
          rows={test.data.answers}
          columns={ANSWER_COLUMNS}
          rowId={answerId}
          copyText={answerText}
          verticalSpacing={4}
          wrapCells
          virtual={false}
        />
      )}
    </Stack>
  );
}

/** A rollout as it goes: split, steps, gate, reason, the operator's buttons, what happened. */
export function RolloutView({ r, onTakeUp }: { r: Rollout; onTakeUp?: () => void }) {
  const client = useQueryClient();
  const control = useMutation<Rollout, AppError, RolloutCommand>({
    mutationFn: (c) => callCommand(() => commands.controlRollout(r.id, c)),
    onSettled: () => client.invalidateQueries({ queryKey: rolloutKeys.list(r.profileId) }),
  });
  const state = STATE[r.state];
  const over = r.state === 'completed' || r.state === 'rolledBack' || r.state === 'aborted';
  const busy = control.isPending;
  return (
    <Paper withBorder p="lg" radius="md" component="section" aria-label={`Rollout of ${r.service} in ${r.environment}`}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={3} size="h4">{`Rollout of ${r.service} in ${r.environment}`}</Title>
          <Badge color={state.color} size="lg" tt="none" role="status">
            {state.label}
          </Badge>
        </Group>
        <SplitBar r={r} />
        {r.reason && (
          <Alert
            color={r.state === 'rolledBack' ? 'red' : 'yellow'}
            variant="light"
            icon={<IconAlertTriangle aria-hidden />}
            title={r.state === 'rolledBack' ? 'Why it was rolled back' : 'Why it is held'}
          >
            <Text size="sm">{r.reason}</Text>
          </Alert>
        )}
        {r.state === 'completed' && (
          <Alert color="green" variant="light" icon={<IconCircleCheck aria-hidden />} title="All traffic is on the new version">
            <Text size="sm">{`Version ${shortHash(r.newVersionId)} serves 100 % of ${r.service} in ${r.environment}.`}</Text>
          </Alert>
        )}
        <Steps r={r} />
        <Gate r={r} />
        {r.awaitingChecks === true && r.state === 'paused' && (
          <OperatorChecks
            r={r}
            busy={busy}
            onDone={() => {
              control.mutate('advance');
            }}
          />
        )}
        {!over && (
          <Group gap="xs">
            {r.state === 'interrupted' && onTakeUp && (
              <Button onClick={onTakeUp}>Take it up again</Button>
            )}
            {r.state === 'testing' && (
              <Button loading={busy} onClick={() => { control.mutate('begin'); }}>
                {`Begin: ${r.settings.steps[0] ?? 0} %`}
              </Button>
            )}
            {r.state === 'stepping' && (
              <Button variant="default" loading={busy} onClick={() => { control.mutate('pause'); }}>
                Pause
              </Button>
            )}
            {(r.state === 'paused' || r.state === 'stopped') && (
              <Button loading={busy} onClick={() => { control.mutate('resume'); }}>
                Resume
              </Button>
            )}
            {(r.state === 'stepping' || r.state === 'paused' || r.state === 'stopped') && (
              <Button variant="default" loading={busy} onClick={() => { control.mutate('advance'); }}>
                Advance to the next step now
              </Button>
            )}
            <Button color="red" variant="light" loading={busy} onClick={() => { control.mutate('abort'); }}>
              Abort: all traffic back on the stable version
            </Button>
          </Group>
        )}
        {control.isError && <ErrorNotice error={control.error} context="Controlling the rollout" />}
        {r.state === 'testing' && <TestVersion r={r} />}
        <Text fw={600} size="sm">
          What happened
        </Text>
        <List size="sm" aria-label="Rollout events">
          {[...r.events].reverse().slice(0, 20).map((e, i) => (
            <List.Item key={`${e.atMs}-${i}`}>{`${formatLocalTime(e.atMs ?? 0)} — ${e.message}`}</List.Item>
          ))}
        </List>
      </Stack>
    </Paper>
  );
}

/**
 * Staged rollout: a new bundle uploaded as a version at 0 %, tested with pinned requests, then
 * stepped (10 → 50 → 100 % by default) with gates that roll it back by themselves.
 */
export function RolloutPanel({ profile }: { profile: Profile }) {
  const client = useQueryClient();
  const [service, setService] = useState(profile.services[0] ?? '');
  const [environment, setEnvironment] = useState<Environment>(profile.environment);
  const [bundlePath, setBundlePath] = useState('');
  const [stepsText, setStepsText] = useState('10, 50, 100');
  const [dwell, setDwell] = useState<number | string>(60);
  const [maxRate, setMaxRate] = useState<number | string>(5);
  const [minRequests, setMinRequests] = useState<number | string>(20);
  const [probe, setProbe] = useState<number | string>(0);
  const [checksText, setChecksText] = useState('');
  const operatorChecks = checksText
    .split('\n')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  const [plan, setPlan] = useState<RolloutPlan | null>(null);
  const [live, setLive] = useState<Rollout | null>(null);
  const [runError, setRunError] = useState<AppError | null>(null);
  const rollouts = useRollouts(profile.id);
  const steps = parseSteps(stepsText);
  const readOnly = profile.protection === 'readOnly';

  const request = (): RolloutRequest => ({
    profileId: profile.id,
    service,
    environment,
    bundlePath,
    settings: {
      steps: steps ?? [],
      dwellSeconds: Number(dwell),
      maxErrorRatePct: Number(maxRate),
      minRequests: Number(minRequests),
      probePerSecond: Number(probe),
      probePath: '/',
      operatorChecks,
    },
  });
  const planning = useMutation<RolloutPlan, AppError, RolloutRequest>({
    mutationFn: (req) => callCommand(() => commands.rolloutPlan(req)),
    onSuccess: setPlan,
  });
  const drive = async (run: (channel: Channel<Rollout>) => ReturnType<typeof commands.startRollout>) => {
    setRunError(null);
    try {
      const ended = await callCommand(() =>
        run(
          updates((r) => {
            setLive(r);
          }),
        ),
      );
      setLive(ended);
    } catch (e) {
      setRunError(toAppError(e));
    } finally {
      void client.invalidateQueries({ queryKey: rolloutKeys.list(profile.id) });
    }
  };
  const start = (p: RolloutPlan, confirmed: boolean, typed: string | null) => {
    setPlan(null);
    void drive((channel) =>
      commands.startRollout(
        { request: request(), bundleSha256: p.bundleSha256, confirmation: { confirmed, typed, basis: p.basis } },
        channel,
      ),
    );
  };
  const interrupted = (rollouts.data ?? []).filter((r) => r.state === 'interrupted' && r.id !== live?.id);
  const notReady =
    bundlePath.trim() === ''
      ? 'Choose the bundle file.'
      : steps === null
        ? 'Steps: whole percentages separated by commas, ending at 100.'
        : null;

  return (
    <Stack gap="md">
      {interrupted.map((r) => (
        <RolloutView key={r.id} r={r} onTakeUp={() => void drive((channel) => commands.resumeRollout(r.id, channel))} />
      ))}
      {live && <RolloutView r={live} />}
      {runError && <ErrorNotice error={runError} context="The rollout" />}
      <Paper withBorder p="lg" radius="md" component="section" aria-labelledby="sy-rollout-heading">
        <Stack gap="md">
          <Title order={2} size="h3" id="sy-rollout-heading">
            Staged rollout
          </Title>
          <Text size="sm" c="dimmed">
            Uploads a new bundle as a version at 0 % beside the one serving now, lets you test it with pinned requests, then moves
            traffic step by step. At each step the service’s health and the new version’s error rate (from its tail) decide; a
            failed gate puts all traffic back on the stable version by itself.
          </Text>
          <Group gap="md" align="flex-end" wrap="wrap">
            <ServiceEnvironmentFields
              services={profile.services}
              service={service}
              onService={(s) => {
                setService(s);
                setPlan(null);
              }}
              environment={environment}
              onEnvironment={(e) => {
                setEnvironment(e);
                setPlan(null);
              }}
            />
          </Group>
          <PathField
            label="Bundle file"
            description="The built ES module (e.g. dist/index.js)."
            kind="bundle"
            value={bundlePath}
            onChange={(v) => {
              setBundlePath(v);
              setPlan(null);
            }}
            chooserTitle="Choose the bundle to roll out"
          />
          <Group gap="md" align="flex-end" wrap="wrap">
            <TextInput
              label="Steps (%)"
              value={stepsText}
              onChange={(e) => {
                setStepsText(e.currentTarget.value);
                setPlan(null);
              }}
              error={steps === null ? 'Whole percentages separated by commas, e.g. 10, 50, 100.' : null}
              w={180}
            />
            <NumberInput label="Dwell per step (s)" value={dwell} onChange={setDwell} min={1} max={86400} w={150} />
            <NumberInput label="Max error rate (%)" value={maxRate} onChange={setMaxRate} min={0} max={100} decimalScale={1} w={150} />
            <NumberInput label="Requests needed to judge" value={minRequests} onChange={setMinRequests} min={1} w={180} />
            <NumberInput label="Probe requests per second" value={probe} onChange={setProbe} min={0} max={50} w={190} />
          </Group>
          <Textarea
            label="Your checks at each gate (optional)"
            description="One per line, e.g. “the orders dashboard shows no new errors”. After each passing gate the rollout holds until you tick them."
            value={checksText}
            onChange={(e) => {
              setChecksText(e.currentTarget.value);
              setPlan(null);
            }}
            autosize
            minRows={1}
            maxRows={6}
          />
          <Group>
            <Button
              onClick={() => {
                planning.mutate(request());
              }}
              loading={planning.isPending}
              disabled={notReady !== null || readOnly}
            >
              Plan the rollout
            </Button>
            {notReady && (
              <Text size="sm" c="dimmed">
                {notReady}
              </Text>
            )}
            {readOnly && <Text size="sm">This profile is read-only: nothing can be rolled out with it.</Text>}
          </Group>
          {planning.isError && <ErrorNotice error={planning.error} context="Planning the rollout" />}
        </Stack>
      </Paper>
      {plan && (
        <Paper withBorder p="lg" radius="md" component="section" aria-label="Rollout plan and confirmation">
          <Stack gap="sm">
            <PlanHead plan={plan} sha256={plan.bundleSha256} nextTitle="The new version" />
            <Text size="sm">
              {`Stable version ${shortHash(plan.stable.versionId)}${plan.stable.number !== null ? ` (number ${plan.stable.number})` : ''} serves 100 % now and is where traffic goes back if a gate fails. New bundle: ${formatBytes(plan.bundleSize ?? 0)}, SHA-256 ${shortHash(plan.bundleSha256)}.`}
            </Text>
            <Text size="sm">
              {`Steps ${plan.settings.steps.map((p) => `${p} %`).join(' → ')}, ${plan.settings.dwellSeconds} s each; a gate fails above ${plan.settings.maxErrorRatePct} % errors (judged from ${plan.settings.minRequests} requests) or when /health fails twice in a row.`}
            </Text>
            <ConfirmAction
              requirement={plan.confirmation}
              action={plan.action}
              danger={plan.environment === 'production'}
              busy={live !== null && !['completed', 'rolledBack', 'aborted'].includes(live.state)}
              onConfirm={(c) => {
                start(plan, c.confirmed, c.typed);
              }}
            />
          </Stack>
        </Paper>
      )}
      {rollouts.isPending && <Loader size="sm" aria-label="Loading the rollouts" />}
    </Stack>
  );
}
