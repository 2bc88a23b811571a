import { act, render, screen, waitFor, within } from '@testing-library/react';
import { Channel } from '@tauri-apps/api/core';
import { mockIPC } from '@tauri-apps/api/mocks';
import { beforeEach, describe, expect, it } from 'vitest';

import { Providers } from '../../shell/Providers';
import type { Deployment, DeploymentFilter, SyncProgress, SyncReport } from '../../ipc/types';
import { autoSyncTried } from '../../ipc/history';
import { appInfo, deployment, fail, historyPage, renderApp, serveIpc } from '../../test/render';
import { SyncProgressView } from './SyncProgressView';

/** The part of Tauri's IPC internals the Rust side uses to deliver a channel message. */
interface TauriInternals {
  runCallback: (id: number, data: unknown) => void;
}

function deliver(channel: Channel<SyncProgress> | undefined, index: number, message: SyncProgress) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: TauriInternals }).__TAURI_INTERNALS__;
  internals.runCallback(channel?.id ?? 0, { index, message });
}

const AS_OF = Date.parse('2025-03-01T12:30:00Z');

const gateway = deployment({
  id: 'deploy_1740830400000_aaaaaaaa',
  service: 'gateway',
  status: 'deployed',
  timestamp: '2025-03-01T12:00:00Z',
  versionTag: 'v2.0.0',
  metadata: { commit: 'abcdef0123456789', branch: 'main', author: 'alice', version: '2.0.0' },
});
const db = deployment({
  id: 'deploy_1740826800000_bbbbbbbb',
  service: 'db',
  environment: 'staging',
  status: 'failed',
  timestamp: '2025-03-01T11:00:00Z',
  versionTag: 'v1.9.0',
  url: 'https://db.staging.do',
  metadata: { commit: '9876543210fedcba', branch: 'fix/db', author: 'bob' },
});
const auth = deployment({
  id: 'deploy_1740823200000_cccccccc',
  service: 'auth',
  status: 'rolled_back',
  timestamp: '2025-03-01T10:00:00Z',
  metadata: { commit: '1111111222222233', branch: 'main', author: 'carol' },
});

function dataRows() {
  const table = screen.getByRole('table', { name: 'Deployments' });
  return within(table)
    .getAllByRole('row')
    .filter((row) => row.hasAttribute('data-index'));
}

/**
 * A stand-in for the cache's query: the filters, the order and the page the view asks for
 * (the real query is tested against SQLite in the store's tests).
 */
function cache(rows: readonly Deployment[], asOfMs: number | null = AS_OF, bound?: number) {
  return (args: Record<string, unknown>) => {
    const f = args.filter as DeploymentFilter;
    const matching = rows.filter(
      (d) =>
        (f.service == null || d.service === f.service) &&
        (f.status == null || d.status === f.status) &&
        (f.environment == null || d.environment === f.environment) &&
        (f.text == null || JSON.stringify(d).includes(f.text)),
    );
    const sort = f.sort ?? { key: 'time', descending: true };
    const value = (d: Deployment): string => {
      const v = sort.key === 'time' ? d.timestamp : (d as unknown as Record<string, unknown>)[sort.key];
      return typeof v === 'string' ? v : '';
    };
    const sorted = [...matching].sort((a, b) => {
      const cmp = value(a).localeCompare(value(b));
      return sort.descending ? -cmp : cmp;
    });
    const offset = f.offset ?? 0;
    const page = sorted.slice(offset, f.limit == null ? undefined : offset + f.limit);
    // As the cache counts: to `bound` past the page, exactly when asked (`exactCount`).
    if (bound !== undefined && f.exactCount !== true && matching.length > offset + bound) {
      return historyPage({ deployments: page, total: offset + bound, totalExact: false, asOfMs });
    }
    return historyPage({ deployments: page, total: matching.length, asOfMs });
  };
}

function filtersSent(calls: { cmd: string; args: Record<string, unknown> }[]) {
  return calls.filter((c) => c.cmd === 'query_history').map((c) => c.args.filter as DeploymentFilter);
}

