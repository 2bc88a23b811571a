import { RowSearch } from '../../components/DataTable/useTableFilter';
import { formatLocalTime } from '../../components/time';
import type { WorkerRow } from '../../ipc/types';

export type WorkerColumnKey = 'name' | 'service' | 'environment' | 'version' | 'commit' | 'branch' | 'modified';

export type SortDirection = 'ascending' | 'descending';

export interface WorkerSort {
  key: WorkerColumnKey;
  direction: SortDirection;
}

export interface WorkerColumn {
  key: WorkerColumnKey;
  label: string;
  width: number;
  /** The cell's text ('' when the worker has no such tag). */
  text: (w: WorkerRow) => string;
  /** What the column sorts by. */
  sortValue: (w: WorkerRow) => string | number;
  mono?: boolean;
}

export function shortCommit(w: WorkerRow): string {
  return (w.commit ?? '').slice(0, 7);
}

export function modifiedMs(w: WorkerRow): number {
  const ms = Date.parse(w.modifiedOn ?? '');
  return Number.isNaN(ms) ? 0 : ms;
}

export function isoLocal(iso: string | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') {
    return '';
  }
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : formatLocalTime(ms);
}

export const WORKER_COLUMNS: readonly WorkerColumn[] = [
  { key: 'name', label: 'Name', width: 240, text: (w) => w.name, sortValue: (w) => w.name },
  { key: 'service', label: 'Service', width: 110, text: (w) => w.service ?? '', sortValue: (w) => w.service ?? '' },
  {
    key: 'environment',
    label: 'Env',
    width: 110,
    text: (w) => w.environment ?? '',
    sortValue: (w) => w.environment ?? '',
  },
  { key: 'version', label: 'Version', width: 100, text: (w) => w.version ?? '', sortValue: (w) => w.version ?? '' },
  { key: 'commit', label: 'Commit', width: 90, text: shortCommit, sortValue: shortCommit, mono: true },
  { key: 'branch', label: 'Branch', width: 120, text: (w) => w.branch ?? '', sortValue: (w) => w.branch ?? '' },
  { key: 'modified', label: 'Modified', width: 190, text: (w) => isoLocal(w.modifiedOn), sortValue: modifiedMs },
];

/** A stable sort (ties keep the back-end's by-name order). */
export function sortWorkers(rows: readonly WorkerRow[], sort: WorkerSort): WorkerRow[] {
  const column = WORKER_COLUMNS.find((c) => c.key === sort.key) ?? WORKER_COLUMNS[0];
  if (!column) {
    return [...rows];
  }
  const sign = sort.direction === 'ascending' ? 1 : -1;
  const keyed = rows.map((row, index) => ({ row, index, value: column.sortValue(row) }));
  keyed.sort((a, b) => {
    const cmp =
      typeof a.value === 'number' && typeof b.value === 'number'
        ? a.value - b.value
        : a.value < b.value
          ? -1
          : a.value > b.value
            ? 1
            : 0;
    return cmp !== 0 ? sign * cmp : a.index - b.index;
  });
  return keyed.map(({ row }) => row);
}

/** Each worker's name and tags, lowercased once and kept as long as the worker object lives. */
const haystacks = new WeakMap<WorkerRow, string>();

/** What a worker is found by: its name and tags. */
export function workerFields(w: WorkerRow): readonly string[] {
  return [w.name, ...w.tags];
}

/** What the search looks in: the worker's name and tags, lowercased, one per line. */
export function workerHaystack(w: WorkerRow): string {
  let haystack = haystacks.get(w);
  if (haystack === undefined) {
    haystack = workerFields(w).join('\n').toLowerCase();
    haystacks.set(w, haystack);
  }
  return haystack;
}

/** Keeps the workers that carry this tag exactly (null: all). */
export function withTag(tag: string | null): ((w: WorkerRow) => boolean) | null {
  return tag === null ? null : (w) => w.tags.includes(tag);
}

/**
 * The search over one sorted list, for repeated searches (one per keystroke): each worker's
 * haystack is lowercased once, not per keystroke. Same results as {@link filterWorkers}.
 */
export class WorkerSearch extends RowSearch<WorkerRow> {
  constructor(rows: readonly WorkerRow[]) {
    super(rows, workerFields, workerHaystack);
  }

  /**
   * Workers whose name or one of whose tags contains `search` (case-insensitive), and that carry
   * `tag` exactly when one is chosen.
   */
  override filter(search: string, tag: string | ((w: WorkerRow) => boolean) | null = null): readonly WorkerRow[] {
    return super.filter(search, typeof tag === 'string' ? withTag(tag) : tag);
  }
}

/**
 * Workers whose name or one of whose tags contains `search` (case-insensitive), and that carry
 * `tag` exactly when one is chosen.
 */
export function filterWorkers(rows: readonly WorkerRow[], search: string, tag: string | null): readonly WorkerRow[] {
  return new WorkerSearch(rows).filter(search, tag);
}

/** The tag keys the Tag filter offers (commits are one per worker: searching finds them better). */
const FILTER_KEYS = ['service', 'env', 'branch', 'version'] as const;

export interface TagGroup {
  key: string;
  tags: string[];
}

/** Distinct `service:`, `env:`, `branch:` and `version:` tags of the workers, grouped and sorted. */
export function tagGroups(rows: readonly WorkerRow[]): TagGroup[] {
  const seen = new Map<string, Set<string>>(FILTER_KEYS.map((k) => [k, new Set<string>()]));
  for (const w of rows) {
    for (const t of w.tags) {
      const colon = t.indexOf(':');
      if (colon <= 0 || colon === t.length - 1) {
        continue;
      }
      seen.get(t.slice(0, colon))?.add(t);
    }
  }
  return FILTER_KEYS.map((key) => ({ key, tags: [...(seen.get(key) ?? [])].sort() })).filter(
    (g) => g.tags.length > 0,
  );
}
