import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Channel } from '@tauri-apps/api/core';

import { commands } from '../../ipc/bindings';
import { callCommand } from '../../ipc/errors';
import { namespaceKeys } from '../../ipc/namespaces';
import type { AppError, WorkerPage, WorkerRow } from '../../ipc/types';

/** The workers of a namespace as far as they have arrived. */
export interface WorkerListing {
  /** Every worker listed so far, page after page (each page sorted by name). */
  rows: readonly WorkerRow[];
  /** False while more pages are on their way. */
  done: boolean;
}

/** How often (ms) a namespace still loading shows the workers that arrived since it last did. */
export const PUBLISH_MS = 250;

/** Under the workers' key, so whatever refreshes the workers (a delete, new tags) lists them again. */
export const workerListingKey = (profileId: string, namespace: string) =>
  [...namespaceKeys.workers(profileId, namespace), 'by-page'] as const;

/**
 * The workers of a namespace, a page (1,000) at a time as Cloudflare answers: `data` holds what
 * has arrived (`done: false`) from the first page on, then all of them (`done: true`). When a page
 * fails, the query's error says what failed and `data` keeps the workers listed before it.
 */
export function useWorkerListing(profileId: string, namespace: string) {
  const client = useQueryClient();
  const key = workerListingKey(profileId, namespace);
  return useQuery<WorkerListing, AppError>({
    queryKey: key,
    queryFn: async () => {
      const rows: WorkerRow[] = [];
      let loaded = 0;
      let reached: (() => void) | null = null;
      let want = -1;
      // The first page is shown at once; later ones at most every PUBLISH_MS (each showing sorts,
      // groups and indexes everything loaded, so 100 pages must not mean 100 of those).
      let published = -Infinity;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const publish = () => {
        clearTimeout(timer);
        timer = undefined;
        published = performance.now();
        client.setQueryData<WorkerListing>(key, { rows: rows.slice(), done: false });
      };
      const channel = new Channel<WorkerPage>();
      channel.onmessage = (page) => {
        for (const row of page.rows) {
          rows.push(row);
        }
        loaded = page.loaded;
        if (loaded === want) {
          reached?.();
          return;
        }
        const wait = published + PUBLISH_MS - performance.now();
        if (wait <= 0) {
          publish();
        } else {
          timer ??= setTimeout(publish, wait);
        }
      };
      try {
        const count = await callCommand(() => commands.listWorkersByPage(profileId, namespace, channel));
        // The answer may overtake the last pages on the channel: wait for all `count` of them.
        if (loaded < count) {
          await new Promise<void>((resolve) => {
            want = count;
            reached = resolve;
          });
        }
        return { rows, done: true };
      } catch (error) {
        // What arrived before the failure stays on screen, with the error.
        if (rows.length > 0) {
          publish();
        }
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    // Thousands of rows: no deep comparison with the previous list on every page.
    structuralSharing: false,
  });
}
