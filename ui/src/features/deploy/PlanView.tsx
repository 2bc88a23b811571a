import { Alert, Code, List, Stack, Table, Text, Title } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import type { ReactNode } from 'react';

import { formatBytes, shortHash } from '../../components/format';
import { CodeDiffView } from './CodeDiffView';
import { formatLocalTime } from '../../components/time';
import type { DeployBindingsDiff, DeployPlan, VersionSummary } from '../../ipc/types';

function orDash(value: string | null | undefined): string {
  return value === null || value === undefined || value === '' ? '—' : value;
}

/** An RFC 3339 time on the operator's clock (as it came when it does not parse). */
function localTime(rfc3339: string): string {
  const ms = Date.parse(rfc3339);
  return Number.isNaN(ms) ? rfc3339 : formatLocalTime(ms);
}

function versionRows(v: VersionSummary | null): Record<string, ReactNode> {
  return {
    Version: orDash(v?.versionLabel),
    Deployment: orDash(v?.deploymentId),
    Commit: v?.commit ? <Code>{v.commit.slice(0, 12)}</Code> : '—',
    Branch: orDash(v?.branch),
    Author: orDash(v?.author),
    'Deployed at': v?.timestamp ? localTime(v.timestamp) : '—',
    Size: v?.sizeBytes !== null && v?.sizeBytes !== undefined ? formatBytes(v.sizeBytes) : '—',
    'SHA-256': v?.sha256 ? <span className="sy-hash">{shortHash(v.sha256)}</span> : '—',
  };
}

/** Two versions side by side: what runs now and what will. */
export function VersionCompare({
  current,
  next,
  nextTitle,
}: {
  current: VersionSummary | null;
  next: VersionSummary;
  nextTitle: string;
}) {
  const now = versionRows(current);
  const after = versionRows(next);
  return (
    <Table withTableBorder withColumnBorders className="sy-plan-table" aria-label="Plan: now and after">
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col" w={130}>
            {' '}
          </Table.Th>
          <Table.Th scope="col">Now</Table.Th>
          <Table.Th scope="col">{nextTitle}</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {Object.keys(after).map((key) => (
          <Table.Tr key={key}>
            <Table.Th scope="row">{key}</Table.Th>
            <Table.Td>{current ? now[key] : key === 'Version' ? 'Nothing deployed yet' : '—'}</Table.Td>
            <Table.Td>{after[key]}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function BindingsChanges({ diff }: { diff: DeployBindingsDiff }) {
  if (!diff.known) {
    return (
      <Text size="sm">
        The bindings of what runs now are not known (it was not deployed by Switchyard and Cloudflare did not say), so
        they cannot be compared.
      </Text>
    );
  }
  if (diff.added.length + diff.removed.length + diff.changed.length === 0) {
    return <Text size="sm">{`Service bindings do not change (${diff.unchanged}).`}</Text>;
  }
  return (
    <List size="sm" aria-label="Binding changes">
      {diff.added.map((b) => (
        <List.Item key={`+${b.name}`}>
          Added <Code>{b.name}</Code> → {b.service}
        </List.Item>
      ))}
      {diff.removed.map((b) => (
        <List.Item key={`-${b.name}`}>
          Removed <Code>{b.name}</Code> (was → {b.service})
        </List.Item>
      ))}
      {diff.changed.map((c) => (
        <List.Item key={`~${c.name}`}>
          Changed <Code>{c.name}</Code>: {c.from} → {c.to}
        </List.Item>
      ))}
      {diff.unchanged > 0 && <List.Item>{`${diff.unchanged} unchanged`}</List.Item>}
    </List>
  );
}

export function Warnings({ warnings }: { warnings: readonly string[] }) {
  if (warnings.length === 0) {
    return null;
  }
  return (
    <Alert color="yellow" variant="light" icon={<IconAlertTriangle aria-hidden />} title="Before you go on">
      <List size="sm">
        {warnings.map((w) => (
          <List.Item key={w}>{w}</List.Item>
        ))}
      </List>
    </Alert>
  );
}

/**
 * The top of a plan: what it acts on, its warnings, and the code that will run diffed against what
 * the namespace runs now (when the new bundle is known).
 */
export function PlanHead({
  plan,
  sha256,
  nextTitle,
}: {
  plan: { profileId: string; service: string; environment: DeployPlan['environment']; namespace: string; warnings: readonly string[] };
  sha256: string | null | undefined;
  nextTitle: string;
}) {
  return (
    <>
      <Title order={3} size="h4">
        {`Plan: ${plan.service} in ${plan.environment} (namespace ${plan.namespace})`}
      </Title>
      <Warnings warnings={plan.warnings} />
      {sha256 && (
        <CodeDiffView
          profileId={plan.profileId}
          left={{ kind: 'running', service: plan.service, environment: plan.environment }}
          right={{ kind: 'bundle', sha256 }}
          leftTitle="Now"
          rightTitle={nextTitle}
        />
      )}
    </>
  );
}

/**
 * The plan of a deploy, restore, promote or direct upload: what changes, from what to what — the
 * code first (diffed against what the namespace runs now), then versions and bindings.
 */
export function DeployPlanView({ plan }: { plan: DeployPlan }) {
  const nextTitle = plan.kind === 'rollback' ? 'After restoring' : 'After this deploy';
  return (
    <Stack gap="sm">
      <PlanHead plan={plan} sha256={plan.next.sha256} nextTitle={nextTitle} />
      <VersionCompare current={plan.current} next={plan.next} nextTitle={nextTitle} />
      <Text fw={600} size="sm">
        Service bindings
      </Text>
      <BindingsChanges diff={plan.bindings} />
    </Stack>
  );
}
