import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { NamespaceSummary, TagDeletePlan, WorkerDetail, WorkerSecrets } from '../../ipc/types';
import { appInfo, fail, type Handler, type IpcCall, renderApp, serveIpc } from '../../test/render';

function worker(name: string, tags: string[]): WorkerDetail['row'] {
  return {
    name,
    tags,
    service: name,
    environment: 'staging',
    commit: null,
    branch: null,
    version: null,
    createdOn: '2025-01-02T03:04:05Z',
    modifiedOn: '2025-02-03T04:05:06Z',
  };
}

const NAMESPACES: NamespaceSummary[] = [
  {
    name: 'dotdo-staging',
    id: 'id-staging',
    scriptCount: 3,
    trustedWorkers: false,
    createdOn: null,
    modifiedOn: null,
  },
];

const WORKERS = [worker('auth', ['service:auth', 'cohort-7']), worker('db', ['cohort-7']), worker('gateway', [])];

const DETAIL: WorkerDetail = {
  row: WORKERS[0] ?? worker('auth', []),
  bindings: [],
  settings: {},
  sizeBytes: 10,
};

function secrets(overrides: Partial<WorkerSecrets> = {}): WorkerSecrets {
  return {
    namespace: 'dotdo-staging',
    script: 'auth',
    names: ['API_TOKEN', 'DB_PASSWORD'],
    tags: ['service:auth', 'cohort-7'],
    confirmTyped: false,
    ...overrides,
  };
}

function serve(handlers: Record<string, Handler> = {}) {
  return serveIpc(appInfo(), {
    list_namespaces: () => NAMESPACES,
    list_workers: () => WORKERS,
    worker_detail: () => DETAIL,
    worker_secrets: () => secrets(),
    ...handlers,
  });
}

/** Open dotdo-staging, then the worker auth, then its "Secrets and tags" tab. */
async function openTab() {
  const { user } = renderApp('namespaces');
  const table = await screen.findByRole('table', { name: 'Namespaces' });
  await user.click(within(table).getByRole('button', { name: 'Open dotdo-staging' }));
  const workers = await screen.findByRole('table', { name: 'Workers' });
  const first = within(workers).getAllByRole('row')[1];
  await user.click(first ?? document.body);
  const drawer = await screen.findByRole('dialog', { name: 'Worker auth' });
  await user.click(within(drawer).getByRole('tab', { name: 'Secrets and tags' }));
  return { user, drawer };
}

function called(calls: IpcCall[], cmd: string) {
  return calls.filter((c) => c.cmd === cmd);
}

