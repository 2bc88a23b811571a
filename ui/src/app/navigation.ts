import { createContext, useContext } from 'react';

import type { AreaId } from './areas';

export interface Navigation {
  area: AreaId;
  navigate: (area: AreaId) => void;
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
