import {
  Alert,
  Badge,
  Button,
  Code,
  Group,
  List,
  Loader,
  Modal,
  PasswordInput,
  ScrollArea,
  Select,
  Stack,
  TagsInput,
  Text,
  Textarea,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { IconKey, IconTrash } from '@tabler/icons-react';
import { createContext, useContext, useState } from 'react';

import { type DataColumn, DataTable, TextCell } from '../../components/DataTable';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { AppError, TagDeletePlan } from '../../ipc/types';
import { isAppError } from '../../ipc/errors';
import {
  useBulkSetWorkerSecrets,
  useDeleteWorkerSecret,
  useDeleteWorkersByTag,
  usePutWorkerSecret,
  useSetWorkerTags,
  useTagDeletePlan,
  useWorkerSecrets,
} from '../../ipc/namespaces';

interface WorkerSecretsTabProps {
  profileId: string;
  namespace: string;
  script: string;
  /** Called when a delete by tag removed this very worker. */
  onWorkerGone: () => void;
}

function asAppError(e: unknown): AppError {
  return isAppError(e) ? e : { code: 'Internal', message: 'The command failed.', runbook: null };
}

function sameTags(a: readonly string[], b: readonly string[]) {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/**
 * Set one secret: the value is typed into a password field, sent once in the command's argument,
 * then cleared; it is never rendered, and the mutation's variables are dropped once it settles.
 */
function PutSecret({
  profileId,
  namespace,
  script,
  typedConfirmation,
  locked,
}: {
  profileId: string;
  namespace: string;
  script: string;
  typedConfirmation: string | null;
  locked: boolean;
}) {
  const put = usePutWorkerSecret(profileId, namespace, script);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<AppError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    const sent = { name: name.trim(), value, typedConfirmation };
    setValue('');
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const setName_ = await put.mutateAsync(sent);
      setDone(setName_);
      setName('');
    } catch (e) {
      setError(asAppError(e));
    } finally {
      // The variables (the value) leave the mutation cache.
      put.reset();
      setBusy(false);
    }
  };

  return (
    <Stack gap="xs">
      <Title order={4} size="h6">
        Set a secret
      </Title>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <TextInput
          label="Secret name"
          placeholder="API_TOKEN"
          value={name}
          autoComplete="off"
          spellCheck={false}
          onChange={(event) => {
            setName(event.currentTarget.value);
          }}
        />
        <PasswordInput
          label="Secret value"
          description="Sent to Cloudflare once; never shown or stored here."
          value={value}
          autoComplete="new-password"
          spellCheck={false}
          visibilityToggleButtonProps={{ 'aria-label': 'Show or hide the value while typing' }}
          onChange={(event) => {
            setValue(event.currentTarget.value);
          }}
          style={{ minWidth: 260 }}
        />
        <Button
          leftSection={<IconKey size={16} aria-hidden />}
          loading={busy}
          disabled={locked || name.trim() === '' || value === ''}
          onClick={() => {
            void submit();
          }}
        >
          {name.trim() === '' ? 'Set secret' : `Set secret ${name.trim()}`}
        </Button>
      </Group>
      {done !== null && (
        <Text size="sm" role="status">
          {`Secret ${done} set on ${script}. Its value is not shown again.`}
        </Text>
      )}
      {error && <ErrorNotice error={error} context="Setting the secret" />}
    </Stack>
  );
}

