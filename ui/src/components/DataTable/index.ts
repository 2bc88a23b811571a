export {
  type ColumnSort,
  DataTable,
  type DataColumn,
  type DataTableProps,
  type RowAttributes,
  type RowWindow,
  type SortingState,
  TextCell,
  useColumnSort,
} from './DataTable';
export { useTableFilter } from './useTableFilter';
export { CodeOrNotSet, KeyValue, KeyValueList } from './KeyValueList';
