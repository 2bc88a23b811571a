import { Channel } from '@tauri-apps/api/core';
import { useCallback, useEffect, useRef, useState } from 'react';

import { commands } from './bindings';
import type { AppError, LogLine, LogsEvent } from './types';
import { callCommand } from './errors';

/**
 * How long the choice of services must stay the same before a tail starts: ticking three services
 * in a row starts one tail of the three, not three tails opened and deleted on the platform.
 */
export const START_DELAY_MS = 250;

/** Most services one tail follows (the engine refuses more). */
export const MAX_TAILED_SERVICES = 16;

/** Where one service's tail is, as its events said. */
export type Connection =
  | { state: 'connecting' }
  | { state: 'connected' }
  | { state: 'reconnecting'; attempt: number; reason: string; retryInMs: number; retryAtMs: number }
  | { state: 'stopped' };

/**
 * idle: no service chosen, or the tail was stopped by the operator; starting: asked for, not
 * confirmed yet; live: the engine opened it; stopping: asked to stop, not confirmed yet; stopped:
 * the engine ended it; failed: it could not start (see `error`).
 */
export type LogsPhase = 'idle' | 'starting' | 'live' | 'stopping' | 'stopped' | 'failed';

interface Reported {
  /** The request these facts are about. */
  key: string | null;
  services: string[];
  phase: LogsPhase;
  error: AppError | null;
  connections: Record<string, Connection>;
}

const NOTHING: Reported = { key: null, services: [], phase: 'idle', error: null, connections: {} };

function fresh(key: string, services: string[]): Reported {
  return {
    key,
    services,
    phase: 'starting',
    error: null,
    connections: Object.fromEntries(services.map((s) => [s, { state: 'connecting' }])),
  };
}

function withConnection(r: Reported, service: string, connection: Connection): Reported {
  return { ...r, connections: { ...r.connections, [service]: connection } };
}

export interface LogsSessionOptions {
  profileId: string;
  /** The services to tail; none means no tail. */
  services: readonly string[];
  /** False when the operator stopped the tail. */
  enabled: boolean;
  /** Every invocation line, as it arrives (outside render). */
  onLine: (line: LogLine) => void;
}

export interface LogsSession {
  phase: LogsPhase;
  /** The services of the tail shown (asked for, live or just stopped). */
  services: string[];
  /** Why the tail could not start. */
  error: AppError | null;
  /** Why ending a tail failed. */
  stopError: AppError | null;
  connections: Record<string, Connection>;
  /** Try to start again after a failure. */
  retry: () => void;
}

/**
 * A live tail of `services` while they are chosen and `enabled`. A new choice stops the old tail
 * and starts one of the new choice; unmounting stops it. Every session started is stopped with
 * `stopLogs`, also one whose start answers after it was no longer wanted.
 */
export function useLogsSession({ profileId, services, enabled, onLine }: LogsSessionOptions): LogsSession {
  const [attempt, setAttempt] = useState(0);
  const [reported, setReported] = useState<Reported>(NOTHING);
  const [stopError, setStopError] = useState<AppError | null>(null);
  const onLineRef = useRef(onLine);
  useEffect(() => {
    onLineRef.current = onLine;
  }, [onLine]);

  const servicesKey = services.join('\n');
  const key = enabled && services.length > 0 ? `${profileId}\n${String(attempt)}\n${servicesKey}` : null;

  useEffect(() => {
    if (key === null) {
      return;
    }
    const wanted = servicesKey.split('\n');
    let active = true;
    let session: number | null = null;
    const update = (f: (r: Reported) => Reported) => {
      setReported((r) => f(r.key === key ? r : fresh(key, wanted)));
    };
    const channel = new Channel<LogsEvent>();
    channel.onmessage = (event) => {
      if (!active) {
        return;
      }
      switch (event.kind) {
        case 'line':
          onLineRef.current(event.line);
          break;
        case 'connected':
          update((r) => withConnection(r, event.service, { state: 'connected' }));
          break;
        case 'reconnecting':
          update((r) =>
            withConnection(r, event.service, {
              state: 'reconnecting',
              attempt: event.attempt,
              reason: event.reason,
              retryInMs: event.retryInMs,
              retryAtMs: Date.now() + event.retryInMs,
            }),
          );
          break;
        case 'stopped':
          update((r) => withConnection(r, event.service, { state: 'stopped' }));
          break;
      }
    };

    const stop = (id: number) => {
      callCommand(() => commands.stopLogs(id)).then(
        () => {
          setStopError(null);
          setReported((r) =>
            r.key === key
              ? {
                  ...r,
                  phase: 'stopped',
                  connections: Object.fromEntries(r.services.map((s) => [s, { state: 'stopped' }])),
                }
              : r,
          );
        },
        (error: unknown) => {
          setStopError(error as AppError);
        },
      );
    };

    const timer = window.setTimeout(() => {
      update((r) => r);
      callCommand(() => commands.startLogs({ profileId, services: wanted }, channel)).then(
        (id) => {
          if (!active) {
            // Left (or chose again) while the tail was being opened: end it now.
            stop(id);
            return;
          }
          session = id;
          update((r) => ({ ...r, phase: r.phase === 'starting' ? 'live' : r.phase }));
        },
        (error: unknown) => {
          if (active) {
            update((r) => ({ ...r, phase: 'failed', error: error as AppError }));
          } else {
            // No longer wanted, and nothing was opened: there is nothing to stop.
            setReported((r) => (r.key === key ? NOTHING : r));
          }
        },
      );
    }, START_DELAY_MS);

    return () => {
      active = false;
      window.clearTimeout(timer);
      if (session !== null) {
        stop(session);
      }
    };
  }, [key, profileId, servicesKey]);

  const retry = useCallback(() => {
    setAttempt((n) => n + 1);
  }, []);

  // What is shown: the facts about the current request, or, once it is no longer wanted, how the
  // last one ended.
  let shown: Reported;
  if (key !== null) {
    shown = reported.key === key ? reported : fresh(key, [...services]);
  } else if (reported.key !== null && (reported.phase === 'live' || reported.phase === 'starting')) {
    shown = { ...reported, phase: 'stopping' };
  } else if (reported.key !== null && reported.phase === 'stopped') {
    shown = reported;
  } else {
    shown = NOTHING;
  }

  return {
    phase: shown.phase,
    services: shown.services,
    error: shown.error,
    stopError,
    connections: shown.connections,
    retry,
  };
}
