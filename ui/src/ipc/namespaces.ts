import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { commands } from './bindings';
import type { AppError, BindingsDiff, DeletePlan, Drift, NamespaceSummary, TagDeletePlan, WorkerDetail, WorkerRow, WorkerSecrets } from './types';
import { callCommand } from './errors';

/** Query keys of the Namespaces area. Everything about one profile's namespaces starts with the same two. */
export const namespaceKeys = {
  all: (profileId: string) => ['namespaces', profileId] as const,
  list: (profileId: string) => ['namespaces', profileId, 'list'] as const,
  deletePlan: (profileId: string, name: string) => ['namespaces', profileId, 'deletePlan', name] as const,
  workers: (profileId: string, namespace: string) => ['namespaces', profileId, 'workers', namespace] as const,
  worker: (profileId: string, namespace: string, script: string) =>
    ['namespaces', profileId, 'workers', namespace, 'detail', script] as const,
  workerContent: (profileId: string, namespace: string, script: string) =>
    ['namespaces', profileId, 'workers', namespace, 'content', script] as const,
  workerSecrets: (profileId: string, namespace: string, script: string) =>
    ['namespaces', profileId, 'workers', namespace, 'secrets', script] as const,
};

/** The dispatch namespaces of a profile's Cloudflare account, sorted by name. */
export function useNamespaces(profileId: string | null) {
  return useQuery<NamespaceSummary[], AppError>({
    queryKey: namespaceKeys.list(profileId ?? ''),
    queryFn: () => callCommand(() => commands.listNamespaces(profileId ?? '')),
    enabled: profileId !== null,
  });
}

/** What deleting a namespace would remove, and what must be typed to confirm it. */
export function useDeletePlan(profileId: string | null, name: string | null) {
  return useQuery<DeletePlan, AppError>({
    queryKey: namespaceKeys.deletePlan(profileId ?? '', name ?? ''),
    queryFn: () => callCommand(() => commands.namespaceDeletePlan(profileId ?? '', name ?? '')),
    enabled: profileId !== null && name !== null,
  });
}

/** Every worker of a namespace (one listing; thousands of rows are expected). */
export function useWorkers(profileId: string | null, namespace: string | null) {
  return useQuery<WorkerRow[], AppError>({
    queryKey: namespaceKeys.workers(profileId ?? '', namespace ?? ''),
    queryFn: () => callCommand(() => commands.listWorkers(profileId ?? '', namespace ?? '')),
    enabled: profileId !== null && namespace !== null,
  });
}

/** One worker's tags, bindings, settings and size. */
export function useWorkerDetail(profileId: string | null, namespace: string, script: string | null) {
  return useQuery<WorkerDetail, AppError>({
    queryKey: namespaceKeys.worker(profileId ?? '', namespace, script ?? ''),
    queryFn: () => callCommand(() => commands.workerDetail(profileId ?? '', namespace, script ?? '')),
    enabled: profileId !== null && script !== null,
  });
}

/** One worker's source; fetched only once `enabled` (the operator asked for it). */
export function useWorkerContent(profileId: string | null, namespace: string, script: string, enabled: boolean) {
  return useQuery<string, AppError>({
    queryKey: namespaceKeys.workerContent(profileId ?? '', namespace, script),
    queryFn: () => callCommand(() => commands.workerContent(profileId ?? '', namespace, script)),
    enabled: enabled && profileId !== null,
    staleTime: Infinity,
  });
}

function useInvalidateNamespaces(profileId: string) {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: namespaceKeys.all(profileId) });
}

/** Create a namespace. */
export function useCreateNamespace(profileId: string) {
  const invalidate = useInvalidateNamespaces(profileId);
  return useMutation<NamespaceSummary, AppError, string>({
    mutationFn: (name) => callCommand(() => commands.createNamespace(profileId, name)),
    onSuccess: invalidate,
  });
}

