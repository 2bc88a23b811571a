import { Group, Loader, Table, type TableProps, Text, UnstyledButton } from '@mantine/core';
import { IconArrowDown, IconArrowUp, IconArrowsSort } from '@tabler/icons-react';
import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  type Header,
  type Row,
  type RowData,
  type SortingState,
  type Updater,
  useReactTable,
} from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import {
  type HTMLAttributes,
  type KeyboardEvent,
  memo,
  type ReactNode,
  type UIEvent,
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react';

import { markOnce } from '../../perf';
import './dataTable.css';

declare module '@tanstack/react-table' {
  // Type parameters must match tanstack's declaration to merge with it.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface ColumnMeta<TData extends RowData, TValue> {
    /** The column's width: pixels, or any CSS width (set on a <colgroup>, which every engine honours). */
    width?: number | string;
    /** Class of each of the column's cells. */
    cellClassName?: string | ((row: TData) => string | undefined);
    /** Tooltip of each of the column's cells. */
    cellTitle?: (row: TData) => string | undefined;
    /** The column names its rows: its cells are row headers (<th scope="row">). */
    rowHeader?: boolean;
  }
}

/** A column of a {@link DataTable}: TanStack Table's own definition (id, header, cell, meta). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- columns of different value types in one list, as TanStack Table types them.
export type DataColumn<T> = ColumnDef<T, any>;

export type { SortingState };

/** Attributes a table gives one of its rows (class, data-*, aria-expanded…); its height is the table's. */
export type RowAttributes = Omit<HTMLAttributes<HTMLTableRowElement>, 'style'> &
  Record<`data-${string}`, string | undefined>;

/** Ask for the next page this many rows before the end of those loaded. */
const PREFETCH_ROWS = 60;

/**
 * A row's key for the virtualizer when rows are fetched by window: its position. A key that
 * stays the same function spares the virtualizer re-placing every row (all `count` of them)
 * each time a window arrives.
 */
const positionKey = (index: number) => index;

/** Height of a row of a short (not virtual) table with no `rowHeight`: one line of small text. */
const SHORT_ROW_HEIGHT = 36;

/**
 * The size of the default scrolling box (`.sy-virtual-scroll` in dataTable.css: the window's
 * height less 420 px, at least 320 px) before it is laid out: the first render places the rows
 * that will be in view, and the virtualizer's first reading of the box changes nothing.
 */
function defaultBoxRect(): { width: number; height: number } {
  return { width: window.innerWidth, height: Math.max(320, window.innerHeight - 420) };
}

/** The first table mounted has marked its first commit (see markOnce). */
let firstTableMarked = false;

/** Within this many pixels of the end, a following view follows new rows. */
const FOLLOW_SLACK = 48;

// Rows and cells are plain elements with Mantine's Table classes and data attributes (the same
// DOM and look as Table.Tr / Table.Td): thousands of them re-render as a search narrows, and
// Mantine's components cost far more per cell than the element they render.
const ROW_CLASS = `${Table.classes.tr ?? ''} mantine-Table-tr sy-table-row`;
const CELL_CLASS = `${Table.classes.td ?? ''} mantine-Table-td sy-table-cell`;

/**
 * Rows fetched a window at a time (the list lives elsewhere, e.g. in the app process): the table
 * is `count` rows long, `rows` are those fetched, the first at `offset`; a row not fetched yet
 * shows as a placeholder until it is. `onRangeChange` says which rows are in view (start
 * inclusive, end exclusive) so the caller fetches them.
 */
export interface RowWindow {
  count: number;
  offset: number;
  onRangeChange: (start: number, end: number) => void;
  /** What a row not fetched yet says. */
  placeholderText?: string;
}

