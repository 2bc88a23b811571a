import { MantineProvider } from '@mantine/core';
import { act, fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { LogLine } from '../../ipc/types';
import type { LogEntry } from './logModel';
import { LogsTable } from './LogsTable';

const AT = new Date(2025, 2, 1, 14, 7, 3, 123).getTime();

function entry(id: number): LogEntry {
  const line: LogLine = {
    service: 'gateway',
    script: 'gateway',
    namespace: 'dotdo-production',
    outcome: 'ok',
    method: 'GET',
    url: `https://gateway.do/api/${id}`,
    status: 200,
    timestampMs: AT + id,
    logs: [{ level: 'log', text: `GET /api/${id} answered 200 after a long enough line to wrap in a narrow window`, timestampMs: AT + id }],
    exceptions: [],
  };
  return { id, line };
}

/** Make the scroll box report these sizes (jsdom lays nothing out). */
function size(box: HTMLElement, top: number, height: number, client: number) {
  Object.defineProperty(box, 'scrollTop', { configurable: true, writable: true, value: top });
  Object.defineProperty(box, 'scrollHeight', { configurable: true, value: height });
  Object.defineProperty(box, 'clientHeight', { configurable: true, value: client });
}

describe('Logs table', () => {
  it('keeps following the newest line when rows turn out taller than estimated, and stops only when scrolled up', () => {
    const entries = Array.from({ length: 30 }, (_, i) => entry(i));
    render(
      <MantineProvider>
        <LogsTable entries={entries} />
      </MantineProvider>,
    );
    const box = screen.getByRole('region', { name: 'Log lines, newest at the bottom' });
    // At the end.
    size(box, 1000, 1400, 400);
    fireEvent.scroll(box);
    expect(screen.queryByRole('button', { name: /Jump to the newest/ })).not.toBeInTheDocument();
    // Rows measured taller push the end down; nobody scrolled (scrollTop did not move up).
    size(box, 1000, 2100, 400);
    act(() => {
      fireEvent.scroll(box);
    });
    expect(screen.queryByRole('button', { name: /Jump to the newest/ })).not.toBeInTheDocument();
    // The operator scrolls up to read: following stops, and the way back is offered.
    size(box, 600, 2100, 400);
    act(() => {
      fireEvent.scroll(box);
    });
    expect(screen.getByRole('button', { name: /Jump to the newest/ })).toBeInTheDocument();
  });
});
