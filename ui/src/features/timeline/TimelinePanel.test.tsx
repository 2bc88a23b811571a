import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { type RunDetail, type Runbook, type TimelineItem, type TimelineWindow } from '../../ipc/types';
import { appInfo, renderApp, serveIpc } from '../../test/render';
import { timelineOf } from './timelineFixtures';

const T = Date.parse('2025-03-01T12:00:00Z');

function item(overrides: Partial<TimelineItem>): TimelineItem {
  return {
    id: 'audit:1',
    atMs: T,
    kind: 'audit',
    title: 'namespace.create dotdo-staging',
    detail: null,
    actor: 'ana',
    outcome: 'ok',
    tone: 'ok',
    outputTail: null,
    logLines: [],
    pinned: false,
    ...overrides,
  };
}

const ITEMS = [
  item({ id: 'audit:7', atMs: T, title: 'namespace.create dotdo-staging' }),
  item({
    id: `health:gateway:${T + 60_000}`,
    atMs: T + 60_000,
    kind: 'health',
    title: 'gateway went down (503)',
    actor: null,
    outcome: 'down',
    tone: 'error',
  }),
  item({
    id: 'step:run-1:4',
    atMs: T + 120_000,
    kind: 'step',
    title: 'Step 2 "Run the check" failed: The command failed with exit status 3.',
    detail: 'Run "Drill" (run-1)',
    outcome: 'failed',
    tone: 'error',
    outputTail: 'check line 14\ncheck line 15',
  }),
  item({ id: 'note:2', atMs: T + 180_000, kind: 'note', title: 'Paged the on-call', outcome: null, tone: 'neutral' }),
];

/** A store of pins, as the engine keeps them: `timeline` marks them, `pin_timeline_item` sets them. */
function pinnedStore() {
  const pins = new Set<string>();
  return {
    timeline: (args: Record<string, unknown>) =>
      timelineOf(
        args,
        ITEMS.map((i) => ({ ...i, pinned: pins.has(i.id) })),
      ),
    pin_timeline_item: (args: Record<string, unknown>) => {
      const id = args.itemId as string;
      if (args.pinned === true) pins.add(id);
      else pins.delete(id);
      return null;
    },
  };
}

async function openTimeline(handlers: Parameters<typeof serveIpc>[1] = {}) {
  const calls = serveIpc(appInfo(), { ...pinnedStore(), ...handlers });
  const rendered = renderApp('audit');
  // The audit log is the default tab.
  const logTab = await screen.findByRole('tab', { name: 'Audit log' });
  expect(logTab).toHaveAttribute('aria-selected', 'true');
  await rendered.user.click(screen.getByRole('tab', { name: 'Timeline' }));
  const list = await screen.findByRole('list', { name: 'Timeline' });
  return { calls, list, ...rendered };
}

