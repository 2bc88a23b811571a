import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { Rollout, RolloutPlan } from '../../ipc/types';
import { appInfo, deliverOnChannel, fullProfile, renderApp, sandboxProfile, serveIpc } from '../../test/render';
import { parseSteps } from './RolloutPanel';

const NEW = 'aaaaaaaa1111';
const STABLE = 'bbbbbbbb2222';

function plan(): RolloutPlan {
  return {
    profileId: 'local-sandbox',
    service: 'gateway',
    environment: 'production',
    namespace: 'dotdo-production',
    bundleSha256: 'cc'.repeat(32),
    bundleSize: 2048,
    stable: { versionId: STABLE, number: 3, createdOn: null, message: null },
    settings: { steps: [10, 50, 100], dwellSeconds: 60, maxErrorRatePct: 5, minRequests: 20, probePerSecond: 0, probePath: '/', operatorChecks: [] },
    warnings: ['No probe traffic: the error-rate gate judges only real requests.'],
    confirmation: { kind: 'typeName', phrase: 'gateway', reason: 'This changes production: type "gateway" to go ahead.' },
    action: 'Roll out gateway in production in steps (10 % → 50 % → 100 %)',
    basis: { currentDeploymentId: 'dep-1', currentLabel: 'version bbbbbbbb' },
  };
}

function rollout(overrides: Partial<Rollout> = {}): Rollout {
  return {
    id: 'rollout_1',
    profileId: 'local-sandbox',
    service: 'gateway',
    environment: 'production',
    namespace: 'dotdo-production',
    bundleSha256: 'cc'.repeat(32),
    newVersionId: NEW,
    stableVersionId: STABLE,
    settings: plan().settings,
    state: 'testing',
    step: null,
    percent: 0,
    stepStartedMs: null,
    startedMs: 1_750_000_000_000,
    updatedMs: 1_750_000_000_000,
    startedBy: 'ops',
    gate: null,
    events: [{ atMs: 1_750_000_000_000, kind: 'uploaded', message: 'Version aaaaaaaa uploaded at 0 % beside bbbbbbbb (100 %).' }],
    reason: null,
    awaitingChecks: false,
    ...overrides,
  };
}

