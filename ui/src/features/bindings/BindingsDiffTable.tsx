import { useMemo } from 'react';

import { type DataColumn, DataTable, TextCell } from '../../components/DataTable';
import type { Binding, BindingsDiff } from '../../ipc/types';

/** One binding that differs between a side (a folder, an edited file) and the deployed worker. */
export interface BindingDiffRow {
  name: string;
  /** service or variable. */
  kind: string;
  /** Its value on the compared side; — when that side does not have it. */
  local: string;
  /** Its deployed value; — when the worker does not have it. */
  deployed: string;
  /** The difference, in words. */
  verdict: string;
}

type DiffPart = 'differing' | 'onlyLocal' | 'onlyDeployed';

function kindText(b: Binding): string {
  return b.kind === 'service' ? 'service' : 'variable';
}

/** The rows of a bindings difference, its parts in `order`, each saying its difference in `words`. */
export function bindingDiffRows(diff: BindingsDiff, words: Record<DiffPart, string>, order: readonly DiffPart[]): BindingDiffRow[] {
  const parts: Record<DiffPart, BindingDiffRow[]> = {
    differing: diff.differing.map((d) => ({
      name: d.name,
      kind: kindText(d.local),
      local: d.local.value,
      deployed: d.deployed.value,
      verdict: words.differing,
    })),
    onlyLocal: diff.onlyLocal.map((b) => ({ name: b.name, kind: kindText(b), local: b.value, deployed: '—', verdict: words.onlyLocal })),
    onlyDeployed: diff.onlyDeployed.map((b) => ({
      name: b.name,
      kind: kindText(b),
      local: '—',
      deployed: b.value,
      verdict: words.onlyDeployed,
    })),
  };
  return order.flatMap((part) => parts[part]);
}

function diffColumns(localHeader: string, showKind: boolean): DataColumn<BindingDiffRow>[] {
  const text = (id: keyof BindingDiffRow, header: string, mono = false): DataColumn<BindingDiffRow> => ({
    id,
    header,
    accessorFn: (r) => r[id],
    meta: { cellClassName: 'sy-table-break' },
    cell: ({ row }) => <TextCell value={row.original[id]} mono={mono} />,
  });
  return [
    text('name', 'Binding', true),
    ...(showKind ? [{ ...text('kind', 'Kind'), meta: { width: 90 } }] : []),
    text('local', localHeader, true),
    text('deployed', 'Deployed', true),
    text('verdict', 'Difference'),
  ];
}

const rowName = (r: BindingDiffRow) => r.name;

/** The bindings that differ from the deployed worker's, one a row (sortable, copied as text). */
export function BindingsDiffTable({
  label,
  rows,
  localHeader,
  showKind = false,
}: {
  label: string;
  rows: readonly BindingDiffRow[];
  /** The compared side's column: "In the folder", "In the file". */
  localHeader: string;
  showKind?: boolean;
}) {
  const columns = useMemo(() => diffColumns(localHeader, showKind), [localHeader, showKind]);
  const copyText = useMemo(
    () => (r: BindingDiffRow) => [r.name, ...(showKind ? [r.kind] : []), r.local, r.deployed, r.verdict].join('\t'),
    [showKind],
  );
  return (
    <DataTable
      label={label}
      rows={rows}
      columns={columns}
      rowId={rowName}
      copyText={copyText}
      verticalSpacing={6}
      wrapCells
      virtual={false}
    />
  );
}
