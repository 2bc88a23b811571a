import { Alert, Button, Checkbox, Code, List, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { IconAlertTriangle, IconLock } from '@tabler/icons-react';
import { type ReactNode, useState } from 'react';

import { formatBytes, shortHash } from '../../components/format';
import type {
  Confirmation_Deserialize,
  ConfirmationRequirement_Serialize,
  DeployBindingsDiff,
  DeployPlan_Serialize,
  Environment,
  VersionSummary_Serialize,
} from '../../ipc/bindings';

function orDash(value: string | null | undefined): string {
  return value === null || value === undefined || value === '' ? '—' : value;
}

function versionRows(v: VersionSummary_Serialize | null): Record<string, ReactNode> {
  return {
    Version: orDash(v?.versionLabel),
    Deployment: orDash(v?.deploymentId),
    Commit: v?.commit ? <Code>{v.commit.slice(0, 12)}</Code> : '—',
    Branch: orDash(v?.branch),
    Author: orDash(v?.author),
    'Deployed at': orDash(v?.timestamp),
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
  current: VersionSummary_Serialize | null;
  next: VersionSummary_Serialize;
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

/** The plan of a deploy or a restore: what changes, from what to what. */
export function DeployPlanView({ plan }: { plan: DeployPlan_Serialize }) {
  return (
    <Stack gap="sm">
      <Title order={3} size="h4">
        {`Plan: ${plan.service} in ${plan.environment} (namespace ${plan.namespace})`}
      </Title>
      <Warnings warnings={plan.warnings} />
      <VersionCompare
        current={plan.current}
        next={plan.next}
        nextTitle={plan.kind === 'deploy' ? 'After this deploy' : 'After restoring'}
      />
      <Text fw={600} size="sm">
        Service bindings
      </Text>
      <BindingsChanges diff={plan.bindings} />
    </Stack>
  );
}

interface ConfirmActionProps {
  requirement: ConfirmationRequirement_Serialize;
  /** The button's words, e.g. "Deploy gateway v1.4.0 to production". */
  action: string;
  environment: Environment;
  busy: boolean;
  /** Anything else the action needs (e.g. a reason), with why it is not ready. */
  notReady?: string | null;
  onConfirm: (confirmation: Confirmation_Deserialize) => void;
}

/**
 * The confirmation the engine asked for: none, a tick, the name typed, or nothing at all for a
 * read-only profile (the button is not there; the reason is).
 */
export function ConfirmAction({ requirement, action, environment, busy, notReady, onConfirm }: ConfirmActionProps) {
  const [ticked, setTicked] = useState(false);
  const [typed, setTyped] = useState('');
  if (requirement.kind === 'blocked') {
    return (
      <Alert color="gray" variant="light" icon={<IconLock aria-hidden />} title="Not allowed with this profile">
        {requirement.reason}
      </Alert>
    );
  }
  const phrase = requirement.phrase ?? '';
  const confirmedEnough =
    requirement.kind === 'none' || (requirement.kind === 'confirm' ? ticked : typed === phrase && phrase !== '');
  const ready = confirmedEnough && !notReady;
  return (
    <Stack gap="sm" maw={560}>
      {requirement.kind === 'confirm' && (
        <Checkbox
          label="I have read the plan above and want to go ahead"
          description={requirement.reason}
          checked={ticked}
          onChange={(event) => {
            setTicked(event.currentTarget.checked);
          }}
        />
      )}
      {requirement.kind === 'typeName' && (
        <TextInput
          label={`Type ${phrase} to confirm`}
          description={requirement.reason}
          value={typed}
          onChange={(event) => {
            setTyped(event.currentTarget.value);
          }}
          autoComplete="off"
          spellCheck={false}
          error={typed !== '' && typed !== phrase ? `That is not “${phrase}”.` : undefined}
        />
      )}
      {notReady && (
        <Text size="sm" c="dimmed">
          {notReady}
        </Text>
      )}
      <div>
        <Button
          color={environment === 'production' ? 'red.8' : 'blue'}
          disabled={!ready}
          loading={busy}
          onClick={() => {
            onConfirm({ confirmed: true, typed: requirement.kind === 'typeName' ? typed : null });
          }}
        >
          {action}
        </Button>
      </div>
    </Stack>
  );
}
