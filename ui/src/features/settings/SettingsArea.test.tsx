import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { appInfo, renderApp, serveAppInfo } from '../../test/render';

describe('Settings', () => {
  it('shows the real app info: version, data directory and profiles', async () => {
    serveAppInfo(appInfo());
    renderApp('settings');
    expect(screen.getByRole('heading', { level: 1, name: 'Settings' })).toBeInTheDocument();
    const profiles = await screen.findByRole('table', { name: 'Profiles' });
    const rows = within(profiles).getAllByRole('row');
    expect(rows).toHaveLength(4);
    const sandboxRow = within(profiles).getByRole('row', { name: /Local sandbox/ });
    expect(sandboxRow).toHaveTextContent('Development');
    expect(sandboxRow).toHaveTextContent('Active');
    const prodRow = within(profiles).getByRole('row', { name: /dotdo production/ });
    expect(prodRow).toHaveTextContent('Production');
    expect(prodRow).toHaveTextContent('Protected');
    const main = screen.getByRole('main');
    expect(main).toHaveTextContent('0.1.0');
    expect(main).toHaveTextContent('/home/op/.local/share/switchyard');
    expect(screen.getByRole('contentinfo')).toHaveTextContent('Data directory: /home/op/.local/share/switchyard');
    expect(screen.getByRole('contentinfo')).toHaveTextContent('Data: as of — (no data synced yet)');
  });

  it('says when there are no profiles', async () => {
    serveAppInfo(appInfo({ profiles: [], activeProfile: '' }));
    renderApp('settings');
    expect(await screen.findByText('No profiles are configured.')).toBeInTheDocument();
  });
});
