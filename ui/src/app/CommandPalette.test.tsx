import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { DeployPlan, NamespaceSummary, RollbackPlan, SyncReport, VersionList, WorkerRow } from '../ipc/types';
import { appInfo, deployment, type Handler, type IpcCall, renderApp, serveIpc, stagingProfile } from '../test/render';
import { editDistance, indexOf, matchScore, rank, wordScore } from './palette/fuzzy';
import { HISTORY_KEY, HISTORY_LIMIT, loadUses, recordUse } from './palette/history';

type User = ReturnType<typeof renderApp>['user'];

/** Commands that change something: the palette must never call them itself, only open their plan. */
const MUTATING = ['rollback', 'restore_version', 'promote', 'prepare_deploy', 'apply_deploy', 'delete_namespace', 'delete_worker'];

const V2 = deployment({ id: 'deploy_2', versionTag: 'v1.3.0', service: 'gateway' });
const V3 = deployment({ id: 'deploy_3', versionTag: 'v1.4.0', service: 'gateway' });

function versions(service: string): VersionList {
  return {
    service,
    environment: 'production',
    pin: null,
    staleNote: null,
    rows:
      service === 'gateway'
        ? [
            { deployment: V3, current: true, pinned: false, restorable: false, whyNot: 'It is what runs now.', bundle: null, fetchable: false },
            { deployment: V2, current: false, pinned: false, restorable: true, whyNot: null, bundle: null, fetchable: false },
          ]
        : [],
  };
}

function rollbackPlan(service: string): RollbackPlan {
  return {
    profileId: 'local-sandbox',
    service,
    environment: 'production',
    current: V3,
    becomesCurrent: V2,
    previousBundleArchived: true,
    blockedReason: null,
    warnings: [],
    confirmation: { kind: 'typeName', phrase: service, reason: 'Production: type the service name.' },
    action: `Roll ${service} back to v1.3.0`,
    basis: { currentDeploymentId: 'deploy_3', currentLabel: 'v1.4.0' },
  };
}

function deployPlan(overrides: Partial<DeployPlan> = {}): DeployPlan {
  const side = {
    deploymentId: null,
    versionLabel: 'v1.3.0',
    commit: '2222222bbbbbbb',
    branch: 'main',
    author: 'alice',
    timestamp: null,
    sizeBytes: null,
    sha256: null,
    bindings: {},
  };
  return {
    profileId: 'local-sandbox',
    service: 'gateway',
    environment: 'production',
    namespace: 'dotdo-production',
    kind: 'rollback',
    current: { ...side, versionLabel: 'v1.4.0' },
    next: side,
    bindings: { known: true, added: [], removed: [], changed: [], unchanged: 0 },
    pin: null,
    warnings: [],
    confirmation: { kind: 'typeName', phrase: 'gateway', reason: 'Production: type the service name.' },
    action: 'Restore gateway v1.3.0 in production',
    basis: { currentDeploymentId: 'deploy_3', currentLabel: 'v1.4.0' },
    ...overrides,
  };
}

function ns(name: string): NamespaceSummary {
  return { name, id: `id-${name}`, scriptCount: 2, trustedWorkers: false, createdOn: null, modifiedOn: null };
}

function worker(name: string): WorkerRow {
  return {
    name,
    tags: [`service:${name}`, 'env:production'],
    service: name,
    environment: 'production',
    commit: null,
    branch: 'main',
    version: 'v1.0.0',
    createdOn: null,
    modifiedOn: null,
  };
}

/** The Local sandbox active (unless told), with live data for every completion; `handlers` add or replace. */
function serve(handlers: Record<string, Handler> = {}, info = appInfo()): IpcCall[] {
  return serveIpc(info, {
    deployment_versions: (args) => versions(String(args.service)),
    rollback_plan: (args) => rollbackPlan(String(args.service)),
    restore_plan: () => deployPlan(),
    promote_plan: () => deployPlan({ kind: 'deploy', action: 'Promote gateway from staging to production' }),
    list_namespaces: () => [ns('dotdo-production'), ns('dotdo-staging')],
    list_workers: () => [worker('gateway'), worker('db')],
    namespace_delete_plan: () => ({
      namespace: 'dotdo-staging',
      scriptCount: 2,
      scripts: ['db', 'gateway'],
      confirmPhrase: 'dotdo-staging',
      action: 'Delete namespace dotdo-staging and its 2 workers',
    }),
    worker_detail: () => ({ row: worker('gateway'), bindings: [], settings: {}, sizeBytes: 10 }),
    sandbox_faults: () => [],
    ...handlers,
  });
}

