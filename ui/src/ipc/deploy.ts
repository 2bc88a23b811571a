import { Channel } from '@tauri-apps/api/core';
import { useQueries, useQuery, useQueryClient } from '@tanstack/react-query';

import { commands } from './bindings';
import type { AppError, ArchivedBundle, DeployEvent, DeployPlan, Environment, RollbackPlan, VersionList } from './types';
import { callCommand } from './errors';
import { queryKeys } from './queries';

export const deployKeys = {
  bundles: (profileId: string) => ['deploy', profileId, 'bundles'] as const,
  versions: (profileId: string, service: string, environment: Environment) =>
    ['deploy', profileId, 'versions', service, environment] as const,
  rollbackPlan: (profileId: string, service: string, environment: Environment) =>
    ['deploy', profileId, 'rollbackPlan', service, environment] as const,
  restorePlan: (profileId: string, deploymentId: string) => ['deploy', profileId, 'restorePlan', deploymentId] as const,
  all: (profileId: string) => ['deploy', profileId] as const,
};

/** A channel that hands every deploy event to `onEvent`. */
export function eventChannel(onEvent: (event: DeployEvent) => void): Channel<DeployEvent> {
  const channel = new Channel<DeployEvent>();
  channel.onmessage = onEvent;
  return channel;
}

/** Every version of a service in an environment, and whether each can be restored. */
export function useVersions(profileId: string, service: string, environment: Environment) {
  return useQuery<VersionList, AppError>({
    queryKey: deployKeys.versions(profileId, service, environment),
    queryFn: () => callCommand(() => commands.deploymentVersions(profileId, service, environment)),
    enabled: service !== '',
  });
}

/**
 * The versions of several services of one environment at once (the command palette completing
 * "restore ‹service› ‹version›"); nothing is read while `enabled` is false.
 */
export function useVersionsOf(profileId: string, services: readonly string[], environment: Environment, enabled: boolean) {
  return useQueries({
    queries: services.map((service) => ({
      queryKey: deployKeys.versions(profileId, service, environment),
      queryFn: () => callCommand(() => commands.deploymentVersions(profileId, service, environment)),
      enabled: enabled && profileId !== '',
    })),
    // Only the lists (structurally shared: the same array while nothing changed).
    combine: (results) => results.map((r) => r.data),
  });
}

/** What the one-step rollback would make current (fetched when asked for). */
export function useRollbackPlan(profileId: string, service: string, environment: Environment, enabled: boolean) {
  return useQuery<RollbackPlan, AppError>({
    queryKey: deployKeys.rollbackPlan(profileId, service, environment),
    queryFn: () => callCommand(() => commands.rollbackPlan(profileId, service, environment)),
    enabled,
    staleTime: 0,
    gcTime: 0,
  });
}

/** The plan of restoring an archived version. */
export function useRestorePlan(profileId: string, deploymentId: string | null) {
  return useQuery<DeployPlan, AppError>({
    queryKey: deployKeys.restorePlan(profileId, deploymentId ?? ''),
    queryFn: () => callCommand(() => commands.restorePlan(profileId, deploymentId ?? '')),
    enabled: deploymentId !== null,
    staleTime: 0,
    gcTime: 0,
  });
}

/** After anything is deployed or rolled back: history, versions and health are stale. */
export function useAfterDeploy() {
  const client = useQueryClient();
  return (profileId: string) => {
    void client.invalidateQueries({ queryKey: queryKeys.history(profileId) });
    void client.invalidateQueries({ queryKey: deployKeys.all(profileId) });
    void client.invalidateQueries({ queryKey: ['health', profileId] });
  };
}

/** The bundles the app archived for a profile (to show a deployment's hash and size). */
export function useArchivedBundles(profileId: string) {
  return useQuery<ArchivedBundle[], AppError>({
    queryKey: deployKeys.bundles(profileId),
    queryFn: () => callCommand(() => commands.archivedBundles(profileId)),
  });
}
