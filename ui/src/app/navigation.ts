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
