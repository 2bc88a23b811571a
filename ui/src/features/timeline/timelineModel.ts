import { formatLocalTime } from '../../components/time';
import { type TimelineKind, type TimelineTone, type TimelineWindow } from '../../ipc/types';

/** The windows offered: presets counting back from now, a chosen From–To, or a runbook run. */
export const WINDOW_PRESETS = [
  { value: 'hour', label: 'Last hour', ms: 3_600_000 },
  { value: 'six', label: 'Last 6 hours', ms: 6 * 3_600_000 },
  { value: 'day', label: 'Last 24 hours', ms: 86_400_000 },
] as const;
export type WindowPreset = (typeof WINDOW_PRESETS)[number]['value'];

/** What the operator chose. */
export type WindowChoice =
  | { kind: 'preset'; preset: WindowPreset }
  /** datetime-local values ("2025-03-01T12:00"), local time; "" = not chosen yet. */
  | { kind: 'range'; from: string; to: string }
  | { kind: 'run'; runId: string };

export const DEFAULT_CHOICE: WindowChoice = { kind: 'preset', preset: 'hour' };

/** The select's value of a choice: a preset's name, `range`, or `run:<id>`. */
export function choiceValue(choice: WindowChoice): string {
  switch (choice.kind) {
    case 'preset':
      return choice.preset;
    case 'range':
      return 'range';
    case 'run':
      return `run:${choice.runId}`;
  }
}

/** A datetime-local value for a time (local), to the minute. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value as epoch ms (local time); null when empty or invalid. */
export function fromLocalInput(value: string): number | null {
  if (value.trim() === '') {
    return null;
  }
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : ms;
}

/**
 * The window the engine is asked for, or a reason it cannot be asked yet. Presets count back from
 * `nowMs` and end now (the engine's now); a range's To includes its whole minute.
 */
export function toWindow(
  choice: WindowChoice,
  profileId: string,
  nowMs: number,
): { window: TimelineWindow } | { problem: string } {
  switch (choice.kind) {
    case 'preset': {
      const preset = WINDOW_PRESETS.find((p) => p.value === choice.preset) ?? WINDOW_PRESETS[0];
      return { window: { profileId, runId: null, sinceMs: nowMs - preset.ms, untilMs: null } };
    }
    case 'run':
      return { window: { profileId: '', runId: choice.runId, sinceMs: null, untilMs: null } };
    case 'range': {
      const from = fromLocalInput(choice.from);
      const to = fromLocalInput(choice.to);
      if (from === null || to === null) {
        return { problem: 'Choose both From and To to see that window.' };
      }
      if (to < from) {
        return { problem: 'To is before From: swap them.' };
      }
      return { window: { profileId, runId: null, sinceMs: from, untilMs: to + 60_000 } };
    }
  }
}

export const KIND_LABEL: Record<TimelineKind, string> = {
  audit: 'action',
  health: 'health',
  deployment: 'deployment',
  step: 'runbook',
  note: 'note',
  log: 'logs',
};

export const KIND_COLOR: Record<TimelineKind, string> = {
  audit: 'blue.8',
  health: 'teal.8',
  deployment: 'indigo.8',
  step: 'grape.8',
  note: 'gray.7',
  log: 'red.9',
};

/** Outcome colours that keep AA contrast with white text on a filled badge. */
export const TONE_COLOR: Record<TimelineTone, string> = {
  ok: 'green.8',
  error: 'red.8',
  warning: 'orange.9',
  running: 'blue.8',
  neutral: 'gray.7',
};

/** "from Mar 1, 12:00:00 to Mar 1, 13:00:00", on the operator's clock. */
export function windowWords(sinceMs: number, untilMs: number): string {
  return `from ${formatLocalTime(sinceMs)} to ${formatLocalTime(untilMs)}`;
}

/** A log line's time on the operator's clock, to the millisecond: "12:00:01.250". */
export function formatLineTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}
