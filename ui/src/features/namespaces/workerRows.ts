import { formatLocalTime } from '../../components/time';
import type { WorkerRow, WorkerSortKey } from '../../ipc/types';

/** A column, and what the listing sorts by: the search, tag filter and sort are the listing's, in the app process (crates/switchyard-ops/src/worker_listing.rs). */
export type WorkerColumnKey = WorkerSortKey;

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
