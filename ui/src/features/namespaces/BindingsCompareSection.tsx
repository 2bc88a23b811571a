import { Button, Group, NativeSelect, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconArrowsDiff } from '@tabler/icons-react';
import { type SyntheticEvent, useEffect, useMemo, useRef, useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import { PathField } from '../../components/PathField';
import type { BindingsDiff, NamespaceSummary } from '../../ipc/types';
import { useCompareBindings } from '../../ipc/namespaces';
import { bindingDiffRows, BindingsDiffTable } from '../bindings/BindingsDiffTable';

const DIFFERENCE = {
  differing: 'Different',
  onlyLocal: 'Not deployed yet',
  onlyDeployed: 'Deployed, not in the folder',
} as const;

function BindingsDiffView({ diff, script }: { diff: BindingsDiff; script: string }) {
  const list = useMemo(() => bindingDiffRows(diff, DIFFERENCE, ['differing', 'onlyLocal', 'onlyDeployed']), [diff]);
  const top = useRef<HTMLDivElement>(null);
  // Bring the answer into view: it appears below the form, often under the fold.
  useEffect(() => {
    top.current?.scrollIntoView({ block: 'nearest' });
  }, [diff]);
  if (list.length === 0) {
    return (
      <Text ref={top} size="sm" c="green.8" fw={600} role="status">
        {`The folder and the deployed ${script} have the same bindings (${diff.same}).`}
      </Text>
    );
  }
  return (
    <Stack gap="xs" ref={top}>
      <Text size="sm" fw={600} role="status">
        {`${list.length} binding${list.length === 1 ? '' : 's'} differ; ${diff.same} the same.`}
      </Text>
      <BindingsDiffTable
        label="Bindings: local folder against deployed worker"
        rows={list}
        localHeader="In the folder"
        showKind
      />
    </Stack>
  );
}

/** A service folder's wrangler.jsonc bindings against the deployed worker's (runbook: "Updating Service Bindings"). */
export function BindingsCompareSection({
  profileId,
  namespaces,
}: {
  profileId: string;
  namespaces: readonly NamespaceSummary[];
}) {
  const names = namespaces.map((n) => n.name);
  const [namespace, setNamespace] = useState<string | null>(null);
  const [script, setScript] = useState('gateway');
  const [folder, setFolder] = useState('');
  const compare = useCompareBindings(profileId);
  const namespaceName =
    namespace !== null && names.includes(namespace)
      ? namespace
      : names.includes('dotdo-production')
        ? 'dotdo-production'
        : (names[0] ?? '');
  const ready = namespaceName !== '' && script.trim() !== '' && folder.trim() !== '';

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    if (ready) {
      compare.mutate({ namespace: namespaceName, script: script.trim(), folder: folder.trim() });
    }
  };

  return (
    <Paper withBorder p="lg" radius="md" component="section" aria-labelledby="sy-bindings-heading">
      <Stack gap="md">
        <Title order={2} id="sy-bindings-heading">
          Compare bindings with a local folder
        </Title>
        <Text size="sm" c="dimmed">
          Reads the folder’s wrangler.jsonc (comments and trailing commas are fine) and compares its service bindings
          and variables with the deployed worker’s. Nothing is changed.
        </Text>
        <form onSubmit={submit}>
          <Stack gap="sm">
            <Group align="flex-end" gap="md" wrap="wrap">
              <NativeSelect
                label="Namespace"
                data={names}
                value={namespaceName}
                onChange={(event) => {
                  setNamespace(event.currentTarget.value);
                }}
                w={240}
              />
              <TextInput
                label="Worker"
                value={script}
                onChange={(event) => {
                  setScript(event.currentTarget.value);
                }}
                w={200}
                spellCheck={false}
              />
            </Group>
            <PathField
              label="Service folder"
              description="The folder with wrangler.jsonc, e.g. workers/gateway in the platform's repository."
              kind="folder"
              value={folder}
              onChange={setFolder}
              placeholder="/home/you/platform/workers/gateway"
              chooserTitle="Choose the service folder"
            />
            <Group>
              <Button
                type="submit"
                leftSection={<IconArrowsDiff size={16} aria-hidden />}
                loading={compare.isPending}
                disabled={!ready}
              >
                Compare bindings
              </Button>
              {!ready && (
                <Text size="sm" c="dimmed">
                  Choose a namespace, a worker and a folder.
                </Text>
              )}
            </Group>
          </Stack>
        </form>
        {compare.isError && <ErrorNotice error={compare.error} context="Comparing the bindings" />}
        {compare.data && <BindingsDiffView diff={compare.data} script={script} />}
      </Stack>
    </Paper>
  );
}
