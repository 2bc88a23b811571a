import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { DeployEvent, DeployPlan, PreparedDeploy, VersionList } from '../../ipc/types';
import {
  appInfo,
  codeDiff,
  deliverOnChannel,
  deployment,
  fail,
  fullProfile,
  type Handler,
  renderApp,
  sandboxProfile,
  serveIpc,
} from '../../test/render';
import { applyEvent, EMPTY_PROGRESS, MAX_LINES_PER_STEP } from './progress';

const RUN = 'run-fixed';

function plan(overrides: Partial<DeployPlan> = {}): DeployPlan {
  return {
    profileId: 'local-sandbox',
    service: 'gateway',
    environment: 'production',
    namespace: 'dotdo-production',
    kind: 'deploy',
    current: {
      deploymentId: 'deploy_1',
      versionLabel: 'v1.3.0',
      commit: '1111111aaaaaaa',
      branch: 'main',
      author: 'bob',
      timestamp: '2025-03-01T10:00:00Z',
      sizeBytes: 2048,
      sha256: 'aa'.repeat(32),
      bindings: { DB_SERVICE: 'db' },
    },
    next: {
      deploymentId: null,
      versionLabel: 'v1.4.0',
      commit: '2222222bbbbbbb',
      branch: 'main',
      author: 'alice',
      timestamp: null,
      sizeBytes: 4096,
      sha256: 'bb'.repeat(32),
      bindings: { DB_SERVICE: 'db', QUEUE_SERVICE: 'queue' },
    },
    bindings: { known: true, added: [{ name: 'QUEUE_SERVICE', service: 'queue' }], removed: [], changed: [], unchanged: 1 },
    pin: null,
    warnings: [],
    confirmation: { kind: 'typeName', phrase: 'gateway', reason: 'Production: type the service name.' },
    action: 'Deploy gateway v1.4.0 to production',
    basis: { currentDeploymentId: 'deploy_1', currentLabel: 'v1.3.0' },
    ...overrides,
  };
}

function prepared(p: DeployPlan = plan()): PreparedDeploy {
  return {
    runId: RUN,
    profileId: 'local-sandbox',
    service: 'gateway',
    environment: 'production',
    source: { kind: 'serviceFolder', path: '/w/workers/gateway' },
    folder: null,
    bundle: { path: '/w/workers/gateway/dist/index.js', sizeBytes: 4096, sha256: 'bb'.repeat(32), syntaxChecked: true, syntaxNote: 'ok' },
    metadata: { commit: '2222222bbbbbbb', branch: 'main', author: 'alice', version: 'v1.4.0' },
    bindings: { DB_SERVICE: 'db', QUEUE_SERVICE: 'queue' },
    checks: [],
    plan: p,
  };
}

function event(e: DeployEvent): DeployEvent {
  return e;
}

function serve(handlers: Record<string, Handler>, profileOverrides = {}) {
  return serveIpc(appInfo(), {
    list_profiles: () => [fullProfile(sandboxProfile, profileOverrides)],
    deployment_versions: () => ({ service: 'gateway', environment: 'production', rows: [], pin: null, staleNote: null }),
    ...handlers,
  });
}

