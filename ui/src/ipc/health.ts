import { keepPreviousData, useQuery } from '@tanstack/react-query';

import { type AppError, commands, type HealthBoard, type HealthPoint } from './bindings';
import { callCommand } from './errors';

/** How long each target gets to answer a check. */
export const HEALTH_TIMEOUT_MS = 5000;

/** How far back a sparkline reaches. */
export const SPARKLINE_WINDOW_MS = 60 * 60 * 1000;

export const healthKeys = {
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
