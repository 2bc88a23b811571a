import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { HealthBoard, HealthPoint, RollbackPlan, ServiceHealth, SuspectDeployment } from '../../ipc/types';
import { appInfo, deployment, fail, type Handler, renderApp, sandboxRuntime, serveIpc } from '../../test/render';
import { collapse } from './HealthMonitor';
import { sparkGeometry } from './Sparkline';

const CHECKED_AT = 1_750_000_000_000;

function result(overrides: Partial<ServiceHealth> = {}): ServiceHealth {
  return {
    name: 'gateway',
    kind: 'service',
    url: 'https://gateway.do/health',
    state: 'up',
    httpStatus: 200,
    latencyMs: 42,
    detail: null,
    runbook: null,
    changed: false,
    previousState: 'up',
    lastChangeMs: null,
    suspect: null,
    ...overrides,
  };
}

function board(results: ServiceHealth[], overrides: Partial<HealthBoard> = {}): HealthBoard {
  const services = results.filter((r) => r.kind === 'service');
  const healthy = services.filter((r) => r.state !== 'down').length;
  return {
    checkedAtMs: CHECKED_AT,
    results,
    summary: { healthy, total: services.length, text: `${healthy}/${services.length} services healthy` },
    notifications: [],
    ...overrides,
  };
}

const MIXED = board([
  result({ name: 'gateway', lastChangeMs: CHECKED_AT - 5 * 60_000 }),
  result({
    name: 'db',
    state: 'down',
    httpStatus: 503,
    latencyMs: 12,
    detail: 'Answered 503 Service Unavailable',
    runbook: 'Troubleshooting',
    previousState: 'up',
  }),
  result({ name: 'dispatcher', kind: 'dispatcher', url: 'http://127.0.0.1:4611/health', latencyMs: 7 }),
  result({ name: 'deploy-api', kind: 'deployApi', state: 'upNeedsKey', httpStatus: 401, latencyMs: 9 }),
]);

const HISTORY: HealthPoint[] = [
  { atMs: CHECKED_AT - 50 * 60_000, up: true, latencyMs: 40, samples: 1 },
  { atMs: CHECKED_AT - 30 * 60_000, up: false, latencyMs: null, samples: 1 },
  { atMs: CHECKED_AT - 10 * 60_000, up: true, latencyMs: 80, samples: 1 },
];

function serve(
  boards: (HealthBoard | Error)[],
  history: HealthPoint[] | 'fail' = HISTORY,
  handlers: Record<string, Handler> = {},
) {
  let n = 0;
  return serveIpc(appInfo(), {
    ...handlers,
    check_health: () => {
      const next = boards[Math.min(n, boards.length - 1)];
      n += 1;
      if (next instanceof Error) {
        return fail({ code: 'Unreachable', message: next.message, runbook: 'Troubleshooting' })({});
      }
      return next;
    },
    health_history:
      history === 'fail'
        ? fail({ code: 'Internal', message: 'The health history could not be read.' })
        : () => history,
  });
}

function healthTable() {
  return screen.findByRole('table', { name: 'Service health' });
}