describe('Deployments', () => {
  it('says a never-synced cache holds only what this app deployed', async () => {
    serveIpc(appInfo(), { query_history: cache([gateway], null) });
    renderApp();
    await screen.findByRole('table', { name: 'Deployments' });
    expect(
      screen.getByText('Never synced: these are only the deployments this app made. Sync history for the rest.'),
    ).toBeInTheDocument();
  });

  it('shows the services split between two versions now, with each share, and nothing when none is', async () => {
    const calls = serveIpc(appInfo(), {
      query_history: cache([gateway], null),
      live_splits: () => [
        {
          service: 'gateway',
          versions: [
            { versionId: '151941c9-67a0-4c4e', percentage: 90, message: null },
            { versionId: '6e4a6fd9-4890-4d1e', percentage: 10, message: 'Staged rollout rollout_1 by ops' },
          ],
          since: '2026-12-06T23:00:00Z',
          note: null,
        },
        { service: 'db', versions: [{ versionId: 'aaaa', percentage: 100, message: null }], since: null, note: null },
      ],
    });
    renderApp();
    const section = await screen.findByRole('region', { name: 'Traffic split now in production' });
    const row = within(section).getByRole('group', { name: 'gateway: split between 2 versions' });
    expect(row).toHaveTextContent('90 % · version 151941c9-67a');
    expect(row).toHaveTextContent('10 % · version 6e4a6fd9-489 · Staged rollout rollout_1 by ops');
    expect(within(section).queryByText('db')).not.toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'live_splits')?.args).toEqual({ profileId: 'local-sandbox', environment: 'production' });
  });

  it('tells how to fill an empty, never-synced cache', async () => {
    serveIpc(appInfo());
    renderApp();
    expect(
      await screen.findByText(
        'No deployments cached for this profile yet. Press Sync history to fetch them from the Deploy API.',
      ),
    ).toBeInTheDocument();
    expect(screen.getByText('Never synced')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sync history' })).toBeEnabled();
    expect(screen.queryByRole('table', { name: 'Deployments' })).not.toBeInTheDocument();
    expect(screen.getByRole('contentinfo')).toHaveTextContent('Data: never synced for this profile');
  });

  it('lists the cached deployments newest first, with "as of" here and in the status bar', async () => {
    const calls = serveIpc(appInfo(), {
      query_history: () => historyPage({ deployments: [gateway, db, auth], asOfMs: AS_OF }),
    });
    renderApp();
    const table = await screen.findByRole('table', { name: 'Deployments' });
    expect(screen.getByText('3 deployments')).toBeInTheDocument();
    expect(within(table).getAllByRole('columnheader').map((h) => h.textContent)).toEqual([
      'Service',
      'Environment',
      'Status',
      'Version tag',
      'Commit',
      'Branch',
      'Author',
      'Time',
      'URL',
    ]);
    const rows = dataRows();
    expect(rows.map((r) => within(r).getAllByRole('cell')[0]?.textContent)).toEqual(['gateway', 'db', 'auth']);
    const first = within(rows[0] as HTMLElement).getAllByRole('cell');
    expect(first[2]).toHaveTextContent('deployed');
    expect(first[3]).toHaveTextContent('v2.0.0');
    expect(first[4]).toHaveTextContent(/^abcdef0$/);
    expect(first[5]).toHaveTextContent('main');
    expect(first[6]).toHaveTextContent('alice');
    expect(first[8]).toHaveTextContent('https://gateway.do');
    expect(within(table).getByRole('columnheader', { name: 'Time' })).toHaveAttribute('aria-sort', 'descending');
    expect(screen.getByRole('main')).toHaveTextContent(/As of .+ \(.+\)/);
    expect(screen.getByRole('contentinfo')).toHaveTextContent(/Data: as of .+ \(.+\)/);
    expect(filtersSent(calls)).toContainEqual({ limit: 200, offset: 0 });
  });

  it('sorts by a column when its header is clicked, and back again (the cache sorts every row)', async () => {
    const calls = serveIpc(appInfo(), { query_history: cache([gateway, db, auth]) });
    const { user } = renderApp();
    const table = await screen.findByRole('table', { name: 'Deployments' });
    const services = () => dataRows().map((r) => within(r).getAllByRole('cell')[0]?.textContent);
    expect(services()).toEqual(['gateway', 'db', 'auth']);
    await user.click(within(table).getByRole('button', { name: 'Service' }));
    const service = within(table).getByRole('columnheader', { name: 'Service' });
    expect(service).toHaveAttribute('aria-sort', 'ascending');
    expect(within(table).getByRole('columnheader', { name: 'Time' })).toHaveAttribute('aria-sort', 'none');
    await waitFor(() => {
      expect(services()).toEqual(['auth', 'db', 'gateway']);
    });
    expect(filtersSent(calls)).toContainEqual({ sort: { key: 'service', descending: false }, limit: 200, offset: 0 });
    await user.click(within(table).getByRole('button', { name: 'Service' }));
    expect(service).toHaveAttribute('aria-sort', 'descending');
    await waitFor(() => {
      expect(services()).toEqual(['gateway', 'db', 'auth']);
    });
  });

  it('opens a deployment with the keyboard (arrows, then Enter) and shows every field', async () => {
    serveIpc(appInfo(), { query_history: () => historyPage({ deployments: [gateway, db, auth], asOfMs: AS_OF }) });
    const { user } = renderApp();
    await screen.findByRole('table', { name: 'Deployments' });
    const rows = dataRows();
    expect(rows.map((r) => r.tabIndex)).toEqual([0, -1, -1]);
    (rows[0] as HTMLElement).focus();
    await user.keyboard('{ArrowDown}');
    expect(dataRows()[1]).toHaveFocus();
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(dataRows()[2]).toHaveFocus();
    await user.keyboard('{ArrowUp}');
    expect(dataRows()[1]).toHaveFocus();
    await user.keyboard('{Control>}c{/Control}');
    await expect(navigator.clipboard.readText()).resolves.toMatch(new RegExp(`^${db.id}\tdb\tstaging\tfailed\tv1.9.0\t9876543`));
    await user.keyboard('{Enter}');
    const drawer = await screen.findByRole('dialog', { name: `Deployment ${db.id}` });
    for (const text of [db.id, 'db', 'staging', 'failed', 'v1.9.0', '9876543210fedcba', 'fix/db', 'bob', 'https://db.staging.do', 'dotdo-production']) {
      expect(drawer).toHaveTextContent(text);
    }
    expect(within(drawer).getByRole('button', { name: 'Copy as JSON' })).toBeInTheDocument();
  });

  it('opens a deployment on click', async () => {
    serveIpc(appInfo(), { query_history: () => historyPage({ deployments: [gateway, db, auth], asOfMs: AS_OF }) });
    const { user } = renderApp();
    await screen.findByRole('table', { name: 'Deployments' });
    await user.click(dataRows()[2] as HTMLElement);
    const drawer = await screen.findByRole('dialog', { name: `Deployment ${auth.id}` });
    expect(drawer).toHaveTextContent('rolled_back');
    expect(drawer).toHaveTextContent('carol');
  });

  it('sends the filters to query_history (the search debounced) and shows the count', async () => {
    const calls = serveIpc(appInfo(), { query_history: cache([gateway, db, auth]) });
    const { user } = renderApp();
    await screen.findByText('3 deployments');
    const service = screen.getByRole('combobox', { name: 'Service' });
    expect(within(service).getAllByRole('option').map((o) => o.textContent)).toEqual([
      'Any',
      'gateway',
      'db',
      'auth',
      'schedule',
      'webhooks',
      'email',
      'mcp',
      'queue',
    ]);
    await user.selectOptions(service, 'db');
    expect(await screen.findByText('1 deployment')).toBeInTheDocument();
    expect(filtersSent(calls)).toContainEqual({ limit: 200, offset: 0, service: 'db' });

    await user.selectOptions(service, 'Any');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Environment' }), 'production');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Status' }), 'rolled_back');
    await waitFor(() => {
      expect(filtersSent(calls)).toContainEqual({ limit: 200, offset: 0, environment: 'production', status: 'rolled_back' });
    });
    expect(await screen.findByText('1 deployment')).toBeInTheDocument();

    await user.selectOptions(screen.getByRole('combobox', { name: 'Status' }), 'Any');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Environment' }), 'Any');
    await user.click(screen.getByRole('switch', { name: 'Failures only' }));
    expect(screen.getByRole('combobox', { name: 'Status' })).toBeDisabled();
    await waitFor(() => {
      expect(filtersSent(calls)).toContainEqual({ limit: 200, offset: 0, status: 'failed' });
    });
    await user.click(screen.getByRole('switch', { name: 'Failures only' }));

    const before = filtersSent(calls).length;
    await user.type(screen.getByRole('textbox', { name: 'Search' }), 'carol');
    await waitFor(() => {
      expect(filtersSent(calls)).toContainEqual({ limit: 200, offset: 0, text: 'carol' });
    });
    // Debounced: one query for the whole word, not one per key.
    expect(filtersSent(calls).slice(before).filter((f) => f.text !== undefined)).toEqual([{ limit: 200, offset: 0, text: 'carol' }]);
    expect(await screen.findByText('1 deployment')).toBeInTheDocument();

    await user.type(screen.getByRole('textbox', { name: 'Search' }), 'xyz');
    expect(await screen.findByText('No cached deployments match these filters. Change or clear the filters.')).toBeInTheDocument();
  });

  it('renders only the rows in view of a long history and loads more as the view reaches the end', async () => {
    const many = Array.from({ length: 2000 }, (_, i) =>
      deployment({ timestamp: new Date(AS_OF - i * 60_000).toISOString(), versionTag: `v${i}` }),
    );
    const calls = serveIpc(appInfo(), { query_history: cache(many) });
    const { user } = renderApp();
    const table = await screen.findByRole('table', { name: 'Deployments' });
    expect(screen.getByText('2000 deployments')).toBeInTheDocument();
    expect(table).toHaveAttribute('aria-rowcount', '2001');
    const rendered = dataRows();
    expect(rendered.length).toBeGreaterThan(10);
    expect(rendered.length).toBeLessThan(60);
    expect(rendered[0]).toHaveAttribute('aria-rowindex', '2');
    // One page asked for at first, not the whole history (the status bar asks for one row).
    const offsets = () => filtersSent(calls).filter((f) => f.limit === 200).map((f) => f.offset);
    expect(offsets()).toEqual([0]);

    // End goes to the last row loaded; nearing it brings the next page, and End again goes on.
    (rendered[0] as HTMLElement).focus();
    await user.keyboard('{End}');
    await waitFor(() => {
      expect(offsets()).toContain(200);
    });
    await waitFor(() => {
      expect(dataRows().some((r) => r.getAttribute('aria-rowindex') === '201')).toBe(true);
    });
    await user.keyboard('{End}');
    await waitFor(() => {
      expect(document.activeElement).toHaveAttribute('aria-rowindex', '401');
    });
    expect(document.activeElement).toHaveTextContent('v399');
  });

  it('says "2,000+" when the count stopped there, scrolls past it, and counts exactly when asked', async () => {
    const many = Array.from({ length: 2600 }, (_, i) =>
      deployment({ id: `deploy_${i}`, timestamp: new Date(AS_OF - i * 60_000).toISOString(), versionTag: `v${i}` }),
    );
    const calls = serveIpc(appInfo(), { query_history: cache(many, AS_OF, 2000) });
    const { user } = renderApp();
    const table = await screen.findByRole('table', { name: 'Deployments' });
    expect(screen.getByText('2,000+ deployments')).toBeInTheDocument();
    expect(filtersSent(calls).some((f) => f.exactCount === true)).toBe(false);

    // The table goes on past the bound as pages load (each page's count reaches further).
    const rendered = dataRows();
    (rendered[0] as HTMLElement).focus();
    for (let loaded = 200; loaded <= 2200; loaded += 200) {
      await user.keyboard('{End}');
      await waitFor(() => {
        expect(document.activeElement).toHaveAttribute('aria-rowindex', String(loaded + 1));
      });
    }
    expect(Number(table.getAttribute('aria-rowcount'))).toBeGreaterThan(2201);

    await user.click(screen.getByRole('button', { name: 'Count exactly' }));
    expect(await screen.findByText('2600 deployments')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Count exactly' })).not.toBeInTheDocument();
    const asked = filtersSent(calls).filter((f) => f.exactCount === true);
    expect(asked).toEqual([{ limit: 1, offset: 0, exactCount: true }]);
  });

  it('shows the error when the history cache cannot be read', async () => {
    serveIpc(appInfo(), {
      query_history: fail({ code: 'Internal', message: 'The history cache is damaged.', runbook: null }),
    });
    renderApp();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Reading the history cache failed');
    expect(alert).toHaveTextContent('The history cache is damaged.');
    expect(screen.getByRole('contentinfo')).toHaveTextContent('Data: as of unknown');
  });
});

