import { memo, useEffect, useMemo } from 'react';

import { type DataColumn, DataTable, TextCell, useColumnSort } from '../../components/DataTable';
import type { WorkerRow } from '../../ipc/types';
import { WORKER_COLUMNS, type WorkerSort } from './workerRows';
import { markAfterPaint } from '../../perf';

export const WORKER_ROW_HEIGHT = 37;

/** Before the first measurement (and in environments without layout), assume a window's worth. */
const INITIAL_RECT = { width: 1000, height: WORKER_ROW_HEIGHT * 16 };

const COLUMNS: readonly DataColumn<WorkerRow>[] = WORKER_COLUMNS.map((column) => ({
  id: column.key,
  header: column.label,
  // The listing sorts (in the app process): the value here only makes the column sortable.
  accessorFn: column.sortValue,
  sortDescFirst: column.key === 'modified',
  cell: ({ row }) => <TextCell value={column.text(row.original)} mono={column.mono ?? false} />,
  meta: { width: column.width },
}));

interface WorkersTableProps {
  /** The rows fetched (filtered and sorted by the listing), the first at `offset`. */
  rows: readonly WorkerRow[];
  offset: number;
  /** How many workers match: the table's length. */
  count: number;
  /** The rows in view changed: [start, end). */
  onRange: (start: number, end: number) => void;
  sort: WorkerSort;
  /** A header clicked: sort by its column, or flip its order (Modified starts newest first). */
  onSort: (sort: WorkerSort) => void;
  onOpen: (worker: WorkerRow) => void;
}

const workerId = (worker: WorkerRow) => worker.name;

/**
 * The workers, in the shared DataTable by window: only the rows in view (and a margin) are
 * fetched from the listing and in the DOM, so 100,000 workers scroll as fast as 10. Headers sort; rows are reached with Tab, moved through with the arrow
 * keys, Home/End and Page Up/Down, opened with Enter, Space or a click, and copied with Ctrl/Cmd+C.
 * Memoized, as are its rows: typing in the search re-renders only rows that changed.
 */
function WorkersTableView({ rows, offset, count, onRange, sort, onSort, onOpen }: WorkersTableProps) {
  // For the large-namespace benchmark: when the first rows (the first page of a namespace still
  // loading) reached the screen, and when a list of this many rows first did.
  const fetched = rows.length > 0;
  useEffect(() => {
    if (count > 0 && fetched) {
      markAfterPaint('workers-first-rows');
      markAfterPaint(`workers-rows:${count}`);
    }
  }, [count, fetched]);

  const { sorting, onSortingChange } = useColumnSort(sort, onSort);
  const rowWindow = useMemo(
    () => ({ count, offset, onRangeChange: onRange, placeholderText: 'Loading…' }),
    [count, offset, onRange],
  );

  return (
    <DataTable
      label="Workers"
      rows={rows}
      rowWindow={rowWindow}
      columns={COLUMNS}
      rowId={workerId}
      rowHeight={WORKER_ROW_HEIGHT}
      sorting={sorting}
      onSortingChange={onSortingChange}
      onActivate={onOpen}
      copyText={workerText}
      className="sy-workers"
      scrollClassName="sy-workers-scroll"
      initialRect={INITIAL_RECT}
    />
  );
}

/** A worker as text: the table's columns, tab-separated. */
function workerText(worker: WorkerRow): string {
  return WORKER_COLUMNS.map((column) => column.text(worker)).join('\t');
}

/** Skipped while its rows, sort and handlers stay the same (a keystroke's urgent render). */
export const WorkersTable = memo(WorkersTableView);
