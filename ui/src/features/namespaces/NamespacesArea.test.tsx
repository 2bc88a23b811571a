import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { DeletePlan, Drift, NamespaceSummary, WorkerDetail } from '../../ipc/types';
import { appInfo, fail, type Handler, renderApp, serveIpc } from '../../test/render';
import { defaultPair, revisionText } from './CompareSection';
import { isoLocal } from './workerRows';

function ns(name: string, overrides: Partial<NamespaceSummary> = {}): NamespaceSummary {
  return {
    name,
    id: `id-${name}`,
    scriptCount: 8,
    trustedWorkers: false,
    createdOn: '2025-01-02T03:04:05Z',
    modifiedOn: '2025-02-03T04:05:06Z',
    ...overrides,
  };
}

function worker(name: string, overrides: Partial<WorkerDetail['row']> = {}): WorkerDetail['row'] {
  const service = overrides.service ?? name.split('-')[0] ?? name;
  return {
    name,
    tags: [`service:${service}`, 'env:staging', 'commit:0123456789abcdef', 'branch:main', 'version:v1.0.0'],
    service,
    environment: 'staging',
    commit: '0123456789abcdef',
    branch: 'main',
    version: 'v1.0.0',
    createdOn: '2025-01-02T03:04:05Z',
    modifiedOn: '2025-02-03T04:05:06Z',
    ...overrides,
  };
}

const NAMESPACES = [ns('dotdo-development', { scriptCount: 2 }), ns('dotdo-production'), ns('dotdo-staging')];

const WORKERS = [
  worker('auth'),
  worker('db', { tags: ['service:db', 'env:staging', 'branch:feature-x'], branch: 'feature-x', version: 'v2.0.0' }),
  worker('gateway', { environment: 'production', tags: ['service:gateway', 'env:production'] }),
];

const PLAN: DeletePlan = {
  namespace: 'dotdo-staging',
  scriptCount: 8,
  scripts: ['auth', 'db', 'email', 'gateway', 'mcp', 'queue', 'schedule', 'webhooks'],
  confirmPhrase: 'dotdo-staging',
  action: 'Delete namespace dotdo-staging and its 8 workers',
};

const DETAIL: WorkerDetail = {
  row: WORKERS[0] ?? worker('auth'),
  bindings: [{ type: 'service', name: 'DB', service: 'db' }],
  settings: { compatibility_date: '2025-01-01' },
  sizeBytes: 2048,
};

function serve(handlers: Record<string, Handler> = {}) {
  return serveIpc(appInfo(), {
    list_namespaces: () => NAMESPACES,
    list_workers: () => WORKERS,
    namespace_delete_plan: () => PLAN,
    ...handlers,
  });
}

async function openNamespace(user: ReturnType<typeof renderApp>['user'], name: string) {
  const table = await screen.findByRole('table', { name: 'Namespaces' });
  await user.click(within(table).getByRole('button', { name: `Open ${name}` }));
  return screen.getByRole('heading', { level: 2, name });
}

function workerRows() {
  return within(screen.getByRole('table', { name: 'Workers' }))
    .getAllByRole('row')
    .slice(1);
}

