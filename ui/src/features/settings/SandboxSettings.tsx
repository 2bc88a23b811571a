import { Button, Code, Group, Loader, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type SyntheticEvent, useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import { commands } from '../../ipc/bindings';
import type { AppError, WorkerdInstalled } from '../../ipc/types';
import { callCommand } from '../../ipc/errors';
import { useSandboxRuntime } from '../../ipc/health';
import { InstallWorkerd } from './InstallWorkerd';

const SOURCE: Record<string, string> = {
  setting: 'chosen here',
  switchyard_env: 'from SWITCHYARD_WORKERD',
  miniflare_env: 'from MINIFLARE_WORKERD_PATH',
  cache: 'the version `cargo xtask setup` installs',
  wrangler: 'the one that came with wrangler',
};

const workerdKey = ['settings', 'workerdPath'] as const;

/** The Local sandbox's runtime: what executes deployed scripts, and which workerd binary to use. */
export function SandboxSettings() {
  const client = useQueryClient();
  const runtime = useSandboxRuntime(true);
  const chosen = useQuery<string | null, AppError>({
    queryKey: workerdKey,
    queryFn: () => callCommand(() => commands.workerdPath()),
  });
  const save = useMutation<null, AppError, string | null>({
    mutationFn: (path) => callCommand(() => commands.setWorkerdPath(path)),
    onSuccess: () => client.invalidateQueries({ queryKey: workerdKey }),
  });
  const [typed, setTyped] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [installed, setInstalled] = useState<WorkerdInstalled | null>(null);
  const value = typed ?? chosen.data ?? '';

  const onSubmit = (event: SyntheticEvent) => {
    event.preventDefault();
    save.mutate(value.trim() === '' ? null : value.trim(), {
      onSuccess: () => {
        setTyped(null);
        setSaved(true);
      },
    });
  };

  const r = runtime.data;
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="sy-sandbox-settings">
      <Title order={2} size="h4" mb="sm" id="sy-sandbox-settings">
        Local sandbox runtime
      </Title>
      <Stack gap="sm" maw={720}>
        {runtime.isPending && (
          <Group gap="xs">
            <Loader size="sm" aria-hidden />
            <Text size="sm">Asking the sandbox…</Text>
          </Group>
        )}
        {runtime.isError && <ErrorNotice error={runtime.error} context="Reading the sandbox's runtime state" />}
        {r && (
          <Text size="sm" role="status" aria-label="What executes deployed scripts">
            {r.executing
              ? `Deployed scripts run in workerd${r.workerdVersion ? ` ${r.workerdVersion}` : ''}, ${
                  SOURCE[r.workerdSource ?? ''] ?? 'found by Switchyard'
                }: `
              : `Scripts are not executed: ${r.message}`}
            {r.executing && r.workerdPath && <Code>{r.workerdPath}</Code>}
          </Text>
        )}
        {runtime.isSuccess && r === null && (
          <Text size="sm">The Local sandbox is not running in this window.</Text>
        )}
        {installed && (
          <Text size="sm" role="status" aria-label="workerd install">
            {installed.message}
          </Text>
        )}
        {r && !r.executing && !installed && <InstallWorkerd onInstalled={setInstalled} />}
        {chosen.isError && <ErrorNotice error={chosen.error} context="Reading the workerd setting" />}
        {chosen.isSuccess && (
          <form onSubmit={onSubmit} noValidate>
            <Stack gap="xs">
              <TextInput
                label="workerd binary"
                description="Leave empty to let Switchyard look for one (SWITCHYARD_WORKERD, MINIFLARE_WORKERD_PATH, the version cargo xtask setup installs, a wrangler install). Switchyard checks the file by running it; the Local sandbox uses it from the next start of Switchyard."
                placeholder="/path/to/node_modules/@cloudflare/workerd-linux-64/bin/workerd"
                value={value}
                spellCheck={false}
                autoComplete="off"
                onChange={(event) => {
                  setTyped(event.currentTarget.value);
                  setSaved(false);
                  save.reset();
                }}
              />
              <Group gap="sm">
                <Button type="submit" variant="default" loading={save.isPending} disabled={typed === null}>
                  Save workerd binary
                </Button>
                {saved && !save.isPending && (
                  <Text size="sm" role="status">
                    Saved. Restart Switchyard to use it.
                  </Text>
                )}
              </Group>
              {save.isError && <ErrorNotice error={save.error} context="Saving the workerd binary" />}
            </Stack>
          </form>
        )}
      </Stack>
    </Paper>
  );
}