describe('Timeline tab of the Audit area', () => {
  it('lists one profile’s items oldest first: time, kind, title, outcome, detail, output tail', async () => {
    const { calls, list } = await openTimeline();
    const rows = within(list).getAllByRole('listitem');
    expect(rows.map((r) => within(r).getByRole('button').getAttribute('aria-label'))).toEqual([
      'Pin namespace.create dotdo-staging',
      'Pin gateway went down (503)',
      'Pin Step 2 "Run the check" failed: The command failed with exit status 3.',
      'Pin Paged the on-call',
    ]);
    expect(rows[1]).toHaveTextContent('health');
    expect(rows[1]).toHaveTextContent('down');
    expect(within(rows[2] as HTMLElement).getByLabelText(/^Last lines of output/)).toHaveTextContent('check line 15');
    expect(screen.getByText(/^4 items on Local sandbox, from /)).toBeInTheDocument();
    // The last hour of the active profile, ending now (the engine's now).
    const asked = calls.find((c) => c.cmd === 'timeline')?.args.window as TimelineWindow;
    expect(asked).toMatchObject({ profileId: 'local-sandbox', runId: null, untilMs: null });
    expect(asked.sinceMs).toBeGreaterThan(Date.now() - 3_700_000);
  });

  it('says what was looked at when the window is empty', async () => {
    serveIpc(appInfo(), { timeline: (args) => timelineOf(args, []) });
    const { user } = renderApp('audit');
    await user.click(await screen.findByRole('tab', { name: 'Timeline' }));
    expect(await screen.findByText(/^Nothing was recorded on Local sandbox, from .* to .*: no action in the audit log/)).toBeInTheDocument();
    expect(screen.queryByRole('list', { name: 'Timeline' })).not.toBeInTheDocument();
  });

  it('pins and unpins an item with a toggle button', async () => {
    const { calls, user } = await openTimeline();
    const pin = screen.getByRole('button', { name: 'Pin gateway went down (503)' });
    expect(pin).toHaveAttribute('aria-pressed', 'false');
    await user.click(pin);
    expect(calls.find((c) => c.cmd === 'pin_timeline_item')?.args).toEqual({
      profileId: 'local-sandbox',
      itemId: `health:gateway:${T + 60_000}`,
      pinned: true,
    });
    await waitFor(() => {
      expect(screen.getByRole('button', { name: 'Pin gateway went down (503)' })).toHaveAttribute('aria-pressed', 'true');
    });
    expect(screen.getByText(/· 1 pinned$/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Pin gateway went down (503)' }));
    await waitFor(() => {
      expect(screen.getByRole('button', { name: 'Pin gateway went down (503)' })).toHaveAttribute('aria-pressed', 'false');
    });
    expect(calls.filter((c) => c.cmd === 'pin_timeline_item').map((c) => c.args.pinned)).toEqual([true, false]);
  });

  it('copies the timeline as Markdown to the clipboard, and saves it through the save dialog', async () => {
    const markdown = '# Incident timeline: Local sandbox\n\n## Pinned\n\n## Timeline\n\n- **note** 12:03 — ana — note: Paged\n';
    const { calls, user } = await openTimeline({
      timeline_markdown: () => markdown,
      save_timeline_markdown: () => '/home/op/timeline-local-sandbox.md',
    });
    await user.click(screen.getByRole('button', { name: 'Copy as Markdown' }));
    expect(await screen.findByText('Copied the timeline (4 items) to the clipboard as Markdown.')).toBeInTheDocument();
    expect(await navigator.clipboard.readText()).toBe(markdown);
    // The whole window, not the page the tab shows.
    const window = calls.find((c) => c.cmd === 'timeline_markdown')?.args.window;
    const shown = calls.find((c) => c.cmd === 'timeline')?.args.window as TimelineWindow;
    expect(window).toEqual({ ...shown, limit: undefined, before: undefined });
    await user.click(screen.getByRole('button', { name: 'Save as Markdown…' }));
    expect(await screen.findByText('Saved to /home/op/timeline-local-sandbox.md')).toBeInTheDocument();
    // The webview names no path: only the window goes.
    expect(Object.keys(calls.find((c) => c.cmd === 'save_timeline_markdown')?.args ?? {})).toEqual(['window']);
  });

  it('shows a failure from the logs with the requests around it, monospace, the failure marked', async () => {
    const at = T + 240_000;
    const line = (n: number, failed = false, focus = false) => ({
      atMs: at + (n - 9) * 1_000,
      text: failed
        ? `gateway GET https://gateway.do/boom?n=${n} → 500 (exception)\n    [log] request ${n}\n    ✖ Error: boom at request ${n}`
        : `gateway GET https://gateway.do/?n=${n} → 200 (ok)\n    [log] request ${n}`,
      failed,
      focus,
    });
    const log = item({
      id: 'log:31',
      atMs: at,
      kind: 'log',
      title: 'gateway GET https://gateway.do/boom?n=9 → 500 (exception): Error: boom at request 9',
      detail: 'Logs of gateway · 2 invocations before, 2 after',
      actor: null,
      outcome: 'exception',
      tone: 'error',
      logLines: [line(7), line(8), line(9, true, true), line(10), line(11, true)],
    });
    const { calls, user } = await openTimeline({ timeline: (args) => timelineOf(args, [...ITEMS, log]) });
    const row = screen.getByRole('listitem', { name: log.title });
    expect(row).toHaveTextContent('logs');
    expect(row).toHaveTextContent('exception');
    expect(row).toHaveTextContent('Logs of gateway · 2 invocations before, 2 after');
    const excerpt = within(row).getByRole('list', { name: `Log excerpt: ${log.title}` });
    const lines = within(excerpt).getAllByRole('listitem');
    expect(lines.map((l) => /request (\d+)/.exec(l.textContent)?.[1])).toEqual(['7', '8', '9', '10', '11']);
    // The item's own failure is marked (for the eye and for a screen reader); a later one too, as another.
    expect(lines.filter((l) => l.getAttribute('aria-current') === 'true')).toEqual([lines[2]]);
    expect(lines[2]).toHaveTextContent(/^▶This failure: \d\d:\d\d:\d\d\.\d{3}gateway GET .*boom at request 9$/);
    expect(lines[4]).toHaveTextContent(/^✖Another failure: /);
    expect(lines[1]).not.toHaveTextContent(/failure/);
    expect(excerpt).toHaveClass('sy-tl-log');
    // Multi-line invocations keep their lines.
    expect(within(lines[2] as HTMLElement).getByText(/✖ Error: boom at request 9/).textContent).toContain('\n    [log] request 9\n');
    // Pinnable like any item.
    await user.click(within(row).getByRole('button', { name: `Pin ${log.title}` }));
    expect(calls.find((c) => c.cmd === 'pin_timeline_item')?.args).toEqual({
      profileId: 'local-sandbox',
      itemId: 'log:31',
      pinned: true,
    });
  });

  it('adds a note at the current time', async () => {
    const { calls, user } = await openTimeline({
      add_timeline_note: (args) => item({ id: 'note:9', atMs: Date.now(), kind: 'note', title: (args.note as { text: string }).text }),
    });
    const box = screen.getByRole('region', { name: 'Add a note' });
    expect(within(box).getByRole('button', { name: 'Add a note' })).toBeDisabled();
    await user.type(within(box).getByRole('textbox', { name: 'Note' }), 'Rolled back by hand');
    await user.click(within(box).getByRole('button', { name: 'Add a note' }));
    expect(calls.find((c) => c.cmd === 'add_timeline_note')?.args).toEqual({
      note: { profileId: 'local-sandbox', atMs: null, text: 'Rolled back by hand', runId: null },
    });
    expect(await screen.findByText(/^Note added at /)).toBeInTheDocument();
  });
});

const DRILL: Runbook = {
  id: 'user/drill',
  title: 'Timeline drill',
  category: 'My runbooks',
  replaces: null,
  summary: 'Practise.',
  inputs: [],
  origin: 'builtIn',
  steps: [{ index: 0, id: 'look', title: 'Look around', line: 5, markdown: '', checks: [], action: null, gate: false, condition: null }],
};

const RUN_DETAIL: RunDetail = {
  summary: {
    id: 'run-42',
    profileId: 'local-sandbox',
    runbookId: DRILL.id,
    title: DRILL.title,
    state: 'running',
    rehearsal: false,
    startedMs: T,
    startedBy: 'ana',
    finishedMs: null,
    progress: { total: 1, passed: 0, failed: 0, skipped: 0, interrupted: 0, running: 0 },
    currentStep: 0,
  },
  runbook: DRILL,
  profileName: 'Local sandbox',
  environment: 'production',
  inputs: {},
  steps: [
    {
      index: 0,
      id: 'look',
      title: 'Look around',
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
      checks: [],
    },
  ],
  events: [{ seq: 1, stepIndex: null, atMs: T, by: 'ana', kind: 'run.started', message: 'Run started' }],
  finishedBy: null,
  endReason: null,
  notReached: [],
  escalation: null,
};

describe('A long timeline', () => {
  it('shows the newest 200 items, then the earlier ones page by page until every item is listed', async () => {
    const many = Array.from({ length: 450 }, (_, i) =>
      // Two items a minute: every page boundary may fall between items of one time.
      item({ id: `audit:${i + 1}`, atMs: T + Math.floor(i / 2) * 60_000, title: `deploy.run svc-${i}` }),
    );
    const { calls, list, user } = await openTimeline({ timeline: (args) => timelineOf(args, many) });
    expect(within(list).getAllByRole('listitem')).toHaveLength(200);
    expect(within(list).getAllByRole('listitem')[0]).toHaveTextContent('svc-250');
    expect(screen.getByText('250 earlier items in this window are not shown yet.')).toBeInTheDocument();
    const asked = () => calls.filter((c) => c.cmd === 'timeline').map((c) => c.args.window as TimelineWindow);
    expect(asked()[0]).toMatchObject({ limit: 200, before: null });

    await user.click(screen.getByRole('button', { name: 'Show earlier items' }));
    await waitFor(() => {
      expect(within(list).getAllByRole('listitem')).toHaveLength(400);
    });
    // The page before the first item shown.
    expect(asked().at(-1)).toMatchObject({ limit: 200, before: { atMs: T + 125 * 60_000, id: 'audit:251' } });
    await user.click(screen.getByRole('button', { name: 'Show earlier items' }));
    await waitFor(() => {
      expect(within(list).getAllByRole('listitem')).toHaveLength(450);
    });
    // Every item once, oldest first; nothing earlier is left to show.
    const titles = within(list)
      .getAllByRole('listitem')
      .map((li) => /svc-(\d+)/.exec(li.textContent)?.[1]);
    expect(titles).toEqual(many.map((_, i) => String(i)));
    expect(screen.queryByRole('button', { name: 'Show earlier items' })).not.toBeInTheDocument();
  });
});

describe('Open timeline from a runbook run', () => {
  it('lands on the Audit area’s Timeline tab with the run’s window', async () => {
    const calls = serveIpc(appInfo(), {
      list_runs: () => [RUN_DETAIL.summary],
      run_detail: () => RUN_DETAIL,
      timeline: (args) =>
        timelineOf(args, ITEMS, {
          sinceMs: T - 15 * 60_000,
          untilMs: T + 10 * 60_000,
          run: { id: 'run-42', title: 'Timeline drill', startedMs: T, finishedMs: null },
        }),
    });
    const { user } = renderApp('runbooks');
    await user.click(await screen.findByRole('button', { name: 'Resume Timeline drill' }));
    await user.click(await screen.findByRole('button', { name: 'Open timeline' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Audit' })).toBeInTheDocument();
    expect(await screen.findByRole('tab', { name: 'Timeline' })).toHaveAttribute('aria-selected', 'true');
    expect(await screen.findByRole('list', { name: 'Timeline' })).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'timeline')?.args.window).toEqual({
      profileId: '',
      runId: 'run-42',
      sinceMs: null,
      untilMs: null,
      limit: 200,
      before: null,
    });
    expect(screen.getByRole('combobox', { name: 'Window' })).toHaveValue('run:run-42');
    expect(screen.getByText(/^4 items on Local sandbox around the run “Timeline drill”, from /)).toBeInTheDocument();
  });
});
