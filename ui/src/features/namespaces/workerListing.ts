import { useQuery } from '@tanstack/react-query';
import { Channel } from '@tauri-apps/api/core';
import { useCallback, useEffect, useRef, useState } from 'react';

import { commands } from '../../ipc/bindings';
import { callCommand } from '../../ipc/errors';
import { namespaceKeys } from '../../ipc/namespaces';
import type { AppError, WorkerListingProgress, WorkerRow, WorkerWindow } from '../../ipc/types';
import type { WorkerSort } from './workerRows';

/** Under the workers' key, so whatever refreshes the workers (a delete, new tags) lists them again. */
export const workerListingKey = (profileId: string, namespace: string) =>
  [...namespaceKeys.workers(profileId, namespace), 'listing'] as const;

/**
 * The workers of a namespace, listed into a listing kept in the app process (Rust), a page
 * (1,000) at a time as Cloudflare answers: `data` names the listing and says how many have
 * arrived (`done: false`) from the first page on, then that all have. When a page fails, the
 * query's error says what failed and `data` keeps naming the listing, which keeps the workers
 * listed before it. The window never holds the workers: it asks the listing for those it shows
 * ({@link useWorkerWindow}). Left (unmounted), the listing is closed and its workers freed.
 */
export function useWorkerListing(profileId: string, namespace: string) {
  const key = workerListingKey(profileId, namespace);
  const query = useQuery<WorkerListingProgress, AppError>({
    queryKey: key,
    queryFn: async ({ client }) => {
      const channel = new Channel<WorkerListingProgress>();
      channel.onmessage = (progress) => {
        // Each page: the count and the rows in view are asked again (useWorkerWindow).
        const now = client.getQueryData<WorkerListingProgress>(key);
        if (now?.listing !== progress.listing || now.loaded < progress.loaded) {
          client.setQueryData<WorkerListingProgress>(key, progress);
        }
      };
      return callCommand(() => commands.openWorkerListing(profileId, namespace, channel));
    },
    // A listing is kept in the app process only while the namespace is shown: nothing to reuse later.
    gcTime: 0,
    staleTime: Infinity,
  });
  // The listing shown is closed once another replaces it (a refresh) or the namespace is left.
  const listing = query.data?.listing;
  useEffect(() => {
    if (listing === undefined) {
      return;
    }
    return () => {
      void commands.closeWorkerListing(listing);
    };
  }, [listing]);
  return query;
}

/** Rows asked beyond those in view, either side (scrolling a little shows rows already there). */
export const WINDOW_MARGIN = 16;

/** The rows the table shows: [start, end). */
export interface RowRange {
  start: number;
  end: number;
}

/** The same worker, shown the same: its tags and every field alike. */
function sameWorker(a: WorkerRow, b: WorkerRow): boolean {
  return (
    a.name === b.name &&
    a.service === b.service &&
    a.environment === b.environment &&
    a.commit === b.commit &&
    a.branch === b.branch &&
    a.version === b.version &&
    a.createdOn === b.createdOn &&
    a.modifiedOn === b.modifiedOn &&
    a.tags.length === b.tags.length &&
    a.tags.every((t, i) => t === b.tags[i])
  );
}

/**
 * `answer`'s rows, each one shown before (same worker, same fields) kept as the object it was:
 * the table's memoized rows skip those (a page arrived, a scroll, a search keeping some rows).
 */
function keepShownRows(answer: WorkerWindow, before: WorkerWindow | undefined): WorkerWindow {
  if (before === undefined || before.rows.length === 0) {
    return answer;
  }
  const shown = new Map(before.rows.map((row) => [row.name, row]));
  let kept = 0;
  const rows = answer.rows.map((row) => {
    const old = shown.get(row.name);
    if (old !== undefined && sameWorker(old, row)) {
      kept++;
      return old;
    }
    return row;
  });
  return kept === 0 ? answer : { ...answer, rows };
}

