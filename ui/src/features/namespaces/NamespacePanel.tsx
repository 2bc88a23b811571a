import { Badge, Button, CloseButton, Divider, Group, Loader, Paper, Stack, Switch, Text, Title } from '@mantine/core';
import { IconPencil, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import type { DeletePlan, NamespaceSummary } from '../../ipc/types';
import { useDeletePlan } from '../../ipc/namespaces';
import { DeleteNamespaceDialog, RenameNamespaceDialog, TRUSTED_EXPLANATION, TrustDialog } from './NamespaceDialogs';
import { isoLocal } from './workerRows';
import { WorkersSection } from './WorkersSection';

/**
 * What to open in a namespace once it shows (from the command palette): a worker's drawer, or the
 * delete plan. A new object per request, so asking twice opens it twice.
 */
export interface NamespaceAsk {
  name: string;
  script?: string;
  delete?: boolean;
}

interface NamespacePanelProps {
  profileId: string;
  namespace: NamespaceSummary;
  ask?: NamespaceAsk | null;
  onClose: () => void;
  onRenamed: (renamed: NamespaceSummary) => void;
  onDeleted: (plan: DeletePlan) => void;
}

function DeleteButton({
  profileId,
  name,
  ask,
  onDeleted,
}: {
  profileId: string;
  name: string;
  ask: NamespaceAsk | null;
  onDeleted: (plan: DeletePlan) => void;
}) {
  const plan = useDeletePlan(profileId, name);
  const [opened, setOpened] = useState(false);
  // Its delete plan asked for: the dialog opens once the plan is read (it still needs the name typed).
  const [seenAsk, setSeenAsk] = useState<NamespaceAsk | null>(null);
  if (ask?.delete === true && ask !== seenAsk && plan.isSuccess) {
    setSeenAsk(ask);
    setOpened(true);
  }
  if (plan.isError) {
    return (
      <ErrorNotice
        error={plan.error}
        context="Preparing the delete plan"
        onRetry={() => {
          void plan.refetch();
        }}
      />
    );
  }
  if (plan.isPending) {
    return (
      <Button color="red" variant="outline" disabled leftSection={<Loader size={14} aria-hidden />}>
        Preparing the delete plan…
      </Button>
    );
  }
  return (
    <>
      <Button
        color="red"
        leftSection={<IconTrash size={16} aria-hidden />}
        onClick={() => {
          // Count again as the dialog opens: workers may have come or gone since.
          void plan.refetch();
          setOpened(true);
        }}
      >
        {plan.data.action}
      </Button>
      <DeleteNamespaceDialog
        profileId={profileId}
        plan={plan.data}
        opened={opened}
        onClose={() => {
          setOpened(false);
        }}
        onDeleted={(deleted) => {
          setOpened(false);
          onDeleted(deleted);
        }}
      />
    </>
  );
}

/** One namespace: trusted mode, rename, its workers, and (set apart) delete. */
export function NamespacePanel({ profileId, namespace, ask = null, onClose, onRenamed, onDeleted }: NamespacePanelProps) {
  const [trustAsked, setTrustAsked] = useState<boolean | null>(null);
  const [renaming, setRenaming] = useState(false);
  const { name } = namespace;

  return (
    <Paper withBorder p="lg" radius="md" component="section" aria-labelledby="sy-namespace-heading">
      <Stack gap="md">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <div>
            <Title order={2} id="sy-namespace-heading">
              {name}
            </Title>
            <Group gap="xs" mt={4}>
              <Badge variant="default" tt="none">
                {`${namespace.scriptCount} ${namespace.scriptCount === 1 ? 'worker' : 'workers'}`}
              </Badge>
              {namespace.id && (
                <Text size="xs" c="dimmed" ff="monospace">
                  {namespace.id}
                </Text>
              )}
              {namespace.createdOn && (
                <Text size="xs" c="dimmed">
                  Created {isoLocal(namespace.createdOn)}
                </Text>
              )}
            </Group>
          </div>
          <CloseButton aria-label={`Close ${name}`} onClick={onClose} />
        </Group>

        <Group justify="space-between" align="flex-start" wrap="wrap" gap="lg">
          <Stack gap={4} maw={560}>
            <Switch
              label="Trusted mode"
              checked={namespace.trustedWorkers}
              onChange={(event) => {
                setTrustAsked(event.currentTarget.checked);
              }}
              aria-describedby="sy-trusted-explanation"
            />
            <Text size="xs" c="dimmed" id="sy-trusted-explanation" pl={54}>
              {TRUSTED_EXPLANATION}
            </Text>
          </Stack>
          <Button
            variant="default"
            leftSection={<IconPencil size={16} aria-hidden />}
            onClick={() => {
              setRenaming(true);
            }}
          >
            Rename namespace
          </Button>
        </Group>

        <WorkersSection key={name} profileId={profileId} namespace={name} ask={ask} expected={namespace.scriptCount} />

        <Divider mt="lg" label="Danger zone" labelPosition="left" color="red" />
        <Group>
          <DeleteButton key={name} profileId={profileId} name={name} ask={ask} onDeleted={onDeleted} />
        </Group>
      </Stack>

      <TrustDialog
        profileId={profileId}
        name={name}
        trusted={trustAsked}
        onClose={() => {
          setTrustAsked(null);
        }}
      />
      <RenameNamespaceDialog
        key={`rename-${name}`}
        profileId={profileId}
        name={name}
        opened={renaming}
        onClose={() => {
          setRenaming(false);
        }}
        onRenamed={(renamed) => {
          setRenaming(false);
          onRenamed(renamed);
        }}
      />
    </Paper>
  );
}
