import { keepPreviousData, useQuery } from '@tanstack/react-query';

import {
  type AppError,
  type AppInfo,
  commands,
  type DeploymentFilter_Deserialize,
  type HistoryPage,
  type Profile,
  type ProfileSecrets,
} from './bindings';
import { callCommand } from './errors';

/** Query keys for everything read over IPC. Per-profile keys start with the profile's id. */
export const queryKeys = {
  appInfo: ['appInfo'] as const,
  profiles: ['profiles'] as const,
  secrets: (profileId: string) => ['secrets', profileId] as const,
  /** Everything cached about one profile's history (all filters, and "as of"). */
  history: (profileId: string) => ['history', profileId] as const,
  historyPage: (profileId: string, filter: DeploymentFilter_Deserialize) => ['history', profileId, 'page', filter] as const,
  historyAsOf: (profileId: string) => ['history', profileId, 'asOf'] as const,
};

/** Name, version, data directory and profiles, from the `app_info` command. */
export function useAppInfo() {
  return useQuery<AppInfo, AppError>({
    queryKey: queryKeys.appInfo,
    queryFn: () => callCommand(() => commands.appInfo()),
    staleTime: Infinity,
  });
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

/** Cached deployments of a profile matching `filter`, newest first, with "as of". */
export function useHistory(profileId: string | null, filter: DeploymentFilter_Deserialize) {
  return useQuery<HistoryPage, AppError>({
    queryKey: queryKeys.historyPage(profileId ?? '', filter),
    queryFn: () => callCommand(() => commands.queryHistory(profileId ?? '', filter)),
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
