import { memo, useEffect } from 'react';

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
  // The parent sorts (sortWorkers): the value here only makes the column sortable.
  accessorFn: column.sortValue,
  sortDescFirst: column.key === 'modified',
  cell: ({ row }) => <TextCell value={column.text(row.original)} mono={column.mono ?? false} />,
  meta: { width: column.width },
}));

interface WorkersTableProps {
  /** Already filtered and sorted. */
  rows: readonly WorkerRow[];
  sort: WorkerSort;
  /** A header clicked: sort by its column, or flip its order (Modified starts newest first). */
  onSort: (sort: WorkerSort) => void;
  onOpen: (worker: WorkerRow) => void;
}

const workerId = (worker: WorkerRow) => worker.name;

/**
 * The workers, in the shared DataTable: only the rows in view are in the DOM, so 10,000 workers
 * scroll as fast as 10. Headers sort; rows are reached with Tab, moved through with the arrow
 * keys, Home/End and Page Up/Down, opened with Enter, Space or a click, and copied with Ctrl/Cmd+C.
 * Memoized, as are its rows: typing in the search re-renders only rows that changed.
 */
function WorkersTableView({ rows, sort, onSort, onOpen }: WorkersTableProps) {
  // For the large-namespace benchmark: when the first rows (the first page of a namespace still
  // loading) reached the screen, and when a list of this many rows first did.
  const count = rows.length;
  useEffect(() => {
    if (count > 0) {
      markAfterPaint('workers-first-rows');
      markAfterPaint(`workers-rows:${count}`);
    }
  }, [count]);

  const { sorting, onSortingChange } = useColumnSort(sort, onSort);

  return (
    <DataTable
      label="Workers"
      rows={rows}
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
