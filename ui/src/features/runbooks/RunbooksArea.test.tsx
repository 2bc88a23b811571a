import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { Runbook, RunbookStep, RunDetail, RunStep, StepPlan } from '../../ipc/types';
import {
  appInfo,
  deliverOnChannel,
  fail,
  type Handler,
  renderApp,
  serveIpc,
  stagingProfile,
} from '../../test/render';

const RUN = 'run-1';

function specStep(index: number, id: string, title: string, overrides: Partial<RunbookStep> = {}): RunbookStep {
  return { index, id, title, line: 10 + index * 5, markdown: '', checks: [], action: null, gate: false, condition: null, ...overrides };
}

const health = (service = '$service') => ({
  action: { kind: 'health' as const, target: 'services' as const, service: { from: 'input' as const, value: 'service' } },
  source: `switchyard health service=${service}`,
  line: 1,
  asks: [],
  mutates: false,
});

const SERVICE_DOWN: Runbook = {
  id: 'emergency-service-down',
  title: 'Service down – immediate rollback',
  category: 'Emergency procedures',
  replaces: 'Service Down - Immediate Rollback',
  summary: 'A service answers 500 or times out. Confirm it, roll it back at once.',
  inputs: [{ name: 'service', kind: 'service', default: null }],
  origin: 'builtIn',
  steps: [
    specStep(0, 'identify', 'Identify the affected service', {
      markdown: 'Check the service the alert named. <img src="https://evil.example/x.png"> **A failure here is expected.**',
      action: health(),
    }),
    specStep(1, 'rollback', 'Roll back immediately', {
      condition: { stepId: 'identify', stepIndex: 0, outcome: 'failed' },
      action: {
        action: { kind: 'rollback', service: { from: 'input', value: 'service' }, environment: null },
        source: 'switchyard rollback service=$service',
        line: 20,
        asks: [],
        mutates: true,
      },
    }),
    specStep(2, 'verify', 'Verify the service is restored', {
      gate: true,
      action: health(),
      checks: [{ text: 'The alert has **cleared**', line: 30 }],
    }),
    specStep(3, 'notify', 'Notify the team'),
  ],
};

const DEPLOY: Runbook = {
  id: 'deploy-service',
  title: 'Deploy a service',
  category: 'Deploying',
  replaces: 'Deploying a Service',
  summary: 'Test, build and deploy one service.',
  inputs: [
    { name: 'service', kind: 'service', default: null },
    { name: 'folder', kind: 'folder', default: null },
  ],
  origin: 'builtIn',
  steps: [
    specStep(0, 'test', 'Run the tests', {
      gate: true,
      action: {
        action: { kind: 'command', folder: { from: 'input', value: 'folder' }, command: 'pnpm test', timeoutSecs: 900 },
        source: 'switchyard command folder=$folder timeout=900\npnpm test',
        line: 12,
        asks: [],
        mutates: true,
      },
    }),
    specStep(1, 'build', 'Build the service'),
  ],
};

const TROUBLE_404: Runbook = {
  id: 'troubleshoot-deployed-404',
  title: 'Deployed but 404',
  category: 'Troubleshooting',
  replaces: 'Service Deployed but Returns 404',
  summary: 'The service is deployed but answers 404.',
  inputs: [],
  origin: 'builtIn',
  steps: [specStep(0, 'check', 'Check the namespace')],
};

const INVALID_KEY: Runbook = {
  id: 'issue-invalid-api-key',
  title: '“Invalid API key” (401)',
  category: 'Common issues',
  replaces: 'Issue: "Invalid API key" (401)',
  summary: 'The key is not valid.',
  inputs: [],
  origin: 'builtIn',
  steps: [specStep(0, 'test-the-key', 'Test the key'), specStep(1, 'new-key', 'Create a new key')],
};

const MINE: Runbook = {
  id: 'user/cache-purge',
  title: 'Purge the cache',
  category: 'My runbooks',
  replaces: null,
  summary: 'Our own procedure.',
  inputs: [],
  origin: { user: { path: '/home/op/.local/share/switchyard/runbooks/cache-purge.md' } },
  steps: [specStep(0, 'purge', 'Purge')],
};

