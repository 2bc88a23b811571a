import { type InfiniteData, keepPreviousData, useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';

import { commands } from '../../ipc/bindings';
import {
  type AppError,
  type Timeline as Timeline,
  type TimelineCursor,
  type TimelineItem as TimelineItem,
  type TimelineNoteRequest,
  type TimelineWindow,
} from '../../ipc/types';
import { callCommand } from '../../ipc/errors';

export const timelineKey = ['timeline'] as const;

/** Items per page: the newest first, then "Show earlier items" reads the page before. */
export const TIMELINE_PAGE_SIZE = 200;

/** The page before `page`: before its first (oldest) item, when the window has earlier ones. */
export function earlierPage(page: Timeline): TimelineCursor | undefined {
  const first = page.items[0];
  return page.earlier > 0 && first !== undefined ? { atMs: first.atMs, id: first.id } : undefined;
}

/**
 * A profile's timeline over a window (null: not asked yet): its newest items first, each further
 * page the items before those already read (the pages are newest first, each oldest first).
 */
export function useTimeline(window: TimelineWindow | null) {
  return useInfiniteQuery<Timeline, AppError, InfiniteData<Timeline, TimelineCursor | null>, readonly unknown[], TimelineCursor | null>({
    queryKey: [...timelineKey, window],
    queryFn: ({ pageParam }) =>
      callCommand(() => commands.timeline({ ...(window ?? {}), limit: TIMELINE_PAGE_SIZE, before: pageParam })),
    initialPageParam: null,
    getNextPageParam: (last) => earlierPage(last),
    enabled: window !== null,
    placeholderData: keepPreviousData,
  });
}

/** The pages read as one timeline, oldest first: how many earlier items are left is the last page's. */
export function joinPages(pages: readonly Timeline[] | undefined): Timeline | undefined {
  const newest = pages?.[0];
  const oldest = pages?.at(-1);
  if (pages === undefined || newest === undefined || oldest === undefined) {
    return undefined;
  }
  // Each page is oldest first and comes before the one read before it; an item is shown once.
  const seen = new Set<string>();
  const items: TimelineItem[] = [];
  for (const page of [...pages].reverse()) {
    for (const item of page.items) {
      if (!seen.has(item.id)) {
        seen.add(item.id);
        items.push(item);
      }
    }
  }
  return {
    ...newest,
    items,
    earlier: oldest.earlier,
    earlierExact: oldest.earlierExact,
    pinned: items.filter((i) => i.pinned).map((i) => i.id),
  };
}

/** Pin or unpin an item; the timeline is read again. */
export function usePinItem() {
  const client = useQueryClient();
  return useMutation<null, AppError, { profileId: string; itemId: string; pinned: boolean }>({
    mutationFn: ({ profileId, itemId, pinned }) =>
      callCommand(() => commands.pinTimelineItem(profileId, itemId, pinned)),
    onSettled: () => client.invalidateQueries({ queryKey: timelineKey }),
  });
}

/** Write a note on a profile's timeline. */
export function useAddNote() {
  const client = useQueryClient();
  return useMutation<TimelineItem, AppError, TimelineNoteRequest>({
    mutationFn: (note) => callCommand(() => commands.addTimelineNote(note)),
    onSuccess: () => client.invalidateQueries({ queryKey: timelineKey }),
  });
}

/** The timeline as Markdown, for the clipboard. */
export function useTimelineMarkdown() {
  return useMutation<string, AppError, TimelineWindow>({
    mutationFn: (window) => callCommand(() => commands.timelineMarkdown(window)),
  });
}

/** Save the timeline as Markdown where the OS's save dialog says; the path, or null if cancelled. */
export function useSaveTimeline() {
  return useMutation<string | null, AppError, TimelineWindow>({
    mutationFn: (window) => callCommand(() => commands.saveTimelineMarkdown(window)),
  });
}
