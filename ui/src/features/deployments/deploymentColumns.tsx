import { Badge, Text } from '@mantine/core';
import type { ReactNode } from 'react';

import { formatLocalTime } from '../../components/time';
import type { Deployment, DeploymentStatus, HistorySortKey } from '../../ipc/bindings';

/** The columns are named as the cache's sort keys. */
export type ColumnKey = HistorySortKey;

export interface Column {
  key: ColumnKey;
  label: string;
  width: number;
  /** The cell; the column sorts by the cache's column of the same key. */
  render: (d: Deployment) => ReactNode;
}

export type SortDirection = 'ascending' | 'descending';

export interface Sort {
  key: ColumnKey;
  direction: SortDirection;
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
  { key: 'service', label: 'Service', width: 110, render: (d) => cellText(d.service) },
  {
    key: 'environment',
    label: 'Environment',
    width: 120,
    render: (d) => cellText(d.environment),
  },
  {
    key: 'status',
    label: 'Status',
    width: 115,
    render: (d) => <StatusBadge status={d.status} />,
  },
  {
    key: 'versionTag',
    label: 'Version tag',
    width: 120,
    render: (d) => cellText(d.versionTag),
  },
  { key: 'commit', label: 'Commit', width: 90, render: (d) => cellText(shortCommit(d), true) },
  {
    key: 'branch',
    label: 'Branch',
    width: 120,
    render: (d) => cellText(d.metadata?.branch),
  },
  {
    key: 'author',
    label: 'Author',
    width: 130,
    render: (d) => cellText(d.metadata?.author),
  },
  { key: 'time', label: 'Time', width: 190, render: (d) => cellText(localTime(d)) },
  { key: 'url', label: 'URL', width: 220, render: (d) => cellText(d.url) },
];
