import { Badge, Group, Select, Text } from '@mantine/core';
import { useId } from '@mantine/hooks';

import type { ProfileSummary } from '../ipc/bindings';
import { useAppInfo } from '../ipc/queries';
import { ENVIRONMENT_NAME, environmentLook } from './environment';

function EnvironmentDot({ profile }: { profile: ProfileSummary }) {
  const look = environmentLook(profile.environment);
  return (
    <Badge size="xs" color={look.badgeColor} variant={look.badgeVariant} autoContrast>
      {profile.sandbox ? 'SANDBOX' : look.label}
    </Badge>
  );
}

/**
 * The current profile, always visible. Only the active profile can be chosen: switching profiles
 * needs a command the core does not offer yet, and the list says so rather than pretend.
 */
export function ProfileSwitcher() {
  const id = useId();
  const appInfo = useAppInfo();
  const profiles = appInfo.data?.profiles ?? [];
  const active = appInfo.data?.activeProfile ?? null;

  const placeholder = appInfo.isPending ? 'Loading…' : appInfo.isError ? 'Unavailable' : 'No profile';

  return (
    <Group gap={8} wrap="nowrap">
      <Text component="label" htmlFor={id} size="sm" fw={600}>
        Profile
      </Text>
      <Select
        id={id}
        role="combobox"
        w={240}
        size="sm"
        data={profiles.map((p) => ({
          value: p.id,
          label: p.name,
          disabled: p.id !== active,
        }))}
        value={active}
        placeholder={placeholder}
        disabled={!appInfo.isSuccess || profiles.length === 0}
        allowDeselect={false}
        checkIconPosition="right"
        comboboxProps={{ withinPortal: true }}
        renderOption={({ option }) => {
          const profile = profiles.find((p) => p.id === option.value);
          if (!profile) {
            return option.label;
          }
          return (
            <Group gap={8} wrap="nowrap" justify="space-between" w="100%">
              <div>
                <Text size="sm">{profile.name}</Text>
                <Text size="xs" c="dimmed">
                  {ENVIRONMENT_NAME[profile.environment]}
                  {profile.id === active ? ' · active' : ' · switching profiles is not built yet'}
                </Text>
              </div>
              <EnvironmentDot profile={profile} />
            </Group>
          );
        }}
      />
    </Group>
  );
}
