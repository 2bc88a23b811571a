import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import {
  type AppError,
  commands,
  type Timeline_Serialize as Timeline,
  type TimelineItem_Serialize as TimelineItem,
  type TimelineNoteRequest_Deserialize,
  type TimelineWindow_Deserialize,
} from '../../ipc/bindings';
import { callCommand } from '../../ipc/errors';

export const timelineKey = ['timeline'] as const;

/** A profile's timeline over a window (null: not asked yet). */
export function useTimeline(window: TimelineWindow_Deserialize | null) {
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
  return useMutation<TimelineItem, AppError, TimelineNoteRequest_Deserialize>({
    mutationFn: (note) => callCommand(() => commands.addTimelineNote(note)),
    onSuccess: () => client.invalidateQueries({ queryKey: timelineKey }),
  });
}

/** The timeline as Markdown, for the clipboard. */
export function useTimelineMarkdown() {
  return useMutation<string, AppError, TimelineWindow_Deserialize>({
    mutationFn: (window) => callCommand(() => commands.timelineMarkdown(window)),
  });
}

/** Save the timeline as Markdown where the OS's save dialog says; the path, or null if cancelled. */
export function useSaveTimeline() {
  return useMutation<string | null, AppError, TimelineWindow_Deserialize>({
    mutationFn: (window) => callCommand(() => commands.saveTimelineMarkdown(window)),
  });
}
