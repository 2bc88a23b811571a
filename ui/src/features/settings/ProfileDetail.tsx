import { Badge, Button, Code, Divider, Group, Modal, Paper, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { IconPencil, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';

import { ENVIRONMENT_NAME, PROTECTION_LABEL } from '../../shell/environment';
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

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th w={200}>{label}</Table.Th>
      <Table.Td>{children}</Table.Td>
    </Table.Tr>
  );
}

function shown(value: string | null | undefined) {
  return value ? <Code>{value}</Code> : <Text span size="sm" c="dimmed">not set</Text>;
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
        <Table variant="vertical" layout="fixed" verticalSpacing={4} aria-label={`Settings of ${profile.name}`}>
          <Table.Tbody>
            <Field label="Profile id">
              <Code>{profile.id}</Code>
            </Field>
            <Field label="Environment">{ENVIRONMENT_NAME[profile.environment]}</Field>
            <Field label="Protection">{PROTECTION_LABEL[profile.protection ?? 'normal']}</Field>
            <Field label="Deploy API URL">{shown(profile.deployApiUrl)}</Field>
            <Field label="Auth service URL">{shown(profile.authUrl)}</Field>
            <Field label="Cloudflare API URL">{shown(profile.cloudflareApiUrl)}</Field>
            <Field label="Cloudflare account id">{shown(profile.accountId)}</Field>
            <Field label="Dispatch namespace">{shown(profile.namespace)}</Field>
            <Field label="Service URL template">{shown(profile.serviceUrlTemplate)}</Field>
            <Field label="Dispatcher URL">{shown(profile.dispatcherUrl)}</Field>
            <Field label="Services">{profile.services.length > 0 ? profile.services.join(', ') : 'none'}</Field>
          </Table.Tbody>
        </Table>
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
