import {
  Alert,
  Button,
  Checkbox,
  Group,
  Loader,
  Menu,
  NativeSelect,
  NumberInput,
  Paper,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import {
  IconAlertTriangle,
  IconClipboardCopy,
  IconDeviceFloppy,
  IconPlayerPause,
  IconPlayerPlay,
  IconPlayerStop,
  IconSearch,
  IconTrash,
} from '@tabler/icons-react';
import { useMutation } from '@tanstack/react-query';
import { useCallback, useDeferredValue, useEffect, useMemo, useState } from 'react';

import { activeProfileOf } from '../../shell/environment';
import { areaById } from '../../shell/areas';
import { type NavigationTarget, useNavigation } from '../../shell/navigation';
import { AreaHeader } from '../../components/AreaHeader';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { ErrorText } from '../../components/errorText';
import { formatLocalTime, useNow } from '../../components/time';
import { commands } from '../../ipc/bindings';
import type { AppError, LogLine, LogsFileFormat, Profile } from '../../ipc/types';
import { callCommand } from '../../ipc/errors';
import { useSandboxRuntime } from '../../ipc/health';
import { type Connection, type LogsSession, MAX_TAILED_SERVICES, useLogsSession } from '../../ipc/logs';
import { useAppInfo, useProfiles } from '../../ipc/queries';
import {
  addLines,
  BUFFER_CAP,
  clear,
  connectionAnnouncement,
  connectionText,
  EMPTY_BUFFER,
  filtered,
  type LogBuffer,
  type LogFilters,
  logsFileStem,
  methodsOf,
  NO_FILTERS,
  type OutcomeFilter,
  pause,
  resume,
  setSampling,
  shownJsonLines,
  shownText,
} from './logModel';
import { createBatcher } from './batcher';
import { LogsTable } from './LogsTable';
import './logs.css';

/** Whatever failed, no file was written (the codes' own words are about the platform). */
const NOT_SAVED: ErrorText = {
  title: 'Nothing was saved',
  nextStep: 'Save again to a folder you can write to, or use “Copy to clipboard”.',
};

/**
 * New lines are taken in at most this often (a busy service sends many a second); the first
 * after a quiet moment at once.
 */
const FLUSH_MS = 100;

const OUTCOMES: readonly { value: OutcomeFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'ok', label: 'OK only' },
  { value: 'errors', label: 'Errors only (not ok, exception or 5xx)' },
];

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

function listOf(names: readonly string[]): string {
  return names.join(', ');
}

/** The services the Logs area was asked to tail, if any. */
function requestedServices(target: NavigationTarget | null): string[] | null {
  return target?.logs ? target.logs.services.slice(0, MAX_TAILED_SERVICES) : null;
}

function ReconnectCountdown({ connection }: { connection: Connection }) {
  // Only mounted while reconnecting: the countdown ticks every second.
  const now = useNow(1000);
  return <>{connectionText(connection, now)}</>;
}

