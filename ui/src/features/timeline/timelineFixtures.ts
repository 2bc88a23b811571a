import { type Timeline, type TimelineItem } from '../../ipc/types';

/** A timeline as `timeline` answers for the window asked (`args.window`): the items given. */
export function timelineOf(args: Record<string, unknown>, items: TimelineItem[], overrides: Partial<Timeline> = {}): Timeline {
  const w = (args.window ?? {}) as { profileId?: string; sinceMs?: number | null; untilMs?: number | null };
  const until = w.untilMs ?? Date.parse('2025-03-01T13:00:00Z');
  return {
    profileId: w.profileId || 'local-sandbox',
    profileName: 'Local sandbox',
    sinceMs: w.sinceMs ?? until - 3_600_000,
    untilMs: until,
    run: null,
    items,
    notShown: 0,
    notShownExact: true,
    pinned: items.filter((i) => i.pinned).map((i) => i.id),
    ...overrides,
  };
}