export interface DataTableProps<T> {
  /** The table's accessible name. */
  label: string;
  /** The id of what describes the table (e.g. how many rows match). */
  describedBy?: string;
  /** The rows loaded so far, in the order shown unless the table sorts them itself. */
  rows: readonly T[];
  columns: readonly DataColumn<T>[];
  /** A row's stable id (React key, and the key its measured height is kept under). */
  rowId: (row: T, index: number) => string;
  /** How many rows there are in all (more than `rows` when they are loaded page by page). */
  total?: number;
  /** Rows fetched by window: `rows` are those of the window (see {@link RowWindow}). */
  rowWindow?: RowWindow;
  /**
   * Height of a row; rows are that tall unless `estimateRowHeight` says otherwise. A short table
   * (`virtual={false}`) may leave it out: its rows are as tall as their content.
   */
  rowHeight?: number;
  /** Rows of varying height: their height until measured (and where nothing is laid out). */
  estimateRowHeight?: (row: T) => number;

  /**
   * The sort, when the caller sorts (the cache sorts every matching row, not only those loaded):
   * with `onSortingChange` the rows are shown as given. Without it, sortable columns sort the
   * rows here.
   */
  sorting?: SortingState;
  onSortingChange?: (sorting: SortingState) => void;

  /** Enter, Space or a click on a row. */
  onActivate?: (row: T, index: number) => void;
  /** A row as text, for Ctrl/Cmd+C (what is selected is copied instead when text is selected). */
  copyText?: (row: T) => string;
  /** Extra attributes of a row: class, data-*, aria-expanded… */
  rowAttributes?: (row: T, index: number) => RowAttributes;
  /** A second <tr> under a row (an open row's details, spanning every column), or null. */
  renderDetail?: (row: T, index: number) => ReactNode;

  /** Asked when the rows in view come near the end of those loaded (and `total` is not reached). */
  onNeedMore?: () => void;
  loadingMore?: boolean;
  /** Shown in a last row while more load. */
  loadingMoreText?: string;

  /**
   * The view follows the last row as rows are added while this is true; scrolling up (the
   * operator, not rows measured taller) turns it off through `onFollowChange`, reaching the
   * end turns it back on.
   */
  follow?: boolean;
  onFollowChange?: (follow: boolean) => void;

  /** Class of the <table>. */
  className?: string;
  /** Class of the scrolling box (its height). */
  scrollClassName?: string;
  /** Makes the scrolling box a labelled region reached with Tab (when the rows are not). */
  scrollRegionLabel?: string;
  verticalSpacing?: TableProps['verticalSpacing'];
  highlightOnHover?: boolean;
  /** Cells wrap their text (rows grow) rather than cut it at the edge with an ellipsis. */
  wrapCells?: boolean;
  /** Before the first measurement (and where nothing is laid out), the size of the view. */
  initialRect?: { width: number; height: number };
  /**
   * False for a short list (a worker's bindings, a plan's answers): every row is rendered and the
   * box is as tall as its rows (`sy-table-auto`), so nothing scrolls inside the page. Sorting,
   * keyboard navigation and copy are the same.
   */
  virtual?: boolean;
}

interface DataRowProps<T> {
  row: Row<T>;
  /** The table's columns, only compared (sameRow): new ones (cells showing other state) re-render every row. */
  columns: readonly DataColumn<T>[];
  index: number;
  /** Rows that can be focused: the one reached with Tab, -1 for the others; null: not focusable. */
  tabIndex: number | null;
  rowCount: boolean;
  highlightOnHover: boolean;
  height: number | undefined;
  measure: ((element: HTMLTableSectionElement | null) => void) | undefined;
  attributes: RowAttributes | undefined;
  detail: ReactNode;
  onClick: ((index: number) => void) | undefined;
  onFocus: (index: number) => void;
  onKeyDown: (event: KeyboardEvent<HTMLTableRowElement>, index: number) => void;
}

function cellClass<T>(row: T, className: string | ((row: T) => string | undefined) | undefined): string {
  const extra = typeof className === 'function' ? className(row) : className;
  return extra ? `${CELL_CLASS} ${extra}` : CELL_CLASS;
}