async function openPalette(user: User) {
  await user.keyboard('{Control>}k{/Control}');
  const dialog = await screen.findByRole('dialog', { name: 'Command palette' });
  const search = within(dialog).getByRole('combobox', { name: 'Search commands' });
  await waitFor(() => {
    expect(search).toHaveFocus();
  });
  return { dialog, search };
}

function options(dialog: HTMLElement): HTMLElement[] {
  return within(within(dialog).getByRole('listbox', { name: 'Commands' })).queryAllByRole('option');
}

function names(elements: HTMLElement[]): string[] {
  return elements.map((o) => o.textContent);
}

/** Type `text` and wait until the live data has come and `first` leads the list, highlighted. */
async function typeAndExpectFirst(user: User, dialog: HTMLElement, search: HTMLElement, text: string, first: RegExp) {
  await user.type(search, text);
  await waitFor(() => {
    expect(options(dialog)[0]).toHaveAccessibleName(first);
  });
  await waitFor(() => {
    expect(options(dialog)[0]).toHaveAttribute('aria-selected', 'true');
  });
  expect(search).toHaveAttribute('aria-activedescendant', options(dialog)[0]?.id);
}

function neverMutated(calls: IpcCall[]) {
  expect(calls.filter((c) => MUTATING.includes(c.cmd)).map((c) => c.cmd)).toEqual([]);
}

async function paletteClosed() {
  await waitFor(() => {
    expect(screen.queryByRole('dialog', { name: 'Command palette' })).not.toBeInTheDocument();
  });
}

describe('palette matching', () => {
  const actions = [
    { id: 'go:deploy', label: 'Go to Deploy', keywords: ['deploy', 'area'] },
    { id: 'deploy:gateway', label: 'Deploy gateway', keywords: ['ship', 'release'] },
    { id: 'rollback:db', label: 'Roll back db', keywords: ['rollback', 'revert'] },
    { id: 'rollback:gateway', label: 'Roll back gateway', keywords: ['rollback', 'revert'] },
    { id: 'logs:gateway', label: 'Logs gateway', keywords: ['tail'] },
  ];
  const ids = (q: string) => rank(actions, q, new Map(), 0).map((a) => a.id);

  it('ranks the action a query names first, typos and all', () => {
    expect(ids('roll back gateway')[0]).toBe('rollback:gateway');
    expect(ids('roll back gateway')).not.toContain('rollback:db');
    expect(ids('rolbak gatew')[0]).toBe('rollback:gateway');
    expect(ids('rollbak gateway')[0]).toBe('rollback:gateway');
    expect(ids('gatway logs')[0]).toBe('logs:gateway');
    expect(ids('xyzzy')).toEqual([]);
  });

  it('puts the recent and frequent first among equal matches, never above a better one', () => {
    const now = Date.parse('2025-03-01T12:00:00Z');
    const uses = new Map([['logs:gateway', { count: 9, lastMs: now - 60_000 }]]);
    expect(ids('gateway')[0]).toBe('deploy:gateway');
    expect(rank(actions, 'gateway', uses, now)[0]?.id).toBe('logs:gateway');
    expect(rank(actions, 'roll back gateway', uses, now)[0]?.id).toBe('rollback:gateway');
  });

  it('scores words: whole, prefix, inside, letters in order, a typo', () => {
    expect(wordScore('gateway', 'gateway')).toBe(1);
    expect(wordScore('gate', 'gateway')).toBeGreaterThan(0.85);
    expect(wordScore('rolbak', 'rollback')).toBeGreaterThan(0);
    expect(wordScore('gatewya', 'gateway')).toBeGreaterThan(0);
    expect(wordScore('zzz', 'gateway')).toBe(0);
    expect(editDistance('gatewya', 'gateway', 2)).toBe(1);
    expect(matchScore('back roll', indexOf({ id: 'x', label: 'Roll back db', keywords: [] }))).not.toBeNull();
    expect(matchScore('roll forward', indexOf({ id: 'x', label: 'Roll back db', keywords: [] }))).toBeNull();
  });

  it('remembers at most HISTORY_LIMIT actions, dropping the least recent, and survives junk in storage', () => {
    let uses = loadUses();
    for (let i = 0; i < HISTORY_LIMIT + 10; i += 1) {
      uses = recordUse(uses, `go:${i}`, 1000 + i);
    }
    recordUse(uses, 'go:59', 5000);
    const stored = loadUses();
    expect(stored.size).toBe(HISTORY_LIMIT);
    expect(stored.has('go:0')).toBe(false);
    expect(stored.get('go:59')).toEqual({ count: 2, lastMs: 5000 });
    window.localStorage.setItem(HISTORY_KEY, '{not json');
    expect(loadUses().size).toBe(0);
  });
});

