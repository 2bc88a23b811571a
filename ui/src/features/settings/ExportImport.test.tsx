import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { appInfo, fullProfile, renderApp, serveIpc, stagingProfile } from '../../test/render';

describe('Importing profiles', () => {
  it('shows which hosts change and which keys stop being sent before anything is imported', async () => {
    const calls = serveIpc(appInfo(), {
      preview_profile_import: () => [
        {
          id: 'staging',
          name: 'dotdo staging',
          replaces: true,
          hostChanges: [{ what: 'Deploy API', from: 'https://deploy.do', to: 'https://deploy.example.net' }],
          keysDetached: ['The Deploy API key saved for https://deploy.do would not be sent to https://deploy.example.net until you enter it again or move it.'],
        },
      ],
      import_profiles: () => [fullProfile(stagingProfile)],
    });
    const { user } = renderApp('settings');
    const section = await screen.findByRole('region', { name: 'Export and import' });
    const box = within(section).getByLabelText('Profiles to import (TOML)');
    await user.type(box, 'id = "staging"');
    await user.click(within(section).getByRole('checkbox', { name: 'Replace profiles with the same id' }));
    await user.click(within(section).getByRole('button', { name: 'Review import' }));

    const review = await within(section).findByRole('region', { name: 'What the import would do' });
    expect(review).toHaveTextContent('Replaces dotdo staging (staging)');
    expect(review).toHaveTextContent('Deploy API: https://deploy.do → https://deploy.example.net');
    expect(within(review).getByRole('alert')).toHaveTextContent('would not be sent to https://deploy.example.net');
    expect(calls.some((c) => c.cmd === 'import_profiles')).toBe(false);

    // Changing the text drops the review: what is imported is always what was reviewed.
    await user.type(box, ' ');
    expect(within(section).queryByRole('region', { name: 'What the import would do' })).not.toBeInTheDocument();
    expect(within(section).getByRole('button', { name: 'Review import' })).toBeEnabled();
    await user.click(within(section).getByRole('button', { name: 'Review import' }));
    await user.click(await within(section).findByRole('button', { name: 'Import 1 profile' }));
    expect(await within(section).findByText('Imported 1 profile: dotdo staging.')).toBeInTheDocument();
    expect(calls.filter((c) => c.cmd === 'preview_profile_import')).toHaveLength(2);
  });
});
