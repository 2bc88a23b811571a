import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { App, isLargeList } from './App';
import { holdQueriesUntilPainted, seedFirstScreen } from './boot';
import { FIRST_HISTORY_PAGE_SIZE } from './firstScreen';
import { namespaceKeys } from '../ipc/namespaces';
import { HISTORY_PAGE_SIZE, queryKeys } from '../ipc/queries';
import { createQueryClient, Providers } from '../shell/Providers';
import { appInfo, deployment, historyPage, serveIpc } from '../test/render';

const ROWS = [deployment({ service: 'gateway', versionTag: 'v2.0.0' }), deployment({ service: 'db', versionTag: 'v3.1.0' })];

function renderWith(client: ReturnType<typeof createQueryClient>) {
  const user = userEvent.setup();
  render(
    <Providers env="test" queryClient={client}>
      <App />
    </Providers>,
  );
  return user;
}

describe('the first screen', () => {
  it('asks for the first history page as the Deployments area does', () => {
    expect(FIRST_HISTORY_PAGE_SIZE).toBe(HISTORY_PAGE_SIZE);
  });

  it('shows the history page asked for before React started, without asking for it again', async () => {
    const info = appInfo();
    // The view's own answer would differ: a page only it could have shown.
    const calls = serveIpc(info, { query_history: () => historyPage({ deployments: [deployment({ versionTag: 'v9.9.9' })] }) });
    const client = createQueryClient();
    await seedFirstScreen(client, {
      appInfo: Promise.resolve(info),
      history: Promise.resolve({ profileId: info.activeProfile, page: historyPage({ deployments: ROWS, asOfMs: Date.now() }) }),
    });
    renderWith(client);
    const table = await screen.findByRole('table', { name: 'Deployments' });
    expect(await within(table).findByText('v2.0.0')).toBeInTheDocument();
    expect(within(table).getByText('v3.1.0')).toBeInTheDocument();
    expect(within(table).queryByText('v9.9.9')).toBeNull();
    // The status bar asks for "as of" (limit 1); the area's first page is not asked for again.
    const pagesAsked = calls.filter((c) => c.cmd === 'query_history' && (c.args.filter as { limit?: number }).limit !== 1);
    expect(pagesAsked).toEqual([]);
    expect(calls.filter((c) => c.cmd === 'app_info')).toEqual([]);
  });

  it('lets the area ask itself when the early history page failed', async () => {
    const info = appInfo();
    const calls = serveIpc(info, { query_history: () => historyPage({ deployments: ROWS }) });
    const client = createQueryClient();
    await seedFirstScreen(client, { appInfo: Promise.resolve(info), history: Promise.resolve(null) });
    renderWith(client);
    const table = await screen.findByRole('table', { name: 'Deployments' });
    expect(await within(table).findByText('v2.0.0')).toBeInTheDocument();
    expect(calls.some((c) => c.cmd === 'query_history' && (c.args.filter as { limit?: number }).limit === HISTORY_PAGE_SIZE)).toBe(true);
  });
});

describe('queries started by the first render', () => {
  it('wait for the first frame, then run; the seeded answers are not asked for again', async () => {
    const info = appInfo();
    const calls = serveIpc(info, { query_history: () => historyPage({ deployments: [deployment({ versionTag: 'v9.9.9' })] }) });
    const client = createQueryClient();
    await seedFirstScreen(client, {
      appInfo: Promise.resolve(info),
      history: Promise.resolve({ profileId: info.activeProfile, page: historyPage({ deployments: ROWS, asOfMs: Date.now() }) }),
    });
    const release = holdQueriesUntilPainted(client);
    try {
      renderWith(client);
      const table = await screen.findByRole('table', { name: 'Deployments' });
      expect(within(table).getByText('v2.0.0')).toBeInTheDocument();
      // Held: nothing asked yet (the status bar, the profiles' list, health…).
      expect(calls).toEqual([]);
      release();
      await waitFor(() => {
        expect(calls.some((c) => c.cmd === 'list_profiles')).toBe(true);
      });
      // The seeded answers stand: app info and the first history page are not asked for again.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(calls.filter((c) => c.cmd === 'app_info')).toEqual([]);
      const pagesAsked = calls.filter((c) => c.cmd === 'query_history' && (c.args.filter as { limit?: number }).limit !== 1);
      expect(pagesAsked).toEqual([]);
      expect(within(table).queryByText('v9.9.9')).toBeNull();
    } finally {
      release();
    }
  });
});

describe('areas left behind', () => {
  it('counts the workers of a namespace and the history and audit pages as big lists, not app info', () => {
    expect(isLargeList(namespaceKeys.workers('local-sandbox', 'dotdo-bench'))).toBe(true);
    expect(isLargeList(queryKeys.historyPage('local-sandbox', {}))).toBe(true);
    expect(isLargeList(['audit', { limit: 200 }])).toBe(true);
    expect(isLargeList(queryKeys.appInfo)).toBe(false);
    expect(isLargeList(namespaceKeys.list('local-sandbox'))).toBe(false);
  });

  it('drops the history rows from memory when the operator leaves Deployments, and reads them again on return', async () => {
    const info = appInfo();
    const calls = serveIpc(info, { query_history: () => historyPage({ deployments: ROWS, asOfMs: Date.now() }) });
    const client = createQueryClient();
    const user = renderWith(client);
    expect(await screen.findByText('v2.0.0')).toBeInTheDocument();
    const pageKey = queryKeys.historyPage(info.activeProfile, {});
    expect(client.getQueryData(pageKey)).toBeDefined();
    const areas = screen.getByRole('navigation', { name: 'Areas' });
    await user.click(within(areas).getByRole('button', { name: 'Settings' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Settings' })).toBeInTheDocument();
    await waitFor(() => {
      expect(client.getQueryData(pageKey)).toBeUndefined();
    });
    const asked = () => calls.filter((c) => c.cmd === 'query_history' && (c.args.filter as { limit?: number }).limit === HISTORY_PAGE_SIZE).length;
    const before = asked();
    await user.click(within(areas).getByRole('button', { name: 'Deployments' }));
    expect(await screen.findByText('v2.0.0')).toBeInTheDocument();
    expect(asked()).toBe(before + 1);
  });
});
