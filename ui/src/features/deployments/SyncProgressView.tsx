import { Progress, Stack, Text } from '@mantine/core';

import type { SyncProgress } from '../../ipc/types';

/** A running sync: a progress bar ("Sync progress") and which window it is on. */
export function SyncProgressView({ progress }: { progress: SyncProgress | null }) {
  const percent = progress && progress.total > 0 ? Math.round((progress.done / progress.total) * 100) : 0;
  return (
    <Stack gap={4}>
      <Progress.Root size="lg">
        <Progress.Section value={percent} aria-label="Sync progress" animated={progress === null} striped />
      </Progress.Root>
      <Text size="sm" aria-live="polite">
        {progress
          ? `window ${progress.done} of ${progress.total}: ${progress.window}${progress.ok ? '' : ' (failed)'}`
          : 'Starting sync…'}
      </Text>
    </Stack>
  );
}
