import type { Use } from './fuzzy';

/** Where the palette keeps which actions were used, how often and when (this window's storage). */
export const HISTORY_KEY = 'switchyard.palette.history';

/** Most actions remembered: the least recently used go first. */
export const HISTORY_LIMIT = 50;

interface Stored {
  id: string;
  count: number;
  lastMs: number;
}

function isStored(value: unknown): value is Stored {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const v = value as Record<string, unknown>;
  return typeof v.id === 'string' && typeof v.count === 'number' && typeof v.lastMs === 'number';
}

/** The remembered uses; nothing when storage is unavailable or holds something else. */
export function loadUses(): Map<string, Use> {
  try {
    const raw = window.localStorage.getItem(HISTORY_KEY);
    const parsed: unknown = raw === null ? [] : JSON.parse(raw);
    const list = Array.isArray(parsed) ? parsed.filter(isStored) : [];
    return new Map(list.slice(0, HISTORY_LIMIT).map((s) => [s.id, { count: s.count, lastMs: s.lastMs }]));
  } catch {
    return new Map();
  }
}

/** Count one more use of `id` now, keep at most HISTORY_LIMIT actions, and save. */
export function recordUse(uses: ReadonlyMap<string, Use>, id: string, nowMs: number): Map<string, Use> {
  const next = new Map(uses);
  const before = next.get(id);
  next.set(id, { count: (before?.count ?? 0) + 1, lastMs: nowMs });
  const kept = [...next.entries()].sort((a, b) => b[1].lastMs - a[1].lastMs).slice(0, HISTORY_LIMIT);
  try {
    const stored: Stored[] = kept.map(([key, use]) => ({ id: key, count: use.count, lastMs: use.lastMs }));
    window.localStorage.setItem(HISTORY_KEY, JSON.stringify(stored));
  } catch {
    // Storage full or unavailable: the palette still works, it only forgets.
  }
  return new Map(kept);
}
