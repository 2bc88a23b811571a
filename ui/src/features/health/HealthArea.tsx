import {
  Badge,
  Button,
  CloseButton,
  Group,
  Loader,
  NativeSelect,
  Notification,
  Paper,
  Stack,
  Table,
  Text,
} from '@mantine/core';
import { IconBook2, IconRefresh } from '@tabler/icons-react';
import { useCallback, useEffect, useRef, useState } from 'react';

import { areaById } from '../../app/areas';
import { AreaHeader } from '../../components/AreaHeader';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatLocalTime, formatRelative, useNow } from '../../components/time';
import type { HealthBoard, HealthStatus, ServiceHealth } from '../../ipc/bindings';
import { SPARKLINE_WINDOW_MS, useHealthBoard, useHealthHistory } from '../../ipc/health';
import { useAppInfo } from '../../ipc/queries';
import './health.css';

import { Sparkline } from './Sparkline';

/** The "Check every" choices; the value is the interval in ms ('0' = off). */
export const CHECK_INTERVALS = [
  { value: '0', label: 'Off' },
  { value: '10000', label: '10 seconds' },
  { value: '30000', label: '30 seconds' },
  { value: '60000', label: '1 minute' },
  { value: '300000', label: '5 minutes' },
] as const;

const DEFAULT_INTERVAL = '30000';

/** At most one notification per target per this long. */
export const NOTIFY_EVERY_MS = 60_000;
/** How long an in-app notification stays before it goes by itself. */
const NOTIFICATION_LIFETIME_MS = 10_000;

const STATUS_LOOK: Record<HealthStatus, { label: string; color: string; variant: 'light' | 'filled' }> = {
  up: { label: 'Up', color: 'green', variant: 'light' },
  upNeedsKey: { label: 'Up, needs key', color: 'yellow', variant: 'light' },
  down: { label: 'Down', color: 'red.9', variant: 'filled' },
};

function StatusBadge({ state }: { state: HealthStatus }) {
  const look = STATUS_LOOK[state];
  return (
    <Badge size="sm" color={look.color} variant={look.variant} tt="none">
      {look.label}
    </Badge>
  );
}

function isUp(state: HealthStatus): boolean {
  return state !== 'down';
}

interface ChangeNotice {
  id: number;
  target: string;
  title: string;
  down: boolean;
}

/**
 * State changes as in-app notifications, at most one per target per NOTIFY_EVERY_MS (the last
 * time each target was notified is kept in a ref, so it survives re-renders but is no state).
 */
function useChangeNotices() {
  const [notices, setNotices] = useState<ChangeNotice[]>([]);
  const lastNotified = useRef(new Map<string, number>());
  const nextId = useRef(1);
  const timers = useRef(new Set<number>());

  const dismiss = useCallback((id: number) => {
    setNotices((list) => list.filter((n) => n.id !== id));
  }, []);

  const onChecked = useCallback(
    (board: HealthBoard) => {
      const now = Date.now();
      const fresh: ChangeNotice[] = [];
      for (const result of board.results) {
        if (!result.changed) {
          continue;
        }
        const last = lastNotified.current.get(result.name);
        if (last !== undefined && now - last < NOTIFY_EVERY_MS) {
          continue;
        }
        lastNotified.current.set(result.name, now);
        const down = !isUp(result.state);
        fresh.push({
          id: nextId.current++,
          target: result.name,
          title: `${result.name} is now ${down ? 'down' : 'up'}`,
          down,
        });
      }
      if (fresh.length === 0) {
        return;
      }
      setNotices((list) => [...list.filter((n) => !fresh.some((f) => f.target === n.target)), ...fresh].slice(-6));
      for (const notice of fresh) {
        const timer = window.setTimeout(() => {
          timers.current.delete(timer);
          dismiss(notice.id);
        }, NOTIFICATION_LIFETIME_MS);
        timers.current.add(timer);
      }
    },
    [dismiss],
  );

  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending) {
        window.clearTimeout(timer);
      }
      pending.clear();
    };
  }, []);

  return { notices, dismiss, onChecked };
}

