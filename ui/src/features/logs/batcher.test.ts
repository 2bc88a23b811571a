import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { createBatcher } from './batcher';

describe('log line batching', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers the first line after a quiet moment at once, not after the interval', () => {
    const batches: string[][] = [];
    const batcher = createBatcher<string>((b) => batches.push(b), 100);
    batcher.push('a');
    vi.advanceTimersByTime(0);
    expect(batches).toEqual([['a']]);
    // Still quiet long after: the next line is at once too.
    vi.advanceTimersByTime(500);
    batcher.push('b');
    vi.advanceTimersByTime(0);
    expect(batches).toEqual([['a'], ['b']]);
  });

  it('takes a flood in at most once an interval, every line kept in order', () => {
    const batches: number[][] = [];
    const batcher = createBatcher<number>((b) => batches.push(b), 100);
    // 1,000 lines over one second, one a millisecond.
    for (let i = 0; i < 1000; i += 1) {
      batcher.push(i);
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(100);
    expect(batches.length).toBeGreaterThanOrEqual(10);
    expect(batches.length).toBeLessThanOrEqual(11);
    expect(batches.flat()).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('does not hold lines back when the wall clock is set back', () => {
    const batches: string[][] = [];
    const batcher = createBatcher<string>((b) => batches.push(b), 100);
    batcher.push('a');
    vi.advanceTimersByTime(0);
    // The machine's clock is corrected an hour back; the next line still shows at once.
    vi.setSystemTime(Date.now() - 3_600_000);
    vi.advanceTimersByTime(200);
    batcher.push('b');
    vi.advanceTimersByTime(0);
    expect(batches).toEqual([['a'], ['b']]);
  });

  it('delivers nothing once cancelled', () => {
    const batches: string[][] = [];
    const batcher = createBatcher<string>((b) => batches.push(b), 100);
    batcher.push('a');
    vi.advanceTimersByTime(0);
    batcher.push('b');
    batcher.cancel();
    vi.advanceTimersByTime(1000);
    expect(batches).toEqual([['a']]);
  });
});
