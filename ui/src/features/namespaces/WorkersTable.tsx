import { Group, Table, UnstyledButton } from '@mantine/core';
import { IconArrowDown, IconArrowUp, IconArrowsSort } from '@tabler/icons-react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, memo, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';

import type { WorkerRow } from '../../ipc/bindings';
import { WORKER_COLUMNS, type WorkerColumnKey, type WorkerSort } from './workerRows';
import { markAfterPaint } from '../../perf';

export const WORKER_ROW_HEIGHT = 37;

const ROW_STYLE = { height: WORKER_ROW_HEIGHT };

// Rows and cells are plain elements with Mantine's Table classes and data attributes (the same
// DOM and look as Table.Tr / Table.Td), and their text plain spans styled as <Text size="sm">
// (namespaces.css): a few hundred of them re-render as the search narrows, and Mantine's
// components cost far more per cell than the element they render.
const ROW_CLASS = `${Table.classes.tr ?? ''} mantine-Table-tr sy-worker-row`;
const CELL_CLASS = `${Table.classes.td ?? ''} mantine-Table-td sy-workers-cell`;

interface WorkersTableProps {
  /** Already filtered and sorted. */
  rows: readonly WorkerRow[];
  sort: WorkerSort;
  onSort: (key: WorkerColumnKey) => void;
  onOpen: (worker: WorkerRow) => void;
}

interface WorkerTableRowProps {
  worker: WorkerRow;
  index: number;
  /** The one row reached with Tab. */
  tabbable: boolean;
  onClick: (index: number, worker: WorkerRow) => void;
  onFocus: (index: number) => void;
  onKeyDown: (event: KeyboardEvent<HTMLTableRowElement>, index: number, worker: WorkerRow) => void;
}

/** One worker; re-renders only when its worker, position or tab stop changes. */
const WorkerTableRow = memo(WorkerTableRowView);

function WorkerTableRowView({
  worker,
  index,
  tabbable,
  onClick,
  onFocus,
  onKeyDown,
}: WorkerTableRowProps) {
  return (
    <tr
      className={ROW_CLASS}
      data-with-row-border="true"
      data-hover="true"
      data-index={index}
      aria-rowindex={index + 2}
      tabIndex={tabbable ? 0 : -1}
      style={ROW_STYLE}
      onClick={() => {
        onClick(index, worker);
      }}
      onFocus={() => {
        onFocus(index);
      }}
      onKeyDown={(event) => {
        onKeyDown(event, index, worker);
      }}
    >
      {WORKER_COLUMNS.map((column) => {
        const text = column.text(worker);
        return (
          <td key={column.key} className={CELL_CLASS}>
            {text === '' ? (
              <span className="sy-workers-text sy-workers-empty">—</span>
            ) : (
              <span className={column.mono ? 'sy-workers-text sy-workers-mono' : 'sy-workers-text'} title={text}>
                {text}
              </span>
            )}
          </td>
        );
      })}
    </tr>
  );
}

/** The sortable column headers; re-render only when the sort changes. */
const WorkersTableHead = memo(WorkersTableHeadView);

function WorkersTableHeadView({
  sort,
  onSort,
}: {
  sort: WorkerSort;
  onSort: (key: WorkerColumnKey) => void;
}) {
  return (
    <Table.Thead>
      <Table.Tr aria-rowindex={1}>
        {WORKER_COLUMNS.map((column) => {
          const sorted = sort.key === column.key;
          const Icon = sorted ? (sort.direction === 'ascending' ? IconArrowUp : IconArrowDown) : IconArrowsSort;
          return (
            <Table.Th key={column.key} scope="col" w={column.width} aria-sort={sorted ? sort.direction : 'none'}>
              <UnstyledButton
                onClick={() => {
                  onSort(column.key);
                }}
                className="sy-workers-sort"
              >
                <Group gap={4} wrap="nowrap">
                  <span>{column.label}</span>
                  <Icon size={14} aria-hidden opacity={sorted ? 1 : 0.5} />
                </Group>
              </UnstyledButton>
            </Table.Th>
          );
        })}
      </Table.Tr>
    </Table.Thead>
  );
}

/**
 * The workers, virtualized: only the rows in view are in the DOM (aria-rowcount says how many
 * there are), so 10,000 workers scroll as fast as 10. Headers sort; rows are reached with Tab,
 * moved through with the arrow keys, Home/End and Page Up/Down, and opened with Enter, Space or a
 * click. Memoized, as are its rows: typing in the search re-renders only rows that changed.
 */
