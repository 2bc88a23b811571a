import { mockIPC } from '@tauri-apps/api/mocks';
import { act, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';

import { createQueryClient, Providers } from '../../shell/Providers';
import { deliverOnChannel } from '../../test/render';
import { useStreamedRun } from './useStreamedRun';

function wrapper({ children }: { children: ReactNode }) {
  return (
    <Providers env="test" queryClient={createQueryClient()}>
      {children}
    </Providers>
  );
}

describe('a streamed run', () => {
  it('shows the events of the run as they come, then ends with what the command returned', async () => {
    mockIPC(() => null);
    const { result } = renderHook(() => useStreamedRun('local-sandbox'), { wrapper });
    let finish: (value: { status: 'ok'; data: string }) => void = () => undefined;
    let ended: Promise<unknown> = Promise.resolve();
    act(() => {
      ended = result.current.apply((events) => {
        deliverOnChannel(events, 0, { kind: 'step', step: 'upload', state: 'running', detail: null });
        deliverOnChannel(events, 1, { kind: 'output', step: 'upload', stream: 'stdout', line: 'sent 2 KiB' });
        return new Promise<{ status: 'ok'; data: string }>((resolve) => {
          finish = resolve;
        });
      });
    });
    expect(result.current.running).toBe(true);
    expect(result.current.progress.order).toEqual(['upload']);
    expect(result.current.progress.steps.upload?.state).toBe('running');
    expect(result.current.progress.steps.upload?.lines).toEqual([{ stream: 'stdout', line: 'sent 2 KiB' }]);

    await act(async () => {
      finish({ status: 'ok', data: 'deploy_1' });
      await ended;
    });
    await expect(ended).resolves.toEqual({ ok: true, value: 'deploy_1' });
    expect(result.current.running).toBe(false);
    // The progress stays to be read until another run or a clear.
    expect(result.current.progress.order).toEqual(['upload']);
    act(() => {
      result.current.clear();
    });
    expect(result.current.progress.order).toEqual([]);
  });

  it('ends with the engine’s error rather than throwing it, and is no longer running', async () => {
    mockIPC(() => null);
    const { result } = renderHook(() => useStreamedRun('local-sandbox'), { wrapper });
    let end: unknown;
    await act(async () => {
      end = await result.current.apply(() =>
        Promise.resolve({ status: 'error' as const, error: { code: 'Unreachable', message: 'The Deploy API did not answer.' } }),
      );
    });
    expect(end).toEqual({ ok: false, error: { code: 'Unreachable', message: 'The Deploy API did not answer.', runbook: null } });
    expect(result.current.running).toBe(false);
  });
});
