import { Button, Group, Modal, NativeSelect, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { type SyntheticEvent, useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import type { Environment, Profile, Protection } from '../../ipc/types';
import { useSaveProfile } from '../../ipc/mutations';
import {
  ENVIRONMENTS,
  newProfileValues,
  type ProfileFormValues,
  profileIdFrom,
  PROTECTION_OPTIONS,
  toProfile,
  valuesOf,
  withEnvironment,
} from './profileForm';

interface ProfileFormDialogProps {
  opened: boolean;
  onClose: () => void;
  /** The profile to edit; a new one when absent. */
  profile?: Profile;
  /** Called with the saved profile's id. */
  onSaved?: (id: string) => void;
}

function ProfileForm({ profile, onClose, onSaved }: Omit<ProfileFormDialogProps, 'opened'>) {
  const [values, setValues] = useState<ProfileFormValues>(() => (profile ? valuesOf(profile) : newProfileValues()));
  const save = useSaveProfile();
  const id = profile ? profile.id : profileIdFrom(values.name);

  const field = (key: Exclude<keyof ProfileFormValues, 'environment' | 'protection'>) => ({
    value: values[key],
    onChange: (event: { currentTarget: { value: string } }) => {
      const value = event.currentTarget.value;
      setValues((v) => ({ ...v, [key]: value }));
    },
  });

  const onSubmit = (event: SyntheticEvent) => {
    event.preventDefault();
    save.mutate(toProfile(id, values), {
      onSuccess: (saved) => {
        onSaved?.(saved.id);
        onClose();
      },
    });
  };

  return (
    <form onSubmit={onSubmit} noValidate>
      <Stack gap="sm">
        <SimpleGrid cols={2} spacing="sm" verticalSpacing="sm">
          <TextInput label="Name" data-autofocus {...field('name')} />
          <TextInput
            label="Profile id"
            readOnly
            value={id}
            description={profile ? 'The id of a saved profile does not change.' : 'Derived from the name.'}
          />
          <NativeSelect
            label="Environment"
            value={values.environment}
            // Labels are the platform's own words (as in the runbook and the Deploy API).
            data={ENVIRONMENTS.map((e) => ({ value: e, label: e }))}
            onChange={(event) => {
              const environment = event.currentTarget.value as Environment;
              setValues((v) => withEnvironment(v, environment));
            }}
          />
          <NativeSelect
            label="Protection"
            value={values.protection}
            data={PROTECTION_OPTIONS.map((o) => ({ value: o.value, label: o.label }))}
            onChange={(event) => {
              const protection = event.currentTarget.value as Protection;
              setValues((v) => ({ ...v, protection }));
            }}
          />
          <TextInput label="Deploy API URL" {...field('deployApiUrl')} />
          <TextInput label="Auth service URL" {...field('authUrl')} />
          <TextInput label="Cloudflare API URL" {...field('cloudflareApiUrl')} />
          <TextInput label="Cloudflare account id" {...field('accountId')} />
          <TextInput label="Dispatch namespace" {...field('namespace')} />
          <TextInput
            label="Service URL template"
            description="{service} and {environment} are replaced."
            {...field('serviceUrlTemplate')}
          />
          <TextInput label="Dispatcher URL" {...field('dispatcherUrl')} />
          <TextInput label="Services" description="Comma-separated." {...field('services')} />
        </SimpleGrid>
        <Text size="xs" c="dimmed">
          Keys are not part of a profile: store them in the profile&apos;s Keys section after saving.
        </Text>
        {save.isError && <ErrorNotice error={save.error} context="Saving the profile" />}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            Save profile
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** Add or edit a profile: "New profile" or "Edit profile". What was typed stays when saving fails. */
export function ProfileFormDialog({ opened, onClose, profile, onSaved }: ProfileFormDialogProps) {
  return (
    <Modal opened={opened} onClose={onClose} title={profile ? 'Edit profile' : 'New profile'} size="xl">
      {opened && <ProfileForm profile={profile} onClose={onClose} onSaved={onSaved} />}
    </Modal>
  );
}
