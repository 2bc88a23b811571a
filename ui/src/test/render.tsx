import { render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockIPC } from '@tauri-apps/api/mocks';

import { App } from '../app/App';
import type { AreaId } from '../app/areas';
import { createQueryClient, Providers } from '../app/Providers';
import type { AppError, AppInfo_Serialize, ProfileSummary } from '../ipc/bindings';

export const sandboxProfile: ProfileSummary = {
  id: 'local-sandbox',
  name: 'Local sandbox',
  environment: 'development',
  protection: 'normal',
  sandbox: true,
};

export const productionProfile: ProfileSummary = {
  id: 'prod',
  name: 'dotdo production',
  environment: 'production',
  protection: 'protected',
  sandbox: false,
};

export const stagingProfile: ProfileSummary = {
  id: 'staging',
  name: 'dotdo staging',
  environment: 'staging',
  protection: 'normal',
  sandbox: false,
};

export function appInfo(overrides: Partial<AppInfo_Serialize> = {}): AppInfo_Serialize {
  return {
    keychain: { state: 'available', backend: 'Secret Service' },
    sandboxError: null,
    name: 'Switchyard',
    version: '0.1.0',
    dataDir: '/home/op/.local/share/switchyard',
    profiles: [sandboxProfile, stagingProfile, productionProfile],
    activeProfile: sandboxProfile.id,
    ...overrides,
  };
}

/** Serve `app_info` from the mock IPC: either the info, or a rejection with an AppError. */
export function serveAppInfo(reply: AppInfo_Serialize | { error: AppError }) {
  const calls: string[] = [];
  mockIPC((cmd) => {
    calls.push(cmd);
    if (cmd === 'app_info') {
      if ('error' in reply) {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- Tauri rejects with the command's Err value.
        throw reply.error;
      }
      return reply;
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  return calls;
}

export function renderApp(initialArea?: AreaId) {
  const user = userEvent.setup();
  const result = render(
    <Providers env="test" queryClient={createQueryClient()}>
      <App initialArea={initialArea} />
    </Providers>,
  );
  return { user, ...result };
}
