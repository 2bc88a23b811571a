import { Button, Code, CopyButton, Drawer, Group, Stack, Table, Text } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';
import type { ReactNode } from 'react';

import { formatBytes } from '../../components/format';
import { formatLocalTime } from '../../components/time';
import type { Deployment } from '../../ipc/types';
import { useArchivedBundles } from '../../ipc/deploy';
import { LogsButton } from '../logs/LogsButton';
import { localTime, StatusBadge } from './deploymentColumns';

function Row({ label, value }: { label: string; value: ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th w={150}>{label}</Table.Th>
      <Table.Td style={{ wordBreak: 'break-all' }}>{value}</Table.Td>
    </Table.Tr>
  );
}

function text(value: string | null | undefined): ReactNode {
  return value === null || value === undefined || value === '' ? (
    <Text span size="sm" c="dimmed">
      not set
    </Text>
  ) : (
    <Code>{value}</Code>
  );
}

/** Every field of one deployment record, and a way to copy it. */
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
  return <Row label="Archived bundle" value={value} />;
}

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
          <Table variant="vertical" layout="fixed" verticalSpacing={6} aria-label="Deployment fields">
            <Table.Tbody>
              <Row label="Id" value={text(deployment.id)} />
              <Row label="Service" value={text(deployment.service)} />
              <Row label="Environment" value={text(deployment.environment)} />
              <Row label="Status" value={<StatusBadge status={deployment.status} />} />
              <Row label="Time" value={`${localTime(deployment)} (${deployment.timestamp})`} />
              <Row label="Tier" value={text(deployment.tier)} />
              <Row label="Version" value={text(deployment.version)} />
              <Row label="Version tag" value={text(deployment.versionTag)} />
              <Row label="Namespace" value={text(deployment.namespace)} />
              <Row label="URL" value={text(deployment.url)} />
              <Row label="Commit" value={text(deployment.metadata.commit)} />
              <Row label="Branch" value={text(deployment.metadata.branch)} />
              <Row label="Author" value={text(deployment.metadata.author)} />
              <Row label="Release version" value={text(deployment.metadata.version)} />
              <ArchiveRows profileId={profileId} deploymentId={deployment.id} />
            </Table.Tbody>
          </Table>
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
