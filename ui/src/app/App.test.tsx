import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import {
  appInfo,
  fail,
  fullProfile,
  productionProfile,
  renderApp,
  sandboxProfile,
  serveAppInfo,
  serveIpc,
  stagingProfile,
} from '../test/render';
import { AREAS } from '../shell/areas';

const AREA_NAMES = ['Deployments', 'Deploy', 'Namespaces', 'Health', 'Logs', 'Runbooks', 'Audit', 'Settings'];

function areasNav() {
  return screen.getByRole('navigation', { name: 'Areas' });
}

describe('the window', () => {
  it('lists the eight areas in the sidebar, in order, and opens Deployments first', async () => {
    serveAppInfo(appInfo());
    renderApp();
    const buttons = within(areasNav()).getAllByRole('button');
    expect(buttons.map((b) => b.getAttribute('aria-label'))).toEqual(AREA_NAMES);
    expect(within(areasNav()).getByRole('button', { name: 'Deployments' })).toHaveAttribute('aria-current', 'page');
    expect(await screen.findByRole('heading', { level: 1, name: 'Deployments' })).toBeInTheDocument();
    expect(await screen.findByText('Switchyard 0.1.0')).toBeInTheDocument();
  });

  it.each(AREA_NAMES)('reaches %s by clicking it in the sidebar', async (name) => {
    serveAppInfo(appInfo());
    const { user } = renderApp(name === 'Deployments' ? 'settings' : 'deployments');
    await user.click(within(areasNav()).getByRole('button', { name }));
    expect(await screen.findByRole('heading', { level: 1, name })).toBeInTheDocument();
    expect(within(areasNav()).getByRole('button', { name })).toHaveAttribute('aria-current', 'page');
    const others = within(areasNav())
      .getAllByRole('button')
      .filter((b) => b.getAttribute('aria-current') === 'page');
    expect(others).toHaveLength(1);
  });

  it('moves between areas with the keyboard: Tab to a button, Enter or Space, and Alt+1…8', async () => {
    serveAppInfo(appInfo());
    const { user } = renderApp();
    const health = within(areasNav()).getByRole('button', { name: 'Health' });
    health.focus();
    await user.keyboard('{Enter}');
    expect(await screen.findByRole('heading', { level: 1, name: 'Health' })).toBeInTheDocument();

    await user.tab();
    expect(within(areasNav()).getByRole('button', { name: 'Logs' })).toHaveFocus();
    await user.keyboard(' ');
    expect(await screen.findByRole('heading', { level: 1, name: 'Logs' })).toBeInTheDocument();

    await user.tab();
    expect(within(areasNav()).getByRole('button', { name: 'Runbooks' })).toHaveFocus();
    await user.keyboard(' ');
    expect(await screen.findByRole('heading', { level: 1, name: 'Runbooks' })).toBeInTheDocument();

    for (const area of AREAS) {
      await user.keyboard(`{Alt>}${area.shortcutDigit}{/Alt}`);
      expect(await screen.findByRole('heading', { level: 1, name: area.label })).toBeInTheDocument();
    }
    expect(within(areasNav()).getByRole('button', { name: 'Namespaces' })).toHaveAttribute(
      'aria-keyshortcuts',
      'Alt+3',
    );
    expect(within(areasNav()).getByRole('button', { name: 'Logs' })).toHaveAttribute('aria-keyshortcuts', 'Alt+5');
    expect(within(areasNav()).getByRole('button', { name: 'Audit' })).toHaveAttribute('aria-keyshortcuts', 'Alt+7');
    expect(within(areasNav()).getByRole('button', { name: 'Settings' })).toHaveAttribute('aria-keyshortcuts', 'Alt+8');
  });
});

