import { Badge, Button, CloseButton, Group, Loader, Paper, Stack, Text } from '@mantine/core';
import { IconCheck, IconPlus } from '@tabler/icons-react';
import { useCallback, useMemo, useState } from 'react';

import { areaById } from '../../shell/areas';
import { useNavigation } from '../../shell/navigation';
import { AreaHeader } from '../../components/AreaHeader';
import { type DataColumn, DataTable, type RowAttributes } from '../../components/DataTable';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { DeletePlan, NamespaceSummary } from '../../ipc/types';
import { useNamespaces } from '../../ipc/namespaces';
import { useAppInfo } from '../../ipc/queries';
import { BindingsCompareSection } from './BindingsCompareSection';
import { CompareSection } from './CompareSection';
import { CreateNamespaceDialog } from './NamespaceDialogs';
import { type NamespaceAsk, NamespacePanel } from './NamespacePanel';
import { isoLocal } from './workerRows';

import './namespaces.css';

/** "Deleted dotdo-staging and its 8 workers" */
export function deletedText(plan: DeletePlan): string {
  const n = plan.scriptCount;
  return `Deleted ${plan.namespace} and its ${n} ${n === 1 ? 'worker' : 'workers'}`;
}

const NAMESPACE_ROW_HEIGHT = 45;

const namespaceName = (ns: NamespaceSummary) => ns.name;

function namespaceColumns(openName: string | null, onOpen: (name: string) => void): DataColumn<NamespaceSummary>[] {
  return [
    {
      id: 'name',
      header: 'Name',
      meta: { rowHeader: true },
      cell: ({ row }) => (
        <Text span size="sm" fw={600} ff="monospace">
          {row.original.name}
        </Text>
      ),
    },
    { id: 'workers', header: 'Workers', cell: ({ row }) => row.original.scriptCount },
    {
      id: 'trusted',
      header: 'Trusted',
      cell: ({ row }) =>
        row.original.trustedWorkers ? (
          <Badge size="sm" color="blue" variant="light" tt="none">
            Trusted
          </Badge>
        ) : (
          <Badge size="sm" variant="default" tt="none">
            Not trusted
          </Badge>
        ),
    },
    { id: 'created', header: 'Created', cell: ({ row }) => isoLocal(row.original.createdOn) || '—' },
    { id: 'modified', header: 'Modified', cell: ({ row }) => isoLocal(row.original.modifiedOn) || '—' },
    {
      id: 'actions',
      header: () => <span className="sy-sr-only">Actions</span>,
      cell: ({ row }) => (
        <Button
          size="xs"
          variant={row.original.name === openName ? 'filled' : 'default'}
          onClick={() => {
            onOpen(row.original.name);
          }}
        >
          {`Open ${row.original.name}`}
        </Button>
      ),
    },
  ];
}

function NamespacesTable({
  namespaces,
  openName,
  onOpen,
}: {
  namespaces: readonly NamespaceSummary[];
  openName: string | null;
  onOpen: (name: string) => void;
}) {
  const columns = useMemo(() => namespaceColumns(openName, onOpen), [openName, onOpen]);
  const rowAttributes = useCallback(
    (ns: NamespaceSummary): RowAttributes => ({ 'aria-current': ns.name === openName ? 'true' : undefined }),
    [openName],
  );
  return (
    <DataTable
      label="Namespaces"
      rows={namespaces}
      columns={columns}
      rowId={namespaceName}
      rowHeight={NAMESPACE_ROW_HEIGHT}
      rowAttributes={rowAttributes}
      className="sy-namespaces-table"
      scrollClassName="sy-table-auto"
      verticalSpacing="xs"
    />
  );
}

