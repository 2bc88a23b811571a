import type { Connection } from '../../ipc/logs';
import type { LogLine } from '../../ipc/types';

/** The newest this many lines are kept (shown and, while paused, held back each). */
export const BUFFER_CAP = 5000;

/** One invocation of a tailed service, with the id the view keys it by. */
export interface LogEntry {
  id: number;
  line: LogLine;
}

/**
 * What the Logs area keeps: the lines shown (oldest first), those held back while paused, and the
 * counts the operator is told about.
 */
export interface LogBuffer {
  entries: LogEntry[];
  /** Lines that arrived while paused, shown on resume. */
  held: LogEntry[];
  paused: boolean;
  /** Lines that arrived while paused (after sampling), including any the cap dropped since. */
  heldCount: number;
  /** Older lines dropped because the buffer was full. */
  dropped: number;
  /** The share of new lines kept, 1–100. */
  samplePercent: number;
  /** New lines seen since the sampling share was set (to keep exactly that share). */
  sampleSeen: number;
  /** New lines left out by sampling. */
  skipped: number;
  nextId: number;
}

export const EMPTY_BUFFER: LogBuffer = {
  entries: [],
  held: [],
  paused: false,
  heldCount: 0,
  dropped: 0,
  samplePercent: 100,
  sampleSeen: 0,
  skipped: 0,
  nextId: 1,
};

function capped(list: LogEntry[], cap: number): { list: LogEntry[]; over: number } {
  const over = Math.max(0, list.length - cap);
  return { list: over > 0 ? list.slice(over) : list, over };
}

/**
 * Take new lines in: sampling keeps exactly `samplePercent` of them, evenly spread (every second
 * line at 50 %); kept lines are shown, or held back while paused; beyond `cap`, the oldest go.
 */
export function addLines(buffer: LogBuffer, lines: readonly LogLine[], cap = BUFFER_CAP): LogBuffer {
  if (lines.length === 0) {
    return buffer;
  }
  const p = buffer.samplePercent;
  let seen = buffer.sampleSeen;
  let nextId = buffer.nextId;
  const kept: LogEntry[] = [];
  for (const line of lines) {
    const keep = Math.floor(((seen + 1) * p) / 100) > Math.floor((seen * p) / 100);
    seen += 1;
    if (keep) {
      kept.push({ id: nextId, line });
      nextId += 1;
    }
  }
  const skipped = buffer.skipped + (lines.length - kept.length);
  if (buffer.paused) {
    const held = capped([...buffer.held, ...kept], cap);
    return {
      ...buffer,
      held: held.list,
      heldCount: buffer.heldCount + kept.length,
      dropped: buffer.dropped + held.over,
      sampleSeen: seen,
      skipped,
      nextId,
    };
  }
  const entries = capped([...buffer.entries, ...kept], cap);
  return { ...buffer, entries: entries.list, dropped: buffer.dropped + entries.over, sampleSeen: seen, skipped, nextId };
}

export function pause(buffer: LogBuffer): LogBuffer {
  return buffer.paused ? buffer : { ...buffer, paused: true, heldCount: 0 };
}

/** Show what arrived while paused (the newest `cap` lines in all stay). */
export function resume(buffer: LogBuffer, cap = BUFFER_CAP): LogBuffer {
  const entries = capped([...buffer.entries, ...buffer.held], cap);
  return {
    ...buffer,
    paused: false,
    entries: entries.list,
    held: [],
    heldCount: 0,
    dropped: buffer.dropped + entries.over,
  };
}

/** Forget every line and count; pause and sampling stay as they are. */
export function clear(buffer: LogBuffer): LogBuffer {
  return { ...buffer, entries: [], held: [], heldCount: 0, dropped: 0, skipped: 0, sampleSeen: 0 };
}

export function setSampling(buffer: LogBuffer, percent: number): LogBuffer {
  const p = Math.min(100, Math.max(1, Math.round(percent)));
  return p === buffer.samplePercent ? buffer : { ...buffer, samplePercent: p, sampleSeen: 0 };
}

export type OutcomeFilter = 'all' | 'ok' | 'errors';

export interface LogFilters {
  outcome: OutcomeFilter;
  /** '' for any method. */
  method: string;
  text: string;
}

export const NO_FILTERS: LogFilters = { outcome: 'all', method: '', text: '' };

/** An error: an outcome other than ok, an uncaught exception, or a 5xx answer. */
export function isError(line: LogLine): boolean {
  return line.outcome !== 'ok' || line.exceptions.length > 0 || (line.status ?? 0) >= 500;
}

