import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { LogLine, LogsEvent, WorkerRow } from '../../ipc/types';
import {
  appInfo,
  deliverOnChannel,
  deployment,
  fail,
  fullProfile,
  type Handler,
  historyPage,
  type IpcCall,
  productionProfile,
  renderApp,
  sandboxRuntime,
  serveIpc,
} from '../../test/render';
import { addLines, BUFFER_CAP, EMPTY_BUFFER, lineText, pause, resume, setSampling } from './logModel';

const AT = new Date(2025, 2, 1, 14, 7, 3, 123).getTime();

function line(overrides: Partial<LogLine> = {}): LogLine {
  return {
    service: 'gateway',
    script: 'gateway',
    namespace: 'dotdo-production',
    outcome: 'ok',
    method: 'GET',
    url: 'https://gateway.do/health',
    status: 200,
    timestampMs: AT,
    logs: [{ level: 'log', text: 'GET /health answered 200', timestampMs: AT }],
    exceptions: [],
    ...overrides,
  };
}

const STACK = "TypeError: Cannot read properties of undefined (reading 'id')\n    at handleOrder (worker.js:12:5)\n    at fetch (worker.js:40:3)";

const THROWING = line({
  outcome: 'exception',
  method: 'POST',
  url: 'https://gateway.do/api/orders?page=2',
  status: 500,
  logs: [{ level: 'error', text: 'order lookup failed', timestampMs: AT }],
  exceptions: [{ name: 'TypeError', message: "Cannot read properties of undefined (reading 'id')", stack: STACK }],
});

interface Session {
  id: number;
  channel: unknown;
  sent: number;
}

/**
 * Serve the Logs commands: every `start_logs` opens a session (ids 1, 2, …) whose channel the test
 * sends events on, as the Rust side does.
 */
function serveLogs(handlers: Record<string, Handler> = {}) {
  const sessions: Session[] = [];
  const calls = serveIpc(appInfo(), {
    start_logs: (args) => {
      const session = { id: sessions.length + 1, channel: args.onEvent, sent: 0 };
      sessions.push(session);
      return session.id;
    },
    stop_logs: () => null,
    ...handlers,
  });
  /** Send events on the newest session's channel (waiting for one to start first). */
  const send = async (...events: LogsEvent[]) => {
    await waitFor(() => {
      expect(sessions.length).toBeGreaterThan(0);
    });
    const session = sessions[sessions.length - 1] as Session;
    act(() => {
      for (const event of events) {
        deliverOnChannel(session.channel, session.sent, event);
        session.sent += 1;
      }
    });
  };
  return { calls, sessions, send };
}

function starts(calls: IpcCall[]) {
  return calls.filter((c) => c.cmd === 'start_logs').map((c) => c.args.request);
}

function stops(calls: IpcCall[]) {
  return calls.filter((c) => c.cmd === 'stop_logs').map((c) => c.args.session);
}

function logTable() {
  return screen.findByRole('table', { name: 'Log lines' });
}

function dataRows() {
  return within(screen.getByRole('table', { name: 'Log lines' }))
    .getAllByRole('row')
    .filter((row) => row.hasAttribute('data-index'));
}

async function tail(user: ReturnType<typeof renderApp>['user'], ...services: string[]) {
  for (const service of services) {
    await user.click(await screen.findByRole('checkbox', { name: service }));
  }
}

