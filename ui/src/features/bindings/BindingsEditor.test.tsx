import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';

import { createQueryClient, Providers } from '../../shell/Providers';
import { type BindingsEditApplied, type BindingsEditPlan } from '../../ipc/types';
import { appInfo, codeDiff, fail, type Handler, type IpcCall, renderApp, serveIpc } from '../../test/render';
import { type BindingRow, BindingsForm, bindingsToRows, rowsToBindings } from './BindingsEditor';

const FOLDER = '/home/op/platform/workers/gateway';

function plan(overrides: Partial<BindingsEditPlan> = {}): BindingsEditPlan {
  return {
    folder: FOLDER,
    file: `${FOLDER}/wrangler.jsonc`,
    baseSha256: 'ab'.repeat(32),
    newText: '{}',
    newSha256: 'cd'.repeat(32),
    fileDiff: codeDiff({
      added: 1,
      removed: 0,
      hunks: [
        {
          header: '@@ -5,4 +5,5 @@',
          lines: [
            { kind: 'context', old: 5, new: 5, text: '  // Service bindings (binding name → service).', cutChars: 0 },
            { kind: 'context', old: 6, new: 6, text: '  "services": [', cutChars: 0 },
            { kind: 'context', old: 7, new: 7, text: '    { "binding": "DB_SERVICE", "service": "db" },', cutChars: 0 },
            { kind: 'added', old: null, new: 8, text: '    { "binding": "BILLING", "service": "billing" },', cutChars: 0 },
          ],
        },
      ],
    }),
    bindings: [],
    namespace: 'dotdo-production',
    worker: 'gateway',
    services: [
      { bindings: ['DB_SERVICE'], service: 'db', exists: true, note: null },
      { bindings: ['BILLING'], service: 'billing', exists: false, note: 'No worker named billing in dotdo-production: calls through this binding fail until it is deployed there.' },
    ],
    missingServices: ['billing'],
    deployed: {
      onlyLocal: [{ name: 'BILLING', kind: 'service', value: 'billing' }],
      onlyDeployed: [],
      differing: [],
      same: 1,
    },
    deployedNote: 'What gateway in dotdo-production has now against the edited file: the next deploy of the folder brings the difference.',
    envInterface: { updated: true, note: "src/index.ts's Env interface is the one the template wrote: it is updated with the bindings.", members: [] },
    notes: [],
    ...overrides,
  };
}

const APPLIED: BindingsEditApplied = {
  folder: FOLDER,
  file: `${FOLDER}/wrangler.jsonc`,
  sha256: 'cd'.repeat(32),
  bindings: [
    { binding: 'DB_SERVICE', service: 'db', entrypoint: null },
    { binding: 'BILLING', service: 'billing', entrypoint: null },
  ],
  envInterface: { updated: true, note: "src/index.ts's Env interface is the one the template wrote: it is updated with the bindings.", members: [] },
  redeployNeeded: true,
  worker: 'gateway',
  message: 'Saved wrangler.jsonc. Bindings change only when the service is deployed: redeploy gateway from this folder for the change to take effect.',
};

function serve(handlers: Record<string, Handler> = {}): IpcCall[] {
  return serveIpc(appInfo(), {
    list_workers: () => [],
    plan_bindings_edit: () => plan(),
    apply_bindings_edit: () => APPLIED,
    ...handlers,
  });
}

async function openBindings() {
  const view = renderApp('deploy');
  await view.user.click(await screen.findByRole('tab', { name: 'Bindings' }));
  await view.user.type(screen.getByRole('textbox', { name: 'Service folder' }), FOLDER);
  await view.user.click(screen.getByRole('button', { name: 'Read bindings' }));
  await screen.findByRole('table', { name: 'Service bindings' });
  return view;
}