function ChangeNotices({ notices, dismiss }: { notices: ChangeNotice[]; dismiss: (id: number) => void }) {
  if (notices.length === 0) {
    return null;
  }
  return (
    <Stack gap="xs" className="sy-health-notices" role="region" aria-label="Health notifications">
      {notices.map((notice) => (
        <Notification
          key={notice.id}
          role={notice.down ? 'alert' : 'status'}
          color={notice.down ? 'red' : 'green'}
          title={notice.title}
          withCloseButton={false}
          withBorder
        >
          <Group justify="space-between" wrap="nowrap" gap="xs">
            <Text size="sm">{notice.down ? 'Its latest check failed.' : 'Its latest check answered.'}</Text>
            <CloseButton
              size="sm"
              aria-label={`Dismiss: ${notice.title}`}
              onClick={() => {
                dismiss(notice.id);
              }}
            />
          </Group>
        </Notification>
      ))}
    </Stack>
  );
}

function summaryColor(board: HealthBoard): string {
  const { healthy, total } = board.summary;
  if (total > 0 && healthy === total) {
    return 'green';
  }
  return healthy === 0 && total > 0 ? 'red' : 'orange';
}

function HealthSummaryLine({ board }: { board: HealthBoard | undefined }) {
  const color = board ? summaryColor(board) : null;
  return (
    <Text
      role="status"
      aria-label="Health summary"
      fw={700}
      size="lg"
      data-color={color ?? 'none'}
      style={color ? { color: `var(--mantine-color-${color}-text)` } : undefined}
    >
      {board ? board.summary.text : 'Checking every service…'}
    </Text>
  );
}

function HistoryCell({ profileId, result, checkedAtMs }: { profileId: string; result: ServiceHealth; checkedAtMs: number | null }) {
  const sinceMs = checkedAtMs === null ? null : checkedAtMs - SPARKLINE_WINDOW_MS;
  const history = useHealthHistory(profileId, result.name, sinceMs);
  if (history.isError) {
    return (
      <Text size="xs" c="dimmed" title={history.error.message}>
        History unavailable ({history.error.code})
      </Text>
    );
  }
  if (!history.data || checkedAtMs === null || sinceMs === null) {
    return <Loader size="xs" aria-label={`Loading the history of ${result.name}`} />;
  }
  return <Sparkline name={result.name} points={history.data} fromMs={sinceMs} toMs={checkedAtMs} />;
}

function lastChangeText(result: ServiceHealth, now: number): string {
  const at = result.lastChangeMs ?? null;
  return at === null ? 'Not in the last 24 h' : formatRelative(at, now);
}

function lastChangeTitle(result: ServiceHealth): string | undefined {
  const at = result.lastChangeMs ?? null;
  return at === null ? undefined : formatLocalTime(at);
}

