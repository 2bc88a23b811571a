/**
 * A stand-in, for the window's tests, of the workers' listing the app process keeps
 * (crates/switchyard-ops/src/worker_listing.rs, whose own tests check the search, sort, tag
 * groups and windows against a real sandbox): the same answers for the small lists tests serve.
 */
import { WORKER_COLUMNS } from '../features/namespaces/workerRows';
import type { WorkerQuery, WorkerRow, WorkerWindow } from '../ipc/types';

/** The workers' pages a test serves: `add` delivers one page (as Rust does after each). */
export type WorkerPages = (args: Record<string, unknown>, add: (rows: readonly WorkerRow[]) => void) => Promise<void> | void;

interface Listing {
  rows: WorkerRow[];
  done: boolean;
  stopped: boolean;
}

const FILTER_KEYS = ['service', 'env', 'branch', 'version'] as const;

function groupsOf(rows: readonly WorkerRow[]): { key: string; tags: string[] }[] {
  const seen = new Map<string, Set<string>>(FILTER_KEYS.map((k) => [k, new Set<string>()]));
  for (const w of rows) {
    for (const t of w.tags) {
      const colon = t.indexOf(':');
      if (colon > 0 && colon < t.length - 1) {
        seen.get(t.slice(0, colon))?.add(t);
      }
    }
  }
  return FILTER_KEYS.map((key) => ({ key, tags: [...(seen.get(key) ?? [])].sort() })).filter((g) => g.tags.length > 0);
}

function matching(rows: readonly WorkerRow[], q: WorkerQuery): WorkerRow[] {
  const needle = (q.search ?? '').trim().toLowerCase();
  const tag = q.tag ?? null;
  const column = WORKER_COLUMNS.find((c) => c.key === q.sort) ?? WORKER_COLUMNS[0];
  const sign = q.descending ? -1 : 1;
  const byName = [...rows].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const keyed = byName
    .filter(
      (w) =>
        (needle === '' || [w.name, ...w.tags].some((f) => f.toLowerCase().includes(needle))) &&
        (tag === null || w.tags.includes(tag)),
    )
    .map((row, index) => ({ row, index, value: column ? column.sortValue(row) : row.name }));
  keyed.sort((a, b) => {
    const cmp =
      typeof a.value === 'number' && typeof b.value === 'number'
        ? a.value - b.value
        : a.value < b.value
          ? -1
          : a.value > b.value
            ? 1
            : 0;
    return cmp !== 0 ? sign * cmp : a.index - b.index;
  });
  return keyed.map((k) => k.row);
}

/**
 * The handlers of `open_worker_listing`, `query_worker_listing` and `close_worker_listing`
 * over the workers `pages` serves. `onProgress` is the Tauri channel, delivered to with `deliver`.
 */
export function workerListingHandlers(
  pages: WorkerPages,
  deliver: (channel: unknown, index: number, message: unknown) => void,
) {
  const listings = new Map<number, Listing>();
  let next = 0;
  return {
    open_worker_listing: async (args: Record<string, unknown>) => {
      const id = ++next;
      const listing: Listing = { rows: [], done: false, stopped: false };
      listings.set(id, listing);
      let sent = 0;
      try {
        await pages(args, (rows) => {
          listing.rows.push(...rows);
          deliver(args.onProgress, sent++, { listing: id, loaded: listing.rows.length, done: false });
        });
      } catch (error) {
        listing.stopped = true;
        throw error;
      }
      listing.done = true;
      return { listing: id, loaded: listing.rows.length, done: true };
    },
    query_worker_listing: (args: Record<string, unknown>): WorkerWindow => {
      const q = args.query as WorkerQuery;
      const listing = listings.get(q.listing);
      if (!listing) {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- Tauri rejects with the command's Err value.
        throw { code: 'NotFound', message: `The workers' listing ${String(q.listing)} is no longer kept.` };
      }
      const found = matching(listing.rows, q);
      const offset = Math.min(q.offset, found.length);
      return {
        listing: q.listing,
        matching: found.length,
        total: listing.rows.length,
        done: listing.done,
        stopped: listing.stopped,
        offset,
        rows: found.slice(offset, offset + Math.min(q.limit, 1000)),
        groups: q.withGroups === true ? groupsOf(listing.rows) : null,
        found: (q.find ?? null) === null ? null : (listing.rows.find((w) => w.name === q.find) ?? null),
      };
    },
    close_worker_listing: (args: Record<string, unknown>) => listings.delete(args.listing as number),
  };
}
