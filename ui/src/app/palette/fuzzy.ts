/**
 * Fuzzy matching and ranking of the command palette's actions: every word typed must match a word
 * of the action's label or keywords — whole, as a prefix, inside it, as a subsequence of its
 * letters ("rolbak" in "rollback"), or within a typo or two — and the best matches come first,
 * recent and frequent ones ahead of equals.
 */

/** What the matcher reads of an action. */
export interface Searchable {
  id: string;
  label: string;
  /** Other words that find it (synonyms, the argument's details). */
  keywords: readonly string[];
}

/** Words of a text, lower-cased; a hyphenated or dotted name counts whole and in parts. */
export function wordsOf(text: string): string[] {
  const out: string[] = [];
  for (const word of text.toLowerCase().split(/[\s,;:()[\]{}‹›"'“”…·/]+/)) {
    if (word === '') {
      continue;
    }
    out.push(word);
    const parts = word.split(/[-_.@]+/).filter((p) => p !== '' && p !== word);
    out.push(...parts);
  }
  return out;
}

function isSubsequence(needle: string, haystack: string): boolean {
  let i = 0;
  for (const c of haystack) {
    if (c === needle[i]) {
      i += 1;
      if (i === needle.length) {
        return true;
      }
    }
  }
  return i === needle.length;
}

/** Optimal string alignment distance (Levenshtein plus adjacent swaps), giving up above `max`. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) {
    return max + 1;
  }
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i += 1) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j += 1) {
      row.push(i === 0 ? j : 0);
    }
    rows.push(row);
  }
  for (let i = 1; i <= a.length; i += 1) {
    const row = rows[i] as number[];
    const prev = rows[i - 1] as number[];
    let best = Infinity;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = d;
      best = Math.min(best, d);
    }
    if (best > max) {
      return max + 1;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** How well one typed word matches one word of an action, 0 (not at all) to 1 (the same). */
export function wordScore(token: string, word: string): number {
  if (token === word) {
    return 1;
  }
  if (word.startsWith(token)) {
    return 0.85 + 0.1 * (token.length / word.length);
  }
  if (token.length >= 2 && word.includes(token)) {
    return 0.6;
  }
  if (token.length < 3) {
    return 0;
  }
  let score = 0;
  if (token[0] === word[0] && isSubsequence(token, word)) {
    score = 0.35 + 0.3 * (token.length / word.length);
  }
  if (token.length >= 4) {
    const allowed = token.length >= 7 ? 2 : 1;
    // A typo in a whole word, or in the part of it typed so far.
    const whole = editDistance(token, word, allowed);
    const prefix = word.length > token.length ? editDistance(token, word.slice(0, token.length), allowed) : whole;
    const d = Math.min(whole, prefix);
    if (d <= allowed) {
      score = Math.max(score, 0.55 - 0.05 * d);
    }
  }
  return score;
}

/** The words an action is found by: its label's (full weight) and its keywords' (a little less). */
export interface Indexed {
  labelWords: string[];
  keywordWords: string[];
  label: string;
}

export function indexOf(item: Searchable): Indexed {
  return {
    labelWords: wordsOf(item.label),
    keywordWords: item.keywords.flatMap((k) => wordsOf(k)),
    label: item.label.toLowerCase(),
  };
}

const KEYWORD_WEIGHT = 0.85;

/** How well `query` matches an action, or null when some typed word matches nothing of it. */
export function matchScore(query: string, index: Indexed): number | null {
  const tokens = wordsOfQuery(query);
  if (tokens.length === 0) {
    return 0;
  }
  let total = 0;
  const covered = new Set<string>();
  for (const token of tokens) {
    let best = 0;
    let bestWord: string | null = null;
    for (const word of index.labelWords) {
      const s = wordScore(token, word);
      if (s > best) {
        best = s;
        bestWord = word;
      }
    }
    for (const word of index.keywordWords) {
      const s = wordScore(token, word) * KEYWORD_WEIGHT;
      if (s > best) {
        best = s;
        bestWord = null;
      }
    }
    if (best === 0) {
      return null;
    }
    if (bestWord !== null) {
      covered.add(bestWord);
    }
    total += best;
  }
  let score = total / tokens.length;
  // The more of the label the query names, the closer it is to what was meant.
  const labelWords = new Set(index.labelWords);
  score += 0.1 * (covered.size / Math.max(1, labelWords.size));
  // Typed as the label begins ("roll back ga").
  if (index.label.startsWith(query.trim().toLowerCase())) {
    score += 0.15;
  }
  return score;
}

/** The typed words (the query is split as labels are, but hyphenated names stay whole). */
export function wordsOfQuery(query: string): string[] {
  return query
    .toLowerCase()
    .split(/[\s,;:()[\]{}‹›"'“”…·/]+/)
    .filter((w) => w !== '');
}

/** What the palette remembers of an action's use. */
export interface Use {
  count: number;
  lastMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Recent and frequent: each use counts, and counts less the older the last one is (half after a
 * day, a third after two…).
 */
export function frecency(use: Use | undefined, nowMs: number): number {
  if (!use) {
    return 0;
  }
  const ageDays = Math.max(0, nowMs - use.lastMs) / DAY_MS;
  return use.count / (1 + ageDays);
}

export interface Ranked<T> {
  item: T;
  score: number;
}

/**
 * The actions matching `query`, best first. A good match beats a poor one whatever the history;
 * between close matches, the recent and frequent one wins; between equals, the given order.
 */
export function rank<T extends Searchable>(
  items: readonly T[],
  query: string,
  uses: ReadonlyMap<string, Use>,
  nowMs: number,
  indexes?: ReadonlyMap<string, Indexed>,
): T[] {
  const ranked: (Ranked<T> & { order: number })[] = [];
  let maxFrecency = 0;
  for (const item of items) {
    maxFrecency = Math.max(maxFrecency, frecency(uses.get(item.id), nowMs));
  }
  items.forEach((item, order) => {
    const index = indexes?.get(item.id) ?? indexOf(item);
    const score = matchScore(query, index);
    if (score === null) {
      return;
    }
    const boost = maxFrecency > 0 ? 0.08 * (frecency(uses.get(item.id), nowMs) / maxFrecency) : 0;
    ranked.push({ item, score: score + boost, order });
  });
  ranked.sort((a, b) => b.score - a.score || a.order - b.order);
  return ranked.map((r) => r.item);
}