function ConnectionList({ session }: { session: LogsSession }) {
  const services = session.services;
  if (services.length === 0) {
    return null;
  }
  return (
    <div>
      <Text size="sm" fw={700} id="sy-logs-connections-label">
        Connection
      </Text>
      {/* Announced as each tail connects, breaks or stops; the countdown itself is not read out. */}
      <ul className="sy-logs-connections" aria-labelledby="sy-logs-connections-label" aria-live="polite">
        {services.map((service) => {
          const connection = session.connections[service] ?? { state: 'connecting' };
          const color =
            connection.state === 'connected'
              ? 'green.9'
              : connection.state === 'reconnecting'
                ? 'orange.9'
                : 'dimmed';
          return (
            <li key={service}>
              <span className="sy-sr-only">{connectionAnnouncement(service, connection)}</span>
              <Group gap={6} wrap="nowrap" aria-hidden>
                <Text span size="sm" fw={600}>
                  {service}:
                </Text>
                <Text span size="sm" c={color} data-connection={connection.state}>
                  {connection.state === 'reconnecting' ? (
                    <ReconnectCountdown connection={connection} />
                  ) : (
                    connectionText(connection, 0)
                  )}
                </Text>
              </Group>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function ServicePicker({
  options,
  outsideProfile,
  chosen,
  onChange,
}: {
  options: readonly string[];
  outsideProfile: ReadonlySet<string>;
  chosen: readonly string[];
  onChange: (services: string[]) => void;
}) {
  const full = chosen.length >= MAX_TAILED_SERVICES;
  return (
    <Checkbox.Group
      label="Services to tail"
      description={
        full
          ? `At most ${MAX_TAILED_SERVICES} services at once: untick one to choose another.`
          : 'The tail starts as soon as you choose, and stops when you leave Logs.'
      }
      value={[...chosen]}
      onChange={onChange}
    >
      <Group gap="md" mt={6} wrap="wrap">
        {options.length === 0 && (
          <Text size="sm">This profile lists no services. Add them to the profile in Settings.</Text>
        )}
        {options.map((service) => (
          <Checkbox
            key={service}
            value={service}
            label={outsideProfile.has(service) ? `${service} (not in this profile's services)` : service}
            disabled={full && !chosen.includes(service)}
          />
        ))}
      </Group>
    </Checkbox.Group>
  );
}

function FilterBar({
  filters,
  methods,
  onChange,
  samplePercent,
  onSampling,
}: {
  filters: LogFilters;
  methods: readonly string[];
  onChange: (filters: LogFilters) => void;
  samplePercent: number;
  onSampling: (percent: number) => void;
}) {
  const [sampleText, setSampleText] = useState<string | number>(samplePercent);
  const sampleValid = typeof sampleText === 'number' && Number.isInteger(sampleText) && sampleText >= 1 && sampleText <= 100;
  const methodOptions = filters.method !== '' && !methods.includes(filters.method) ? [...methods, filters.method] : methods;
  return (
    <Group gap="sm" align="flex-start" wrap="wrap">
      <NativeSelect
        label="Outcome"
        value={filters.outcome}
        data={OUTCOMES.map((o) => ({ value: o.value, label: o.label }))}
        onChange={(event) => {
          onChange({ ...filters, outcome: event.currentTarget.value as OutcomeFilter });
        }}
        w={200}
      />
      <NativeSelect
        label="Method"
        value={filters.method}
        data={[{ value: '', label: 'Any' }, ...methodOptions.map((m) => ({ value: m, label: m }))]}
        onChange={(event) => {
          onChange({ ...filters, method: event.currentTarget.value });
        }}
        w={120}
      />
      <TextInput
        label="Search"
        value={filters.text}
        leftSection={<IconSearch size={16} aria-hidden />}
        placeholder="URL, logged text, exception…"
        onChange={(event) => {
          onChange({ ...filters, text: event.currentTarget.value });
        }}
        w={260}
      />
      <NumberInput
        label="Sampling: keep % of new lines"
        min={1}
        max={100}
        step={10}
        clampBehavior="none"
        allowDecimal={false}
        value={sampleText}
        error={sampleValid ? undefined : 'Sampling: enter a whole number from 1 to 100.'}
        onChange={(value) => {
          setSampleText(value);
          if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 100) {
            onSampling(value);
          }
        }}
        w={240}
      />
      {(filters.outcome !== 'all' || filters.method !== '' || filters.text !== '') && (
        <Button
          variant="subtle"
          size="sm"
          mt={25}
          onClick={() => {
            onChange(NO_FILTERS);
          }}
        >
          Clear filters
        </Button>
      )}
    </Group>
  );
}

/** What the buffer did: lines dropped by the cap, left out by sampling, held back while paused. */
function BufferNotes({ buffer, shown }: { buffer: LogBuffer; shown: number }) {
  const total = buffer.entries.length;
  return (
    <Stack gap={2}>
      <Text size="sm">
        {shown === total
          ? `${plural(total, 'line', 'lines')} (the buffer keeps the newest ${BUFFER_CAP.toLocaleString()})`
          : `Showing ${shown.toLocaleString()} of ${plural(total, 'line', 'lines')} (filters hide the rest)`}
      </Text>
      {buffer.dropped > 0 && (
        <Text size="sm" c="orange.9">
          {`${plural(buffer.dropped, 'older line', 'older lines')} dropped: the buffer keeps the newest ${BUFFER_CAP.toLocaleString()}.`}
        </Text>
      )}
      {buffer.samplePercent < 100 && (
        <Text size="sm">
          {`Sampling keeps ${buffer.samplePercent} % of new lines; ${plural(buffer.skipped, 'line', 'lines')} left out so far.`}
        </Text>
      )}
      {buffer.paused && (
        <Text size="sm" fw={700} c="orange.9">
          {`Paused: ${plural(buffer.heldCount, 'new line', 'new lines')} while paused. Resume to show them.`}
        </Text>
      )}
    </Stack>
  );
}

function NotExecutedWarning({ message }: { message: string }) {
  return (
    <Alert color="orange" variant="light" icon={<IconAlertTriangle aria-hidden />} title={`Scripts are not executed: ${message}`}>
      <Text size="sm">
        The Local sandbox stores deployed scripts but does not run them: requests get “503 Not executed”, so no lines
        will arrive here until it does.
      </Text>
    </Alert>
  );
}

interface LogsViewProps {
  profile: Profile;
  sandbox: boolean;
  target: NavigationTarget | null;
}

function LogsView({ profile, sandbox, target }: LogsViewProps) {
  const requested = requestedServices(target);
  const [extra, setExtra] = useState<string[]>(() => (requested ?? []).filter((s) => !profile.services.includes(s)));
  const options = useMemo(() => [...profile.services, ...extra], [profile.services, extra]);
  const outsideProfile = useMemo(() => new Set(extra), [extra]);
  const [chosen, setChosen] = useState<string[]>(() => requested ?? []);
  const [enabled, setEnabled] = useState(true);
  // Asked again from elsewhere while Logs is open ("Logs" on another service).
  const [seenTarget, setSeenTarget] = useState(target);
  if (target !== seenTarget) {
    setSeenTarget(target);
    const next = requestedServices(target);
    if (next) {
      const missing = next.filter((s) => !profile.services.includes(s) && !extra.includes(s));
      if (missing.length > 0) {
        setExtra([...extra, ...missing]);
      }
      setChosen(next);
      setEnabled(true);
    }
  }

  const choose = (services: string[]) => {
    // In the order of the list, so the same choice is the same tail.
    setChosen(options.filter((s) => services.includes(s)));
    setEnabled(true);
  };

  const [buffer, setBuffer] = useState<LogBuffer>(EMPTY_BUFFER);
  const [batcher] = useState(() =>
    createBatcher<LogLine>((batch) => {
      setBuffer((b) => addLines(b, batch));
    }, FLUSH_MS),
  );
  const onLine = useCallback((line: LogLine) => {
    batcher.push(line);
  }, [batcher]);
  useEffect(
    () => () => {
      batcher.cancel();
    },
    [batcher],
  );

  const session = useLogsSession({ profileId: profile.id, services: chosen, enabled, onLine });
  const runtime = useSandboxRuntime(sandbox);
  const notExecuted = sandbox && runtime.data?.executing === false ? runtime.data.message : null;

  const [filters, setFilters] = useState<LogFilters>(NO_FILTERS);
  const deferredText = useDeferredValue(filters.text);
  const shown = useMemo(
    () => filtered(buffer.entries, { ...filters, text: deferredText }),
    [buffer.entries, filters, deferredText],
  );
  const methods = useMemo(() => methodsOf(buffer.entries), [buffer.entries]);

  const [exported, setExported] = useState<{ ok: true; text: string } | { ok: false; text: string } | null>(null);
  const shownServices = session.services.length > 0 ? session.services : chosen;
  // The window sends what is shown and a suggested name; the file is chosen in the OS's dialog.
  const save = useMutation<{ path: string | null; lines: number; format: LogsFileFormat }, AppError, LogsFileFormat>({
    mutationFn: async (format) => {
      const now = Date.now();
      const content =
        format === 'text'
          ? shownText(profile.name, shownServices, shown, 'saved', formatLocalTime(now))
          : shownJsonLines(shown);
      const path = await callCommand(() => commands.saveLogs(content, format, logsFileStem(shownServices, now)));
      return { path, lines: shown.length, format };
    },
    onMutate: () => {
      setExported(null);
    },
    onSuccess: ({ path, lines, format }) => {
      if (path !== null) {
        setExported({
          ok: true,
          text: `Saved the ${plural(lines, 'line', 'lines')} shown to ${path} ${format === 'text' ? 'as text' : 'as JSON Lines'}.`,
        });
      }
    },
  });

  const copyShown = () => {
    save.reset();
    const text = shownText(profile.name, shownServices, shown, 'copied', formatLocalTime(Date.now()));
    navigator.clipboard.writeText(text).then(
      () => {
        setExported({
          ok: true,
          text: `Copied the ${plural(shown.length, 'line', 'lines')} shown to the clipboard as text.`,
        });
      },
      (error: unknown) => {
        setExported({
          ok: false,
          text: `Copying to the clipboard failed (${error instanceof Error ? error.message : String(error)}). Use “Save to file…” instead, or select the lines and copy them by hand.`,
        });
      },
    );
  };

  const live = session.phase === 'live' || session.phase === 'starting';
  const nothingYet = buffer.entries.length === 0 && buffer.held.length === 0;

  return (
    <Stack gap="md">
      <AreaHeader
        area={areaById('logs')}
        actions={
          <Group gap="sm">
            <Button
              variant="default"
              leftSection={buffer.paused ? <IconPlayerPlay size={16} aria-hidden /> : <IconPlayerPause size={16} aria-hidden />}
              onClick={() => {
                setBuffer((b) => (b.paused ? resume(b) : pause(b)));
              }}
            >
              {buffer.paused ? 'Resume' : 'Pause'}
            </Button>
            <Button
              variant="default"
              leftSection={<IconTrash size={16} aria-hidden />}
              onClick={() => {
                setBuffer(clear);
                setExported(null);
                save.reset();
              }}
            >
              Clear
            </Button>
            <Button
              variant="default"
              leftSection={<IconClipboardCopy size={16} aria-hidden />}
              disabled={shown.length === 0}
              onClick={copyShown}
            >
              Copy to clipboard
            </Button>
            <Menu position="bottom-end" withinPortal>
              <Menu.Target>
                <Button
                  variant="default"
                  leftSection={<IconDeviceFloppy size={16} aria-hidden />}
                  disabled={shown.length === 0}
                  loading={save.isPending}
                >
                  Save to file…
                </Button>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>The lines shown (after filters)</Menu.Label>
                <Menu.Item
                  onClick={() => {
                    save.mutate('text');
                  }}
                >
                  As text (.log)
                </Menu.Item>
                <Menu.Item
                  onClick={() => {
                    save.mutate('jsonLines');
                  }}
                >
                  As JSON Lines (.jsonl, one request per line)
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        }
      />
      <Paper withBorder p="md" radius="md">
        <Stack gap="sm">
          <ServicePicker options={options} outsideProfile={outsideProfile} chosen={chosen} onChange={choose} />
          <Text size="xs" c="dimmed">
            {`Requests dispatched through ${profile.namespace} (this profile's namespace) are shown; requests through other namespaces are left out.`}
          </Text>
          {chosen.length > 0 && (
            <Group gap="sm" align="center">
              {enabled ? (
                <Button
                  size="xs"
                  variant="default"
                  leftSection={<IconPlayerStop size={14} aria-hidden />}
                  onClick={() => {
                    setEnabled(false);
                  }}
                >
                  Stop tail
                </Button>
              ) : (
                <Button
                  size="xs"
                  leftSection={<IconPlayerPlay size={14} aria-hidden />}
                  onClick={() => {
                    setEnabled(true);
                  }}
                >
                  Start tail
                </Button>
              )}
              {session.phase === 'starting' && (
                <Group gap={6}>
                  <Loader size="xs" aria-hidden />
                  <Text size="sm">{`Starting the tail of ${listOf(chosen)}…`}</Text>
                </Group>
              )}
              {session.phase === 'stopping' && (
                <Group gap={6}>
                  <Loader size="xs" aria-hidden />
                  <Text size="sm">Stopping the tail…</Text>
                </Group>
              )}
            </Group>
          )}
          <ConnectionList session={session} />
          {session.phase === 'failed' && session.error && (
            <ErrorNotice error={session.error} context="Starting the tail" onRetry={session.retry} />
          )}
          {session.stopError && <ErrorNotice error={session.stopError} context="Stopping the tail" />}
        </Stack>
      </Paper>

      {notExecuted !== null && <NotExecutedWarning message={notExecuted} />}

      <FilterBar
        filters={filters}
        methods={methods}
        onChange={setFilters}
        samplePercent={buffer.samplePercent}
        onSampling={(p) => {
          setBuffer((b) => setSampling(b, p));
        }}
      />
      {exported && (
        <Text size="sm" role="status" c={exported.ok ? undefined : 'red.8'}>
          {exported.text}
        </Text>
      )}
      {save.isError && <ErrorNotice error={save.error} context="Saving the lines shown" text={NOT_SAVED} />}

      {chosen.length === 0 ? (
        <Paper withBorder p="lg">
          <Text>
            Choose a service to tail its logs. Each line is one request to it: when it came, its method, path and
            status, the outcome, what the code logged, and any exception with its stack.
          </Text>
        </Paper>
      ) : (
        <>
          <BufferNotes buffer={buffer} shown={shown.length} />
          {nothingYet ? (
            <Paper withBorder p="lg">
              <Text>
                {live
                  ? `Waiting for requests to ${listOf(chosen)} — open ${chosen.length === 1 ? 'its' : 'their'} /health or use the app to generate traffic.`
                  : session.phase === 'failed'
                    ? 'No tail is running: it could not start (see above).'
                    : session.phase === 'stopping'
                      ? 'Stopping the tail…'
                      : `The tail is stopped. Press “Start tail” to follow ${listOf(chosen)} again.`}
              </Text>
            </Paper>
          ) : shown.length === 0 ? (
            <Paper withBorder p="lg">
              <Group gap="sm">
                <Text>
                  {buffer.entries.length === 0
                    ? 'Nothing is shown while paused. Resume to show the new lines.'
                    : `None of the ${plural(buffer.entries.length, 'line', 'lines')} in the buffer match the filters.`}
                </Text>
                {buffer.entries.length > 0 && (
                  <Button
                    size="xs"
                    variant="default"
                    onClick={() => {
                      setFilters(NO_FILTERS);
                    }}
                  >
                    Clear filters
                  </Button>
                )}
              </Group>
            </Paper>
          ) : (
            <LogsTable entries={shown} />
          )}
        </>
      )}
    </Stack>
  );
}

/** Live logs of chosen services of the active profile, through the platform's tail API. */
export function LogsArea() {
  const { target } = useNavigation();
  const appInfo = useAppInfo();
  const profiles = useProfiles();
  const area = areaById('logs');
  const active = appInfo.isSuccess ? activeProfileOf(appInfo.data.profiles, appInfo.data.activeProfile) : undefined;
  const profile = profiles.data?.find((p) => p.id === active?.id);
  // A request to tail ("Logs for gateway") is for the profile active when it was made: after a
  // switch of profile, the new one starts with nothing chosen rather than tailing it unasked.
  const [asked, setAsked] = useState<{ target: NavigationTarget | null; profileId: string | null }>(() => ({
    target,
    profileId: active?.id ?? null,
  }));
  if (asked.target !== target) {
    setAsked({ target, profileId: active?.id ?? null });
  } else if (asked.profileId === null && active) {
    setAsked({ target, profileId: active.id });
  }
  const targetForProfile = asked.profileId === null || asked.profileId === profile?.id ? target : null;

  if (appInfo.isSuccess && !active) {
    return (
      <Stack gap="md">
        <AreaHeader area={area} />
        <Paper withBorder p="lg">
          <Text>No profile is active. Choose or create one in Settings to tail its services.</Text>
        </Paper>
      </Stack>
    );
  }
  if (profiles.isError) {
    return (
      <Stack gap="md">
        <AreaHeader area={area} />
        <ErrorNotice
          error={profiles.error}
          context="Loading the profile's services"
          onRetry={() => {
            void profiles.refetch();
          }}
        />
      </Stack>
    );
  }
  if (!profile || !active) {
    return (
      <Stack gap="md">
        <AreaHeader area={area} />
        {!appInfo.isError && <Loader size="sm" aria-label="Loading the active profile" />}
      </Stack>
    );
  }
  return <LogsView key={profile.id} profile={profile} sandbox={active.sandbox} target={targetForProfile} />;
}
