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

  it('prepares a plan whose preparing streams, then applies it after the same steps; a new run starts empty', async () => {
    mockIPC(() => null);
    const { result } = renderHook(() => useStreamedRun('local-sandbox'), { wrapper });
    let planned: Promise<unknown> = Promise.resolve();
    let finishPlan: (value: { status: 'ok'; data: string }) => void = () => undefined;
    act(() => {
      planned = result.current.prepare((events) => {
        deliverOnChannel(events, 0, { kind: 'step', step: 'build', state: 'passed', detail: null });
        return new Promise<{ status: 'ok'; data: string }>((resolve) => {
          finishPlan = resolve;
        });
      });
    });
    expect(result.current.preparing).toBe(true);
    expect(result.current.running).toBe(false);
    await act(async () => {
      finishPlan({ status: 'ok', data: 'plan_1' });
      await planned;
    });
    await expect(planned).resolves.toEqual({ ok: true, value: 'plan_1' });
    expect(result.current.preparing).toBe(false);

    await act(async () => {
      await result.current.apply((events) => {
        deliverOnChannel(events, 0, { kind: 'step', step: 'upload', state: 'failed', detail: 'refused' });
        return Promise.resolve({ status: 'error' as const, error: { code: 'Conflict', message: 'Something deployed meanwhile.' } });
      });
    });
    // The apply's steps follow the preparation's, as one run.
    expect(result.current.progress.order).toEqual(['build', 'upload']);
    // Applying a second time (back to the plan, confirmed again) keeps adding to the same run.
    await act(async () => {
      await result.current.apply((events) => {
        deliverOnChannel(events, 0, { kind: 'step', step: 'upload', state: 'passed', detail: null });
        return Promise.resolve({ status: 'ok' as const, data: 'deploy_1' });
      });
    });
    expect(result.current.progress.order).toEqual(['build', 'upload']);
    expect(result.current.progress.steps.upload?.state).toBe('passed');

    // Cleared (another deploy): an apply without a preparation starts from nothing.
    act(() => {
      result.current.clear();
    });
    await act(async () => {
      await result.current.apply((events) => {
        deliverOnChannel(events, 0, { kind: 'step', step: 'verifyHealth', state: 'passed', detail: null });
        return Promise.resolve({ status: 'ok' as const, data: 'deploy_2' });
      });
    });
    expect(result.current.progress.order).toEqual(['verifyHealth']);
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
