import { Button, Code, Group, List, Modal, Stack, Text, TextInput } from '@mantine/core';
import { type SyntheticEvent, useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import type { DeletePlan, NamespaceSummary } from '../../ipc/types';
import {
  useCreateNamespace,
  useDeleteNamespace,
  useRenameNamespace,
  useSetNamespaceTrusted,
} from '../../ipc/namespaces';

export const TRUSTED_EXPLANATION =
  'Trusted namespaces expose request.cf (the visitor’s country, colo, TLS details…) to their workers and share the zone’s cache with them. Workers already deployed must be redeployed to see request.cf.';

interface CreateNamespaceDialogProps {
  profileId: string;
  opened: boolean;
  onClose: () => void;
  onCreated: (namespace: NamespaceSummary) => void;
}

export function CreateNamespaceDialog({ profileId, opened, onClose, onCreated }: CreateNamespaceDialogProps) {
  const [name, setName] = useState('');
  const create = useCreateNamespace(profileId);
  const close = () => {
    setName('');
    create.reset();
    onClose();
  };
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    create.mutate(name.trim(), {
      onSuccess: (created) => {
        setName('');
        create.reset();
        onCreated(created);
      },
    });
  };
  return (
    <Modal opened={opened} onClose={close} title="Create namespace">
      <form onSubmit={submit}>
        <Stack gap="md">
          <TextInput
            label="Namespace name"
            description="Letters, digits and dashes, e.g. dotdo-staging."
            value={name}
            onChange={(event) => {
              setName(event.currentTarget.value);
            }}
            data-autofocus
            required
          />
          {create.isError && <ErrorNotice error={create.error} context="Creating the namespace" />}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={name.trim() === ''}>
              Create
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

interface RenameNamespaceDialogProps {
  profileId: string;
  name: string;
  opened: boolean;
  onClose: () => void;
  onRenamed: (namespace: NamespaceSummary) => void;
}

export function RenameNamespaceDialog({ profileId, name, opened, onClose, onRenamed }: RenameNamespaceDialogProps) {
  const [newName, setNewName] = useState(name);
  const rename = useRenameNamespace(profileId);
  const close = () => {
    setNewName(name);
    rename.reset();
    onClose();
  };
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    rename.mutate(
      { name, newName: newName.trim() },
      {
        onSuccess: (renamed) => {
          rename.reset();
          onRenamed(renamed);
        },
      },
    );
  };
  return (
    <Modal opened={opened} onClose={close} title="Rename namespace">
      <form onSubmit={submit}>
        <Stack gap="md">
          <Text size="sm">
            Renaming <Code>{name}</Code> changes the name the dispatcher and the Deploy API use to reach its workers:
            update the profiles and configuration that name it.
          </Text>
          <TextInput
            label="New name"
            value={newName}
            onChange={(event) => {
              setNewName(event.currentTarget.value);
            }}
            data-autofocus
            required
          />
          {rename.isError && <ErrorNotice error={rename.error} context="Renaming the namespace" />}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button
              type="submit"
              loading={rename.isPending}
              disabled={newName.trim() === '' || newName.trim() === name}
            >
              Rename
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

interface TrustDialogProps {
  profileId: string;
  name: string;
  /** The state asked for; null when the dialog is closed. */
  trusted: boolean | null;
  onClose: () => void;
}

/** Confirms a change of trusted mode before it is made. */
export function TrustDialog({ profileId, name, trusted, onClose }: TrustDialogProps) {
  const setTrusted = useSetNamespaceTrusted(profileId);
  const close = () => {
    setTrusted.reset();
    onClose();
  };
  const verb = trusted ? 'Turn on' : 'Turn off';
  return (
    <Modal opened={trusted !== null} onClose={close} title={`${verb} trusted mode for ${name}?`}>
      <Stack gap="md">
        <Text size="sm">{TRUSTED_EXPLANATION}</Text>
        <Text size="sm">
          {trusted
            ? `After this, workers of ${name} that are deployed (or redeployed) can read request.cf.`
            : `After this, workers of ${name} no longer see request.cf or share the cache.`}
        </Text>
        {setTrusted.isError && <ErrorNotice error={setTrusted.error} context="Changing trusted mode" />}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button
            loading={setTrusted.isPending}
            color={trusted ? undefined : 'orange'}
            onClick={() => {
              setTrusted.mutate(
                { name, trusted: trusted ?? false },
                {
                  onSuccess: () => {
                    setTrusted.reset();
                    onClose();
                  },
                },
              );
            }}
          >
            {`${verb} trusted mode`}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

interface DeleteNamespaceDialogProps {
  profileId: string;
  plan: DeletePlan;
  opened: boolean;
  onClose: () => void;
  onDeleted: (plan: DeletePlan) => void;
}

/** Lists what goes with the namespace and will not go ahead until its name is typed. */
export function DeleteNamespaceDialog({ profileId, plan, opened, onClose, onDeleted }: DeleteNamespaceDialogProps) {
  const [typed, setTyped] = useState('');
  const remove = useDeleteNamespace(profileId);
  const close = () => {
    setTyped('');
    remove.reset();
    onClose();
  };
  const matches = typed === plan.confirmPhrase;
  const more = plan.scriptCount - plan.scripts.length;
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    if (!matches) {
      return;
    }
    remove.mutate(
      { plan, typedConfirmation: typed },
      {
        onSuccess: () => {
          setTyped('');
          remove.reset();
          onDeleted(plan);
        },
      },
    );
  };
  return (
    <Modal opened={opened} onClose={close} title={`Delete namespace ${plan.namespace}`} size="lg">
      <form onSubmit={submit}>
        <Stack gap="md">
          <Text size="sm">
            This deletes the dispatch namespace <Code>{plan.namespace}</Code>
            {plan.scriptCount === 0
              ? '. It has no workers.'
              : ` and all ${plan.scriptCount} of its workers. Requests dispatched to them will fail. This cannot be undone.`}
          </Text>
          {plan.scripts.length > 0 && (
            <div>
              <Text size="sm" fw={600} id="sy-delete-plan-workers">
                {more > 0 ? `Workers deleted with it (first ${plan.scripts.length}):` : 'Workers deleted with it:'}
              </Text>
              <List size="sm" aria-labelledby="sy-delete-plan-workers" className="sy-plan-list">
                {plan.scripts.map((script) => (
                  <List.Item key={script}>
                    <Code>{script}</Code>
                  </List.Item>
                ))}
              </List>
              {more > 0 && <Text size="sm">{`…and ${more} more.`}</Text>}
            </div>
          )}
          <TextInput
            label={`Type ${plan.confirmPhrase} to confirm`}
            value={typed}
            onChange={(event) => {
              setTyped(event.currentTarget.value);
            }}
            autoComplete="off"
            spellCheck={false}
            data-autofocus
          />
          {remove.isError && <ErrorNotice error={remove.error} context="Deleting the namespace" />}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" color="red" disabled={!matches} loading={remove.isPending}>
              {plan.action}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
