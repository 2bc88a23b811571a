/**
 * The first screen's data, asked for before anything else of the page loads (main.tsx calls
 * this, then loads React and the app while the answers travel): app info, then the first page of
 * the active profile's history as the Deployments area asks for it (no filter, newest first).
 * Only the IPC bindings are imported here, so this runs before the main bundle is parsed.
 */
import { commands } from '../ipc/bindings';
import { callCommand } from '../ipc/errors';
import type { AppInfo, HistoryPage } from '../ipc/types';
import { markOnce } from '../perf';

/** Rows of the first history page: `HISTORY_PAGE_SIZE` of ipc/queries.ts (a test holds them equal). */
export const FIRST_HISTORY_PAGE_SIZE = 200;

export interface FirstHistoryPage {
  profileId: string;
  page: HistoryPage;
}

export interface FirstScreenData {
  appInfo: Promise<AppInfo>;
  /** The active profile's first page, or null (no active profile, or it could not be read: the view asks again). */
  history: Promise<FirstHistoryPage | null>;
}

export function askFirstScreen(): FirstScreenData {
  markOnce('app-info-asked');
  const appInfo = callCommand(() => commands.appInfo()).then((info) => {
    markOnce('app-info-received');
    return info;
  });
  const history = appInfo.then(
    async (info): Promise<FirstHistoryPage | null> => {
      const profileId = info.activeProfile;
      if (!info.profiles.some((p) => p.id === profileId)) {
        return null;
      }
      markOnce('history-asked');
      const page = await callCommand(() => commands.queryHistory(profileId, { limit: FIRST_HISTORY_PAGE_SIZE, offset: 0 }));
      markOnce('history-received');
      return { profileId, page };
    },
  );
  return { appInfo, history: history.catch(() => null) };
}