function BoardTable({ profileId, board }: { profileId: string; board: HealthBoard }) {
  const now = useNow();
  return (
    <Table.ScrollContainer minWidth={820}>
      <Table aria-label="Service health" withTableBorder verticalSpacing="xs" highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">HTTP code</Table.Th>
            <Table.Th scope="col">Latency (ms)</Table.Th>
            <Table.Th scope="col">Last change</Table.Th>
            <Table.Th scope="col">Last hour</Table.Th>
            <Table.Th scope="col">Details</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {board.results.map((result) => (
            <Table.Tr key={result.name} data-state={result.state}>
              <Table.Th scope="row" fw={600}>
                <Text span size="sm" fw={600}>
                  {result.name}
                </Text>
                {result.kind !== 'service' && (
                  <Text span size="xs" c="dimmed" ml={6}>
                    {result.kind === 'dispatcher' ? '(dispatcher)' : '(Deploy API)'}
                  </Text>
                )}
              </Table.Th>
              <Table.Td>
                <StatusBadge state={result.state} />
              </Table.Td>
              <Table.Td ff="monospace">{result.httpStatus ?? '—'}</Table.Td>
              <Table.Td ff="monospace">{result.latencyMs}</Table.Td>
              <Table.Td>
                <Text
                  span
                  size="sm"
                  title={lastChangeTitle(result)}
                >
                  {lastChangeText(result, now)}
                </Text>
              </Table.Td>
              <Table.Td>
                <HistoryCell profileId={profileId} result={result} checkedAtMs={board.checkedAtMs ?? null} />
              </Table.Td>
              <Table.Td maw={360}>
                {result.state === 'down' ? (
                  <Stack gap={2}>
                    {result.detail !== null && <Text size="sm">{result.detail}</Text>}
                    {result.runbook !== null && (
                      <Group gap={4} wrap="nowrap">
                        <IconBook2 size={14} aria-hidden />
                        <Text size="sm" td="underline" c="blue.8">
                          Runbook: “{result.runbook}”
                        </Text>
                      </Group>
                    )}
                  </Stack>
                ) : (
                  <Text size="xs" c="dimmed" title={result.url}>
                    {result.url}
                  </Text>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function HealthBoardView({ profileId }: { profileId: string }) {
  const [interval, setIntervalChoice] = useState<string>(DEFAULT_INTERVAL);
  const intervalMs = Number(interval);
  const { notices, dismiss, onChecked } = useChangeNotices();
  const board = useHealthBoard(profileId, intervalMs > 0 ? intervalMs : false, onChecked);
  const now = useNow(10_000);
  const data = board.data;
  const checkedAtMs = data?.checkedAtMs ?? null;

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap" gap="md">
        <HealthSummaryLine board={data} />
        <Group gap="md" align="flex-end" wrap="wrap">
          <NativeSelect
            label="Check every"
            data={CHECK_INTERVALS.map((c) => ({ value: c.value, label: c.label }))}
            value={interval}
            onChange={(event) => {
              setIntervalChoice(event.currentTarget.value);
            }}
            w={150}
          />
          <Button
            leftSection={<IconRefresh size={16} aria-hidden />}
            loading={board.isFetching}
            onClick={() => {
              void board.refetch();
            }}
          >
            Check now
          </Button>
        </Group>
      </Group>
      <Text size="sm" c="dimmed" aria-live="polite">
        {board.isFetching
          ? 'Checking…'
          : checkedAtMs !== null
            ? `Last checked ${formatLocalTime(checkedAtMs)} (${formatRelative(checkedAtMs, Math.max(now, checkedAtMs))})`
            : 'Not checked yet'}
        {' · '}
        {intervalMs > 0
          ? `checks again every ${CHECK_INTERVALS.find((c) => c.value === interval)?.label ?? ''}`
          : 'automatic checks are off'}
        {'; each target gets 5 seconds to answer.'}
      </Text>
      {board.isError && (
        <ErrorNotice
          error={board.error}
          context="Checking health"
          onRetry={() => {
            void board.refetch();
          }}
        />
      )}
      {board.isError && data && (
        <Text size="sm" fw={600}>
          The board below is from the last check that worked.
        </Text>
      )}
      {board.isPending && (
        <Group gap="xs">
          <Loader size="sm" aria-hidden />
          <Text>Checking every service, the dispatcher and the Deploy API…</Text>
        </Group>
      )}
      {data && data.results.length === 0 && (
        <Paper withBorder p="lg">
          <Text>
            This profile has nothing to check: it lists no services, no dispatcher URL and no Deploy API URL. Add them
            to the profile in Settings, then press “Check now”.
          </Text>
        </Paper>
      )}
      {data && data.results.length > 0 && <BoardTable profileId={profileId} board={data} />}
      <ChangeNotices notices={notices} dismiss={dismiss} />
    </Stack>
  );
}

/** Health of every service of the active profile, the dispatcher and the Deploy API. */
export function HealthArea() {
  const appInfo = useAppInfo();
  const profileId = appInfo.isSuccess && appInfo.data.activeProfile !== '' ? appInfo.data.activeProfile : null;
  return (
    <Stack gap="md">
      <AreaHeader area={areaById('health')} />
      {appInfo.isPending && <Loader size="sm" aria-label="Loading the active profile" />}
      {appInfo.isSuccess && profileId === null && (
        <Paper withBorder p="lg">
          <Text>No profile is active. Choose or create one in Settings to check its services.</Text>
        </Paper>
      )}
      {profileId !== null && <HealthBoardView key={profileId} profileId={profileId} />}
    </Stack>
  );
}