describe('Secrets and tags of a worker', () => {
  it('lists the secret names, never values, and the tags', async () => {
    const calls = serve();
    const { drawer } = await openTab();
    const table = await within(drawer).findByRole('table', { name: 'Secrets' });
    expect(within(table).getByText('API_TOKEN')).toBeInTheDocument();
    expect(within(table).getByText('DB_PASSWORD')).toBeInTheDocument();
    expect(within(table).getAllByText('hidden')).toHaveLength(2);
    expect(within(drawer).getByRole('button', { name: 'Delete secret API_TOKEN' })).toBeEnabled();
    expect(called(calls, 'worker_secrets')[0]?.args).toEqual({
      profileId: 'local-sandbox',
      namespace: 'dotdo-staging',
      script: 'auth',
    });
  });

  it('sends the password field only in put_worker_secret, clears it, and never renders it', async () => {
    const value = 'sk_live_do-not-show-9f8e7d';
    let names = ['API_TOKEN'];
    const calls = serve({
      worker_secrets: () => secrets({ names }),
      put_worker_secret: (args) => {
        names = [...names, String(args.name)].sort();
        return args.name;
      },
    });
    const { user, drawer } = await openTab();
    await within(drawer).findByRole('table', { name: 'Secrets' });
    const field = within(drawer).getByLabelText('Secret value');
    expect(field).toHaveAttribute('type', 'password');
    await user.type(within(drawer).getByLabelText('Secret name'), 'STRIPE_KEY');
    await user.type(field, value);
    await user.click(within(drawer).getByRole('button', { name: 'Set secret STRIPE_KEY' }));
    expect(await within(drawer).findByText('Secret STRIPE_KEY set on auth. Its value is not shown again.')).toBeInTheDocument();
    expect(await within(drawer).findByText('STRIPE_KEY')).toBeInTheDocument();
    expect(within(drawer).getByLabelText('Secret value')).toHaveValue('');

    const puts = called(calls, 'put_worker_secret');
    expect(puts).toHaveLength(1);
    expect(puts[0]?.args).toEqual({
      profileId: 'local-sandbox',
      namespace: 'dotdo-staging',
      script: 'auth',
      name: 'STRIPE_KEY',
      value,
      typedConfirmation: null,
    });
    // In no other command, and nowhere in the page.
    const others = calls.filter((c) => c.cmd !== 'put_worker_secret');
    expect(JSON.stringify(others)).not.toContain(value);
    expect(document.body.innerHTML).not.toContain(value);
  });

  it('clears the value after a refused put too, and shows the error', async () => {
    const value = 'hunter2-refused';
    serve({ put_worker_secret: fail({ code: 'InvalidInput', message: 'Secret name is not valid.', runbook: null }) });
    const { user, drawer } = await openTab();
    await within(drawer).findByRole('table', { name: 'Secrets' });
    await user.type(within(drawer).getByLabelText('Secret name'), 'X');
    await user.type(within(drawer).getByLabelText('Secret value'), value);
    await user.click(within(drawer).getByRole('button', { name: 'Set secret X' }));
    expect(await within(drawer).findByRole('alert')).toHaveTextContent('Secret name is not valid.');
    expect(within(drawer).getByLabelText('Secret value')).toHaveValue('');
    expect(document.body.innerHTML).not.toContain(value);
  });

  it('asks before deleting a secret', async () => {
    let names = ['API_TOKEN', 'DB_PASSWORD'];
    const calls = serve({
      worker_secrets: () => secrets({ names }),
      delete_worker_secret: (args) => {
        names = names.filter((n) => n !== args.name);
        return null;
      },
    });
    const { user, drawer } = await openTab();
    await user.click(await within(drawer).findByRole('button', { name: 'Delete secret API_TOKEN' }));
    const confirm = screen.getByRole('dialog', { name: 'Delete secret API_TOKEN?' });
    expect(called(calls, 'delete_worker_secret')).toHaveLength(0);
    await user.click(within(confirm).getByRole('button', { name: 'Delete API_TOKEN from auth' }));
    await waitFor(() => {
      expect(within(drawer).queryByText('API_TOKEN')).not.toBeInTheDocument();
    });
    expect(called(calls, 'delete_worker_secret')[0]?.args).toEqual({
      profileId: 'local-sandbox',
      namespace: 'dotdo-staging',
      script: 'auth',
      name: 'API_TOKEN',
      typedConfirmation: null,
    });
  });

  it('in a production namespace, needs the worker name typed before any change', async () => {
    const calls = serve({
      worker_secrets: () => secrets({ confirmTyped: true }),
      delete_worker_secret: () => null,
    });
    const { user, drawer } = await openTab();
    const del = await within(drawer).findByRole('button', { name: 'Delete secret API_TOKEN' });
    expect(del).toBeDisabled();
    await user.type(within(drawer).getByLabelText('Type auth to change its secrets and tags'), 'auth');
    expect(del).toBeEnabled();
    await user.click(del);
    await user.click(
      within(screen.getByRole('dialog', { name: 'Delete secret API_TOKEN?' })).getByRole('button', {
        name: 'Delete API_TOKEN from auth',
      }),
    );
    await waitFor(() => {
      expect(called(calls, 'delete_worker_secret')[0]?.args.typedConfirmation).toBe('auth');
    });
  });

  it('sets several secrets from .env lines and shows a refused line by number', async () => {
    let attempt = 0;
    const calls = serve({
      bulk_set_worker_secrets: (args) => {
        attempt += 1;
        if (attempt === 1) {
          return fail({ code: 'InvalidInput', message: 'Line 2 has no "=": write each secret as NAME=value.', runbook: null })(args);
        }
        return ['A', 'B'];
      },
    });
    const { user, drawer } = await openTab();
    await within(drawer).findByRole('table', { name: 'Secrets' });
    const area = within(drawer).getByLabelText('Paste .env lines');
    await user.type(area, 'A=1{enter}oops');
    await user.click(within(drawer).getByRole('button', { name: 'Set the secrets in these lines' }));
    expect(await within(drawer).findByRole('alert')).toHaveTextContent('Line 2 has no');
    await user.clear(area);
    await user.type(area, 'A=1{enter}B=2');
    await user.click(within(drawer).getByRole('button', { name: 'Set the secrets in these lines' }));
    expect(await within(drawer).findByText('Set 2 secrets on auth: A, B.')).toBeInTheDocument();
    expect(area).toHaveValue('');
    expect(called(calls, 'bulk_set_worker_secrets')[1]?.args.envText).toBe('A=1\nB=2');
  });

  it('edits the tags in place', async () => {
    let tags = ['service:auth', 'cohort-7'];
    const calls = serve({
      worker_secrets: () => secrets({ tags }),
      set_worker_tags: (args) => {
        tags = args.tags as string[];
        return tags;
      },
    });
    const { user, drawer } = await openTab();
    const input = await within(drawer).findByRole('textbox', { name: 'Tags of this worker' });
    await user.type(input, 'beta{enter}');
    await user.click(within(drawer).getByRole('button', { name: 'Save tags' }));
    expect(await within(drawer).findByText('Tags saved.')).toBeInTheDocument();
    expect(called(calls, 'set_worker_tags')[0]?.args).toEqual({
      profileId: 'local-sandbox',
      namespace: 'dotdo-staging',
      script: 'auth',
      tags: ['service:auth', 'cohort-7', 'beta'],
      typedConfirmation: null,
    });
  });

  it('deletes the workers of a tag after a preview and the tag typed, bound to the previewed names', async () => {
    const plan: TagDeletePlan = {
      namespace: 'dotdo-staging',
      tag: 'cohort-7',
      scripts: ['auth', 'db'],
      scriptCount: 2,
      confirmPhrase: 'cohort-7',
      action: 'Delete the 2 workers tagged cohort-7 from dotdo-staging',
    };
    let workers = WORKERS;
    const calls = serve({
      list_workers: () => workers,
      tag_delete_plan: () => plan,
      delete_workers_by_tag: (args) => {
        workers = workers.filter((w) => !(args.previewed as string[]).includes(w.name));
        return args.previewed;
      },
    });
    const { user, drawer } = await openTab();
    await user.click(await within(drawer).findByRole('textbox', { name: 'Delete every worker tagged' }));
    await user.click(await screen.findByRole('option', { name: 'cohort-7' }));
    await user.click(within(drawer).getByRole('button', { name: 'Preview the workers tagged cohort-7' }));
    const confirm = await screen.findByRole('dialog', { name: 'Delete the workers tagged cohort-7?' });
    const list = within(confirm).getByRole('list', { name: 'Workers tagged cohort-7' });
    expect(within(list).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['auththis worker', 'db']);
    const go = within(confirm).getByRole('button', { name: 'Delete the 2 workers tagged cohort-7 from dotdo-staging' });
    expect(go).toBeDisabled();
    await user.type(within(confirm).getByLabelText('Type cohort-7 to confirm'), 'cohort');
    expect(go).toBeDisabled();
    expect(called(calls, 'delete_workers_by_tag')).toHaveLength(0);
    await user.type(within(confirm).getByLabelText('Type cohort-7 to confirm'), '-7');
    await user.click(go);
    // This worker went too: the drawer closes, and the list no longer has it.
    await waitFor(() => {
      expect(screen.queryByRole('dialog', { name: 'Worker auth' })).not.toBeInTheDocument();
    });
    expect(called(calls, 'delete_workers_by_tag')[0]?.args).toEqual({
      profileId: 'local-sandbox',
      namespace: 'dotdo-staging',
      tag: 'cohort-7',
      typedConfirmation: 'cohort-7',
      previewed: ['auth', 'db'],
    });
  });

  it('shows a refused delete by tag (the list changed) and offers the new list', async () => {
    let n = 0;
    const plans: TagDeletePlan[] = [
      { namespace: 'dotdo-staging', tag: 'cohort-7', scripts: ['auth', 'db'], scriptCount: 2, confirmPhrase: 'cohort-7', action: 'Delete the 2 workers tagged cohort-7 from dotdo-staging' },
      { namespace: 'dotdo-staging', tag: 'cohort-7', scripts: ['auth', 'db', 'new'], scriptCount: 3, confirmPhrase: 'cohort-7', action: 'Delete the 3 workers tagged cohort-7 from dotdo-staging' },
    ];
    serve({
      tag_delete_plan: () => {
        n += 1;
        return plans[Math.min(n, 2) - 1];
      },
      delete_workers_by_tag: fail({
        code: 'Conflict',
        message: 'Nothing was deleted: the workers tagged cohort-7 in dotdo-staging changed since the preview (tagged since: new).',
        runbook: null,
      }),
    });
    const { user, drawer } = await openTab();
    await user.click(await within(drawer).findByRole('textbox', { name: 'Delete every worker tagged' }));
    await user.click(await screen.findByRole('option', { name: 'cohort-7' }));
    await user.click(within(drawer).getByRole('button', { name: 'Preview the workers tagged cohort-7' }));
    const confirm = await screen.findByRole('dialog', { name: 'Delete the workers tagged cohort-7?' });
    await user.type(within(confirm).getByLabelText('Type cohort-7 to confirm'), 'cohort-7');
    await user.click(within(confirm).getByRole('button', { name: 'Delete the 2 workers tagged cohort-7 from dotdo-staging' }));
    expect(await within(confirm).findByRole('alert')).toHaveTextContent('tagged since: new');
    await user.click(within(confirm).getByRole('button', { name: 'Show the new list' }));
    expect(
      await within(confirm).findByRole('button', { name: 'Delete the 3 workers tagged cohort-7 from dotdo-staging' }),
    ).toBeDisabled();
  });
});