describe('syncing history', () => {
  it('shows progress per window while it runs, then the summary and the failing windows', async () => {
    let synced = false;
    let finish: () => void = () => undefined;
    let channel: Channel<SyncProgress> | undefined;
    const report: SyncReport = {
      windows: 25,
      inserted: 12,
      updated: 3,
      statusChanges: 0,
      resumed: 0,
      failures: [{ window: '2025-02-28', message: 'Deploy API answered 503' }],
      asOfMs: AS_OF,
    };
    const calls = serveIpc(appInfo(), {
      query_history: () =>
        synced
          ? historyPage({ deployments: [gateway], asOfMs: AS_OF, failingWindows: report.failures })
          : historyPage(),
      sync_history: async (args) => {
        channel = args.onProgress as Channel<SyncProgress>;
        await new Promise<void>((resolve) => {
          finish = resolve;
        });
        synced = true;
        return report;
      },
    });
    const { user } = renderApp();
    await screen.findByText('Never synced');
    await user.click(screen.getByRole('button', { name: 'Sync history' }));

    const bar = await screen.findByRole('progressbar', { name: 'Sync progress' });
    expect(screen.getByText('Starting sync…')).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'sync_history')?.args.profileId).toBe('local-sandbox');
    expect(channel).toBeInstanceOf(Channel);
    // What the Rust side does: deliver indexed messages to the channel's callback.
    act(() => {
      deliver(channel, 0, { done: 5, total: 25, window: '2025-02-01', ok: true });
    });
    expect(screen.getByText('window 5 of 25: 2025-02-01')).toBeInTheDocument();
    expect(bar).toHaveAttribute('aria-valuenow', '20');

    await act(async () => {
      finish();
      await Promise.resolve();
    });
    expect(await screen.findByText('Synced 25 windows: 12 new, 3 changed.')).toBeInTheDocument();
    expect(screen.queryByRole('progressbar', { name: 'Sync progress' })).not.toBeInTheDocument();
    const warning = screen.getByRole('alert', { name: '1 window could not be synced' });
    expect(warning).toHaveTextContent('the cache shows what it had before');
    expect(warning).toHaveTextContent('2025-02-28: Deploy API answered 503');
    expect(await screen.findByRole('table', { name: 'Deployments' })).toBeInTheDocument();
    expect(screen.getByText('1 deployment')).toBeInTheDocument();
  });

  it('shows the error when the sync fails', async () => {
    serveIpc(appInfo(), {
      sync_history: fail({ code: 'InvalidApiKey', message: 'deploy.do answered 401', runbook: 'Issue: "Invalid API key" (401)' }),
    });
    const { user } = renderApp();
    await screen.findByText('Never synced');
    await user.click(screen.getByRole('button', { name: 'Sync history' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Syncing history failed: The API key was rejected');
    expect(alert).toHaveTextContent('deploy.do answered 401');
    expect(screen.getByRole('button', { name: 'Sync history' })).toBeEnabled();
  });
});

describe('syncing history by itself', () => {
  beforeEach(() => {
    autoSyncTried.clear();
  });

  const REPORT: SyncReport = { windows: 25, inserted: 1, updated: 0, statusChanges: 0, failures: [], resumed: 0, asOfMs: AS_OF };

  /** A Deploy API stand-in: `sync_history` runs until `finish`, then the cache holds `gateway`. */
  function slowSync(asOfBefore: number | null, minutes = 60) {
    const state: { synced: boolean; finish: () => void; channel?: Channel<SyncProgress> } = {
      synced: false,
      finish: () => undefined,
    };
    const calls = serveIpc(appInfo(), {
      history_auto_sync: () => minutes,
      query_history: () =>
        state.synced
          ? historyPage({ deployments: [gateway, db], asOfMs: Date.now() })
          : historyPage({ deployments: asOfBefore === null ? [] : [gateway], asOfMs: asOfBefore }),
      sync_history: async (args) => {
        state.channel = args.onProgress as Channel<SyncProgress>;
        await new Promise<void>((resolve) => {
          state.finish = resolve;
        });
        state.synced = true;
        return REPORT;
      },
    });
    return { state, calls };
  }

  const syncCalls = (calls: { cmd: string }[]) => calls.filter((c) => c.cmd === 'sync_history').length;

  it('syncs a never-synced profile on the first opening, showing progress and then the rows', async () => {
    const { state, calls } = slowSync(null);
    renderApp();
    const bar = await screen.findByRole('progressbar', { name: 'Sync progress' });
    expect(screen.getByText('Fetching the deployments from the Deploy API…')).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'sync_history')?.args.profileId).toBe('local-sandbox');
    // Pressing Sync history meanwhile does not start a second sync.
    const button = screen.getByRole('button', { name: 'Sync history' });
    expect(button).toHaveAttribute('data-loading');
    act(() => {
      deliver(state.channel, 0, { done: 5, total: 25, window: 'gateway in production', ok: true });
    });
    expect(screen.getByText('window 5 of 25: gateway in production')).toBeInTheDocument();
    expect(bar).toHaveAttribute('aria-valuenow', '20');
    await act(async () => {
      state.finish();
      await Promise.resolve();
    });
    expect(await screen.findByText('Synced 25 windows: 1 new, 0 changed.')).toBeInTheDocument();
    expect(await screen.findByRole('table', { name: 'Deployments' })).toBeInTheDocument();
    expect(dataRows().map((r) => within(r).getAllByRole('cell')[0]?.textContent)).toEqual(['gateway', 'db']);
    expect(screen.queryByRole('progressbar', { name: 'Sync progress' })).not.toBeInTheDocument();
    expect(syncCalls(calls)).toBe(1);
  });

  it('does not sync a cache synced within the setting', async () => {
    const { calls } = slowSync(Date.now() - 5 * 60_000);
    renderApp();
    await screen.findByRole('table', { name: 'Deployments' });
    await waitFor(() => {
      expect(calls.some((c) => c.cmd === 'history_auto_sync')).toBe(true);
    });
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    expect(syncCalls(calls)).toBe(0);
    expect(screen.queryByRole('progressbar', { name: 'Sync progress' })).not.toBeInTheDocument();
  });

  it('syncs a cache older than the setting', async () => {
    const { state, calls } = slowSync(Date.now() - 2 * 60 * 60_000);
    renderApp();
    await screen.findByRole('progressbar', { name: 'Sync progress' });
    expect(syncCalls(calls)).toBe(1);
    await act(async () => {
      state.finish();
      await Promise.resolve();
    });
    await waitFor(() => {
      expect(screen.getByText('2 deployments')).toBeInTheDocument();
    });
    expect(syncCalls(calls)).toBe(1);
  });

  it('does not sync by itself when the setting is 0, even a never-synced profile', async () => {
    const { calls } = slowSync(null, 0);
    renderApp();
    await screen.findByText('Never synced');
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    expect(syncCalls(calls)).toBe(0);
  });

  it('shows a failed automatic sync once, does not retry it by itself, and Sync history retries', async () => {
    const calls = serveIpc(appInfo(), {
      history_auto_sync: () => 60,
      sync_history: fail({ code: 'InvalidApiKey', message: 'deploy.do answered 401', runbook: null }),
    });
    const { user } = renderApp();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Syncing history automatically failed');
    expect(alert).toHaveTextContent('deploy.do answered 401');
    expect(screen.getByText('Press Sync history to try again.')).toBeInTheDocument();
    // The cache is still never synced after the failure: no second try, no loop.
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
    });
    expect(syncCalls(calls)).toBe(1);
    expect(screen.getAllByRole('alert')).toHaveLength(1);

    const button = screen.getByRole('button', { name: 'Sync history' });
    expect(button).toBeEnabled();
    button.focus();
    await user.keyboard('{Enter}');
    await waitFor(() => {
      expect(syncCalls(calls)).toBe(2);
    });
    expect(await screen.findByRole('alert')).toHaveTextContent('Syncing history failed');
    expect(screen.queryByText('Press Sync history to try again.')).not.toBeInTheDocument();
  });

  it('does not try again when Deployments is reopened soon after a failed automatic sync', async () => {
    const calls = serveIpc(appInfo(), {
      history_auto_sync: () => 60,
      sync_history: fail({ code: 'Unreachable', message: 'no answer', runbook: null }),
    });
    const first = renderApp();
    await screen.findByRole('alert');
    first.unmount();
    renderApp();
    await screen.findByText('Never synced');
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    expect(syncCalls(calls)).toBe(1);
  });
});

