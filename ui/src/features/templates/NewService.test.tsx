import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { CreatedService, ServiceTemplate, TemplateCatalog } from '../../ipc/types';
import { appInfo, fail, renderApp, serveIpc } from '../../test/render';

function template(id: string, name: string, kind: ServiceTemplate['kind'], bindings: Record<string, string>): ServiceTemplate {
  return {
    id,
    name,
    kind,
    description: `A ${kind} service.`,
    origin: id.startsWith('user/') ? { kind: 'user', path: `/home/op/.local/share/switchyard/templates/${id.slice(5)}` } : { kind: 'builtIn' },
    bindings,
    files: ['package.json', 'src/index.ts', 'tests/health.test.ts', 'wrangler.jsonc'],
  };
}

const CATALOG: TemplateCatalog = {
  templates: [
    template('domain', 'Domain service', 'domain', { AUTH_SERVICE: 'auth', DB_SERVICE: 'db' }),
    template('integration', 'Integration service', 'integration', { DB_SERVICE: 'db', QUEUE_SERVICE: 'queue' }),
    template('ai', 'AI service', 'ai', { DB_SERVICE: 'db' }),
    template('user/queue-consumer', 'Queue consumer', 'integration', {}),
  ],
  problems: [
    {
      templateId: 'user/broken',
      folder: '/home/op/.local/share/switchyard/templates/broken',
      errors: [{ file: 'src/index.ts', line: 3, message: 'unknown placeholder {{servce}}' }],
    },
  ],
  folder: '/home/op/.local/share/switchyard/templates',
};

const FOLDER = '/home/op/platform/workers/billing';

function created(overrides: Partial<CreatedService> = {}): CreatedService {
  return {
    service: 'billing',
    templateId: 'integration',
    kind: 'integration',
    folder: FOLDER,
    environment: 'production',
    namespace: 'dotdo-production',
    bindings: { DB_SERVICE: 'db', QUEUE_SERVICE: 'queue' },
    files: ['package.json', 'src/index.ts', 'tests/health.test.ts', 'wrangler.jsonc'],
    inProfile: false,
    nextSteps: ['Install its dependencies once.', 'Add billing to the service list of the profile Local sandbox.'],
    ...overrides,
  };
}

describe('New service from a template', () => {
  it('lists the templates, creates into the chosen folder, then "Deploy it" opens the deploy wizard on it', async () => {
    const calls = serveIpc(appInfo(), {
      service_templates: () => CATALOG,
      choose_path: () => FOLDER,
      create_service: () => created(),
    });
    const { user } = renderApp('deploy');
    await user.click(await screen.findByRole('button', { name: 'New service from a template…' }));
    const dialog = await screen.findByRole('dialog', { name: 'New service from a template' });

    // Built-ins and the user's, and the broken one's mistake with its file and line.
    for (const name of ['Domain service', 'Integration service', 'AI service', 'Queue consumer']) {
      expect(await within(dialog).findByRole('radio', { name })).toBeInTheDocument();
    }
    expect(within(dialog).getByRole('radio', { name: 'Domain service' })).toBeChecked();
    expect(within(dialog).getByText('src/index.ts line 3: unknown placeholder {{servce}}')).toBeInTheDocument();
    expect(within(dialog).getByText('/home/op/.local/share/switchyard/templates/broken')).toBeInTheDocument();

    // The integration template suggests its bindings.
    await user.click(within(dialog).getByRole('radio', { name: 'Integration service' }));
    expect(within(dialog).getByRole('textbox', { name: 'Binding 2 name' })).toHaveValue('QUEUE_SERVICE');
    expect(within(dialog).getByRole('textbox', { name: 'Binding 2 service' })).toHaveValue('queue');
    const createButton = within(dialog).getByRole('button', { name: 'Create service' });
    expect(createButton).toBeDisabled();

    await user.type(within(dialog).getByRole('textbox', { name: 'Service name' }), 'billing');
    expect(within(dialog).getByText('Namespace: dotdo-production')).toBeInTheDocument();
    await user.type(within(dialog).getByRole('textbox', { name: 'Description (optional)' }), 'Invoices');
    await user.click(within(dialog).getByRole('button', { name: 'Choose folder with the file chooser' }));
    await waitFor(() => {
      expect(within(dialog).getByRole('textbox', { name: 'Folder' })).toHaveValue(FOLDER);
    });
    await user.click(createButton);

    const status = await within(dialog).findByRole('status');
    expect(status).toHaveTextContent(`Created billing in ${FOLDER}`);
    expect(status).toHaveTextContent('Add billing to the service list');
    expect(calls.find((c) => c.cmd === 'create_service')?.args).toEqual({
      request: {
        profileId: 'local-sandbox',
        templateId: 'integration',
        service: 'billing',
        environment: 'production',
        folder: FOLDER,
        bindings: { DB_SERVICE: 'db', QUEUE_SERVICE: 'queue' },
        description: 'Invoices',
      },
    });

    await user.click(within(status).getByRole('button', { name: 'Deploy it' }));
    await waitFor(() => {
      expect(screen.queryByRole('dialog', { name: 'New service from a template' })).not.toBeInTheDocument();
    });
    expect(screen.getByRole('tab', { name: 'Deploy' })).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByRole('textbox', { name: 'Service folder' })).toHaveValue(FOLDER);
    expect(calls.some((c) => c.cmd === 'prepare_deploy')).toBe(false);
  });

  it('shows why a folder is refused and keeps the form', async () => {
    serveIpc(appInfo(), {
      service_templates: () => CATALOG,
      create_service: fail({
        code: 'Conflict',
        message: `${FOLDER} already exists and is not empty (it holds package.json): nothing was written.`,
        runbook: null,
      }),
    });
    const { user } = renderApp('deploy');
    await user.click(await screen.findByRole('button', { name: 'New service from a template…' }));
    const dialog = await screen.findByRole('dialog', { name: 'New service from a template' });
    await within(dialog).findByRole('radio', { name: 'Domain service' });
    await user.type(within(dialog).getByRole('textbox', { name: 'Service name' }), 'Billing');
    expect(within(dialog).getByText(/Use lowercase letters/)).toBeInTheDocument();
    await user.clear(within(dialog).getByRole('textbox', { name: 'Service name' }));
    await user.type(within(dialog).getByRole('textbox', { name: 'Service name' }), 'billing');
    await user.type(within(dialog).getByRole('textbox', { name: 'Folder' }), FOLDER);
    await user.click(within(dialog).getByRole('button', { name: 'Create service' }));
    expect(await within(dialog).findByText(/already exists and is not empty/)).toBeInTheDocument();
    expect(within(dialog).getByRole('textbox', { name: 'Service name' })).toHaveValue('billing');
  });
});