function DataRowView<T>({
  row,
  index,
  tabIndex,
  rowCount,
  highlightOnHover,
  height,
  measure,
  attributes,
  detail,
  onClick,
  onFocus,
  onKeyDown,
}: DataRowProps<T>) {
  const original = row.original;
  const { className, ...rest } = attributes ?? {};
  return (
    <tbody ref={measure} data-item-index={index}>
      <tr
        {...rest}
        className={className ? `${ROW_CLASS} ${className}` : ROW_CLASS}
        data-with-row-border="true"
        data-hover={highlightOnHover ? 'true' : undefined}
        data-index={index}
        data-row-index={index}
        data-activatable={onClick ? 'true' : undefined}
        aria-rowindex={rowCount ? index + 2 : undefined}
        tabIndex={tabIndex ?? undefined}
        // A table row's height is a minimum: the estimate, grown by wrapped text.
        style={height === undefined ? undefined : { height }}
        onClick={
          onClick &&
          (() => {
            onClick(index);
          })
        }
        onFocus={() => {
          onFocus(index);
        }}
        onKeyDown={
          tabIndex === null
            ? undefined
            : (event) => {
                onKeyDown(event, index);
              }
        }
      >
        {row.getVisibleCells().map((cell) => {
          const meta = cell.column.columnDef.meta;
          const Cell = meta?.rowHeader ? 'th' : 'td';
          return (
            <Cell
              key={cell.id}
              scope={meta?.rowHeader ? 'row' : undefined}
              className={cellClass(original, meta?.cellClassName)}
              title={meta?.cellTitle?.(original)}
            >
              {flexRender(cell.column.columnDef.cell, cell.getContext())}
            </Cell>
          );
        })}
      </tr>
      {detail}
    </tbody>
  );
}

function sameAttributes(a: RowAttributes | undefined, b: RowAttributes | undefined): boolean {
  if (a === b) {
    return true;
  }
  if (!a || !b) {
    return false;
  }
  const keys = Object.keys(a) as (keyof RowAttributes)[];
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/**
 * Re-render a row only when what it shows changed: its item (TanStack Table makes new Row objects
 * for new data, around the same items), position, tab stop, attributes and handlers.
 */
function sameRow<T>(a: DataRowProps<T>, b: DataRowProps<T>): boolean {
  return (Object.keys(a) as (keyof DataRowProps<T>)[]).every((key) => {
    if (key === 'row') {
      return a.row.original === b.row.original && a.row.id === b.row.id;
    }
    return key === 'attributes' ? sameAttributes(a.attributes, b.attributes) : a[key] === b[key];
  });
}

const DataRow = memo(DataRowView, sameRow) as typeof DataRowView;

interface SortHeaderProps<T> {
  header: Header<T, unknown>;
  /** The column's sort (given, so a header re-renders only when its sort changes). */
  sorted: false | 'asc' | 'desc';
  onSort: (header: Header<T, unknown>) => void;
}

function SortHeaderView<T>({ header, sorted, onSort }: SortHeaderProps<T>) {
  const label = flexRender(header.column.columnDef.header, header.getContext());
  if (!header.column.getCanSort()) {
    return (
      <Table.Th scope="col" className="sy-table-th">
        {label}
      </Table.Th>
    );
  }
  const Icon = sorted === 'asc' ? IconArrowUp : sorted === 'desc' ? IconArrowDown : IconArrowsSort;
  return (
    <Table.Th
      scope="col"
      className="sy-table-th"
      aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none'}
    >
      <UnstyledButton
        className="sy-sort-button"
        onClick={() => {
          onSort(header);
        }}
      >
        <Group gap={4} wrap="nowrap">
          <span>{label}</span>
          <Icon size={14} aria-hidden opacity={sorted ? 1 : 0.5} />
        </Group>
      </UnstyledButton>
    </Table.Th>
  );
}

/** Skipped when the table re-renders for new rows (a keystroke's search): same header, same sort. */
const SortHeader = memo(SortHeaderView) as typeof SortHeaderView;

/** Text selected inside `element`, if any. */
function selectedTextIn(element: HTMLElement): string {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || selection.rangeCount === 0) {
    return '';
  }
  const range = selection.getRangeAt(0);
  return element.contains(range.commonAncestorContainer) ? selection.toString() : '';
}

