/**
 * Take items in batches: the first item after a quiet moment is delivered at once (on the next
 * task), later ones together, at most once every `intervalMs`. A tail line of a quiet service
 * shows as soon as it comes; a busy service's hundreds of lines a second cost at most
 * `1000 / intervalMs` renders a second. Time is the page's monotonic clock: a wall clock set
 * back would otherwise hold lines back for as long.
 */
export interface Batcher<T> {
  push(item: T): void;
  /** Drop what is waiting and stop the timer (the area is leaving). */
  cancel(): void;
}

export function createBatcher<T>(deliver: (batch: T[]) => void, intervalMs: number): Batcher<T> {
  let pending: T[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastFlush = Number.NEGATIVE_INFINITY;
  const flush = () => {
    timer = null;
    lastFlush = performance.now();
    const batch = pending;
    pending = [];
    deliver(batch);
  };
  return {
    push(item) {
      pending.push(item);
      timer ??= setTimeout(flush, Math.max(0, lastFlush + intervalMs - performance.now()));
    },
    cancel() {
      if (timer !== null) {
        clearTimeout(timer);
      }
      timer = null;
      pending = [];
    },
  };
}
