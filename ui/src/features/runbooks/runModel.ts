import type { Runbook, RunbookStep, RunDetail, RunProgress, RunState, RunStep, RunStepState, ValueKind } from '../../ipc/types';

/** A step's state in words, as the checklist and screen readers say it. */
export const STATE_WORD: Record<RunStepState, string> = {
  pending: 'to do',
  running: 'running',
  passed: 'passed',
  failed: 'failed',
  skipped: 'skipped',
  interrupted: 'interrupted',
};

export const STATE_COLOR: Record<RunStepState, string> = {
  pending: 'gray',
  running: 'blue',
  passed: 'green.8',
  failed: 'red.8',
  skipped: 'gray',
  interrupted: 'orange.8',
};

export const RUN_STATE_WORD: Record<RunState, string> = {
  running: 'open',
  finished: 'finished',
  escalated: 'escalated',
  abandoned: 'abandoned',
};

/** The groups of the catalog, in the order an on-call operator needs them. */
const CATEGORY_ORDER = [
  'Emergency procedures',
  'Troubleshooting',
  'Common issues',
  'Deploying',
  'Services',
  'Namespaces',
  'Monitoring',
];

function categoryRank(category: string): number {
  const i = CATEGORY_ORDER.findIndex((c) => c.toLowerCase() === category.toLowerCase());
  if (i >= 0) {
    return i;
  }
  return category.toLowerCase().startsWith('emergency') ? -1 : CATEGORY_ORDER.length;
}

/** Runbooks grouped by category: emergencies first, then the built-in order, then the rest A–Z. */
export function groupByCategory(runbooks: readonly Runbook[]): [string, Runbook[]][] {
  const groups = new Map<string, Runbook[]>();
  for (const r of runbooks) {
    const list = groups.get(r.category) ?? [];
    list.push(r);
    groups.set(r.category, list);
  }
  return [...groups.entries()].sort(
    ([a], [b]) => categoryRank(a) - categoryRank(b) || a.localeCompare(b),
  );
}

/** Does a runbook match what was typed in the search box (title, summary, section, category)? */
export function matchesSearch(runbook: Runbook, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter((w) => w !== '');
  const haystack = [runbook.title, runbook.summary, runbook.replaces ?? '', runbook.category, runbook.id]
    .join(' ')
    .toLowerCase();
  return words.every((w) => haystack.includes(w));
}

/** The first sentence-ish line of a Markdown summary, as plain text for the list. */
export function plainSummary(markdown: string): string {
  const text = markdown
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\*\*([^*]*)\*\*/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  return text;
}

/** "4 of 9 steps done" (passed or skipped), with failures and interruptions said. */
export function progressText(p: RunProgress): string {
  const done = p.passed + p.skipped;
  const parts = [`${done} of ${p.total} steps done`];
  if (p.failed > 0) {
    parts.push(`${p.failed} failed`);
  }
  if (p.interrupted > 0) {
    parts.push(`${p.interrupted} interrupted`);
  }
  if (p.running > 0) {
    parts.push(`${p.running} running`);
  }
  return parts.join(', ');
}

/** Steps still to pass, fail or skip before the run can be finished (not those behind a failed gate). */
export function stepsLeft(run: RunDetail): number {
  return run.steps.filter(
    (s) => s.state !== 'passed' && s.state !== 'failed' && s.state !== 'skipped' && !run.notReached.includes(s.index),
  ).length;
}

/** Every step passed, failed or was skipped, or cannot be reached behind a gate that failed: the run can be finished. */
export function allSettled(run: RunDetail): boolean {
  return stepsLeft(run) === 0;
}

/** The colour of a run's state badge. */
export function runStateColor(state: RunState): string {
  switch (state) {
    case 'running':
      return 'blue';
    case 'finished':
      return 'green';
    case 'escalated':
      return 'orange.8';
    case 'abandoned':
      return 'gray';
  }
}

/** The step the operator is on: the first still to do, as the back-end says; -1 when none is. */
export function currentStepIndex(run: RunDetail): number {
  return run.summary.currentStep ?? -1;
}

/** A step can be acted on: the run is open, the step is not settled or running, nothing blocks it. */
export function isActionable(run: RunDetail, step: RunStep): boolean {
  if (run.summary.state !== 'running') {
    return false;
  }
  if (step.state === 'passed' || step.state === 'skipped' || step.state === 'running') {
    return false;
  }
  return step.blocker === null;
}

/** Why a step cannot start, in words (gate locks name the gate). */
export function blockerText(step: RunStep): string | null {
  const b = step.blocker;
  if (!b) {
    return null;
  }
  switch (b.kind) {
    case 'gate':
      return `Locked until “${b.stepTitle}” passes.`;
    case 'waitingFor':
      return `Runs only if “${b.stepTitle}” ${b.outcome}; waiting for it to end.`;
    case 'conditionNotMet':
      return step.blockerMessage ?? `Not needed: it runs only if “${b.stepTitle}” ${b.outcome}.`;
    case 'running':
      return 'Its action is running.';
  }
}

/** What a step of the runbook asks for: an action, checks, or only "Mark done". */
export function needsMarkDone(step: RunbookStep): boolean {
  return step.action === null && step.checks.length === 0;
}

/** A field's description for a value kind, so the operator knows what to give. */
export const KIND_HINT: Record<ValueKind, string> = {
  service: 'One of the profile’s services.',
  environment: 'production, staging or development.',
  namespace: 'A dispatch namespace name.',
  version: 'An archived version: its tag (v1.4.0) or its deployment id.',
  folder: 'A folder on this computer.',
  user: 'An auth-service user id.',
  text: '',
};

/** "folder" → "Folder", "service" → "Service". */
export function fieldLabel(name: string): string {
  const spaced = name.replace(/[-_]/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}
