import { Alert, Button, Group, Loader, NativeSelect, Paper, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useIsMutating, useQuery } from '@tanstack/react-query';
import { IconAlertTriangle, IconClockHour4, IconRefresh, IconSearch } from '@tabler/icons-react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

import { activeProfileOf } from '../../shell/environment';
import { areaById } from '../../shell/areas';
import { type NavigationTarget, useNavigation } from '../../shell/navigation';
import { AreaHeader } from '../../components/AreaHeader';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatAsOf, useNow } from '../../components/time';
import { commands } from '../../ipc/bindings';
import { callCommand } from '../../ipc/errors';
import type { AppError, Deployment, DeploymentFilter, DeploymentStatus, Environment, HistoryPage, SyncProgress, SyncReport, WindowFailure } from '../../ipc/types';
import {
  autoSyncTried,
  needsAutoSync,
  syncHistoryKey,
  useHistoryAutoSync,
  useProfileHistorySync,
} from '../../ipc/history';
import { queryKeys, useAppInfo, useHistoryPages, useProfiles } from '../../ipc/queries';
import { DeploymentDrawer } from './DeploymentDrawer';
import { ExportMenu } from './ExportMenu';
import { LiveSplits } from './LiveSplits';
import type { Sort } from './deploymentColumns';
import { DeploymentsTable } from './DeploymentsTable';
import { SyncProgressView } from './SyncProgressView';

const ENVIRONMENTS: readonly Environment[] = ['production', 'staging', 'development'];
const STATUSES: readonly DeploymentStatus[] = ['deployed', 'failed', 'rolled_back'];

interface Filters {
  service: string;
  environment: string;
  status: string;
  failuresOnly: boolean;
  text: string;
}

const NO_FILTERS: Filters = { service: '', environment: '', status: '', failuresOnly: false, text: '' };

const NEWEST_FIRST: Sort = { key: 'time', direction: 'descending' };

