import { createContext, useContext } from 'react';

import type { AreaId } from './areas';

/** Where in the Runbooks area to land: a runbook, and the step to show first. */
export interface RunbookTarget {
  runbookId: string;
  stepId?: string | null;
}

/** What to open inside the area navigated to. */
export interface NavigationTarget {
  runbook?: RunbookTarget;
  /** A runbook run to open. */
  runId?: string;
  /** The Logs area: the services to tail (a tail starts on them at once). */
  logs?: { services: string[] };
  /**
   * The Deploy area: open the one-step rollback plan of this service. Only the plan: nothing is
   * rolled back until the operator confirms it there.
   */
  rollback?: { service: string };
  /**
   * The Deploy area: restore this archived deployment of a service — its plan, which is only
   * applied once the operator confirms it there.
   */
  restore?: { service: string; deploymentId: string };
  /** The Deploy area: the deploy form with this service chosen (nothing runs until it is planned). */
  deploy?: { service: string; folder?: string };
  /** The Deploy area: the promote plan of this service (staging → production unless changed). */
  promote?: { service: string };
  /**
   * The Namespaces area: open this namespace, and this worker of it when given; with `delete`,
   * its delete plan (which still needs the name typed to confirm).
   */
  namespace?: { name: string; script?: string; delete?: boolean };
  /** The Deployments area: sync the active profile's history now. */
  sync?: true;
  /** The Audit area's Timeline tab on a runbook run's window, or on `sinceMs`–`untilMs` (now if absent). */
  timeline?: { runId?: string; sinceMs?: number; untilMs?: number; profileId?: string };
}

export interface Navigation {
  area: AreaId;
  /**
   * What the last `navigate` asked the area to open, if anything. A new object on every call, so
   * an area can tell a second request for the same thing from the first.
   */
  target: NavigationTarget | null;
  navigate: (area: AreaId, target?: NavigationTarget) => void;
}

export const NavigationContext = createContext<Navigation | null>(null);

/** The current area and a way to go to another. Plain state: the window has no URL to keep. */
export function useNavigation(): Navigation {
  const navigation = useContext(NavigationContext);
  if (!navigation) {
    throw new Error('useNavigation outside NavigationContext');
  }
  return navigation;
}
