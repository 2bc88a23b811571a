import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { commands } from '../../ipc/bindings';
import { type AppError, type Timeline as Timeline, type TimelineItem as TimelineItem, type TimelineNoteRequest, type TimelineWindow } from '../../ipc/types';
import { callCommand } from '../../ipc/errors';

export const timelineKey = ['timeline'] as const;

/** A profile's timeline over a window (null: not asked yet). */
export function useTimeline(window: TimelineWindow | null) {
  return useQuery<Timeline, AppError>({
    queryKey: [...timelineKey, window],
    queryFn: () => callCommand(() => commands.timeline(window ?? {})),
    enabled: window !== null,
    placeholderData: keepPreviousData,
  });
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
