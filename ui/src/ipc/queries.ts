import { type InfiniteData, keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';

import { commands } from './bindings';
import type { AppError, AppInfo, DeploymentFilter, HistoryPage, KeychainStatus, Profile, ProfileSecrets } from './types';
import { callCommand } from './errors';
import { markOnce } from '../perf';

/** Query keys for everything read over IPC. Per-profile keys start with the profile's id. */
export const queryKeys = {
  appInfo: ['appInfo'] as const,
  keychain: ['keychain'] as const,
  profiles: ['profiles'] as const,
  secrets: (profileId: string) => ['secrets', profileId] as const,
  /** Everything cached about one profile's history (all filters, and "as of"). */
  history: (profileId: string) => ['history', profileId] as const,
  historyPage: (profileId: string, filter: DeploymentFilter) => ['history', profileId, 'page', filter] as const,
  historyAsOf: (profileId: string) => ['history', profileId, 'asOf'] as const,
};

/** The app info query, also started before the first render (main.tsx) to save a round trip. */
export const appInfoQuery = {
  queryKey: queryKeys.appInfo,
  queryFn: async (): Promise<AppInfo> => {
    markOnce('app-info-asked');
    const info = await callCommand(() => commands.appInfo());
    markOnce('app-info-received');
    return info;
  },
  staleTime: Infinity,
} as const;

/** Name, version, data directory and profiles, from the `app_info` command. */
export function useAppInfo() {
  return useQuery<AppInfo, AppError>(appInfoQuery);
}

/** Every profile with all its (non-secret) settings. */
export function useProfiles() {
  return useQuery<Profile[], AppError>({
    queryKey: queryKeys.profiles,
    queryFn: () => callCommand(() => commands.listProfiles()),
    staleTime: Infinity,
  });
}

/** Which secrets a profile has in the keychain (never their values). */
export function useProfileSecrets(profileId: string | null) {
  return useQuery<ProfileSecrets, AppError>({
    queryKey: queryKeys.secrets(profileId ?? ''),
    queryFn: () => callCommand(() => commands.profileSecrets(profileId ?? '')),
    enabled: profileId !== null,
    staleTime: Infinity,
  });
}

/** Whether the OS keychain can be used (asked apart from app info: reaching it can be slow). */
export function useKeychainStatus() {
  return useQuery<KeychainStatus, AppError>({
    queryKey: queryKeys.keychain,
    queryFn: () => callCommand(() => commands.keychainStatus()),
    staleTime: 30_000,
  });
}

/** Rows per history page: a screenful many times over, and a query of a few milliseconds. */
export const HISTORY_PAGE_SIZE = 200;

/**
 * Cached deployments of a profile matching `filter` (its order included), a page at a time:
 * the first page brings the total and "as of", `fetchNextPage` the next rows.
 */
export function useHistoryPages(profileId: string | null, filter: DeploymentFilter) {
  return useInfiniteQuery<HistoryPage, AppError, InfiniteData<HistoryPage, number>, readonly unknown[], number>({
    queryKey: queryKeys.historyPage(profileId ?? '', filter),
    queryFn: async ({ pageParam }) => {
      markOnce('history-asked');
      const page = await callCommand(() =>
        commands.queryHistory(profileId ?? '', { ...filter, limit: HISTORY_PAGE_SIZE, offset: pageParam }),
      );
      markOnce('history-received');
      return page;
    },
    initialPageParam: 0,
    getNextPageParam: (last, pages) => {
      const loaded = pages.reduce((n, p) => n + p.deployments.length, 0);
      return last.deployments.length > 0 && loaded < last.total ? loaded : undefined;
    },
    enabled: profileId !== null,
    staleTime: Infinity,
    placeholderData: keepPreviousData,
  });
}

/** Only how fresh a profile's cached history is (for the status bar). */
export function useHistoryAsOf(profileId: string | null) {
  return useQuery<HistoryPage, AppError, number | null>({
    queryKey: queryKeys.historyAsOf(profileId ?? ''),
    queryFn: () => callCommand(() => commands.queryHistory(profileId ?? '', { limit: 1 })),
    select: (page) => page.asOfMs ?? null,
    enabled: profileId !== null,
    staleTime: Infinity,
  });
}
