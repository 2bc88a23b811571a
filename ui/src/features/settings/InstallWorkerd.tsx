import { Button, Code, Group, Loader, Progress, Stack, Text, Title } from '@mantine/core';
import { IconDownload, IconX } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Channel } from '@tauri-apps/api/core';
import { useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import type { ErrorText } from '../../components/errorText';
import { commands } from '../../ipc/bindings';
import type { AppError, WorkerdInstalled, WorkerdInstallEvent, WorkerdInstallOffer } from '../../ipc/types';
import { callCommand } from '../../ipc/errors';
import { healthKeys } from '../../ipc/health';

const offerKey = ['settings', 'workerdInstallOffer'] as const;

/** Whatever failed, an install leaves nothing behind: the words every failure shares. */
const NOT_INSTALLED: ErrorText = {
  title: 'Nothing was installed',
  nextStep:
    'The Local sandbox still stores scripts without executing them. Try again, or install workerd with `cargo xtask setup`, or choose a workerd binary below.',
};

/** Bytes in decimal megabytes, as download sizes are usually given: "50.5 MB". */
export function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

function stepText(event: WorkerdInstallEvent | null): string {
  if (event === null) {
    return 'Asking the registry for the download…';
  }
  switch (event.step) {
    case 'download': {
      const done = event.doneBytes ?? 0;
      const total = event.totalBytes ?? null;
      return total !== null && total > 0
        ? `Downloading: ${megabytes(done)} of ${megabytes(total)} (${Math.floor((done / total) * 100)} %)`
        : `Downloading: ${megabytes(done)} (the registry did not say how much in all)`;
    }
    case 'verify':
      return 'Checking the download against the published sha512 hash…';
    case 'unpack':
      return 'Unpacking workerd…';
    case 'check':
      return 'Running workerd --version…';
    case 'startRuntime':
      return "Starting the Local sandbox's runtime with it…";
  }
}

/** How far the download is, 0–100 (the later steps are quick: the bar stays full). */
function percentOf(event: WorkerdInstallEvent | null): number {
  if (event === null) {
    return 0;
  }
  if (event.step !== 'download') {
    return 100;
  }
  const total = event.totalBytes ?? 0;
  return total > 0 ? Math.min(100, Math.floor(((event.doneBytes ?? 0) / total) * 100)) : 0;
}

/**
 * The offer to install the pinned workerd when none is found: what is downloaded, from where, how
 * big, where it goes; then the download's progress, and why it failed (nothing installed).
 */
export function InstallWorkerd({ onInstalled }: { onInstalled: (installed: WorkerdInstalled) => void }) {
  const client = useQueryClient();
  const offer = useQuery<WorkerdInstallOffer, AppError>({
    queryKey: offerKey,
    queryFn: () => callCommand(() => commands.workerdInstallOffer()),
    staleTime: Infinity,
    retry: false,
  });
  const [event, setEvent] = useState<WorkerdInstallEvent | null>(null);
  const install = useMutation<WorkerdInstalled, AppError>({
    mutationFn: () => {
      setEvent(null);
      const channel = new Channel<WorkerdInstallEvent>();
      channel.onmessage = setEvent;
      return callCommand(() => commands.installWorkerd(channel));
    },
    onSuccess: (installed) => {
      onInstalled(installed);
      void client.invalidateQueries({ queryKey: healthKeys.runtime });
    },
  });
  const cancel = useMutation<boolean, AppError>({
    mutationFn: () => callCommand(() => commands.cancelWorkerdInstall()),
  });

  const start = () => {
    cancel.reset();
    install.mutate();
  };
  const cancelled = install.isError && install.error.code === 'Cancelled';
  const o = offer.data;
  return (
    <Stack gap="xs" component="section" aria-labelledby="sy-install-workerd">
      <Title order={3} size="h5" id="sy-install-workerd">
        Install workerd
      </Title>
      {offer.isPending && (
        <Group gap="xs">
          <Loader size="sm" aria-hidden />
          <Text size="sm">Looking up the workerd download…</Text>
        </Group>
      )}
      {offer.isError && (
        <ErrorNotice
          error={offer.error}
          context="Preparing the workerd install"
          onRetry={() => {
            void offer.refetch();
          }}
        />
      )}
      {o && (
        <>
          <Text size="sm">
            {`Switchyard can download workerd ${o.version} (the npm package ${o.package}, ${
              o.downloadBytes != null ? megabytes(o.downloadBytes) : `size unknown: ${o.sizeUnknown ?? 'the registry did not say'}`
            }) from `}
            <Code>{o.url}</Code>
            {' and install it at '}
            <Code>{o.destination}</Code>
            {
              ". The download is checked against the sha512 hash the registry published for this version (kept in Switchyard's lock file) before anything is unpacked."
            }
          </Text>
          {!install.isPending && !install.isSuccess && (
            <Group gap="sm">
              <Button leftSection={<IconDownload size={16} aria-hidden />} onClick={start}>
                {`Install workerd ${o.version}${o.downloadBytes != null ? ` (${megabytes(o.downloadBytes)})` : ''}`}
              </Button>
            </Group>
          )}
        </>
      )}
      {install.isPending && (
        <Stack gap={4}>
          <Progress.Root size="lg">
            <Progress.Section
              value={percentOf(event)}
              aria-label="workerd download"
              striped
              // Moving while there is no byte count to show (asking, unknown size, the quick steps after).
              animated={event === null || event.step !== 'download' || !event.totalBytes}
            />
          </Progress.Root>
          <Group gap="sm" justify="space-between">
            <Text size="sm" aria-live="polite">
              {stepText(event)}
            </Text>
            {(event === null || event.step === 'download') && (
              <Button
                size="xs"
                variant="default"
                leftSection={<IconX size={14} aria-hidden />}
                loading={cancel.isPending}
                onClick={() => {
                  cancel.mutate();
                }}
              >
                Cancel download
              </Button>
            )}
          </Group>
        </Stack>
      )}
      {cancelled && (
        <Text size="sm" role="status">
          Cancelled: nothing was installed.
        </Text>
      )}
      {install.isError && !cancelled && (
        <ErrorNotice error={install.error} context="Installing workerd" text={NOT_INSTALLED} onRetry={start} />
      )}
      {cancel.isError && <ErrorNotice error={cancel.error} context="Cancelling the download" />}
    </Stack>
  );
}