interface WindowAsk {
  search: string;
  tag: string | null;
  sort: WorkerSort;
  /** The worker asked for by name (the palette's "Open worker"), until found. */
  find: string | null;
}

export interface WorkerView {
  /** The latest answer (kept while the next is on its way). */
  window: WorkerWindow | null;
  /** The worker name `window` was asked to find (its `found`), if any. */
  answeredFind: string | null;
  /** The Tag filter's groups, as of the last count of workers listed. */
  groups: WorkerWindow['groups'];
  error: AppError | null;
  /** The table's visible rows changed. */
  onRange: (start: number, end: number) => void;
}

/**
 * The window onto a listing: one query per change (a keystroke, a tag, a sort, a page arrived,
 * a scroll beyond the rows fetched), answered with the count and the rows in view plus a margin.
 * Answers that arrive after a later one are dropped. A listing no longer kept (NotFound) is
 * opened again through `reopen`.
 */
export function useWorkerWindow(
  progress: WorkerListingProgress | undefined,
  ask: WindowAsk,
  reopen: () => void,
): WorkerView {
  const [view, setView] = useState<{ answer: WorkerWindow; key: string; find: string | null } | null>(null);
  const [groups, setGroups] = useState<{ of: string; groups: WorkerWindow['groups'] }>({ of: '', groups: null });
  const [error, setError] = useState<AppError | null>(null);
  const [range, setRange] = useState<RowRange>({ start: 0, end: 40 });
  const asked = useRef(0);
  const answered = useRef(0);

  const listing = progress?.listing;
  const loaded = progress?.loaded ?? 0;
  const done = progress?.done ?? false;
  const { search, tag, sort, find } = ask;
  // What the answer depends on besides the window: a new one of these asks again.
  const askKey = [listing, search, tag, sort.key, sort.direction, loaded, done, find].join('\n');
  const groupsKey = `${String(listing)}:${String(loaded)}`;

  // The rows fetched cover those in view (same question): nothing to ask.
  const current = view?.answer;
  const covered =
    current !== undefined &&
    view?.key === askKey &&
    range.start >= current.offset &&
    (range.end <= current.offset + current.rows.length || current.offset + current.rows.length >= current.matching);
  const offset = Math.max(0, range.start - WINDOW_MARGIN);
  const limit = Math.min(1000, range.end - range.start + 2 * WINDOW_MARGIN);
  const withGroups = groups.of !== groupsKey;

  useEffect(() => {
    if (listing === undefined || covered) {
      return;
    }
    const seq = ++asked.current;
    void callCommand(() =>
      commands.queryWorkerListing({
        listing,
        search,
        tag,
        sort: sort.key,
        descending: sort.direction === 'descending',
        offset,
        limit,
        withGroups,
        find,
      }),
    ).then(
      (answer) => {
        // An older question answered after a newer one: the newer one's answer stands.
        if (seq < answered.current) {
          return;
        }
        answered.current = seq;
        if (answer.groups !== null) {
          setGroups({ of: groupsKey, groups: answer.groups });
        }
        setError(null);
        setView((before) => ({ answer: keepShownRows(answer, before?.answer), key: askKey, find }));
      },
      (e: unknown) => {
        if (seq < answered.current) {
          return;
        }
        answered.current = seq;
        const appError = e as AppError;
        if (appError.code === 'NotFound') {
          // The listing is no longer kept: list the namespace again.
          reopen();
          return;
        }
        setError(appError);
      },
    );
  }, [listing, covered, askKey, search, tag, sort, offset, limit, find, withGroups, groupsKey, reopen]);

  const onRange = useCallback((start: number, end: number) => {
    setRange((r) => (r.start === start && r.end === end ? r : { start, end }));
  }, []);
  return { window: view?.answer ?? null, answeredFind: view?.find ?? null, groups: groups.groups, error, onRange };
}