/** Several secrets at once from `.env` lines, parsed in Rust (a bad line is named by number). */
function BulkSecrets({
  profileId,
  namespace,
  script,
  typedConfirmation,
  locked,
}: {
  profileId: string;
  namespace: string;
  script: string;
  typedConfirmation: string | null;
  locked: boolean;
}) {
  const bulk = useBulkSetWorkerSecrets(profileId, namespace, script);
  const [text, setText] = useState('');
  const [error, setError] = useState<AppError | null>(null);
  const [done, setDone] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const names = await bulk.mutateAsync({ envText: text, typedConfirmation });
      setDone(names);
      setText('');
    } catch (e) {
      setError(asAppError(e));
    } finally {
      bulk.reset();
      setBusy(false);
    }
  };

  return (
    <Stack gap="xs">
      <Title order={4} size="h6">
        Set several secrets
      </Title>
      <Textarea
        label="Paste .env lines"
        description="One NAME=value a line; # comments and blank lines are skipped. Cleared once set."
        autosize
        minRows={3}
        maxRows={10}
        value={text}
        autoComplete="off"
        spellCheck={false}
        ff="monospace"
        onChange={(event) => {
          setText(event.currentTarget.value);
        }}
      />
      <Group>
        <Button
          variant="default"
          loading={busy}
          disabled={locked || text.trim() === ''}
          onClick={() => {
            void submit();
          }}
        >
          Set the secrets in these lines
        </Button>
      </Group>
      {done !== null && (
        <Text size="sm" role="status">
          {`Set ${String(done.length)} secret${done.length === 1 ? '' : 's'} on ${script}: ${done.join(', ')}.`}
        </Text>
      )}
      {error && <ErrorNotice error={error} context="Setting the secrets" />}
    </Stack>
  );
}

/** The tags of the worker, edited in place. */
function Tags({
  profileId,
  namespace,
  script,
  tags,
  typedConfirmation,
  locked,
}: {
  profileId: string;
  namespace: string;
  script: string;
  tags: readonly string[];
  typedConfirmation: string | null;
  locked: boolean;
}) {
  const save = useSetWorkerTags(profileId, namespace, script);
  // null: not edited, the worker's tags as they are.
  const [edited, setEdited] = useState<string[] | null>(null);
  const draft = edited ?? [...tags];
  const changed = !sameTags(draft, tags);
  return (
    <Stack gap="xs">
      <Title order={3} size="h5">
        Tags
      </Title>
      <TagsInput
        label="Tags of this worker"
        description="At most 8; no “,” or “&”. Enter adds a tag. Deploys use service:, env:, commit:, branch:, version:."
        value={draft}
        onChange={setEdited}
        clearable
        maxTags={8}
      />
      <Group>
        <Button
          variant="default"
          disabled={locked || !changed}
          loading={save.isPending}
          onClick={() => {
            save.mutate(
              { tags: draft, typedConfirmation },
              {
                onSuccess: () => {
                  setEdited(null);
                },
              },
            );
          }}
        >
          Save tags
        </Button>
        {changed && (
          <Button
            variant="subtle"
            onClick={() => {
              setEdited(null);
              save.reset();
            }}
          >
            Undo changes
          </Button>
        )}
      </Group>
      {save.isSuccess && (
        <Text size="sm" role="status">
          Tags saved.
        </Text>
      )}
      {save.isError && <ErrorNotice error={save.error} context="Saving the tags" />}
    </Stack>
  );
}

