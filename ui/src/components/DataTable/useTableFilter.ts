import { useDeferredValue, useEffect, useMemo } from 'react';

/** Between a row's fields in its haystack: a search typed into a one-line field never holds it. */
const FIELD_SEPARATOR = '\n';

/**
 * A text search over one list of rows, for repeated searches (one per keystroke): each row's
 * fields are lowercased once, not per keystroke. A row matches when one of its fields contains
 * the search (case-insensitive, trimmed) and `keep` accepts it.
 */
export class RowSearch<T> {
  readonly rows: readonly T[];
  private readonly haystackOf: (row: T) => string;
  private readonly fieldsOf: (row: T) => readonly string[];
  private haystacks: readonly string[] | null = null;

  /**
   * @param fieldsOf the texts a row is found by
   * @param haystackOf the fields lowercased and joined by a line break (pass a cached one to share it)
   */
  constructor(rows: readonly T[], fieldsOf: (row: T) => readonly string[], haystackOf?: (row: T) => string) {
    this.rows = rows;
    this.fieldsOf = fieldsOf;
    this.haystackOf = haystackOf ?? ((row) => fieldsOf(row).join(FIELD_SEPARATOR).toLowerCase());
  }

  /** Lowercase the haystacks now (when idle) rather than on the first search. */
  prepare(): readonly string[] {
    this.haystacks ??= this.rows.map(this.haystackOf);
    return this.haystacks;
  }

  /** The rows that match `search` and that `keep` accepts, in their order; all rows when neither narrows. */
  filter(search: string, keep: ((row: T) => boolean) | null = null): readonly T[] {
    const rows = this.rows;
    const needle = search.trim().toLowerCase();
    if (needle === '') {
      return keep === null ? rows : rows.filter(keep);
    }
    const kept = (row: T) => keep === null || keep(row);
    if (needle.includes(FIELD_SEPARATOR)) {
      // Could match across two fields of a haystack: check each field on its own.
      return rows.filter((row) => kept(row) && this.fieldsOf(row).some((f) => f.toLowerCase().includes(needle)));
    }
    const haystacks = this.prepare();
    const found: T[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (row !== undefined && haystacks[i]?.includes(needle) === true && kept(row)) {
        found.push(row);
      }
    }
    return found;
  }
}

/**
 * The filter of a {@link DataTable}'s rows: those whose fields contain what was typed in `search`
 * (case-insensitive) and that `keep` accepts. Typing stays instant: the filtering follows at lower
 * priority (a deferred value), and the rows' text is lowercased once per list, soon after it
 * arrives, not per keystroke. `fieldsOf` and `keep` should keep their identity across renders.
 */
export function useTableFilter<T>(
  rows: readonly T[],
  search: string,
  fieldsOf: (row: T) => readonly string[],
  keep: ((row: T) => boolean) | null = null,
  haystackOf?: (row: T) => string,
): readonly T[] {
  const deferredSearch = useDeferredValue(search);
  const finder = useMemo(() => new RowSearch(rows, fieldsOf, haystackOf), [rows, fieldsOf, haystackOf]);
  useEffect(() => {
    const timer = window.setTimeout(() => {
      finder.prepare();
    }, 0);
    return () => {
      window.clearTimeout(timer);
    };
  }, [finder]);
  return useMemo(() => finder.filter(deferredSearch, keep), [finder, deferredSearch, keep]);
}
