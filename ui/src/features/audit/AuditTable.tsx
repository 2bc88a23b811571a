import { Badge, Code, Group, Stack, Text } from '@mantine/core';
import { IconChevronDown, IconChevronRight } from '@tabler/icons-react';
import { useCallback, useMemo, useState } from 'react';

import { type DataColumn, DataTable, type RowAttributes, TextCell } from '../../components/DataTable';
import type { AuditRow } from '../../ipc/types';
import { entryTime, formatDuration, outcomeLabel, paramsText, rowText } from './auditModel';

export const ROW_HEIGHT = 37;
/** The details of an open row: padding, the headings, and each line of message and parameters. */
const DETAIL_PADDING = 56;
const DETAIL_LINE_HEIGHT = 20;

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

const entryId = (row: AuditRow, index: number) => String(row.seq ?? `i${index}`);

function detailIdOf(row: AuditRow, index: number): string {
  return `sy-audit-detail-${row.seq ?? index}`;
}

/** The columns; `isOpen` says whether an entry shows its details (its chevron). */
function auditColumns(profileName: (id: string) => string, isOpen: (row: AuditRow) => boolean): DataColumn<AuditRow>[] {
  return [
    {
      id: 'time',
      header: 'Time',
      meta: { width: 200 },
      cell: ({ row }) => (
        <Group gap={6} wrap="nowrap">
          {isOpen(row.original) ? <IconChevronDown size={14} aria-hidden /> : <IconChevronRight size={14} aria-hidden />}
          <TextCell value={entryTime(row.original)} />
        </Group>
      ),
    },
    { id: 'actor', header: 'Actor', meta: { width: 110 }, cell: ({ row }) => <TextCell value={row.original.actor} /> },
    {
      id: 'profile',
      header: 'Profile',
      meta: { width: 150 },
      cell: ({ row }) =>
        row.original.profileId === '' ? (
          <Text span size="sm" c="dimmed" title="An app-wide action (a setting), of no profile">
            {profileName('')}
          </Text>
        ) : (
          <TextCell value={profileName(row.original.profileId)} />
        ),
    },
    { id: 'action', header: 'Action', meta: { width: 190 }, cell: ({ row }) => <TextCell value={row.original.action} mono /> },
    { id: 'target', header: 'Target', cell: ({ row }) => <TextCell value={row.original.target} /> },
    { id: 'outcome', header: 'Outcome', meta: { width: 140 }, cell: ({ row }) => <OutcomeBadge row={row.original} /> },
    { id: 'duration', header: 'Duration', meta: { width: 96 }, cell: ({ row }) => <TextCell value={formatDuration(row.original)} /> },
  ];
}

/**
 * The audit entries, in the shared DataTable: only those in view are in the DOM, and more are
 * loaded as the view nears the end. Each entry opens (click, Enter or Space) to show its message
 * and parameters; entries are reached with Tab, moved through with the arrow keys, Home/End and
 * Page Up/Down, and copied with Ctrl/Cmd+C.
 */
export function AuditTable({ rows, total, profileName, onNeedMore, loadingMore, describedBy }: AuditTableProps) {
  const [open, setOpen] = useState<ReadonlySet<number>>(() => new Set());
  const isOpen = useCallback((row: AuditRow) => row.seq != null && open.has(row.seq), [open]);

  const toggle = useCallback((row: AuditRow) => {
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
  }, []);

  const columns = useMemo(() => auditColumns(profileName, isOpen), [profileName, isOpen]);
  const estimateRowHeight = useCallback((row: AuditRow) => estimate(row, isOpen(row)), [isOpen]);
  const copyText = useCallback((row: AuditRow) => rowText(row, profileName(row.profileId)), [profileName]);
  const rowAttributes = useCallback(
    (row: AuditRow, index: number): RowAttributes => ({
      className: 'sy-audit-row',
      'data-status': row.status,
      'aria-expanded': isOpen(row),
      'aria-controls': isOpen(row) ? detailIdOf(row, index) : undefined,
    }),
    [isOpen],
  );
  const renderDetail = useCallback(
    (row: AuditRow, index: number) =>
      isOpen(row) ? (
        <tr id={detailIdOf(row, index)} className="sy-audit-detail" style={{ height: estimate(row, true) - ROW_HEIGHT }}>
          <td colSpan={columns.length}>
            <AuditDetail row={row} />
          </td>
        </tr>
      ) : null,
    [isOpen, columns.length],
  );

  return (
    <DataTable
      label="Audit log"
      describedBy={describedBy}
      rows={rows}
      columns={columns}
      rowId={entryId}
      total={total}
      rowHeight={ROW_HEIGHT}
      estimateRowHeight={estimateRowHeight}
      onActivate={toggle}
      copyText={copyText}
      rowAttributes={rowAttributes}
      renderDetail={renderDetail}
      onNeedMore={onNeedMore}
      loadingMore={loadingMore}
      loadingMoreText="Loading more entries…"
      className="sy-audit"
    />
  );
}