describe('BindingsEditor', () => {
  it('reviews an added, renamed and removed binding, saves it and opens the redeploy', async () => {
    const calls = serve();
    const { user } = await openBindings();
    expect(screen.getByRole('textbox', { name: 'Name of DB_SERVICE' })).toHaveValue('DB_SERVICE');
    expect(screen.getByText('Variables (not edited here): MODE.')).toBeInTheDocument();

    // Rename AUTH_SERVICE → AUTH, remove DB_SERVICE, add BILLING → billing.
    const auth = screen.getByRole('textbox', { name: 'Name of AUTH_SERVICE' });
    await user.clear(auth);
    await user.type(auth, 'AUTH');
    expect(screen.getByText('renamed from AUTH_SERVICE')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Remove DB_SERVICE' }));
    await user.click(screen.getByRole('button', { name: 'Add a binding' }));
    await user.type(screen.getByRole('textbox', { name: 'Name of binding 2' }), 'BILLING');
    await user.type(screen.getByRole('textbox', { name: 'Service of BILLING' }), 'billing');
    await user.click(screen.getByRole('button', { name: 'Review changes' }));

    const planCall = await waitFor(() => {
      const c = calls.find((x) => x.cmd === 'plan_bindings_edit');
      expect(c).toBeDefined();
      return c;
    });
    expect(planCall?.args.request).toEqual({
      profileId: 'local-sandbox',
      folder: FOLDER,
      baseSha256: null,
      edits: [
        { op: 'remove', binding: 'DB_SERVICE' },
        { op: 'rename', from: 'AUTH_SERVICE', to: 'AUTH' },
        { op: 'add', binding: 'BILLING', service: 'billing', entrypoint: null },
      ],
    });

    // The review: the file's diff, the missing service, the deployed difference, the Env note.
    const lines = await screen.findByRole('region', { name: 'File changes, line by line' });
    expect(within(lines).getByText('{ "binding": "BILLING", "service": "billing" },', { exact: false })).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent('billing (bound as BILLING): No worker named billing in dotdo-production');
    const deployed = screen.getByRole('table', { name: 'Bindings: edited file against the deployed worker' });
    expect(within(deployed).getByText('Added by the redeploy')).toBeInTheDocument();
    expect(screen.getByText(/Env interface is the one the template wrote/)).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Save to wrangler.jsonc' }));
    expect(await screen.findByText(/redeploy gateway from this folder/)).toBeInTheDocument();
    const applyCall = calls.find((x) => x.cmd === 'apply_bindings_edit');
    expect(applyCall?.args.request).toMatchObject({ baseSha256: 'ab'.repeat(32), folder: FOLDER });

    // The redeploy: the Deploy tab, on this folder.
    await user.click(screen.getByRole('button', { name: 'Open the redeploy' }));
    await waitFor(() => {
      expect(screen.getByRole('tab', { name: 'Deploy' })).toHaveAttribute('aria-selected', 'true');
    });
    expect(screen.getAllByRole('textbox', { name: 'Service folder' }).some((el) => (el as HTMLInputElement).value === FOLDER)).toBe(true);
  });

  it('says when the file changed since the review, and a bad name before any call', async () => {
    const calls = serve({
      apply_bindings_edit: fail({
        code: 'Conflict',
        message: `${FOLDER}/wrangler.jsonc changed since you reviewed the changes (someone or something saved it). Nothing was written: review the changes again.`,
      }),
    });
    const { user } = await openBindings();
    await user.click(screen.getByRole('button', { name: 'Add a binding' }));
    await user.type(screen.getByRole('textbox', { name: 'Name of binding 3' }), 'db-service');
    expect(screen.getByText(/db-service is not a binding name/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Review changes' })).toBeDisabled();
    const name = screen.getByRole('textbox', { name: 'Name of db-service' });
    await user.clear(name);
    await user.type(name, 'QUEUE');
    await user.type(screen.getByRole('textbox', { name: 'Service of QUEUE' }), 'queue');
    await user.click(screen.getByRole('button', { name: 'Review changes' }));
    await user.click(await screen.findByRole('button', { name: 'Save to wrangler.jsonc' }));
    expect(await screen.findByText(/changed since you reviewed the changes/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Open the redeploy' })).not.toBeInTheDocument();
    expect(calls.filter((c) => c.cmd === 'plan_bindings_edit')).toHaveLength(1);
  });

  it('shows why a folder cannot be read', async () => {
    serve({
      folder_bindings: fail({ code: 'InvalidInput', message: `${FOLDER}/wrangler.jsonc does not exist (No such file or directory). Choose a service folder that contains wrangler.jsonc.` }),
    });
    const { user } = renderApp('deploy');
    await user.click(await screen.findByRole('tab', { name: 'Bindings' }));
    await user.type(screen.getByRole('textbox', { name: 'Service folder' }), FOLDER);
    await user.click(screen.getByRole('button', { name: 'Read bindings' }));
    expect(await screen.findByText(/Choose a service folder that contains wrangler.jsonc/)).toBeInTheDocument();
    expect(screen.queryByRole('table', { name: 'Service bindings' })).not.toBeInTheDocument();
  });
});

describe('BindingsForm', () => {
  function Harness({ initial, out }: { initial: BindingRow[]; out: { rows: BindingRow[] } }) {
    const [rows, setRows] = useState(initial);
    return (
      <BindingsForm
        rows={rows}
        onChange={(next) => {
          out.rows = next;
          setRows(next);
        }}
      />
    );
  }

  it('gives back the rows as edited, and the bindings a deploy sends', async () => {
    serveIpc(appInfo());
    const out = { rows: [] as BindingRow[] };
    const user = userEvent.setup();
    render(
      <Providers env="test" queryClient={createQueryClient()}>
        <Harness initial={bindingsToRows({ DB_SERVICE: 'db' })} out={out} />
      </Providers>,
    );
    await user.click(screen.getByRole('button', { name: 'Add a binding' }));
    await user.type(screen.getByRole('textbox', { name: 'Name of binding 2' }), 'AUTH_SERVICE');
    await user.type(screen.getByRole('textbox', { name: 'Service of AUTH_SERVICE' }), 'auth');
    expect(rowsToBindings(out.rows)).toEqual({ DB_SERVICE: 'db', AUTH_SERVICE: 'auth' });
    await user.click(screen.getByRole('button', { name: 'Remove DB_SERVICE' }));
    expect(rowsToBindings(out.rows)).toEqual({ AUTH_SERVICE: 'auth' });
    // A duplicate name is flagged and not sent.
    await user.click(screen.getByRole('button', { name: 'Add a binding' }));
    await user.type(screen.getByRole('textbox', { name: 'Name of binding 2' }), 'AUTH_SERVICE');
    expect(screen.getAllByText('Two bindings are named AUTH_SERVICE: rename one.')).toHaveLength(2);
    expect(rowsToBindings(out.rows)).toEqual({});
  });
});