/** Turn a namespace's trusted mode on or off. */
export function useSetNamespaceTrusted(profileId: string) {
  const invalidate = useInvalidateNamespaces(profileId);
  return useMutation<NamespaceSummary, AppError, { name: string; trusted: boolean }>({
    mutationFn: ({ name, trusted }) => callCommand(() => commands.setNamespaceTrusted(profileId, name, trusted)),
    onSuccess: invalidate,
  });
}

/** Rename a namespace. */
export function useRenameNamespace(profileId: string) {
  const invalidate = useInvalidateNamespaces(profileId);
  return useMutation<NamespaceSummary, AppError, { name: string; newName: string }>({
    mutationFn: ({ name, newName }) => callCommand(() => commands.renameNamespace(profileId, name, newName)),
    onSuccess: invalidate,
  });
}

/** Delete a namespace and its workers; the back-end refuses unless `typedConfirmation` is its name. */
export function useDeleteNamespace(profileId: string) {
  const client = useQueryClient();
  return useMutation<null, AppError, { plan: DeletePlan; typedConfirmation: string }>({
    mutationFn: ({ plan, typedConfirmation }) =>
      callCommand(() => commands.deleteNamespace(profileId, plan.namespace, typedConfirmation, plan.scriptCount)),
    onSuccess: async (_none, { plan }) => {
      client.removeQueries({ queryKey: namespaceKeys.workers(profileId, plan.namespace) });
      client.removeQueries({ queryKey: namespaceKeys.deletePlan(profileId, plan.namespace) });
      await client.invalidateQueries({ queryKey: namespaceKeys.list(profileId) });
    },
  });
}

/** Delete one worker from a namespace; the engine wants its name typed, as for a namespace. */
export function useDeleteWorker(profileId: string, namespace: string) {
  const client = useQueryClient();
  return useMutation<null, AppError, { script: string; typedConfirmation: string }>({
    mutationFn: ({ script, typedConfirmation }) =>
      callCommand(() => commands.deleteWorker(profileId, namespace, script, typedConfirmation)),
    onSuccess: async (_none, { script }) => {
      client.removeQueries({ queryKey: namespaceKeys.worker(profileId, namespace, script) });
      client.removeQueries({ queryKey: namespaceKeys.workerContent(profileId, namespace, script) });
      await Promise.all([
        client.invalidateQueries({ queryKey: namespaceKeys.workers(profileId, namespace) }),
        client.invalidateQueries({ queryKey: namespaceKeys.list(profileId) }),
        client.invalidateQueries({ queryKey: namespaceKeys.deletePlan(profileId, namespace) }),
      ]);
    },
  });
}

/** Which workers differ between two namespaces (run on demand, by the Compare button). */
export function useCompareNamespaces(profileId: string) {
  return useMutation<Drift, AppError, { left: string; right: string }>({
    mutationFn: ({ left, right }) => callCommand(() => commands.compareNamespaces(profileId, left, right)),
  });
}

/** A local service folder's wrangler.jsonc bindings against a deployed worker's. */
export function useCompareBindings(profileId: string) {
  return useMutation<BindingsDiff, AppError, { namespace: string; script: string; folder: string }>({
    mutationFn: ({ namespace, script, folder }) =>
      callCommand(() => commands.compareBindings(profileId, namespace, script, folder)),
  });
}

/** A worker's secret names (never values), its tags, and whether changes need its name typed. */
export function useWorkerSecrets(profileId: string | null, namespace: string, script: string) {
  return useQuery<WorkerSecrets, AppError>({
    queryKey: namespaceKeys.workerSecrets(profileId ?? '', namespace, script),
    queryFn: () => callCommand(() => commands.workerSecrets(profileId ?? '', namespace, script)),
    enabled: profileId !== null,
  });
}

function useRefreshWorker(profileId: string, namespace: string, script: string) {
  const client = useQueryClient();
  return () =>
    Promise.all([
      client.invalidateQueries({ queryKey: namespaceKeys.workerSecrets(profileId, namespace, script) }),
      client.invalidateQueries({ queryKey: namespaceKeys.worker(profileId, namespace, script) }),
    ]);
}

