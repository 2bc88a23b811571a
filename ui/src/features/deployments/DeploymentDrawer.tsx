import { Button, Code, CopyButton, Drawer, Group, Stack } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';
import type { ReactNode } from 'react';

import { CodeOrNotSet, KeyValue, KeyValueList } from '../../components/DataTable';
import { formatBytes } from '../../components/format';
import { formatLocalTime } from '../../components/time';
import type { Deployment } from '../../ipc/types';
import { useArchivedBundles } from '../../ipc/deploy';
import { LogsButton } from '../logs/LogsButton';
import { localTime, StatusBadge } from './deploymentColumns';

/** The archived bundle of a deployment, when the app deployed (and still keeps) it. */
function ArchiveRows({ profileId, deploymentId }: { profileId: string; deploymentId: string }) {
  const bundles = useArchivedBundles(profileId);
  const bundle = bundles.data?.find((b) => b.deploymentId === deploymentId) ?? null;
  let value: ReactNode;
  if (bundles.isPending) {
    value = 'Looking…';
  } else if (bundles.isError) {
    value = `Unknown: ${bundles.error.message}`;
  } else if (bundle === null) {
    value = 'Not archived: it was deployed outside Switchyard, or before the archive existed.';
  } else if (!bundle.available) {
    value = `Pruned by the retention setting${bundle.prunedMs !== null ? ` on ${formatLocalTime(bundle.prunedMs)}` : ''}; sha256 ${bundle.sha256}`;
  } else {
    value = (
      <>
        <Code>{bundle.sha256}</Code> ({bundle.sizeBytes !== null ? formatBytes(bundle.sizeBytes) : 'size unknown'})
      </>
    );
  }
  return <KeyValue label="Archived bundle">{value}</KeyValue>;
}

/** Every field of one deployment record, and a way to copy it. */
export function DeploymentDrawer({
  profileId,
  deployment,
  onClose,
}: {
  profileId: string;
  deployment: Deployment | null;
  onClose: () => void;
}) {
  return (
    <Drawer
      opened={deployment !== null}
      onClose={onClose}
      position="right"
      size="lg"
      title={deployment ? `Deployment ${deployment.id}` : 'Deployment'}
    >
      {deployment && (
        <Stack gap="md">
          <KeyValueList label="Deployment fields">
            <KeyValue label="Id">
              <CodeOrNotSet value={deployment.id} />
            </KeyValue>
            <KeyValue label="Service">
              <CodeOrNotSet value={deployment.service} />
            </KeyValue>
            <KeyValue label="Environment">
              <CodeOrNotSet value={deployment.environment} />
            </KeyValue>
            <KeyValue label="Status">
              <StatusBadge status={deployment.status} />
            </KeyValue>
            <KeyValue label="Time">{`${localTime(deployment)} (${deployment.timestamp})`}</KeyValue>
            <KeyValue label="Tier">
              <CodeOrNotSet value={deployment.tier} />
            </KeyValue>
            <KeyValue label="Version">
              <CodeOrNotSet value={deployment.version} />
            </KeyValue>
            <KeyValue label="Version tag">
              <CodeOrNotSet value={deployment.versionTag} />
            </KeyValue>
            <KeyValue label="Namespace">
              <CodeOrNotSet value={deployment.namespace} />
            </KeyValue>
            <KeyValue label="URL">
              <CodeOrNotSet value={deployment.url} />
            </KeyValue>
            <KeyValue label="Commit">
              <CodeOrNotSet value={deployment.metadata.commit} />
            </KeyValue>
            <KeyValue label="Branch">
              <CodeOrNotSet value={deployment.metadata.branch} />
            </KeyValue>
            <KeyValue label="Author">
              <CodeOrNotSet value={deployment.metadata.author} />
            </KeyValue>
            <KeyValue label="Release version">
              <CodeOrNotSet value={deployment.metadata.version} />
            </KeyValue>
            <ArchiveRows profileId={profileId} deploymentId={deployment.id} />
          </KeyValueList>
          <Group>
            <CopyButton value={JSON.stringify(deployment, null, 2)}>
              {({ copied, copy }) => (
                <Button
                  size="xs"
                  variant="default"
                  leftSection={copied ? <IconCheck size={14} aria-hidden /> : <IconCopy size={14} aria-hidden />}
                  onClick={copy}
                >
                  {copied ? 'Copied' : 'Copy as JSON'}
                </Button>
              )}
            </CopyButton>
            <LogsButton service={deployment.service} size="xs" variant="default" />
          </Group>
        </Stack>
      )}
    </Drawer>
  );
}