const CATALOG = {
  runbooks: [DEPLOY, TROUBLE_404, SERVICE_DOWN, INVALID_KEY, MINE],
  problems: [
    {
      runbookId: 'user/broken',
      file: '/home/op/.local/share/switchyard/runbooks/broken.md',
      errors: [
        { line: 7, message: 'unknown action "rollbak" (known: health, deployments, rollback, …)' },
        { line: 12, message: 'a step has two switchyard blocks' },
      ],
    },
  ],
};

function runStep(index: number, runbook: Runbook, overrides: Partial<RunStep> = {}): RunStep {
  const spec = runbook.steps[index];
  return {
    index,
    id: spec?.id ?? `s${index}`,
    title: spec?.title ?? `Step ${index}`,
    state: 'pending',
    blocker: null,
    blockerMessage: null,
    outcome: null,
    skipReason: null,
    skippedByCondition: false,
    skipRefusal: null,
    attempts: 0,
    params: [],
    error: null,
    output: '',
    startedMs: null,
    finishedMs: null,
    by: null,
    checks: (spec?.checks ?? []).map((c, i) => ({ index: i, text: c.text, checked: false, atMs: null, by: null })),
    ...overrides,
  };
}

function run(
  runbook: Runbook,
  steps: Partial<RunStep>[] = [],
  overrides: Partial<RunDetail['summary']> = {},
  environment: RunDetail['environment'] = 'production',
): RunDetail {
  const all = runbook.steps.map((_, i) => runStep(i, runbook, steps[i] ?? {}));
  const count = (state: string) => all.filter((s) => s.state === state).length;
  const current = all.findIndex((s) => s.state === 'pending' || s.state === 'running' || s.state === 'interrupted');
  return {
    summary: {
      id: RUN,
      profileId: 'local-sandbox',
      runbookId: runbook.id,
      title: runbook.title,
      state: 'running',
      rehearsal: false,
      startedMs: 1_750_000_000_000,
      startedBy: 'alice@example.com',
      finishedMs: null,
      progress: {
        total: all.length,
        passed: count('passed'),
        failed: count('failed'),
        skipped: count('skipped'),
        interrupted: count('interrupted'),
        running: count('running'),
      },
      currentStep: current < 0 ? null : current,
      ...overrides,
    },
    runbook,
    profileName: 'Local sandbox',
    environment,
    inputs: { service: 'gateway' },
    steps: all,
    events: [{ seq: 1, stepIndex: null, atMs: 1_750_000_000_000, by: 'alice@example.com', kind: 'run.started', message: 'Run started' }],
    finishedBy: null,
    endReason: null,
    notReached: [],
    escalation: null,
  };
}

function plan(overrides: Partial<StepPlan> = {}): StepPlan {
  return {
    runId: RUN,
    stepIndex: 0,
    action: 'health',
    display: 'health service=gateway',
    summary: 'Check the health of gateway',
    params: [{ name: 'service', value: 'gateway' }],
    mutates: false,
    command: null,
    folder: null,
    timeoutSecs: null,
    confirmation: { kind: 'none', phrase: null, reason: 'Reads only; changes nothing.' },
    basis: null,
    ...overrides,
  };
}

function serve(handlers: Record<string, Handler> = {}, info = appInfo()) {
  return serveIpc(info, {
    runbook_catalog: () => CATALOG,
    list_runs: () => [],
    ...handlers,
  });
}

/** Open the Runbooks area on a run that is already open (as after a restart). */
async function openRun(detail: RunDetail, handlers: Record<string, Handler> = {}) {
  const calls = serve({ list_runs: () => [detail.summary], run_detail: () => detail, ...handlers });
  const rendered = renderApp('runbooks');
  await rendered.user.click(await screen.findByRole('button', { name: `Resume ${detail.runbook.title}` }));
  await screen.findByRole('list', { name: `Steps of ${detail.runbook.title}` });
  return { calls, ...rendered };
}

function stepItem(name: RegExp) {
  return screen.getByRole('listitem', { name });
}

