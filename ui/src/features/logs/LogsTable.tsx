import { Badge, Button, Table, Text } from '@mantine/core';
import { IconArrowDown, IconChevronDown, IconChevronRight } from '@tabler/icons-react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useEffect, useRef, useState } from 'react';

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

/** Within this many pixels of the end, the view follows new lines. */
const FOLLOW_SLACK = 48;

/** Column widths in a <colgroup> (a fixed-layout table takes them from there in every engine). */
const COLUMNS = [
  { key: 'time', label: 'Time', width: '126px' },
  { key: 'service', label: 'Service', width: '104px' },
  { key: 'method', label: 'Method', width: '76px' },
  { key: 'path', label: 'Path', width: '24%' },
  { key: 'status', label: 'Status', width: '64px' },
  { key: 'outcome', label: 'Outcome', width: '108px' },
  { key: 'logs', label: 'Logs and exceptions', width: undefined },
] as const;

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

interface RowProps {
  entry: LogEntry;
  index: number;
  hidden: ReadonlySet<string>;
  onToggleStack: (key: string) => void;
  measure: (element: HTMLTableRowElement | null) => void;
}

function LogsAndExceptions({ entry, hidden, onToggleStack }: Pick<RowProps, 'entry' | 'hidden' | 'onToggleStack'>) {
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

const LogRow = memo(function LogRow({ entry, index, hidden, onToggleStack, measure }: RowProps) {
  const { line } = entry;
  const path = pathOf(line.url);
  return (
    <Table.Tr
      ref={measure}
      data-index={index}
      aria-rowindex={index + 2}
      data-error={isError(line) ? 'true' : undefined}
      className="sy-logs-row"
      // A table row's height is a minimum: the estimate from its content, grown by wrapped text.
      style={{ height: estimate(entry, hidden) }}
    >
      <Table.Td className="sy-logs-cell sy-logs-mono" title={typeof line.timestampMs === 'number' ? formatLocalTime(line.timestampMs) : undefined}>
        {clockTime(line.timestampMs)}
      </Table.Td>
      <Table.Td className="sy-logs-cell" title={line.script !== line.service ? `Worker ${line.script}` : undefined}>
        {line.service}
      </Table.Td>
      <Table.Td className="sy-logs-cell sy-logs-mono">{line.method ?? '—'}</Table.Td>
      <Table.Td className="sy-logs-cell sy-logs-mono sy-logs-path" title={line.url ?? undefined}>
        {path === '' ? '—' : path}
      </Table.Td>
      <Table.Td className={`sy-logs-cell sy-logs-mono ${statusClass(line.status) ?? ''}`}>{line.status ?? '—'}</Table.Td>
      <Table.Td className="sy-logs-cell">
        <Badge size="sm" tt="none" variant={line.outcome === 'ok' ? 'light' : 'filled'} color={outcomeColor(line.outcome)}>
          {line.outcome}
        </Badge>
      </Table.Td>
      <Table.Td className="sy-logs-cell">
        <LogsAndExceptions entry={entry} hidden={hidden} onToggleStack={onToggleStack} />
      </Table.Td>
    </Table.Tr>
  );
});

interface LogsTableProps {
  /** Oldest first: the newest is at the bottom. */
  entries: readonly LogEntry[];
}

/**
 * The lines, virtualized: only those in view are in the DOM (aria-rowcount says how many there
 * are). Newest at the bottom; the view follows new lines while it is at the bottom, and stays put
 * (with a "Jump to the newest" button) when the operator scrolled up to read.
 */
export function LogsTable({ entries }: LogsTableProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(() => new Set());
  const [follow, setFollow] = useState(true);
  const hiddenRef = useRef(hidden);
  const entriesRef = useRef(entries);
  useEffect(() => {
    hiddenRef.current = hidden;
    entriesRef.current = entries;
  }, [hidden, entries]);

  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read during render by design.
  const virtualizer = useVirtualizer({
    count: entries.length,
    getScrollElement: () => scrollRef.current,
    // Keyed by line, so a measured height stays with its line when older lines are dropped.
    getItemKey: (index) => entries[index]?.id ?? index,
    estimateSize: (index) => estimate(entries[index], hidden),
    measureElement: (element) => {
      const measured = element.getBoundingClientRect().height;
      if (measured > 0) {
        return measured;
      }
      const index = Number((element as HTMLElement).dataset.index);
      return estimate(entriesRef.current[index], hiddenRef.current);
    },
    overscan: 4,
  });

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

  const count = entries.length;
  // The total height changes as rows are measured (a wrapped line is taller than estimated):
  // while following, the end is chased again then too.
  const total = virtualizer.getTotalSize();
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
  }, [follow, count, total, virtualizer]);

  const lastTop = useRef(0);
  const onScroll = () => {
    const box = scrollRef.current;
    if (!box) {
      return;
    }
    const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - FOLLOW_SLACK;
    const movedUp = box.scrollTop < lastTop.current - 2;
    lastTop.current = box.scrollTop;
    if (atEnd) {
      if (!follow) {
        setFollow(true);
      }
      return;
    }
    // Only the operator scrolling up stops the following. Rows measured taller than their
    // estimate push the end further down without anyone scrolling: that keeps following (it
    // used to stop it, and new lines were no longer shown).
    if (movedUp && follow) {
      setFollow(false);
    }
  };

  const items = virtualizer.getVirtualItems();
  const first = items[0];
  const last = items[items.length - 1];
  const paddingTop = first ? first.start : 0;
  const paddingBottom = last ? virtualizer.getTotalSize() - last.end : 0;

  return (
    <div className="sy-logs-table-wrap">
      <div
        ref={scrollRef}
        className="sy-logs-scroll"
        data-virtual-scroller=""
        role="region"
        aria-label="Log lines, newest at the bottom"
        // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex -- a scrolling region must be reachable with the keyboard to scroll it.
        tabIndex={0}
        onScroll={onScroll}
      >
        <Table
          stickyHeader
          withTableBorder
          layout="fixed"
          verticalSpacing={4}
          aria-label="Log lines"
          aria-rowcount={count + 1}
          className="sy-logs-table"
        >
          <colgroup>
            {COLUMNS.map((c) => (
              <col key={c.key} style={c.width ? { width: c.width } : undefined} />
            ))}
          </colgroup>
          <Table.Thead>
            <Table.Tr aria-rowindex={1}>
              {COLUMNS.map((c) => (
                <Table.Th key={c.key} scope="col">
                  {c.label}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {paddingTop > 0 && (
              <tr aria-hidden="true" style={{ height: paddingTop }}>
                <td colSpan={COLUMNS.length} />
              </tr>
            )}
            {items.map((item) => {
              const entry = entries[item.index];
              if (!entry) {
                return null;
              }
              return (
                <LogRow
                  key={entry.id}
                  entry={entry}
                  index={item.index}
                  hidden={hidden}
                  onToggleStack={onToggleStack}
                  measure={virtualizer.measureElement}
                />
              );
            })}
            {paddingBottom > 0 && (
              <tr aria-hidden="true" style={{ height: paddingBottom }}>
                <td colSpan={COLUMNS.length} />
              </tr>
            )}
          </Table.Tbody>
        </Table>
      </div>
      {!follow && count > 0 && (
        <Button
          className="sy-logs-jump"
          size="xs"
          leftSection={<IconArrowDown size={14} aria-hidden />}
          onClick={() => {
            setFollow(true);
            virtualizer.scrollToIndex(count - 1, { align: 'end' });
          }}
        >
          Jump to the newest
        </Button>
      )}
    </div>
  );
}
