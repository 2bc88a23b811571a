import { Badge } from '@mantine/core';
import type { ReactNode } from 'react';

import { type DataColumn, TextCell } from '../../components/DataTable';
import { formatLocalTime } from '../../components/time';
import type { Deployment, DeploymentStatus, HistorySortKey } from '../../ipc/types';

/** The columns are named as the cache's sort keys. */
export type ColumnKey = HistorySortKey;

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
  return d.metadata.commit.slice(0, 7);
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

/** A column: the cache sorts by its column of the same key; the cell shows `text` unless `render` is given. */
function column(
  key: ColumnKey,
  header: string,
  width: number,
  text: (d: Deployment) => string | null | undefined,
  render?: (d: Deployment) => ReactNode,
  mono = false,
): DataColumn<Deployment> {
  return {
    id: key,
    header,
    accessorFn: (d) => text(d) ?? '',
    // Newest first when the time column is chosen; the others start A to Z.
    sortDescFirst: key === 'time',
    cell: ({ row }) => (render ? render(row.original) : <TextCell value={text(row.original)} mono={mono} />),
    meta: { width },
  };
}

export const COLUMNS: readonly DataColumn<Deployment>[] = [
  column('service', 'Service', 110, (d) => d.service),
  column('environment', 'Environment', 120, (d) => d.environment),
  column('status', 'Status', 115, (d) => d.status, (d) => <StatusBadge status={d.status} />),
  column('versionTag', 'Version tag', 120, (d) => d.versionTag),
  column('commit', 'Commit', 90, shortCommit, undefined, true),
  column('branch', 'Branch', 120, (d) => d.metadata.branch),
  column('author', 'Author', 130, (d) => d.metadata.author),
  column('time', 'Time', 190, localTime),
  column('url', 'URL', 220, (d) => d.url),
];