describe('SyncProgressView', () => {
  it('renders what a channel delivers', () => {
    mockIPC(() => null);
    const channel = new Channel<SyncProgress>();
    const { rerender } = render(
      <Providers env="test">
        <SyncProgressView progress={null} />
      </Providers>,
    );
    expect(screen.getByRole('progressbar', { name: 'Sync progress' })).toHaveAttribute('aria-valuenow', '0');
    channel.onmessage = (progress) => {
      rerender(
        <Providers env="test">
          <SyncProgressView progress={progress} />
        </Providers>,
      );
    };
    channel.onmessage({ done: 3, total: 4, window: '2025-01', ok: false });
    expect(screen.getByText('window 3 of 4: 2025-01 (failed)')).toBeInTheDocument();
    expect(screen.getByRole('progressbar', { name: 'Sync progress' })).toHaveAttribute('aria-valuenow', '75');
  });

  it('exports the filtered rows (all of them) as CSV and says where', async () => {
    const calls = serveIpc(appInfo(), {
      query_history: () => historyPage({ deployments: [gateway, db], asOfMs: AS_OF }),
      export_history: () => '/home/op/deployments-local-sandbox.csv',
    });
    const { user } = renderApp();
    await screen.findByRole('table', { name: 'Deployments' });
    await user.click(screen.getByRole('switch', { name: 'Failures only' }));
    await user.click(screen.getByRole('button', { name: 'Export…' }));
    await user.click(await screen.findByRole('menuitem', { name: 'As CSV (spreadsheets)' }));
    expect(await screen.findByText('Exported to /home/op/deployments-local-sandbox.csv')).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'export_history')?.args).toMatchObject({
      profileId: 'local-sandbox',
      format: 'csv',
      filter: { status: 'failed', limit: null },
    });
    // The file is chosen in the shell's save dialog: the window never names a path.
    expect(calls.find((c) => c.cmd === 'export_history')?.args).not.toHaveProperty('path');
  });

  it('shows the archived bundle of a deployment the app deployed', async () => {
    serveIpc(appInfo(), {
      query_history: () => historyPage({ deployments: [gateway], asOfMs: AS_OF }),
      archived_bundles: () => [
        {
          deploymentId: gateway.id,
          service: 'gateway',
          environment: 'production',
          sha256: 'cd'.repeat(32),
          sizeBytes: 3 * 1024 * 1024,
          kind: 'deploy',
          available: true,
          prunedMs: null,
          usedMs: AS_OF,
          bindings: {},
        },
      ],
    });
    const { user } = renderApp();
    const table = await screen.findByRole('table', { name: 'Deployments' });
    await user.click(within(table).getByText('v2.0.0'));
    const fields = await screen.findByRole('table', { name: 'Deployment fields' });
    await waitFor(() => {
      expect(within(fields).getByRole('row', { name: /Archived bundle/ })).toHaveTextContent(`${'cd'.repeat(32)} (3.0 MiB)`);
    });
  });
});
