import { Group, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

import type { Area } from '../shell/areas';

interface AreaHeaderProps {
  area: Area;
  /** Controls on the right of the heading row. */
  actions?: ReactNode;
}

/** The area's h1 (its name, exactly as in the sidebar) and a one-line summary. */
export function AreaHeader({ area, actions }: AreaHeaderProps) {
  const Icon = area.icon;
  return (
    <Group justify="space-between" align="flex-end" wrap="nowrap">
      <div>
        <Group gap={8} align="center" wrap="nowrap">
          <Icon size={24} stroke={1.7} aria-hidden />
          <Title order={1} size="h2">
            {area.label}
          </Title>
        </Group>
        <Text size="sm" c="dimmed" mt={2}>
          {area.summary}
        </Text>
      </div>
      {actions}
    </Group>
  );
}