describe('command palette', () => {
  it('opens with Ctrl+K; typing "Namespaces" and Enter goes there', async () => {
    serveAppInfo(appInfo());
    const { user } = renderApp();
    expect(screen.queryByRole('dialog', { name: 'Command palette' })).not.toBeInTheDocument();

    await user.keyboard('{Control>}k{/Control}');
    const dialog = await screen.findByRole('dialog', { name: 'Command palette' });
    const search = within(dialog).getByRole('combobox', { name: 'Search commands' });
    await waitFor(() => {
      expect(search).toHaveFocus();
    });

    await user.type(search, 'Namespaces');
    const options = within(within(dialog).getByRole('listbox', { name: 'Commands' })).getAllByRole('option');
    expect(options[0]).toHaveAccessibleName(/^Go to Namespaces/);
    expect(options[0]).toHaveAttribute('aria-keyshortcuts', 'Alt+3');
    expect(within(dialog).queryByRole('option', { name: /Go to Health/ })).not.toBeInTheDocument();

    await user.keyboard('{Enter}');
    expect(await screen.findByRole('heading', { level: 1, name: 'Namespaces' })).toBeInTheDocument();
    await waitFor(() => {
      expect(screen.queryByRole('dialog', { name: 'Command palette' })).not.toBeInTheDocument();
    });
    expect(within(areasNav()).getByRole('button', { name: 'Namespaces' })).toHaveAttribute('aria-current', 'page');
  });

  it('opens with Cmd+K too, and from the Search button; arrows pick a command', async () => {
    serveAppInfo(appInfo());
    const { user } = renderApp();
    await user.keyboard('{Meta>}k{/Meta}');
    expect(await screen.findByRole('dialog', { name: 'Command palette' })).toBeInTheDocument();
    await user.keyboard('{Escape}');
    await waitFor(() => {
      expect(screen.queryByRole('dialog', { name: 'Command palette' })).not.toBeInTheDocument();
    });

    await user.click(screen.getByRole('button', { name: 'Search (Ctrl+K)' }));
    const dialog = await screen.findByRole('dialog', { name: 'Command palette' });
    const search = within(dialog).getByRole('combobox', { name: 'Search commands' });
    await user.type(search, 'go to');
    // The top match is highlighted as you type; one step down is the second area.
    await user.keyboard('{ArrowDown}{Enter}');
    expect(await screen.findByRole('heading', { level: 1, name: 'Deploy' })).toBeInTheDocument();
  });

  it('says so when nothing matches', async () => {
    serveAppInfo(appInfo());
    const { user } = renderApp();
    await user.keyboard('{Control>}k{/Control}');
    const dialog = await screen.findByRole('dialog', { name: 'Command palette' });
    await user.type(within(dialog).getByRole('combobox', { name: 'Search commands' }), 'xyzzy');
    expect(within(dialog).getByText(/No command matches/)).toBeInTheDocument();
    await user.keyboard('{Enter}');
    expect(await screen.findByRole('heading', { level: 1, name: 'Deployments' })).toBeInTheDocument();
  });
});

