import { formatClock } from '../../components/time';
import type { HealthBoard, SuspectDeployment } from '../../ipc/types';

/** The services of a board that are down with a likely cause, each with its suspect deployment. */
export function suspectsOf(board: HealthBoard | undefined): SuspectDeployment[] {
  const out: SuspectDeployment[] = [];
  for (const r of board?.results ?? []) {
    if (r.kind === 'service' && r.state === 'down' && r.suspect) {
      out.push(r.suspect);
    }
  }
  return out;
}

/** What the deployment is called: its version tag, or its id. */
export function suspectName(s: SuspectDeployment): string {
  return s.versionTag ?? s.deploymentId;
}

/**
 * "gateway failing since 14:07, 3 min after v1.4.0 (commit abc1234, by alice)"; without "since"
 * when the checks did not say when it started failing.
 */
export function suspectText(s: SuspectDeployment, nowMs: number = Date.now()): string {
  const since = typeof s.failingSinceMs === 'number' ? ` since ${formatClock(s.failingSinceMs, nowMs)}` : '';
  const after = s.minutesAfter === 0 ? 'less than a minute' : `${s.minutesAfter} min`;
  return `${s.service} failing${since}, ${after} after ${suspectName(s)} (commit ${s.commit}, by ${s.author})`;
}

/** "gateway failing after v1.4.0", for the status bar. */
export function suspectShortText(s: SuspectDeployment): string {
  return `${s.service} failing after ${suspectName(s)}`;
}
