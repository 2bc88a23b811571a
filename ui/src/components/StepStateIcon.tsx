import { Loader, ThemeIcon } from '@mantine/core';
import { IconCheck, IconCircleDashed, IconLock, IconPlayerPause, IconPlayerSkipForward, IconX } from '@tabler/icons-react';

import type { RunStepState } from '../ipc/types';

/**
 * The icon of a step's state, the same in deploy progress and runbook runs: a spinner while it
 * runs, green tick, red cross, grey skip, orange pause (interrupted), dashed circle (to do), or a
 * lock for a step that cannot start yet.
 */
export function StepStateIcon({ state, locked = false }: { state: RunStepState; locked?: boolean }) {
  if (locked && state === 'pending') {
    return (
      <ThemeIcon size={20} radius="xl" color="gray.6" variant="outline" aria-hidden>
        <IconLock size={13} />
      </ThemeIcon>
    );
  }
  switch (state) {
    case 'running':
      return <Loader size={18} aria-hidden />;
    case 'passed':
      return (
        <ThemeIcon size={20} radius="xl" color="green.8" aria-hidden>
          <IconCheck size={14} />
        </ThemeIcon>
      );
    case 'failed':
      return (
        <ThemeIcon size={20} radius="xl" color="red.8" aria-hidden>
          <IconX size={14} />
        </ThemeIcon>
      );
    case 'skipped':
      return (
        <ThemeIcon size={20} radius="xl" color="gray.6" variant="light" aria-hidden>
          <IconPlayerSkipForward size={14} />
        </ThemeIcon>
      );
    case 'interrupted':
      return (
        <ThemeIcon size={20} radius="xl" color="orange.8" aria-hidden>
          <IconPlayerPause size={14} />
        </ThemeIcon>
      );
    case 'pending':
      return (
        <ThemeIcon size={20} radius="xl" color="gray.5" variant="outline" aria-hidden>
          <IconCircleDashed size={14} />
        </ThemeIcon>
      );
  }
}