describe('Namespaces list', () => {
  it('lists the namespaces of the active profile with their workers, trust and dates', async () => {
    const calls = serve({ list_namespaces: () => [ns('dotdo-production', { trustedWorkers: true }), ns('dotdo-staging')] });
    renderApp('namespaces');
    const table = await screen.findByRole('table', { name: 'Namespaces' });
    const headers = within(table).getAllByRole('columnheader').map((h) => h.textContent);
    expect(headers.slice(0, 5)).toEqual(['Name', 'Workers', 'Trusted', 'Created', 'Modified']);
    const production = within(table).getByRole('row', { name: /^dotdo-production/ });
    expect(within(production).getByText('Trusted')).toBeInTheDocument();
    expect(within(production).getByText('8')).toBeInTheDocument();
    expect(within(table).getByRole('button', { name: 'Open dotdo-staging' })).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'list_namespaces')?.args).toEqual({ profileId: 'local-sandbox' });
  });

  it('reads the workers again on Refresh workers, showing one deployed elsewhere since', async () => {
    let listed = WORKERS;
    serve({ list_workers: () => listed });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-production');
    expect(await screen.findByText('3 of 3 workers')).toBeInTheDocument();
    listed = [...WORKERS, worker('webhooks')];
    await user.click(screen.getByRole('button', { name: 'Refresh workers' }));
    expect(await screen.findByText('4 of 4 workers')).toBeInTheDocument();
    expect(workerRows().map((r) => r.textContent)).toEqual(expect.arrayContaining([expect.stringContaining('webhooks')]));
  });

  it('says how to fill an empty account', async () => {
    serve({ list_namespaces: () => [] });
    renderApp('namespaces');
    expect(await screen.findByText(/no dispatch namespaces yet/)).toBeInTheDocument();
  });

  it('shows a missing Cloudflare token as InvalidApiKey, pointing to Settings', async () => {
    serve({
      list_namespaces: fail({
        code: 'InvalidApiKey',
        message:
          'Profile "Local sandbox" has no Cloudflare API token. Add a Cloudflare API token in Settings to manage namespaces.',
      }),
    });
    renderApp('namespaces');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'InvalidApiKey');
    expect(alert).toHaveTextContent('Loading namespaces failed');
    expect(alert).toHaveTextContent('Add a Cloudflare API token in Settings');
  });

  it('creates a namespace from the dialog and opens it', async () => {
    let list = NAMESPACES;
    const calls = serve({
      list_namespaces: () => list,
      create_namespace: (args) => {
        const created = ns(String(args.name), { scriptCount: 0 });
        list = [...list, created];
        return created;
      },
      list_workers: () => [],
    });
    const { user } = renderApp('namespaces');
    await screen.findByRole('table', { name: 'Namespaces' });
    await user.click(screen.getByRole('button', { name: 'Create namespace' }));
    const dialog = screen.getByRole('dialog', { name: 'Create namespace' });
    await user.type(within(dialog).getByRole('textbox', { name: /Namespace name/ }), 'dotdo-preview');
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(await screen.findByRole('heading', { level: 2, name: 'dotdo-preview' })).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'create_namespace')?.args).toEqual({
      profileId: 'local-sandbox',
      name: 'dotdo-preview',
    });
    expect(screen.queryByRole('dialog', { name: 'Create namespace' })).not.toBeInTheDocument();
    expect(await screen.findByText(/dotdo-preview has no workers yet/)).toBeInTheDocument();
  });

  it('shows a refused create in the dialog', async () => {
    serve({
      create_namespace: fail({
        code: 'InvalidInput',
        message: 'The namespace name "a b" contains a space or line break; use dashes instead.',
      }),
    });
    const { user } = renderApp('namespaces');
    await screen.findByRole('table', { name: 'Namespaces' });
    await user.click(screen.getByRole('button', { name: 'Create namespace' }));
    const dialog = screen.getByRole('dialog', { name: 'Create namespace' });
    await user.type(within(dialog).getByRole('textbox', { name: /Namespace name/ }), 'a b');
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert).toHaveTextContent('contains a space');
    expect(screen.getByRole('dialog', { name: 'Create namespace' })).toBeInTheDocument();
  });
});

