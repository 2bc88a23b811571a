import { AppShell, Box, Group, Loader, Text } from '@mantine/core';
import { type HotkeyItem, useHotkeys } from '@mantine/hooks';
import { createSpotlight } from '@mantine/spotlight';
import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';

import { SandboxProblem, StorageRecovered } from '../components/EnvironmentNotices';
import { ErrorNotice } from '../components/ErrorNotice';
import { DeploymentsArea } from '../features/deployments/DeploymentsArea';
import { useAppInfo } from '../ipc/queries';
import { AreaNav } from './AreaNav';
import { type AreaId, areaById, AREAS } from '../shell/areas';
import { CommandPalette } from './CommandPalette';
import { activeProfileOf } from '../shell/environment';
import { type Navigation, NavigationContext, type NavigationTarget } from '../shell/navigation';
import { HealthMonitorProvider } from '../features/health/HealthMonitor';
import { BAND_HEIGHT, FOOTER_HEIGHT, HEADER_HEIGHT } from '../shell/layout';
import { StatusBar } from './StatusBar';
import { TopBar } from './TopBar';

// The first screen (Deployments) is in the main bundle; the other areas load when first opened,
// so starting the app parses only what the first screen needs.
const DeployArea = lazy(() => import('../features/deploy/DeployArea').then((m) => ({ default: m.DeployArea })));
const NamespacesArea = lazy(() =>
  import('../features/namespaces/NamespacesArea').then((m) => ({ default: m.NamespacesArea })),
);
const HealthArea = lazy(() => import('../features/health/HealthArea').then((m) => ({ default: m.HealthArea })));
const LogsArea = lazy(() => import('../features/logs/LogsArea').then((m) => ({ default: m.LogsArea })));
const AuditArea = lazy(() => import('../features/audit/AuditArea').then((m) => ({ default: m.AuditArea })));
const RunbooksArea = lazy(() => import('../features/runbooks/RunbooksArea').then((m) => ({ default: m.RunbooksArea })));
const SettingsArea = lazy(() => import('../features/settings/SettingsArea').then((m) => ({ default: m.SettingsArea })));

function AreaLoading({ area }: { area: AreaId }) {
  return (
    <Group gap="xs" role="status">
      <Loader size="sm" aria-hidden />
      <Text size="sm">Opening {areaById(area).label}…</Text>
    </Group>
  );
}

function AreaContent({ area }: { area: AreaId }) {
  return (
    <Suspense fallback={<AreaLoading area={area} />}>
      <AreaSwitch area={area} />
    </Suspense>
  );
}

function AreaSwitch({ area }: { area: AreaId }) {
  switch (area) {
    case 'deployments':
      return <DeploymentsArea />;
    case 'deploy':
      return <DeployArea />;
    case 'namespaces':
      return <NamespacesArea />;
    case 'health':
      return <HealthArea />;
    case 'logs':
      return <LogsArea />;
    case 'runbooks':
      return <RunbooksArea />;
    case 'audit':
      return <AuditArea />;
    case 'settings':
      return <SettingsArea />;
  }
}

/**
 * Shown above every area but Settings (which shows them itself): app info cannot be loaded, or the
 * active profile is the local sandbox and the sandbox is not running.
 */
function AppInfoProblem({ area }: { area: AreaId }) {
  const appInfo = useAppInfo();
  if (area === 'settings') {
    return null;
  }
  if (appInfo.isSuccess) {
    const active = activeProfileOf(appInfo.data.profiles, appInfo.data.activeProfile);
    if (active?.sandbox && appInfo.data.sandboxError) {
      return (
        <Box mb="md" maw={760}>
          <SandboxProblem error={appInfo.data.sandboxError} />
        </Box>
      );
    }
    return null;
  }
  if (!appInfo.isError) {
    return null;
  }
  return (
    <Box mb="md" maw={760}>
      <ErrorNotice
        error={appInfo.error}
        context="Loading app info"
        onRetry={() => {
          void appInfo.refetch();
        }}
      />
    </Box>
  );
}

/** The damaged database replaced at this start, above every area until dismissed. */
function StorageNoticeBanner() {
  const appInfo = useAppInfo();
  const [dismissed, setDismissed] = useState(false);
  const notice = appInfo.data?.storageNotice;
  if (dismissed || !notice) {
    return null;
  }
  return (
    <Box mb="md" maw={760}>
      <StorageRecovered
        notice={notice}
        onDismiss={() => {
          setDismissed(true);
        }}
      />
    </Box>
  );
}

interface AppProps {
  initialArea?: AreaId;
}

/** The window: sidebar of areas, top bar with the profile, the area, and a status bar. */
export function App({ initialArea = 'deployments' }: AppProps) {
  const [{ area, target }, setPlace] = useState<{ area: AreaId; target: NavigationTarget | null }>({
    area: initialArea,
    target: null,
  });
  const [[store, actions]] = useState(() => createSpotlight());
  const setArea = useCallback((id: AreaId, to?: NavigationTarget) => {
    setPlace({ area: id, target: to ?? null });
  }, []);

  const navigation = useMemo<Navigation>(() => ({ area, target, navigate: setArea }), [area, target, setArea]);

  const hotkeys = useMemo<HotkeyItem[]>(
    () =>
      AREAS.map((a) => [
        `alt+Digit${a.shortcutDigit}`,
        () => {
          setArea(a.id);
        },
        { preventDefault: true, usePhysicalKeys: true },
      ]),
    [setArea],
  );
  useHotkeys(hotkeys, []);

  useEffect(() => {
    document.title = `${areaById(area).label} — Switchyard`;
  }, [area]);

  return (
    <NavigationContext.Provider value={navigation}>
      <HealthMonitorProvider>
        <AppShell
          header={{ height: HEADER_HEIGHT + BAND_HEIGHT }}
          navbar={{ width: 224, breakpoint: 0 }}
          footer={{ height: FOOTER_HEIGHT }}
          padding="lg"
        >
          <TopBar onOpenPalette={actions.open} />
          <AreaNav />
          <AppShell.Main>
            <StorageNoticeBanner />
            <AppInfoProblem area={area} />
            <AreaContent area={area} />
          </AppShell.Main>
          <StatusBar />
        </AppShell>
        {/* Inside the health monitor: "Run health check" checks through it. */}
        <CommandPalette store={store} close={actions.close} />
      </HealthMonitorProvider>
    </NavigationContext.Provider>
  );
}
