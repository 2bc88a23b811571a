import { Button, Group, Loader, NativeSelect, Paper, Stack, Tabs, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconFileTypeCsv, IconJson, IconRefresh, IconSearch } from '@tabler/icons-react';
import { type InfiniteData, keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useMemo, useState } from 'react';

import { areaById } from '../../shell/areas';
import { useNavigation } from '../../shell/navigation';
import { AreaHeader } from '../../components/AreaHeader';
import { ErrorNotice } from '../../components/ErrorNotice';
import { commands } from '../../ipc/bindings';
import type { AppError, AuditCursor, AuditFilter, AuditPage, AuditRow, ExportFormat, ProfileSummary } from '../../ipc/types';
import { callCommand } from '../../ipc/errors';
import { useAppInfo } from '../../ipc/queries';
import {
  actionChoices,
  APP_WIDE,
  type AuditFilters,
  isFiltered,
  localInputMs,
  NO_FILTERS,
  OUTCOME_CHOICES,
  TIME_RANGES,
  type TimeRange,
  toAuditFilter,
} from './auditModel';
import { TimelinePanel } from '../timeline/TimelinePanel';
import { AuditTable } from './AuditTable';
import './audit.css';

/** Entries per page: a screenful many times over, and a query of a few milliseconds. */
export const AUDIT_PAGE_SIZE = 200;
/** While an action runs, the list is read again this often, so its end shows. */
const RUNNING_REFRESH_MS = 3000;

const auditKey = ['audit'] as const;

/**
 * Where the next page starts: how many entries come before it, and the last of them (its time
 * and number), so the log seeks to it instead of skipping `offset` entries.
 */
type AuditPageParam = { offset: number; after: AuditCursor | null };

/** The next page's start: after the last entry loaded (null when it lacks its key). */
export function nextAuditPage(pages: readonly AuditPage[]): AuditPageParam | undefined {
  const last = pages.at(-1);
  const loaded = pages.reduce((n, p) => n + p.entries.length, 0);
  if (last === undefined || last.entries.length === 0 || loaded >= last.total) {
    return undefined;
  }
  const end = last.entries.at(-1);
  const after = end?.atMs != null && end.seq != null ? { atMs: end.atMs, seq: end.seq } : null;
  return { offset: loaded, after };
}

/** The entries `filter` selects, a page at a time: the first page brings the total. */
function useAuditPages(filter: AuditFilter) {
  return useInfiniteQuery<AuditPage, AppError, InfiniteData<AuditPage, AuditPageParam>, readonly unknown[], AuditPageParam>({
    queryKey: [...auditKey, filter],
    queryFn: ({ pageParam }) =>
      callCommand(() =>
        commands.listAudit({
          ...filter,
          limit: AUDIT_PAGE_SIZE,
          offset: pageParam.offset,
          ...(pageParam.after === null ? {} : { after: pageParam.after }),
        }),
      ),
    initialPageParam: { offset: 0, after: null },
    getNextPageParam: (_last, pages) => nextAuditPage(pages),
    placeholderData: keepPreviousData,
    refetchInterval: (query) =>
      query.state.data?.pages[0]?.entries.some((e) => e.status === 'started') ? RUNNING_REFRESH_MS : false,
  });
}

/**
 * How many entries match. The log counts up to 2,000 past the page; beyond, it says "2,000+"
 * and counts exactly when asked.
 */
