import { Channel } from '@tauri-apps/api/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { commands } from './bindings';
import type { AppError, SyncProgress, SyncReport } from './types';
import { callCommand } from './errors';
import { queryKeys } from './queries';

/** The automatic sync setting's bounds, in minutes (0: never; the engine checks them too). */
export const AUTO_SYNC_MIN = 0;
export const AUTO_SYNC_MAX = 10_080;

export const historyKeys = {
  autoSync: ['historyAutoSync'] as const,
};

/**
 * How old (minutes) a profile's cached history may get before Deployments syncs it by itself
 * (a never-synced cache is synced on the first open); 0 turns automatic syncs off.
 */
export function useHistoryAutoSync() {
  return useQuery<number, AppError>({
    queryKey: historyKeys.autoSync,
    queryFn: () => callCommand(() => commands.historyAutoSync()),
    staleTime: Infinity,
  });
}

/** Save the automatic sync age (the next opening of Deployments uses it). */
export function useSetHistoryAutoSync() {
  const client = useQueryClient();
  return useMutation<null, AppError, number>({
    mutationFn: (minutes) => callCommand(() => commands.setHistoryAutoSync(minutes)),
    onSuccess: (_none, minutes) => {
      client.setQueryData(historyKeys.autoSync, minutes);
    },
  });
}

/**
 * Whether a cache synced at `asOfMs` (null: never) should be synced now, given the setting.
 * 0 minutes: never automatically.
 */
export function needsAutoSync(asOfMs: number | null, minutes: number, nowMs: number): boolean {
  if (minutes <= 0) return false;
  if (asOfMs === null) return true;
  return nowMs - asOfMs > minutes * 60_000;
}

/**
 * When this window last synced a profile by itself (ms). An automatic sync is tried once per
 * opening of Deployments, and not again for a profile until the setting's age has passed since
 * the last try: one that fails (or leaves a window unsynced) is not retried in a loop, by
 * reopening either.
 */
export const autoSyncTried = new Map<string, number>();

/** A profile's history sync in flight, wherever it was started (one at a time per profile). */
export const syncHistoryKey = (profileId: string) => ['syncHistory', profileId] as const;

/** How a sync was started: by the app itself (the cache was old or never synced) or when asked. */
export interface SyncRequest {
  automatic: boolean;
}

/**
 * Sync a profile's deployment history into the cache, with `onProgress` getting one event per
 * window. Keyed by profile, so a view can tell a sync is already running (`useIsMutating`).
 */
export function useProfileHistorySync(profileId: string, onProgress: (progress: SyncProgress) => void) {
  const client = useQueryClient();
  return useMutation<SyncReport, AppError, SyncRequest>({
    mutationKey: syncHistoryKey(profileId),
    mutationFn: () => {
      const channel = new Channel<SyncProgress>();
      channel.onmessage = onProgress;
      return callCommand(() => commands.syncHistory(profileId, channel));
    },
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.history(profileId) }),
  });
}
