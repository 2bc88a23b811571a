import { Badge, Code, Group, Loader, Stack, Table, Text } from '@mantine/core';
import { IconChevronDown, IconChevronRight } from '@tabler/icons-react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';

import type { AuditRow } from '../../ipc/bindings';
import { entryTime, formatDuration, outcomeLabel, paramsText, rowText } from './auditModel';

export const ROW_HEIGHT = 37;
/** The details of an open row: padding, the headings, and each line of message and parameters. */
const DETAIL_PADDING = 56;
const DETAIL_LINE_HEIGHT = 20;

/** Ask for the next page this many rows before the end of those loaded. */
const PREFETCH_ROWS = 60;

const COLUMNS = [
  { key: 'time', label: 'Time', width: 200 },
  { key: 'actor', label: 'Actor', width: 110 },
  { key: 'profile', label: 'Profile', width: 150 },
  { key: 'action', label: 'Action', width: 190 },
  { key: 'target', label: 'Target', width: undefined },
  { key: 'outcome', label: 'Outcome', width: 140 },
  { key: 'duration', label: 'Duration', width: 96 },
] as const;

/** Until measured (and where nothing is laid out), an entry's height from what it shows. */
function estimate(row: AuditRow | undefined, open: boolean): number {
  if (!row || !open) {
    return ROW_HEIGHT;
  }
  const lines = paramsText(row.params).split('\n').length + (row.message ? row.message.split('\n').length + 1 : 0);
  return ROW_HEIGHT + DETAIL_PADDING + lines * DETAIL_LINE_HEIGHT;
}

const OUTCOME_LOOK: Record<AuditRow['status'], { color: string; variant: 'light' | 'filled' }> = {
  ok: { color: 'green', variant: 'light' },
  error: { color: 'red.9', variant: 'filled' },
  started: { color: 'blue', variant: 'light' },
  interrupted: { color: 'orange.9', variant: 'filled' },
};

export function OutcomeBadge({ row }: { row: AuditRow }) {
  const look = OUTCOME_LOOK[row.status];
  return (
    <Badge size="sm" tt="none" color={look.color} variant={look.variant}>
      {outcomeLabel(row)}
    </Badge>
  );
}

function cellText(value: string, mono = false) {
  if (value === '') {
    return (
      <Text span size="sm" c="dimmed">
        —
      </Text>
    );
  }
  return (
    <Text span size="sm" ff={mono ? 'monospace' : undefined} title={value}>
      {value}
    </Text>
  );
}

/** An open row's details: why it failed or was interrupted, and its (redacted) parameters. */
function AuditDetail({ row }: { row: AuditRow }) {
  return (
    <Stack gap={6} py="xs" className="sy-audit-detail-body">
      {row.message && (
        <div>
          <Text size="sm" fw={600}>
            Message
          </Text>
          <Text size="sm" className="sy-audit-message">
            {row.message}
          </Text>
        </div>
      )}
      <div>
        <Text size="sm" fw={600}>
          Parameters
        </Text>
        <Code block className="sy-audit-params">
          {paramsText(row.params)}
        </Code>
      </div>
      <Text size="xs" c="dimmed">
        Entry {row.seq} · outcome recorded as “{row.outcome}”
        {row.atMs != null && ` · ${new Date(row.atMs).toISOString()}`}
      </Text>
    </Stack>
  );
}

interface AuditTableProps {
  /** The entries loaded so far, newest first. */
  rows: readonly AuditRow[];
  /** How many match in all. */
  total: number;
  /** A profile's name from its id ("" is app-wide). */
  profileName: (id: string) => string;
  /** Asked when the rows in view come near the end of those loaded. */
  onNeedMore: () => void;
  loadingMore: boolean;
  /** The id of the text that says how many entries match. */
  describedBy?: string;
}

/**
 * The audit entries, virtualized: only those in view are in the DOM, and more are loaded as the
 * view nears the end. Each entry opens (click, Enter or Space) to show its message and parameters;
 * entries are reached with Tab, moved through with the arrow keys, Home/End and Page Up/Down, and
 * copied with Ctrl/Cmd+C.
 */
