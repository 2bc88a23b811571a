import { AppShell, Group, Text, UnstyledButton } from '@mantine/core';
import {
  IconAlertTriangle,
  IconChecklist,
  IconClockHour4,
  IconFolder,
  IconHeartbeat,
  IconInfoCircle,
} from '@tabler/icons-react';

import { formatLocalTime, formatRelative, useNow } from '../components/time';
import { useHealthMonitor } from '../features/health/HealthMonitor';
import { suspectShortText, suspectsOf } from '../features/health/suspect';
import { useSandboxRuntime } from '../ipc/health';
import { useAppInfo, useHistoryAsOf } from '../ipc/queries';
import { useRuns } from '../ipc/runbooks';
import { activeProfileOf } from '../shell/environment';
import { useNavigation } from '../shell/navigation';

/** How fresh the active profile's cached history is. */
function DataAsOf({ profileId }: { profileId: string | null }) {
  const asOf = useHistoryAsOf(profileId);
  const now = useNow();
  let text: string;
  if (profileId === null) {
    text = 'Data: as of — (no profile)';
  } else if (asOf.isPending) {
    text = 'Data: as of …';
  } else if (asOf.isError) {
    text = 'Data: as of unknown (the history cache could not be read)';
  } else if (asOf.data === null) {
    text = 'Data: never synced for this profile';
  } else {
    text = `Data: as of ${formatLocalTime(asOf.data)} (${formatRelative(asOf.data, now)})`;
  }
  return <Text size="xs">{text}</Text>;
}

/** The health summary of the last check ("7/8 services healthy"), coloured. */
function HealthAtAGlance() {
  const { profileId, board } = useHealthMonitor();
  const { navigate } = useNavigation();
  if (profileId === null) {
    return null;
  }
  const data = board.data;
  let text: string;
  let color = 'dimmed';
  if (data) {
    const { healthy, total } = data.summary;
    text = `Health: ${data.summary.text}`;
    color = total === 0 ? 'dimmed' : healthy === total ? 'green.8' : 'red.8';
    if (board.isError) {
      text += ' (the latest check failed)';
    }
  } else if (board.isError) {
    text = 'Health: the check failed';
    color = 'red.8';
  } else {
    text = 'Health: checking…';
  }
  return (
    <UnstyledButton
      onClick={() => {
        navigate('health');
      }}
      aria-label={`${text}. Open Health.`}
    >
      <Group gap={6} wrap="nowrap">
        <IconHeartbeat size={14} aria-hidden />
        <Text size="xs" fw={600} c={color}>
          {text}
        </Text>
      </Group>
    </UnstyledButton>
  );
}

/** A service down shortly after a deployment of it ("gateway failing after v1.4.0"); opens Health. */
function SuspectAtAGlance() {
  const { profileId, board } = useHealthMonitor();
  const { navigate } = useNavigation();
  const suspects = profileId === null ? [] : suspectsOf(board.data);
  const first = suspects[0];
  if (!first) {
    return null;
  }
  const more = suspects.length > 1 ? ` (+${suspects.length - 1} more)` : '';
  const text = `${suspectShortText(first)}${more}`;
  return (
    <UnstyledButton
      onClick={() => {
        navigate('health');
      }}
      aria-label={`${text}. Open Health.`}
      miw={0}
    >
      <Group gap={6} wrap="nowrap" miw={0}>
        <IconAlertTriangle size={14} aria-hidden />
        <Text size="xs" fw={700} c="red.8" truncate="end" maw={320}>
          {text}
        </Text>
      </Group>
    </UnstyledButton>
  );
}

/**
 * The Local sandbox's runtime when it is not running scripts ("Sandbox: scripts not executed"),
 * asked every 10 s while that profile is active; opens Health, which says why and how to fix it.
 */
function RuntimeAtAGlance({ sandbox }: { sandbox: boolean }) {
  const runtime = useSandboxRuntime(sandbox);
  const { navigate } = useNavigation();
  const r = sandbox ? runtime.data : undefined;
  if (!r || (r.executing && r.running)) {
    return null;
  }
  const text = !r.executing ? 'Sandbox: scripts are not executed' : 'Sandbox runtime starting or restarting';
  return (
    <UnstyledButton
      onClick={() => {
        navigate('health');
      }}
      aria-label={`${text}. Open Health for why.`}
      title={r.message}
    >
      <Group gap={6} wrap="nowrap">
        <IconAlertTriangle size={14} aria-hidden />
        <Text size="xs" fw={700} c="orange.9">
          {text}
        </Text>
      </Group>
    </UnstyledButton>
  );
}

/** The runbook run in progress (the newest open one), and how far it is; opens it. */
function RunInProgress() {
  const runs = useRuns();
  const { navigate } = useNavigation();
  const open = (runs.data ?? []).filter((r) => r.state === 'running');
  const newest = open[0];
  if (!newest) {
    return null;
  }
  const p = newest.progress;
  const more = open.length > 1 ? ` (+${open.length - 1} more open)` : '';
  const text = `Run in progress: ${newest.title} — ${p.passed + p.skipped} of ${p.total} steps done${more}`;
  return (
    <UnstyledButton
      onClick={() => {
        navigate('runbooks', { runId: newest.id });
      }}
      aria-label={`${text}. Open the run.`}
      miw={0}
    >
      <Group gap={6} wrap="nowrap" miw={0}>
        <IconChecklist size={14} aria-hidden />
        <Text size="xs" fw={600} c={p.interrupted > 0 || p.failed > 0 ? 'orange.8' : 'blue.8'} truncate="end" maw={380}>
          {text}
        </Text>
      </Group>
    </UnstyledButton>
  );
}

/** "As of" for the active profile, the app version and the data directory. */
export function StatusBar() {
  const appInfo = useAppInfo();
  const profileId = appInfo.isSuccess && appInfo.data.activeProfile !== '' ? appInfo.data.activeProfile : null;
  const version = appInfo.isSuccess
    ? `${appInfo.data.name} ${appInfo.data.version}`
    : appInfo.isError
      ? 'Version unknown (app info unavailable)'
      : 'Version …';
  const dataDir = appInfo.isSuccess ? appInfo.data.dataDir : appInfo.isError ? 'unknown' : '…';
  const sandbox = appInfo.isSuccess && activeProfileOf(appInfo.data.profiles, appInfo.data.activeProfile)?.sandbox === true;
  return (
    <AppShell.Footer px="md" className="sy-footer">
      <Group h="100%" w="100%" miw={0} gap="lg" wrap="nowrap" justify="space-between">
        {/* What needs attention never shrinks; the data directory gives way first. */}
        <Group gap="lg" wrap="nowrap" style={{ flexShrink: 0 }}>
          <Group gap={6} wrap="nowrap">
            <IconClockHour4 size={14} aria-hidden />
            <DataAsOf profileId={profileId} />
          </Group>
          <HealthAtAGlance />
          <SuspectAtAGlance />
          <RuntimeAtAGlance sandbox={sandbox} />
          <RunInProgress />
        </Group>
        <Group gap="lg" wrap="nowrap" miw={0}>
          <Group gap={6} wrap="nowrap" miw={0}>
            <IconFolder size={14} aria-hidden />
            <Text size="xs" truncate="start" title={dataDir} maw={420} miw={0}>
              Data directory: {dataDir}
            </Text>
          </Group>
          <Group gap={6} wrap="nowrap" style={{ flexShrink: 0 }}>
            <IconInfoCircle size={14} aria-hidden />
            <Text size="xs">{version}</Text>
          </Group>
        </Group>
      </Group>
    </AppShell.Footer>
  );
}
