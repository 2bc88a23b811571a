import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { AppError, Profile, WorkerdInstalled, WorkerdInstallEvent, WorkerdInstallOffer } from '../../ipc/types';
import {
  appInfo,
  deliverOnChannel,
  fail,
  fullProfile,
  type Handler,
  productionProfile,
  renderApp,
  sandboxRuntime,
  serveAppInfo,
  serveIpc,
  stagingProfile,
} from '../../test/render';

const INVALID_NAME = { code: 'InvalidInput' as const, message: 'Deploy API URL: must start with https://', runbook: null };

async function manage(user: ReturnType<typeof renderApp>['user'], name: string) {
  await user.click(await screen.findByRole('button', { name: `Manage ${name}` }));
  return screen.findByRole('heading', { level: 2, name });
}

describe('Settings', () => {
  it('shows the real app info: version, data directory and profiles', async () => {
    serveAppInfo(appInfo());
    renderApp('settings');
    expect(await screen.findByRole('heading', { level: 1, name: 'Settings' })).toBeInTheDocument();
    const profiles = await screen.findByRole('table', { name: 'Profiles' });
    const rows = within(profiles).getAllByRole('row');
    expect(rows).toHaveLength(4);
    const sandboxRow = within(profiles).getByRole('row', { name: /Local sandbox/ });
    expect(sandboxRow).toHaveTextContent('Production');
    expect(sandboxRow).toHaveTextContent('Sandbox');
    expect(sandboxRow).toHaveTextContent('Active');
    const prodRow = within(profiles).getByRole('row', { name: /dotdo production/ });
    expect(prodRow).toHaveTextContent('Production');
    expect(prodRow).toHaveTextContent('Protected');
    expect(within(prodRow).getByRole('button', { name: 'Manage dotdo production' })).toBeInTheDocument();
    const main = screen.getByRole('main');
    expect(main).toHaveTextContent('0.1.0');
    expect(main).toHaveTextContent('/home/op/.local/share/switchyard');
    expect(main).toHaveTextContent('Secret Service');
    expect(screen.getByRole('contentinfo')).toHaveTextContent('Data directory: /home/op/.local/share/switchyard');
    expect(await within(screen.getByRole('contentinfo')).findByText('Data: never synced for this profile')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('says when there are no profiles', async () => {
    serveAppInfo(appInfo({ profiles: [], activeProfile: '' }));
    renderApp('settings');
    expect(await screen.findByText('No profiles are configured.')).toBeInTheDocument();
  });

  it('says when the keychain is unavailable, and when the sandbox is not running', async () => {
    serveIpc(appInfo({ sandboxError: 'port 4610 is in use' }), {
      keychain_status: () => ({ state: 'unavailable', reason: 'no Secret Service is running on the session bus' }),
    });
    renderApp('settings');
    expect(
      await screen.findByRole('alert', { name: 'Keychain unavailable: no Secret Service is running on the session bus' }),
    ).toBeInTheDocument();
    expect(screen.getByRole('alert', { name: 'The local sandbox is not running' })).toHaveTextContent(
      'port 4610 is in use',
    );
  });
});

describe('profile detail', () => {
  it('opens below the table with Manage; the sandbox profile cannot be edited, deleted or given keys', async () => {
    serveIpc(appInfo(), {
      profile_secrets: () => ({ deployApiKey: true, cloudflareToken: true, detached: [], keychainError: null }),
    });
    const { user } = renderApp('settings');
    const heading = await manage(user, 'Local sandbox');
    expect(heading).toBeInTheDocument();
    const detail = screen.getByRole('region', { name: 'Local sandbox' });
    expect(detail).toHaveTextContent("This profile uses the local sandbox's demo credentials.");
    expect(detail).toHaveTextContent('cannot be edited or deleted');
    expect(within(detail).queryByLabelText('New Deploy API key')).not.toBeInTheDocument();
    expect(within(detail).queryByRole('button', { name: /^Store/ })).not.toBeInTheDocument();
    expect(within(detail).queryByRole('button', { name: 'Edit profile' })).not.toBeInTheDocument();
    expect(within(detail).queryByRole('button', { name: /^Delete profile/ })).not.toBeInTheDocument();
    expect(within(detail).getByRole('button', { name: 'Test Deploy API key' })).toBeEnabled();
    expect(within(detail).getByRole('heading', { name: 'Keys' })).toBeInTheDocument();
  });

  it('shows another profile when its Manage button is pressed', async () => {
    serveIpc(appInfo(), {
      profile_secrets: () => ({ deployApiKey: false, cloudflareToken: false, detached: [], keychainError: null }),
    });
    const { user } = renderApp('settings');
    await manage(user, 'Local sandbox');
    await manage(user, 'dotdo staging');
    expect(screen.queryByRole('heading', { level: 2, name: 'Local sandbox' })).not.toBeInTheDocument();
    const detail = screen.getByRole('region', { name: 'dotdo staging' });
    expect(detail).toHaveTextContent('dotdo-staging');
    expect(detail).toHaveTextContent('https://{service}.{environment}.do');
  });
});

describe('adding and editing profiles', () => {
  it('adds a profile with the defaults filled in, the id derived from the name', async () => {
    const saved: Profile[] = [];
    const info = appInfo();
    serveIpc(info, {
      save_profile: (args) => {
        const profile = args.profile as Required<Profile>;
        saved.push(profile);
        info.profiles.push({
          id: profile.id,
          name: profile.name,
          environment: profile.environment,
          protection: profile.protection,
          sandbox: false,
        });
        return profile;
      },
      // A new answer per call, as from the core (not the same object, changed in place).
      app_info: () => ({ ...info, profiles: [...info.profiles] }),
      list_profiles: () => [...info.profiles.slice(0, 3).map((p) => fullProfile(p)), ...saved],
      profile_secrets: () => ({ deployApiKey: false, cloudflareToken: false, detached: [], keychainError: null }),
    });
    const { user } = renderApp('settings');
    await user.click(await screen.findByRole('button', { name: 'Add profile' }));
    const dialog = await screen.findByRole('dialog', { name: 'New profile' });
    const form = within(dialog);
    expect(form.getByLabelText('Deploy API URL')).toHaveValue('https://deploy.do');
    expect(form.getByLabelText('Auth service URL')).toHaveValue('https://auth.do');
    expect(form.getByLabelText('Cloudflare API URL')).toHaveValue('https://api.cloudflare.com/client/v4');
    expect(form.getByLabelText('Dispatch namespace')).toHaveValue('dotdo-production');
    expect(form.getByLabelText('Service URL template')).toHaveValue('https://{service}.do');
    expect(form.getByLabelText('Services')).toHaveValue('gateway, db, auth, schedule, webhooks, email, mcp, queue');
    expect(form.getByRole('combobox', { name: 'Protection' })).toHaveValue('normal');

    await user.selectOptions(form.getByRole('combobox', { name: 'Environment' }), 'staging');
    expect(form.getByLabelText('Dispatch namespace')).toHaveValue('dotdo-staging');
    expect(form.getByLabelText('Service URL template')).toHaveValue('https://{service}.{environment}.do');

    await user.type(form.getByLabelText(/^Name/), 'EU Staging 2');
    expect(form.getByLabelText('Profile id')).toHaveValue('eu-staging-2');
    expect(form.getByLabelText('Profile id')).toHaveAttribute('readonly');
    await user.type(form.getByLabelText('Cloudflare account id'), 'acc-9');
    await user.selectOptions(form.getByRole('combobox', { name: 'Protection' }), 'Protected (always confirm)');
    await user.click(form.getByRole('button', { name: 'Save profile' }));

    await waitFor(() => {
      expect(screen.queryByRole('dialog', { name: 'New profile' })).not.toBeInTheDocument();
    });
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({
      id: 'eu-staging-2',
      name: 'EU Staging 2',
      environment: 'staging',
      protection: 'protected',
      sandbox: false,
      accountId: 'acc-9',
      namespace: 'dotdo-staging',
      services: ['gateway', 'db', 'auth', 'schedule', 'webhooks', 'email', 'mcp', 'queue'],
    });
    expect(await screen.findByRole('heading', { level: 2, name: 'EU Staging 2' })).toBeInTheDocument();
    expect(within(screen.getByRole('table', { name: 'Profiles' })).getByRole('row', { name: /EU Staging 2/ })).toBeInTheDocument();
  });

  it('keeps what was typed and shows the reason when the core refuses the profile', async () => {
    serveIpc(appInfo(), { save_profile: fail(INVALID_NAME) });
    const { user } = renderApp('settings');
    await user.click(await screen.findByRole('button', { name: 'Add profile' }));
    const dialog = await screen.findByRole('dialog', { name: 'New profile' });
    await user.type(within(dialog).getByLabelText(/^Name/), 'Broken');
    await user.clear(within(dialog).getByLabelText('Deploy API URL'));
    await user.type(within(dialog).getByLabelText('Deploy API URL'), 'ftp://nope');
    await user.click(within(dialog).getByRole('button', { name: 'Save profile' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert).toHaveTextContent('The input was not accepted');
    expect(alert).toHaveTextContent('Deploy API URL: must start with https://');
    expect(within(dialog).getByLabelText(/^Name/)).toHaveValue('Broken');
    expect(within(dialog).getByLabelText('Deploy API URL')).toHaveValue('ftp://nope');
  });

  it('edits a profile in the same dialog, prefilled, keeping its id', async () => {
    const saved: Profile[] = [];
    serveIpc(appInfo(), {
      save_profile: (args) => {
        saved.push(args.profile as Profile);
        return args.profile;
      },
      profile_secrets: () => ({ deployApiKey: false, cloudflareToken: false, detached: [], keychainError: null }),
    });
    const { user } = renderApp('settings');
    await manage(user, 'dotdo staging');
    await user.click(screen.getByRole('button', { name: 'Edit profile' }));
    const dialog = await screen.findByRole('dialog', { name: 'Edit profile' });
    expect(within(dialog).getByLabelText(/^Name/)).toHaveValue('dotdo staging');
    expect(within(dialog).getByLabelText('Profile id')).toHaveValue('staging');
    expect(within(dialog).getByRole('combobox', { name: 'Environment' })).toHaveValue('staging');
    await user.clear(within(dialog).getByLabelText('Services'));
    await user.type(within(dialog).getByLabelText('Services'), 'gateway, db');
    await user.click(within(dialog).getByRole('button', { name: 'Save profile' }));
    await waitFor(() => {
      expect(saved).toHaveLength(1);
    });
    expect(saved[0]).toMatchObject({ id: 'staging', name: 'dotdo staging', services: ['gateway', 'db'] });
  });
});

describe('deleting a profile', () => {
  it('needs the name typed, and says exactly what it deletes', async () => {
    const deleted: unknown[] = [];
    serveIpc(appInfo(), {
      delete_profile: (args) => {
        deleted.push(args.id);
        return null;
      },
      profile_secrets: () => ({ deployApiKey: false, cloudflareToken: false, detached: [], keychainError: null }),
    });
    const { user } = renderApp('settings');
    await manage(user, productionProfile.name);
    await user.click(screen.getByRole('button', { name: 'Delete profile dotdo production' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete profile dotdo production' });
    const confirm = within(dialog).getByRole('button', {
      name: 'Delete profile dotdo production and its cached history',
    });
    expect(confirm).toBeDisabled();
    await user.type(within(dialog).getByLabelText('Type dotdo production to confirm'), 'dotdo prod');
    expect(confirm).toBeDisabled();
    await user.type(within(dialog).getByLabelText('Type dotdo production to confirm'), 'uction');
    expect(confirm).toBeEnabled();
    await user.click(confirm);
    await waitFor(() => {
      expect(deleted).toEqual(['prod']);
    });
    await waitFor(() => {
      expect(screen.queryByRole('heading', { level: 2, name: 'dotdo production' })).not.toBeInTheDocument();
    });
  });

  it('shows why deleting failed', async () => {
    serveIpc(appInfo(), {
      delete_profile: fail({ code: 'Conflict', message: 'The profile is in use by a running sync.', runbook: null }),
      profile_secrets: () => ({ deployApiKey: false, cloudflareToken: false, detached: [], keychainError: null }),
    });
    const { user } = renderApp('settings');
    await manage(user, stagingProfile.name);
    await user.click(screen.getByRole('button', { name: 'Delete profile dotdo staging' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete profile dotdo staging' });
    await user.type(within(dialog).getByLabelText('Type dotdo staging to confirm'), 'dotdo staging');
    await user.click(within(dialog).getByRole('button', { name: 'Delete profile dotdo staging and its cached history' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('The profile is in use by a running sync.');
  });
});

describe('keys', () => {
  it('shows which keys are stored, stores one (clearing the input) and removes one after confirming', async () => {
    const secrets = { deployApiKey: false, cloudflareToken: true, detached: [] as string[], keychainError: null };
    const writes: unknown[] = [];
    serveIpc(appInfo(), {
      profile_secrets: () => ({ ...secrets }),
      set_secret: (args) => {
        writes.push(args);
        secrets.deployApiKey = true;
        return null;
      },
      delete_secret: (args) => {
        writes.push(args);
        secrets.cloudflareToken = false;
        return null;
      },
    });
    const { user } = renderApp('settings');
    await manage(user, stagingProfile.name);
    const detail = screen.getByRole('region', { name: 'dotdo staging' });
    expect(await within(detail).findByText('Deploy API key: not set')).toBeInTheDocument();
    expect(within(detail).getByText('Cloudflare API token: stored in the keychain')).toBeInTheDocument();
    expect(within(detail).queryByRole('button', { name: 'Remove Deploy API key' })).not.toBeInTheDocument();
    expect(within(detail).getByRole('button', { name: 'Test Deploy API key' })).toBeDisabled();

    const input = within(detail).getByLabelText('New Deploy API key');
    expect(input).toHaveAttribute('type', 'password');
    await user.type(input, 's3cret-key');
    await user.click(within(detail).getByRole('button', { name: 'Store Deploy API key' }));
    expect(await within(detail).findByText('Deploy API key: stored in the keychain')).toBeInTheDocument();
    expect(input).toHaveValue('');
    expect(writes[0]).toEqual({ profileId: 'staging', kind: 'deployApiKey', value: 's3cret-key' });
    expect(detail).not.toHaveTextContent('s3cret-key');
    expect(within(detail).getByRole('button', { name: 'Test Deploy API key' })).toBeEnabled();

    await user.click(within(detail).getByRole('button', { name: 'Remove Cloudflare API token' }));
    const dialog = await screen.findByRole('dialog', { name: 'Remove Cloudflare API token of dotdo staging' });
    await user.click(within(dialog).getByRole('button', { name: 'Remove the Cloudflare API token of dotdo staging' }));
    expect(await within(detail).findByText('Cloudflare API token: not set')).toBeInTheDocument();
    expect(writes[1]).toEqual({ profileId: 'staging', kind: 'cloudflareToken' });
  });

  it('shows why storing a key failed, and what the keychain said', async () => {
    serveIpc(appInfo(), {
      profile_secrets: () => ({ deployApiKey: false, cloudflareToken: false, detached: [], keychainError: 'The keychain is locked.' }),
      set_secret: fail({ code: 'KeychainUnavailable', message: 'The keychain is locked.', runbook: 'Troubleshooting' }),
    });
    const { user } = renderApp('settings');
    await manage(user, stagingProfile.name);
    const detail = screen.getByRole('region', { name: 'dotdo staging' });
    expect(await within(detail).findByRole('alert', { name: 'The keychain could not be asked' })).toBeInTheDocument();
    await user.type(within(detail).getByLabelText('New Cloudflare API token'), 'tok');
    await user.click(within(detail).getByRole('button', { name: 'Store Cloudflare API token' }));
    const alert = await within(detail).findByRole('alert', { name: /Storing the Cloudflare API token failed/ });
    expect(alert).toHaveTextContent('Runbook section: “Troubleshooting”');
    expect(within(detail).getByLabelText('New Cloudflare API token')).toHaveValue('tok');
  });

  it('tests the Deploy API key and says what it may do', async () => {
    serveIpc(appInfo(), {
      profile_secrets: () => ({ deployApiKey: true, cloudflareToken: true, detached: [], keychainError: null }),
      validate_key: () => ({
        userId: 'user_42',
        permissions: ['deployments:read', 'deployments:create'],
        canDeploy: true,
        deployApiAccepts: true,
      }),
    });
    const { user } = renderApp('settings');
    await manage(user, 'Local sandbox');
    await user.click(screen.getByRole('button', { name: 'Test Deploy API key' }));
    const result = screen.getByRole('status', { name: 'Key test result' });
    await waitFor(() => {
      expect(result).toHaveTextContent(
        'Valid: user user_42. Permissions: deployments:read, deployments:create. Can deploy: yes.',
      );
    });
    expect(result).not.toHaveTextContent('deployments:create permission');
  });

  it('says which stored keys are detached and moves them only once the operator says it is the same service', async () => {
    let detached = [
      'The Deploy API key of profile "dotdo staging" was saved for https://deploy.do, but the profile now sends it to https://deploy.new.example. It is not sent to a new address without you.',
    ];
    const calls: string[] = [];
    serveIpc(appInfo(), {
      profile_secrets: () => ({ deployApiKey: false, cloudflareToken: true, detached, keychainError: null }),
      move_keys: (args: unknown) => {
        calls.push(JSON.stringify(args));
        detached = [];
        return null;
      },
    });
    const { user } = renderApp('settings');
    await manage(user, stagingProfile.name);
    const alert = await screen.findByRole('alert', { name: "Stored keys are not used: the profile's addresses changed" });
    expect(alert).toHaveTextContent('was saved for https://deploy.do');
    const move = within(alert).getByRole('button', { name: 'Move the stored keys to the new addresses' });
    expect(move).toBeDisabled();
    await user.click(within(alert).getByLabelText('The new addresses are the same service: send the stored keys there'));
    await user.click(move);
    await waitFor(() => {
      expect(screen.queryByRole('alert', { name: "Stored keys are not used: the profile's addresses changed" })).toBeNull();
    });
    expect(calls).toHaveLength(1);
  });

  it('tests the Cloudflare token and says what it may do', async () => {
    serveIpc(appInfo(), {
      profile_secrets: () => ({ deployApiKey: true, cloudflareToken: true, detached: [], keychainError: null }),
      test_cloudflare_token: () => ({ status: 'active', expiresOn: null, accountOwned: false, canListNamespaces: true }),
    });
    const { user } = renderApp('settings');
    await manage(user, stagingProfile.name);
    await user.click(await screen.findByRole('button', { name: 'Test Cloudflare API token' }));
    const result = screen.getByRole('status', { name: 'Token test result' });
    await waitFor(() => {
      expect(result).toHaveTextContent(
        "Cloudflare says the token is active. It may list this account's dispatch namespaces.",
      );
    });
  });

  it('says what executes scripts and saves a workerd binary the engine accepts', async () => {
    const saved: unknown[] = [];
    serveIpc(appInfo(), {
      workerd_path: () => null,
      set_workerd_path: (args) => {
        saved.push(args.path);
        if (args.path === '/bin/echo') {
          return fail({ code: 'InvalidInput', message: 'workerd path: /bin/echo is not a workerd binary.', runbook: null })(
            args,
          );
        }
        return null;
      },
    });
    const { user } = renderApp('settings');
    const status = await screen.findByRole('status', { name: 'What executes deployed scripts' });
    expect(status).toHaveTextContent('Deployed scripts run in workerd 2026-11-23, the version `cargo xtask setup` installs');
    const field = screen.getByLabelText('workerd binary');
    await user.type(field, '/bin/echo');
    await user.click(screen.getByRole('button', { name: 'Save workerd binary' }));
    expect(await screen.findByText(/is not a workerd binary/)).toBeInTheDocument();
    await user.clear(field);
    await user.type(field, '/opt/workerd');
    await user.click(screen.getByRole('button', { name: 'Save workerd binary' }));
    expect(await screen.findByText('Saved. Restart Switchyard to use it.')).toBeInTheDocument();
    expect(saved).toEqual(['/bin/echo', '/opt/workerd']);
  });

  it('warns when the key cannot deploy', async () => {
    serveIpc(appInfo(), {
      profile_secrets: () => ({ deployApiKey: true, cloudflareToken: false, detached: [], keychainError: null }),
      validate_key: () => ({ userId: 'ro', permissions: ['deployments:read'], canDeploy: false, deployApiAccepts: true }),
    });
    const { user } = renderApp('settings');
    await manage(user, stagingProfile.name);
    await user.click(await screen.findByRole('button', { name: 'Test Deploy API key' }));
    const result = screen.getByRole('status', { name: 'Key test result' });
    await waitFor(() => {
      expect(result).toHaveTextContent('Can deploy: no.');
    });
    expect(result).toHaveTextContent('Deploys need the deployments:create permission');
    expect(result).toHaveTextContent('Issue: "Insufficient permissions" (403)');
  });

  it('shows the error when the key is rejected', async () => {
    serveIpc(appInfo(), {
      profile_secrets: () => ({ deployApiKey: true, cloudflareToken: false, detached: [], keychainError: null }),
      validate_key: fail({ code: 'InvalidApiKey', message: 'auth.do answered 401', runbook: 'Issue: "Invalid API key" (401)' }),
    });
    const { user } = renderApp('settings');
    await manage(user, stagingProfile.name);
    await user.click(await screen.findByRole('button', { name: 'Test Deploy API key' }));
    const result = screen.getByRole('status', { name: 'Key test result' });
    const alert = await within(result).findByRole('alert');
    expect(alert).toHaveTextContent('The API key was rejected');
    expect(alert).toHaveTextContent('auth.do answered 401');
    expect(alert).toHaveTextContent('Runbook section: “Issue: "Invalid API key" (401)”');
  });
});

describe('export and import', () => {
  it('exports profiles as TOML into a read-only box with a Copy button', async () => {
    const calls = serveIpc(appInfo(), { export_profiles: () => '[[profile]]\nid = "staging"\n' });
    const { user } = renderApp('settings');
    await user.click(await screen.findByRole('button', { name: 'Export profiles as TOML' }));
    const box = await screen.findByLabelText('Exported profiles');
    expect(box).toHaveValue('[[profile]]\nid = "staging"\n');
    expect(box).toHaveAttribute('readonly');
    expect(screen.getByRole('button', { name: 'Copy' })).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'export_profiles')?.args).toEqual({ ids: [] });
  });

  it('imports profiles, replacing when asked, and says how many', async () => {
    const calls = serveIpc(appInfo(), {
      preview_profile_import: () => [{ id: 'eu', name: 'EU', replaces: false, hostChanges: [], keysDetached: [] }],
      import_profiles: () => [fullProfile(stagingProfile, { id: 'eu', name: 'EU' })],
    });
    const { user } = renderApp('settings');
    const section = await screen.findByRole('region', { name: 'Export and import' });
    expect(within(section).getByRole('button', { name: 'Review import' })).toBeDisabled();
    await user.type(within(section).getByLabelText('Profiles to import (TOML)'), 'id = "eu"');
    await user.click(within(section).getByRole('checkbox', { name: 'Replace profiles with the same id' }));
    await user.click(within(section).getByRole('button', { name: 'Review import' }));
    expect(await within(section).findByText('New profile: EU (eu)')).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'import_profiles')).toBeUndefined();
    await user.click(within(section).getByRole('button', { name: 'Import 1 profile' }));
    expect(await within(section).findByText('Imported 1 profile: EU.')).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'import_profiles')?.args).toEqual({ toml: 'id = "eu"', replace: true });
  });

  it('shows why an import was refused', async () => {
    serveIpc(appInfo(), {
      preview_profile_import: fail({ code: 'Conflict', message: 'A profile with id "staging" exists.', runbook: null }),
    });
    const { user } = renderApp('settings');
    const section = await screen.findByRole('region', { name: 'Export and import' });
    await user.type(within(section).getByLabelText('Profiles to import (TOML)'), 'x');
    await user.click(within(section).getByRole('button', { name: 'Review import' }));
    expect(await within(section).findByRole('alert')).toHaveTextContent('A profile with id "staging" exists.');
  });

  it('sets the health correlation window, 1 to 1440 minutes, naming the field when the value is wrong', async () => {
    const calls = serveIpc(appInfo(), { set_correlation_window: () => null });
    const { user } = renderApp('settings');
    const section = await screen.findByRole('region', { name: 'Health' });
    const field = await within(section).findByRole('textbox', {
      name: 'Health: name a deployment as the likely cause when a service fails within N minutes of it',
    });
    expect(field).toHaveValue('15');
    const save = within(section).getByRole('button', { name: 'Save correlation window' });
    expect(save).toBeDisabled();

    await user.clear(field);
    await user.type(field, '1441');
    const error = 'Health correlation window (N): enter a whole number of minutes from 1 to 1440.';
    expect(within(section).getByText(error)).toBeInTheDocument();
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(save).toBeDisabled();
    await user.clear(field);
    expect(within(section).getByText(error)).toBeInTheDocument();

    await user.type(field, '30');
    expect(within(section).queryByText(error)).not.toBeInTheDocument();
    await user.click(save);
    expect(
      await within(section).findByText(
        'Saved: a deployment up to 30 minutes before a service starts failing is named as the likely cause.',
      ),
    ).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'set_correlation_window')?.args).toEqual({ minutes: 30 });
    expect(field).toHaveValue('30');
  });

  it('sets how old history may get before Deployments syncs it, 0 (never) to 10080 minutes', async () => {
    let stored = 60;
    const calls = serveIpc(appInfo(), {
      history_auto_sync: () => stored,
      set_history_auto_sync: (args) => {
        stored = args.minutes as number;
        return null;
      },
    });
    const { user, unmount } = renderApp('settings');
    const section = await screen.findByRole('region', { name: 'Deploys' });
    const field = await within(section).findByRole('textbox', {
      name: 'Sync history automatically when older than N minutes',
    });
    expect(field).toHaveValue('60');
    const save = within(section).getByRole('button', { name: 'Save automatic sync' });
    expect(save).toBeDisabled();

    await user.clear(field);
    await user.type(field, '10081');
    const error = 'Automatic history sync (N): enter a whole number of minutes from 0 to 10080.';
    expect(within(section).getByText(error)).toBeInTheDocument();
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(save).toBeDisabled();

    await user.clear(field);
    await user.type(field, '0');
    expect(within(section).queryByText(error)).not.toBeInTheDocument();
    await user.click(save);
    expect(
      await within(section).findByText('Saved: history is synced only when you press Sync history.'),
    ).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'set_history_auto_sync')?.args).toEqual({ minutes: 0 });

    // Read back from the engine on the next opening.
    unmount();
    renderApp('settings');
    const again = await screen.findByRole('textbox', { name: 'Sync history automatically when older than N minutes' });
    expect(again).toHaveValue('0');
  });

  it('shows why the correlation window was refused', async () => {
    serveIpc(appInfo(), {
      set_correlation_window: fail({
        code: 'InvalidInput',
        message: 'minutes: the correlation window is 1 to 1440 minutes, not 0.',
        runbook: null,
      }),
    });
    const { user } = renderApp('settings');
    const section = await screen.findByRole('region', { name: 'Health' });
    const field = await within(section).findByRole('textbox', { name: /^Health: name a deployment/ });
    await user.clear(field);
    await user.type(field, '45');
    await user.click(within(section).getByRole('button', { name: 'Save correlation window' }));
    expect(await within(section).findByRole('alert')).toHaveTextContent('Saving the correlation window failed');
  });
});

describe('installing workerd', () => {
  const NOT_FOUND =
    "workerd (Cloudflare's Workers runtime) was not found, so deployed scripts are stored but not executed. Looked at: the cache /home/op/.cache/switchyard/workerd/1.20261123.1/node_modules/@cloudflare/workerd-linux-64/bin/workerd (not installed).";
  const DESTINATION = '/home/op/.cache/switchyard/workerd/1.20261123.1/node_modules/@cloudflare/workerd-linux-64/bin/workerd';
  const OFFER: WorkerdInstallOffer = {
    package: '@cloudflare/workerd-linux-64',
    version: '1.20261123.1',
    url: 'https://registry.npmjs.org/@cloudflare/workerd-linux-64/-/workerd-linux-64-1.20261123.1.tgz',
    destination: DESTINATION,
    downloadBytes: 50_503_638,
    sizeUnknown: null,
  };
  const INSTALLED: WorkerdInstalled = {
    path: DESTINATION,
    version: '2026-11-23',
    inUse: true,
    message: `workerd 2026-11-23 is installed at ${DESTINATION}. The Local sandbox runs deployed scripts with it now.`,
    runtime: sandboxRuntime(),
  };
  const notExecuting = () => sandboxRuntime({ executing: false, running: false, message: NOT_FOUND, workerdVersion: null, workerdPath: null, workerdSource: null });

  /** `install_workerd` waits for the test: its channel, and how to end it. */
  function serveInstall(handlers: Record<string, Handler> = {}) {
    let installed = false;
    const install: { channel: unknown; finish: (reply: WorkerdInstalled | AppError) => void; sent: number } = {
      channel: undefined,
      finish: () => undefined,
      sent: 0,
    };
    const calls = serveIpc(appInfo(), {
      sandbox_runtime: () => (installed ? sandboxRuntime() : notExecuting()),
      workerd_install_offer: () => OFFER,
      install_workerd: async (args) => {
        install.channel = args.onProgress;
        install.sent = 0;
        const reply = await new Promise<WorkerdInstalled | AppError>((resolve) => {
          install.finish = resolve;
        });
        if ('code' in reply) {
          // eslint-disable-next-line @typescript-eslint/only-throw-error -- Tauri rejects with the command's Err value.
          throw reply;
        }
        installed = true;
        return reply;
      },
      cancel_workerd_install: () => {
        install.finish({ code: 'Cancelled', message: 'The workerd install was cancelled; nothing was installed.', runbook: null });
        return true;
      },
      ...handlers,
    });
    const send = (event: WorkerdInstallEvent) => {
      act(() => {
        deliverOnChannel(install.channel, install.sent, event);
        install.sent += 1;
      });
    };
    const finish = async (reply: WorkerdInstalled | AppError) => {
      await act(async () => {
        install.finish(reply);
        await Promise.resolve();
      });
    };
    return { calls, send, finish };
  }

  it('is not offered while workerd executes the scripts', async () => {
    serveIpc(appInfo());
    renderApp('settings');
    await screen.findByRole('status', { name: 'What executes deployed scripts' });
    expect(screen.queryByRole('button', { name: /^Install workerd/ })).not.toBeInTheDocument();
  });

  it('offers the pinned version with its size and destination, shows the download, and says the sandbox runs it', async () => {
    const { calls, send, finish } = serveInstall();
    const { user } = renderApp('settings');
    const status = await screen.findByRole('status', { name: 'What executes deployed scripts' });
    expect(status).toHaveTextContent('Scripts are not executed: workerd');
    const offer = await screen.findByRole('region', { name: 'Install workerd' });
    expect(offer).toHaveTextContent(
      'Switchyard can download workerd 1.20261123.1 (the npm package @cloudflare/workerd-linux-64, 50.5 MB) from https://registry.npmjs.org/@cloudflare/workerd-linux-64/-/workerd-linux-64-1.20261123.1.tgz',
    );
    expect(offer).toHaveTextContent(`and install it at ${DESTINATION}.`);
    expect(offer).toHaveTextContent('checked against the sha512 hash the registry published');

    await user.click(within(offer).getByRole('button', { name: 'Install workerd 1.20261123.1 (50.5 MB)' }));
    const bar = await screen.findByRole('progressbar', { name: 'workerd download' });
    expect(calls.filter((c) => c.cmd === 'install_workerd')).toHaveLength(1);
    expect(screen.queryByRole('button', { name: /^Install workerd/ })).not.toBeInTheDocument();
    send({ step: 'download', doneBytes: 0, totalBytes: 50_503_638 });
    send({ step: 'download', doneBytes: 12_625_910, totalBytes: 50_503_638 });
    expect(bar).toHaveAttribute('aria-valuenow', '25');
    expect(screen.getByText('Downloading: 12.6 MB of 50.5 MB (25 %)')).toBeInTheDocument();
    send({ step: 'download', doneBytes: 50_503_638, totalBytes: 50_503_638 });
    send({ step: 'verify' });
    expect(screen.getByText('Checking the download against the published sha512 hash…')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Cancel download' })).not.toBeInTheDocument();
    send({ step: 'startRuntime' });
    expect(screen.getByText("Starting the Local sandbox's runtime with it…")).toBeInTheDocument();

    await finish(INSTALLED);
    expect(await screen.findByRole('status', { name: 'workerd install' })).toHaveTextContent(INSTALLED.message);
    await waitFor(() => {
      expect(screen.getByRole('status', { name: 'What executes deployed scripts' })).toHaveTextContent(
        'Deployed scripts run in workerd 2026-11-23',
      );
    });
    expect(screen.queryByRole('progressbar', { name: 'workerd download' })).not.toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Install workerd' })).not.toBeInTheDocument();
  });

  it('says why an install failed and that nothing was installed, and tries again', async () => {
    const { calls, send, finish } = serveInstall();
    const { user } = renderApp('settings');
    await user.click(await screen.findByRole('button', { name: 'Install workerd 1.20261123.1 (50.5 MB)' }));
    await screen.findByRole('progressbar', { name: 'workerd download' });
    send({ step: 'download', doneBytes: 50_503_638, totalBytes: 50_503_638 });
    send({ step: 'verify' });
    await finish({
      code: 'InvalidResponse',
      message:
        "The download's sha512 does not match the hash the registry published for @cloudflare/workerd-linux-64 1.20261123.1 (expected hQs6…, got 2Ffb…): it was corrupted or altered on the way. Nothing was installed.",
      runbook: null,
    });
    const alert = await screen.findByRole('alert', { name: 'Installing workerd failed: Nothing was installed' });
    expect(alert).toHaveTextContent("The download's sha512 does not match the hash the registry published");
    expect(alert).toHaveTextContent('The Local sandbox still stores scripts without executing them.');
    expect(alert).toHaveTextContent('cargo xtask setup');
    expect(alert).not.toHaveTextContent('platform');
    expect(screen.getByRole('status', { name: 'What executes deployed scripts' })).toHaveTextContent(
      'Scripts are not executed',
    );

    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    await screen.findByRole('progressbar', { name: 'workerd download' });
    expect(calls.filter((c) => c.cmd === 'install_workerd')).toHaveLength(2);
    expect(screen.queryByRole('alert', { name: /^Installing workerd failed/ })).not.toBeInTheDocument();
    await finish(INSTALLED);
    expect(await screen.findByRole('status', { name: 'workerd install' })).toHaveTextContent(INSTALLED.message);
  });

  it('cancels the download: nothing installed, no error, and it can be started again', async () => {
    const { calls, send } = serveInstall();
    const { user } = renderApp('settings');
    await user.click(await screen.findByRole('button', { name: 'Install workerd 1.20261123.1 (50.5 MB)' }));
    await screen.findByRole('progressbar', { name: 'workerd download' });
    send({ step: 'download', doneBytes: 1_000_000, totalBytes: 50_503_638 });
    await user.click(screen.getByRole('button', { name: 'Cancel download' }));
    expect(await screen.findByText('Cancelled: nothing was installed.')).toBeInTheDocument();
    expect(calls.filter((c) => c.cmd === 'cancel_workerd_install')).toHaveLength(1);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.queryByRole('progressbar', { name: 'workerd download' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Install workerd 1.20261123.1 (50.5 MB)' })).toBeEnabled();
  });

  it('says when the size is unknown, and why', async () => {
    serveInstall({
      workerd_install_offer: () => ({
        ...OFFER,
        downloadBytes: null,
        sizeUnknown: 'the registry could not be reached: error sending request',
      }),
    });
    renderApp('settings');
    const offer = await screen.findByRole('region', { name: 'Install workerd' });
    await waitFor(() => {
      expect(offer).toHaveTextContent(
        'size unknown: the registry could not be reached: error sending request',
      );
    });
    expect(within(offer).getByRole('button', { name: 'Install workerd 1.20261123.1' })).toBeEnabled();
  });
});

describe('deploy settings', () => {
  const MIB = 1024 * 1024;
  const settings = {
    keepPerService: 10,
    maxArchiveBytes: 512 * MIB,
    healthWaitMs: 30_000,
    healthPollMs: 1_500,
    bundleSizeLimitBytes: 10 * MIB,
    promoteSoakMinutes: 30,
  };

  async function deploysSection() {
    const section = await screen.findByRole('region', { name: 'Deploys' });
    await within(section).findByRole('textbox', { name: 'Bundles kept per service and environment' });
    return section;
  }

  it('shows the current values in MiB, seconds and minutes, each with what it does and its default', async () => {
    serveIpc(appInfo(), { deploy_settings: () => settings });
    const { user } = renderApp('settings');
    const section = await deploysSection();
    const field = (name: string) => within(section).getByRole('textbox', { name });
    expect(field('Bundles kept per service and environment')).toHaveValue('10');
    expect(field('Bundles kept per service and environment')).toHaveAccessibleDescription(/Default 10\./);
    expect(field('Archive size cap (MiB)')).toHaveValue('512');
    expect(field('Archive size cap (MiB)')).toHaveAccessibleDescription(/Default 512 MiB\./);
    expect(field('Health wait after a deploy (seconds)')).toHaveValue('30');
    expect(field('Health wait after a deploy (seconds)')).toHaveAccessibleDescription(/Default 30 seconds\./);
    expect(field('Pause between health probes (seconds)')).toHaveValue('1.5');
    expect(field('Pause between health probes (seconds)')).toHaveAccessibleDescription(/Default 1 second\./);
    expect(field('Largest bundle accepted (MiB)')).toHaveValue('10');
    expect(field('Largest bundle accepted (MiB)')).toHaveAccessibleDescription(/Default 10 MiB/);
    expect(field('Promote soak time (minutes)')).toHaveValue('30');
    expect(field('Promote soak time (minutes)')).toHaveAccessibleDescription(/Default 30 minutes\./);

    const save = within(section).getByRole('button', { name: 'Save deploy settings' });
    expect(save).toBeDisabled();
    await user.clear(field('Archive size cap (MiB)'));
    expect(within(section).getByText('Enter a number of MiB.')).toBeInTheDocument();
    expect(save).toBeDisabled();
    await user.type(field('Archive size cap (MiB)'), '512');
    expect(within(section).queryByText('Enter a number of MiB.')).not.toBeInTheDocument();
    // The same value again is no change.
    expect(save).toBeDisabled();
  });

  it('saves the changed values in the engine’s units, keeps the others exactly, and says what retention did', async () => {
    const calls = serveIpc(appInfo(), {
      deploy_settings: () => settings,
      set_deploy_settings: () => ({
        kept: 12,
        protected: 4,
        pruned: ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)],
        freedBytes: 3 * MIB,
        totalBytes: 40 * MIB,
        overCap: false,
      }),
    });
    const { user } = renderApp('settings');
    const section = await deploysSection();
    const field = (name: string) => within(section).getByRole('textbox', { name });
    const change = async (name: string, value: string) => {
      await user.clear(field(name));
      await user.type(field(name), value);
    };
    await change('Bundles kept per service and environment', '5');
    await change('Archive size cap (MiB)', '256');
    await change('Health wait after a deploy (seconds)', '45');
    await change('Largest bundle accepted (MiB)', '25');
    await change('Promote soak time (minutes)', '60');
    const save = within(section).getByRole('button', { name: 'Save deploy settings' });
    await user.click(save);

    expect(await within(section).findByRole('status', { name: 'Bundle archive retention' })).toHaveTextContent(
      'Saved. Kept 12 bundles (4 protected); pruned 3 (freed 3.0 MiB). The archive now takes 40.0 MiB.',
    );
    expect(calls.filter((c) => c.cmd === 'set_deploy_settings').map((c) => c.args)).toEqual([
      {
        settings: {
          keepPerService: 5,
          maxArchiveBytes: 256 * MIB,
          healthWaitMs: 45_000,
          healthPollMs: 1_500,
          bundleSizeLimitBytes: 25 * MIB,
          promoteSoakMinutes: 60,
        },
      },
    ]);
    expect(field('Archive size cap (MiB)')).toHaveValue('256');
    expect(save).toBeDisabled();

    // Editing again clears the report.
    await change('Pause between health probes (seconds)', '0.25');
    expect(within(section).queryByRole('status', { name: 'Bundle archive retention' })).not.toBeInTheDocument();
    expect(save).toBeEnabled();
  });

  it('says when nothing was pruned and when the kept bundles alone are over the cap', async () => {
    serveIpc(appInfo(), {
      deploy_settings: () => settings,
      set_deploy_settings: () => ({
        kept: 1,
        protected: 1,
        pruned: [],
        freedBytes: 0,
        totalBytes: 2 * MIB,
        overCap: true,
      }),
    });
    const { user } = renderApp('settings');
    const section = await deploysSection();
    const cap = within(section).getByRole('textbox', { name: 'Archive size cap (MiB)' });
    await user.clear(cap);
    await user.type(cap, '1');
    await user.click(within(section).getByRole('button', { name: 'Save deploy settings' }));
    expect(await within(section).findByRole('status', { name: 'Bundle archive retention' })).toHaveTextContent(
      'Saved. Kept 1 bundle (1 protected); nothing pruned. The archive now takes 2.0 MiB.',
    );
    expect(within(section).getByText('The archive is still over its size cap')).toBeInTheDocument();
  });

  it('shows the engine’s refusal and keeps what was typed', async () => {
    const calls = serveIpc(appInfo(), {
      deploy_settings: () => settings,
      set_deploy_settings: fail({
        code: 'InvalidInput',
        message: 'The pause between health probes must be 100 to 60 000 ms.',
        runbook: null,
      }),
    });
    const { user } = renderApp('settings');
    const section = await deploysSection();
    const pause = within(section).getByRole('textbox', { name: 'Pause between health probes (seconds)' });
    await user.clear(pause);
    await user.type(pause, '0.05');
    await user.click(within(section).getByRole('button', { name: 'Save deploy settings' }));
    const alert = await within(section).findByRole('alert');
    expect(alert).toHaveTextContent('Saving the deploy settings failed');
    expect(alert).toHaveTextContent('The pause between health probes must be 100 to 60 000 ms.');
    expect(pause).toHaveValue('0.05');
    expect(calls.find((c) => c.cmd === 'set_deploy_settings')?.args).toEqual({ settings: { ...settings, healthPollMs: 50 } });
    expect(within(section).queryByRole('status', { name: 'Bundle archive retention' })).not.toBeInTheDocument();
  });
});
