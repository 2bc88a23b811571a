import { Group, Loader, Table, Text, UnstyledButton } from '@mantine/core';
import { IconArrowDown, IconArrowUp, IconArrowsSort } from '@tabler/icons-react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';

import type { Deployment } from '../../ipc/bindings';
import { COLUMNS, type ColumnKey, localTime, shortCommit, type Sort } from './deploymentColumns';
import { markAfterPaint } from '../../perf';

export const ROW_HEIGHT = 37;

/** A row as text: the table's columns, tab-separated, plus the deployment id. */
export function rowText(d: Deployment): string {
  return [d.id, d.service, d.environment, d.status, d.versionTag ?? '', shortCommit(d), d.metadata?.branch ?? '', d.metadata?.author ?? '', localTime(d), d.url ?? ''].join('\t');
}

interface DeploymentsTableProps {
  /** The rows loaded so far, in `sort` order (the cache sorts: the view holds pages of it). */
  deployments: readonly Deployment[];
  /** How many rows match in all. */
  total: number;
  sort: Sort;
  onSort: (sort: Sort) => void;
  onOpen: (deployment: Deployment) => void;
  /** Asked when the rows in view come near the end of those loaded. */
  onNeedMore: () => void;
  loadingMore: boolean;
}

/** Ask for the next page this many rows before the end of those loaded. */
const PREFETCH_ROWS = 60;

/**
 * The deployments, virtualized: only the rows in view are in the DOM (aria-rowcount tells assistive
 * technology how many there are), and more are loaded as the view nears the end. Column headers
 * sort (the cache sorts all matching rows, not only those loaded); rows are reached with Tab, moved
 * through with the arrow keys, Home/End and Page Up/Down, opened with Enter, Space or a click, and
 * copied with Ctrl/Cmd+C.
 */
export function DeploymentsTable({
  deployments: rows,
  total,
  sort,
  onSort,
  onOpen,
  onNeedMore,
  loadingMore,
}: DeploymentsTableProps) {
  const [active, setActive] = useState(0);
  const activeIndex = Math.min(active, Math.max(rows.length - 1, 0));
  const scrollRef = useRef<HTMLDivElement>(null);
  const bodyRef = useRef<HTMLTableSectionElement>(null);
  const pendingFocus = useRef<number | null>(null);

  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read during render by design.
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    // A few rows beyond the view keep scrolling smooth; each one more is layout and paint on every change.
    overscan: 4,
  });

  // For the cold-start benchmark: the first time real rows reach the screen.
  const hasRows = rows.length > 0;
  useEffect(() => {
    if (hasRows) {
      markAfterPaint('history-rows');
    }
  }, [hasRows]);

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

  const pageSize = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? ROW_HEIGHT * 10) / ROW_HEIGHT) - 1);

  const onRowKeyDown = (event: KeyboardEvent<HTMLTableRowElement>, index: number, deployment: Deployment) => {
    const moves: Record<string, number> = {
      ArrowDown: index + 1,
      ArrowUp: index - 1,
      Home: 0,
      End: rows.length - 1,
      PageDown: index + pageSize,
      PageUp: index - pageSize,
    };
    const target = moves[event.key];
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'c') {
      // Copy what is selected: the row, tab-separated, as it reads in the table.
      event.preventDefault();
      void navigator.clipboard.writeText(rowText(deployment));
      return;
    }
    if (target !== undefined) {
      event.preventDefault();
      moveTo(target);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onOpen(deployment);
    }
  };

  const toggleSort = (key: ColumnKey) => {
    setActive(0);
    onSort(
      sort.key === key
        ? { key, direction: sort.direction === 'ascending' ? 'descending' : 'ascending' }
        : { key, direction: key === 'time' ? 'descending' : 'ascending' },
    );
  };

  const first = items[0];
  const last = items[items.length - 1];
  const paddingTop = first ? first.start : 0;
  const paddingBottom = last ? virtualizer.getTotalSize() - last.end : 0;

  return (
    <div ref={scrollRef} className="sy-virtual-scroll" data-virtual-scroller="">
      <Table
        stickyHeader
        highlightOnHover
        withTableBorder
        layout="fixed"
        verticalSpacing={0}
        aria-label="Deployments"
        aria-rowcount={total + 1}
        aria-busy={loadingMore}
        className="sy-deployments"
      >
        <Table.Thead>
          <Table.Tr aria-rowindex={1}>
            {COLUMNS.map((column) => {
              const sorted = sort.key === column.key;
              const Icon = sorted ? (sort.direction === 'ascending' ? IconArrowUp : IconArrowDown) : IconArrowsSort;
              return (
                <Table.Th
                  key={column.key}
                  scope="col"
                  w={column.width}
                  aria-sort={sorted ? sort.direction : 'none'}
                >
                  <UnstyledButton
                    onClick={() => {
                      toggleSort(column.key);
                    }}
                    className="sy-sort-button"
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
              <td colSpan={COLUMNS.length} />
            </tr>
          )}
          {items.map((item) => {
            const deployment = rows[item.index];
            if (!deployment) {
              return null;
            }
            return (
              <Table.Tr
                key={deployment.id}
                role="row"
                data-index={item.index}
                aria-rowindex={item.index + 2}
                tabIndex={item.index === activeIndex ? 0 : -1}
                className="sy-deployment-row"
                style={{ height: ROW_HEIGHT }}
                onClick={() => {
                  setActive(item.index);
                  onOpen(deployment);
                }}
                onFocus={() => {
                  setActive(item.index);
                }}
                onKeyDown={(event) => {
                  onRowKeyDown(event, item.index, deployment);
                }}
              >
                {COLUMNS.map((column) => (
                  <Table.Td key={column.key} className="sy-cell">
                    {column.render(deployment)}
                  </Table.Td>
                ))}
              </Table.Tr>
            );
          })}
          {paddingBottom > 0 && (
            <tr aria-hidden="true" style={{ height: paddingBottom }}>
              <td colSpan={COLUMNS.length} />
            </tr>
          )}
          {loadingMore && (
            <tr style={{ height: ROW_HEIGHT }}>
              <td colSpan={COLUMNS.length}>
                <Group gap="xs" px="sm">
                  <Loader size="xs" aria-hidden />
                  <Text size="sm">Loading more deployments…</Text>
                </Group>
              </td>
            </tr>
          )}
        </Table.Tbody>
      </Table>
    </div>
  );
}
