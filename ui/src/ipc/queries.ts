import { useQuery } from '@tanstack/react-query';

import { type AppError, type AppInfo, commands } from './bindings';
import { callCommand } from './errors';

/** Query keys for everything read over IPC. */
export const queryKeys = {
  appInfo: ['appInfo'] as const,
};

/** Name, version, data directory and profiles, from the `app_info` command. */
export function useAppInfo() {
  return useQuery<AppInfo, AppError>({
    queryKey: queryKeys.appInfo,
    queryFn: () => callCommand(() => commands.appInfo()),
    staleTime: Infinity,
  });
}
