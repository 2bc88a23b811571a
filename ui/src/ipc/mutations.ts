import { useMutation, useQueryClient } from '@tanstack/react-query';

import { commands } from './bindings';
import type { AppError, KeyCheck, Profile, SecretKindArg, TokenCheck } from './types';
import { callCommand } from './errors';
import { queryKeys } from './queries';

/** Make a profile the active one; everything shown depends on it, so everything is refetched. */
export function useSelectProfile() {
  const client = useQueryClient();
  return useMutation<Profile, AppError, string>({
    mutationFn: (id) => callCommand(() => commands.selectProfile(id)),
    onSuccess: () => client.invalidateQueries(),
  });
}

/** Create or replace a profile. */
export function useSaveProfile() {
  const client = useQueryClient();
  return useMutation<Profile, AppError, Profile>({
    mutationFn: (profile) => callCommand(() => commands.saveProfile(profile)),
    onSuccess: async (saved) => {
      await Promise.all([
        client.invalidateQueries({ queryKey: queryKeys.appInfo }),
        client.invalidateQueries({ queryKey: queryKeys.profiles }),
        client.invalidateQueries({ queryKey: queryKeys.history(saved.id) }),
        // New addresses detach the stored keys: their state changed.
        client.invalidateQueries({ queryKey: queryKeys.secrets(saved.id) }),
      ]);
    },
  });
}

/** Delete a profile, its cached history and its keychain entries. */
export function useDeleteProfile() {
  const client = useQueryClient();
  return useMutation<null, AppError, string>({
    mutationFn: (id) => callCommand(() => commands.deleteProfile(id)),
    onSuccess: async (_none, id) => {
      client.removeQueries({ queryKey: queryKeys.history(id) });
      client.removeQueries({ queryKey: queryKeys.secrets(id) });
      await Promise.all([
        client.invalidateQueries({ queryKey: queryKeys.appInfo }),
        client.invalidateQueries({ queryKey: queryKeys.profiles }),
        client.invalidateQueries({ queryKey: ['secrets'] }),
      ]);
    },
  });
}

export interface SecretWrite {
  profileId: string;
  kind: SecretKindArg;
  value: string;
}

/** Store a secret in the OS keychain. The value is never read back. */
export function useSetSecret() {
  const client = useQueryClient();
  return useMutation<null, AppError, SecretWrite>({
    mutationFn: ({ profileId, kind, value }) => callCommand(() => commands.setSecret(profileId, kind, value)),
    onSuccess: (_none, { profileId }) => client.invalidateQueries({ queryKey: queryKeys.secrets(profileId) }),
  });
}

/** Test a profile's Cloudflare API token (active? may it list the account's namespaces?). */
export function useTestCloudflareToken() {
  return useMutation<TokenCheck, AppError, string>({
    mutationFn: (profileId) => callCommand(() => commands.testCloudflareToken(profileId)),
  });
}

/** Move a profile's stored keys to the addresses it names now (the operator says it is the same service). */
export function useMoveKeys() {
  const client = useQueryClient();
  return useMutation<null, AppError, string>({
    mutationFn: (profileId) => callCommand(() => commands.moveKeys(profileId)),
    onSuccess: (_none, profileId) => client.invalidateQueries({ queryKey: queryKeys.secrets(profileId) }),
  });
}

/** Remove a secret from the OS keychain. */
export function useDeleteSecret() {
  const client = useQueryClient();
  return useMutation<null, AppError, { profileId: string; kind: SecretKindArg }>({
    mutationFn: ({ profileId, kind }) => callCommand(() => commands.deleteSecret(profileId, kind)),
    onSuccess: (_none, { profileId }) => client.invalidateQueries({ queryKey: queryKeys.secrets(profileId) }),
  });
}

/** Test a profile's Deploy API key against the auth service and the Deploy API. */
export function useValidateKey() {
  return useMutation<KeyCheck, AppError, string>({
    mutationFn: (profileId) => callCommand(() => commands.validateKey(profileId)),
  });
}

/** Profiles as TOML, without secrets (all when `ids` is empty). */
export function useExportProfiles() {
  return useMutation<string, AppError, string[]>({
    mutationFn: (ids) => callCommand(() => commands.exportProfiles(ids)),
  });
}

/** Import profiles from TOML. */
export function useImportProfiles() {
  const client = useQueryClient();
  return useMutation<Profile[], AppError, { toml: string; replace: boolean }>({
    mutationFn: ({ toml, replace }) => callCommand(() => commands.importProfiles(toml, replace)),
    onSuccess: async () => {
      await Promise.all([
        client.invalidateQueries({ queryKey: queryKeys.appInfo }),
        client.invalidateQueries({ queryKey: queryKeys.profiles }),
      ]);
    },
  });
}