describe('Runbooks area', () => {
  it('lists the runbooks by category, emergencies first, with broken user files and where they live', async () => {
    serve();
    const { user } = renderApp('runbooks');
    const side = await screen.findByRole('complementary', { name: 'Runbooks and runs' });
    const groups = await within(side).findAllByRole('region');
    expect(groups.map((g) => g.getAttribute('aria-label'))).toEqual([
      'Emergency procedures',
      'Troubleshooting',
      'Common issues',
      'Deploying',
      'My runbooks',
    ]);
    const emergency = within(groups[0] as HTMLElement).getByRole('button', { name: 'Service down – immediate rollback' });
    expect(emergency).toHaveTextContent('A service answers 500 or times out.');
    expect(emergency).toHaveTextContent('Runbook section: Service Down - Immediate Rollback');

    // A broken file is listed with its mistakes and lines; every other runbook still is.
    const broken = screen.getByRole('alert', { name: 'One of your runbooks did not load' });
    expect(broken).toHaveTextContent('/home/op/.local/share/switchyard/runbooks/broken.md');
    expect(within(broken).getByRole('list', { name: /Mistakes in/ })).toHaveTextContent('Line 7: unknown action "rollbak"');
    expect(broken).toHaveTextContent('Line 12: a step has two switchyard blocks');
    expect(screen.getByRole('button', { name: 'Purge the cache' })).toHaveTextContent('yours');
    expect(side).toHaveTextContent('Markdown files in /home/op/.local/share/switchyard/runbooks');

    await user.type(screen.getByRole('textbox', { name: 'Search runbooks' }), '404');
    expect(screen.getByRole('button', { name: 'Deployed but 404' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Service down – immediate rollback' })).not.toBeInTheDocument();
  });

  it('starts a rehearsal with the inputs the runbook declares, picked from the profile', async () => {
    const calls = serve({ start_run: () => run(SERVICE_DOWN, [], { rehearsal: true }), run_detail: () => run(SERVICE_DOWN, [], { rehearsal: true }) });
    const { user } = renderApp('runbooks');
    await user.click(await screen.findByRole('button', { name: 'Service down – immediate rollback' }));
    expect(screen.getByRole('heading', { name: 'Service down – immediate rollback' })).toBeInTheDocument();
    const start = screen.getByRole('button', { name: 'Start rehearsal' });
    expect(start).toBeDisabled();
    expect(screen.getByText('Fill in: Service.')).toBeInTheDocument();
    expect(screen.getByRole('switch', { name: 'Rehearsal' })).toBeChecked();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Service' }), 'gateway');
    await user.click(start);

    expect(calls.find((c) => c.cmd === 'start_run')?.args).toEqual({
      profileId: 'local-sandbox',
      runbookId: 'emergency-service-down',
      inputs: { service: 'gateway' },
      rehearsal: true,
    });
    expect(await screen.findByRole('status', { name: 'Progress' })).toHaveTextContent('0 of 4 steps done');
    expect(screen.getByRole('region', { name: 'Run header' })).toHaveTextContent('Local sandbox · PRODUCTIONRehearsal');
    // The current step is open and marked; its Markdown is rendered without the HTML.
    const first = stepItem(/^1\. Identify the affected service: to do/);
    expect(first).toHaveAttribute('aria-current', 'step');
    expect(within(first).getByText('A failure here is expected.').tagName).toBe('STRONG');
    expect(first.querySelector('img')).toBeNull();
    expect(within(first).getByRole('button', { name: 'Run' })).toBeInTheDocument();
  });

  it('runs a command step after its plan is read and confirmed, with the output streaming in and Stop', async () => {
    let channel: unknown;
    let finish: (detail: RunDetail) => void = () => undefined;
    const commandPlan = plan({
      action: 'command',
      display: 'command folder=/w/workers/gateway timeout=900',
      summary: 'Run `pnpm test` in /w/workers/gateway',
      mutates: true,
      command: 'pnpm test',
      folder: '/w/workers/gateway',
      timeoutSecs: 900,
      confirmation: { kind: 'confirm', phrase: 'pnpm test', reason: 'Runs this command on this computer, in /w/workers/gateway, for at most 900 s.' },
    });
    const { user, calls } = await openRun(run(DEPLOY), {
      step_plan: () => commandPlan,
      run_step: (args) => {
        channel = args.onOutput;
        return new Promise((resolve) => {
          finish = resolve;
        });
      },
      stop_step: () => true,
    });
    const step = stepItem(/^1\. Run the tests/);
    await user.click(within(step).getByRole('button', { name: 'Run' }));

    const planBox = await within(step).findByRole('region', { name: 'Plan of this step' });
    expect(within(planBox).getByLabelText('Command to run')).toHaveTextContent('pnpm test');
    expect(planBox).toHaveTextContent('In folder /w/workers/gateway, stopped after 900 s');
    const go = within(planBox).getByRole('button', { name: 'Run this command' });
    expect(go).toBeDisabled();
    await user.click(within(planBox).getByRole('checkbox', { name: 'I have read the command above and want to run it' }));
    await user.click(go);

    expect(calls.find((c) => c.cmd === 'run_step')?.args).toMatchObject({
      runId: RUN,
      stepIndex: 0,
      request: { values: {}, confirmation: 'pnpm test' },
    });
    act(() => {
      deliverOnChannel(channel, 0, { runId: RUN, stepIndex: 0, text: '> vitest run\n' });
      deliverOnChannel(channel, 1, { runId: RUN, stepIndex: 0, text: '12 tests passed\n' });
    });
    expect(stepItem(/^1\. Run the tests: running/)).toBeInTheDocument();
    expect(screen.getByLabelText('Output of Run the tests')).toHaveTextContent('> vitest run 12 tests passed');
    await user.click(screen.getByRole('button', { name: 'Stop' }));
    expect(calls.find((c) => c.cmd === 'stop_step')?.args).toEqual({ runId: RUN, stepIndex: 0 });

    await act(async () => {
      finish(run(DEPLOY, [{ state: 'passed', outcome: 'passed', output: '> vitest run\n12 tests passed\n', finishedMs: 1_750_000_060_000 }]));
      await Promise.resolve();
    });
    expect(await screen.findByRole('listitem', { name: /^1\. Run the tests: passed/ })).toBeInTheDocument();
    expect(screen.getByRole('status', { name: 'Progress' })).toHaveTextContent('1 of 2 steps done');
    // The next step is now the current one, open, with "Mark done" (no action, no checks).
    const next = stepItem(/^2\. Build the service: to do/);
    expect(next).toHaveAttribute('aria-current', 'step');
    expect(within(next).getByRole('button', { name: 'Mark done' })).toBeInTheDocument();
  });

  it('needs the service name typed before a production rollback', async () => {
    const rollbackPlan = plan({
      stepIndex: 1,
      action: 'rollback',
      display: 'rollback service=gateway environment=production',
      summary: 'Roll back gateway in production to v1.3.0',
      mutates: true,
      confirmation: { kind: 'typeName', phrase: 'gateway', reason: 'Production: type the service name.' },
      basis: { currentDeploymentId: 'deploy_b', currentLabel: 'v1.4.0' },
    });
    const { user, calls } = await openRun(run(SERVICE_DOWN, [{ state: 'failed', outcome: 'failed', error: 'gateway answered 500' }]), {
      step_plan: () => rollbackPlan,
      run_step: () => run(SERVICE_DOWN, [{ state: 'failed', outcome: 'failed' }, { state: 'passed', outcome: 'passed' }]),
    });
    expect(stepItem(/^1\. Identify the affected service: failed/)).toBeInTheDocument();
    const step = stepItem(/^2\. Roll back immediately: to do/);
    await user.click(within(step).getByRole('button', { name: 'Run' }));
    expect(calls.find((c) => c.cmd === 'step_plan')?.args).toEqual({ runId: RUN, stepIndex: 1, values: {} });
    const go = await within(step).findByRole('button', { name: 'Roll back gateway in production to v1.3.0' });
    expect(within(step).getByLabelText('Parameters')).toHaveTextContent('servicegateway');
    const typed = within(step).getByRole('textbox', { name: 'Type gateway to confirm' });
    await user.type(typed, 'gatewy');
    expect(go).toBeDisabled();
    await user.clear(typed);
    await user.type(typed, 'gateway');
    await user.click(go);
    expect(calls.find((c) => c.cmd === 'run_step')?.args).toMatchObject({
      stepIndex: 1,
      request: { values: {}, confirmation: 'gateway', basis: { currentDeploymentId: 'deploy_b' } },
    });
    expect(await screen.findByRole('listitem', { name: /^2\. Roll back immediately: passed/ })).toBeInTheDocument();
  });

  it("offers the logs of the step's service beside Run", async () => {
    await openRun(run(SERVICE_DOWN, [{ state: 'failed', outcome: 'failed', error: 'gateway answered 500' }]), {});
    const step = stepItem(/^2\. Roll back immediately: to do/);
    expect(within(step).getByRole('button', { name: 'Logs for gateway' })).toBeInTheDocument();
  });

  it('shows a gate lock on the steps after it, and offers no skip for a gate the engine refuses to skip', async () => {
    const gateBlocker = { kind: 'gate' as const, stepIndex: 2, stepTitle: 'Verify the service is restored' };
    const refusal = 'Step 3 "Verify the service is restored" is a gate in front of step 4 "Redeploy", which changes things: it must pass, so it cannot be skipped.';
    await openRun(
      run(SERVICE_DOWN, [
        { state: 'failed', outcome: 'failed' },
        { state: 'passed', outcome: 'passed' },
        { skipRefusal: refusal },
        { blocker: gateBlocker, blockerMessage: 'Waiting for the gate' },
      ]),
    );
    const locked = stepItem(/^4\. Notify the team: to do, locked/);
    expect(locked).toHaveTextContent('Locked until “Verify the service is restored” passes.');
    expect(within(locked).queryByRole('button', { name: 'Mark done' })).not.toBeInTheDocument();

    const gate = stepItem(/^3\. Verify the service is restored: to do/);
    expect(within(gate).getByText('gate')).toBeInTheDocument();
    expect(within(gate).queryByRole('button', { name: 'Skip…' })).not.toBeInTheDocument();
    expect(gate).toHaveTextContent('it must pass, so it cannot be skipped');
    expect(within(gate).getByRole('checkbox', { name: 'The alert has cleared' })).not.toBeChecked();
  });

  it('skips a step only with a reason, and shows the reason', async () => {
    const { user, calls } = await openRun(run(SERVICE_DOWN, [{ state: 'passed', outcome: 'passed' }, { state: 'skipped', skippedByCondition: true, skipReason: '“Identify the affected service” did not fail' }]), {
      skip_step: () =>
        run(SERVICE_DOWN, [
          { state: 'passed' },
          { state: 'skipped', skippedByCondition: true, skipReason: '“Identify the affected service” did not fail' },
          { state: 'passed' },
          { state: 'skipped', skipReason: 'Told the team on the phone', by: 'alice@example.com' },
        ]),
    });
    expect(stepItem(/^2\. Roll back immediately: skipped/)).toHaveTextContent('Skipped: “Identify the affected service” did not fail');
    // The gate is current; move to the next step with the keyboard.
    await user.keyboard('j');
    const notify = stepItem(/^4\. Notify the team/);
    await user.click(within(notify).getByRole('button', { name: 'Skip…' }));
    const skip = within(notify).getByRole('button', { name: 'Skip this step' });
    expect(skip).toBeDisabled();
    await user.type(within(notify).getByRole('textbox', { name: 'Why skip this step?' }), 'Told the team on the phone');
    await user.click(skip);
    expect(calls.find((c) => c.cmd === 'skip_step')?.args).toEqual({ runId: RUN, stepIndex: 3, reason: 'Told the team on the phone' });
    await waitFor(() => {
      expect(stepItem(/^4\. Notify the team: skipped/)).toHaveTextContent('Skipped: Told the team on the phone');
    });
  });

  it('shows a step interrupted by a restart with its partial output, and retries it', async () => {
    const interrupted = run(SERVICE_DOWN, [{ state: 'interrupted', output: 'checking gateway…\n', attempts: 1, startedMs: 1_750_000_001_000 }]);
    const { user, calls } = await openRun(interrupted, {
      step_plan: () => plan(),
      run_step: () => run(SERVICE_DOWN, [{ state: 'failed', outcome: 'failed', error: 'gateway answered 503', output: 'checking gateway…\ngateway: 503\n' }]),
    });
    const step = stepItem(/^1\. Identify the affected service: interrupted/);
    expect(within(step).getByRole('alert', { name: 'Interrupted' })).toHaveTextContent('Switchyard stopped while this step was running');
    expect(within(step).getByLabelText('Output of Identify the affected service')).toHaveTextContent('checking gateway…');
    await user.click(within(step).getByRole('button', { name: 'Retry' }));
    // A read-only action runs without a confirmation.
    await waitFor(() => {
      expect(calls.find((c) => c.cmd === 'run_step')?.args).toMatchObject({ stepIndex: 0, request: { values: {}, confirmation: null } });
    });
    const failed = await screen.findByRole('listitem', { name: /^1\. Identify the affected service: failed/ });
    expect(failed).toHaveTextContent('Failed: gateway answered 503');
  });

  it('finishes a run and copies its incident report', async () => {
    const settled = run(SERVICE_DOWN, [{ state: 'failed' }, { state: 'passed' }, { state: 'passed' }, { state: 'passed' }]);
    const report = '# Incident report: Service down – immediate rollback\n\nRehearsal: no\n\n## Timeline\n\n- 03:02 Identify the affected service — failed\n';
    const { user, calls } = await openRun(settled, {
      finish_run: () => ({ ...settled, summary: { ...settled.summary, state: 'finished', finishedMs: 1_750_000_900_000 }, finishedBy: 'alice@example.com' }),
      incident_report: () => report,
    });
    expect(screen.getByRole('status', { name: 'Progress' })).toHaveTextContent('3 of 4 steps done, 1 failed');
    await user.click(screen.getByRole('button', { name: 'Finish run' }));
    expect(calls.find((c) => c.cmd === 'finish_run')?.args).toEqual({ runId: RUN });
    expect(await screen.findByRole('alert', { name: 'Run finished' })).toHaveTextContent('by alice@example.com');
    const preview = await screen.findByRole('document', { name: 'Incident report preview' });
    expect(within(preview).getByRole('heading', { name: 'Incident report: Service down – immediate rollback' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Copy incident report' }));
    expect(await navigator.clipboard.readText()).toBe(report);
    expect(await screen.findByRole('button', { name: 'Copied' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Finish run' })).not.toBeInTheDocument();
  });

  it('ends a run whose gate failed as escalated, without the steps behind the gate', async () => {
    const gateBlocker = { kind: 'gate' as const, stepIndex: 2, stepTitle: 'Verify the service is restored' };
    const why = 'the procedure did not fix the problem: step 3 "Verify the service is restored" failed; step 4 not reached';
    const stuck = {
      ...run(SERVICE_DOWN, [
        { state: 'failed', outcome: 'failed' },
        { state: 'passed', outcome: 'passed' },
        { state: 'failed', outcome: 'failed' },
        { blocker: gateBlocker, blockerMessage: 'Waiting for the gate' },
      ]),
      notReached: [3],
      escalation: why,
    };
    const { user, calls } = await openRun(stuck, {
      finish_run: () => ({
        ...stuck,
        summary: { ...stuck.summary, state: 'escalated', finishedMs: 1_750_000_900_000 },
        finishedBy: 'alice@example.com',
        endReason: why,
        notReached: [],
        escalation: null,
      }),
      incident_report: () => '# Incident report\n',
    });
    expect(screen.getByRole('alert', { name: 'The procedure did not fix it' })).toHaveTextContent('Follow the escalation steps');
    expect(screen.getByText(`Finishing now ends the run escalated: ${why}.`)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Finish run' }));
    expect(calls.find((c) => c.cmd === 'finish_run')?.args).toEqual({ runId: RUN });
    expect(await screen.findByRole('alert', { name: 'Run escalated' })).toHaveTextContent('step 4 not reached');
    expect(screen.getByText('Run escalated', { selector: '.mantine-Badge-label' })).toBeInTheDocument();
  });

  it('opens the runbook an error points at, at its step', async () => {
    const calls = serve({
      sync_history: fail({ code: 'InvalidApiKey', message: 'deploy.do answered 401', runbook: 'Issue: "Invalid API key" (401)' }),
      runbook_for_error: () => ({ runbookId: 'issue-invalid-api-key', stepId: 'new-key', heading: 'Issue: "Invalid API key" (401)' }),
    });
    const { user } = renderApp('deployments');
    await screen.findByText('Never synced');
    await user.click(screen.getByRole('button', { name: 'Sync history' }));
    const open = await within(await screen.findByRole('alert')).findByRole('button', { name: 'Open runbook: “Invalid API key” (401)' });
    expect(calls.find((c) => c.cmd === 'runbook_for_error')?.args).toEqual({ section: 'Issue: "Invalid API key" (401)' });
    await user.click(open);
    expect(await screen.findByRole('heading', { level: 1, name: 'Runbooks' })).toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 2, name: '“Invalid API key” (401)' })).toBeInTheDocument();
    expect(screen.getByRole('alert', { name: 'Where to look' })).toHaveTextContent('step 2: “Create a new key”');
    expect(screen.getByRole('button', { name: '“Invalid API key” (401)' })).toHaveAttribute('aria-current', 'true');
  });

  it('has no rehearsals on a real platform, and says why', async () => {
    serve({}, appInfo({ activeProfile: stagingProfile.id }));
    const { user } = renderApp('runbooks');
    await user.click(await screen.findByRole('button', { name: 'Service down – immediate rollback' }));
    expect(screen.queryByRole('tab', { name: 'Rehearsal' })).not.toBeInTheDocument();
    const rehearsal = screen.getByRole('switch', { name: 'Rehearsal' });
    expect(rehearsal).toBeDisabled();
    expect(rehearsal).not.toBeChecked();
    expect(screen.getByText(/Rehearsals run on the Local sandbox only; “dotdo staging” is a real platform/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Start run' })).toBeInTheDocument();
  });

  it('injects and clears sandbox faults on a sandbox profile', async () => {
    const fault = { target: 'service:gateway', mode: 'error', description: 'gateway answers 500 until rolled back' };
    const calls = serve({
      sandbox_faults: () => [],
      inject_fault: () => [fault],
      clear_fault: () => [],
    });
    const { user } = renderApp('runbooks');
    await user.click(await screen.findByRole('tab', { name: 'Rehearsal' }));
    expect(await screen.findByText('None: the sandbox is healthy.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Inject fault' }));
    expect(calls.find((c) => c.cmd === 'inject_fault')?.args).toEqual({
      profileId: 'local-sandbox',
      fault: { kind: 'badDeploy', service: 'gateway' },
      runId: null,
    });
    const active = screen.getByRole('region', { name: 'Active faults' });
    expect(await within(active).findByText('gateway answers 500 until rolled back')).toBeInTheDocument();
    await user.click(within(active).getByRole('button', { name: 'Clear fault: gateway answers 500 until rolled back' }));
    expect(calls.find((c) => c.cmd === 'clear_fault')?.args).toEqual({ profileId: 'local-sandbox', target: 'service:gateway', runId: null });
    expect(await within(active).findByText('None: the sandbox is healthy.')).toBeInTheDocument();
  });

  it('shows an open run in the status bar and opens it from there', async () => {
    const detail = run(SERVICE_DOWN, [{ state: 'passed' }, { state: 'interrupted' }]);
    serve({ list_runs: () => [detail.summary], run_detail: () => detail });
    const { user } = renderApp();
    const inStatus = await screen.findByRole('button', {
      name: 'Run in progress: Service down – immediate rollback — 1 of 4 steps done. Open the run.',
    });
    await user.click(inStatus);
    expect(await screen.findByRole('listitem', { name: /^2\. Roll back immediately: interrupted/ })).toHaveAttribute('aria-current', 'step');
  });
});
