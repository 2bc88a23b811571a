/**
 * Timestamps the benchmarks read (`cargo xtask bench`): when the window first showed real data,
 * and the steps on the way there (script start, app info and the first history page asked and
 * received).
 * Each mark is the wall-clock time (ms since the epoch) of the first commit that rendered it,
 * kept in `window.__switchyardMarks`. Nothing else reads them; they cost one object write.
 */
declare global {
  interface Window {
    __switchyardMarks?: Record<string, number>;
  }
}

export function markOnce(name: string): void {
  const marks = (window.__switchyardMarks ??= {});
  if (!(name in marks)) {
    marks[name] = performance.timeOrigin + performance.now();
  }
}

/**
 * Mark `name` once the frame after now has been painted (the next animation frame, then a task):
 * "the window shows it", measured the same way in the hello-world window it is compared with.
 */
export function markAfterPaint(name: string): void {
  requestAnimationFrame(() => {
    // The frame's start (before its style, layout and paint), for "where the time goes".
    markOnce(`${name}:frame`);
    setTimeout(() => {
      markOnce(name);
    }, 0);
  });
}
