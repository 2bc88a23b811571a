import { formatLocalTime } from '../../components/time';
import type { AuditFilter, AuditOutcome, AuditRow } from '../../ipc/types';

/** The time ranges offered, newest first; `custom` takes a From and a To. */
export const TIME_RANGES = [
  { value: 'all', label: 'All time', ms: null },
  { value: 'hour', label: 'Last hour', ms: 3_600_000 },
  { value: 'day', label: 'Last 24 hours', ms: 86_400_000 },
  { value: 'week', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { value: 'month', label: 'Last 30 days', ms: 30 * 86_400_000 },
  { value: 'custom', label: 'Custom range…', ms: null },
] as const;
export type TimeRange = (typeof TIME_RANGES)[number]['value'];

/** The profile choice for the app-wide entries (settings), which belong to no profile. */
export const APP_WIDE = '@app-wide';

export interface AuditFilters {
  time: TimeRange;
  /** `custom` only: local date and time as a datetime-local input holds them ("" = open). */
  from: string;
  to: string;
  /** "" = every profile; APP_WIDE = the entries of no profile; else a profile id. */
  profile: string;
  /** "" = any; `deploy` = a family (`deploy` and `deploy.*`); `deploy.apply` = one action. */
  action: string;
  outcome: '' | AuditOutcome;
  text: string;
}

export const NO_FILTERS: AuditFilters = {
  time: 'all',
  from: '',
  to: '',
  profile: '',
  action: '',
  outcome: '',
  text: '',
};

export function isFiltered(filters: AuditFilters): boolean {
  return (
    filters.time !== 'all' ||
    filters.profile !== '' ||
    filters.action !== '' ||
    filters.outcome !== '' ||
    filters.text.trim() !== ''
  );
}

/** A datetime-local value ("2025-03-01T12:00") as epoch ms, local time; null when empty or invalid. */
export function localInputMs(value: string): number | null {
  if (value.trim() === '') {
    return null;
  }
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : ms;
}

/**
 * What the engine is asked for (the page, limit and offset, is added per page). Presets count back
 * from `nowMs`; a custom To includes its whole minute.
 */
export function toAuditFilter(filters: AuditFilters, text: string, nowMs: number): AuditFilter {
  const filter: AuditFilter = {};
  const range = TIME_RANGES.find((r) => r.value === filters.time);
  if (range?.ms != null) {
    filter.sinceMs = nowMs - range.ms;
  } else if (filters.time === 'custom') {
    const from = localInputMs(filters.from);
    const to = localInputMs(filters.to);
    if (from !== null) filter.sinceMs = from;
    if (to !== null) filter.untilMs = to + 60_000;
  }
  if (filters.profile === APP_WIDE) filter.profileId = '';
  else if (filters.profile !== '') filter.profileId = filters.profile;
  if (filters.action !== '') filter.action = filters.action;
  if (filters.outcome !== '') filter.outcome = filters.outcome;
  if (text.trim() !== '') filter.text = text.trim();
  return filter;
}

/** The outcome as the table says it: `started` reads "running". */
export function outcomeLabel(row: AuditRow): string {
  switch (row.status) {
    case 'ok':
      return 'ok';
    case 'started':
      return 'running';
    case 'interrupted':
      return 'interrupted';
    case 'error':
      return row.outcome;
  }
}

export const OUTCOME_CHOICES: readonly { value: AuditOutcome; label: string }[] = [
  { value: 'ok', label: 'ok' },
  { value: 'error', label: 'error' },
  { value: 'started', label: 'running' },
  { value: 'interrupted', label: 'interrupted' },
];

/** "350 ms", "1.2 s", "2 min 5 s"; a running action has none yet. */
export function formatDuration(row: AuditRow): string {
  if (row.status === 'started') {
    return '—';
  }
  const ms = row.durationMs ?? 0;
  if (ms < 1000) {
    return `${ms} ms`;
  }
  if (ms < 60_000) {
    return `${(ms / 1000).toFixed(1)} s`;
  }
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function entryTime(row: AuditRow): string {
  return row.atMs == null ? '—' : formatLocalTime(row.atMs);
}

/** The action filter's choices: any, then per family every action of it and each one. */
export function actionChoices(actions: readonly string[]) {
  const families = new Map<string, string[]>();
  for (const action of actions) {
    const family = action.split('.')[0] ?? action;
    families.set(family, [...(families.get(family) ?? []), action]);
  }
  return [
    { value: '', label: 'Any action' },
    ...[...families.entries()].map(([family, members]) => ({
      group: family,
      items: [
        // The family (`deploy`): the action of that name and every one under it.
        { value: family, label: `Every ${family} action` },
        ...members.filter((a) => a !== family).map((a) => ({ value: a, label: a })),
      ],
    })),
  ];
}

/** The parameters as shown: indented JSON (they were redacted before they were stored). */
export function paramsText(params: unknown): string {
  if (params === null || params === undefined) {
    return '{}';
  }
  return JSON.stringify(params, null, 2);
}

/** A row as text: its columns, tab-separated, then the parameters as one line of JSON. */
export function rowText(row: AuditRow, profileName: string): string {
  return [
    entryTime(row),
    row.actor,
    profileName,
    row.action,
    row.target,
    outcomeLabel(row),
    formatDuration(row),
    row.message ?? '',
    JSON.stringify(row.params ?? {}),
  ].join('\t');
}
