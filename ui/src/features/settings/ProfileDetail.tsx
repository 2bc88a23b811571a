import { Badge, Button, Code, Divider, Group, Modal, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconPencil, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';

import { ENVIRONMENT_NAME, PROTECTION_LABEL } from '../../shell/environment';
import { CodeOrNotSet, KeyValue, KeyValueList } from '../../components/DataTable';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { Profile } from '../../ipc/types';
import { useDeleteProfile } from '../../ipc/mutations';
import { KeysSection } from './KeysSection';
import { ProfileFormDialog } from './ProfileFormDialog';

function DeleteProfileDialog({
  profile,
  opened,
  onClose,
  onDeleted,
}: {
  profile: Profile;
  opened: boolean;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const [typed, setTyped] = useState('');
  const remove = useDeleteProfile();
  const close = () => {
    setTyped('');
    remove.reset();
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title={`Delete profile ${profile.name}`}>
      <Stack gap="sm">
        <Text size="sm">
          This deletes the profile, its cached deployment history and its keys in the OS keychain. Nothing on the
          platform changes.
        </Text>
        <TextInput
          label={`Type ${profile.name} to confirm`}
          value={typed}
          onChange={(event) => {
            setTyped(event.currentTarget.value);
          }}
          autoComplete="off"
          data-autofocus
        />
        {remove.isError && <ErrorNotice error={remove.error} context="Deleting the profile" />}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button
            color="red.8"
            disabled={typed !== profile.name}
            loading={remove.isPending}
            onClick={() => {
              remove.mutate(profile.id, {
                onSuccess: () => {
                  close();
                  onDeleted();
                },
              });
            }}
          >
            Delete profile {profile.name} and its cached history
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

interface ProfileDetailProps {
  profile: Profile;
  active: boolean;
  onDeleted: () => void;
}

/** One profile: its settings, editing, its keys, and (apart from the rest) deleting it. */
export function ProfileDetail({ profile, active, onDeleted }: ProfileDetailProps) {
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby={`profile-${profile.id}-title`}>
      <Stack gap="md">
        <Group justify="space-between" align="flex-start">
          <Group gap={8}>
            <Title order={2} size="h4" id={`profile-${profile.id}-title`}>
              {profile.name}
            </Title>
            {profile.sandbox && (
              <Badge size="sm" variant="default">
                Sandbox
              </Badge>
            )}
            {active && (
              <Badge size="sm" variant="light">
                Active
              </Badge>
            )}
          </Group>
          {!profile.sandbox && (
            <Button
              variant="default"
              leftSection={<IconPencil size={16} aria-hidden />}
              onClick={() => {
                setEditing(true);
              }}
            >
              Edit profile
            </Button>
          )}
        </Group>
        {profile.sandbox && (
          <Text size="sm">
            Switchyard manages this profile: it drives the local sandbox on this machine and cannot be edited or
            deleted.
          </Text>
        )}
        <KeyValueList label={`Settings of ${profile.name}`} labelWidth={200} spacing={4}>
          <KeyValue label="Profile id">
            <Code>{profile.id}</Code>
          </KeyValue>
          <KeyValue label="Environment">{ENVIRONMENT_NAME[profile.environment]}</KeyValue>
          <KeyValue label="Protection">{PROTECTION_LABEL[profile.protection ?? 'normal']}</KeyValue>
          <KeyValue label="Deploy API URL">
            <CodeOrNotSet value={profile.deployApiUrl} />
          </KeyValue>
          <KeyValue label="Auth service URL">
            <CodeOrNotSet value={profile.authUrl} />
          </KeyValue>
          <KeyValue label="Cloudflare API URL">
            <CodeOrNotSet value={profile.cloudflareApiUrl} />
          </KeyValue>
          <KeyValue label="Cloudflare account id">
            <CodeOrNotSet value={profile.accountId} />
          </KeyValue>
          <KeyValue label="Dispatch namespace">
            <CodeOrNotSet value={profile.namespace} />
          </KeyValue>
          <KeyValue label="Service URL template">
            <CodeOrNotSet value={profile.serviceUrlTemplate} />
          </KeyValue>
          <KeyValue label="Dispatcher URL">
            <CodeOrNotSet value={profile.dispatcherUrl} />
          </KeyValue>
          <KeyValue label="Services">{profile.services.length > 0 ? profile.services.join(', ') : 'none'}</KeyValue>
        </KeyValueList>
        <Divider />
        <KeysSection profile={profile} />
        {!profile.sandbox && (
          <>
            <Divider />
            <Group justify="flex-end">
              <Button
                color="red.8"
                variant="outline"
                leftSection={<IconTrash size={16} aria-hidden />}
                onClick={() => {
                  setDeleting(true);
                }}
              >
                Delete profile {profile.name}
              </Button>
            </Group>
            <ProfileFormDialog
              opened={editing}
              profile={profile}
              onClose={() => {
                setEditing(false);
              }}
            />
            <DeleteProfileDialog
              profile={profile}
              opened={deleting}
              onClose={() => {
                setDeleting(false);
              }}
              onDeleted={onDeleted}
            />
          </>
        )}
      </Stack>
    </Paper>
  );
}
