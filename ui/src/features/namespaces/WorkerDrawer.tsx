import { Badge, Button, Code, Divider, Drawer, Group, Loader, Modal, Stack, Tabs, Text, TextInput, Title } from '@mantine/core';
import { IconCode, IconKey, IconListDetails, IconTrash } from '@tabler/icons-react';
import { useMemo, useState } from 'react';

import { type DataColumn, DataTable, KeyValue, KeyValueList, TextCell } from '../../components/DataTable';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { WorkerRow } from '../../ipc/types';
import { useDeleteWorker, useWorkerContent, useWorkerDetail } from '../../ipc/namespaces';
import { useProfiles } from '../../ipc/queries';
import { LogsButton } from '../logs/LogsButton';
import { isoLocal } from './workerRows';
import { WorkerSecretsTab } from './WorkerSecretsTab';
import { formatBytes } from '../../components/format';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a binding points at, in a few words (the service, the variable's text, the KV id…). */
function bindingTarget(binding: Record<string, unknown>): string {
  for (const key of ['service', 'text', 'namespace_id', 'bucket_name', 'class_name', 'queue_name', 'id']) {
    const value = binding[key];
    if (typeof value === 'string' && value !== '') {
      return value;
    }
  }
  return '';
}

/** One of a worker's bindings, as the table lists it. */
interface BindingView {
  key: string;
  name: string;
  type: string;
  target: string;
}

function bindingViews(bindings: readonly unknown[]): BindingView[] {
  return bindings.map((raw, i) => {
    const binding = isRecord(raw) ? raw : {};
    const name = typeof binding.name === 'string' ? binding.name : `(binding ${i + 1})`;
    return {
      key: `${name}-${i}`,
      name,
      type: typeof binding.type === 'string' ? binding.type : '',
      target: bindingTarget(binding),
    };
  });
}

const BINDING_COLUMNS: DataColumn<BindingView>[] = [
  { id: 'name', header: 'Name', accessorFn: (b) => b.name, cell: ({ row }) => <TextCell value={row.original.name} mono /> },
  { id: 'type', header: 'Type', accessorFn: (b) => b.type, meta: { width: 150 }, cell: ({ row }) => <TextCell value={row.original.type} /> },
  {
    id: 'target',
    header: 'Target',
    accessorFn: (b) => b.target,
    meta: { cellClassName: 'sy-table-break' },
    cell: ({ row }) => <span className="sy-table-text sy-table-mono">{row.original.target}</span>,
  },
];

const bindingKey = (b: BindingView) => b.key;
const bindingText = (b: BindingView) => `${b.name}\t${b.type}\t${b.target}`;

function Bindings({ bindings }: { bindings: readonly unknown[] }) {
  const rows = useMemo(() => bindingViews(bindings), [bindings]);
  if (rows.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No bindings.
      </Text>
    );
  }
  return (
    <DataTable
      label="Bindings"
      rows={rows}
      columns={BINDING_COLUMNS}
      rowId={bindingKey}
      copyText={bindingText}
      verticalSpacing={4}
      wrapCells
      virtual={false}
    />
  );
}

function Source({ profileId, namespace, script }: { profileId: string; namespace: string; script: string }) {
  const [asked, setAsked] = useState(false);
  const content = useWorkerContent(profileId, namespace, script, asked);
  if (!asked) {
    return (
      <Group>
        <Button
          variant="default"
          size="xs"
          leftSection={<IconCode size={14} aria-hidden />}
          onClick={() => {
            setAsked(true);
          }}
        >
          Show source
        </Button>
      </Group>
    );
  }
  if (content.isError) {
    return (
      <ErrorNotice
        error={content.error}
        context="Loading the source"
        onRetry={() => {
          void content.refetch();
        }}
      />
    );
  }
  if (content.isPending) {
    return (
      <Group gap="xs">
        <Loader size="xs" aria-hidden />
        <Text size="sm">Loading the source of {script}…</Text>
      </Group>
    );
  }
  return (
    <Code block aria-label={`Source of ${script}`} tabIndex={0} className="sy-worker-source">
      {content.data}
    </Code>
  );
}

interface WorkerDrawerProps {
  profileId: string;
  namespace: string;
  worker: WorkerRow | null;
  onClose: () => void;
}

/** "Logs" for a worker, and what the Logs area will not show when it is in another namespace. */
function WorkerLogs({ profileId, namespace, script }: { profileId: string; namespace: string; script: string }) {
  const profiles = useProfiles();
  const profileNamespace = profiles.data?.find((p) => p.id === profileId)?.namespace ?? null;
  return (
    <Group gap="sm" wrap="wrap">
      <LogsButton service={script} size="xs" variant="default" />
      {profileNamespace !== null && profileNamespace !== namespace && (
        <Text size="xs" c="dimmed" maw={520}>
          {`Logs shows requests dispatched through ${profileNamespace}, this profile's namespace: requests to ${script} through ${namespace} are left out.`}
        </Text>
      )}
    </Group>
  );
}

/**
 * One worker in full: tags, bindings, settings, size, its source on demand, its logs, and delete;
 * and, in its own tab, its secrets (names only) and tags, edited in place.
 */