function WorkersTableView({ rows, sort, onSort, onOpen }: WorkersTableProps) {
  const [active, setActive] = useState(0);
  const activeIndex = Math.min(active, Math.max(rows.length - 1, 0));
  const scrollRef = useRef<HTMLDivElement>(null);
  const bodyRef = useRef<HTMLTableSectionElement>(null);
  const pendingFocus = useRef<number | null>(null);
  // The rows the keyboard moves through, for the row handlers (kept the same across renders so
  // the memoized rows need not re-render).
  const rowCount = useRef(rows.length);
  useLayoutEffect(() => {
    rowCount.current = rows.length;
  }, [rows.length]);

  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read during render by design.
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => WORKER_ROW_HEIGHT,
    // A few rows beyond the view keep scrolling smooth; each one more is layout and paint on every change.
    overscan: 4,
    // Before the first measurement (and in environments without layout), assume a window's worth.
    initialRect: { width: 1000, height: WORKER_ROW_HEIGHT * 16 },
  });

  // For the large-namespace benchmark: when a list of this many rows first reached the screen.
  const count = rows.length;
  useEffect(() => {
    if (count > 0) {
      markAfterPaint(`workers-rows:${count}`);
    }
  }, [count]);

  // Focus follows the keyboard once the row it moved to is rendered.
  useEffect(() => {
    const index = pendingFocus.current;
    if (index === null) {
      return;
    }
    const row = bodyRef.current?.querySelector<HTMLElement>(`tr[data-index="${index}"]`);
    if (row) {
      pendingFocus.current = null;
      row.focus();
    }
  });

  const onRowClick = useCallback(
    (index: number, worker: WorkerRow) => {
      setActive(index);
      onOpen(worker);
    },
    [onOpen],
  );

  const onRowFocus = useCallback((index: number) => {
    setActive(index);
  }, []);

  const onRowKeyDown = useCallback(
    (event: KeyboardEvent<HTMLTableRowElement>, index: number, worker: WorkerRow) => {
      const last = rowCount.current - 1;
      const viewHeight = scrollRef.current?.clientHeight ?? 0;
      const pageSize = Math.max(
        1,
        Math.floor((viewHeight > 0 ? viewHeight : WORKER_ROW_HEIGHT * 10) / WORKER_ROW_HEIGHT) - 1,
      );
      const moves: Record<string, number> = {
        ArrowDown: index + 1,
        ArrowUp: index - 1,
        Home: 0,
        End: last,
        PageDown: index + pageSize,
        PageUp: index - pageSize,
      };
      const target = moves[event.key];
      if (target !== undefined) {
        event.preventDefault();
        const to = Math.max(0, Math.min(last, target));
        setActive(to);
        pendingFocus.current = to;
        virtualizer.scrollToIndex(to, { align: 'auto' });
      } else if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        onOpen(worker);
      }
    },
    [onOpen, virtualizer],
  );

  const items = virtualizer.getVirtualItems();
  const first = items[0];
  const last = items[items.length - 1];
  const paddingTop = first ? first.start : 0;
  const paddingBottom = last ? virtualizer.getTotalSize() - last.end : 0;

  return (
    <div ref={scrollRef} className="sy-workers-scroll" data-virtual-scroller="">
      <Table
        stickyHeader
        highlightOnHover
        withTableBorder
        layout="fixed"
        verticalSpacing={0}
        aria-label="Workers"
        aria-rowcount={rows.length + 1}
        className="sy-workers"
      >
        <WorkersTableHead sort={sort} onSort={onSort} />
        <Table.Tbody ref={bodyRef}>
          {paddingTop > 0 && (
            <tr aria-hidden="true" style={{ height: paddingTop }}>
              <td colSpan={WORKER_COLUMNS.length} />
            </tr>
          )}
          {items.map((item) => {
            const worker = rows[item.index];
            if (!worker) {
              return null;
            }
            return (
              <WorkerTableRow
                key={worker.name}
                worker={worker}
                index={item.index}
                tabbable={item.index === activeIndex}
                onClick={onRowClick}
                onFocus={onRowFocus}
                onKeyDown={onRowKeyDown}
              />
            );
          })}
          {paddingBottom > 0 && (
            <tr aria-hidden="true" style={{ height: paddingBottom }}>
              <td colSpan={WORKER_COLUMNS.length} />
            </tr>
          )}
        </Table.Tbody>
      </Table>
    </div>
  );
}

/** Skipped while its rows, sort and handlers stay the same (a keystroke's urgent render). */
export const WorkersTable = memo(WorkersTableView);
