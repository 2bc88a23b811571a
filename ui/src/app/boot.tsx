/**
 * Renders the window, loaded by main.tsx after it has asked for the first screen's data. The
 * query cache is given those answers under the keys the views use (app info, and the first page
 * of the Deployments area's history), so the first render already shows the history table: the
 * page lays out and paints its full first screen once, instead of a shell waiting for data.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import type { QueryClient } from '@tanstack/react-query';

import { App } from './App';
import type { FirstScreenData } from './firstScreen';
import { appInfoQuery, queryKeys } from '../ipc/queries';
import { createQueryClient, Providers } from '../shell/Providers';

/**
 * How long the first render waits for the first screen's data (the answers take a few
 * milliseconds; a slower one is shown by its view's own loading state).
 */
const WAIT_FOR_DATA_MS = 300;

/** Put the early answers where the views look for them (the same keys and shapes they use). */
export function seedFirstScreen(queryClient: QueryClient, data: FirstScreenData): Promise<void> {
  // Errors too: the query holds them, and its view shows them (and asks again on retry).
  queryClient.query({ ...appInfoQuery, queryFn: () => data.appInfo }).catch(() => undefined);
  return data.history.then((first) => {
    if (first === null) {
      return;
    }
    const key = queryKeys.historyPage(first.profileId, {});
    // Not over an answer the view already got by itself (a slow first answer).
    if (queryClient.getQueryData(key) === undefined) {
      queryClient.setQueryData(key, { pages: [first.page], pageParams: [0] });
    }
  });
}

export async function boot(data: FirstScreenData): Promise<void> {
  const root = document.getElementById('root');
  if (!root) {
    throw new Error('index.html has no #root element');
  }
  const queryClient = createQueryClient();
  const seeded = seedFirstScreen(queryClient, data);
  await Promise.race([
    seeded,
    new Promise((resolve) => {
      setTimeout(resolve, WAIT_FOR_DATA_MS);
    }),
  ]);
  createRoot(root).render(
    <StrictMode>
      <Providers queryClient={queryClient}>
        <App />
      </Providers>
    </StrictMode>,
  );
}