export function AuditTable({ rows, total, profileName, onNeedMore, loadingMore, describedBy }: AuditTableProps) {
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState<ReadonlySet<number>>(() => new Set());
  const activeIndex = Math.min(active, Math.max(rows.length - 1, 0));
  const scrollRef = useRef<HTMLDivElement>(null);
  const bodyRef = useRef<HTMLTableElement>(null);
  const pendingFocus = useRef<number | null>(null);
  const rowsRef = useRef(rows);
  const openRef = useRef(open);
  useEffect(() => {
    rowsRef.current = rows;
    openRef.current = open;
  }, [rows, open]);

  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read during render by design.
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    getItemKey: (index) => rows[index]?.seq ?? index,
    estimateSize: (index) => {
      const row = rows[index];
      return estimate(row, row?.seq != null && open.has(row.seq));
    },
    measureElement: (element) => {
      const measured = element.getBoundingClientRect().height;
      if (measured > 0) {
        return measured;
      }
      const row = rowsRef.current[Number((element as HTMLElement).dataset.index)];
      return estimate(row, row?.seq != null && openRef.current.has(row.seq));
    },
    overscan: 4,
  });

  // An entry opened or closed changes its height: measure again.
  useEffect(() => {
    virtualizer.measure();
  }, [open, virtualizer]);

  const items = virtualizer.getVirtualItems();
  const lastInView = items[items.length - 1]?.index ?? 0;
  const nearEnd = rows.length < total && lastInView >= rows.length - PREFETCH_ROWS;
  useEffect(() => {
    if (nearEnd && !loadingMore) {
      onNeedMore();
    }
  }, [nearEnd, loadingMore, onNeedMore, rows.length]);

  // Focus follows the keyboard once the row it moved to is rendered.
  useEffect(() => {
    const index = pendingFocus.current;
    if (index === null) {
      return;
    }
    const row = bodyRef.current?.querySelector<HTMLElement>(`tr[data-row-index="${index}"]`);
    if (row) {
      pendingFocus.current = null;
      row.focus();
    }
  });

  const moveTo = (index: number) => {
    const target = Math.max(0, Math.min(rows.length - 1, index));
    setActive(target);
    pendingFocus.current = target;
    virtualizer.scrollToIndex(target, { align: 'auto' });
  };

  const toggle = (row: AuditRow) => {
    const seq = row.seq;
    if (seq == null) {
      return;
    }
    setOpen((set) => {
      const next = new Set(set);
      if (next.has(seq)) {
        next.delete(seq);
      } else {
        next.add(seq);
      }
      return next;
    });
  };

  const pageSize = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? ROW_HEIGHT * 10) / ROW_HEIGHT) - 1);

  const onRowKeyDown = (event: KeyboardEvent<HTMLTableRowElement>, index: number, row: AuditRow) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'c') {
      // Copy what is selected: the entry, tab-separated, as it reads in the table.
      event.preventDefault();
      void navigator.clipboard.writeText(rowText(row, profileName(row.profileId)));
      return;
    }
    const moves: Record<string, number> = {
      ArrowDown: index + 1,
      ArrowUp: index - 1,
      Home: 0,
      End: rows.length - 1,
      PageDown: index + pageSize,
      PageUp: index - pageSize,
    };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      moveTo(target);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      toggle(row);
    }
  };

  const first = items[0];
  const last = items[items.length - 1];
  const paddingTop = first ? first.start : 0;
  const paddingBottom = last ? virtualizer.getTotalSize() - last.end : 0;

  return (
    <div ref={scrollRef} className="sy-virtual-scroll" data-virtual-scroller="">
      <Table
        ref={bodyRef}
        stickyHeader
        highlightOnHover
        withTableBorder
        layout="fixed"
        verticalSpacing={0}
        aria-label="Audit log"
        aria-describedby={describedBy}
        aria-busy={loadingMore}
        className="sy-audit"
      >
        <Table.Thead>
          <Table.Tr>
            {COLUMNS.map((column) => (
              <Table.Th key={column.key} scope="col" w={column.width}>
                {column.label}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        {paddingTop > 0 && (
          <Table.Tbody aria-hidden="true">
            <tr style={{ height: paddingTop }}>
              <td colSpan={COLUMNS.length} />
            </tr>
          </Table.Tbody>
        )}
        {items.map((item) => {
          const row = rows[item.index];
          if (!row) {
            return null;
          }
          const isOpen = row.seq != null && open.has(row.seq);
          const detailId = `sy-audit-detail-${row.seq ?? item.index}`;
          const profile = profileName(row.profileId);
          return (
            <Table.Tbody key={item.key} ref={virtualizer.measureElement} data-index={item.index}>
              <Table.Tr
                role="row"
                data-row-index={item.index}
                tabIndex={item.index === activeIndex ? 0 : -1}
                aria-expanded={isOpen}
                aria-controls={isOpen ? detailId : undefined}
                className="sy-audit-row"
                data-status={row.status}
                style={{ height: ROW_HEIGHT }}
                onClick={() => {
                  setActive(item.index);
                  toggle(row);
                }}
                onFocus={() => {
                  setActive(item.index);
                }}
                onKeyDown={(event) => {
                  onRowKeyDown(event, item.index, row);
                }}
              >
                <Table.Td className="sy-cell">
                  <Group gap={6} wrap="nowrap">
                    {isOpen ? <IconChevronDown size={14} aria-hidden /> : <IconChevronRight size={14} aria-hidden />}
                    {cellText(entryTime(row))}
                  </Group>
                </Table.Td>
                <Table.Td className="sy-cell">{cellText(row.actor)}</Table.Td>
                <Table.Td className="sy-cell">
                  {row.profileId === '' ? (
                    <Text span size="sm" c="dimmed" title="An app-wide action (a setting), of no profile">
                      {profile}
                    </Text>
                  ) : (
                    cellText(profile)
                  )}
                </Table.Td>
                <Table.Td className="sy-cell">{cellText(row.action, true)}</Table.Td>
                <Table.Td className="sy-cell">{cellText(row.target)}</Table.Td>
                <Table.Td className="sy-cell">
                  <OutcomeBadge row={row} />
                </Table.Td>
                <Table.Td className="sy-cell">{cellText(formatDuration(row))}</Table.Td>
              </Table.Tr>
              {isOpen && (
                <Table.Tr id={detailId} className="sy-audit-detail" style={{ height: estimate(row, true) - ROW_HEIGHT }}>
                  <Table.Td colSpan={COLUMNS.length}>
                    <AuditDetail row={row} />
                  </Table.Td>
                </Table.Tr>
              )}
            </Table.Tbody>
          );
        })}
        {(paddingBottom > 0 || loadingMore) && (
          <Table.Tbody aria-hidden={loadingMore ? undefined : 'true'}>
            {paddingBottom > 0 && (
              <tr style={{ height: paddingBottom }}>
                <td colSpan={COLUMNS.length} />
              </tr>
            )}
            {loadingMore && (
              <tr style={{ height: ROW_HEIGHT }}>
                <td colSpan={COLUMNS.length}>
                  <Group gap="xs" px="sm">
                    <Loader size="xs" aria-hidden />
                    <Text size="sm">Loading more entries…</Text>
                  </Group>
                </td>
              </tr>
            )}
          </Table.Tbody>
        )}
      </Table>
    </div>
  );
}