/** What the cache is asked for (the page, limit and offset, is added per page). */
function toDeploymentFilter(filters: Filters, text: string, sort: Sort): DeploymentFilter {
  const status = filters.failuresOnly ? 'failed' : filters.status;
  const filter: DeploymentFilter = {};
  if (sort !== NEWEST_FIRST) filter.sort = { key: sort.key, descending: sort.direction === 'descending' };
  if (filters.service !== '') filter.service = filters.service;
  if (filters.environment !== '') filter.environment = filters.environment as Environment;
  if (status !== '') filter.status = status as DeploymentStatus;
  if (text.trim() !== '') filter.text = text.trim();
  return filter;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function syncSummary(report: SyncReport): string {
  const resumed = report.resumed > 0 ? ` (${report.resumed} already synced by the sync that stopped before its end)` : '';
  const base = `Synced ${plural(report.windows, 'window', 'windows')}${resumed}: ${report.inserted} new, ${report.updated} changed`;
  return report.statusChanges > 0 ? `${base} (${plural(report.statusChanges, 'status change', 'status changes')}).` : `${base}.`;
}

function FailingWindows({ failures }: { failures: readonly WindowFailure[] }) {
  return (
    <Alert
      role="alert"
      color="yellow"
      variant="light"
      icon={<IconAlertTriangle aria-hidden />}
      title={`${plural(failures.length, 'window', 'windows')} could not be synced`}
    >
      <Text size="sm">For these, the cache shows what it had before the failed sync:</Text>
      <ul style={{ margin: '4px 0 0', paddingInlineStart: 20 }}>
        {failures.map((f) => (
          <li key={f.window}>
            <Text size="sm">
              <Text span fw={600} size="sm">
                {f.window}
              </Text>
              : {f.message}
            </Text>
          </li>
        ))}
      </ul>
    </Alert>
  );
}

function FilterBar({
  filters,
  services,
  onChange,
}: {
  filters: Filters;
  services: readonly string[];
  onChange: (filters: Filters) => void;
}) {
  return (
    <Group gap="sm" align="flex-end" wrap="wrap">
      <NativeSelect
        label="Service"
        value={filters.service}
        data={[{ value: '', label: 'Any' }, ...services.map((s) => ({ value: s, label: s }))]}
        onChange={(event) => {
          onChange({ ...filters, service: event.currentTarget.value });
        }}
        w={150}
      />
      <NativeSelect
        label="Environment"
        value={filters.environment}
        data={[{ value: '', label: 'Any' }, ...ENVIRONMENTS.map((e) => ({ value: e, label: e }))]}
        onChange={(event) => {
          onChange({ ...filters, environment: event.currentTarget.value });
        }}
        w={150}
      />
      <NativeSelect
        label="Status"
        value={filters.failuresOnly ? 'failed' : filters.status}
        disabled={filters.failuresOnly}
        data={[{ value: '', label: 'Any' }, ...STATUSES.map((s) => ({ value: s, label: s }))]}
        onChange={(event) => {
          onChange({ ...filters, status: event.currentTarget.value });
        }}
        w={150}
      />
      <Switch
        label="Failures only"
        checked={filters.failuresOnly}
        onChange={(event) => {
          onChange({ ...filters, failuresOnly: event.currentTarget.checked });
        }}
        mb={8}
      />
      <TextInput
        label="Search"
        value={filters.text}
        leftSection={<IconSearch size={16} aria-hidden />}
        placeholder="id, service, tag, commit, branch, author…"
        onChange={(event) => {
          onChange({ ...filters, text: event.currentTarget.value });
        }}
        w={280}
      />
      {filters !== NO_FILTERS && (
        <Button
          variant="subtle"
          size="sm"
          mb={2}
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

/**
 * How many deployments match. The cache counts up to 2,000 past the page (a million rows take
 * ~80 ms to count); beyond, it says "2,000+" and counts exactly when asked.
 */
function MatchCount({ profileId, filter, page }: { profileId: string; filter: DeploymentFilter; page: HistoryPage }) {
  /** The filter whose exact count was asked for (another filter asks again). */
  const [askedFor, setAskedFor] = useState<DeploymentFilter | null>(null);
  const asked = askedFor === filter && !page.totalExact;
  const exact = useQuery<HistoryPage, AppError, number>({
    queryKey: [...queryKeys.history(profileId), 'count', filter],
    queryFn: () => callCommand(() => commands.queryHistory(profileId, { ...filter, limit: 1, offset: 0, exactCount: true })),
    select: (p) => p.total,
    enabled: asked,
    staleTime: Infinity,
  });
  if (page.totalExact) {
    return (
      <Text size="sm" aria-live="polite">
        {plural(page.total, 'deployment', 'deployments')}
      </Text>
    );
  }
  return (
    <Group gap="xs">
      <Text size="sm" aria-live="polite">
        {asked && exact.isSuccess ? plural(exact.data, 'deployment', 'deployments') : `${page.total.toLocaleString('en-US')}+ deployments`}
      </Text>
      {!(asked && exact.isSuccess) && (
        <Button
          variant="subtle"
          size="compact-sm"
          loading={asked && exact.isFetching}
          onClick={() => {
            setAskedFor(filter);
          }}
        >
          Count exactly
        </Button>
      )}
      {asked && exact.isError && <ErrorNotice error={exact.error} context="Counting the deployments" />}
    </Group>
  );
}

/** Requests to sync (the command palette's "Sync history") already acted on: each syncs once. */
const syncsDone = new WeakSet<NavigationTarget>();

function HistoryView({
  profileId,
  services,
  environment,
}: {
  profileId: string;
  services: readonly string[];
  environment: Environment;
}) {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [sort, setSort] = useState<Sort>(NEWEST_FIRST);
  const [debouncedText] = useDebouncedValue(filters.text, 250);
  const filter = useMemo(() => toDeploymentFilter(filters, debouncedText, sort), [filters, debouncedText, sort]);
  const history = useHistoryPages(profileId, filter);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = history;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) {
      void fetchNextPage();
    }
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const [progress, setProgress] = useState<SyncProgress | null>(null);
  const sync = useProfileHistorySync(profileId, setProgress);
  /** Syncs of this profile in flight, this view's or one started before it opened. */
  const syncing = useIsMutating({ mutationKey: syncHistoryKey(profileId) }) > 0;
  /** Whether the last sync started here was an automatic one (its error says so). */
  const automatic = sync.variables?.automatic ?? false;
  const { target } = useNavigation();
  const startSync = sync.mutate;
  useEffect(() => {
    if (target?.sync && !syncsDone.has(target)) {
      syncsDone.add(target);
      if (!syncing) {
        startSync({ automatic: false });
      }
    }
  }, [target, profileId, startSync, syncing]);
  const autoSync = useHistoryAutoSync();
  const autoSyncMinutes = autoSync.data;
  /** Decided once per opening, on the first answer of the cache. */
  const autoSyncDecided = useRef(false);
  const firstAsOf = history.isSuccess ? (history.data.pages[0]?.asOfMs ?? null) : undefined;
  useEffect(() => {
    if (autoSyncDecided.current || firstAsOf === undefined || autoSyncMinutes === undefined) return;
    autoSyncDecided.current = true;
    const now = Date.now();
    const lastTry = autoSyncTried.get(profileId);
    const triedLately = lastTry !== undefined && !needsAutoSync(lastTry, autoSyncMinutes, now);
    if (syncing || triedLately || !needsAutoSync(firstAsOf, autoSyncMinutes, now)) return;
    autoSyncTried.set(profileId, now);
    startSync({ automatic: true });
  }, [firstAsOf, autoSyncMinutes, profileId, startSync, syncing]);
  const [open, setOpen] = useState<Deployment | null>(null);
  const now = useNow();

  const page = history.data?.pages[0];
  const rows = useMemo(() => {
    // Pages are offsets into the cache: should a row move between two pages, show it once.
    const seen = new Set<string>();
    const out: Deployment[] = [];
    for (const p of history.data?.pages ?? []) {
      for (const d of p.deployments) {
        if (!seen.has(d.id)) {
          seen.add(d.id);
          out.push(d);
        }
      }
    }
    return out;
  }, [history.data]);
  const filtered = filter.service !== undefined || filter.environment !== undefined || filter.status !== undefined || filter.text !== undefined;
  const failures = useMemo(() => {
    const byWindow = new Map<string, WindowFailure>();
    for (const f of page?.failingWindows ?? []) byWindow.set(f.window, f);
    if (sync.isSuccess) for (const f of sync.data.failures) byWindow.set(f.window, f);
    return [...byWindow.values()];
  }, [page, sync.isSuccess, sync.data]);
  const asOfMs = page?.asOfMs ?? null;
  const count = page?.total ?? 0;
  /** The table scrolls on while the latest page says more match (a bounded count grows). */
  const tableTotal = history.data?.pages.at(-1)?.total ?? count;

  return (
    <Stack gap="md">
      <AreaHeader
        area={areaById('deployments')}
        actions={
          <Group gap="sm">
            <ExportMenu profileId={profileId} filter={filter} />
            <Button
              leftSection={<IconRefresh size={16} aria-hidden />}
              loading={syncing}
              onClick={() => {
                if (syncing) return;
                setProgress(null);
                sync.mutate({ automatic: false });
              }}
            >
              Sync history
            </Button>
          </Group>
        }
      />
      <Group gap={6}>
        <IconClockHour4 size={16} aria-hidden />
        <Text size="sm">
          {history.isPending
            ? 'As of …'
            : asOfMs !== null
              ? formatAsOf(asOfMs, now)
              : count > 0
                ? 'Never synced: these are only the deployments this app made. Sync history for the rest.'
                : 'Never synced'}
        </Text>
      </Group>
      {syncing && <SyncProgressView progress={sync.isPending ? progress : null} />}
      {sync.isSuccess && (
        <Text size="sm" role="status">
          {syncSummary(sync.data)}
        </Text>
      )}
      {sync.isError && (
        <>
          <ErrorNotice error={sync.error} context={automatic ? 'Syncing history automatically' : 'Syncing history'} />
          {automatic && <Text size="sm">Press Sync history to try again.</Text>}
        </>
      )}
      {failures.length > 0 && <FailingWindows failures={failures} />}
      <LiveSplits profileId={profileId} environment={environment} />
      <FilterBar filters={filters} services={services} onChange={setFilters} />
      {history.isPending ? (
        <Group gap="xs">
          <Loader size="sm" aria-hidden />
          <Text size="sm">Reading the history cache…</Text>
        </Group>
      ) : history.isError ? (
        <ErrorNotice
          error={history.error}
          context="Reading the history cache"
          onRetry={() => {
            void history.refetch();
          }}
        />
      ) : count === 0 ? (
        <Paper withBorder p="lg" radius="md">
          <Text size="sm">
            {filtered
              ? 'No cached deployments match these filters. Change or clear the filters.'
              : syncing
                ? 'Fetching the deployments from the Deploy API…'
                : asOfMs === null
                ? 'No deployments cached for this profile yet. Press Sync history to fetch them from the Deploy API.'
                : 'The Deploy API reported no deployments for this profile. Press Sync history to check again.'}
          </Text>
        </Paper>
      ) : (
        <>
          {page && <MatchCount profileId={profileId} filter={filter} page={page} />}
          <DeploymentsTable
            deployments={rows}
            total={Math.max(tableTotal, rows.length)}
            sort={sort}
            onSort={setSort}
            onOpen={setOpen}
            onNeedMore={loadMore}
            loadingMore={isFetchingNextPage}
          />
        </>
      )}
      <DeploymentDrawer
        profileId={profileId}
        deployment={open}
        onClose={() => {
          setOpen(null);
        }}
      />
    </Stack>
  );
}

/** What is deployed where: the active profile's cached deployment history, synced on demand. */
export function DeploymentsArea() {
  const appInfo = useAppInfo();
  const profiles = useProfiles();
  if (!appInfo.isSuccess) {
    return (
      <Stack gap="md">
        <AreaHeader area={areaById('deployments')} />
        {appInfo.isPending && <Text size="sm">Loading the active profile…</Text>}
      </Stack>
    );
  }
  const active = activeProfileOf(appInfo.data.profiles, appInfo.data.activeProfile);
  if (!active) {
    return (
      <Stack gap="md">
        <AreaHeader area={areaById('deployments')} />
        <Text size="sm">No profile is active. Add one in Settings, then choose it in the top bar.</Text>
      </Stack>
    );
  }
  const services = profiles.data?.find((p) => p.id === active.id)?.services ?? [];
  return <HistoryView key={active.id} profileId={active.id} services={services} environment={active.environment} />;
}
