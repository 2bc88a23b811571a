import { Badge, Button, Text } from '@mantine/core';
import { IconArrowDown, IconChevronDown, IconChevronRight } from '@tabler/icons-react';
import { useCallback, useMemo, useState } from 'react';

import { type DataColumn, DataTable, type RowAttributes } from '../../components/DataTable';
import { formatLocalTime } from '../../components/time';
import { clockTime, isError, type LogEntry, pathOf } from './logModel';

/** A line with nothing logged (one line of text in each cell). */
const BASE_ROW_HEIGHT = 33;
/** The cells' padding, above and below. */
const CELL_PADDING = 9;
/** What each logged line, exception heading and stack line adds to the logs cell. */
const LOG_LINE_HEIGHT = 20;
const EXCEPTION_HEIGHT = 26;
const STACK_LINE_HEIGHT = 18;

function stackKey(id: number, index: number): string {
  return `${id}:${index}`;
}

/** Until measured (and where nothing is laid out), a row's height from what it holds. */
function estimate(entry: LogEntry | undefined, hidden: ReadonlySet<string>): number {
  if (!entry) {
    return BASE_ROW_HEIGHT;
  }
  const { logs, exceptions } = entry.line;
  let content = logs.length * LOG_LINE_HEIGHT;
  exceptions.forEach((x, i) => {
    content += EXCEPTION_HEIGHT;
    if (x.stack && !hidden.has(stackKey(entry.id, i))) {
      content += x.stack.split('\n').length * STACK_LINE_HEIGHT;
    }
  });
  return Math.max(BASE_ROW_HEIGHT, CELL_PADDING + content);
}

function outcomeColor(outcome: string): string {
  if (outcome === 'ok') {
    return 'green';
  }
  return outcome === 'exception' ? 'red.9' : 'orange.9';
}

function statusClass(status: number | null | undefined): string | undefined {
  if (typeof status !== 'number') {
    return undefined;
  }
  if (status >= 500) {
    return 'sy-logs-status-5xx';
  }
  return status >= 400 ? 'sy-logs-status-4xx' : undefined;
}

interface DetailProps {
  entry: LogEntry;
  hidden: ReadonlySet<string>;
  onToggleStack: (key: string) => void;
}

function LogsAndExceptions({ entry, hidden, onToggleStack }: DetailProps) {
  const { line } = entry;
  if (line.logs.length === 0 && line.exceptions.length === 0) {
    return (
      <Text span size="xs" c="dimmed">
        Nothing logged
      </Text>
    );
  }
  return (
    <div className="sy-logs-detail">
      {line.logs.map((l, i) => (
        // Lines of one invocation never move: the index is a stable key.
        <div key={i} className="sy-logs-message" data-level={l.level}>
          <span className="sy-logs-level">[{l.level}]</span> {l.text}
        </div>
      ))}
      {line.exceptions.map((x, i) => {
        const key = stackKey(entry.id, i);
        const open = !hidden.has(key);
        const stackId = `sy-logs-stack-${entry.id}-${i}`;
        return (
          <div key={i} className="sy-logs-exception">
            <div className="sy-logs-exception-head">
              <span className="sy-logs-exception-title">
                ✖ {x.name}: {x.message}
              </span>
              {x.stack ? (
                <Button
                  size="compact-xs"
                  variant="subtle"
                  color="gray.8"
                  aria-expanded={open}
                  aria-controls={open ? stackId : undefined}
                  aria-label={`${open ? 'Hide' : 'Show'} the stack of ${x.name}: ${x.message}`}
                  leftSection={open ? <IconChevronDown size={12} aria-hidden /> : <IconChevronRight size={12} aria-hidden />}
                  onClick={() => {
                    onToggleStack(key);
                  }}
                >
                  {open ? 'Hide stack' : 'Show stack'}
                </Button>
              ) : (
                <Text span size="xs" c="dimmed">
                  (no stack sent)
                </Text>
              )}
            </div>
            {x.stack && open && (
              <pre id={stackId} className="sy-logs-stack" aria-label={`Stack of ${x.name}`}>
                {x.stack}
              </pre>
            )}
          </div>
        );
      })}
    </div>
  );
}

