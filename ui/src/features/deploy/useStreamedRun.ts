import type { Channel } from '@tauri-apps/api/core';
import { useCallback, useRef, useState } from 'react';

import { eventChannel, useAfterDeploy } from '../../ipc/deploy';
import { callCommand, type CommandResult, toAppError } from '../../ipc/errors';
import type { AppError, DeployEvent } from '../../ipc/types';
import { applyEvent, EMPTY_PROGRESS, type Progress } from './progress';

/** How an applied run ended: what the command returned, or why it failed. */
export type RunEnd<T> = { ok: true; value: T } | { ok: false; error: AppError };

export interface StreamedRun {
  /** A run's plan is being prepared (its tests, build and checks stream as they go). */
  preparing: boolean;
  /** A run is applying: its plan cannot be confirmed again, nor another started. */
  running: boolean;
  /** The steps, checks and output the engine streamed for the last run. */
  progress: Progress;
  /**
   * Prepare a run's plan when preparing streams too (the deploy wizard's tests, build and checks):
   * `call` starts the command with the channel its events come on; the progress starts empty and
   * shows them. Nothing changed yet, so nothing is read again. Never throws.
   */
  prepare: <T>(call: (events: Channel<DeployEvent>) => Promise<CommandResult<T>>) => Promise<RunEnd<T>>;
  /**
   * Apply a confirmed plan: `call` starts the command with the channel its events come on. Every
   * event goes into `progress` — after the steps of its `prepare` when it had one (until `clear`),
   * else from empty; when it ends, successful or not, what the profile's history, versions and
   * health show is read again. Never throws: the end says how it went.
   */
  apply: <T>(call: (events: Channel<DeployEvent>) => Promise<CommandResult<T>>) => Promise<RunEnd<T>>;
  /** Forget the last run's progress and its preparation (another service, another plan). */
  clear: () => void;
}

/**
 * A streamed run — prepare → plan → confirm → apply → events: each command runs with an event
 * channel, its events become the progress shown, and the caches an apply changes are refreshed
 * when it ends. The caller shows the plan and asks for the confirmation between `prepare` (or its
 * own plan query, when preparing streams nothing) and `apply`. Used by the deploy wizard,
 * rollback, restore and promote.
 */
export function useStreamedRun(profileId: string): StreamedRun {
  const [preparing, setPreparing] = useState(false);
  const [running, setRunning] = useState(false);
  // A plan prepared here: its apply adds to what preparing it showed.
  const prepared = useRef(false);
  const [progress, setProgress] = useState<Progress>(EMPTY_PROGRESS);
  const afterDeploy = useAfterDeploy();

  const onEvent = useCallback((event: DeployEvent) => {
    setProgress((p) => applyEvent(p, event));
  }, []);

  /** Run `call` with the channel its events come on; the end it had, never thrown. */
  const stream = useCallback(
    async <T>(call: (events: Channel<DeployEvent>) => Promise<CommandResult<T>>): Promise<RunEnd<T>> => {
      try {
        return { ok: true, value: await callCommand(() => call(eventChannel(onEvent))) };
      } catch (e) {
        return { ok: false, error: toAppError(e) };
      }
    },
    [onEvent],
  );

  const prepare = useCallback(
    async <T>(call: (events: Channel<DeployEvent>) => Promise<CommandResult<T>>): Promise<RunEnd<T>> => {
      prepared.current = true;
      setPreparing(true);
      setProgress(EMPTY_PROGRESS);
      const end = await stream(call);
      setPreparing(false);
      return end;
    },
    [stream],
  );

  const apply = useCallback(
    async <T>(call: (events: Channel<DeployEvent>) => Promise<CommandResult<T>>): Promise<RunEnd<T>> => {
      setRunning(true);
      if (!prepared.current) {
        setProgress(EMPTY_PROGRESS);
      }
      const end = await stream(call);
      setRunning(false);
      afterDeploy(profileId);
      return end;
    },
    [afterDeploy, stream, profileId],
  );

  const clear = useCallback(() => {
    prepared.current = false;
    setProgress(EMPTY_PROGRESS);
  }, []);

  return { preparing, running, progress, prepare, apply, clear };
}
