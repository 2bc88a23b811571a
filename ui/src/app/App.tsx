import { AppShell, Box, Group, Loader, Text } from '@mantine/core';
import { type HotkeyItem, useHotkeys } from '@mantine/hooks';
import { createSpotlight, type SpotlightStore } from '@mantine/spotlight';
import { type QueryKey, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';

import { SandboxProblem, StorageRecovered } from '../components/EnvironmentNotices';
import { ErrorNotice } from '../components/ErrorNotice';
import { DeploymentsArea } from '../features/deployments/DeploymentsArea';
import { useAppInfo } from '../ipc/queries';
import { AreaNav } from './AreaNav';
import { type AreaId, areaById, AREAS } from '../shell/areas';
import { activeProfileOf } from '../shell/environment';
import { type Navigation, NavigationContext, type NavigationTarget } from '../shell/navigation';
import { HealthMonitorProvider } from '../features/health/HealthMonitor';
import { BAND_HEIGHT, FOOTER_HEIGHT, HEADER_HEIGHT } from '../shell/layout';
import { StatusBar } from './StatusBar';
import { markOnce } from '../perf';
import { TopBar } from './TopBar';

// The first screen (Deployments) is in the main bundle with the styles it uses
// (styles/firstScreen.css); the other areas load when first opened, each after the rest of the
// styles (styles/rest.css, once), so starting the app parses only what the first screen needs.
function withRestStyles<T>(load: () => Promise<T>): () => Promise<T> {
  return () => import('./styles/restStyles').then(load);
}
const DeployArea = lazy(
  withRestStyles(() => import('../features/deploy/DeployArea').then((m) => ({ default: m.DeployArea }))),
);
const NamespacesArea = lazy(
  withRestStyles(() => import('../features/namespaces/NamespacesArea').then((m) => ({ default: m.NamespacesArea }))),
);
const HealthArea = lazy(
  withRestStyles(() => import('../features/health/HealthArea').then((m) => ({ default: m.HealthArea }))),
);
const LogsArea = lazy(withRestStyles(() => import('../features/logs/LogsArea').then((m) => ({ default: m.LogsArea }))));
const AuditArea = lazy(withRestStyles(() => import('../features/audit/AuditArea').then((m) => ({ default: m.AuditArea }))));
const RunbooksArea = lazy(
  withRestStyles(() => import('../features/runbooks/RunbooksArea').then((m) => ({ default: m.RunbooksArea }))),
);
const SettingsArea = lazy(
  withRestStyles(() => import('../features/settings/SettingsArea').then((m) => ({ default: m.SettingsArea }))),
);
/** The command palette (Spotlight and its actions): loaded the first time it is opened. */
const CommandPalette = lazy(
  withRestStyles(() => import('./CommandPalette').then((m) => ({ default: m.CommandPalette }))),
);

/** The palette, telling once it is on the page (its lazy code loaded and rendered). */
function MountedPalette({ store, close, onReady }: { store: SpotlightStore; close: () => void; onReady: () => void }) {
  useEffect(() => {
    onReady();
  }, [onReady]);
  return <CommandPalette store={store} close={close} />;
}

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
    // One boundary per area: the area left is unmounted at once, not kept hidden while the next
    // one loads (so its lists can be released, see useReleaseLeftLists).
    <Suspense key={area} fallback={<AreaLoading area={area} />}>
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

/**
 * The big lists an area holds in the query cache: the workers of a namespace (10,000 and more),
 * the pages of history and audit loaded while scrolling.
 */
export function isLargeList(key: QueryKey): boolean {
  return (key[0] === 'namespaces' && key[2] === 'workers') || (key[0] === 'history' && key[2] === 'page') || key[0] === 'audit';
}

/**
 * When the operator moves to another area, the big lists nothing shows any more are dropped at
 * once (not kept the cache's 5 minutes): the memory of a 10,000-worker namespace is given back
 * when it is left. Opening the area again asks for them again (local reads, or Cloudflare's list).
 */
function useReleaseLeftLists(area: AreaId) {
  const queryClient = useQueryClient();
  const shown = useRef(area);
  useEffect(() => {
    if (shown.current === area) {
      return;
    }
    shown.current = area;
    queryClient.removeQueries({ type: 'inactive', predicate: (query) => isLargeList(query.queryKey) });
  }, [area, queryClient]);
}

/**
 * For the cold-start benchmark: when React first rendered this point of the window (its render
 * phase, in tree order), to tell which part of the first screen its first render spends on.
 */
function RenderMark({ name }: { name: string }) {
  markOnce(name);
  return null;
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
  // The palette is loaded on its first opening (Ctrl/Cmd+K or the top bar's button); once loaded,
  // it handles Ctrl/Cmd+K itself.
  // It is mounted closed and opened once mounted, so its dialog hands focus back on closing.
  const [paletteLoaded, setPaletteLoaded] = useState(false);
  const paletteReady = useRef(false);
  const paletteWanted = useRef(false);
  const openPalette = useCallback(() => {
    if (paletteReady.current) {
      actions.open();
    } else {
      paletteWanted.current = true;
      setPaletteLoaded(true);
    }
  }, [actions]);
  const onPaletteReady = useCallback(() => {
    paletteReady.current = true;
    if (paletteWanted.current) {
      paletteWanted.current = false;
      actions.open();
    }
  }, [actions]);
  const setArea = useCallback((id: AreaId, to?: NavigationTarget) => {
    setPlace({ area: id, target: to ?? null });
  }, []);

  const navigation = useMemo<Navigation>(() => ({ area, target, navigate: setArea }), [area, target, setArea]);

  const hotkeys = useMemo<HotkeyItem[]>(
    () => [
      ...AREAS.map<HotkeyItem>((a) => [
        `alt+Digit${a.shortcutDigit}`,
        () => {
          setArea(a.id);
        },
        { preventDefault: true, usePhysicalKeys: true },
      ]),
      [
        'mod+K',
        () => {
          // Once mounted, the palette's own Ctrl/Cmd+K toggles it.
          if (!paletteReady.current) {
            openPalette();
          }
        },
        { preventDefault: true },
      ],
    ],
    [setArea, openPalette],
  );
  useHotkeys(hotkeys, []);

  useEffect(() => {
    document.title = `${areaById(area).label} — Switchyard`;
  }, [area]);
  useReleaseLeftLists(area);

  return (
    <NavigationContext.Provider value={navigation}>
      <HealthMonitorProvider>
        <AppShell
          header={{ height: HEADER_HEIGHT + BAND_HEIGHT }}
          navbar={{ width: 224, breakpoint: 0 }}
          footer={{ height: FOOTER_HEIGHT }}
          padding="lg"
        >
          <RenderMark name="render:top-bar" />
          <TopBar onOpenPalette={openPalette} />
          <RenderMark name="render:nav" />
          <AreaNav />
          <AppShell.Main>
            <StorageNoticeBanner />
            <AppInfoProblem area={area} />
            <RenderMark name="render:area" />
            <AreaContent area={area} />
          </AppShell.Main>
          <RenderMark name="render:status-bar" />
          <StatusBar />
          <RenderMark name="render:end" />
        </AppShell>
        {/* Inside the health monitor: "Run health check" checks through it. */}
        {paletteLoaded && (
          <Suspense fallback={null}>
            <MountedPalette store={store} close={actions.close} onReady={onPaletteReady} />
          </Suspense>
        )}
      </HealthMonitorProvider>
    </NavigationContext.Provider>
  );
}
