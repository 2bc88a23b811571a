/**
 * Renders the window, loaded by main.tsx after it has asked for the first screen's data. The
 * query cache is given those answers under the keys the views use (app info, and the first page
 * of the Deployments area's history), so the first render already shows the history table: the
 * page lays out and paints its full first screen once, instead of a shell waiting for data.
 */
import { StrictMode, useEffect, useLayoutEffect, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';

import { onlineManager, type QueryClient } from '@tanstack/react-query';

import { App } from './App';
import type { FirstScreenData } from './firstScreen';
import { appInfoQuery, queryKeys } from '../ipc/queries';
import { createQueryClient, Providers } from '../shell/Providers';
import { markAfterPaint, markOnce } from '../perf';

// For the cold-start benchmark: this module and everything it imports (React, Mantine, the app)
// are loaded and evaluated.
markOnce('boot-evaluated');

/**
 * Marks React's first commit of the window (its DOM inserted, then its layout effects run), and
 * the frame after it painted; then calls `onPainted`.
 */
function FirstCommit({ children, onPainted }: { children: ReactNode; onPainted: () => void }) {
  useLayoutEffect(() => {
    markOnce('react-first-commit');
    markAfterPaint('react-first-paint');
    requestAnimationFrame(() => {
      setTimeout(onPainted, 0);
    });
  }, [onPainted]);
  // The first commit's passive effects have run (the window's own are the last).
  useEffect(() => {
    markOnce('react-first-effects');
  }, []);
  return children;
}

/** If the first frame never comes (a render that failed), queries are let go after this long. */
const HOLD_AT_MOST_MS = 2000;

/**
 * Holds the queries the first render starts (the status bar, health, the profiles' list…) until
 * the first frame is painted, then lets them go: their IPC calls, answers and re-renders would
 * otherwise run between React's commit and that frame, and delay the rows on screen. The seeded
 * answers (app info, the first history page) are not held and not asked for again. Uses TanStack
 * Query's online state, which pauses queries (and mutations) while "offline"; coming back
 * "online" here asks nothing again (`refetchOnReconnect` is off until then, and restored after).
 * Returns the release.
 */
export function holdQueriesUntilPainted(queryClient: QueryClient): () => void {
  const defaults = queryClient.getDefaultOptions();
  queryClient.setDefaultOptions({ ...defaults, queries: { ...defaults.queries, refetchOnReconnect: false } });
  onlineManager.setOnline(false);
  let held = true;
  const release = () => {
    if (held) {
      held = false;
      onlineManager.setOnline(true);
      // After the query cache has resumed what was held (it does so a microtask later).
      setTimeout(() => {
        queryClient.setDefaultOptions(defaults);
      }, 0);
    }
  };
  setTimeout(release, HOLD_AT_MOST_MS);
  return release;
}

/** The first layout effect of the first commit: the window's DOM is in the document. */
function DomInserted() {
  useLayoutEffect(() => {
    markOnce('react-dom-inserted');
  }, []);
  return null;
}

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
  markOnce('boot-data-ready');
  // After the seeding above: app info's early answer is a query of its own, not to be held.
  const release = holdQueriesUntilPainted(queryClient);
  markOnce('react-render-start');
  createRoot(root).render(
    <StrictMode>
      <FirstCommit onPainted={release}>
        <DomInserted />
        <Providers queryClient={queryClient}>
          <App />
        </Providers>
      </FirstCommit>
    </StrictMode>,
  );
}