describe('Health area', () => {
  it('shows one row per target with its status, code, latency, last change and sparkline', async () => {
    const calls = serve([MIXED]);
    renderApp('health');
    const table = await healthTable();
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(4);

    const gateway = within(table).getByRole('row', { name: /^gateway/ });
    expect(within(gateway).getByText('Up')).toBeInTheDocument();
    expect(within(gateway).getByText('200')).toBeInTheDocument();
    expect(within(gateway).getByText('42')).toBeInTheDocument();
    expect(within(gateway).getByText(/ago/)).toBeInTheDocument();

    const db = within(table).getByRole('row', { name: /^db/ });
    expect(within(db).getByText('Down')).toBeInTheDocument();
    expect(within(db).getByText('503')).toBeInTheDocument();
    expect(within(db).getByText('Answered 503 Service Unavailable')).toBeInTheDocument();
    // The runbook section is said as text (not dressed as a link), with a real button that opens it.
    expect(within(db).getByText('Runbook section: “Troubleshooting”')).toBeInTheDocument();
    expect(within(db).getByText('Not in the last 24 h')).toBeInTheDocument();

    const deployApi = within(table).getByRole('row', { name: /^deploy-api/ });
    expect(within(deployApi).getByText('Up, needs key')).toBeInTheDocument();

    const spark = await within(db).findByRole('img', { name: 'Latency and availability of db over the last hour' });
    expect(spark).toHaveAttribute('data-points', '3');
    expect(spark).toHaveAttribute('data-down', '1');
    expect(within(table).getAllByRole('img', { name: /Latency and availability of/ })).toHaveLength(4);

    expect(screen.getByRole('status', { name: 'Health summary' })).toHaveTextContent('1/2 services healthy');
    expect(screen.getByText(/^Last checked/)).toBeInTheDocument();

    const check = calls.find((c) => c.cmd === 'check_health');
    expect(check?.args).toEqual({ profileId: 'local-sandbox', timeoutMs: 5000 });
    const history = calls.find((c) => c.cmd === 'health_history' && c.args.target === 'db');
    expect(history?.args).toEqual({ profileId: 'local-sandbox', target: 'db', sinceMs: CHECKED_AT - 3_600_000 });
  });

  it("opens a down service's runbook section from its row", async () => {
    serve([MIXED], HISTORY, {
      runbook_for_error: () => ({ runbookId: 'troubleshoot-deploy-500', stepId: null, heading: 'Troubleshooting' }),
    });
    const { user } = renderApp('health');
    const table = await healthTable();
    const db = within(table).getByRole('row', { name: /^db/ });
    await user.click(await within(db).findByRole('button', { name: 'Open runbook: Troubleshooting' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Runbooks' })).toBeInTheDocument();
  });

  it("opens the incident timeline around a down service's outage from its row", async () => {
    const calls = serve([MIXED], HISTORY);
    const { user } = renderApp('health');
    const table = await healthTable();
    const db = within(table).getByRole('row', { name: /^db/ });
    await user.click(within(db).getByRole('button', { name: 'Open the incident timeline of db' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Audit' })).toBeInTheDocument();
    expect(await screen.findByRole('tab', { name: 'Timeline', selected: true })).toBeInTheDocument();
    await waitFor(() => {
      expect(calls.some((c) => c.cmd === 'timeline')).toBe(true);
    });
  });

  it('colours the summary by how many services are healthy', async () => {
    serve([board([result({ name: 'gateway' }), result({ name: 'db' })])]);
    renderApp('health');
    const summary = await screen.findByRole('status', { name: 'Health summary' });
    await waitFor(() => {
      expect(summary).toHaveTextContent('2/2 services healthy');
    });
    expect(summary).toHaveAttribute('data-color', 'green');
  });

  it('checks again on "Check now"', async () => {
    const second = board([result({ name: 'gateway', latencyMs: 99 })], { checkedAtMs: CHECKED_AT + 60_000 });
    const calls = serve([MIXED, second]);
    const { user } = renderApp('health');
    await healthTable();
    await user.click(screen.getByRole('button', { name: 'Check now' }));
    await waitFor(() => {
      expect(within(screen.getByRole('table', { name: 'Service health' })).getAllByRole('row')).toHaveLength(2);
    });
    expect(screen.getByText('99')).toBeInTheDocument();
    expect(calls.filter((c) => c.cmd === 'check_health')).toHaveLength(2);
  });

  it('offers check intervals, 30 seconds by default', async () => {
    serve([MIXED]);
    const { user } = renderApp('health');
    const select = await screen.findByRole('combobox', { name: 'Check every' });
    expect(select).toHaveDisplayValue('30 seconds');
    expect(within(select).getAllByRole('option').map((o) => o.textContent)).toEqual([
      'Off',
      '10 seconds',
      '30 seconds',
      '1 minute',
      '5 minutes',
    ]);
    await user.selectOptions(select, 'Off');
    expect(select).toHaveDisplayValue('Off');
    expect(await screen.findByText(/automatic checks are off/)).toBeInTheDocument();
  });

  it('shows the notifications a check raised, until dismissed', async () => {
    const changed = board(
      [
        result({ name: 'db', state: 'down', changed: true, detail: 'timed out', runbook: 'Troubleshooting' }),
        result({ name: 'gateway' }),
      ],
      {
        notifications: [
          { target: 'db', state: 'down', title: 'db is down', body: 'timed out. See the runbook: Troubleshooting.' },
        ],
      },
    );
    serve([changed, board([result({ name: 'db', state: 'down' }), result({ name: 'gateway' })])]);
    const { user } = renderApp('health');
    const notices = await screen.findByRole('region', { name: 'Health notifications' });
    expect(within(notices).getByText('db is down')).toBeInTheDocument();
    expect(within(notices).getByText(/See the runbook: Troubleshooting/)).toBeInTheDocument();
    expect(within(notices).queryByText(/gateway/)).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Dismiss: db is down' }));
    expect(screen.queryByText('db is down')).not.toBeInTheDocument();

    // A check that raised nothing (the engine rate-limits) shows nothing new.
    await user.click(screen.getByRole('button', { name: 'Check now' }));
    await waitFor(() => {
      expect(screen.getByRole('button', { name: 'Check now' })).toBeEnabled();
    });
    expect(screen.queryByText('db is down')).not.toBeInTheDocument();
  });

  it('shows the health summary in the status bar from any area, and opens Health from it', async () => {
    serve([board([result({ name: 'gateway' }), result({ name: 'db', state: 'down' })])]);
    const { user } = renderApp('settings');
    const glance = await screen.findByRole('button', { name: /Health: 1\/2 services healthy/ });
    await user.click(glance);
    expect(await screen.findByRole('table', { name: 'Service health' })).toBeInTheDocument();
  });

  it('shows a failed check with ErrorNotice and keeps the last board', async () => {
    serve([MIXED, new Error('The health prober could not start.')]);
    const { user } = renderApp('health');
    await healthTable();
    await user.click(screen.getByRole('button', { name: 'Check now' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Checking health failed');
    expect(alert).toHaveTextContent('The health prober could not start.');
    expect(screen.getByText('The board below is from the last check that worked.')).toBeInTheDocument();
    expect(screen.getByRole('table', { name: 'Service health' })).toBeInTheDocument();
  });

  it('shows a first failed check with a way to try again', async () => {
    const calls = serve([new Error('No route to the services.'), MIXED]);
    const { user } = renderApp('health');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'Unreachable');
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await healthTable()).toBeInTheDocument();
    expect(calls.filter((c) => c.cmd === 'check_health')).toHaveLength(2);
  });

  it('says so when a history cannot be read, without hiding the board', async () => {
    serve([MIXED], 'fail');
    renderApp('health');
    const table = await healthTable();
    await waitFor(() => {
      expect(within(table).getAllByText('History unavailable (Internal)')).toHaveLength(4);
    });
  });

  it('says how to fill an empty board', async () => {
    serve([board([])]);
    renderApp('health');
    expect(await screen.findByText(/This profile has nothing to check/)).toBeInTheDocument();
  });
});

/** Today at 14:07 local time: the banner shows a failure of today as "14:07". */
function todayAt(hours: number, minutes: number): number {
  const d = new Date();
  d.setHours(hours, minutes, 0, 0);
  return d.getTime();
}

function suspect(overrides: Partial<SuspectDeployment> = {}): SuspectDeployment {
  return {
    deploymentId: 'deploy_1740830400000_abcdef01',
    service: 'db',
    versionTag: 'v1.4.0',
    commit: 'abc1234',
    author: 'alice',
    deployedAtMs: todayAt(14, 4),
    failingSinceMs: todayAt(14, 7),
    minutesAfter: 3,
    ...overrides,
  };
}

const SUSPECTED = board([
  result({ name: 'gateway' }),
  result({
    name: 'db',
    state: 'down',
    httpStatus: 500,
    detail: 'Answered 500 Internal Server Error',
    suspect: suspect(),
  }),
]);

const ROLLBACK_PLAN: RollbackPlan = {
  profileId: 'local-sandbox',
  service: 'db',
  environment: 'production',
  current: deployment({ id: 'deploy_1740830400000_abcdef01', service: 'db', versionTag: 'v1.4.0' }),
  becomesCurrent: deployment({ id: 'deploy_1740826800000_abcdef00', service: 'db', versionTag: 'v1.3.0' }),
  previousBundleArchived: true,
  blockedReason: null,
  warnings: [],
  confirmation: { kind: 'typeName', phrase: 'db', reason: 'Production: type the service name.' },
  action: 'Roll db back to v1.3.0',
  basis: { currentDeploymentId: 'deploy_1740830400000_abcdef01', currentLabel: 'v1.4.0' },
};

describe('Health and deployments', () => {
  it('names the deployment a failing service came shortly after, with Roll back and Logs', async () => {
    serve([SUSPECTED]);
    renderApp('health');
    const alert = await screen.findByRole('alert', {
      name: 'db failing since 14:07, 3 min after v1.4.0 (commit abc1234, by alice)',
    });
    expect(alert).toHaveTextContent('Roll back opens the rollback plan in Deploy: nothing changes until you confirm it there.');
    const rollBack = within(alert).getByRole('button', { name: 'Roll back db' });
    expect(rollBack).toHaveTextContent('Roll back');
    const logs = within(alert).getByRole('button', { name: 'Logs for db' });
    expect(logs).toHaveTextContent('Logs');
    // Only services with a suspect get a banner.
    expect(screen.queryByRole('alert', { name: /^gateway/ })).not.toBeInTheDocument();
    // The status bar says it briefly, and opens Health.
    expect(screen.getByRole('button', { name: 'db failing after v1.4.0. Open Health.' })).toBeInTheDocument();
  });

  it('names the deployment by its id when it has no version tag, and leaves out an unknown start', async () => {
    serve([
      board([
        result({
          name: 'db',
          state: 'down',
          suspect: suspect({ versionTag: null, failingSinceMs: null, minutesAfter: 12 }),
        }),
      ]),
    ]);
    renderApp('health');
    expect(
      await screen.findByRole('alert', {
        name: 'db failing, 12 min after deploy_1740830400000_abcdef01 (commit abc1234, by alice)',
      }),
    ).toBeInTheDocument();
  });

  it('opens the rollback plan of the service from "Roll back", and rolls nothing back by itself', async () => {
    const calls = serve([SUSPECTED], HISTORY, {
      rollback_plan: () => ROLLBACK_PLAN,
      deployment_versions: () => ({ service: 'db', environment: 'production', rows: [], pin: null, staleNote: null }),
    });
    const { user } = renderApp('health');
    const alert = await screen.findByRole('alert', { name: /^db failing since/ });
    await user.click(within(alert).getByRole('button', { name: 'Roll back db' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Deploy' })).toBeInTheDocument();
    expect(await screen.findByRole('tab', { name: 'Roll back' })).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByRole('combobox', { name: 'Service' })).toHaveValue('db');
    expect(await screen.findByText(/Becomes current: v1.3.0/)).toBeInTheDocument();
    const go = screen.getByRole('button', { name: 'Roll db back to v1.3.0' });
    expect(go).toBeDisabled();
    expect(screen.getByRole('textbox', { name: 'Type db to confirm' })).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'rollback_plan')?.args).toEqual({
      profileId: 'local-sandbox',
      service: 'db',
      environment: 'production',
    });
    expect(calls.some((c) => c.cmd === 'rollback')).toBe(false);
  });

  it('opens the Logs area on the service from the banner', async () => {
    const calls = serve([SUSPECTED], HISTORY, { start_logs: () => 1, stop_logs: () => null });
    const { user } = renderApp('health');
    const alert = await screen.findByRole('alert', { name: /^db failing since/ });
    await user.click(within(alert).getByRole('button', { name: 'Logs for db' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Logs' })).toBeInTheDocument();
    expect(await screen.findByRole('checkbox', { name: 'db' })).toBeChecked();
    await waitFor(() => {
      expect(calls.find((c) => c.cmd === 'start_logs')?.args.request).toEqual({
        profileId: 'local-sandbox',
        services: ['db'],
      });
    });
  });

  it('offers Logs for each service of the board, not for the dispatcher or the Deploy API', async () => {
    serve([MIXED]);
    renderApp('health');
    const table = await healthTable();
    expect(within(within(table).getByRole('row', { name: /^gateway/ })).getByRole('button', { name: 'Logs for gateway' })).toBeInTheDocument();
    expect(within(within(table).getByRole('row', { name: /^db/ })).getByRole('button', { name: 'Logs for db' })).toBeInTheDocument();
    expect(within(table).queryByRole('button', { name: 'Logs for dispatcher' })).not.toBeInTheDocument();
    expect(within(table).queryByRole('button', { name: 'Logs for deploy-api' })).not.toBeInTheDocument();
  });
});

describe('Sandbox runtime', () => {
  const NOT_FOUND = 'workerd was not found: run `cargo xtask setup`, or set SWITCHYARD_WORKERD to its path.';

  it('warns plainly when the sandbox does not execute scripts, in Health and in the status bar', async () => {
    const calls = serve([MIXED], HISTORY, {
      sandbox_runtime: () => sandboxRuntime({ executing: false, running: false, message: NOT_FOUND, workerdVersion: null }),
    });
    const { user } = renderApp('health');
    const alert = await screen.findByRole('alert', { name: `Scripts are not executed: ${NOT_FOUND}` });
    expect(alert).toHaveTextContent('“503 Not executed”');
    expect(screen.queryByText(/run in workerd/)).not.toBeInTheDocument();
    expect(screen.queryByText(/starting or restarting/)).not.toBeInTheDocument();
    const glance = screen.getByRole('button', { name: 'Sandbox: scripts are not executed. Open Health for why.' });
    expect(glance).toHaveAttribute('title', NOT_FOUND);
    expect(calls.some((c) => c.cmd === 'sandbox_runtime')).toBe(true);

    await user.click(screen.getByRole('button', { name: 'Settings' }));
    // The status bar keeps saying it in every area.
    expect(screen.getByRole('button', { name: 'Sandbox: scripts are not executed. Open Health for why.' })).toBeInTheDocument();
  });

  it('says when the runtime is restarting, and lists its latest notices', async () => {
    serve([MIXED], HISTORY, {
      sandbox_runtime: () =>
        sandboxRuntime({
          running: false,
          restarts: 2,
          message: 'workerd is restarting: scripts are not answering until it is back.',
          notices: [
            { at: '2025-03-01T14:00:00Z', message: 'workerd exited with status 1; restarting.' },
            { at: '2025-03-01T14:05:00Z', message: 'workerd did not answer for 10 s; restarting.' },
          ],
        }),
    });
    renderApp('health');
    const alert = await screen.findByRole('alert', {
      name: "The sandbox's runtime is starting or restarting; services will not answer until it is back",
    });
    expect(alert).toHaveTextContent('workerd is restarting');
    const notices = screen.getByRole('region', { name: 'Runtime notices' });
    const items = within(notices).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('workerd did not answer for 10 s; restarting.');
    expect(items[1]).toHaveTextContent('workerd exited with status 1; restarting.');
    expect(screen.getByRole('button', { name: 'Sandbox runtime starting or restarting. Open Health for why.' })).toBeInTheDocument();
  });

  it('does not ask about the runtime for a profile that is not the sandbox', async () => {
    const calls = serveIpc(appInfo({ activeProfile: 'prod' }), { health_history: () => [] });
    renderApp('health');
    await screen.findByRole('heading', { level: 1, name: 'Health' });
    await waitFor(() => {
      expect(calls.some((c) => c.cmd === 'check_health')).toBe(true);
    });
    expect(calls.some((c) => c.cmd === 'sandbox_runtime')).toBe(false);
  });
});

describe('sparkGeometry', () => {
  it('draws latency left to right over the window and marks down points on the baseline', () => {
    const geometry = sparkGeometry(HISTORY, CHECKED_AT - 3_600_000, CHECKED_AT);
    const points = geometry.line.split(' ').map((p) => p.split(',').map(Number));
    expect(points).toHaveLength(2);
    const [first, second] = points;
    expect(first?.[0]).toBeLessThan(second?.[0] ?? 0);
    // Higher latency is higher up (smaller y).
    expect(second?.[1]).toBeLessThan(first?.[1] ?? 0);
    expect(geometry.down).toHaveLength(1);
    expect(geometry.down[0]?.y).toBe(25);
  });

  it('draws nothing for no points', () => {
    expect(sparkGeometry([], 0, 1000)).toEqual({ line: '', down: [] });
  });

  it('collapses many changes at once into one notice per direction', () => {
    const n = (target: string, state: 'down' | 'up') => ({ target, state, title: `${target} is ${state}`, body: '' });
    const notices = collapse([n('db', 'down'), n('auth', 'down'), n('gateway', 'down'), n('mcp', 'up')]);
    expect(notices.map((x) => x.title)).toEqual(['3 targets are down: db, auth, gateway', 'mcp is up']);
    expect(collapse([n('db', 'down'), n('auth', 'down')]).map((x) => x.title)).toEqual(['db is down', 'auth is down']);
  });
});