/** The columns; widths go to a <colgroup> (a fixed-layout table takes them from there in every engine). */
function logColumns(hidden: ReadonlySet<string>, onToggleStack: (key: string) => void): DataColumn<LogEntry>[] {
  const cell = 'sy-logs-cell';
  const mono = 'sy-logs-cell sy-logs-mono';
  return [
    {
      id: 'time',
      header: 'Time',
      meta: {
        width: '126px',
        cellClassName: mono,
        cellTitle: ({ line }) => (typeof line.timestampMs === 'number' ? formatLocalTime(line.timestampMs) : undefined),
      },
      cell: ({ row }) => clockTime(row.original.line.timestampMs),
    },
    {
      id: 'service',
      header: 'Service',
      meta: {
        width: '104px',
        cellClassName: cell,
        cellTitle: ({ line }) => (line.script !== line.service ? `Worker ${line.script}` : undefined),
      },
      cell: ({ row }) => row.original.line.service,
    },
    {
      id: 'method',
      header: 'Method',
      meta: { width: '76px', cellClassName: mono },
      cell: ({ row }) => row.original.line.method ?? '—',
    },
    {
      id: 'path',
      header: 'Path',
      meta: { width: '24%', cellClassName: `${mono} sy-logs-path`, cellTitle: ({ line }) => line.url ?? undefined },
      cell: ({ row }) => {
        const path = pathOf(row.original.line.url);
        return path === '' ? '—' : path;
      },
    },
    {
      id: 'status',
      header: 'Status',
      meta: { width: '64px', cellClassName: ({ line }) => `${mono} ${statusClass(line.status) ?? ''}` },
      cell: ({ row }) => row.original.line.status ?? '—',
    },
    {
      id: 'outcome',
      header: 'Outcome',
      meta: { width: '108px', cellClassName: cell },
      cell: ({ row }) => {
        const { outcome } = row.original.line;
        return (
          <Badge size="sm" tt="none" variant={outcome === 'ok' ? 'light' : 'filled'} color={outcomeColor(outcome)}>
            {outcome}
          </Badge>
        );
      },
    },
    {
      id: 'logs',
      header: 'Logs and exceptions',
      meta: { cellClassName: cell },
      cell: ({ row }) => <LogsAndExceptions entry={row.original} hidden={hidden} onToggleStack={onToggleStack} />,
    },
  ];
}

const lineId = (entry: LogEntry) => String(entry.id);

function lineAttributes(entry: LogEntry): RowAttributes {
  return { className: 'sy-logs-row', 'data-error': isError(entry.line) ? 'true' : undefined };
}

interface LogsTableProps {
  /** Oldest first: the newest is at the bottom. */
  entries: readonly LogEntry[];
}

/**
 * The lines, in the shared DataTable: only those in view are in the DOM (aria-rowcount says how
 * many there are). Newest at the bottom; the view follows new lines while it is at the bottom, and
 * stays put (with a "Jump to the newest" button) when the operator scrolled up to read.
 */
export function LogsTable({ entries }: LogsTableProps) {
  const [hidden, setHidden] = useState<ReadonlySet<string>>(() => new Set());
  const [follow, setFollow] = useState(true);

  const onToggleStack = useCallback((key: string) => {
    setHidden((set) => {
      const next = new Set(set);
      if (next.has(key)) {
        next.delete(key);
      } else {
        next.add(key);
      }
      return next;
    });
  }, []);

  const columns = useMemo(() => logColumns(hidden, onToggleStack), [hidden, onToggleStack]);
  const estimateRowHeight = useCallback((entry: LogEntry) => estimate(entry, hidden), [hidden]);

  return (
    <div className="sy-logs-table-wrap">
      <DataTable
        label="Log lines"
        rows={entries}
        columns={columns}
        // Keyed by line, so a measured height stays with its line when older lines are dropped.
        rowId={lineId}
        rowHeight={BASE_ROW_HEIGHT}
        estimateRowHeight={estimateRowHeight}
        rowAttributes={lineAttributes}
        follow={follow}
        onFollowChange={setFollow}
        className="sy-logs-table"
        scrollClassName="sy-logs-scroll"
        scrollRegionLabel="Log lines, newest at the bottom"
        verticalSpacing={4}
        highlightOnHover={false}
        wrapCells
      />
      {!follow && entries.length > 0 && (
        <Button
          className="sy-logs-jump"
          size="xs"
          leftSection={<IconArrowDown size={14} aria-hidden />}
          onClick={() => {
            setFollow(true);
          }}
        >
          Jump to the newest
        </Button>
      )}
    </div>
  );
}
