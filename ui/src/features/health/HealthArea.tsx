import {
  Badge,
  Button,
  Group,
  Loader,
  NativeSelect,
  Paper,
  Stack,
  Text,
} from '@mantine/core';
import { IconBook2, IconRefresh } from '@tabler/icons-react';
import { useContext, useMemo } from 'react';

import { activeProfileOf } from '../../shell/environment';
import { type Navigation, NavigationContext } from '../../shell/navigation';
import { areaById } from '../../shell/areas';
import { AreaHeader } from '../../components/AreaHeader';
import { type DataColumn, DataTable, type RowAttributes } from '../../components/DataTable';
import { ErrorNotice } from '../../components/ErrorNotice';
import { OpenRunbookButton } from '../../components/OpenRunbookButton';
import { formatLocalTime, formatRelative, useNow } from '../../components/time';
import type { HealthBoard, HealthStatus, ServiceHealth } from '../../ipc/types';
import { SPARKLINE_WINDOW_MS, useHealthHistory } from '../../ipc/health';
import { useAppInfo } from '../../ipc/queries';
import './health.css';

import { LogsButton } from '../logs/LogsButton';
import { SandboxRuntimeView, SuspectBanners } from './HealthBanners';
import { CHECK_INTERVALS, useHealthMonitor } from './HealthMonitor';
import { Sparkline } from './Sparkline';

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

/** A service that answers: one line per cell. */
const BOARD_ROW_HEIGHT = 45;
/** A down service shows why, its runbook section and the incident timeline. */
const DOWN_ROW_HEIGHT = 120;

const serviceName = (result: ServiceHealth) => result.name;
const boardRowAttributes = (result: ServiceHealth): RowAttributes => ({ 'data-state': result.state });
const boardRowHeight = (result: ServiceHealth) => (result.state === 'down' ? DOWN_ROW_HEIGHT : BOARD_ROW_HEIGHT);

function DetailsCell({
  profileId,
  result,
  now,
  navigation,
}: {
  profileId: string;
  result: ServiceHealth;
  now: number;
  navigation: Navigation | null;
}) {
  if (result.state !== 'down') {
    return (
      <Text size="xs" c="dimmed" title={result.url}>
        {result.url}
      </Text>
    );
  }
  return (
    <Stack gap={2}>
      {result.detail !== null && <Text size="sm">{result.detail}</Text>}
      {typeof result.runbook === 'string' && (
        <Group gap={6}>
          <Group gap={4} wrap="nowrap">
            <IconBook2 size={14} aria-hidden />
            <Text size="sm">Runbook section: “{result.runbook}”</Text>
          </Group>
          {navigation && <OpenRunbookButton section={result.runbook} navigation={navigation} />}
        </Group>
      )}
      {navigation && (
        <Group>
          <Button
            size="compact-xs"
            variant="subtle"
            aria-label={`Open the incident timeline of ${result.name}`}
            onClick={() => {
              // From 15 minutes before it went down (or the last hour) to now.
              const since = (result.lastChangeMs ?? now - 45 * 60_000) - 15 * 60_000;
              navigation.navigate('audit', { timeline: { profileId, sinceMs: since } });
            }}
          >
            Incident timeline
          </Button>
        </Group>
      )}
    </Stack>
  );
}

function boardColumns(
  profileId: string,
  checkedAtMs: number | null,
  now: number,
  navigation: Navigation | null,
): DataColumn<ServiceHealth>[] {
  return [
    {
      id: 'name',
      header: 'Name',
      meta: { rowHeader: true, width: 170 },
      cell: ({ row: { original: result } }) => (
        <>
          <Text span size="sm" fw={600}>
            {result.name}
          </Text>
          {result.kind !== 'service' && (
            <Text span size="xs" c="dimmed" ml={6}>
              {result.kind === 'dispatcher' ? '(dispatcher)' : '(Deploy API)'}
            </Text>
          )}
        </>
      ),
    },
    { id: 'status', header: 'Status', meta: { width: 110 }, cell: ({ row }) => <StatusBadge state={row.original.state} /> },
    {
      id: 'http',
      header: 'HTTP code',
      meta: { width: 96, cellClassName: 'sy-health-mono' },
      cell: ({ row }) => row.original.httpStatus ?? '—',
    },
    {
      id: 'latency',
      header: 'Latency (ms)',
      meta: { width: 110, cellClassName: 'sy-health-mono' },
      cell: ({ row }) => row.original.latencyMs,
    },
    {
      id: 'lastChange',
      header: 'Last change',
      meta: { width: 150 },
      cell: ({ row }) => (
        <Text span size="sm" title={lastChangeTitle(row.original)}>
          {lastChangeText(row.original, now)}
        </Text>
      ),
    },
    {
      id: 'history',
      header: 'Last hour',
      meta: { width: 150 },
      cell: ({ row }) => <HistoryCell profileId={profileId} result={row.original} checkedAtMs={checkedAtMs} />,
    },
    {
      id: 'details',
      header: 'Details',
      cell: ({ row }) => <DetailsCell profileId={profileId} result={row.original} now={now} navigation={navigation} />,
    },
    {
      id: 'logs',
      header: 'Logs',
      meta: { width: 90 },
      cell: ({ row }) => (row.original.kind === 'service' ? <LogsButton service={row.original.name} /> : null),
    },
  ];
}

function BoardTable({ profileId, board }: { profileId: string; board: HealthBoard }) {
  const now = useNow();
  // Inside the window (not in a bare component test) a down service's runbook section opens.
  const navigation = useContext(NavigationContext);
  const checkedAtMs = board.checkedAtMs ?? null;
  const columns = useMemo(
    () => boardColumns(profileId, checkedAtMs, now, navigation),
    [profileId, checkedAtMs, now, navigation],
  );
  return (
    <DataTable
      label="Service health"
      rows={board.results}
      columns={columns}
      rowId={serviceName}
      rowHeight={BOARD_ROW_HEIGHT}
      estimateRowHeight={boardRowHeight}
      rowAttributes={boardRowAttributes}
      className="sy-health-board"
      scrollClassName="sy-table-auto"
      wrapCells
      verticalSpacing="xs"
    />
  );
}

function HealthBoardView({ profileId }: { profileId: string }) {
  const { interval, setInterval: setIntervalChoice, board } = useHealthMonitor();
  const intervalMs = Number(interval);
  const now = useNow(10_000);
  const data = board.data;
  const checkedAtMs = data?.checkedAtMs ?? null;

  return (
    <Stack gap="md">
      <SuspectBanners board={data} />
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
    </Stack>
  );
}

/** Health of every service of the active profile, the dispatcher and the Deploy API. */
export function HealthArea() {
  const appInfo = useAppInfo();
  const profileId = appInfo.isSuccess && appInfo.data.activeProfile !== '' ? appInfo.data.activeProfile : null;
  const active = appInfo.isSuccess ? activeProfileOf(appInfo.data.profiles, appInfo.data.activeProfile) : undefined;
  return (
    <Stack gap="md">
      <AreaHeader area={areaById('health')} />
      {active?.sandbox && <SandboxRuntimeView />}
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
