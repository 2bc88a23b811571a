import { useEffect, useState } from 'react';

/** A time as the operator's clock shows it (local time zone, their locale). */
/** One formatter for every timestamp shown (building one per call costs ~50 µs a cell). */
let localTimeFormat: Intl.DateTimeFormat | undefined;

export function formatLocalTime(ms: number): string {
  localTimeFormat ??= new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  return localTimeFormat.format(ms);
}

const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "3 minutes ago", "just now", "in 2 hours" (a clock ahead of the sync time). */
export function formatRelative(ms: number, nowMs: number): string {
  const diff = ms - nowMs;
  const abs = Math.abs(diff);
  if (abs < 60_000) {
    return 'just now';
  }
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of UNITS) {
    if (abs >= size) {
      return format.format(Math.round(diff / size), unit);
    }
  }
  return 'just now';
}

/** "As of <local time> (<relative>)". */
export function formatAsOf(ms: number, nowMs: number): string {
  return `As of ${formatLocalTime(ms)} (${formatRelative(ms, nowMs)})`;
}

/** The current time, updated every `everyMs` so relative times stay true. */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => {
      setNow(Date.now());
    }, everyMs);
    return () => {
      window.clearInterval(timer);
    };
  }, [everyMs]);
  return now;
}

/** "14:07" (24-hour, local) today; "Mar 1, 14:07" on another day. */
export function formatClock(ms: number, nowMs: number = Date.now()): string {
  const d = new Date(ms);
  const now = new Date(nowMs);
  const hhmm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const sameDay =
    d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  if (sameDay) {
    return hhmm;
  }
  const day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' }).format(d);
  return `${day}, ${hhmm}`;
}
