import { Paper, Stack, Text } from '@mantine/core';
import { IconBook2 } from '@tabler/icons-react';

import type { Area } from '../app/areas';
import { AreaHeader } from './AreaHeader';

interface NotBuiltYetProps {
  area: Area;
  /** What the area will do once built. */
  willDo: string;
  /** Runbook procedures to follow meanwhile. */
  runbookProcedures: readonly string[];
}

function quotedList(names: readonly string[]): string {
  const quoted = names.map((n) => `“${n}”`);
  if (quoted.length <= 1) {
    return quoted.join('');
  }
  return `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1] ?? ''}`;
}

/** An area that does not exist yet says so plainly, and where to turn instead. */
export function NotBuiltYet({ area, willDo, runbookProcedures }: NotBuiltYetProps) {
  const plural = runbookProcedures.length > 1 ? 'procedures' : 'procedure';
  return (
    <Stack gap="md" maw={760}>
      <AreaHeader area={area} />
      <Paper withBorder p="lg" radius="md">
        <Stack gap="sm">
          <Text fw={600}>{area.label} — not built yet.</Text>
          <Text>{willDo}</Text>
          <Text>
            <IconBook2 size={16} aria-hidden style={{ verticalAlign: '-3px', marginRight: 6 }} />
            Until then, use the runbook&apos;s {quotedList(runbookProcedures)} {plural}.
          </Text>
        </Stack>
      </Paper>
    </Stack>
  );
}
