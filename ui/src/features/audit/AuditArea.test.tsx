import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { AuditFilter, AuditRow } from '../../ipc/types';
import { appInfo, auditPage, auditRow, fail, renderApp, serveIpc } from '../../test/render';

const T = Date.parse('2025-03-01T12:00:00Z');

const deployed = auditRow({
  seq: 41,
  atMs: T,
  action: 'deploy.apply',
  target: 'gateway/production',
  params: { service: 'gateway', environment: 'production', sha256: 'ab'.repeat(32) },
  outcome: 'ok',
  status: 'ok',
  durationMs: 1200,
});
const refused = auditRow({
  seq: 40,
  atMs: T - 60_000,
  actor: 'bob',
  profileId: 'prod',
  action: 'namespace.delete',
  target: 'dotdo-staging',
  params: { confirmation: 'dotdo-stagin' },
  outcome: 'InvalidInput',
  status: 'error',
  message: 'Type the namespace name exactly to delete it.',
  durationMs: 15,
});
const running = auditRow({
  seq: 42,
  atMs: T + 60_000,
  action: 'deploy.rollback',
  target: 'db/production',
  outcome: 'started',
  status: 'started',
  durationMs: 0,
});
const cutOff = auditRow({
  seq: 39,
  atMs: T - 120_000,
  action: 'deploy.direct',
  target: 'deploy_1_abc',
  outcome: 'interrupted',
  status: 'interrupted',
  message: 'Switchyard stopped before this action ended, so how it ended is unknown.',
  durationMs: 0,
});
const setting = auditRow({
  seq: 38,
  atMs: T - 180_000,
  profileId: '',
  action: 'setting.correlation_window',
  target: 'health.correlation_window_minutes',
  params: { minutes: 20 },
  durationMs: 3,
});

const LOG = [running, deployed, refused, cutOff, setting];

/**
 * A stand-in for the engine's query: the filters and the page the view asks for (the real query
 * is tested against SQLite in the store's and the façade's tests).
 */
function log(rows: readonly AuditRow[], bound?: number) {
  return (args: Record<string, unknown>) => {
    const f = args.filter as AuditFilter;
    const matching = rows.filter(
      (e) =>
        (f.profileId == null || e.profileId === f.profileId) &&
        (f.action == null || e.action === f.action || e.action.startsWith(`${f.action}.`)) &&
        (f.outcome == null || e.status === f.outcome) &&
        (f.sinceMs == null || (e.atMs ?? 0) >= f.sinceMs) &&
        (f.untilMs == null || (e.atMs ?? 0) < f.untilMs) &&
        (f.text == null || JSON.stringify(e).toLowerCase().includes(f.text.toLowerCase())),
    );
    const offset = f.offset ?? 0;
    // A keyset page starts just after its cursor (newest first: an older time, or the same
    // time and a smaller number); `offset` then only counts the entries before it.
    const after = f.after;
    const start =
      after == null
        ? offset
        : matching.findIndex((e) => (e.atMs ?? 0) < (after.atMs ?? 0) || ((e.atMs ?? 0) === after.atMs && (e.seq ?? 0) < (after.seq ?? 0)));
    const from = start < 0 ? matching.length : start;
    const entries = matching.slice(from, f.limit == null ? undefined : from + f.limit);
    const actions = [...new Set(rows.map((e) => e.action))].sort();
    // As the log counts: to `bound` past the page, exactly when asked (`exactCount`).
    if (bound !== undefined && f.exactCount !== true && matching.length > offset + bound) {
      return auditPage({ entries, total: offset + bound, totalExact: false, actions });
    }
    return auditPage({ entries, total: matching.length, actions });
  };
}

function filtersSent(calls: { cmd: string; args: Record<string, unknown> }[]) {
  return calls.filter((c) => c.cmd === 'list_audit').map((c) => c.args.filter as AuditFilter);
}

function entryRows() {
  const table = screen.getByRole('table', { name: 'Audit log' });
  return within(table)
    .getAllByRole('row')
    .filter((row) => row.hasAttribute('data-row-index'));
}

