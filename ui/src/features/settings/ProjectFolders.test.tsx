import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { appInfo, renderApp, serveIpc } from '../../test/render';

describe('Project folders (Settings → Deploys)', () => {
  it('adds a folder only through the chooser the shell opens, and removes one', async () => {
    let listed: string[] = ['/home/op/src/dotdo'];
    const calls = serveIpc(appInfo(), {
      project_folders: () => listed,
      // The window sends no path: the shell opens the chooser and answers with the list.
      add_project_folder: () => {
        listed = [...listed, '/home/op/src/tools'];
        return listed;
      },
      remove_project_folder: (args) => {
        listed = listed.filter((f) => f !== args.folder);
        return listed;
      },
    });
    const { user } = renderApp('settings');
    const section = await screen.findByRole('region', { name: 'Project folders' });
    const list = await within(section).findByRole('list', { name: 'Project folders' });
    expect(list).toHaveTextContent('/home/op/src/dotdo');

    await user.click(within(section).getByRole('button', { name: 'Add a project folder…' }));
    expect(await within(list).findByText('/home/op/src/tools')).toBeInTheDocument();
    const add = calls.find((c) => c.cmd === 'add_project_folder');
    expect(add?.args).toEqual({});

    await user.click(within(section).getByRole('button', { name: 'Remove /home/op/src/dotdo from the project folders' }));
    expect(await within(section).findByRole('list', { name: 'Project folders' })).not.toHaveTextContent('/home/op/src/dotdo');
    expect(calls.find((c) => c.cmd === 'remove_project_folder')?.args).toEqual({ folder: '/home/op/src/dotdo' });
  });

  it('says that typed paths need a project folder when none is listed', async () => {
    serveIpc(appInfo());
    renderApp('settings');
    const section = await screen.findByRole('region', { name: 'Project folders' });
    expect(await within(section).findByText('No project folders yet: paths must be chosen with Browse….')).toBeInTheDocument();
  });
});
