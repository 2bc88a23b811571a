import { Code, Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';

/**
 * The fields of ONE record, a label beside each value (a deployment, a worker, a profile): not a
 * table of records, so no sorting or row navigation. Its rows are {@link KeyValue}s.
 */
export function KeyValueList({
  label,
  labelWidth = 150,
  spacing = 6,
  children,
}: {
  /** The list's accessible name ("Deployment fields"); none when a heading above names it. */
  label?: string;
  /** Width of the labels' column, in pixels. */
  labelWidth?: number;
  /** Space above and below each row, in pixels. */
  spacing?: number;
  children: ReactNode;
}) {
  return (
    <Table variant="vertical" layout="fixed" verticalSpacing={spacing} aria-label={label} className="sy-key-values">
      <colgroup>
        <col style={{ width: labelWidth }} />
        <col />
      </colgroup>
      <Table.Tbody>{children}</Table.Tbody>
    </Table>
  );
}

/** One field of a {@link KeyValueList}: its label (a row header) and its value (long words break). */
export function KeyValue({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th scope="row">{label}</Table.Th>
      <Table.Td className="sy-key-value">{children}</Table.Td>
    </Table.Tr>
  );
}

/** A field's text as code, or a dimmed "not set" when it has none. */
export function CodeOrNotSet({ value }: { value: string | null | undefined }) {
  return value === null || value === undefined || value === '' ? (
    <Text span size="sm" c="dimmed">
      not set
    </Text>
  ) : (
    <Code>{value}</Code>
  );
}
