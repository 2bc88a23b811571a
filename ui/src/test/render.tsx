import { render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { mockIPC } from '@tauri-apps/api/mocks';

import { App } from '../app/App';
import { timelineOf } from '../features/timeline/timelineFixtures';
import type { AreaId } from '../shell/areas';
import { createQueryClient, Providers } from '../shell/Providers';
import { workerListingHandlers } from './workerListings';
import { type AppError, type AppInfo, type AuditPage, type AuditRow, type CodeDiff, type FolderBindings, type Deployment, type HistoryPage, type Profile, type ProfileSummary, type SandboxRuntime, type WorkerRow } from '../ipc/types';

export const sandboxProfile: ProfileSummary = {
  id: 'local-sandbox',
  name: 'Local sandbox',
  environment: 'production',
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

export const SERVICES = ['gateway', 'db', 'auth', 'schedule', 'webhooks', 'email', 'mcp', 'queue'];

/** The full profile behind a summary, as `list_profiles` returns it. */
export function fullProfile(summary: ProfileSummary, overrides: Partial<Profile> = {}): Profile {
  const local = summary.sandbox;
  return {
    ...summary,
    deployApiUrl: local ? 'http://127.0.0.1:4610' : 'https://deploy.do',
    authUrl: local ? 'http://127.0.0.1:4610/auth' : 'https://auth.do',
    cloudflareApiUrl: local ? 'http://127.0.0.1:4610/cf/client/v4' : 'https://api.cloudflare.com/client/v4',
    accountId: local ? 'sandbox-account' : 'acc-123',
    namespace: `dotdo-${summary.environment}`,
    services: SERVICES,
    serviceUrlTemplate: summary.environment === 'production' ? 'https://{service}.do' : 'https://{service}.{environment}.do',
    dispatcherUrl: local ? 'http://127.0.0.1:4611' : '',
    ...overrides,
  };
}

export function appInfo(overrides: Partial<AppInfo> = {}): AppInfo {
  return {
    sandboxError: null,
    storageNotice: null,
    name: 'Switchyard',
    version: '0.1.0',
    dataDir: '/home/op/.local/share/switchyard',
    profiles: [sandboxProfile, stagingProfile, productionProfile],
    activeProfile: sandboxProfile.id,
    ...overrides,
  };
}

export function historyPage(overrides: Partial<HistoryPage> = {}): HistoryPage {
  return { deployments: [], total: overrides.deployments?.length ?? 0, totalExact: true, asOfMs: null, failingWindows: [], ...overrides };
}

let deploymentCounter = 0;

export function deployment(overrides: Partial<Deployment> = {}): Deployment {
  deploymentCounter += 1;
  const n = deploymentCounter;
  return {
    id: `deploy_17000000${String(n).padStart(5, '0')}_abcdef${String(n % 100).padStart(2, '0')}`,
    service: 'gateway',
    environment: 'production',
    tier: null,
    version: null,
    namespace: 'dotdo-production',
    status: 'deployed',
    timestamp: '2025-03-01T12:00:00Z',
    url: 'https://gateway.do',
    versionTag: `v1.0.${n}`,
    metadata: { commit: '0123456789abcdef0123', branch: 'main', author: 'alice' },
    ...overrides,
  };
}

let auditCounter = 0;

/** An audit entry: a succeeded deploy of gateway on the sandbox profile, unless told. */
export function auditRow(overrides: Partial<AuditRow> = {}): AuditRow {
  auditCounter += 1;
  return {
    seq: auditCounter,
    atMs: Date.parse('2025-03-01T12:00:00Z'),
    actor: 'ana',
    profileId: 'local-sandbox',
    action: 'deploy.apply',
    target: 'gateway/production',
    params: { service: 'gateway', environment: 'production', version: '2.0.0' },
    outcome: 'ok',
    status: 'ok',
    message: null,
    durationMs: 1200,
    ...overrides,
  };
}

/** A page of the audit log as `list_audit` answers: the entries given, all of them. */
/** A comparison of two bundles: by default `build: "old"` became `build: "new"`. */
export function codeDiff(overrides: Partial<CodeDiff> = {}): CodeDiff {
  const side = (sha: string, source: string) => ({
    source,
    available: true,
    absent: false,
    reason: null,
    sizeBytes: 120,
    sha256: sha.repeat(32),
    lines: 3,
  });
  return {
    left: side('aa', 'the worker gateway in dotdo-production'),
    right: side('bb', 'the bundle planned'),
    identical: false,
    added: 1,
    removed: 1,
    hunks: [
      {
        header: '@@ -1,3 +1,3 @@',
        lines: [
          { kind: 'context', old: 1, new: 1, text: 'export default {', cutChars: 0 },
          { kind: 'removed', old: 2, new: null, text: '  build: "old",', cutChars: 0 },
          { kind: 'added', old: null, new: 2, text: '  build: "new",', cutChars: 0 },
          { kind: 'context', old: 3, new: 3, text: '};', cutChars: 0 },
        ],
      },
    ],
    truncated: null,
    binary: false,
    ...overrides,
  };
}

/** A service folder's bindings as `folder_bindings` reads them: gateway's db and auth, unless told. */
export function folderBindings(overrides: Partial<FolderBindings> = {}): FolderBindings {
  return {
    folder: '/home/op/platform/workers/gateway',
    file: '/home/op/platform/workers/gateway/wrangler.jsonc',
    sha256: 'ab'.repeat(32),
    workerName: 'gateway',
    bindings: [
      { binding: 'DB_SERVICE', service: 'db', entrypoint: null },
      { binding: 'AUTH_SERVICE', service: 'auth', entrypoint: null },
    ],
    vars: ['MODE'],
    ...overrides,
  };
}

export function auditPage(overrides: Partial<AuditPage> = {}): AuditPage {
  const entries = overrides.entries ?? [];
  return {
    entries,
    total: entries.length,
    totalExact: true,
    actions: [...new Set(entries.map((e) => e.action))].sort(),
    ...overrides,
  };
}

/** The Local sandbox's runtime as `sandbox_runtime` answers: executing and running unless told. */
export function sandboxRuntime(overrides: Partial<SandboxRuntime> = {}): SandboxRuntime {
  return {
    executing: true,
    running: true,
    message: 'Deployed scripts run in workerd.',
    workerdVersion: '2026-11-23',
    workerdPath: '/home/op/.cache/switchyard/workerd/1.20261123.1/node_modules/@cloudflare/workerd-linux-64/bin/workerd',
    workerdSource: 'cache',
    restarts: 0,
    notices: [],
    ...overrides,
  };
}

/** A command's reply: a value, or (thrown as Tauri rejects) an AppError. */
export type Reply = unknown;
export type Handler = (args: Record<string, unknown>) => Reply;

/** An AppError reply, thrown the way Tauri rejects with a command's `Err` value. */
export function fail(error: AppError): Handler {
  return () => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- Tauri rejects with the command's Err value.
    throw error;
  };
}

export interface IpcCall {
  cmd: string;
  args: Record<string, unknown>;
}

/**
 * Serve commands from the mock IPC. `app_info`, `list_profiles` and `query_history` have answers
 * by default (the info given, its profiles in full, an empty never-synced history), and so do the
 * commands every screen may call (health, runbook links, the list of runs); any other command must
 * be given, or the call fails.
 */
export function serveIpc(
  info: AppInfo | { error: AppError },
  handlers: Record<string, Handler> = {},
): IpcCall[] {
  const calls: IpcCall[] = [];
  const defaults: Record<string, Handler> = {
    app_info: () => {
      if ('error' in info) {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- Tauri rejects with the command's Err value.
        throw info.error;
      }
      return info;
    },
    keychain_status: () => ({ state: 'available', backend: 'Secret Service' }),
    list_profiles: () => ('error' in info ? [] : info.profiles.map((p) => fullProfile(p))),
    query_history: () => historyPage(),
    archived_bundles: () => [],
    // Errors with a runbook section ask which runbook covers it; by default none does.
    runbook_for_error: () => null,
    runbook_catalog: () => ({ runbooks: [], problems: [] }),
    service_templates: () => ({ templates: [], problems: [], folder: '/home/op/.local/share/switchyard/templates' }),
    // The status bar shows a run in progress; by default there is none.
    list_runs: () => [],
    // The status bar asks the Local sandbox's runtime (when that profile is active); by default it
    // executes scripts and is running.
    sandbox_runtime: () => sandboxRuntime(),
    // Settings shows the health ↔ deployment correlation window; 15 minutes unless set.
    correlation_window: () => 15,
    // How old history may get before Deployments syncs it by itself. The app's default is 60
    // minutes; here 0 (never), so a screen opens on what the test serves without a sync unless
    // the test asks for one (the automatic sync's own tests serve a value).
    history_auto_sync: () => 0,
    deploy_settings: () => ({ keepPerService: 10, maxArchiveBytes: 536_870_912, healthWaitMs: 30_000, healthPollMs: 1_000, bundleSizeLimitBytes: 10_485_760, promoteSoakMinutes: 30 }),
    workerd_path: () => null,
    // Settings → Deploys lists the project folders; none by default.
    project_folders: () => [],
    // The Deployments area shows services split between versions; by default none is.
    live_splits: () => [],
    // The Deploy area's Bindings tab reads a folder's bindings; by default gateway's.
    folder_bindings: () => folderBindings(),
    // Every plan diffs its code first; by default one line changed.
    compare_bundles: () => codeDiff(),
    interrupted_deploys: () => [],
    // The Workers table asks a listing kept in the app process (a stand-in here, see
    // workerListings.ts) for the rows in view: by default of the test's `worker_pages` (a page at a
    // time, as it delivers them) or `list_workers` answer (nothing when it gives neither), in
    // pages of 1,000 as Rust lists them.
    ...workerListingHandlers(async (args, add) => {
      if (handlers.worker_pages) {
        await handlers.worker_pages({ ...args, add });
        return;
      }
      const listed = handlers.list_workers ? ((await handlers.list_workers(args)) as WorkerRow[]) : [];
      for (let start = 0; start < listed.length; start += WORKERS_PAGE) {
        add(listed.slice(start, start + WORKERS_PAGE));
      }
    }, deliverOnChannel),
    // The Audit area lists the audit log; by default nothing is recorded yet.
    list_audit: () => auditPage(),
    timeline: (args) => timelineOf(args, []), // the Audit area's Timeline tab: nothing in the window
    // The status bar's health monitor checks in every area; by default all is well.
    check_health: () => ({
      checkedAtMs: 1_750_000_000_000,
      results: [],
      summary: { healthy: 0, total: 0, text: '0/0 services healthy' },
      notifications: [],
    }),
  };
  mockIPC((cmd, args) => {
    const payload = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: payload });
    const handler = handlers[cmd] ?? defaults[cmd];
    if (!handler) {
      throw new Error(`unexpected command ${cmd}`);
    }
    return handler(payload);
  });
  return calls;
}

/** Serve `app_info` (and the defaults of `serveIpc`); returns the calls made. */
export function serveAppInfo(reply: AppInfo | { error: AppError }): IpcCall[] {
  return serveIpc(reply);
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

/** Workers a page of a listing carries (Cloudflare's largest page). */
export const WORKERS_PAGE = 1000;

/** The part of Tauri's IPC internals the Rust side uses to deliver a channel message. */
interface TauriInternals {
  runCallback: (id: number, data: unknown) => void;
}

/** Deliver `message` (the `index`-th) on `channel`, as the Rust side does. */
export function deliverOnChannel(channel: unknown, index: number, message: unknown) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: TauriInternals }).__TAURI_INTERNALS__;
  const id = (channel as { id?: number } | undefined)?.id ?? 0;
  internals.runCallback(id, { index, message });
}
