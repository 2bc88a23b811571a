import { Button, Group, Loader, NativeSelect, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconRefresh, IconSearch } from '@tabler/icons-react';
import { useCallback, useMemo, useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import type { WorkerRow } from '../../ipc/types';
import type { NamespaceAsk } from './NamespacePanel';
import { WorkerDrawer } from './WorkerDrawer';
import type { WorkerSort } from './workerRows';
import { useWorkerListing, useWorkerWindow } from './workerListing';
import { WorkersTable } from './WorkersTable';

const ALL_TAGS = '';

const TAG_GROUP_LABEL: Record<string, string> = {
  service: 'Service',
  env: 'Env',
  branch: 'Branch',
  version: 'Version',
};

// Elements that never change, so React skips them when the section re-renders on a keystroke.
const TITLE = <Title order={3}>Workers</Title>;
const SEARCH_ICON = <IconSearch size={16} aria-hidden />;
const NO_GROUPS: NonNullable<ReturnType<typeof useWorkerWindow>['groups']> = [];

/**
 * The workers of one namespace: search, tag filter, sortable virtualized table, and a drawer.
 * The workers stay in the app process (a listing, see workerListing.ts): each keystroke, tag,
 * sort or scroll asks it for the count and the rows in view.
 */
export function WorkersSection({
  profileId,
  namespace,
  ask = null,
  expected = null,
}: {
  profileId: string;
  namespace: string;
  /** How many workers the namespace says it has (its `script_count`), for the progress line. */
  expected?: number | null;
  /** A worker asked for (the command palette's "Open worker gateway"): its drawer opens once listed. */
  ask?: NamespaceAsk | null;
}) {
  const workers = useWorkerListing(profileId, namespace);
  const [search, setSearch] = useState('');
  const [tag, setTag] = useState(ALL_TAGS);
  const [sort, setSort] = useState<WorkerSort>({ key: 'name', direction: 'ascending' });
  const [open, setOpen] = useState<WorkerRow | null>(null);
  const [seenAsk, setSeenAsk] = useState<NamespaceAsk | null>(null);
  const wanted = ask?.script !== undefined && ask !== seenAsk ? ask.script : null;
  const { refetch } = workers;
  const reopen = useCallback(() => {
    void refetch();
  }, [refetch]);
  // Each keystroke is one query to the listing, answered with the count and the rows in view.
  const view = useWorkerWindow(
    workers.data,
    { search, tag: tag === ALL_TAGS ? null : tag, sort, find: wanted },
    reopen,
  );
  const answer = view.window;
  // The asked worker opens once it has arrived (or once all have, when it is not there).
  if (ask !== null && wanted !== null && answer && view.answeredFind === wanted) {
    if (answer.found) {
      setSeenAsk(ask);
      setOpen(answer.found);
    } else if (answer.done) {
      setSeenAsk(ask);
    }
  }

  const all = answer ?? undefined;
  const done = answer?.done ?? false;
  const groups = view.groups ?? NO_GROUPS;

  const onCloseDrawer = useCallback(() => {
    setOpen(null);
  }, []);

  // One <option> per distinct service/env/branch/version tag (thousands in a large namespace):
  // built once per list, not per keystroke.
  const loaded = all !== undefined;
  const searchInput = useMemo(
    () => (
      <TextInput
        label="Search workers"
        placeholder="Name or tag, e.g. gateway or branch:main"
        leftSection={SEARCH_ICON}
        value={search}
        onChange={(event) => {
          setSearch(event.currentTarget.value);
        }}
        w={320}
        disabled={!loaded}
      />
    ),
    [search, loaded],
  );
  const tagSelect = useMemo(
    () => (
      <NativeSelect
        label="Tag"
        value={tag}
        onChange={(event) => {
          setTag(event.currentTarget.value);
        }}
        w={240}
        disabled={!loaded}
      >
        <option value={ALL_TAGS}>All tags</option>
        {groups.map((group) => (
          <optgroup key={group.key} label={TAG_GROUP_LABEL[group.key] ?? group.key}>
            {group.tags.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </optgroup>
        ))}
      </NativeSelect>
    ),
    [groups, tag, loaded],
  );
  const drawer = useMemo(
    () => <WorkerDrawer profileId={profileId} namespace={namespace} worker={open} onClose={onCloseDrawer} />,
    [profileId, namespace, open, onCloseDrawer],
  );

  const total = answer?.total ?? 0;
  const matching = answer?.matching ?? 0;
  const loadedCount = workers.data?.loaded ?? 0;
  const filtering = search.trim() !== '' || tag !== ALL_TAGS;
  // Still arriving: a page is on its way (not when a page failed: the error says so).
  const arriving = workers.data !== undefined && !workers.data.done && workers.isFetching;
  const stopped = all !== undefined && !done && workers.isError;

  return (
    <Stack gap="sm">
      {TITLE}
      <Group gap="md" align="flex-end" wrap="wrap">
        {searchInput}
        {tagSelect}
        {all && (
          <Text size="sm" aria-live="polite" pb={6}>
            {countText(matching, total, done ? 'done' : stopped ? 'stopped' : 'loading')}
          </Text>
        )}
        {all && (
          <Button
            variant="default"
            size="xs"
            mb={4}
            leftSection={<IconRefresh size={14} aria-hidden />}
            loading={workers.isFetching}
            disabled={arriving}
            onClick={() => {
              void workers.refetch();
            }}
          >
            Refresh workers
          </Button>
        )}
      </Group>

      {arriving && (
        <Group gap="xs" role="status">
          <Loader size="xs" aria-hidden />
          <Text size="sm">{progressText(Math.max(loadedCount, total), expected)}</Text>
        </Group>
      )}
      {(workers.isPending || (workers.data !== undefined && all === undefined && !workers.isError)) && (
        <Group gap="xs">
          <Loader size="sm" aria-hidden />
          <Text>Loading the workers of {namespace}…</Text>
        </Group>
      )}
      {view.error && (
        <ErrorNotice
          error={view.error}
          context="Showing the workers"
          onRetry={() => {
            void workers.refetch();
          }}
        />
      )}
      {workers.isError && (
        <ErrorNotice
          error={workers.error}
          context={stopped ? `Loading the rest of the workers (${fmt(total)} listed)` : 'Loading workers'}
          onRetry={() => {
            void workers.refetch();
          }}
        />
      )}
      {all && done && total === 0 && (
        <Paper withBorder p="lg">
          <Text>
            {namespace} has no workers yet. Deploy a service to it (the Deploy area, or the Deploy API) and its worker
            appears here.
          </Text>
        </Paper>
      )}
      {all && total > 0 && matching === 0 && filtering && (
        <Paper withBorder p="lg">
          <Text>No workers match. Clear the search or choose “All tags” to see all {total}.</Text>
        </Paper>
      )}
      {all && matching > 0 && (
        <WorkersTable
          rows={all.rows}
          offset={all.offset}
          count={matching}
          sort={sort}
          onSort={setSort}
          onOpen={setOpen}
          onRange={view.onRange}
        />
      )}
      {drawer}
    </Stack>
  );
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** "12 of 40 workers"; until all have arrived, says the count is of those listed so far. */
export function countText(shown: number, total: number, listing: 'done' | 'loading' | 'stopped'): string {
  const counted = `${fmt(shown)} of ${fmt(total)}`;
  return listing === 'done'
    ? `${counted} workers`
    : `${counted} listed so far (${listing === 'loading' ? 'still loading' : 'listing stopped'})`;
}

/**
 * "12,000 of ~100,000 loaded…": the namespace's own count, when it gave one, is what the list
 * is expected to reach (it may have changed since); without one, only what has arrived.
 */
export function progressText(loaded: number, expected: number | null): string {
  return expected !== null && expected >= loaded
    ? `${fmt(loaded)} of ~${fmt(expected)} workers loaded…`
    : `${fmt(loaded)} workers loaded…`;
}