/**
 * Set one secret. The value goes to Rust in this call's argument and nowhere else: it is not kept
 * in the cache (the caller resets the mutation once it settles, and `gcTime: 0` drops it then),
 * and the reply is the name.
 */
export function usePutWorkerSecret(profileId: string, namespace: string, script: string) {
  const refresh = useRefreshWorker(profileId, namespace, script);
  return useMutation<string, AppError, { name: string; value: string; typedConfirmation: string | null }>({
    mutationFn: ({ name, value, typedConfirmation }) =>
      callCommand(() => commands.putWorkerSecret(profileId, namespace, script, name, value, typedConfirmation)),
    onSuccess: refresh,
    // Once reset, the mutation (and the value in its variables) leaves the cache at once.
    gcTime: 0,
  });
}

/** Delete one secret of a worker. */
export function useDeleteWorkerSecret(profileId: string, namespace: string, script: string) {
  const refresh = useRefreshWorker(profileId, namespace, script);
  return useMutation<null, AppError, { name: string; typedConfirmation: string | null }>({
    mutationFn: ({ name, typedConfirmation }) =>
      callCommand(() => commands.deleteWorkerSecret(profileId, namespace, script, name, typedConfirmation)),
    onSuccess: refresh,
  });
}

/** Set several secrets from pasted `.env` lines (parsed in Rust); resolves to the names set. */
export function useBulkSetWorkerSecrets(profileId: string, namespace: string, script: string) {
  const refresh = useRefreshWorker(profileId, namespace, script);
  return useMutation<string[], AppError, { envText: string; typedConfirmation: string | null }>({
    mutationFn: ({ envText, typedConfirmation }) =>
      callCommand(() => commands.bulkSetWorkerSecrets(profileId, namespace, script, envText, typedConfirmation)),
    onSuccess: refresh,
    gcTime: 0,
  });
}

/** Replace a worker's tags; resolves to the tags now. */
export function useSetWorkerTags(profileId: string, namespace: string, script: string) {
  const client = useQueryClient();
  const refresh = useRefreshWorker(profileId, namespace, script);
  return useMutation<string[], AppError, { tags: string[]; typedConfirmation: string | null }>({
    mutationFn: ({ tags, typedConfirmation }) =>
      callCommand(() => commands.setWorkerTags(profileId, namespace, script, tags, typedConfirmation)),
    onSuccess: async () => {
      await Promise.all([refresh(), client.invalidateQueries({ queryKey: namespaceKeys.workers(profileId, namespace) })]);
    },
  });
}

/** Which workers of a namespace carry a tag (asked on demand: the preview of a delete by tag). */
export function useTagDeletePlan(profileId: string, namespace: string) {
  return useMutation<TagDeletePlan, AppError, { tag: string }>({
    mutationFn: ({ tag }) => callCommand(() => commands.tagDeletePlan(profileId, namespace, tag)),
  });
}

/** Delete the workers a preview listed; refused when the tag was typed wrong or the list changed. */
export function useDeleteWorkersByTag(profileId: string, namespace: string) {
  const client = useQueryClient();
  return useMutation<string[], AppError, { plan: TagDeletePlan; typedConfirmation: string }>({
    mutationFn: ({ plan, typedConfirmation }) =>
      callCommand(() => commands.deleteWorkersByTag(profileId, namespace, plan.tag, typedConfirmation, plan.scripts)),
    onSuccess: async () => {
      await Promise.all([
        client.invalidateQueries({ queryKey: namespaceKeys.workers(profileId, namespace) }),
        client.invalidateQueries({ queryKey: namespaceKeys.list(profileId) }),
        client.invalidateQueries({ queryKey: namespaceKeys.deletePlan(profileId, namespace) }),
      ]);
    },
  });
}