/**
 * One table for every list of the window: TanStack Table's columns and sorting over TanStack
 * Virtual's rows (only the rows in view are in the DOM; aria-rowcount says how many there are).
 * Sortable column headers are buttons and say their order (aria-sort). When rows can be opened or
 * copied, they are reached with Tab, moved through with the arrow keys, Home/End and Page Up/Down,
 * opened with Enter, Space or a click, and copied with Ctrl/Cmd+C — the row as tab-separated text,
 * or the text selected in it (one cell's value, say). Rows loaded page by page ask for more near
 * the end; a following table keeps the newest (last) row in view until the operator scrolls up.
 */
export function DataTable<T>({
  label,
  describedBy,
  rows: data,
  columns,
  rowId,
  total,
  rowWindow,
  rowHeight: rowHeightProp,
  estimateRowHeight,
  sorting: sortingProp,
  onSortingChange,
  onActivate,
  copyText,
  rowAttributes,
  renderDetail,
  onNeedMore,
  loadingMore = false,
  loadingMoreText = 'Loading more…',
  follow,
  onFollowChange,
  className,
  scrollClassName: scrollClassNameProp,
  scrollRegionLabel,
  verticalSpacing = 0,
  highlightOnHover = true,
  wrapCells = false,
  initialRect,
  virtual = true,
}: DataTableProps<T>) {
  // For the cold-start benchmark: when the first table's first render starts.
  markOnce('table-render');
  const rowHeight = rowHeightProp ?? SHORT_ROW_HEIGHT;
  const scrollClassName = scrollClassNameProp ?? (virtual ? 'sy-virtual-scroll' : 'sy-table-auto');
  const [ownSorting, setOwnSorting] = useState<SortingState>([]);
  const manual = onSortingChange !== undefined;
  const sorting = useMemo(() => (manual ? (sortingProp ?? []) : ownSorting), [manual, sortingProp, ownSorting]);
  const setSorting = useCallback(
    (updater: Updater<SortingState>) => {
      const next = typeof updater === 'function' ? updater(sorting) : updater;
      if (onSortingChange) {
        onSortingChange(next);
      } else {
        setOwnSorting(next);
      }
    },
    [sorting, onSortingChange],
  );

  // eslint-disable-next-line react-hooks/incompatible-library -- the table is read during render by design.
  const table = useReactTable<T>({
    data: data as T[],
    columns: columns as DataColumn<T>[],
    getRowId: (row, index) => rowId(row, index),
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: manual ? undefined : getSortedRowModel(),
    manualSorting: manual,
    state: { sorting },
    onSortingChange: setSorting,
    enableMultiSort: false,
    enableSortingRemoval: false,
    // Ascending first unless a column says otherwise (times: newest first).
    sortDescFirst: false,
  });
  const rows = table.getRowModel().rows;
  // By window: the table is `count` rows long and `rows` start at `offset`.
  const windowOffset = rowWindow?.offset ?? 0;
  const itemCount = rowWindow ? rowWindow.count : rows.length;
  const rowAt = useCallback(
    (index: number): Row<T> | undefined => rows[index - windowOffset],
    [rows, windowOffset],
  );
  const leafColumns = table.getVisibleLeafColumns();
  const columnCount = leafColumns.length;

  const interactive = onActivate !== undefined || copyText !== undefined;
  const [active, setActive] = useState(0);
  const activeIndex = Math.min(active, Math.max(itemCount - 1, 0));
  const scrollRef = useRef<HTMLDivElement>(null);
  const tableRef = useRef<HTMLTableElement>(null);
  const pendingFocus = useRef<number | null>(null);
  // What the row handlers read, kept current without changing the handlers (memoized rows).
  const latest = useRef({ rowAt, itemCount, onActivate, copyText });
  useLayoutEffect(() => {
    latest.current = { rowAt, itemCount, onActivate, copyText };
  });

  const heightOf = useCallback(
    (row: T | undefined) => (row !== undefined && estimateRowHeight ? estimateRowHeight(row) : rowHeight),
    [estimateRowHeight, rowHeight],
  );
  const measured = virtual && estimateRowHeight !== undefined;

  // For the cold-start benchmark (the first table's first commit): when its layout effects
  // start, what the first style and layout of the page cost (read here, before the virtualizer
  // reads the box's size, which would force them anyway), and when they end.
  useLayoutEffect(() => {
    if (firstTableMarked) {
      return;
    }
    firstTableMarked = true;
    markOnce('table-layout-start');
    const box = scrollRef.current;
    if (box) {
      // The page's styles alone (no layout), then its layout.
      getComputedStyle(box).getPropertyValue('color');
      markOnce('table-first-style');
      box.getBoundingClientRect();
    }
    markOnce('table-first-layout');
  }, []);

  const virtualizer = useVirtualizer({
    // A short table renders every row itself: the virtualizer has none to place.
    count: virtual ? itemCount : 0,
    getScrollElement: () => scrollRef.current,
    getItemKey: rowWindow ? positionKey : (index) => rowAt(index)?.id ?? index,
    estimateSize: (index) => heightOf(rowAt(index)?.original),
    indexAttribute: 'data-item-index',
    measureElement: (element) => {
      const height = element.getBoundingClientRect().height;
      if (height > 0) {
        return height;
      }
      const row = latest.current.rowAt(Number((element as HTMLElement).dataset.itemIndex));
      return heightOf(row?.original);
    },
    // A few rows beyond the view keep scrolling smooth; each one more is layout and paint on every change.
    overscan: 4,
    initialRect: initialRect ?? (virtual && scrollClassNameProp === undefined ? defaultBoxRect() : undefined),
  });
  useLayoutEffect(() => {
    markOnce('table-layout-end');
  }, []);

  // A row's estimate changed (opened, closed, a stack shown): measure again.
  useEffect(() => {
    if (measured) {
      virtualizer.measure();
    }
  }, [measured, heightOf, renderDetail, virtualizer]);

  const virtualItems = virtualizer.getVirtualItems();
  const items = useMemo(
    () => (virtual ? virtualItems : rows.map((_, index) => ({ index, start: 0, end: 0 }))),
    [virtual, virtualItems, rows],
  );
  const lastInView = items[items.length - 1]?.index ?? 0;
  const firstInView = items[0]?.index ?? 0;
  const nearEnd =
    rowWindow === undefined && total !== undefined && rows.length < total && lastInView >= rows.length - PREFETCH_ROWS;
  // By window: the caller fetches the rows in view.
  const onRangeChange = rowWindow?.onRangeChange;
  const inView = items.length;
  useEffect(() => {
    if (inView > 0) {
      onRangeChange?.(firstInView, lastInView + 1);
    }
  }, [onRangeChange, firstInView, lastInView, inView]);
  useEffect(() => {
    if (nearEnd && !loadingMore) {
      onNeedMore?.();
    }
  }, [nearEnd, loadingMore, onNeedMore, rows.length]);

  // Focus follows the keyboard once the row it moved to is rendered.
  useEffect(() => {
    const index = pendingFocus.current;
    if (index === null) {
      return;
    }
    const row = tableRef.current?.querySelector<HTMLElement>(`tr[data-index="${index}"]:not([data-placeholder])`);
    if (row) {
      pendingFocus.current = null;
      row.focus();
    }
  });

  // Following: the end is chased again when rows are added and when measured rows change the
  // total height (a wrapped line is taller than estimated).
  const count = itemCount;
  const totalSize = virtualizer.getTotalSize();
  useEffect(() => {
    if (!follow || count === 0) {
      return;
    }
    // After the frame: the scroll it causes re-renders the view, which must not happen mid-commit.
    const frame = window.requestAnimationFrame(() => {
      virtualizer.scrollToIndex(count - 1, { align: 'end' });
    });
    return () => {
      window.cancelAnimationFrame(frame);
    };
  }, [follow, count, totalSize, virtualizer]);

  const lastTop = useRef(0);
  const onScroll =
    onFollowChange &&
    ((event: UIEvent<HTMLDivElement>) => {
      const box = event.currentTarget;
      const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - FOLLOW_SLACK;
      const movedUp = box.scrollTop < lastTop.current - 2;
      lastTop.current = box.scrollTop;
      if (atEnd) {
        if (!follow) {
          onFollowChange(true);
        }
        return;
      }
      // Only scrolling up stops the following: rows measured taller than their estimate push
      // the end further down without anyone scrolling, and that keeps following.
      if (movedUp && follow) {
        onFollowChange(false);
      }
    });

  const onRowFocus = useCallback((index: number) => {
    setActive(index);
  }, []);

  const onRowClick = useCallback((index: number) => {
    setActive(index);
    const row = latest.current.rowAt(index);
    if (row) {
      latest.current.onActivate?.(row.original, index);
    }
  }, []);

  const onRowKeyDown = useCallback(
    (event: KeyboardEvent<HTMLTableRowElement>, index: number) => {
      const { rowAt: current, itemCount: length, onActivate: activate, copyText: copy } = latest.current;
      const row = current(index);
      // Keys typed in a control of the row (a field, a button) are that control's.
      if (!row || event.target !== event.currentTarget) {
        return;
      }
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'c') {
        if (!copy) {
          return;
        }
        // Copy what is selected: text chosen in the row (a cell's value), else the row as it reads.
        event.preventDefault();
        const selected = selectedTextIn(event.currentTarget);
        void navigator.clipboard.writeText(selected !== '' ? selected : copy(row.original));
        return;
      }
      const last = length - 1;
      const viewHeight = scrollRef.current?.clientHeight ?? 0;
      const pageSize = Math.max(1, Math.floor((viewHeight > 0 ? viewHeight : rowHeight * 10) / rowHeight) - 1);
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
        if (virtual) {
          virtualizer.scrollToIndex(to, { align: 'auto' });
        }
      } else if ((event.key === 'Enter' || event.key === ' ') && activate) {
        event.preventDefault();
        activate(row.original, index);
      }
    },
    [rowHeight, virtual, virtualizer],
  );

  const onSort = useCallback(
    (header: Header<T, unknown>) => {
      setActive(0);
      header.column.toggleSorting(undefined, false);
    },
    [],
  );

  const first = virtual ? items[0] : undefined;
  const last = virtual ? items[items.length - 1] : undefined;
  const paddingTop = first ? first.start : 0;
  const paddingBottom = last ? virtualizer.getTotalSize() - last.end : 0;
  const rowCount = renderDetail === undefined;

  return (
    <div
      ref={scrollRef}
      className={scrollClassName}
      data-virtual-scroller=""
      onScroll={onScroll}
      {...(scrollRegionLabel
        ? // A scrolling region must be reachable with the keyboard to scroll it.
          { role: 'region', 'aria-label': scrollRegionLabel, tabIndex: 0 }
        : {})}
    >
      <Table
        ref={tableRef}
        stickyHeader
        highlightOnHover={highlightOnHover}
        withTableBorder
        layout="fixed"
        verticalSpacing={verticalSpacing}
        aria-label={label}
        aria-describedby={describedBy}
        aria-rowcount={rowCount ? (rowWindow ? itemCount : (total ?? rows.length)) + 1 : undefined}
        aria-busy={onNeedMore ? loadingMore : undefined}
        className={className ? `sy-data-table ${className}` : 'sy-data-table'}
        data-wrap-cells={wrapCells ? 'true' : undefined}
      >
        <colgroup>
          {leafColumns.map((column) => {
            const width = column.columnDef.meta?.width;
            return <col key={column.id} style={width === undefined ? undefined : { width }} />;
          })}
        </colgroup>
        <Table.Thead>
          {table.getHeaderGroups().map((group) => (
            <Table.Tr key={group.id} aria-rowindex={rowCount ? 1 : undefined}>
              {group.headers.map((header) => (
                <SortHeader key={header.id} header={header} sorted={header.column.getIsSorted()} onSort={onSort} />
              ))}
            </Table.Tr>
          ))}
        </Table.Thead>
        {paddingTop > 0 && (
          <tbody aria-hidden="true">
            <tr style={{ height: paddingTop }}>
              <td colSpan={columnCount} />
            </tr>
          </tbody>
        )}
        {items.map((item) => {
          const row = rowAt(item.index);
          if (!row) {
            return rowWindow ? (
              <tbody key={`placeholder:${String(item.index)}`} data-item-index={item.index}>
                <tr
                  className={ROW_CLASS}
                  data-index={item.index}
                  data-placeholder="true"
                  aria-rowindex={rowCount ? item.index + 2 : undefined}
                  aria-busy="true"
                  style={{ height: rowHeight }}
                >
                  <td className={CELL_CLASS} colSpan={columnCount}>
                    <span className="sy-table-text sy-table-empty">{rowWindow.placeholderText ?? 'Loading…'}</span>
                  </td>
                </tr>
              </tbody>
            ) : null;
          }
          const detail = renderDetail?.(row.original, item.index) ?? null;
          return (
            <DataRow
              // By window, a row is its position: when a search or a scroll brings other rows
              // there, its elements stay and only their text changes (no elements made anew).
              key={rowWindow ? `row:${String(item.index)}` : row.id}
              row={row}
              columns={columns}
              index={item.index}
              tabIndex={interactive ? (item.index === activeIndex ? 0 : -1) : null}
              rowCount={rowCount}
              highlightOnHover={highlightOnHover}
              // A row's estimate covers its details, which have a row of their own.
              height={
                virtual ? (detail === null ? heightOf(row.original) : rowHeight) : rowHeightProp
              }
              measure={measured ? virtualizer.measureElement : undefined}
              attributes={rowAttributes?.(row.original, item.index)}
              detail={detail}
              onClick={onActivate ? onRowClick : undefined}
              onFocus={onRowFocus}
              onKeyDown={onRowKeyDown}
            />
          );
        })}
        {(paddingBottom > 0 || loadingMore) && (
          <tbody aria-hidden={loadingMore ? undefined : 'true'}>
            {paddingBottom > 0 && (
              <tr aria-hidden="true" style={{ height: paddingBottom }}>
                <td colSpan={columnCount} />
              </tr>
            )}
            {loadingMore && (
              <tr style={{ height: rowHeight }}>
                <td colSpan={columnCount}>
                  <Group gap="xs" px="sm">
                    <Loader size="xs" aria-hidden />
                    <Text size="sm">{loadingMoreText}</Text>
                  </Group>
                </td>
              </tr>
            )}
          </tbody>
        )}
      </Table>
    </div>
  );
}