function NamespacesView({ profileId }: { profileId: string }) {
  const namespaces = useNamespaces(profileId);
  const { target } = useNavigation();
  const [openName, setOpenName] = useState<string | null>(() => target?.namespace?.name ?? null);
  const [creating, setCreating] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  // What the command palette asked to open in a namespace (a worker, the delete plan): a new
  // object per request, handed to the namespace's panel.
  const [ask, setAsk] = useState<NamespaceAsk | null>(() => target?.namespace ?? null);
  const [seenTarget, setSeenTarget] = useState(target);
  if (target !== seenTarget) {
    setSeenTarget(target);
    if (target?.namespace) {
      setOpenName(target.namespace.name);
      setAsk(target.namespace);
      setDone(null);
    }
  }

  const list = namespaces.data;
  const open = list?.find((n) => n.name === openName) ?? null;

  return (
    <Stack gap="md">
      <AreaHeader
        area={areaById('namespaces')}
        actions={
          <Button
            leftSection={<IconPlus size={16} aria-hidden />}
            onClick={() => {
              setCreating(true);
            }}
          >
            Create namespace
          </Button>
        }
      />
      <div role="status" aria-live="polite">
        {done !== null && (
          <Paper withBorder p="sm" className="sy-namespaces-done">
            <Group justify="space-between" wrap="nowrap">
              <Group gap="xs" wrap="nowrap">
                <IconCheck size={18} aria-hidden color="var(--mantine-color-green-text)" />
                <Text size="sm" fw={600}>
                  {done}
                </Text>
              </Group>
              <CloseButton
                size="sm"
                aria-label="Dismiss"
                onClick={() => {
                  setDone(null);
                }}
              />
            </Group>
          </Paper>
        )}
      </div>

      {namespaces.isPending && (
        <Group gap="xs">
          <Loader size="sm" aria-hidden />
          <Text>Loading namespaces…</Text>
        </Group>
      )}
      {namespaces.isError && (
        <ErrorNotice
          error={namespaces.error}
          context="Loading namespaces"
          onRetry={() => {
            void namespaces.refetch();
          }}
        />
      )}
      {list && list.length === 0 && (
        <Paper withBorder p="lg">
          <Text>
            This account has no dispatch namespaces yet. Create one with “Create namespace” (for example dotdo-staging),
            then deploy services to it.
          </Text>
        </Paper>
      )}
      {list && list.length > 0 && (
        <NamespacesTable
          namespaces={list}
          openName={open?.name ?? null}
          onOpen={(name) => {
            setDone(null);
            setOpenName(name);
          }}
        />
      )}

      {open && (
        <NamespacePanel
          key={open.name}
          profileId={profileId}
          namespace={open}
          ask={ask?.name === open.name ? ask : null}
          onClose={() => {
            setOpenName(null);
          }}
          onRenamed={(renamed) => {
            setOpenName(renamed.name);
            setDone(`Renamed ${open.name} to ${renamed.name}`);
          }}
          onDeleted={(plan) => {
            setOpenName(null);
            setDone(deletedText(plan));
          }}
        />
      )}

      {list && <CompareSection profileId={profileId} namespaces={list} />}
      {list && <BindingsCompareSection profileId={profileId} namespaces={list} />}

      <CreateNamespaceDialog
        profileId={profileId}
        opened={creating}
        onClose={() => {
          setCreating(false);
        }}
        onCreated={(created) => {
          setCreating(false);
          setOpenName(created.name);
          setDone(`Created ${created.name}`);
        }}
      />
    </Stack>
  );
}

/** Dispatch namespaces of the active profile's account, their workers, and drift between them. */
export function NamespacesArea() {
  const appInfo = useAppInfo();
  const profileId = appInfo.isSuccess && appInfo.data.activeProfile !== '' ? appInfo.data.activeProfile : null;
  if (profileId === null) {
    return (
      <Stack gap="md">
        <AreaHeader area={areaById('namespaces')} />
        {appInfo.isPending && <Loader size="sm" aria-label="Loading the active profile" />}
        {appInfo.isSuccess && (
          <Paper withBorder p="lg">
            <Text>No profile is active. Choose or create one in Settings to see its namespaces.</Text>
          </Paper>
        )}
      </Stack>
    );
  }
  return <NamespacesView key={profileId} profileId={profileId} />;
}
