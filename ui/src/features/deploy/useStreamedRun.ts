import type { Channel } from '@tauri-apps/api/core';
import { useCallback, useState } from 'react';

import { eventChannel, useAfterDeploy } from '../../ipc/deploy';
import { callCommand, type CommandResult, toAppError } from '../../ipc/errors';
import type { AppError, DeployEvent } from '../../ipc/types';
import { applyEvent, EMPTY_PROGRESS, type Progress } from './progress';

/** How an applied run ended: what the command returned, or why it failed. */
export type RunEnd<T> = { ok: true; value: T } | { ok: false; error: AppError };

export interface StreamedRun {
  /** A run is applying: its plan cannot be confirmed again, nor another started. */
  running: boolean;
  /** The steps, checks and output the engine streamed for the last run. */
  progress: Progress;
  /**
   * Apply a confirmed plan: `call` starts the command with the channel its events come on. Every
   * event goes into `progress`; when it ends, successful or not, what the profile's history,
   * versions and health show is read again. Never throws: the end says how it went.
   */
  apply: <T>(call: (events: Channel<DeployEvent>) => Promise<CommandResult<T>>) => Promise<RunEnd<T>>;
  /** Forget the last run's progress (another service, another plan). */
  clear: () => void;
}

/**
 * The apply stage of a streamed run — after its plan was prepared and confirmed: the command runs
 * with an event channel, its events become the progress shown, and the caches it changes are
 * refreshed when it ends. Used by rollback, restore and promote.
 */
export function useStreamedRun(profileId: string): StreamedRun {
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<Progress>(EMPTY_PROGRESS);
  const afterDeploy = useAfterDeploy();

  const onEvent = useCallback((event: DeployEvent) => {
    setProgress((p) => applyEvent(p, event));
  }, []);

  const apply = useCallback(
    async <T>(call: (events: Channel<DeployEvent>) => Promise<CommandResult<T>>): Promise<RunEnd<T>> => {
      setRunning(true);
      setProgress(EMPTY_PROGRESS);
      try {
        const value = await callCommand(() => call(eventChannel(onEvent)));
        return { ok: true, value };
      } catch (e) {
        return { ok: false, error: toAppError(e) };
      } finally {
        setRunning(false);
        afterDeploy(profileId);
      }
    },
    [afterDeploy, onEvent, profileId],
  );

  const clear = useCallback(() => {
    setProgress(EMPTY_PROGRESS);
  }, []);

  return { running, progress, apply, clear };
}
