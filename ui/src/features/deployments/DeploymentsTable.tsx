import { useEffect } from 'react';

import { DataTable, useColumnSort } from '../../components/DataTable';
import type { Deployment } from '../../ipc/types';
import { COLUMNS, localTime, shortCommit, type Sort } from './deploymentColumns';
import { markAfterPaint } from '../../perf';

export const ROW_HEIGHT = 37;

/** A row as text: the table's columns, tab-separated, plus the deployment id. */
export function rowText(d: Deployment): string {
  return [d.id, d.service, d.environment, d.status, d.versionTag ?? '', shortCommit(d), d.metadata.branch, d.metadata.author, localTime(d), d.url ?? ''].join('\t');
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

const deploymentId = (d: Deployment) => d.id;

/**
 * The deployments, in the shared DataTable: only the rows in view are in the DOM, and more are
 * loaded as the view nears the end. Column headers sort (the cache sorts all matching rows, not
 * only those loaded); rows are reached with Tab, moved through with the arrow keys, Home/End and
 * Page Up/Down, opened with Enter, Space or a click, and copied with Ctrl/Cmd+C.
 */
export function DeploymentsTable({ deployments, total, sort, onSort, onOpen, onNeedMore, loadingMore }: DeploymentsTableProps) {
  // For the cold-start benchmark: the first time real rows reach the screen.
  const hasRows = deployments.length > 0;
  useEffect(() => {
    if (hasRows) {
      markAfterPaint('history-rows');
    }
  }, [hasRows]);

  const { sorting, onSortingChange } = useColumnSort(sort, onSort);

  return (
    <DataTable
      label="Deployments"
      rows={deployments}
      columns={COLUMNS}
      rowId={deploymentId}
      total={total}
      rowHeight={ROW_HEIGHT}
      sorting={sorting}
      onSortingChange={onSortingChange}
      onActivate={onOpen}
      copyText={rowText}
      onNeedMore={onNeedMore}
      loadingMore={loadingMore}
      loadingMoreText="Loading more deployments…"
      className="sy-deployments"
    />
  );
}