/** Lower-case text a search looks through: the URL, the logged lines and the exceptions. */
function searchable(line: LogLine): string {
  const parts = [line.url ?? ''];
  for (const l of line.logs) {
    parts.push(l.text);
  }
  for (const x of line.exceptions) {
    parts.push(x.name, x.message, x.stack ?? '');
  }
  return parts.join('\n').toLowerCase();
}

export function matches(line: LogLine, filters: LogFilters): boolean {
  if (filters.outcome === 'ok' && isError(line)) {
    return false;
  }
  if (filters.outcome === 'errors' && !isError(line)) {
    return false;
  }
  if (filters.method !== '' && (line.method ?? '').toUpperCase() !== filters.method) {
    return false;
  }
  const q = filters.text.trim().toLowerCase();
  return q === '' || searchable(line).includes(q);
}

export function filtered(entries: readonly LogEntry[], filters: LogFilters): LogEntry[] {
  if (filters.outcome === 'all' && filters.method === '' && filters.text.trim() === '') {
    return entries as LogEntry[];
  }
  return entries.filter((e) => matches(e.line, filters));
}

/** The methods seen in the buffer, for the method filter. */
export function methodsOf(entries: readonly LogEntry[]): string[] {
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.line.method) {
      seen.add(e.line.method.toUpperCase());
    }
  }
  return [...seen].sort();
}

/** The path and query of a URL ("/health?x=1"), or the text as it is when it is not a URL. */
export function pathOf(url: string | null | undefined): string {
  if (!url) {
    return '';
  }
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** "14:07:03.123", local time. */
export function clockTime(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    return '—';
  }
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** "2025-03-01 14:07:03.123", local time. */
export function dateTime(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    return 'time unknown';
  }
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clockTime(ms)}`;
}

/** One line as text, for the export: the request, then what the code logged and threw. */
export function lineText(line: LogLine): string {
  const head = `${dateTime(line.timestampMs)}  ${line.service}  ${line.method ?? '-'} ${line.url ?? '-'} → ${
    line.status ?? '-'
  } (${line.outcome})`;
  const out = [head];
  for (const l of line.logs) {
    out.push(`    [${l.level}] ${l.text}`);
  }
  for (const x of line.exceptions) {
    out.push(`    ✖ ${x.name}: ${x.message}`);
    for (const frame of (x.stack ?? '').split('\n')) {
      if (frame.trim() !== '') {
        out.push(`      ${frame.trim()}`);
      }
    }
  }
  return out.join('\n');
}

/**
 * What is shown, as text: a header naming the profile, the services and how many lines, then each
 * line as `lineText` writes it. `action` says what was done with it ("copied", "saved").
 */
export function shownText(
  profileName: string,
  services: readonly string[],
  entries: readonly LogEntry[],
  action: string,
  when: string,
): string {
  const count = `${entries.length.toLocaleString()} ${entries.length === 1 ? 'line' : 'lines'}`;
  const header = `# Switchyard logs: ${profileName}, ${services.join(', ')}; ${count} shown, ${action} ${when}`;
  return [header, ...entries.map((e) => lineText(e.line))].join('\n') + '\n';
}

/** What is shown, as JSON Lines: one invocation per line, as the engine sent it. */
export function shownJsonLines(entries: readonly LogEntry[]): string {
  return entries.map((e) => JSON.stringify(e.line)).join('\n') + '\n';
}

/** A file name for the lines of `services` saved at `ms`: `switchyard-logs-gateway-db-20250301-1407`. */
export function logsFileStem(services: readonly string[], ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}`;
  return ['switchyard-logs', ...services, stamp].join('-');
}

/** "gateway: Reconnecting in 4 s (attempt 2): <reason>" without the service. */
export function connectionText(connection: Connection, nowMs: number): string {
  switch (connection.state) {
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      return 'Connected';
    case 'stopped':
      return 'Stopped';
    case 'reconnecting': {
      const seconds = Math.ceil((connection.retryAtMs - nowMs) / 1000);
      const when = seconds > 0 ? `in ${seconds} s` : 'now';
      return `Reconnecting ${when} (attempt ${connection.attempt}): ${connection.reason}`;
    }
  }
}

/** The same without the countdown, for screen readers (it does not change every second). */
export function connectionAnnouncement(service: string, connection: Connection): string {
  if (connection.state === 'reconnecting') {
    return `${service}: reconnecting, attempt ${connection.attempt}: ${connection.reason}`;
  }
  return `${service}: ${connectionText(connection, 0)}`;
}