describe('command palette actions', () => {
  it('offers "Roll back gateway" first for "roll back gateway"; Enter opens its plan and rolls nothing back', async () => {
    const calls = serve();
    const { user } = renderApp();
    const { dialog, search } = await openPalette(user);
    await typeAndExpectFirst(user, dialog, search, 'roll back gateway', /^Roll back gateway/);
    expect(options(dialog)[0]).toHaveAttribute('data-opens-plan', 'true');
    expect(options(dialog)[0]).toHaveTextContent('opens plan');
    await user.keyboard('{Enter}');

    expect(await screen.findByRole('heading', { level: 1, name: 'Deploy' })).toBeInTheDocument();
    await paletteClosed();
    expect(await screen.findByRole('tab', { name: 'Roll back' })).toHaveAttribute('aria-selected', 'true');
    expect(await screen.findByText('Plan: roll gateway in production back one step')).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'rollback_plan')?.args).toEqual({
      profileId: 'local-sandbox',
      service: 'gateway',
      environment: 'production',
    });
    expect(screen.getByRole('button', { name: 'Roll gateway back to v1.3.0' })).toBeDisabled();
    neverMutated(calls);
  });

  it('finds it through typos: "rolbak gatew"', async () => {
    const calls = serve();
    const { user } = renderApp();
    const { dialog, search } = await openPalette(user);
    await typeAndExpectFirst(user, dialog, search, 'rolbak gatew', /^Roll back gateway/);
    await user.keyboard('{Enter}');
    expect(await screen.findByText('Plan: roll gateway in production back one step')).toBeInTheDocument();
    neverMutated(calls);
  });

  it('completes "restore gateway" with its archived versions; Enter opens the restore plan only', async () => {
    const calls = serve();
    const { user } = renderApp();
    const { dialog, search } = await openPalette(user);
    await typeAndExpectFirst(user, dialog, search, 'restore gateway', /^Restore gateway v1\.3\.0/);
    // What runs now is not offered.
    expect(within(dialog).queryByRole('option', { name: /Restore gateway v1\.4\.0/ })).not.toBeInTheDocument();
    await user.keyboard('{Enter}');
    expect(await screen.findByRole('button', { name: 'Restore gateway v1.3.0 in production' })).toBeDisabled();
    expect(screen.getByRole('tab', { name: 'Roll back' })).toHaveAttribute('aria-selected', 'true');
    expect(calls.find((c) => c.cmd === 'restore_plan')?.args).toEqual({ profileId: 'local-sandbox', deploymentId: 'deploy_2' });
    neverMutated(calls);
  });

  it('"promote gateway" opens the promote plan, "deploy db" the deploy form with db chosen; nothing runs', async () => {
    const calls = serve();
    const { user } = renderApp();
    let palette = await openPalette(user);
    await typeAndExpectFirst(user, palette.dialog, palette.search, 'promote gateway', /^Promote gateway/);
    await user.keyboard('{Enter}');
    expect(await screen.findByRole('tab', { name: 'Promote' })).toHaveAttribute('aria-selected', 'true');
    await waitFor(() => {
      expect(calls.find((c) => c.cmd === 'promote_plan')?.args).toEqual({
        profileId: 'local-sandbox',
        service: 'gateway',
        from: 'staging',
        to: 'production',
      });
    });
    await paletteClosed();

    palette = await openPalette(user);
    await typeAndExpectFirst(user, palette.dialog, palette.search, 'deploy db', /^Deploy db/);
    await user.keyboard('{Enter}');
    await waitFor(() => {
      expect(screen.getByRole('tab', { name: 'Deploy' })).toHaveAttribute('aria-selected', 'true');
    });
    const form = screen.getByRole('region', { name: 'What to deploy' });
    expect(within(form).getByRole('combobox', { name: 'Service' })).toHaveValue('db');
    neverMutated(calls);
  });

  it('"delete namespace" opens the delete plan, which still wants the name typed', async () => {
    const calls = serve();
    const { user } = renderApp();
    const { dialog, search } = await openPalette(user);
    await typeAndExpectFirst(user, dialog, search, 'delete namespace staging', /^Delete namespace dotdo-staging/);
    await user.keyboard('{Enter}');
    const confirm = await screen.findByRole('dialog', { name: /Delete namespace dotdo-staging/ });
    expect(within(confirm).getByRole('button', { name: 'Delete namespace dotdo-staging and its 2 workers' })).toBeDisabled();
    neverMutated(calls);
  });

  it('lists recent and frequent actions first on an empty query, and remembers what was used', async () => {
    const now = Date.now();
    window.localStorage.setItem(
      HISTORY_KEY,
      JSON.stringify([
        { id: 'go:health', count: 1, lastMs: now - 60 * 60 * 1000 },
        { id: 'logs:db', count: 3, lastMs: now - 2 * 60 * 60 * 1000 },
        { id: 'profile:gone', count: 7, lastMs: now },
      ]),
    );
    serve();
    const { user } = renderApp();
    let palette = await openPalette(user);
    await waitFor(() => {
      expect(names(options(palette.dialog)).slice(0, 2)).toEqual([
        expect.stringMatching(/^Logs db/),
        expect.stringMatching(/^Go to Health/),
      ]);
    });
    // An action no longer offered (a profile since deleted) is not listed.
    const recent = within(palette.dialog).getByRole('group', { name: 'Recent' });
    expect(within(recent).getAllByRole('option')).toHaveLength(2);

    await typeAndExpectFirst(user, palette.dialog, palette.search, 'audit', /^Go to Audit/);
    await user.keyboard('{Enter}');
    expect(await screen.findByRole('heading', { level: 1, name: 'Audit' })).toBeInTheDocument();
    await paletteClosed();

    palette = await openPalette(user);
    await waitFor(() => {
      const group = within(palette.dialog).getByRole('group', { name: 'Recent' });
      expect(names(within(group).getAllByRole('option'))).toEqual([
        expect.stringMatching(/^Logs db/),
        expect.stringMatching(/^Go to Audit/),
        expect.stringMatching(/^Go to Health/),
      ]);
    });
    expect(options(palette.dialog)[0]).toHaveAccessibleName(/^Logs db/);
    const stored = JSON.parse(window.localStorage.getItem(HISTORY_KEY) ?? '[]') as { id: string; count: number }[];
    expect(stored.find((s) => s.id === 'go:audit')?.count).toBe(1);
  });

  it('offers no rehearsal fault on a profile that is not the Local sandbox', async () => {
    const calls = serve({}, appInfo({ activeProfile: stagingProfile.id }));
    const { user } = renderApp();
    const { dialog, search } = await openPalette(user);
    await user.type(search, 'fault');
    await waitFor(() => {
      expect(calls.some((c) => c.cmd === 'list_namespaces' && c.args.profileId === 'staging')).toBe(true);
    });
    await user.clear(search);
    await user.type(search, 'toggle rehearsal fault');
    expect(within(dialog).queryAllByRole('option', { name: /rehearsal fault/i })).toEqual([]);
    expect(calls.some((c) => c.cmd === 'sandbox_faults')).toBe(false);
  });

  it('toggles a rehearsal fault on the Local sandbox at once', async () => {
    const calls = serve({
      inject_fault: () => [{ target: 'service:gateway', mode: 'down', description: 'gateway answers 503' }],
    });
    const { user } = renderApp();
    const { dialog, search } = await openPalette(user);
    await typeAndExpectFirst(user, dialog, search, 'fault gateway down', /^Inject rehearsal fault: gateway down/);
    await user.keyboard('{Enter}');
    expect(await screen.findByText('Injected rehearsal fault: gateway down (503)')).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'inject_fault')?.args).toEqual({
      profileId: 'local-sandbox',
      fault: { kind: 'serviceDown', service: 'gateway' },
      runId: null,
    });
  });

  it('acts at once for the rest: switch profile, health check, sync, open a namespace and a worker', async () => {
    const report: SyncReport = { windows: 1, inserted: 0, updated: 0, statusChanges: 0, failures: [], resumed: 0, asOfMs: 1 };
    const calls = serve({
      select_profile: () => ({}),
      sync_history: () => report,
    });
    const { user } = renderApp('settings');

    let palette = await openPalette(user);
    await typeAndExpectFirst(user, palette.dialog, palette.search, 'switch profile staging', /^Switch profile dotdo staging/);
    await user.keyboard('{Enter}');
    await waitFor(() => {
      expect(calls.filter((c) => c.cmd === 'select_profile').map((c) => c.args.id)).toEqual(['staging']);
    });
    await paletteClosed();

    palette = await openPalette(user);
    const checks = calls.filter((c) => c.cmd === 'check_health').length;
    await typeAndExpectFirst(user, palette.dialog, palette.search, 'health check', /^Run health check/);
    await user.keyboard('{Enter}');
    expect(await screen.findByText('Health checked: 0/0 services healthy')).toBeInTheDocument();
    expect(calls.filter((c) => c.cmd === 'check_health').length).toBeGreaterThan(checks);
    await paletteClosed();

    palette = await openPalette(user);
    await typeAndExpectFirst(user, palette.dialog, palette.search, 'sync history', /^Sync history/);
    await user.keyboard('{Enter}');
    expect(await screen.findByRole('heading', { level: 1, name: 'Deployments' })).toBeInTheDocument();
    await waitFor(() => {
      expect(calls.filter((c) => c.cmd === 'sync_history')).toHaveLength(1);
    });
    await paletteClosed();

    palette = await openPalette(user);
    await typeAndExpectFirst(user, palette.dialog, palette.search, 'open namespace staging', /^Open namespace dotdo-staging/);
    await user.keyboard('{Enter}');
    expect(await screen.findByRole('heading', { level: 2, name: 'dotdo-staging' })).toBeInTheDocument();
    await paletteClosed();

    palette = await openPalette(user);
    await typeAndExpectFirst(user, palette.dialog, palette.search, 'open worker gateway', /^Open worker gateway/);
    await user.keyboard('{Enter}');
    expect(await screen.findByRole('dialog', { name: 'Worker gateway' })).toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 2, name: 'dotdo-production' })).toBeInTheDocument();
    neverMutated(calls);
  });

  it('completes a verb: "Roll back ‹service›…" lists the services, and Enter on one opens its plan', async () => {
    const calls = serve();
    const { user } = renderApp();
    const { dialog, search } = await openPalette(user);
    const actionsGroup = await within(dialog).findByRole('group', { name: 'Actions' });
    expect(within(actionsGroup).getByRole('option', { name: /^Roll back ‹service›…/ })).toBeInTheDocument();
    // Every area is listed with its shortcut.
    const areas = within(dialog).getByRole('group', { name: 'Areas' });
    const logs = within(areas).getByRole('option', { name: /^Go to Logs/ });
    expect(logs).toHaveAttribute('aria-keyshortcuts', 'Alt+5');
    expect(logs).toHaveTextContent('Alt+5');

    await typeAndExpectFirst(user, dialog, search, 'roll back', /^Roll back ‹service›…/);
    await user.keyboard('{Enter}');
    expect(search).toHaveValue('roll back ');
    expect(screen.getByRole('dialog', { name: 'Command palette' })).toBeInTheDocument();
    await waitFor(() => {
      expect(options(dialog)[0]).toHaveAccessibleName(/^Roll back gateway/);
    });
    await waitFor(() => {
      expect(options(dialog)[0]).toHaveAttribute('aria-selected', 'true');
    });
    await user.keyboard('{ArrowDown}{Enter}');
    expect(await screen.findByText('Plan: roll db in production back one step')).toBeInTheDocument();
    neverMutated(calls);
  });

  it('is a dialog with a labelled search box over a listbox; Escape closes it and focus goes back', async () => {
    serve();
    const { user } = renderApp();
    const button = screen.getByRole('button', { name: 'Search (Ctrl+K)' });
    await user.click(button);
    const dialog = await screen.findByRole('dialog', { name: 'Command palette' });
    const search = within(dialog).getByRole('combobox', { name: 'Search commands' });
    const listbox = within(dialog).getByRole('listbox', { name: 'Commands' });
    expect(search).toHaveAttribute('aria-controls', listbox.id);
    await user.type(search, 'logs');
    await waitFor(() => {
      expect(options(dialog)[0]).toHaveAttribute('aria-selected', 'true');
    });
    await user.keyboard('{ArrowDown}');
    await waitFor(() => {
      expect(search).toHaveAttribute('aria-activedescendant', options(dialog)[1]?.id);
    });
    expect(options(dialog)[1]).toHaveAttribute('aria-selected', 'true');
    expect(options(dialog)[0]).toHaveAttribute('aria-selected', 'false');
    await user.keyboard('{Escape}');
    await paletteClosed();
    await waitFor(() => {
      expect(button).toHaveFocus();
    });
  });
});
