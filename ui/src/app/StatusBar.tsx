import { AppShell, Group, Text } from '@mantine/core';
import { IconClockHour4, IconFolder, IconInfoCircle } from '@tabler/icons-react';

import { useAppInfo } from '../ipc/queries';

export const FOOTER_HEIGHT = 30;

/** "As of" (nothing is synced yet, and it says so), the app version and the data directory. */
export function StatusBar() {
  const appInfo = useAppInfo();
  const version = appInfo.isSuccess
    ? `${appInfo.data.name} ${appInfo.data.version}`
    : appInfo.isError
      ? 'Version unknown (app info unavailable)'
      : 'Version …';
  const dataDir = appInfo.isSuccess ? appInfo.data.dataDir : appInfo.isError ? 'unknown' : '…';
  return (
    <AppShell.Footer px="md" className="sy-footer">
      <Group h="100%" gap="lg" wrap="nowrap" justify="space-between">
        <Group gap={6} wrap="nowrap">
          <IconClockHour4 size={14} aria-hidden />
          <Text size="xs">Data: as of — (no data synced yet)</Text>
        </Group>
        <Group gap="lg" wrap="nowrap" miw={0}>
          <Group gap={6} wrap="nowrap" miw={0}>
            <IconFolder size={14} aria-hidden />
            <Text size="xs" truncate="start" title={dataDir} maw={420}>
              Data directory: {dataDir}
            </Text>
          </Group>
          <Group gap={6} wrap="nowrap">
            <IconInfoCircle size={14} aria-hidden />
            <Text size="xs">{version}</Text>
          </Group>
        </Group>
      </Group>
    </AppShell.Footer>
  );
}