describe('A namespace', () => {
  it('asks before changing trusted mode, explaining what it does', async () => {
    const calls = serve({ set_namespace_trusted: () => ns('dotdo-staging', { trustedWorkers: true }) });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    const toggle = screen.getByRole('switch', { name: 'Trusted mode' });
    expect(toggle).not.toBeChecked();
    expect(toggle).toHaveAccessibleDescription(/must be redeployed to see request.cf/);
    expect(screen.getAllByText(/must be redeployed to see request.cf/).length).toBeGreaterThan(0);
    await user.click(toggle);
    const dialog = screen.getByRole('dialog', { name: 'Turn on trusted mode for dotdo-staging?' });
    expect(calls.some((c) => c.cmd === 'set_namespace_trusted')).toBe(false);
    await user.click(within(dialog).getByRole('button', { name: 'Turn on trusted mode' }));
    await waitFor(() => {
      expect(screen.queryByRole('dialog', { name: /trusted mode/ })).not.toBeInTheDocument();
    });
    expect(calls.find((c) => c.cmd === 'set_namespace_trusted')?.args).toEqual({
      profileId: 'local-sandbox',
      name: 'dotdo-staging',
      trusted: true,
    });
  });

  it('keeps trusted mode as it was when the change is cancelled or refused', async () => {
    serve({
      set_namespace_trusted: fail({ code: 'ReadOnlyProfile', message: 'Profile "Local sandbox" is read-only.' }),
    });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    await user.click(screen.getByRole('switch', { name: 'Trusted mode' }));
    const dialog = screen.getByRole('dialog', { name: /Turn on trusted mode/ });
    await user.click(within(dialog).getByRole('button', { name: 'Turn on trusted mode' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('read-only');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.getByRole('switch', { name: 'Trusted mode' })).not.toBeChecked();
  });

  it('renames a namespace and follows it to its new name', async () => {
    let list = NAMESPACES;
    const calls = serve({
      list_namespaces: () => list,
      rename_namespace: (args) => {
        const renamed = ns(String(args.newName));
        list = list.map((n) => (n.name === args.name ? renamed : n));
        return renamed;
      },
    });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    await user.click(screen.getByRole('button', { name: 'Rename namespace' }));
    const dialog = screen.getByRole('dialog', { name: 'Rename namespace' });
    const input = within(dialog).getByRole('textbox', { name: /New name/ });
    await user.clear(input);
    await user.type(input, 'dotdo-stage');
    await user.click(within(dialog).getByRole('button', { name: 'Rename' }));
    expect(await screen.findByRole('heading', { level: 2, name: 'dotdo-stage' })).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'rename_namespace')?.args).toEqual({
      profileId: 'local-sandbox',
      name: 'dotdo-staging',
      newName: 'dotdo-stage',
    });
    expect(screen.getByRole('status')).toHaveTextContent('Renamed dotdo-staging to dotdo-stage');
  });

  it('shows a refused rename in the dialog', async () => {
    serve({ rename_namespace: fail({ code: 'Conflict', message: 'A namespace named dotdo-production exists.' }) });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    await user.click(screen.getByRole('button', { name: 'Rename namespace' }));
    const dialog = screen.getByRole('dialog', { name: 'Rename namespace' });
    const input = within(dialog).getByRole('textbox', { name: /New name/ });
    await user.clear(input);
    await user.type(input, 'dotdo-production');
    await user.click(within(dialog).getByRole('button', { name: 'Rename' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('exists');
  });

  it('deletes a namespace only once its name is typed, then says what went', async () => {
    let list = NAMESPACES;
    const calls = serve({
      list_namespaces: () => list,
      delete_namespace: () => {
        list = list.filter((n) => n.name !== 'dotdo-staging');
        return null;
      },
    });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    const destroy = await screen.findByRole('button', { name: 'Delete namespace dotdo-staging and its 8 workers' });
    await user.click(destroy);
    const dialog = screen.getByRole('dialog', { name: 'Delete namespace dotdo-staging' });
    for (const script of PLAN.scripts) {
      expect(within(dialog).getByText(script)).toBeInTheDocument();
    }
    const confirm = within(dialog).getByRole('button', { name: PLAN.action });
    expect(confirm).toBeDisabled();
    const input = within(dialog).getByRole('textbox', { name: 'Type dotdo-staging to confirm' });
    await user.type(input, 'dotdo-stagin');
    expect(confirm).toBeDisabled();
    await user.type(input, 'g');
    expect(confirm).toBeEnabled();
    await user.click(confirm);

    const status = await screen.findByRole('status');
    await waitFor(() => {
      expect(status).toHaveTextContent('Deleted dotdo-staging and its 8 workers');
    });
    expect(calls.find((c) => c.cmd === 'delete_namespace')?.args).toEqual({
      profileId: 'local-sandbox',
      name: 'dotdo-staging',
      typedConfirmation: 'dotdo-staging',
      // What the plan counted: the engine refuses if workers came or went since.
      plannedScriptCount: 8,
    });
    expect(screen.queryByRole('heading', { level: 2, name: 'dotdo-staging' })).not.toBeInTheDocument();
    await waitFor(() => {
      expect(screen.queryByRole('button', { name: 'Open dotdo-staging' })).not.toBeInTheDocument();
    });
    expect(calls.filter((c) => c.cmd === 'list_namespaces').length).toBeGreaterThanOrEqual(2);
  });

  it('shows a refused delete in the dialog and keeps the namespace', async () => {
    serve({ delete_namespace: fail({ code: 'Unreachable', message: 'The Cloudflare API did not answer.' }) });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    await user.click(await screen.findByRole('button', { name: PLAN.action }));
    const dialog = screen.getByRole('dialog', { name: 'Delete namespace dotdo-staging' });
    await user.type(within(dialog).getByRole('textbox', { name: 'Type dotdo-staging to confirm' }), 'dotdo-staging');
    await user.click(within(dialog).getByRole('button', { name: PLAN.action }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('did not answer');
    expect(screen.getByRole('heading', { level: 2, name: 'dotdo-staging' })).toBeInTheDocument();
  });

  it('says why delete is not offered when the plan cannot be made (a read-only profile)', async () => {
    serve({
      namespace_delete_plan: fail({
        code: 'ReadOnlyProfile',
        message: 'Profile "Local sandbox" is read-only, so deleting a namespace is disabled.',
      }),
    });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Preparing the delete plan failed');
    // A profile setting, said as such: not "the API key lacks permission".
    expect(alert).toHaveTextContent('This profile is read-only');
    expect(alert).not.toHaveTextContent('lacks permission');
    expect(screen.queryByRole('button', { name: /^Delete namespace/ })).not.toBeInTheDocument();
  });
});

describe('Workers of a namespace', () => {
  it('lists the workers with a count, and filters by search and by tag without calling again', async () => {
    const calls = serve();
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    const table = await screen.findByRole('table', { name: 'Workers' });
    expect(within(table).getAllByRole('columnheader').map((h) => h.textContent)).toEqual([
      'Name',
      'Service',
      'Env',
      'Version',
      'Commit',
      'Branch',
      'Modified',
    ]);
    expect(workerRows()).toHaveLength(3);
    expect(within(table).getAllByText('0123456')).toHaveLength(3);
    expect(screen.getByText('3 of 3 workers')).toBeInTheDocument();

    await user.type(screen.getByRole('textbox', { name: 'Search workers' }), 'feature-x');
    await waitFor(() => {
      expect(screen.getByText('1 of 3 workers')).toBeInTheDocument();
    });
    expect(workerRows()[0]).toHaveTextContent('db');

    await user.clear(screen.getByRole('textbox', { name: 'Search workers' }));
    await user.selectOptions(screen.getByRole('combobox', { name: 'Tag' }), 'env:production');
    await waitFor(() => {
      expect(screen.getByText('1 of 3 workers')).toBeInTheDocument();
    });
    expect(workerRows()[0]).toHaveTextContent('gateway');

    await user.type(screen.getByRole('textbox', { name: 'Search workers' }), 'nothing-like-it');
    expect(await screen.findByText(/No workers match/)).toBeInTheDocument();
    expect(calls.filter((c) => c.cmd === 'open_worker_listing')).toHaveLength(1);
    expect(calls.find((c) => c.cmd === 'open_worker_listing')?.args).toMatchObject({
      profileId: 'local-sandbox',
      namespace: 'dotdo-staging',
    });
  });

  it('sorts by a column header, saying so with aria-sort', async () => {
    serve();
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    const table = await screen.findByRole('table', { name: 'Workers' });
    const nameHeader = within(table).getByRole('columnheader', { name: /Name/ });
    expect(nameHeader).toHaveAttribute('aria-sort', 'ascending');
    await user.click(within(nameHeader).getByRole('button'));
    expect(nameHeader).toHaveAttribute('aria-sort', 'descending');
    expect(workerRows().map((r) => r.querySelector('td')?.textContent)).toEqual(['gateway', 'db', 'auth']);
    const versionHeader = within(table).getByRole('columnheader', { name: /Version/ });
    await user.click(within(versionHeader).getByRole('button'));
    expect(versionHeader).toHaveAttribute('aria-sort', 'ascending');
    expect(nameHeader).toHaveAttribute('aria-sort', 'none');
    expect(workerRows()[2]).toHaveTextContent('db');
  });

  it('renders only the rows in view of 10,000 workers', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => worker(`svc-${String(i).padStart(5, '0')}`));
    serve({ list_workers: () => many });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    const table = await screen.findByRole('table', { name: 'Workers' });
    expect(await screen.findByText('10,000 of 10,000 workers')).toBeInTheDocument();
    expect(table).toHaveAttribute('aria-rowcount', '10001');
    const rendered = workerRows().length;
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(100);

    await user.type(screen.getByRole('textbox', { name: 'Search workers' }), 'svc-0999');
    await waitFor(() => {
      expect(screen.getByText('10 of 10,000 workers')).toBeInTheDocument();
    });
  });

  it('keeps 10,000 workers out of the window: asks for the rows in view, and frees them when closed', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => worker(`svc-${String(i).padStart(5, '0')}`));
    const calls = serve({ list_workers: () => many });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    expect(await screen.findByText('10,000 of 10,000 workers')).toBeInTheDocument();
    const queries = calls.filter((c) => c.cmd === 'query_worker_listing');
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) {
      expect((q.args.query as { limit: number }).limit).toBeLessThanOrEqual(200);
    }
    // Each keystroke is one question to the listing, with what was typed.
    const before = queries.length;
    await user.type(screen.getByRole('textbox', { name: 'Search workers' }), 'svc-09');
    expect(await screen.findByText('1,000 of 10,000 workers')).toBeInTheDocument();
    const typed = calls
      .filter((c) => c.cmd === 'query_worker_listing')
      .slice(before)
      .map((c) => (c.args.query as { search: string }).search);
    expect(typed).toEqual(expect.arrayContaining(['s', 'sv', 'svc', 'svc-', 'svc-0', 'svc-09']));

    const listing = (queries[0]?.args.query as { listing: number }).listing;
    await user.click(screen.getByRole('button', { name: 'Close dotdo-staging' }));
    await waitFor(() => {
      expect(calls.find((c) => c.cmd === 'close_worker_listing')?.args).toEqual({ listing });
    });
  });

  it('moves through rows with the keyboard and opens one with Enter', async () => {
    serve({ worker_detail: () => ({ ...DETAIL, row: WORKERS[1] }) });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    await screen.findByRole('table', { name: 'Workers' });
    const [first] = workerRows();
    first?.focus();
    await user.keyboard('{ArrowDown}');
    await waitFor(() => {
      expect(workerRows()[1]).toHaveFocus();
    });
    await user.keyboard('{End}');
    await waitFor(() => {
      expect(workerRows()[2]).toHaveFocus();
    });
    expect(workerRows()[2]).toHaveAttribute('tabindex', '0');
    expect(workerRows()[1]).toHaveAttribute('tabindex', '-1');
    await user.keyboard('{Home}{ArrowDown}');
    await waitFor(() => {
      expect(workerRows()[1]).toHaveFocus();
    });
    await user.keyboard('{Enter}');
    expect(await screen.findByRole('dialog', { name: 'Worker db' })).toBeInTheDocument();
  });

  it('opens a worker in a drawer with tags, bindings, settings, size and source on demand', async () => {
    const calls = serve({
      worker_detail: () => DETAIL,
      worker_content: () => 'export default { fetch() { return new Response("ok"); } };',
    });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    await screen.findByRole('table', { name: 'Workers' });
    await user.click(workerRows()[0] ?? document.body);
    const drawer = await screen.findByRole('dialog', { name: 'Worker auth' });
    expect(within(drawer).getByText('service:auth')).toBeInTheDocument();
    expect(await within(drawer).findByText('2.0 KiB')).toBeInTheDocument();
    const bindings = within(drawer).getByRole('table', { name: 'Bindings' });
    expect(within(bindings).getByText('DB')).toBeInTheDocument();
    expect(within(drawer).getByText(/compatibility_date/)).toBeInTheDocument();
    expect(calls.some((c) => c.cmd === 'worker_content')).toBe(false);

    await user.click(within(drawer).getByRole('button', { name: 'Show source' }));
    expect(await within(drawer).findByLabelText('Source of auth')).toHaveTextContent('new Response("ok")');
    expect(calls.find((c) => c.cmd === 'worker_content')?.args).toEqual({
      profileId: 'local-sandbox',
      namespace: 'dotdo-staging',
      script: 'auth',
    });
  });

  it('shows a worker detail that cannot be loaded with ErrorNotice', async () => {
    serve({ worker_detail: fail({ code: 'NotFound', message: 'No worker auth in dotdo-staging.' }) });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    await screen.findByRole('table', { name: 'Workers' });
    await user.click(workerRows()[0] ?? document.body);
    const drawer = await screen.findByRole('dialog', { name: 'Worker auth' });
    expect(await within(drawer).findByRole('alert')).toHaveTextContent('No worker auth in dotdo-staging.');
  });

  it('deletes a worker after confirming, and refreshes the list', async () => {
    let workers = WORKERS;
    const calls = serve({
      list_workers: () => workers,
      worker_detail: () => DETAIL,
      delete_worker: (args) => {
        workers = workers.filter((w) => w.name !== args.script);
        return null;
      },
    });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    await screen.findByRole('table', { name: 'Workers' });
    await user.click(workerRows()[0] ?? document.body);
    const drawer = await screen.findByRole('dialog', { name: 'Worker auth' });
    await user.click(within(drawer).getByRole('button', { name: 'Delete worker auth' }));
    const confirm = screen.getByRole('dialog', { name: 'Delete worker auth?' });
    expect(calls.some((c) => c.cmd === 'delete_worker')).toBe(false);
    // The name must be typed: a typo keeps the button disabled.
    const go = within(confirm).getByRole('button', { name: 'Delete auth from dotdo-staging' });
    expect(go).toBeDisabled();
    await user.type(within(confirm).getByLabelText('Type auth to confirm'), 'aht');
    expect(within(confirm).getByText('That is not “auth”.')).toBeInTheDocument();
    expect(go).toBeDisabled();
    await user.clear(within(confirm).getByLabelText('Type auth to confirm'));
    await user.type(within(confirm).getByLabelText('Type auth to confirm'), 'auth');
    await user.click(go);
    await waitFor(() => {
      expect(screen.getByText('2 of 2 workers')).toBeInTheDocument();
    });
    expect(calls.find((c) => c.cmd === 'delete_worker')?.args).toEqual({
      profileId: 'local-sandbox',
      namespace: 'dotdo-staging',
      script: 'auth',
      typedConfirmation: 'auth',
    });
  });

  it('shows workers that cannot be listed with ErrorNotice and a retry', async () => {
    serve({ list_workers: fail({ code: 'RateLimited', message: 'Cloudflare is rate-limiting this token.' }) });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Loading workers failed');
    expect(within(alert).getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });
});

describe('A namespace listed page by page', () => {
  const rowsOf = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => worker(`svc-${String(from + i).padStart(5, '0')}`));
  type Add = (rows: readonly WorkerDetail['row'][]) => void;

  it('shows the first page at once with its progress, then all of them', async () => {
    let more: () => void = () => undefined;
    const rest = new Promise<void>((resolve) => {
      more = resolve;
    });
    serve({
      list_namespaces: () => [ns('dotdo-staging', { scriptCount: 2500 })],
      worker_pages: async (args) => {
        const add = args.add as Add;
        add(rowsOf(0, 1000));
        await rest;
        add(rowsOf(1000, 1000));
        add(rowsOf(2000, 500));
      },
    });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    // The first 1,000 are in the table while the rest are on their way, and it says so.
    expect(await screen.findByText('1,000 of ~2,500 workers loaded…')).toBeInTheDocument();
    expect(screen.getByText('1,000 of 1,000 listed so far (still loading)')).toBeInTheDocument();
    expect(screen.getByRole('table', { name: 'Workers' })).toHaveAttribute('aria-rowcount', '1001');
    expect(workerRows()[0]).toHaveTextContent('svc-00000');
    // Searching works over what has arrived.
    await user.type(screen.getByRole('textbox', { name: 'Search workers' }), 'svc-0099');
    expect(await screen.findByText('10 of 1,000 listed so far (still loading)')).toBeInTheDocument();

    more();
    expect(await screen.findByText('10 of 2,500 workers')).toBeInTheDocument();
    expect(screen.queryByText(/workers loaded…/)).not.toBeInTheDocument();
    await user.clear(screen.getByRole('textbox', { name: 'Search workers' }));
    expect(await screen.findByText('2,500 of 2,500 workers')).toBeInTheDocument();
    expect(screen.getByRole('table', { name: 'Workers' })).toHaveAttribute('aria-rowcount', '2501');
  });

  it('says only how many have arrived when the namespace gave no count', async () => {
    let more: () => void = () => undefined;
    const rest = new Promise<void>((resolve) => {
      more = resolve;
    });
    serve({
      list_namespaces: () => [ns('dotdo-staging', { scriptCount: 0 })],
      worker_pages: async (args) => {
        const add = args.add as Add;
        add(rowsOf(0, 1000));
        await rest;
        add(rowsOf(1000, 3));
      },
    });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    expect(await screen.findByText('1,000 workers loaded…')).toBeInTheDocument();
    more();
    expect(await screen.findByText('1,003 of 1,003 workers')).toBeInTheDocument();
  });

  it('keeps the workers listed before a failure, says what failed, and lists them all again on retry', async () => {
    let fails = true;
    serve({
      list_namespaces: () => [ns('dotdo-staging', { scriptCount: 1500 })],
      worker_pages: (args) => {
        const add = args.add as Add;
        add(rowsOf(0, 1000));
        if (fails) {
          fails = false;
          return fail({
            code: 'RateLimited',
            message:
              'Cloudflare is rate-limiting this token. The 1000 workers listed before it are kept; retry to list them all.',
          })(args);
        }
        add(rowsOf(1000, 500));
        return undefined;
      },
    });
    const { user } = renderApp('namespaces');
    await openNamespace(user, 'dotdo-staging');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Loading the rest of the workers (1,000 listed) failed');
    expect(alert).toHaveTextContent('The 1000 workers listed before it are kept');
    expect(screen.getByRole('table', { name: 'Workers' })).toHaveAttribute('aria-rowcount', '1001');
    expect(screen.getByText('1,000 of 1,000 listed so far (listing stopped)')).toBeInTheDocument();
    expect(screen.queryByText(/workers loaded…/)).not.toBeInTheDocument();

    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('1,500 of 1,500 workers')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});

describe('Compare namespaces', () => {
  const DRIFT: Drift = {
    left: 'dotdo-production',
    right: 'dotdo-staging',
    onlyLeft: ['legacy'],
    onlyRight: ['mcp', 'queue'],
    differing: [
      { name: 'gateway', left: { version: 'v1.0.0', commit: 'aaaaaaaaaa' }, right: { version: 'v1.1.0', commit: 'bbbbbbbbbb' } },
    ],
    same: 5,
  };

  it('compares production with staging by default and lists the drift', async () => {
    const calls = serve({ compare_namespaces: () => DRIFT });
    const { user } = renderApp('namespaces');
    await screen.findByRole('table', { name: 'Namespaces' });
    expect(screen.getByRole('heading', { level: 2, name: 'Compare namespaces' })).toBeInTheDocument();
    expect(screen.getByRole('combobox', { name: 'Left namespace' })).toHaveValue('dotdo-production');
    expect(screen.getByRole('combobox', { name: 'Right namespace' })).toHaveValue('dotdo-staging');
    await user.click(screen.getByRole('button', { name: 'Compare' }));
    expect(await screen.findByRole('heading', { name: 'Only in dotdo-production' })).toBeInTheDocument();
    expect(screen.getByRole('list', { name: 'Only in dotdo-production' })).toHaveTextContent('legacy');
    expect(screen.getByRole('list', { name: 'Only in dotdo-staging' })).toHaveTextContent('mcpqueue');
    expect(screen.getByRole('list', { name: 'Different versions' })).toHaveTextContent(
      'gateway: v1.0.0 / aaaaaaa → v1.1.0 / bbbbbbb',
    );
    expect(screen.getByText('5 the same')).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'compare_namespaces')?.args).toEqual({
      profileId: 'local-sandbox',
      left: 'dotdo-production',
      right: 'dotdo-staging',
    });
  });

  it('compares the namespaces chosen, and shows a failure with ErrorNotice', async () => {
    const calls = serve({ compare_namespaces: fail({ code: 'Timeout', message: 'Listing dotdo-development timed out.' }) });
    const { user } = renderApp('namespaces');
    await screen.findByRole('table', { name: 'Namespaces' });
    await user.selectOptions(screen.getByRole('combobox', { name: 'Left namespace' }), 'dotdo-development');
    await user.click(screen.getByRole('button', { name: 'Compare' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('timed out');
    expect(calls.find((c) => c.cmd === 'compare_namespaces')?.args).toMatchObject({ left: 'dotdo-development' });
  });
});

describe('worker rows', () => {
  it('compares a local folder\'s bindings with the deployed worker\'s, from a typed path or the chooser', async () => {
    const calls = serve({
      choose_path: () => '/work/platform/workers/gateway',
      compare_bindings: () => ({
        onlyLocal: [{ name: 'QUEUE_SERVICE', kind: 'service', value: 'queue' }],
        onlyDeployed: [],
        differing: [
          {
            name: 'AUTH_SERVICE',
            local: { name: 'AUTH_SERVICE', kind: 'service', value: 'auth-v2' },
            deployed: { name: 'AUTH_SERVICE', kind: 'service', value: 'auth' },
          },
        ],
        same: 1,
      }),
    });
    const { user } = renderApp('namespaces');
    await screen.findByRole('table', { name: 'Namespaces' });
    const compare = screen.getByRole('button', { name: 'Compare bindings' });
    expect(compare).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Choose service folder with the file chooser' }));
    expect(await screen.findByRole('textbox', { name: 'Service folder' })).toHaveValue('/work/platform/workers/gateway');
    await user.click(compare);
    const table = await screen.findByRole('table', { name: 'Bindings: local folder against deployed worker' });
    expect(within(table).getByRole('row', { name: /AUTH_SERVICE service auth-v2 auth Different/ })).toBeInTheDocument();
    expect(within(table).getByRole('row', { name: /QUEUE_SERVICE .* Not deployed yet/ })).toBeInTheDocument();
    expect(screen.getByText('2 bindings differ; 1 the same.')).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'compare_bindings')?.args).toEqual({
      profileId: 'local-sandbox',
      namespace: 'dotdo-production',
      script: 'gateway',
      folder: '/work/platform/workers/gateway',
    });
  });

  it('says what is wrong with a folder that has no wrangler config', async () => {
    serve({
      compare_bindings: fail({
        code: 'InvalidInput',
        message: '/tmp/x/wrangler.json does not exist. Choose a service folder that contains wrangler.jsonc.',
      }),
    });
    const { user } = renderApp('namespaces');
    await screen.findByRole('table', { name: 'Namespaces' });
    await user.type(screen.getByRole('textbox', { name: 'Service folder' }), '/tmp/x');
    await user.click(screen.getByRole('button', { name: 'Compare bindings' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('does not exist');
  });

  it('shows a Modified time in the local format from one shared formatter, and odd values as they are', () => {
    const options: Intl.DateTimeFormatOptions = {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    };
    for (const iso of ['2025-02-03T04:05:06Z', '2024-12-31T23:59:59.999Z', '1999-07-01T12:00:00+02:00']) {
      expect(isoLocal(iso)).toBe(new Date(iso).toLocaleString(undefined, options));
    }
    expect(isoLocal('soon')).toBe('soon');
    expect(isoLocal('')).toBe('');
    expect(isoLocal(null)).toBe('');
  });

  it('picks production and staging to compare when both exist', () => {
    expect(defaultPair(['a', 'dotdo-staging', 'dotdo-production'])).toEqual(['dotdo-production', 'dotdo-staging']);
    expect(defaultPair(['a', 'b'])).toEqual(['a', 'b']);
    expect(revisionText({ version: null, commit: null })).toBe('no version / no commit');
  });
});
