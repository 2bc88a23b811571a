import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { commands } from './bindings';
import type { AppError, HealthBoard, HealthPoint, SandboxRuntime } from './types';
import { callCommand } from './errors';

/** How long each target gets to answer a check. */
export const HEALTH_TIMEOUT_MS = 5000;

/** How far back a sparkline reaches. */
export const SPARKLINE_WINDOW_MS = 60 * 60 * 1000;

/** How often the sandbox's runtime is asked about while the Local sandbox profile is active. */
export const RUNTIME_POLL_MS = 10_000;

/** The correlation window's bounds, in minutes (the engine checks them too). */
export const CORRELATION_WINDOW_MIN = 1;
export const CORRELATION_WINDOW_MAX = 1440;

export const healthKeys = {
  runtime: ['sandboxRuntime'] as const,
  correlationWindow: ['correlationWindow'] as const,
  all: (profileId: string) => ['health', profileId] as const,
  board: (profileId: string) => ['health', profileId, 'board'] as const,
  history: (profileId: string, target: string, sinceMs: number) =>
    ['health', profileId, 'history', target, sinceMs] as const,
};

/**
 * Check every service, the dispatcher and the Deploy API of a profile. Checks again every
 * `intervalMs` (or only when asked, with `false`). `onChecked` sees every board as it arrives
 * (outside render), e.g. to raise notifications for state changes.
 */
export function useHealthBoard(
  profileId: string | null,
  intervalMs: number | false,
  onChecked?: (board: HealthBoard) => void,
) {
  return useQuery<HealthBoard, AppError>({
    queryKey: healthKeys.board(profileId ?? ''),
    queryFn: async () => {
      const board = await callCommand(() => commands.checkHealth(profileId ?? '', HEALTH_TIMEOUT_MS));
      onChecked?.(board);
      return board;
    },
    enabled: profileId !== null,
    refetchInterval: intervalMs,
    refetchIntervalInBackground: false,
  });
}

/** The stored samples of one target since `sinceMs` (epoch ms), for its sparkline. */
export function useHealthHistory(profileId: string | null, target: string, sinceMs: number | null) {
  return useQuery<HealthPoint[], AppError>({
    queryKey: healthKeys.history(profileId ?? '', target, sinceMs ?? 0),
    queryFn: () => callCommand(() => commands.healthHistory(profileId ?? '', target, sinceMs)),
    enabled: profileId !== null && sinceMs !== null,
    staleTime: Infinity,
    placeholderData: keepPreviousData,
  });
}

/**
 * Whether the embedded sandbox executes deployed scripts (workerd found and running), and what its
 * runtime reported. Asked every RUNTIME_POLL_MS while `enabled` (the Local sandbox is the active
 * profile). `null` when no sandbox runs in this process.
 */
export function useSandboxRuntime(enabled: boolean) {
  return useQuery<SandboxRuntime | null, AppError>({
    queryKey: healthKeys.runtime,
    queryFn: () => callCommand(() => commands.sandboxRuntime()),
    enabled,
    refetchInterval: enabled ? RUNTIME_POLL_MS : false,
    refetchIntervalInBackground: false,
  });
}

/** The health ↔ deployment correlation window, in minutes. */
export function useCorrelationWindow() {
  return useQuery<number, AppError>({
    queryKey: healthKeys.correlationWindow,
    queryFn: () => callCommand(() => commands.correlationWindow()),
    staleTime: Infinity,
  });
}

/** Save the correlation window (the next health check uses it). */
export function useSetCorrelationWindow() {
  const client = useQueryClient();
  return useMutation<null, AppError, number>({
    mutationFn: (minutes) => callCommand(() => commands.setCorrelationWindow(minutes)),
    onSuccess: (_none, minutes) => {
      client.setQueryData(healthKeys.correlationWindow, minutes);
    },
  });
}