/** Delete every worker carrying a tag: a preview (listed, counted), then the tag typed. */
function DeleteByTag({
  profileId,
  namespace,
  script,
  tags,
  onWorkerGone,
}: {
  profileId: string;
  namespace: string;
  script: string;
  tags: readonly string[];
  onWorkerGone: () => void;
}) {
  const planOf = useTagDeletePlan(profileId, namespace);
  const remove = useDeleteWorkersByTag(profileId, namespace);
  const [tag, setTag] = useState<string | null>(null);
  const [plan, setPlan] = useState<TagDeletePlan | null>(null);
  const [typed, setTyped] = useState('');
  const [deleted, setDeleted] = useState<string[] | null>(null);

  const close = () => {
    setPlan(null);
    setTyped('');
    remove.reset();
  };
  const preview = (which: string) => {
    remove.reset();
    setTyped('');
    setDeleted(null);
    planOf.mutate(
      { tag: which },
      {
        onSuccess: (p) => {
          setPlan(p);
        },
      },
    );
  };

  return (
    <Stack gap="xs">
      <Title order={3} size="h5">
        Delete workers by tag
      </Title>
      <Group align="flex-end" gap="sm">
        <Select
          label="Delete every worker tagged"
          placeholder={tags.length === 0 ? 'This worker has no tags' : 'Choose a tag'}
          data={[...tags]}
          value={tag}
          onChange={setTag}
          disabled={tags.length === 0}
          allowDeselect
        />
        <Button
          color="red"
          variant="light"
          disabled={tag === null}
          loading={planOf.isPending}
          onClick={() => {
            if (tag !== null) {
              preview(tag);
            }
          }}
        >
          {tag === null ? 'Preview the workers' : `Preview the workers tagged ${tag}`}
        </Button>
      </Group>
      {planOf.isError && <ErrorNotice error={planOf.error} context="Listing the workers with that tag" />}
      {deleted !== null && (
        <Text size="sm" role="status">
          {`Deleted ${String(deleted.length)} worker${deleted.length === 1 ? '' : 's'}: ${deleted.join(', ')}.`}
        </Text>
      )}
      <Modal opened={plan !== null} onClose={close} title={plan ? `Delete the workers tagged ${plan.tag}?` : 'Delete'} size="lg">
        {plan && (
          <Stack gap="md">
            {plan.scriptCount === 0 ? (
              <Text>{`No worker in ${plan.namespace} carries the tag ${plan.tag} now: nothing to delete.`}</Text>
            ) : (
              <>
                <Text>
                  {`These ${String(plan.scriptCount)} worker${plan.scriptCount === 1 ? '' : 's'} of `}
                  <Code>{plan.namespace}</Code>
                  {` carry the tag `}
                  <Code>{plan.tag}</Code>
                  {`. They are deleted with their secrets; requests dispatched to them fail until they are deployed again. This cannot be undone.`}
                </Text>
                <ScrollArea.Autosize mah={240}>
                  <List size="sm" aria-label={`Workers tagged ${plan.tag}`}>
                    {plan.scripts.map((s) => (
                      <List.Item key={s}>
                        <Code>{s}</Code>
                        {s === script && (
                          <Badge ml={6} size="xs" variant="light">
                            this worker
                          </Badge>
                        )}
                      </List.Item>
                    ))}
                  </List>
                </ScrollArea.Autosize>
                <Alert color="yellow" variant="light" role="note">
                  Only these workers are deleted: if a worker gains or loses the tag before you confirm, nothing is deleted
                  and you are shown the new list.
                </Alert>
                <TextInput
                  label={`Type ${plan.confirmPhrase} to confirm`}
                  value={typed}
                  autoComplete="off"
                  spellCheck={false}
                  error={typed !== '' && typed !== plan.confirmPhrase ? `That is not “${plan.confirmPhrase}”.` : undefined}
                  onChange={(event) => {
                    setTyped(event.currentTarget.value);
                  }}
                />
              </>
            )}
            {remove.isError && (
              <>
                <ErrorNotice error={remove.error} context="Deleting the workers" />
                {remove.error.code === 'Conflict' && (
                  <Group>
                    <Button
                      variant="default"
                      onClick={() => {
                        preview(plan.tag);
                      }}
                    >
                      Show the new list
                    </Button>
                  </Group>
                )}
              </>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              {plan.scriptCount > 0 && (
                <Button
                  color="red"
                  leftSection={<IconTrash size={16} aria-hidden />}
                  loading={remove.isPending}
                  disabled={typed !== plan.confirmPhrase}
                  onClick={() => {
                    remove.mutate(
                      { plan, typedConfirmation: typed },
                      {
                        onSuccess: (names) => {
                          setDeleted(names);
                          close();
                          if (names.includes(script)) {
                            onWorkerGone();
                          }
                        },
                      },
                    );
                  }}
                >
                  {plan.action}
                </Button>
              )}
            </Group>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}

/** The "Secrets and tags" tab of the worker drawer. */
/** What a secret's row needs besides its name: whether changes are locked, and how to delete it. */
interface SecretsState {
  locked: boolean;
  onDelete: (name: string) => void;
}

// The Delete buttons read it through a context: columns made anew would mount new buttons (focus lost).
const SecretsContext = createContext<SecretsState>({ locked: true, onDelete: () => undefined });

const DeleteSecretCell: NonNullable<DataColumn<string>['cell']> = ({ row: { original: name } }) => {
  const { locked, onDelete } = useContext(SecretsContext);
  return (
    <Button
      size="compact-xs"
      color="red"
      variant="subtle"
      aria-label={`Delete secret ${name}`}
      disabled={locked}
      onClick={() => {
        onDelete(name);
      }}
    >
      Delete
    </Button>
  );
};

const SECRET_COLUMNS: DataColumn<string>[] = [
  { id: 'name', header: 'Name', accessorFn: (name) => name, cell: ({ row }) => <TextCell value={row.original} mono /> },
  {
    id: 'value',
    header: 'Value',
    meta: { width: 110 },
    // Cloudflare never gives a secret's value back.
    cell: () => <span className="sy-table-text sy-table-empty">hidden</span>,
  },
  { id: 'actions', header: () => <VisuallyHidden>Actions</VisuallyHidden>, meta: { width: 90 }, cell: DeleteSecretCell },
];

const secretName = (name: string) => name;

export function WorkerSecretsTab({ profileId, namespace, script, onWorkerGone }: WorkerSecretsTabProps) {
  const data = useWorkerSecrets(profileId, namespace, script);
  const removeSecret = useDeleteWorkerSecret(profileId, namespace, script);
  const [typed, setTyped] = useState('');
  const [deleting, setDeleting] = useState<string | null>(null);

  if (data.isError) {
    return (
      <ErrorNotice
        error={data.error}
        context="Loading the secrets and tags"
        onRetry={() => {
          void data.refetch();
        }}
      />
    );
  }
  if (data.isPending) {
    return (
      <Group gap="xs">
        <Loader size="xs" aria-hidden />
        <Text size="sm">Loading the secrets and tags of {script}…</Text>
      </Group>
    );
  }
  const { names, tags, confirmTyped } = data.data;
  const locked = confirmTyped && typed !== script;
  const secretsState: SecretsState = { locked, onDelete: setDeleting };
  const typedConfirmation = confirmTyped ? typed : null;
  const closeDelete = () => {
    setDeleting(null);
    removeSecret.reset();
  };

  return (
    <Stack gap="lg">
      {confirmTyped && (
        <Alert color="red" variant="light" role="note" title={`${namespace} is a production namespace`}>
          <TextInput
            label={`Type ${script} to change its secrets and tags`}
            value={typed}
            autoComplete="off"
            spellCheck={false}
            error={typed !== '' && typed !== script ? `That is not “${script}”.` : undefined}
            onChange={(event) => {
              setTyped(event.currentTarget.value);
            }}
          />
        </Alert>
      )}

      <Stack gap="xs">
        <Title order={3} size="h5">
          Secrets
        </Title>
        {names.length === 0 ? (
          <Text size="sm" c="dimmed">
            No secrets. Set one below: the worker reads it as env.NAME. Values are sent to Cloudflare and never shown again.
          </Text>
        ) : (
          <SecretsContext.Provider value={secretsState}>
            <DataTable
              label="Secrets"
              rows={names}
              columns={SECRET_COLUMNS}
              rowId={secretName}
              copyText={secretName}
              verticalSpacing={4}
              virtual={false}
            />
          </SecretsContext.Provider>
        )}
        <PutSecret
          profileId={profileId}
          namespace={namespace}
          script={script}
          typedConfirmation={typedConfirmation}
          locked={locked}
        />
        <BulkSecrets
          profileId={profileId}
          namespace={namespace}
          script={script}
          typedConfirmation={typedConfirmation}
          locked={locked}
        />
      </Stack>

      <Tags
        profileId={profileId}
        namespace={namespace}
        script={script}
        tags={tags}
        typedConfirmation={typedConfirmation}
        locked={locked}
      />

      <DeleteByTag profileId={profileId} namespace={namespace} script={script} tags={tags} onWorkerGone={onWorkerGone} />

      <Modal opened={deleting !== null} onClose={closeDelete} title={`Delete secret ${deleting ?? ''}?`}>
        {deleting !== null && (
          <Stack gap="md">
            <Text>
              {`The worker ${script} in ${namespace} loses env.${deleting} at once; code that reads it gets undefined. The value cannot be recovered.`}
            </Text>
            {removeSecret.isError && <ErrorNotice error={removeSecret.error} context="Deleting the secret" />}
            <Group justify="flex-end">
              <Button variant="default" onClick={closeDelete}>
                Cancel
              </Button>
              <Button
                color="red"
                loading={removeSecret.isPending}
                disabled={locked}
                onClick={() => {
                  removeSecret.mutate(
                    { name: deleting, typedConfirmation },
                    {
                      onSuccess: () => {
                        closeDelete();
                      },
                    },
                  );
                }}
              >
                {`Delete ${deleting} from ${script}`}
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}