function AuditCount({ filter, page }: { filter: AuditFilter; page: AuditPage }) {
  /** The filter whose exact count was asked for (another filter asks again). */
  const [askedFor, setAskedFor] = useState<AuditFilter | null>(null);
  const asked = askedFor === filter && !page.totalExact;
  const exact = useQuery<AuditPage, AppError, number>({
    queryKey: [...auditKey, 'count', filter],
    queryFn: () => callCommand(() => commands.listAudit({ ...filter, limit: 1, offset: 0, exactCount: true })),
    select: (p) => p.total,
    enabled: asked,
    staleTime: Infinity,
  });
  const counted = asked && exact.isSuccess;
  return (
    <Group gap="xs">
      <Text size="sm" aria-live="polite" id="sy-audit-count">
        {page.totalExact
          ? plural(page.total, 'entry', 'entries')
          : counted
            ? plural(exact.data, 'entry', 'entries')
            : `${page.total.toLocaleString('en-US')}+ entries`}
      </Text>
      {!page.totalExact && !counted && (
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
      {asked && exact.isError && <ErrorNotice error={exact.error} context="Counting the entries" />}
    </Group>
  );
}

/** Export every entry the filter selects (not only those loaded) where the save dialog says. */
function useExportAudit() {
  const client = useQueryClient();
  return useMutation<string | null, AppError, { filter: AuditFilter; format: ExportFormat }>({
    mutationFn: ({ filter, format }) =>
      callCommand(() => commands.exportAudit({ ...filter, limit: null, offset: null }, format)),
    // The export is itself recorded.
    onSuccess: () => client.invalidateQueries({ queryKey: auditKey }),
  });
}

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

function FilterBar({
  filters,
  profiles,
  actions,
  onChange,
}: {
  filters: AuditFilters;
  profiles: readonly ProfileSummary[];
  actions: readonly string[];
  onChange: (filters: AuditFilters) => void;
}) {
  const from = localInputMs(filters.from);
  const to = localInputMs(filters.to);
  const backwards = from !== null && to !== null && to < from;
  // An action chosen before the list changed stays a choice.
  const actionList = filters.action !== '' && !actions.includes(filters.action) ? [...actions, filters.action] : actions;
  return (
    <Stack gap="xs">
      <Group gap="sm" align="flex-end" wrap="wrap">
        <NativeSelect
          label="Time"
          value={filters.time}
          data={TIME_RANGES.map((r) => ({ value: r.value, label: r.label }))}
          onChange={(event) => {
            onChange({ ...filters, time: event.currentTarget.value as TimeRange });
          }}
          w={160}
        />
        {filters.time === 'custom' && (
          <>
            <TextInput
              type="datetime-local"
              label="From"
              value={filters.from}
              onChange={(event) => {
                onChange({ ...filters, from: event.currentTarget.value });
              }}
              w={210}
            />
            <TextInput
              type="datetime-local"
              label="To"
              value={filters.to}
              error={backwards ? 'To is before From: swap them.' : undefined}
              onChange={(event) => {
                onChange({ ...filters, to: event.currentTarget.value });
              }}
              w={210}
            />
          </>
        )}
        <NativeSelect
          // Not "Profile": that is the top bar's switcher of the active profile.
          label="For profile"
          value={filters.profile}
          data={[
            { value: '', label: 'All profiles' },
            ...profiles.map((p) => ({ value: p.id, label: p.name })),
            { value: APP_WIDE, label: 'App-wide (settings)' },
          ]}
          onChange={(event) => {
            onChange({ ...filters, profile: event.currentTarget.value });
          }}
          w={190}
        />
        <NativeSelect
          label="Action"
          value={filters.action}
          data={actionChoices(actionList)}
          onChange={(event) => {
            onChange({ ...filters, action: event.currentTarget.value });
          }}
          w={210}
        />
        <NativeSelect
          label="Outcome"
          value={filters.outcome}
          data={[{ value: '', label: 'Any' }, ...OUTCOME_CHOICES]}
          onChange={(event) => {
            onChange({ ...filters, outcome: event.currentTarget.value as AuditFilters['outcome'] });
          }}
          w={140}
        />
        <TextInput
          label="Search"
          value={filters.text}
          leftSection={<IconSearch size={16} aria-hidden />}
          placeholder="target, parameters, message, actor…"
          onChange={(event) => {
            onChange({ ...filters, text: event.currentTarget.value });
          }}
          w={260}
        />
        {isFiltered(filters) && (
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
    </Stack>
  );
}

function ExportButtons({ filter }: { filter: AuditFilter }) {
  const exporter = useExportAudit();
  const busy = exporter.isPending ? exporter.variables.format : null;
  return (
    <Stack gap={4} align="flex-end">
      <Group gap="sm">
        <Button
          variant="default"
          leftSection={<IconFileTypeCsv size={16} aria-hidden />}
          loading={busy === 'csv'}
          disabled={busy !== null}
          onClick={() => {
            exporter.mutate({ filter, format: 'csv' });
          }}
        >
          Export CSV…
        </Button>
        <Button
          variant="default"
          leftSection={<IconJson size={16} aria-hidden />}
          loading={busy === 'json'}
          disabled={busy !== null}
          onClick={() => {
            exporter.mutate({ filter, format: 'json' });
          }}
        >
          Export JSON…
        </Button>
      </Group>
      {/* A cancelled dialog saved nothing, and says nothing. */}
      {exporter.isSuccess && exporter.data !== null && (
        <Text size="sm" role="status">{`Saved to ${exporter.data}`}</Text>
      )}
      {exporter.isError && <ErrorNotice error={exporter.error} context="Exporting the audit log" />}
    </Stack>
  );
}

type AuditTab = 'log' | 'timeline';

/**
 * The Audit area: the audit log (the default tab) and the incident timeline beside it. A request
 * to open a timeline (a run's "Open timeline") lands on the Timeline tab.
 */
export function AuditArea() {
  const { target } = useNavigation();
  const [tab, setTab] = useState<AuditTab>(target?.timeline ? 'timeline' : 'log');
  const [seenTarget, setSeenTarget] = useState(target);
  if (target !== seenTarget) {
    setSeenTarget(target);
    if (target?.timeline) {
      setTab('timeline');
    }
  }
  return (
    <Tabs
      value={tab}
      keepMounted={false}
      onChange={(value) => {
        setTab(value === 'timeline' ? 'timeline' : 'log');
      }}
    >
      <Stack gap="md">
        <AreaHeader area={areaById('audit')} />
        <Tabs.List aria-label="Audit views">
          <Tabs.Tab value="log">Audit log</Tabs.Tab>
          <Tabs.Tab value="timeline">Timeline</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="log">
          <AuditLog />
        </Tabs.Panel>
        <Tabs.Panel value="timeline">
          <TimelinePanel target={target?.timeline} />
        </Tabs.Panel>
      </Stack>
    </Tabs>
  );
}

/** Every action taken through the app, of every profile: who, what, to what, how it ended. */
function AuditLog() {
  const appInfo = useAppInfo();
  const client = useQueryClient();
  const [filters, setFiltersState] = useState<AuditFilters>(NO_FILTERS);
  // "Last hour" counts back from when it was chosen (or the list refreshed), not from every render.
  const [nowMs, setNowMs] = useState(() => Date.now());
  const setFilters = useCallback((next: AuditFilters) => {
    setNowMs(Date.now());
    setFiltersState(next);
  }, []);
  const [debouncedText] = useDebouncedValue(filters.text, 250);
  const filter = useMemo(() => toAuditFilter(filters, debouncedText, nowMs), [filters, debouncedText, nowMs]);
  const audit = useAuditPages(filter);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = audit;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) {
      void fetchNextPage();
    }
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const profiles = useMemo(() => appInfo.data?.profiles ?? [], [appInfo.data]);
  const profileName = useCallback(
    (id: string) => (id === '' ? 'App-wide' : (profiles.find((p) => p.id === id)?.name ?? id)),
    [profiles],
  );
  const rows = useMemo(() => {
    // Should an entry be on two pages (one without its key is read by offset), show it once.
    const seen = new Set<number>();
    const out: AuditRow[] = [];
    for (const page of audit.data?.pages ?? []) {
      for (const e of page.entries) {
        const seq = e.seq ?? -1;
        if (!seen.has(seq)) {
          seen.add(seq);
          out.push(e);
        }
      }
    }
    return out;
  }, [audit.data]);
  const first = audit.data?.pages[0];
  const total = first?.total ?? 0;
  /** The table scrolls on while the latest page says more match (a bounded count grows). */
  const tableTotal = Math.max(audit.data?.pages.at(-1)?.total ?? total, rows.length);
  const actions = first?.actions ?? [];
  const filtered = isFiltered(filters);

  return (
    <Stack gap="md">
      <Group gap="sm" align="flex-start" justify="flex-end">
        <ExportButtons filter={filter} />
        <Button
          variant="default"
          leftSection={<IconRefresh size={16} aria-hidden />}
          onClick={() => {
            setNowMs(Date.now());
            void client.invalidateQueries({ queryKey: auditKey });
          }}
        >
          Refresh
        </Button>
      </Group>
      <Text size="sm" c="dimmed">
        Times are this computer&apos;s. Each action is listed when it starts (“running”) and completed when it
        ends. Parameters named like a key or token are recorded as ***; a key saved is recorded by its kind,
        never its value.
      </Text>
      <FilterBar filters={filters} profiles={profiles} actions={actions} onChange={setFilters} />
      {audit.isPending ? (
        <Group gap="xs" role="status">
          <Loader size="sm" aria-hidden />
          <Text size="sm">Reading the audit log…</Text>
        </Group>
      ) : audit.isError ? (
        <ErrorNotice
          error={audit.error}
          context="Reading the audit log"
          onRetry={() => {
            void audit.refetch();
          }}
        />
      ) : total === 0 ? (
        <Paper withBorder p="lg" radius="md">
          {filtered ? (
            <Group gap="sm" justify="space-between">
              <Text size="sm">No entries match these filters. Change or clear the filters.</Text>
              <Button
                variant="light"
                size="xs"
                onClick={() => {
                  setFilters(NO_FILTERS);
                }}
              >
                Clear filters
              </Button>
            </Group>
          ) : (
            <Text size="sm">
              Nothing has been recorded yet. Every action taken in Switchyard is listed here as it starts and when it
              ends: deploys, rollbacks and restores, namespace and worker changes, key and profile changes, settings,
              runbook runs and rehearsal faults. Deploy, sync the history or change a setting, then come back.
            </Text>
          )}
        </Paper>
      ) : (
        <>
          {first && <AuditCount filter={filter} page={first} />}
          <AuditTable
            rows={rows}
            total={tableTotal}
            profileName={profileName}
            onNeedMore={loadMore}
            loadingMore={isFetchingNextPage}
            describedBy="sy-audit-count"
          />
        </>
      )}
    </Stack>
  );
}