describe('Deploy area', () => {
  it('tests and builds a service folder with live output, shows the plan, and deploys only after the name is typed', async () => {
    let channel: unknown;
    let finish: () => void = () => undefined;
    const calls = serve({
      prepare_deploy: async (args) => {
        channel = args.onEvent;
        await new Promise<void>((resolve) => {
          finish = resolve;
        });
        return prepared();
      },
      apply_deploy: () => ({
        runId: RUN,
        deployment: deployment({ id: 'deploy_new', service: 'gateway', versionTag: 'v1.4.0' }),
        plan: plan(),
        bundle: {
          deploymentId: 'deploy_new',
          service: 'gateway',
          environment: 'production',
          sha256: 'bb'.repeat(32),
          sizeBytes: 4096,
          kind: 'deploy',
          available: true,
          prunedMs: null,
          usedMs: 1,
          bindings: {},
        },
        verification: {
          recordSeen: true,
          recordDetail: 'deploy_new is the newest record',
          healthOk: true,
          healthUrl: 'http://x/health',
          healthStatus: 200,
          healthDetail: '/health answered 200 after 120 ms',
          waitedMs: 120,
        },
        pinCleared: false,
        pin: null,
        retention: null,
      }),
    });
    const { user } = renderApp('deploy');
    const plan_ = await screen.findByRole('button', { name: 'Test, build and plan' });
    expect(plan_).toBeDisabled();
    expect(screen.getByText('Choose the service folder.')).toBeInTheDocument();
    await user.type(screen.getByRole('textbox', { name: 'Service folder' }), '/w/workers/gateway');
    // The service is taken from the folder's name.
    expect(screen.getByRole('combobox', { name: 'Service' })).toHaveValue('gateway');
    await user.click(plan_);

    const request = calls.find((c) => c.cmd === 'prepare_deploy')?.args.request as Record<string, unknown>;
    expect(request).toMatchObject({
      profileId: 'local-sandbox',
      service: 'gateway',
      environment: 'production',
      source: { kind: 'serviceFolder', path: '/w/workers/gateway' },
    });
    act(() => {
      deliverOnChannel(channel, 0, event({ kind: 'step', runId: RUN, step: 'test', state: 'running', detail: 'npm run test', atMs: 1 }));
      deliverOnChannel(channel, 1, event({ kind: 'output', runId: RUN, step: 'test', stream: 'stdout', line: '12 tests passed', atMs: 2 }));
    });
    expect(screen.getByRole('listitem', { name: 'Run the tests: running' })).toBeInTheDocument();
    expect(screen.getByLabelText('Output of Run the tests')).toHaveTextContent('12 tests passed');
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeInTheDocument();

    await act(async () => {
      deliverOnChannel(channel, 2, event({ kind: 'step', runId: RUN, step: 'test', state: 'passed', detail: null, atMs: 3 }));
      finish();
      await Promise.resolve();
    });
    const table = await screen.findByRole('table', { name: 'Plan: now and after' });
    expect(within(table).getByRole('row', { name: /Version v1.3.0 v1.4.0/ })).toBeInTheDocument();
    expect(screen.getByRole('list', { name: 'Binding changes' })).toHaveTextContent('Added QUEUE_SERVICE → queue');

    const deploy = screen.getByRole('button', { name: 'Deploy gateway v1.4.0 to production' });
    expect(deploy).toBeDisabled();
    const confirm = screen.getByRole('textbox', { name: 'Type gateway to confirm' });
    await user.type(confirm, 'gatewa');
    expect(deploy).toBeDisabled();
    await user.type(confirm, 'y');
    expect(deploy).toBeEnabled();
    await user.click(deploy);
    expect(await screen.findByText('Deployed gateway v1.4.0 to production')).toBeInTheDocument();
    expect(screen.getByText('Health: /health answered 200 after 120 ms')).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'apply_deploy')?.args).toMatchObject({
      runId: RUN,
      // The plan's basis goes back with the confirmation (a double submit cannot apply twice).
      confirmation: { confirmed: true, typed: 'gateway', basis: { currentDeploymentId: 'deploy_1' } },
    });
  });

  it('goes back to the plan after a refusal before the upload, and says the upload happened when a check after it fails', async () => {
    let applies = 0;
    const calls = serve({
      prepare_deploy: (args) => {
        deliverOnChannel(args.onEvent, 0, event({ kind: 'step', runId: RUN, step: 'build', state: 'passed', detail: null, atMs: 1 }));
        return prepared();
      },
      apply_deploy: (args) => {
        applies += 1;
        if (applies === 1) {
          // Refused before anything was sent.
          return fail({ code: 'Conflict', message: 'deploy_9 was deployed since the plan: plan again.', runbook: null })(args);
        }
        deliverOnChannel(args.onEvent, 0, event({ kind: 'step', runId: RUN, step: 'upload', state: 'passed', detail: null, atMs: 2 }));
        return fail({ code: 'Timeout', message: 'The service did not answer /health within 30 s.', runbook: null })(args);
      },
    });
    const { user } = renderApp('deploy');
    await user.type(await screen.findByRole('textbox', { name: 'Service folder' }), '/w/workers/gateway');
    await user.click(screen.getByRole('button', { name: 'Test, build and plan' }));
    await user.type(await screen.findByRole('textbox', { name: 'Type gateway to confirm' }), 'gateway');
    await user.click(screen.getByRole('button', { name: 'Deploy gateway v1.4.0 to production' }));

    expect(await screen.findByText(/deploy_9 was deployed since the plan/)).toBeInTheDocument();
    expect(screen.queryByText(/The upload happened/)).not.toBeInTheDocument();
    // The preparation's steps stay in the progress.
    expect(screen.getByRole('listitem', { name: 'Build: done' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Back to the plan' }));
    // The same plan, confirmed again.
    expect(screen.getByRole('table', { name: 'Plan: now and after' })).toBeInTheDocument();
    await user.type(screen.getByRole('textbox', { name: 'Type gateway to confirm' }), 'gateway');
    await user.click(screen.getByRole('button', { name: 'Deploy gateway v1.4.0 to production' }));

    expect(await screen.findByText(/The upload happened: the deployment is recorded in the history/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Back to the plan' })).not.toBeInTheDocument();
    expect(screen.getByRole('listitem', { name: 'Build: done' })).toBeInTheDocument();
    expect(screen.getByRole('listitem', { name: 'Upload to the Deploy API: done' })).toBeInTheDocument();
    expect(calls.filter((c) => c.cmd === 'apply_deploy').map((c) => c.args.runId)).toEqual([RUN, RUN]);
    expect(calls.filter((c) => c.cmd === 'prepare_deploy')).toHaveLength(1);
  });

  it('says what happened to a deploy cut off by the last stop, until dismissed', async () => {
    let notices = [
      {
        runId: 'run_crashed',
        service: 'gateway',
        environment: 'production' as const,
        kind: 'deploy',
        resolution: 'unknown',
        detail: 'The deploy of gateway to production was being uploaded when Switchyard stopped, and the platform has no record of it: whether it runs is unknown.',
        deploymentId: null,
        startedMs: 1_750_000_000_000,
      },
    ];
    const calls = serve({
      interrupted_deploys: () => notices,
      dismiss_interrupted_deploy: () => {
        notices = [];
        return true;
      },
    });
    const { user } = renderApp('deploy');
    const notice = await screen.findByRole('alert', { name: /Deploy of gateway to production may or may not have reached the platform/ });
    expect(notice).toHaveTextContent('whether it runs is unknown');
    await user.click(within(notice).getByRole('button', { name: 'Dismiss the notice about the gateway production deploy' }));
    await waitFor(() => {
      expect(screen.queryByRole('alert', { name: /Deploy of gateway/ })).not.toBeInTheDocument();
    });
    expect(calls.find((c) => c.cmd === 'dismiss_interrupted_deploy')?.args).toEqual({ runId: 'run_crashed' });
  });

  it('cancels a run before upload with the run id it started with', async () => {
    let reject: (e: unknown) => void = () => undefined;
    const calls = serve({
      prepare_deploy: () =>
        new Promise((_resolve, rej) => {
          reject = rej;
        }),
      cancel_deploy: () => null,
    });
    const { user } = renderApp('deploy');
    await user.type(await screen.findByRole('textbox', { name: 'Service folder' }), '/w/workers/db');
    await user.click(screen.getByRole('button', { name: 'Test, build and plan' }));
    await user.click(await screen.findByRole('button', { name: 'Cancel' }));
    const runId = (calls.find((c) => c.cmd === 'prepare_deploy')?.args.request as { runId: string }).runId;
    expect(runId).toMatch(/^run-/);
    expect(calls.find((c) => c.cmd === 'cancel_deploy')?.args).toEqual({ runId });
    await act(async () => {
      reject({ code: 'Cancelled', message: 'The deploy was cancelled before upload; nothing was deployed.' });
      await Promise.resolve();
    });
    expect(await screen.findByRole('alert')).toHaveTextContent('nothing was deployed');
  });

  it('stops at preflight with the 403 guidance and its runbook section', async () => {
    serve({
      prepare_deploy: fail({
        code: 'InsufficientPermissions',
        message: 'The key of carol lacks deployments:create.',
        runbook: 'Insufficient permissions',
      }),
    });
    const { user } = renderApp('deploy');
    await user.click(await screen.findByRole('radio', { name: 'Built bundle file' }));
    await user.type(screen.getByRole('textbox', { name: 'Bundle file' }), '/tmp/gateway.js');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Service' }), 'gateway');
    const go = screen.getByRole('button', { name: 'Check and plan' });
    expect(go).toBeDisabled();
    expect(screen.getByText('A bundle file needs its commit, branch and author typed in.')).toBeInTheDocument();
    await user.type(screen.getByRole('textbox', { name: 'Commit' }), 'abc1234');
    await user.type(screen.getByRole('textbox', { name: 'Branch' }), 'main');
    await user.type(screen.getByRole('textbox', { name: 'Author' }), 'carol');
    await user.click(go);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('lacks deployments:create');
    expect(alert).toHaveTextContent('Insufficient permissions');
  });

  it('sends a bundle file with the service bindings typed in its form, and holds back a half-typed row', async () => {
    const calls = serve({ prepare_deploy: fail({ code: 'InvalidInput', message: 'stop here', runbook: null }) });
    const { user } = renderApp('deploy');
    await user.click(await screen.findByRole('radio', { name: 'Built bundle file' }));
    await user.type(screen.getByRole('textbox', { name: 'Bundle file' }), '/tmp/gateway.js');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Service' }), 'gateway');
    await user.type(screen.getByRole('textbox', { name: 'Commit' }), 'abc1234');
    await user.type(screen.getByRole('textbox', { name: 'Branch' }), 'main');
    await user.type(screen.getByRole('textbox', { name: 'Author' }), 'carol');
    const group = screen.getByRole('group', { name: 'Service bindings of the bundle' });
    await user.click(within(group).getByRole('button', { name: 'Add a binding' }));
    const go = screen.getByRole('button', { name: 'Check and plan' });
    // A row half typed holds the deploy back, saying why.
    expect(go).toBeDisabled();
    await user.type(within(group).getByRole('textbox', { name: 'Name of binding 1' }), 'DB_SERVICE');
    await user.type(within(group).getByRole('textbox', { name: 'Service of DB_SERVICE' }), 'db');
    expect(go).toBeEnabled();
    await user.click(go);
    await waitFor(() => {
      expect(calls.some((c) => c.cmd === 'prepare_deploy')).toBe(true);
    });
    const sent = calls.filter((c) => c.cmd === 'prepare_deploy').map((c) => (c.args.request as { bindings: unknown }).bindings);
    expect(sent).toEqual([{ DB_SERVICE: 'db' }]);
  });

  it('offers a direct upload to the namespace when the Deploy API does not answer, with its own plan', async () => {
    const directPlan = plan({
      kind: 'direct',
      warnings: ['This bypasses the Deploy API (emergency only): its deployment list will not show this deploy.'],
      action: 'Upload gateway v1.4.0 straight to dotdo-production (bypassing the Deploy API)',
    });
    const calls = serve({
      prepare_deploy: (args) => {
        const request = args.request as { direct: boolean };
        if (!request.direct) {
          return fail({ code: 'ServerError', message: 'Listing deployments: the Deploy API answered 503 Service Unavailable.', runbook: null })(args);
        }
        return prepared(directPlan);
      },
      apply_deploy: () => ({
        runId: RUN,
        deployment: deployment({ id: 'manual_1_abcdef01', service: 'gateway', versionTag: 'v1.4.0 (manual)' }),
        plan: directPlan,
        bundle: {
          deploymentId: 'manual_1_abcdef01',
          service: 'gateway',
          environment: 'production',
          sha256: 'bb'.repeat(32),
          sizeBytes: 4096,
          kind: 'direct',
          available: true,
          prunedMs: null,
          usedMs: 1,
          bindings: {},
        },
        verification: {
          recordSeen: true,
          recordDetail: 'none at the Deploy API (a direct upload); recorded here as manual deployment manual_1_abcdef01',
          healthOk: true,
          healthUrl: 'http://x/health',
          healthStatus: 200,
          healthDetail: '/health answered 200 after 80 ms',
          waitedMs: 80,
        },
        pinCleared: false,
        pin: null,
        retention: null,
      }),
    });
    const { user } = renderApp('deploy');
    await user.type(await screen.findByRole('textbox', { name: 'Service folder' }), '/w/workers/gateway');
    await user.click(screen.getByRole('button', { name: 'Test, build and plan' }));
    const offer = await screen.findByRole('alert', { name: 'Is the Deploy API down?' });
    await user.click(within(offer).getByRole('button', { name: 'Plan a direct upload instead' }));
    const requests = calls.filter((c) => c.cmd === 'prepare_deploy').map((c) => (c.args.request as { direct: boolean }).direct);
    expect(requests).toEqual([false, true]);
    expect(await screen.findByText(/bypasses the Deploy API/)).toBeInTheDocument();
    expect(screen.getByRole('checkbox', { name: /Emergency: upload straight to the namespace/ })).toBeChecked();
    await user.type(screen.getByRole('textbox', { name: 'Type gateway to confirm' }), 'gateway');
    await user.click(screen.getByRole('button', { name: 'Upload gateway v1.4.0 straight to dotdo-production (bypassing the Deploy API)' }));
    expect(await screen.findByRole('status', { name: /Uploaded gateway v1.4.0 \(manual\) straight to dotdo-production/ })).toHaveTextContent(
      'recorded here as manual deployment manual_1_abcdef01',
    );
  });

  it('promotes exactly what runs in staging to production after its plan, with the plan\'s basis', async () => {
    const promotePlan = plan({
      warnings: [
        'Promoted from staging: exactly the bundle deploy_s runs there (sha256 bbbb), with its bindings; nothing is rebuilt.',
        'v1.4.0 has run in staging for 5 min only; the soak time is 30 min (Settings → Deploys).',
      ],
    });
    const calls = serve({
      promote_plan: () => promotePlan,
      promote: () => ({
        runId: RUN,
        deployment: deployment({ id: 'deploy_p', service: 'gateway', versionTag: 'v1.4.0' }),
        plan: promotePlan,
        bundle: {
          deploymentId: 'deploy_p',
          service: 'gateway',
          environment: 'production',
          sha256: 'bb'.repeat(32),
          sizeBytes: 4096,
          kind: 'deploy',
          available: true,
          prunedMs: null,
          usedMs: 1,
          bindings: {},
        },
        verification: {
          recordSeen: true,
          recordDetail: '',
          healthOk: true,
          healthUrl: 'http://x/health',
          healthStatus: 200,
          healthDetail: '/health answered 200 after 90 ms',
          waitedMs: 90,
        },
        pinCleared: false,
        pin: null,
        retention: null,
      }),
    });
    const { user } = renderApp('deploy');
    await user.click(await screen.findByRole('tab', { name: 'Promote' }));
    await user.selectOptions(screen.getByRole('combobox', { name: 'Service' }), 'gateway');
    expect(await screen.findByText(/the soak time is 30 min/)).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'promote_plan')?.args).toEqual({ profileId: 'local-sandbox', service: 'gateway', from: 'staging', to: 'production' });
    await user.type(screen.getByRole('textbox', { name: 'Type gateway to confirm' }), 'gateway');
    await user.click(screen.getByRole('button', { name: 'Promote gateway from staging to production' }));
    expect(await screen.findByRole('status', { name: 'Promoted gateway to production' })).toHaveTextContent('/health answered 200');
    expect(calls.find((c) => c.cmd === 'promote')?.args.request).toMatchObject({
      service: 'gateway',
      from: 'staging',
      to: 'production',
      confirmation: { confirmed: true, typed: 'gateway', basis: { currentDeploymentId: 'deploy_1' } },
    });
  });

  it('offers no deploy at all on a read-only profile, and says why', async () => {
    serve({}, { protection: 'readOnly' });
    renderApp('deploy');
    expect(await screen.findByText('This profile is read-only')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Test, build and plan' })).toBeDisabled();
  });

  it('rolls back one step only with a reason, then says what is current', async () => {
    const current = deployment({ id: 'deploy_b', versionTag: 'v1.4.0', service: 'gateway' });
    const previous = deployment({ id: 'deploy_a', versionTag: 'v1.3.0', service: 'gateway' });
    const calls = serve({
      rollback_plan: () => ({
        profileId: 'local-sandbox',
        service: 'gateway',
        environment: 'production',
        current,
        becomesCurrent: previous,
        previousBundleArchived: true,
        blockedReason: null,
        warnings: ['The Deploy API only marks records; the script is not re-uploaded.'],
        confirmation: { kind: 'typeName', phrase: 'gateway', reason: 'Production: type the service name.' },
        action: 'Roll gateway back to v1.3.0',
        basis: { currentDeploymentId: 'deploy_b', currentLabel: 'v1.4.0' },
      }),
      rollback: () => ({
        runId: RUN,
        deployment: previous,
        rolledBackId: 'deploy_b',
        verification: {
          recordSeen: true,
          recordDetail: '',
          healthOk: true,
          healthUrl: '',
          healthStatus: 200,
          healthDetail: '/health answered 200.',
          waitedMs: 10,
        },
        pin: {
          profileId: 'local-sandbox',
          service: 'gateway',
          environment: 'production',
          deploymentId: 'deploy_a',
          versionLabel: 'v1.3.0',
          reason: 'bad',
          actor: 'me',
          pinnedMs: 1,
        },
      }),
    });
    const { user } = renderApp('deploy');
    await user.click(await screen.findByRole('tab', { name: 'Roll back' }));
    await user.click(screen.getByRole('button', { name: 'Roll back one step…' }));
    expect(await screen.findByText(/Becomes current: v1.3.0/)).toBeInTheDocument();
    expect(screen.getByText('The Deploy API only marks records; the script is not re-uploaded.')).toBeInTheDocument();
    const go = screen.getByRole('button', { name: 'Roll gateway back to v1.3.0' });
    await user.type(screen.getByRole('textbox', { name: 'Type gateway to confirm' }), 'gateway');
    expect(go).toBeDisabled();
    expect(screen.getByText('Write the reason first.')).toBeInTheDocument();
    await user.type(screen.getByRole('textbox', { name: /Reason/ }), 'v1.4.0 returns 500');
    await user.click(go);
    expect(await screen.findByText(/Rolled gateway back: v1.3.0 is current and pinned/)).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'rollback')?.args.request).toMatchObject({
      service: 'gateway',
      environment: 'production',
      reason: 'v1.4.0 returns 500',
      confirmation: { confirmed: true, typed: 'gateway', basis: { currentDeploymentId: 'deploy_b' } },
    });
  });

  it('lists versions, restores an archived one, and explains those it cannot', async () => {
    const v3 = deployment({ id: 'deploy_3', versionTag: 'v1.4.0' });
    const v2 = deployment({ id: 'deploy_2', versionTag: 'v1.3.0' });
    const v1 = deployment({ id: 'deploy_1', versionTag: 'v1.2.0' });
    const versions: VersionList = {
      service: 'gateway',
      environment: 'production',
      pin: null,
      staleNote: null,
      rows: [
        { deployment: v3, current: true, pinned: false, restorable: false, whyNot: 'It is what runs now.', bundle: null, fetchable: false },
        { deployment: v2, current: false, pinned: false, restorable: true, whyNot: null, bundle: null, fetchable: false },
        {
          deployment: v1,
          current: false,
          pinned: false,
          restorable: false,
          whyNot: 'No archived bundle: it was deployed outside Switchyard, or before the archive existed.',
          bundle: null,
          fetchable: true,
        },
      ],
    };
    const calls = serve({
      deployment_versions: () => versions,
      restore_plan: () =>
        plan({
          kind: 'rollback',
          confirmation: { kind: 'confirm', phrase: null, reason: 'The service is pinned after a restore.' },
          action: 'Restore gateway v1.3.0 in production',
        }),
      restore_version: fail({ code: 'Unreachable', message: 'The Deploy API did not answer.' }),
      fetch_platform_bundle: () => ({
        deploymentId: 'deploy_1',
        service: 'gateway',
        environment: 'production',
        sha256: 'dd'.repeat(32),
        sizeBytes: 900,
        kind: 'deploy',
        available: true,
        prunedMs: null,
        usedMs: 1,
        bindings: {},
      }),
    });
    const { user } = renderApp('deploy');
    await user.click(await screen.findByRole('tab', { name: 'Roll back' }));
    const table = await screen.findByRole('table', { name: 'Versions' });
    expect(within(table).getByText(/deployed outside Switchyard/)).toBeInTheDocument();
    expect(within(table).queryByRole('button', { name: 'Restore v1.2.0' })).not.toBeInTheDocument();
    // Deployed elsewhere, but the platform still holds its code: fetched into the archive.
    await user.click(within(table).getByRole('button', { name: 'Fetch v1.2.0 from the platform' }));
    await waitFor(() => {
      expect(calls.find((c) => c.cmd === 'fetch_platform_bundle')?.args).toEqual({
        profileId: 'local-sandbox',
        service: 'gateway',
        environment: 'production',
        deploymentId: 'deploy_1',
      });
    });
    await user.click(within(table).getByRole('button', { name: 'Restore v1.3.0' }));
    const go = await screen.findByRole('button', { name: 'Restore gateway v1.3.0 in production' });
    await user.type(screen.getByRole('textbox', { name: /Reason/ }), 'back to last good');
    expect(go).toBeDisabled();
    await user.click(screen.getByRole('checkbox', { name: /I have read the plan/ }));
    await user.click(go);
    await waitFor(() => {
      expect(screen.getByRole('alert')).toHaveTextContent('did not answer');
    });
    expect(calls.find((c) => c.cmd === 'restore_version')?.args.request).toMatchObject({
      deploymentId: 'deploy_2',
      reason: 'back to last good',
      confirmation: { confirmed: true, basis: { currentDeploymentId: 'deploy_1' } },
    });
  });

  it('shows the code diff first in a restore plan, and compares any two archived versions', async () => {
    const bundle = (sha: string) => ({
      deploymentId: 'x',
      service: 'gateway',
      environment: 'production' as const,
      sha256: sha.repeat(32),
      sizeBytes: 100,
      kind: 'deploy' as const,
      available: true,
      prunedMs: null,
      usedMs: 1,
      bindings: {},
    });
    const v3 = deployment({ id: 'deploy_3', versionTag: 'v1.4.0', timestamp: '2025-03-03T10:00:00Z' });
    const v2 = deployment({ id: 'deploy_2', versionTag: 'v1.3.0', timestamp: '2025-03-02T10:00:00Z' });
    const v1 = deployment({ id: 'deploy_1', versionTag: 'v1.2.0', timestamp: '2025-03-01T10:00:00Z' });
    const calls = serve({
      deployment_versions: () => ({
        service: 'gateway',
        environment: 'production',
        pin: null,
        staleNote: null,
        rows: [
          { deployment: v3, current: true, pinned: false, restorable: false, whyNot: 'It is what runs now.', bundle: bundle('cc'), fetchable: false },
          { deployment: v2, current: false, pinned: false, restorable: true, whyNot: null, bundle: bundle('bb'), fetchable: false },
          { deployment: v1, current: false, pinned: false, restorable: true, whyNot: null, bundle: bundle('aa'), fetchable: false },
        ],
      }),
      restore_plan: () => plan({ kind: 'rollback', action: 'Restore gateway v1.3.0 in production' }),
    });
    const { user } = renderApp('deploy');
    await user.click(await screen.findByRole('tab', { name: 'Roll back' }));
    const table = await screen.findByRole('table', { name: 'Versions' });

    // Two ticks compare the older (left) with the newer (right), whatever order they were ticked in.
    await user.click(within(table).getByRole('checkbox', { name: 'Compare v1.4.0' }));
    expect(screen.getByText('Tick two archived versions to compare their code.')).toBeInTheDocument();
    await user.click(within(table).getByRole('checkbox', { name: 'Compare v1.2.0' }));
    const compared = await screen.findByRole('region', { name: 'Compare two versions' });
    expect(within(compared).getByRole('heading', { name: 'v1.2.0 → v1.4.0' })).toBeInTheDocument();
    await within(compared).findByText('1 line added, 1 line removed.');
    expect(calls.find((c) => c.cmd === 'compare_bundles')?.args.request).toEqual({
      profileId: 'local-sandbox',
      left: { kind: 'bundle', sha256: 'aa'.repeat(32) },
      right: { kind: 'bundle', sha256: 'cc'.repeat(32) },
    });

    // The restore plan opens on its code: what runs now against the bundle restored.
    await user.click(within(table).getByRole('button', { name: 'Restore v1.3.0' }));
    const code = await screen.findAllByRole('group', { name: 'Code changes' });
    const planCode = code.at(-1);
    if (!planCode) {
      throw new Error('no code diff in the plan');
    }
    const diff = await within(planCode).findByRole('region', { name: 'Code changes, line by line' });
    expect(diff).toHaveTextContent('build: "old"');
    expect(diff).toHaveTextContent('build: "new"');
    expect(
      calls.filter((c) => c.cmd === 'compare_bundles').map((c) => c.args.request),
    ).toContainEqual({
      profileId: 'local-sandbox',
      left: { kind: 'running', service: 'gateway', environment: 'production' },
      right: { kind: 'bundle', sha256: 'bb'.repeat(32) },
    });
    // The code comes before the versions table of the plan.
    const planTable = screen.getByRole('table', { name: 'Plan: now and after' });
    expect(planCode.compareDocumentPosition(planTable) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it('says plainly when the code running now cannot be read, rather than showing it as empty', async () => {
    serve({
      prepare_deploy: () => prepared(),
      compare_bundles: () =>
        codeDiff({
          left: {
            source: 'the worker gateway in dotdo-production',
            available: false,
            absent: false,
            reason: 'What runs now was not deployed from this machine and its code cannot be fetched: no Cloudflare token.',
            sizeBytes: null,
            sha256: null,
            lines: null,
          },
          added: 0,
          removed: 0,
          hunks: [],
        }),
    });
    const { user } = renderApp('deploy');
    await user.type(await screen.findByRole('textbox', { name: 'Service folder' }), '/w/workers/gateway');
    await user.click(screen.getByRole('button', { name: 'Test, build and plan' }));
    const code = await screen.findByRole('group', { name: 'Code changes' });
    await within(code).findByText('The code running now could not be read, so the lines cannot be compared.');
    expect(code).toHaveTextContent('no Cloudflare token');
    expect(within(code).queryByRole('region')).not.toBeInTheDocument();
  });

  it('keeps only the last lines of a very long output', () => {
    let p = EMPTY_PROGRESS;
    for (let i = 0; i < MAX_LINES_PER_STEP + 5; i += 1) {
      p = applyEvent(p, { kind: 'output', runId: RUN, step: 'build', stream: 'stdout', line: `line ${i}`, atMs: i });
    }
    expect(p.steps.build?.lines).toHaveLength(MAX_LINES_PER_STEP);
    expect(p.steps.build?.dropped).toBe(5);
    expect(p.steps.build?.lines[0]?.line).toBe('line 5');
    expect(p.order).toEqual(['build']);
  });
});