describe('Staged rollout', () => {
  it('reads steps as whole percentages', () => {
    expect(parseSteps('10, 50, 100')).toEqual([10, 50, 100]);
    expect(parseSteps('5 % → 25% → 100')).toEqual([5, 25, 100]);
    expect(parseSteps('10, x')).toBeNull();
    expect(parseSteps('')).toBeNull();
  });

  it('plans with the code diff, starts only after the name is typed, tests pinned, and shows an automatic rollback with its reason', async () => {
    let channel: unknown;
    let finish: (r: Rollout) => void = () => undefined;
    const calls = serveIpc(appInfo(), {
      list_profiles: () => [fullProfile(sandboxProfile)],
      list_rollouts: () => [],
      rollout_plan: () => plan(),
      start_rollout: async (args) => {
        channel = args.onUpdate;
        return new Promise((resolve) => {
          finish = resolve;
        });
      },
      control_rollout: () => rollout({ state: 'stepping', step: 0, percent: 10 }),
      test_rollout_version: () => ({
        url: 'http://127.0.0.1:4610/services/production/gateway/',
        versionId: NEW,
        answers: [{ status: 200, ms: 4, body: 'v2 good', error: null }],
      }),
    });
    const { user } = renderApp('deploy');
    await user.click(await screen.findByRole('tab', { name: 'Staged rollout' }));
    const planButton = screen.getByRole('button', { name: 'Plan the rollout' });
    expect(planButton).toBeDisabled();
    await user.type(screen.getByRole('textbox', { name: 'Bundle file' }), '/w/dist/index.js');
    await user.click(planButton);

    const planned = await screen.findByRole('region', { name: 'Rollout plan and confirmation' });
    await within(planned).findByRole('group', { name: 'Code changes' });
    expect(planned).toHaveTextContent('Stable version bbbbbbbb');
    const go = within(planned).getByRole('button', { name: 'Roll out gateway in production in steps (10 % → 50 % → 100 %)' });
    expect(go).toBeDisabled();
    await user.type(within(planned).getByRole('textbox', { name: /Type/ }), 'gateway');
    await user.click(go);
    expect(calls.find((c) => c.cmd === 'start_rollout')?.args.start).toMatchObject({
      request: { service: 'gateway', environment: 'production', bundlePath: '/w/dist/index.js', settings: { steps: [10, 50, 100] } },
      bundleSha256: 'cc'.repeat(32),
      confirmation: { typed: 'gateway', basis: { currentDeploymentId: 'dep-1' } },
    });

    act(() => {
      deliverOnChannel(channel, 0, rollout());
    });
    const view = await screen.findByRole('region', { name: 'Rollout of gateway in production' });
    expect(within(view).getByRole('status')).toHaveTextContent('At 0 %: test it, then begin');
    await user.click(within(view).getByRole('button', { name: 'Test this version' }));
    const answers = await within(view).findByRole('table', { name: 'Answers of the new version' });
    expect(answers).toHaveTextContent('v2 good');
    await user.click(within(view).getByRole('button', { name: 'Begin: 10 %' }));
    expect(calls.find((c) => c.cmd === 'control_rollout')?.args).toEqual({ id: 'rollout_1', command: 'begin' });

    const why = 'Rolled back automatically: the new version\'s error rate was 33.3 % (4 of 12 requests failed) at 10 %, above the 5 % allowed.';
    await act(async () => {
      deliverOnChannel(
        channel,
        1,
        rollout({
          state: 'rolledBack',
          step: 0,
          percent: 0,
          reason: why,
          gate: {
            atMs: 1_750_000_010_000,
            percent: 10,
            healthOk: true,
            healthDetail: '/health answered 200',
            requests: 12,
            errors: 4,
            errorRatePct: 33.3,
            passed: false,
            summary: 'Gate of step 1 failed.',
          },
        }),
      );
      finish(rollout({ state: 'rolledBack', step: 0, percent: 0, reason: why }));
      await Promise.resolve();
    });
    await waitFor(() => {
      expect(within(view).getByRole('status')).toHaveTextContent('Rolled back automatically');
    });
    expect(view).toHaveTextContent(why);
    expect(within(view).queryByRole('button', { name: /Abort/ })).not.toBeInTheDocument();
  });

  it('holds a passing gate for the operator\'s checks and goes on only when all are ticked', async () => {
    const calls = serveIpc(appInfo(), {
      list_profiles: () => [fullProfile(sandboxProfile)],
      list_rollouts: () => [],
      rollout_plan: () => plan(),
      start_rollout: async (args) => {
        deliverLater = () => {
          deliverOnChannel(
            args.onUpdate,
            0,
            rollout({
              state: 'paused',
              step: 0,
              percent: 10,
              awaitingChecks: true,
              reason: 'The gate of step 1 passed its measures. Before the split moves on, confirm: dashboard calm; pager quiet.',
              settings: { ...plan().settings, operatorChecks: ['dashboard calm', 'pager quiet'] },
            }),
          );
        };
        return new Promise(() => undefined);
      },
      control_rollout: () => rollout({ state: 'stepping', step: 1, percent: 50 }),
    });
    let deliverLater: () => void = () => undefined;
    const { user } = renderApp('deploy');
    await user.click(await screen.findByRole('tab', { name: 'Staged rollout' }));
    await user.type(screen.getByRole('textbox', { name: 'Bundle file' }), '/w/dist/index.js');
    await user.type(screen.getByRole('textbox', { name: /Your checks at each gate/ }), 'dashboard calm{Enter}pager quiet');
    await user.click(screen.getByRole('button', { name: 'Plan the rollout' }));
    const planned = await screen.findByRole('region', { name: 'Rollout plan and confirmation' });
    await user.type(within(planned).getByRole('textbox', { name: /Type/ }), 'gateway');
    await user.click(within(planned).getByRole('button', { name: /Roll out gateway/ }));
    expect(calls.find((c) => c.cmd === 'rollout_plan')?.args.request).toMatchObject({
      settings: { operatorChecks: ['dashboard calm', 'pager quiet'] },
    });
    act(() => {
      deliverLater();
    });
    const checks = await screen.findByRole('group', { name: 'Your checks at this gate' });
    const go = within(checks).getByRole('button', { name: 'Checks done: go on to 50 %' });
    expect(go).toBeDisabled();
    await user.click(within(checks).getByRole('checkbox', { name: 'dashboard calm' }));
    expect(go).toBeDisabled();
    await user.click(within(checks).getByRole('checkbox', { name: 'pager quiet' }));
    await user.click(go);
    expect(calls.find((c) => c.cmd === 'control_rollout')?.args).toEqual({ id: 'rollout_1', command: 'advance' });
  });

  it('offers to take up or abort a rollout the app left when it stopped', async () => {
    const calls = serveIpc(appInfo(), {
      list_profiles: () => [fullProfile(sandboxProfile)],
      list_rollouts: () => [
        rollout({ state: 'interrupted', step: 0, percent: 10, reason: 'The app stopped while this rollout ran.' }),
      ],
      control_rollout: () => rollout({ state: 'aborted', step: 0, percent: 0 }),
    });
    const { user } = renderApp('deploy');
    await user.click(await screen.findByRole('tab', { name: 'Staged rollout' }));
    const view = await screen.findByRole('region', { name: 'Rollout of gateway in production' });
    expect(within(view).getByRole('status')).toHaveTextContent('Interrupted: the app stopped');
    expect(within(view).getByRole('button', { name: 'Take it up again' })).toBeInTheDocument();
    await user.click(within(view).getByRole('button', { name: 'Abort: all traffic back on the stable version' }));
    expect(calls.find((c) => c.cmd === 'control_rollout')?.args).toEqual({ id: 'rollout_1', command: 'abort' });
  });
});
