import { type Timeline, type TimelineItem, type TimelineWindow } from '../../ipc/types';

/** A timeline as `timeline` answers for the window asked (`args.window`): the items given. */
export function timelineOf(args: Record<string, unknown>, all: TimelineItem[], overrides: Partial<Timeline> = {}): Timeline {
  const w = (args.window ?? {}) as TimelineWindow;
  const until = w.untilMs ?? Date.parse('2025-03-01T13:00:00Z');
  // As the engine pages (`all` is in the timeline's order): the newest `limit` before `before`.
  const before = w.before;
  const end = before == null ? all.length : all.findIndex((i) => i.id === before.id);
  const upTo = end < 0 ? all.length : end;
  const start = w.limit == null ? 0 : Math.max(0, upTo - w.limit);
  const items = all.slice(start, upTo);
  return {
    profileId: w.profileId || 'local-sandbox',
    profileName: 'Local sandbox',
    sinceMs: w.sinceMs ?? until - 3_600_000,
    untilMs: until,
    run: null,
    items,
    notShown: 0,
    notShownExact: true,
    earlier: w.limit == null ? 0 : start,
    earlierExact: true,
    pinned: items.filter((i) => i.pinned).map((i) => i.id),
    ...overrides,
  };
}