/** A sort by one column, as the app's state and its back end say it. */
export interface ColumnSort<K extends string> {
  key: K;
  direction: 'ascending' | 'descending';
}

/**
 * A table's `sorting` and `onSortingChange` for a sort kept by its caller (who sorts the rows, or
 * has the cache sort them): a click on a header sorts by it, or flips its order when it already
 * sorts.
 */
export function useColumnSort<K extends string>(
  sort: ColumnSort<K>,
  onSort: (sort: ColumnSort<K>) => void,
): { sorting: SortingState; onSortingChange: (sorting: SortingState) => void } {
  const sorting = useMemo<SortingState>(() => [{ id: sort.key, desc: sort.direction === 'descending' }], [sort]);
  const onSortingChange = useCallback(
    (next: SortingState) => {
      const first = next[0];
      if (first) {
        onSort({ key: first.id as K, direction: first.desc ? 'descending' : 'ascending' });
      }
    },
    [onSort],
  );
  return { sorting, onSortingChange };
}

/**
 * A cell's text on one line (cut with an ellipsis, whole in its tooltip), or a dimmed dash when
 * there is none.
 */
export function TextCell({ value, mono = false }: { value: string | null | undefined; mono?: boolean }) {
  if (value === null || value === undefined || value === '') {
    return <span className="sy-table-text sy-table-empty">—</span>;
  }
  return (
    <span className={mono ? 'sy-table-text sy-table-mono' : 'sy-table-text'} title={value}>
      {value}
    </span>
  );
}