export function WorkerDrawer({ profileId, namespace, worker, onClose }: WorkerDrawerProps) {
  const script = worker?.name ?? null;
  const detail = useWorkerDetail(profileId, namespace, script);
  const remove = useDeleteWorker(profileId, namespace);
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState('');
  const [tab, setTab] = useState<string | null>('details');

  const closeConfirm = () => {
    setConfirming(false);
    setTyped('');
    remove.reset();
  };

  const bindings: readonly unknown[] = detail.data?.bindings ?? [];
  const settings: unknown = detail.data?.settings ?? null;

  return (
    <>
      <Drawer
        opened={worker !== null}
        onClose={onClose}
        position="right"
        size="xl"
        title={worker ? `Worker ${worker.name}` : 'Worker'}
      >
        {worker && (
          <Tabs value={tab} onChange={setTab} keepMounted={false}>
            <Tabs.List mb="md">
              <Tabs.Tab value="details" leftSection={<IconListDetails size={14} aria-hidden />}>
                Details
              </Tabs.Tab>
              <Tabs.Tab value="secrets" leftSection={<IconKey size={14} aria-hidden />}>
                Secrets and tags
              </Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="secrets">
              <WorkerSecretsTab
                key={`${namespace}/${worker.name}`}
                profileId={profileId}
                namespace={namespace}
                script={worker.name}
                onWorkerGone={onClose}
              />
            </Tabs.Panel>
            <Tabs.Panel value="details">
              <Stack gap="md">
                <KeyValueList label="Worker fields" labelWidth={140}>
                  <KeyValue label="Namespace">{namespace}</KeyValue>
                  <KeyValue label="Service">{worker.service ?? '—'}</KeyValue>
                  <KeyValue label="Env">{worker.environment ?? '—'}</KeyValue>
                  <KeyValue label="Version">{worker.version ?? '—'}</KeyValue>
                  <KeyValue label="Commit">{worker.commit ? <Code>{worker.commit}</Code> : '—'}</KeyValue>
                  <KeyValue label="Branch">{worker.branch ?? '—'}</KeyValue>
                  <KeyValue label="Created">{isoLocal(worker.createdOn) || '—'}</KeyValue>
                  <KeyValue label="Modified">{isoLocal(worker.modifiedOn) || '—'}</KeyValue>
                  <KeyValue label="Size">
                    {detail.data ? formatBytes(detail.data.sizeBytes) : detail.isPending ? 'Loading…' : '—'}
                  </KeyValue>
                </KeyValueList>

                <div>
                  <Title order={3} size="h5" mb={6}>
                    Tags
                  </Title>
                  {worker.tags.length === 0 ? (
                    <Text size="sm" c="dimmed">
                      No tags. Deploys through the Deploy API tag workers with service, env, commit, branch and version.
                    </Text>
                  ) : (
                    <Group gap={6}>
                      {worker.tags.map((tag) => (
                        <Badge key={tag} variant="default" tt="none">
                          {tag}
                        </Badge>
                      ))}
                    </Group>
                  )}
                </div>

                {detail.isError && (
                  <ErrorNotice
                    error={detail.error}
                    context="Loading the worker's details"
                    onRetry={() => {
                      void detail.refetch();
                    }}
                  />
                )}
                {detail.isPending && (
                  <Group gap="xs">
                    <Loader size="xs" aria-hidden />
                    <Text size="sm">Loading bindings and settings…</Text>
                  </Group>
                )}
                {detail.data && (
                  <>
                    <div>
                      <Title order={3} size="h5" mb={6}>
                        Bindings
                      </Title>
                      <Bindings bindings={bindings} />
                    </div>
                    <div>
                      <Title order={3} size="h5" mb={6}>
                        Settings
                      </Title>
                      <Code block aria-label={`Settings of ${worker.name}`}>
                        {JSON.stringify(settings, null, 2)}
                      </Code>
                    </div>
                  </>
                )}

                <div>
                  <Title order={3} size="h5" mb={6}>
                    Logs
                  </Title>
                  <WorkerLogs profileId={profileId} namespace={namespace} script={worker.name} />
                </div>

                <div>
                  <Title order={3} size="h5" mb={6}>
                    Source
                  </Title>
                  <Source key={worker.name} profileId={profileId} namespace={namespace} script={worker.name} />
                </div>

                <Divider my="sm" label="Danger zone" labelPosition="left" />
                <Group>
                  <Button
                    color="red"
                    leftSection={<IconTrash size={16} aria-hidden />}
                    onClick={() => {
                      setConfirming(true);
                    }}
                  >
                    {`Delete worker ${worker.name}`}
                  </Button>
                </Group>
              </Stack>
            </Tabs.Panel>
          </Tabs>
        )}
      </Drawer>
      <Modal opened={confirming && worker !== null} onClose={closeConfirm} title={`Delete worker ${worker?.name ?? ''}?`}>
        {worker && (
          <Stack gap="md">
            <Text>
              This deletes the worker <Code>{worker.name}</Code> from <Code>{namespace}</Code>. Requests dispatched to it
              will fail until it is deployed again. This cannot be undone.
            </Text>
            <TextInput
              label={`Type ${worker.name} to confirm`}
              value={typed}
              autoComplete="off"
              spellCheck={false}
              error={typed !== '' && typed !== worker.name ? `That is not “${worker.name}”.` : undefined}
              onChange={(event) => {
                setTyped(event.currentTarget.value);
              }}
            />
            {remove.isError && <ErrorNotice error={remove.error} context="Deleting the worker" />}
            <Group justify="flex-end">
              <Button variant="default" onClick={closeConfirm}>
                Cancel
              </Button>
              <Button
                color="red"
                loading={remove.isPending}
                disabled={typed !== worker.name}
                onClick={() => {
                  remove.mutate(
                    { script: worker.name, typedConfirmation: typed },
                    {
                      onSuccess: () => {
                        setConfirming(false);
                        setTyped('');
                        remove.reset();
                        onClose();
                      },
                    },
                  );
                }}
              >
                {`Delete ${worker.name} from ${namespace}`}
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}