describe('profile in the top bar', () => {
  it('shows the sandbox profile as the sandbox: its environment badge, but no live-traffic warning', async () => {
    const calls = serveAppInfo(appInfo());
    renderApp();
    const header = screen.getByRole('banner');
    const profile = within(header).getByRole('combobox', { name: 'Profile' });
    await waitFor(() => {
      expect(profile).toHaveValue(sandboxProfile.name);
    });
    const environment = within(header).getByRole('group', { name: 'Environment' });
    expect(environment).toHaveTextContent('PRODUCTION');
    expect(environment).toHaveTextContent('SANDBOX');
    expect(within(header).getByText('LOCAL SANDBOX — nothing here leaves this machine')).toBeInTheDocument();
    expect(header).not.toHaveTextContent('actions here affect live traffic');
    expect(header).toHaveAttribute('data-environment', 'production');
    expect(header).toHaveAttribute('data-sandbox', 'true');
    expect(calls.map((c) => c.cmd)).toContain('app_info');
  });

  it('shows a development profile as development', async () => {
    const dev = { id: 'dev', name: 'dotdo dev', environment: 'development' as const, protection: 'normal' as const, sandbox: false };
    serveAppInfo(appInfo({ profiles: [sandboxProfile, dev], activeProfile: 'dev' }));
    renderApp();
    const header = screen.getByRole('banner');
    const environment = await within(header).findByRole('group', { name: 'Environment' });
    expect(environment).toHaveTextContent('DEVELOPMENT');
    expect(environment).not.toHaveTextContent('SANDBOX');
    expect(header).not.toHaveTextContent('LOCAL SANDBOX');
    expect(header).toHaveAttribute('data-environment', 'development');
  });

  it('marks a production profile unmistakably', async () => {
    serveAppInfo(appInfo({ activeProfile: productionProfile.id }));
    renderApp();
    const header = screen.getByRole('banner');
    await waitFor(() => {
      expect(within(header).getByRole('combobox', { name: 'Profile' })).toHaveValue(productionProfile.name);
    });
    const environment = within(header).getByRole('group', { name: 'Environment' });
    expect(within(environment).getByText('PRODUCTION')).toBeInTheDocument();
    expect(within(environment).getByText('PROTECTED')).toBeInTheDocument();
    expect(within(header).getByText('PRODUCTION — actions here affect live traffic')).toBeInTheDocument();
    expect(header).toHaveAttribute('data-environment', 'production');
  });

  it('marks a staging profile', async () => {
    serveAppInfo(appInfo({ activeProfile: stagingProfile.id }));
    renderApp();
    const header = screen.getByRole('banner');
    const environment = await within(header).findByRole('group', { name: 'Environment' });
    expect(environment).toHaveTextContent('STAGING');
    expect(environment).not.toHaveTextContent('PRODUCTION');
    expect(header).toHaveAttribute('data-environment', 'staging');
  });

  it('switches profiles: calls select_profile, disables the switcher meanwhile, then shows the new profile', async () => {
    let active = sandboxProfile.id;
    let release: () => void = () => undefined;
    const calls = serveIpc(appInfo(), {
      app_info: () => appInfo({ activeProfile: active }),
      select_profile: async (args) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        active = String(args.id);
        return fullProfile(productionProfile);
      },
    });
    const { user } = renderApp();
    const profile = screen.getByRole('combobox', { name: 'Profile' });
    await waitFor(() => {
      expect(profile).toBeEnabled();
    });
    await user.click(profile);
    const listbox = await screen.findByRole('listbox');
    expect(within(listbox).getAllByRole('option')).toHaveLength(3);
    const production = within(listbox).getByRole('option', { name: /dotdo production/ });
    expect(production).not.toHaveAttribute('data-combobox-disabled');
    await user.click(production);

    await waitFor(() => {
      expect(screen.getByRole('combobox', { name: 'Profile' })).toBeDisabled();
    });
    expect(calls.filter((c) => c.cmd === 'select_profile').map((c) => c.args.id)).toEqual(['prod']);
    const appInfoCalls = calls.filter((c) => c.cmd === 'app_info').length;
    release();

    const header = screen.getByRole('banner');
    expect(await within(header).findByText('PRODUCTION — actions here affect live traffic')).toBeInTheDocument();
    expect(screen.getByRole('combobox', { name: 'Profile' })).toBeEnabled();
    expect(screen.getByRole('combobox', { name: 'Profile' })).toHaveValue(productionProfile.name);
    expect(calls.filter((c) => c.cmd === 'app_info').length).toBeGreaterThan(appInfoCalls);
    // The history of the new profile is read, too.
    await waitFor(() => {
      expect(calls.some((c) => c.cmd === 'query_history' && c.args.profileId === 'prod')).toBe(true);
    });
  });

  it('says why when switching fails, and keeps the profile it had', async () => {
    serveIpc(appInfo(), {
      select_profile: fail({ code: 'NotFound', message: 'No profile "prod".', runbook: null }),
    });
    const { user } = renderApp();
    const profile = screen.getByRole('combobox', { name: 'Profile' });
    await waitFor(() => {
      expect(profile).toBeEnabled();
    });
    await user.click(profile);
    await user.click(within(await screen.findByRole('listbox')).getByRole('option', { name: /dotdo production/ }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Switching profile failed: Not found');
    expect(alert).toHaveTextContent('No profile "prod".');
    expect(screen.getByRole('combobox', { name: 'Profile' })).toHaveValue(sandboxProfile.name);
    expect(screen.getByRole('banner')).toHaveTextContent('LOCAL SANDBOX');
    await user.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('warns on every area when the sandbox is the active profile and is not running', async () => {
    serveAppInfo(appInfo({ sandboxError: 'port 4610 is in use' }));
    renderApp('health');
    const alert = await screen.findByRole('alert', { name: 'The local sandbox is not running' });
    expect(alert).toHaveTextContent('port 4610 is in use');
  });

  it('says once, above every area, that the damaged database was replaced: where it went, what was kept and what was lost', async () => {
    const db = '/home/op/.local/share/switchyard/switchyard.db';
    const movedTo = `${db}.corrupt-20261206T120000Z`;
    serveAppInfo(
      appInfo({
        storageNotice: {
          damagedFile: db,
          movedTo,
          summary: `Switchyard's database ${db} was damaged (SQLite: database disk image is malformed) and was moved to ${movedTo}; nothing was deleted. A new database was created with everything that could still be read from it.`,
          recovered: ['profiles (3 profiles)', 'settings (9 settings)', 'audit log (1204 entries)'],
          lost: ['the runbook runs: their steps, outputs and incident reports are only in the moved file'],
          next: ['Deployment history will be synced again from the Deploy API at the next sync.'],
        },
      }),
    );
    const { user } = renderApp();
    const alert = await screen.findByRole('alert', { name: "Switchyard's database was damaged and has been replaced" });
    expect(alert).toHaveTextContent(`was moved to ${movedTo}`);
    expect(within(alert).getByRole('list', { name: 'Recovered' })).toHaveTextContent('profiles (3 profiles)');
    expect(within(alert).getByRole('list', { name: 'Could not be recovered' })).toHaveTextContent(
      'the runbook runs: their steps, outputs and incident reports are only in the moved file',
    );
    expect(alert).toHaveTextContent('Deployment history will be synced again');

    // Still there in another area, until dismissed; then gone for good.
    await user.click(within(areasNav()).getByRole('button', { name: 'Settings' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Settings' })).toBeInTheDocument();
    const again = screen.getByRole('alert', { name: "Switchyard's database was damaged and has been replaced" });
    await user.click(within(again).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert', { name: "Switchyard's database was damaged and has been replaced" })).toBeNull();
    await user.click(within(areasNav()).getByRole('button', { name: 'Health' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Health' })).toBeInTheDocument();
    expect(screen.queryByRole('alert', { name: "Switchyard's database was damaged and has been replaced" })).toBeNull();
  });
});

describe('when app_info fails', () => {
  it('shows the error with what happened, the next step and the runbook section, and does not crash', async () => {
    serveAppInfo({
      error: { code: 'KeychainUnavailable', message: 'Secret Service is not running', runbook: 'Troubleshooting' },
    });
    const { user } = renderApp();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Loading app info failed: The OS keychain could not be opened');
    expect(alert).toHaveTextContent('Secret Service is not running');
    expect(alert).toHaveTextContent('Next step: Unlock the keychain');
    expect(alert).toHaveTextContent('Runbook section: “Troubleshooting”');
    expect(await screen.findByRole('heading', { level: 1, name: 'Deployments' })).toBeInTheDocument();
    expect(screen.getByRole('combobox', { name: 'Profile' })).toBeDisabled();
    expect(screen.getByRole('banner')).toHaveTextContent('ENVIRONMENT UNKNOWN');
    expect(screen.getByRole('contentinfo')).toHaveTextContent('app info unavailable');

    await user.click(within(areasNav()).getByRole('button', { name: 'Settings' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The OS keychain could not be opened');
  });

  it('recovers when "Try again" succeeds', async () => {
    serveAppInfo({ error: { code: 'Timeout', message: 'core did not answer in 5s', runbook: null } });
    const { user } = renderApp('settings');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The request timed out');
    expect(alert).not.toHaveTextContent('Runbook section');

    serveAppInfo(appInfo());
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('table', { name: 'Profiles' })).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('treats a failure that is not an AppError as Internal, with a safe message', async () => {
    serveAppInfo({ error: 'command app_info not found' as unknown as never });
    renderApp('settings');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Something went wrong inside Switchyard');
    expect(alert).toHaveTextContent('command app_info not found');
    expect(alert).toHaveAttribute('data-error-code', 'Internal');
  });
});
