import { Badge, Text } from '@mantine/core';
import type { ReactNode } from 'react';

import { formatLocalTime } from '../../components/time';
import type { Deployment, DeploymentStatus } from '../../ipc/bindings';

export type ColumnKey = 'service' | 'environment' | 'status' | 'versionTag' | 'commit' | 'branch' | 'author' | 'time' | 'url';

export interface Column {
  key: ColumnKey;
  label: string;
  width: number;
  /** What the column sorts by. */
  sortValue: (d: Deployment) => string | number;
  render: (d: Deployment) => ReactNode;
}

export type SortDirection = 'ascending' | 'descending';

export interface Sort {
  key: ColumnKey;
  direction: SortDirection;
}

export function timeMs(d: Deployment): number {
  const ms = Date.parse(d.timestamp);
  return Number.isNaN(ms) ? 0 : ms;
}

export function localTime(d: Deployment): string {
  const ms = Date.parse(d.timestamp);
  return Number.isNaN(ms) ? d.timestamp : formatLocalTime(ms);
}

export function shortCommit(d: Deployment): string {
  return (d.metadata?.commit ?? '').slice(0, 7);
}

const STATUS_LOOK: Record<DeploymentStatus, { color?: string; variant: 'light' | 'default' }> = {
  deployed: { color: 'green', variant: 'light' },
  failed: { color: 'red', variant: 'light' },
  rolled_back: { variant: 'default' },
};

export function StatusBadge({ status }: { status: DeploymentStatus }) {
  const look = STATUS_LOOK[status];
  return (
    <Badge size="sm" color={look.color} variant={look.variant} tt="none">
      {status}
    </Badge>
  );
}

function cellText(value: string | null | undefined, mono = false) {
  if (value === null || value === undefined || value === '') {
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

export const COLUMNS: readonly Column[] = [
  { key: 'service', label: 'Service', width: 110, sortValue: (d) => d.service, render: (d) => cellText(d.service) },
  {
    key: 'environment',
    label: 'Environment',
    width: 120,
    sortValue: (d) => d.environment,
    render: (d) => cellText(d.environment),
  },
  {
    key: 'status',
    label: 'Status',
    width: 115,
    sortValue: (d) => d.status,
    render: (d) => <StatusBadge status={d.status} />,
  },
  {
    key: 'versionTag',
    label: 'Version tag',
    width: 120,
    sortValue: (d) => d.versionTag ?? '',
    render: (d) => cellText(d.versionTag),
  },
  { key: 'commit', label: 'Commit', width: 90, sortValue: shortCommit, render: (d) => cellText(shortCommit(d), true) },
  {
    key: 'branch',
    label: 'Branch',
    width: 120,
    sortValue: (d) => d.metadata?.branch ?? '',
    render: (d) => cellText(d.metadata?.branch),
  },
  {
    key: 'author',
    label: 'Author',
    width: 130,
    sortValue: (d) => d.metadata?.author ?? '',
    render: (d) => cellText(d.metadata?.author),
  },
  { key: 'time', label: 'Time', width: 190, sortValue: timeMs, render: (d) => cellText(localTime(d)) },
  { key: 'url', label: 'URL', width: 220, sortValue: (d) => d.url ?? '', render: (d) => cellText(d.url) },
];

/** A stable sort (ties keep the back-end's newest-first order). */
export function sortDeployments(rows: readonly Deployment[], sort: Sort): Deployment[] {
  const column = COLUMNS.find((c) => c.key === sort.key) ?? COLUMNS[0];
  if (!column) {
    return [...rows];
  }
  const sign = sort.direction === 'ascending' ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => {
      const x = column.sortValue(a.row);
      const y = column.sortValue(b.row);
      const cmp = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return cmp !== 0 ? sign * cmp : a.index - b.index;
    })
    .map(({ row }) => row);
}