describe('Logs area', () => {
  it('says what to do before a service is chosen', async () => {
    const { calls } = serveLogs();
    renderApp('logs');
    expect(await screen.findByText(/^Choose a service to tail its logs/)).toBeInTheDocument();
    expect(screen.getByRole('group', { name: 'Services to tail' })).toBeInTheDocument();
    expect(starts(calls)).toEqual([]);
  });

  it('starts one tail of the chosen services and shows the lines pushed through its channel', async () => {
    const { calls, send } = serveLogs();
    const { user } = renderApp('logs');
    await tail(user, 'gateway', 'db');
    await waitFor(() => {
      expect(starts(calls)).toEqual([{ profileId: 'local-sandbox', services: ['gateway', 'db'] }]);
    });
    expect(
      await screen.findByText('Waiting for requests to gateway, db — open their /health or use the app to generate traffic.'),
    ).toBeInTheDocument();

    await send({ kind: 'connected', service: 'gateway' });
    const connections = screen.getByRole('list', { name: 'Connection' });
    expect(connections).toHaveAttribute('aria-live', 'polite');
    expect(within(connections).getByText('gateway: Connected')).toBeInTheDocument();
    expect(within(connections).getByText('db: Connecting…')).toBeInTheDocument();

    await send({ kind: 'line', line: line() }, { kind: 'line', line: line({ service: 'db', script: 'db', url: 'https://db.do/rows', status: 201, method: 'POST', logs: [] }) });
    await logTable();
    const rows = dataRows();
    expect(rows).toHaveLength(2);
    const [first, second] = rows as [HTMLElement, HTMLElement];
    expect(first).toHaveTextContent('14:07:03.123');
    expect(within(first).getByText('gateway')).toBeInTheDocument();
    expect(within(first).getByText('GET')).toBeInTheDocument();
    expect(within(first).getByText('/health')).toHaveAttribute('title', 'https://gateway.do/health');
    expect(within(first).getByText('200')).toBeInTheDocument();
    expect(within(first).getByText('ok')).toBeInTheDocument();
    expect(within(first).getByText('[log]').parentElement).toHaveTextContent('[log] GET /health answered 200');
    // Newest at the bottom.
    expect(within(second).getByText('/rows')).toBeInTheDocument();
    expect(within(second).getByText('Nothing logged')).toBeInTheDocument();
    expect(screen.getByText('2 lines (the buffer keeps the newest 5,000)')).toBeInTheDocument();
  });

  it('shows an exception with its name, message and stack, and collapses the stack', async () => {
    const { send } = serveLogs();
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    await send({ kind: 'line', line: THROWING });
    await logTable();
    const row = dataRows()[0] as HTMLElement;
    expect(within(row).getByText('exception')).toBeInTheDocument();
    expect(within(row).getByText('500')).toBeInTheDocument();
    expect(within(row).getByText('/api/orders?page=2')).toBeInTheDocument();
    expect(within(row).getByText('[error]').parentElement).toHaveAttribute('data-level', 'error');
    expect(within(row).getByText("✖ TypeError: Cannot read properties of undefined (reading 'id')")).toBeInTheDocument();
    const stack = within(row).getByLabelText('Stack of TypeError');
    expect(stack).toHaveTextContent('at handleOrder (worker.js:12:5)');

    const hide = within(row).getByRole('button', { name: /^Hide the stack of TypeError/ });
    expect(hide).toHaveAttribute('aria-expanded', 'true');
    await user.click(hide);
    expect(within(row).queryByLabelText('Stack of TypeError')).not.toBeInTheDocument();
    const show = within(row).getByRole('button', { name: /^Show the stack of TypeError/ });
    expect(show).toHaveAttribute('aria-expanded', 'false');
    await user.click(show);
    expect(within(row).getByLabelText('Stack of TypeError')).toHaveTextContent('at fetch (worker.js:40:3)');
  });

  it('filters by outcome, method and text over URL, logs and exceptions', async () => {
    const { send } = serveLogs();
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    await send(
      { kind: 'line', line: line() },
      { kind: 'line', line: THROWING },
      {
        kind: 'line',
        line: line({ url: 'https://gateway.do/missing', status: 404, logs: [{ level: 'warn', text: 'route not found', timestampMs: AT }] }),
      },
    );
    await logTable();
    await waitFor(() => {
      expect(dataRows()).toHaveLength(3);
    });

    await user.selectOptions(screen.getByRole('combobox', { name: 'Outcome' }), 'errors');
    expect(dataRows()).toHaveLength(1);
    expect(dataRows()[0]).toHaveTextContent('/api/orders');
    expect(screen.getByText('Showing 1 of 3 lines (filters hide the rest)')).toBeInTheDocument();

    await user.selectOptions(screen.getByRole('combobox', { name: 'Outcome' }), 'ok');
    expect(dataRows()).toHaveLength(2);

    await user.selectOptions(screen.getByRole('combobox', { name: 'Outcome' }), 'all');
    const method = screen.getByRole('combobox', { name: 'Method' });
    expect(within(method).getAllByRole('option').map((o) => o.textContent)).toEqual(['Any', 'GET', 'POST']);
    await user.selectOptions(method, 'POST');
    expect(dataRows()).toHaveLength(1);
    await user.selectOptions(method, '');

    const search = screen.getByRole('textbox', { name: 'Search' });
    await user.type(search, 'ROUTE NOT');
    await waitFor(() => {
      expect(dataRows()).toHaveLength(1);
    });
    expect(dataRows()[0]).toHaveTextContent('/missing');
    await user.clear(search);
    await user.type(search, 'handleOrder');
    await waitFor(() => {
      expect(dataRows()[0]).toHaveTextContent('/api/orders');
    });
    expect(dataRows()).toHaveLength(1);
    await user.clear(search);
    await user.type(search, 'nothing like this');
    expect(await screen.findByText('None of the 3 lines in the buffer match the filters.')).toBeInTheDocument();
    await user.click(screen.getAllByRole('button', { name: 'Clear filters' })[0] as HTMLElement);
    await waitFor(() => {
      expect(dataRows()).toHaveLength(3);
    });
  });

  it('holds new lines back while paused, counts them, and shows them on resume; Clear empties the view', async () => {
    const { send } = serveLogs();
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    await send({ kind: 'line', line: line() });
    await logTable();

    await user.click(screen.getByRole('button', { name: 'Pause' }));
    await send({ kind: 'line', line: THROWING }, { kind: 'line', line: line({ url: 'https://gateway.do/later' }) });
    expect(await screen.findByText('Paused: 2 new lines while paused. Resume to show them.')).toBeInTheDocument();
    expect(dataRows()).toHaveLength(1);

    await user.click(screen.getByRole('button', { name: 'Resume' }));
    expect(dataRows()).toHaveLength(3);
    expect(dataRows()[2]).toHaveTextContent('/later');
    expect(screen.queryByText(/while paused/)).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Clear' }));
    expect(screen.queryByRole('table', { name: 'Log lines' })).not.toBeInTheDocument();
    expect(screen.getByText(/^Waiting for requests to gateway/)).toBeInTheDocument();
  });

  it('keeps only the chosen share of new lines when sampling', async () => {
    const { send } = serveLogs();
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    const sampling = await screen.findByRole('textbox', { name: 'Sampling: keep % of new lines' });
    await user.clear(sampling);
    expect(screen.getByText('Sampling: enter a whole number from 1 to 100.')).toBeInTheDocument();
    await user.type(sampling, '50');
    expect(screen.queryByText('Sampling: enter a whole number from 1 to 100.')).not.toBeInTheDocument();
    await send(...[1, 2, 3, 4].map((n): LogsEvent => ({ kind: 'line', line: line({ url: `https://gateway.do/r${n}` }) })));
    await logTable();
    await waitFor(() => {
      expect(dataRows()).toHaveLength(2);
    });
    expect(dataRows()[0]).toHaveTextContent('/r2');
    expect(dataRows()[1]).toHaveTextContent('/r4');
    expect(screen.getByText('Sampling keeps 50 % of new lines; 2 lines left out so far.')).toBeInTheDocument();
  });

  it('keeps the newest 5,000 lines and says how many older ones were dropped', async () => {
    const { send } = serveLogs();
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    const events: LogsEvent[] = [];
    for (let n = 0; n < BUFFER_CAP + 3; n += 1) {
      events.push({ kind: 'line', line: line({ url: `https://gateway.do/r${n}`, timestampMs: AT + n }) });
    }
    await send(...events);
    expect(await screen.findByText('3 older lines dropped: the buffer keeps the newest 5,000.')).toBeInTheDocument();
    expect(screen.getByText('5,000 lines (the buffer keeps the newest 5,000)')).toBeInTheDocument();
    const table = await logTable();
    expect(table).toHaveAttribute('aria-rowcount', String(BUFFER_CAP + 1));
    // Only the lines in view are rendered, and the view follows the newest.
    expect(dataRows().length).toBeLessThan(40);
    await waitFor(() => {
      expect(screen.getByText(`/r${BUFFER_CAP + 2}`)).toBeInTheDocument();
    });
  });

  it('says when a tail reconnects, and why', async () => {
    const { send } = serveLogs();
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    await send({ kind: 'connected', service: 'gateway' });
    await send({ kind: 'reconnecting', service: 'gateway', attempt: 2, reason: 'the platform closed the tail', retryInMs: 4000 });
    const connections = screen.getByRole('list', { name: 'Connection' });
    expect(within(connections).getByText('Reconnecting in 4 s (attempt 2): the platform closed the tail')).toBeInTheDocument();
    // What screen readers are told does not tick down every second.
    expect(within(connections).getByText('gateway: reconnecting, attempt 2: the platform closed the tail')).toBeInTheDocument();
    await send({ kind: 'connected', service: 'gateway' });
    expect(within(connections).getByText('gateway: Connected')).toBeInTheDocument();
  });

  it('stops the tail with Stop tail, and starts it again with Start tail', async () => {
    const { calls, send } = serveLogs();
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    await waitFor(() => {
      expect(starts(calls)).toHaveLength(1);
    });
    await send({ kind: 'connected', service: 'gateway' });
    await user.click(screen.getByRole('button', { name: 'Stop tail' }));
    await waitFor(() => {
      expect(stops(calls)).toEqual([1]);
    });
    expect(await screen.findByText('gateway: Stopped')).toBeInTheDocument();
    expect(screen.getByText('The tail is stopped. Press “Start tail” to follow gateway again.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Start tail' }));
    await waitFor(() => {
      expect(starts(calls)).toHaveLength(2);
    });
  });

  it('stops the old tail when the choice changes, and the tail when leaving the area', async () => {
    const { calls } = serveLogs();
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    await waitFor(() => {
      expect(starts(calls)).toHaveLength(1);
    });
    await tail(user, 'auth');
    await waitFor(() => {
      expect(starts(calls)).toEqual([
        { profileId: 'local-sandbox', services: ['gateway'] },
        { profileId: 'local-sandbox', services: ['gateway', 'auth'] },
      ]);
    });
    expect(stops(calls)).toEqual([1]);

    await user.click(screen.getByRole('button', { name: 'Health' }));
    await waitFor(() => {
      expect(stops(calls)).toEqual([1, 2]);
    });
  });

  it('stops the tail when the window unmounts', async () => {
    const { calls } = serveLogs();
    const { user, unmount } = renderApp('logs');
    await tail(user, 'gateway');
    await waitFor(() => {
      expect(starts(calls)).toHaveLength(1);
    });
    unmount();
    await waitFor(() => {
      expect(stops(calls)).toEqual([1]);
    });
  });

  it('stops a tail that opens after the operator left', async () => {
    let open: (id: number) => void = () => undefined;
    const { calls } = serveLogs({
      start_logs: () =>
        new Promise<number>((resolve) => {
          open = resolve;
        }),
    });
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    await waitFor(() => {
      expect(starts(calls)).toHaveLength(1);
    });
    await user.click(screen.getByRole('button', { name: 'Settings' }));
    expect(stops(calls)).toEqual([]);
    await act(async () => {
      open(7);
      await Promise.resolve();
    });
    await waitFor(() => {
      expect(stops(calls)).toEqual([7]);
    });
  });

  it('says why a tail could not start, and tries again', async () => {
    let refuse = true;
    const { calls } = serveLogs({
      start_logs: (args) => {
        if (refuse) {
          return fail({
            code: 'InvalidApiKey',
            message: 'Profile "Local sandbox" has no Cloudflare API token.',
            runbook: null,
          })(args);
        }
        return 1;
      },
    });
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Starting the tail failed');
    expect(alert).toHaveTextContent('no Cloudflare API token');
    refuse = false;
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    await waitFor(() => {
      expect(starts(calls)).toHaveLength(2);
    });
    expect(
      await screen.findByText('Waiting for requests to gateway — open its /health or use the app to generate traffic.'),
    ).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('copies the lines shown (after filters) to the clipboard as text, and says so', async () => {
    const { send } = serveLogs();
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    await send({ kind: 'line', line: line() }, { kind: 'line', line: THROWING });
    await logTable();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Outcome' }), 'errors');
    await user.click(screen.getByRole('button', { name: 'Copy to clipboard' }));
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Copied the 1 line shown to the clipboard as text.',
    );
    const text = await navigator.clipboard.readText();
    expect(text).toMatch(/^# Switchyard logs: Local sandbox, gateway; 1 line shown, copied /);
    expect(text).toContain('gateway  POST https://gateway.do/api/orders?page=2 → 500 (exception)');
    expect(text).toContain('    [error] order lookup failed');
    expect(text).toContain("    ✖ TypeError: Cannot read properties of undefined (reading 'id')");
    expect(text).toContain('      at handleOrder (worker.js:12:5)');
    expect(text).not.toContain('/health');
  });

  it('saves the lines shown (after filters) as text to the file chosen in the save dialog, and says where', async () => {
    const { send, calls } = serveLogs({ save_logs: () => '/home/op/incident/gateway-errors.log' });
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    await send({ kind: 'line', line: line() }, { kind: 'line', line: THROWING });
    await logTable();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Outcome' }), 'errors');
    await user.click(screen.getByRole('button', { name: 'Save to file…' }));
    await user.click(await screen.findByRole('menuitem', { name: 'As text (.log)' }));
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Saved the 1 line shown to /home/op/incident/gateway-errors.log as text.',
    );
    const saved = calls.filter((c) => c.cmd === 'save_logs');
    expect(saved).toHaveLength(1);
    const args = saved[0]?.args ?? {};
    // The window sends what is shown and a name to suggest; the path comes from the dialog only.
    expect(Object.keys(args).sort()).toEqual(['content', 'format', 'suggestedName']);
    expect(args.format).toBe('text');
    expect(args.suggestedName).toMatch(/^switchyard-logs-gateway-\d{8}-\d{4}$/);
    const content = args.content as string;
    expect(content).toMatch(/^# Switchyard logs: Local sandbox, gateway; 1 line shown, saved /);
    expect(content).toContain('gateway  POST https://gateway.do/api/orders?page=2 → 500 (exception)');
    expect(content).toContain('      at handleOrder (worker.js:12:5)');
    expect(content).not.toContain('/health');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('saves the lines shown as JSON Lines, one request per line as the engine sent it', async () => {
    const { send, calls } = serveLogs({ save_logs: () => '/home/op/gateway.jsonl' });
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    const second = line({ url: 'https://gateway.do/api/users', timestampMs: AT + 1000 });
    await send({ kind: 'line', line: line() }, { kind: 'line', line: second });
    await logTable();
    await user.click(screen.getByRole('button', { name: 'Save to file…' }));
    await user.click(await screen.findByRole('menuitem', { name: /^As JSON Lines/ }));
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Saved the 2 lines shown to /home/op/gateway.jsonl as JSON Lines.',
    );
    const args = calls.find((c) => c.cmd === 'save_logs')?.args ?? {};
    expect(args.format).toBe('jsonLines');
    const rows = (args.content as string).trimEnd().split('\n').map((r) => JSON.parse(r) as unknown);
    expect(rows).toEqual([line(), second]);
  });

  it('says nothing when the save dialog is cancelled', async () => {
    const { send, calls } = serveLogs({ save_logs: () => null });
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    await send({ kind: 'line', line: line() });
    await logTable();
    await user.click(screen.getByRole('button', { name: 'Copy to clipboard' }));
    await screen.findByText(/^Copied the 1 line shown/);
    await user.click(screen.getByRole('button', { name: 'Save to file…' }));
    await user.click(await screen.findByRole('menuitem', { name: 'As text (.log)' }));
    await waitFor(() => {
      expect(calls.filter((c) => c.cmd === 'save_logs')).toHaveLength(1);
    });
    await waitFor(() => {
      expect(screen.getByRole('button', { name: 'Save to file…' })).toBeEnabled();
    });
    expect(screen.queryByText(/^Saved /)).not.toBeInTheDocument();
    expect(screen.queryByText(/^Copied /)).not.toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('shows why saving failed: nothing was saved', async () => {
    const { send } = serveLogs({
      save_logs: fail({
        code: 'InvalidInput',
        message:
          'Could not write /mnt/usb/gateway.log (Read-only file system (os error 30)); nothing was saved. Choose a folder you can write to, or free some disk space, then try again.',
        runbook: null,
      }),
    });
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    await send({ kind: 'line', line: line() });
    await logTable();
    await user.click(screen.getByRole('button', { name: 'Save to file…' }));
    await user.click(await screen.findByRole('menuitem', { name: 'As text (.log)' }));
    const alert = await screen.findByRole('alert', { name: 'Saving the lines shown failed: Nothing was saved' });
    expect(alert).toHaveTextContent('Could not write /mnt/usb/gateway.log (Read-only file system (os error 30))');
    expect(alert).toHaveTextContent('Copy to clipboard');
    expect(screen.queryByText(/^Saved /)).not.toBeInTheDocument();
  });

  it('warns that no lines will come when the sandbox does not execute scripts', async () => {
    serveLogs({
      sandbox_runtime: () =>
        sandboxRuntime({ executing: false, running: false, message: 'workerd was not found. Run `cargo xtask setup`.' }),
    });
    const { user } = renderApp('logs');
    await tail(user, 'gateway');
    const warning = await screen.findByRole('alert', {
      name: 'Scripts are not executed: workerd was not found. Run `cargo xtask setup`.',
    });
    expect(warning).toHaveTextContent('no lines will arrive here');
  });
});

describe('Logs from elsewhere', () => {
  it('opens from a service of the Health board, tailing that service', async () => {
    const { calls } = serveLogs({
      check_health: () => ({
        checkedAtMs: AT,
        results: [
          {
            name: 'gateway',
            kind: 'service',
            url: 'https://gateway.do/health',
            state: 'up',
            httpStatus: 200,
            latencyMs: 12,
            detail: null,
            runbook: null,
            changed: false,
            previousState: 'up',
            lastChangeMs: null,
            suspect: null,
          },
        ],
        summary: { healthy: 1, total: 1, text: '1/1 services healthy' },
        notifications: [],
      }),
      health_history: () => [],
    });
    const { user } = renderApp('health');
    const table = await screen.findByRole('table', { name: 'Service health' });
    const logs = within(table).getByRole('button', { name: 'Logs for gateway' });
    expect(logs).toHaveTextContent('Logs');
    await user.click(logs);
    expect(await screen.findByRole('heading', { level: 1, name: 'Logs' })).toBeInTheDocument();
    expect(await screen.findByRole('checkbox', { name: 'gateway' })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'db' })).not.toBeChecked();
    await waitFor(() => {
      expect(starts(calls)).toEqual([{ profileId: 'local-sandbox', services: ['gateway'] }]);
    });
  });

  it('stops the tail when the profile changes, and does not tail the new profile unasked', async () => {
    let active = 'local-sandbox';
    const { calls } = serveLogs({
      app_info: () => appInfo({ activeProfile: active }),
      select_profile: (args) => {
        active = String(args.id);
        return fullProfile(productionProfile);
      },
      check_health: () => ({
        checkedAtMs: AT,
        results: [
          {
            name: 'gateway',
            kind: 'service',
            url: 'https://gateway.do/health',
            state: 'up',
            httpStatus: 200,
            latencyMs: 12,
            detail: null,
            runbook: null,
            changed: false,
            previousState: 'up',
            lastChangeMs: null,
            suspect: null,
          },
        ],
        summary: { healthy: 1, total: 1, text: '1/1 services healthy' },
        notifications: [],
      }),
      health_history: () => [],
    });
    const { user } = renderApp('health');
    const table = await screen.findByRole('table', { name: 'Service health' });
    await user.click(within(table).getByRole('button', { name: 'Logs for gateway' }));
    await waitFor(() => {
      expect(starts(calls)).toEqual([{ profileId: 'local-sandbox', services: ['gateway'] }]);
    });
    const profile = screen.getByRole('combobox', { name: 'Profile' });
    await user.click(profile);
    await user.click(within(await screen.findByRole('listbox')).getByRole('option', { name: /dotdo production/ }));
    await waitFor(() => {
      expect(stops(calls)).toEqual([1]);
    });
    expect(await screen.findByText(/^Choose a service to tail its logs/)).toBeInTheDocument();
    expect(screen.getByRole('checkbox', { name: 'gateway' })).not.toBeChecked();
    expect(starts(calls)).toHaveLength(1);
  });

  it("opens from the Deployments drawer on the deployment's service", async () => {
    const db = deployment({ service: 'db', versionTag: 'v1.9.0' });
    const { calls } = serveLogs({ query_history: () => historyPage({ deployments: [db], asOfMs: AT }) });
    const { user } = renderApp('deployments');
    const table = await screen.findByRole('table', { name: 'Deployments' });
    await user.click(within(table).getAllByRole('row')[1] as HTMLElement);
    const drawer = await screen.findByRole('dialog', { name: `Deployment ${db.id}` });
    await user.click(within(drawer).getByRole('button', { name: 'Logs for db' }));
    expect(await screen.findByRole('checkbox', { name: 'db' })).toBeChecked();
    await waitFor(() => {
      expect(starts(calls)).toEqual([{ profileId: 'local-sandbox', services: ['db'] }]);
    });
  });

  it("opens from a worker of the Namespaces area, saying what another namespace's requests do", async () => {
    const worker: WorkerRow = {
      name: 'billing',
      tags: ['service:billing'],
      service: 'billing',
      environment: 'staging',
      commit: null,
      branch: null,
      version: null,
      createdOn: '2025-01-02T03:04:05Z',
      modifiedOn: '2025-02-03T04:05:06Z',
    };
    const { calls } = serveLogs({
      list_namespaces: () => [
        { name: 'dotdo-staging', id: 'ns-1', scriptCount: 1, trustedWorkers: false, createdOn: '', modifiedOn: '' },
      ],
      list_workers: () => [worker],
      worker_detail: () => ({ row: worker, bindings: [], settings: {}, sizeBytes: 10 }),
    });
    const { user } = renderApp('namespaces');
    await user.click(await screen.findByRole('button', { name: 'Open dotdo-staging' }));
    const workers = await screen.findByRole('table', { name: 'Workers' });
    await user.click(within(workers).getAllByRole('row')[1] as HTMLElement);
    const drawer = await screen.findByRole('dialog', { name: 'Worker billing' });
    expect(
      await within(drawer).findByText(
        "Logs shows requests dispatched through dotdo-production, this profile's namespace: requests to billing through dotdo-staging are left out.",
      ),
    ).toBeInTheDocument();
    await user.click(within(drawer).getByRole('button', { name: 'Logs for billing' }));
    // Not one of the profile's services: offered (and chosen) all the same, marked as such.
    expect(await screen.findByRole('checkbox', { name: "billing (not in this profile's services)" })).toBeChecked();
    await waitFor(() => {
      expect(starts(calls)).toEqual([{ profileId: 'local-sandbox', services: ['billing'] }]);
    });
  });
});

describe('log buffer', () => {
  it('drops the oldest beyond the cap, counting them', () => {
    let b = addLines(EMPTY_BUFFER, [line(), line(), line()], 2);
    expect(b.entries).toHaveLength(2);
    expect(b.dropped).toBe(1);
    expect(b.entries.map((e) => e.id)).toEqual([2, 3]);
    b = addLines(b, [line()], 2);
    expect(b.dropped).toBe(2);
  });

  it('holds lines while paused (capped too) and shows the newest on resume', () => {
    let b = pause(addLines(EMPTY_BUFFER, [line()], 3));
    b = addLines(b, [line(), line(), line(), line()], 3);
    expect(b.entries).toHaveLength(1);
    expect(b.held).toHaveLength(3);
    expect(b.heldCount).toBe(4);
    expect(b.dropped).toBe(1);
    b = resume(b, 3);
    expect(b.paused).toBe(false);
    expect(b.entries).toHaveLength(3);
    expect(b.heldCount).toBe(0);
    expect(b.dropped).toBe(2);
  });

  it('samples exactly the share asked for', () => {
    const b = addLines(setSampling(EMPTY_BUFFER, 25), Array.from({ length: 100 }, () => line()));
    expect(b.entries).toHaveLength(25);
    expect(b.skipped).toBe(75);
  });

  it('writes a line as text with its logs, exceptions and whole stack', () => {
    const text = lineText(THROWING);
    expect(text.split('\n')).toEqual([
      `2025-03-01 14:07:03.123  gateway  POST https://gateway.do/api/orders?page=2 → 500 (exception)`,
      '    [error] order lookup failed',
      "    ✖ TypeError: Cannot read properties of undefined (reading 'id')",
      "      TypeError: Cannot read properties of undefined (reading 'id')",
      '      at handleOrder (worker.js:12:5)',
      '      at fetch (worker.js:40:3)',
    ]);
  });
});
