import { Group, Table, Text, UnstyledButton } from '@mantine/core';
import { IconArrowDown, IconArrowUp, IconArrowsSort } from '@tabler/icons-react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';

import type { WorkerRow } from '../../ipc/bindings';
import { WORKER_COLUMNS, type WorkerColumnKey, type WorkerSort } from './workerRows';
import { markOnce } from '../../perf';

export const WORKER_ROW_HEIGHT = 37;

interface WorkersTableProps {
  /** Already filtered and sorted. */
  rows: readonly WorkerRow[];
  sort: WorkerSort;
  onSort: (key: WorkerColumnKey) => void;
  onOpen: (worker: WorkerRow) => void;
}

/**
 * The workers, virtualized: only the rows in view are in the DOM (aria-rowcount says how many
 * there are), so 10,000 workers scroll as fast as 10. Headers sort; rows are reached with Tab,
 * moved through with the arrow keys, Home/End and Page Up/Down, and opened with Enter, Space or a
 * click.
 */
export function WorkersTable({ rows, sort, onSort, onOpen }: WorkersTableProps) {
  const [active, setActive] = useState(0);
  const activeIndex = Math.min(active, Math.max(rows.length - 1, 0));
  const scrollRef = useRef<HTMLDivElement>(null);
  const bodyRef = useRef<HTMLTableSectionElement>(null);
  const pendingFocus = useRef<number | null>(null);

  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read during render by design.
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => WORKER_ROW_HEIGHT,
    overscan: 12,
    // Before the first measurement (and in environments without layout), assume a window's worth.
    initialRect: { width: 1000, height: WORKER_ROW_HEIGHT * 16 },
  });

  // For the large-namespace benchmark: when a list of this many rows first reached the screen.
  const count = rows.length;
  useEffect(() => {
    if (count > 0) {
      markOnce(`workers-rows:${count}`);
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

  const moveTo = (index: number) => {
    const target = Math.max(0, Math.min(rows.length - 1, index));
    setActive(target);
    pendingFocus.current = target;
    virtualizer.scrollToIndex(target, { align: 'auto' });
  };

  const viewHeight = scrollRef.current?.clientHeight ?? 0;
  const pageSize = Math.max(1, Math.floor((viewHeight > 0 ? viewHeight : WORKER_ROW_HEIGHT * 10) / WORKER_ROW_HEIGHT) - 1);

  const onRowKeyDown = (event: KeyboardEvent<HTMLTableRowElement>, index: number, worker: WorkerRow) => {
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
      onOpen(worker);
    }
  };

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
              <Table.Tr
                key={worker.name}
                data-index={item.index}
                aria-rowindex={item.index + 2}
                tabIndex={item.index === activeIndex ? 0 : -1}
                className="sy-worker-row"
                style={{ height: WORKER_ROW_HEIGHT }}
                onClick={() => {
                  setActive(item.index);
                  onOpen(worker);
                }}
                onFocus={() => {
                  setActive(item.index);
                }}
                onKeyDown={(event) => {
                  onRowKeyDown(event, item.index, worker);
                }}
              >
                {WORKER_COLUMNS.map((column) => {
                  const text = column.text(worker);
                  return (
                    <Table.Td key={column.key} className="sy-workers-cell">
                      {text === '' ? (
                        <Text span size="sm" c="dimmed">
                          —
                        </Text>
                      ) : (
                        <Text span size="sm" ff={column.mono ? 'monospace' : undefined} title={text}>
                          {text}
                        </Text>
                      )}
                    </Table.Td>
                  );
                })}
              </Table.Tr>
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
