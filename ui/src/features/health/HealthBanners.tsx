import { Alert, Button, Group, Stack, Text, Title } from '@mantine/core';
import { IconAlertTriangle, IconArrowBackUp, IconRefreshAlert } from '@tabler/icons-react';

import { useNavigation } from '../../shell/navigation';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatLocalTime, useNow } from '../../components/time';
import type { HealthBoard, RuntimeNotice } from '../../ipc/types';
import { useSandboxRuntime } from '../../ipc/health';
import { LogsButton } from '../logs/LogsButton';
import { suspectsOf, suspectText } from './suspect';

/** How many of the runtime's notices Health lists (the newest). */
const NOTICES_SHOWN = 5;

/**
 * One alert per service that is down shortly after a deployment of it: when it started failing,
 * the deployment, and two ways on — the rollback plan (never a rollback by itself) and its logs.
 */
export function SuspectBanners({ board }: { board: HealthBoard | undefined }) {
  const { navigate } = useNavigation();
  const now = useNow();
  const suspects = suspectsOf(board);
  if (suspects.length === 0) {
    return null;
  }
  return (
    <Stack gap="xs">
      {suspects.map((s) => (
        <Alert
          key={s.service}
          role="alert"
          color="red"
          variant="light"
          icon={<IconAlertTriangle aria-hidden />}
          title={suspectText(s, now)}
          data-suspect={s.service}
        >
          <Stack gap={6}>
            <Text size="sm">
              {`Likely cause: the newest deployment of ${s.service} made within the correlation window (Settings) before its first failing check.`}
            </Text>
            <Group gap="xs">
              <Button
                size="xs"
                color="orange.8"
                leftSection={<IconArrowBackUp size={14} aria-hidden />}
                aria-label={`Roll back ${s.service}`}
                onClick={() => {
                  navigate('deploy', { rollback: { service: s.service } });
                }}
              >
                Roll back
              </Button>
              <LogsButton service={s.service} size="xs" variant="default" />
            </Group>
            <Text size="xs">
              Roll back opens the rollback plan in Deploy: nothing changes until you confirm it there.
            </Text>
          </Stack>
        </Alert>
      ))}
    </Stack>
  );
}

function noticeTime(at: string): string {
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? at : formatLocalTime(ms);
}

function RuntimeNotices({ notices }: { notices: readonly RuntimeNotice[] }) {
  if (notices.length === 0) {
    return null;
  }
  const newest = notices.slice(-NOTICES_SHOWN).reverse();
  return (
    <section aria-labelledby="sy-runtime-notices">
      <Title order={2} size="h5" id="sy-runtime-notices" mb={4}>
        Runtime notices
      </Title>
      <ul className="sy-runtime-notices">
        {newest.map((n, i) => (
          // Two notices can share a time and text; the position keeps them apart.
          <li key={`${n.at}-${i}`}>
            <Text size="sm">
              <Text span size="sm" c="dimmed">
                {noticeTime(n.at)}
              </Text>
              {` — ${n.message}`}
            </Text>
          </li>
        ))}
      </ul>
      {notices.length > NOTICES_SHOWN && (
        <Text size="xs" c="dimmed">{`The newest ${NOTICES_SHOWN} of ${notices.length}.`}</Text>
      )}
    </section>
  );
}

/**
 * The Local sandbox's runtime, for Health: a warning when deployed scripts are not executed or
 * the runtime is down, and its latest notices (crashes, restarts).
 */
export function SandboxRuntimeView() {
  const runtime = useSandboxRuntime(true);
  if (runtime.isError) {
    return (
      <ErrorNotice
        error={runtime.error}
        context="Reading the sandbox's runtime state"
        onRetry={() => {
          void runtime.refetch();
        }}
      />
    );
  }
  const r = runtime.data;
  if (!r) {
    return null;
  }
  return (
    <Stack gap="xs">
      {!r.executing ? (
        <Alert
          role="alert"
          color="orange"
          variant="light"
          icon={<IconAlertTriangle aria-hidden />}
          title={`Scripts are not executed: ${r.message}`}
        >
          <Text size="sm">
            The Local sandbox stores deployed scripts but does not run them: every request to a service gets “503 Not
            executed” instead of running its code, its health check included.
          </Text>
        </Alert>
      ) : !r.running ? (
        <Alert
          role="alert"
          color="orange"
          variant="light"
          icon={<IconRefreshAlert aria-hidden />}
          title="The sandbox's runtime is starting or restarting; services will not answer until it is back"
        >
          <Text size="sm">{r.message}</Text>
        </Alert>
      ) : (
        <Text size="xs" c="dimmed">
          {`Sandbox runtime: ${r.message.replace(/\.$/, '')}${r.workerdVersion ? ` (workerd ${r.workerdVersion})` : ''}${
            r.restarts > 0 ? `; restarted ${r.restarts} ${r.restarts === 1 ? 'time' : 'times'} since the app started` : ''
          }.`}
        </Text>
      )}
      <RuntimeNotices notices={r.notices} />
    </Stack>
  );
}
