import { Button, Group, Loader, NativeSelect, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconRefresh, IconSearch } from '@tabler/icons-react';
import { useCallback, useDeferredValue, useMemo, useState } from 'react';

import { useTableFilter } from '../../components/DataTable';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { WorkerRow } from '../../ipc/types';
import type { NamespaceAsk } from './NamespacePanel';
import { WorkerDrawer } from './WorkerDrawer';
import {
  sortWorkers,
  tagGroups,
  workerFields,
  workerHaystack,
  type WorkerSort,
  withTag,
} from './workerRows';
import { useWorkerListing } from './workerListing';
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

/** The workers of one namespace: search, tag filter, sortable virtualized table, and a drawer. */
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
  // The asked worker opens once it has arrived (or once all have, when it is not there).
  if (ask?.script !== undefined && ask !== seenAsk && workers.data) {
    const asked = workers.data.rows.find((w) => w.name === ask.script);
    if (asked) {
      setSeenAsk(ask);
      setOpen(asked);
    } else if (workers.data.done) {
      setSeenAsk(ask);
    }
  }

  // Typing stays instant: filtering 10,000 rows follows at lower priority, never over IPC. The
  // keystroke's own render touches only the search field (the tag select, table and drawer are
  // memoized elements or components, skipped); the deferred one only the count and the table
  // rows that changed. Each worker's name and tags are lowercased once (soon after the list
  // shows), not per keystroke.
  const all = workers.data?.rows;
  const done = workers.data?.done ?? false;
  const groups = useMemo(() => tagGroups(all ?? []), [all]);
  const sorted = useMemo(() => sortWorkers(all ?? [], sort), [all, sort]);
  const keep = useMemo(() => withTag(tag === ALL_TAGS ? null : tag), [tag]);
  const deferredSearch = useDeferredValue(search);
  const shown = useTableFilter(sorted, deferredSearch, workerFields, keep, workerHaystack);

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

  const total = all?.length ?? 0;
  const filtering = deferredSearch.trim() !== '' || tag !== ALL_TAGS;
  // Still arriving: a page is on its way (not when a page failed: the error says so).
  const arriving = all !== undefined && !done && workers.isFetching;
  const stopped = all !== undefined && !done && workers.isError;

  return (
    <Stack gap="sm">
      {TITLE}
      <Group gap="md" align="flex-end" wrap="wrap">
        {searchInput}
        {tagSelect}
        {all && (
          <Text size="sm" aria-live="polite" pb={6}>
            {countText(shown.length, total, done ? 'done' : stopped ? 'stopped' : 'loading')}
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
          <Text size="sm">{progressText(total, expected)}</Text>
        </Group>
      )}
      {workers.isPending && (
        <Group gap="xs">
          <Loader size="sm" aria-hidden />
          <Text>Loading the workers of {namespace}…</Text>
        </Group>
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
      {all && total > 0 && shown.length === 0 && filtering && (
        <Paper withBorder p="lg">
          <Text>No workers match. Clear the search or choose “All tags” to see all {total}.</Text>
        </Paper>
      )}
      {all && shown.length > 0 && <WorkersTable rows={shown} sort={sort} onSort={setSort} onOpen={setOpen} />}
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