describe('Audit', () => {
  it('is an area of the window, after Runbooks, reached with Alt+7', async () => {
    serveIpc(appInfo(), { list_audit: log(LOG) });
    const { user } = renderApp();
    await user.keyboard('{Alt>}7{/Alt}');
    expect(await screen.findByRole('heading', { level: 1, name: 'Audit' })).toBeInTheDocument();
    expect(await screen.findByRole('table', { name: 'Audit log' })).toBeInTheDocument();
  });

  it('lists every profile’s entries newest first: time, actor, profile, action, target, outcome, duration', async () => {
    const calls = serveIpc(appInfo(), { list_audit: log(LOG) });
    renderApp('audit');
    const table = await screen.findByRole('table', { name: 'Audit log' });
    expect(screen.getByText('5 entries')).toBeInTheDocument();
    expect(table).toHaveAccessibleDescription('5 entries');
    expect(within(table).getAllByRole('columnheader').map((h) => h.textContent)).toEqual([
      'Time',
      'Actor',
      'Profile',
      'Action',
      'Target',
      'Outcome',
      'Duration',
    ]);
    const rows = entryRows();
    expect(rows.map((r) => within(r).getAllByRole('cell')[3]?.textContent)).toEqual([
      'deploy.rollback',
      'deploy.apply',
      'namespace.delete',
      'deploy.direct',
      'setting.correlation_window',
    ]);
    const cells = (i: number) => within(rows[i] as HTMLElement).getAllByRole('cell').map((c) => c.textContent);
    // A running action reads "running", with no duration yet.
    expect(cells(0).slice(1)).toEqual(['ana', 'Local sandbox', 'deploy.rollback', 'db/production', 'running', '—']);
    expect(cells(1).slice(1)).toEqual(['ana', 'Local sandbox', 'deploy.apply', 'gateway/production', 'ok', '1.2 s']);
    // The profile by name; an error by its code.
    expect(cells(2).slice(1)).toEqual(['bob', 'dotdo production', 'namespace.delete', 'dotdo-staging', 'InvalidInput', '15 ms']);
    expect(cells(3)[5]).toBe('interrupted');
    // An app-wide setting belongs to no profile.
    expect(cells(4)[2]).toBe('App-wide');
    // One local time format.
    expect(cells(1)[0]).toContain('2025');
    // Every profile, newest first, a page at a time.
    expect(filtersSent(calls)[0]).toEqual({ limit: 200, offset: 0 });
  });

  it('opens an entry to show its message and parameters, by click or keyboard', async () => {
    serveIpc(appInfo(), { list_audit: log(LOG) });
    const { user } = renderApp('audit');
    await screen.findByRole('table', { name: 'Audit log' });
    const row = entryRows()[2] as HTMLElement;
    expect(row).toHaveAttribute('aria-expanded', 'false');
    await user.click(row);
    expect(row).toHaveAttribute('aria-expanded', 'true');
    const detail = document.getElementById(row.getAttribute('aria-controls') ?? '') as HTMLElement;
    expect(detail).toHaveTextContent('Type the namespace name exactly to delete it.');
    expect(detail).toHaveTextContent('"confirmation": "dotdo-stagin"');
    expect(detail).toHaveTextContent('outcome recorded as “InvalidInput”');
    await user.click(row);
    expect(row).toHaveAttribute('aria-expanded', 'false');
    expect(screen.queryByText('Type the namespace name exactly to delete it.')).not.toBeInTheDocument();

    // Keyboard: the first row is in the tab order; arrows move, Enter opens.
    const first = entryRows()[0] as HTMLElement;
    first.focus();
    await user.keyboard('{ArrowDown}');
    await waitFor(() => {
      expect(document.activeElement).toBe(entryRows()[1]);
    });
    await user.keyboard('{Enter}');
    expect(entryRows()[1]).toHaveAttribute('aria-expanded', 'true');
    expect(await screen.findByText(/"sha256": "abab/)).toBeInTheDocument();
    await user.keyboard(' ');
    expect(entryRows()[1]).toHaveAttribute('aria-expanded', 'false');
  });

  it('sends the filters together (the search debounced) and says how many match', async () => {
    const calls = serveIpc(appInfo(), { list_audit: log(LOG) });
    const { user } = renderApp('audit');
    await screen.findByText('5 entries');

    await user.selectOptions(screen.getByRole('combobox', { name: 'For profile' }), 'dotdo production');
    expect(await screen.findByText('1 entry')).toBeInTheDocument();
    expect(filtersSent(calls)).toContainEqual({ limit: 200, offset: 0, profileId: 'prod' });
    await user.selectOptions(screen.getByRole('combobox', { name: 'For profile' }), 'App-wide (settings)');
    await waitFor(() => {
      expect(filtersSent(calls)).toContainEqual({ limit: 200, offset: 0, profileId: '' });
    });
    await user.selectOptions(screen.getByRole('combobox', { name: 'For profile' }), 'All profiles');

    // The actions recorded, by family and one by one.
    const action = screen.getByRole('combobox', { name: 'Action' });
    expect(within(action).getAllByRole('option').map((o) => o.textContent)).toEqual([
      'Any action',
      'Every deploy action',
      'deploy.apply',
      'deploy.direct',
      'deploy.rollback',
      'Every namespace action',
      'namespace.delete',
      'Every setting action',
      'setting.correlation_window',
    ]);
    await user.selectOptions(action, 'Every deploy action');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Outcome' }), 'running');
    await waitFor(() => {
      expect(filtersSent(calls)).toContainEqual({ limit: 200, offset: 0, action: 'deploy', outcome: 'started' });
    });
    expect(await screen.findByText('1 entry')).toBeInTheDocument();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Outcome' }), 'interrupted');
    expect(await screen.findByText('1 entry')).toBeInTheDocument();
    expect(entryRows()[0]).toHaveTextContent('deploy.direct');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Outcome' }), 'Any');
    await user.selectOptions(action, 'Any action');

    const before = filtersSent(calls).length;
    await user.type(screen.getByRole('textbox', { name: 'Search' }), 'staging');
    await waitFor(() => {
      expect(filtersSent(calls)).toContainEqual({ limit: 200, offset: 0, text: 'staging' });
    });
    // Debounced: one query for the whole word, not one per key.
    expect(filtersSent(calls).slice(before).filter((f) => f.text !== undefined)).toEqual([
      { limit: 200, offset: 0, text: 'staging' },
    ]);
    expect(await screen.findByText('1 entry')).toBeInTheDocument();
  });

  it('filters by a time range: a preset counts back from now, a custom one takes From and To', async () => {
    const calls = serveIpc(appInfo(), { list_audit: log(LOG) });
    const { user } = renderApp('audit');
    await screen.findByText('5 entries');
    const before = Date.now();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Time' }), 'Last hour');
    await waitFor(() => {
      expect(filtersSent(calls).some((f) => f.sinceMs !== undefined)).toBe(true);
    });
    const since = filtersSent(calls).find((f) => f.sinceMs !== undefined)?.sinceMs ?? 0;
    expect(since).toBeGreaterThanOrEqual(before - 3_600_000);
    expect(since).toBeLessThanOrEqual(Date.now() - 3_600_000);
    expect(await screen.findByText('No entries match these filters. Change or clear the filters.')).toBeInTheDocument();

    await user.selectOptions(screen.getByRole('combobox', { name: 'Time' }), 'Custom range…');
    // datetime-local inputs take their value whole, as the native picker sets it.
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2025-03-01T00:00' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2025-03-01T23:59' } });
    const from = new Date('2025-03-01T00:00').getTime();
    const to = new Date('2025-03-01T23:59').getTime() + 60_000;
    await waitFor(() => {
      expect(filtersSent(calls)).toContainEqual({ limit: 200, offset: 0, sinceMs: from, untilMs: to });
    });
    // To before From is said.
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2025-02-01T00:00' } });
    expect(await screen.findByText('To is before From: swap them.')).toBeInTheDocument();
  });

  it('says how to fill an empty log, and how to get out of filters that match nothing', async () => {
    serveIpc(appInfo());
    const { user } = renderApp('audit');
    expect(await screen.findByText(/Nothing has been recorded yet\. Every action taken in Switchyard/)).toBeInTheDocument();
    expect(screen.queryByRole('table', { name: 'Audit log' })).not.toBeInTheDocument();

    await user.selectOptions(screen.getByRole('combobox', { name: 'Outcome' }), 'error');
    expect(await screen.findByText('No entries match these filters. Change or clear the filters.')).toBeInTheDocument();
    const clear = screen.getAllByRole('button', { name: 'Clear filters' });
    await user.click(clear[clear.length - 1] as HTMLElement);
    expect(await screen.findByText(/Nothing has been recorded yet/)).toBeInTheDocument();
    expect(screen.getByRole('combobox', { name: 'Outcome' })).toHaveValue('');
  });

  it('shows why the log cannot be read, and reads it again on Try again', async () => {
    let broken = true;
    serveIpc(appInfo(), {
      list_audit: (args) => {
        if (broken) {
          return fail({ code: 'Internal', message: 'The database is damaged.', runbook: null })(args);
        }
        return log(LOG)(args);
      },
    });
    const { user } = renderApp('audit');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Reading the audit log failed');
    expect(alert).toHaveTextContent('The database is damaged.');
    broken = false;
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('table', { name: 'Audit log' })).toBeInTheDocument();
  });

  it('exports every matching entry as CSV or JSON and says where it was saved; a cancelled dialog says nothing', async () => {
    let saved: string | null = '/home/op/audit-prod.csv';
    const calls = serveIpc(appInfo(), { list_audit: log(LOG), export_audit: () => saved });
    const { user } = renderApp('audit');
    await screen.findByText('5 entries');
    await user.selectOptions(screen.getByRole('combobox', { name: 'For profile' }), 'dotdo production');
    await user.click(screen.getByRole('button', { name: 'Export CSV…' }));
    expect(await screen.findByText('Saved to /home/op/audit-prod.csv')).toBeInTheDocument();
    const exported = calls.filter((c) => c.cmd === 'export_audit');
    // Every match, not the page loaded; no path from the window (the native dialog chooses).
    expect(exported[0]?.args).toEqual({ filter: { profileId: 'prod', limit: null, offset: null }, format: 'csv' });

    saved = null;
    await user.click(screen.getByRole('button', { name: 'Export JSON…' }));
    await waitFor(() => {
      expect(calls.filter((c) => c.cmd === 'export_audit')).toHaveLength(2);
    });
    await waitFor(() => {
      expect(screen.queryByText(/Saved to/)).not.toBeInTheDocument();
    });
    expect(calls.filter((c) => c.cmd === 'export_audit')[1]?.args.format).toBe('json');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('says why an export failed', async () => {
    serveIpc(appInfo(), {
      list_audit: log(LOG),
      export_audit: fail({
        code: 'InvalidInput',
        message: 'Could not write /ro/audit.csv (Permission denied); nothing was saved.',
        runbook: null,
      }),
    });
    const { user } = renderApp('audit');
    await screen.findByText('5 entries');
    await user.click(screen.getByRole('button', { name: 'Export CSV…' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Exporting the audit log failed');
    expect(alert).toHaveTextContent('nothing was saved');
  });

  it('renders only the entries in view of a long log and loads more as the view reaches the end', async () => {
    const many = Array.from({ length: 450 }, (_, i) =>
      auditRow({ seq: 10_000 - i, atMs: T - i * 60_000, target: `target-${i}` }),
    );
    const calls = serveIpc(appInfo(), { list_audit: log(many) });
    const { user } = renderApp('audit');
    await screen.findByText('450 entries');
    const rendered = entryRows();
    expect(rendered.length).toBeGreaterThan(10);
    expect(rendered.length).toBeLessThan(60);
    const offsets = () => filtersSent(calls).map((f) => f.offset);
    expect(offsets()).toEqual([0]);

    (rendered[0] as HTMLElement).focus();
    await user.keyboard('{End}');
    await waitFor(() => {
      expect(offsets()).toContain(200);
    });
    // The next page seeks to just after the last entry loaded (the 200th: target-199).
    expect(filtersSent(calls).find((f) => f.offset === 200)?.after).toEqual({ atMs: T - 199 * 60_000, seq: 10_000 - 199 });
    await user.keyboard('{End}');
    await waitFor(() => {
      expect(document.activeElement).toHaveTextContent('target-399');
    });
  });

  it('says "300+" when the count stopped there, scrolls past it, and counts exactly when asked', async () => {
    const many = Array.from({ length: 650 }, (_, i) =>
      auditRow({ seq: 10_000 - i, atMs: T - i * 60_000, target: `target-${i}` }),
    );
    const calls = serveIpc(appInfo(), { list_audit: log(many, 300) });
    const { user } = renderApp('audit');
    await screen.findByText('300+ entries');
    const rendered = entryRows();
    (rendered[0] as HTMLElement).focus();
    for (const last of ['target-199', 'target-399']) {
      await user.keyboard('{End}');
      await waitFor(() => {
        expect(document.activeElement).toHaveTextContent(last);
      });
    }
    await user.click(screen.getByRole('button', { name: 'Count exactly' }));
    expect(await screen.findByText('650 entries')).toBeInTheDocument();
    expect(filtersSent(calls).filter((f) => f.exactCount === true)).toHaveLength(1);
  });
});
