import { Badge, Button, Group, Loader, Select, Text } from '@mantine/core';
import { useId } from '@mantine/hooks';

import { ErrorNotice } from '../components/ErrorNotice';
import type { ProfileSummary } from '../ipc/types';
import { useSelectProfile } from '../ipc/mutations';
import { useAppInfo } from '../ipc/queries';
import { ENVIRONMENT_NAME, environmentLook } from '../shell/environment';

function EnvironmentDot({ profile }: { profile: ProfileSummary }) {
  const look = environmentLook(profile.environment);
  if (profile.sandbox) {
    return (
      <Badge size="xs" variant="default">
        SANDBOX
      </Badge>
    );
  }
  return (
    <Badge size="xs" color={look.badgeColor} variant={look.badgeVariant} autoContrast>
      {look.label}
    </Badge>
  );
}

/**
 * The current profile, always visible. Choosing another makes it the active one (remembered across
 * restarts) and refetches everything shown; the switcher is disabled while that happens.
 */
export function ProfileSwitcher() {
  const id = useId();
  const appInfo = useAppInfo();
  const select = useSelectProfile();
  const profiles = appInfo.data?.profiles ?? [];
  const active = appInfo.data?.activeProfile ?? null;
  const switching = select.isPending;

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
        data={profiles.map((p) => ({ value: p.id, label: p.name }))}
        value={select.isPending ? select.variables : active}
        placeholder={placeholder}
        disabled={!appInfo.isSuccess || profiles.length === 0 || switching}
        aria-busy={switching}
        allowDeselect={false}
        checkIconPosition="right"
        comboboxProps={{ withinPortal: true }}
        rightSection={switching ? <Loader size={14} aria-hidden /> : undefined}
        onChange={(value) => {
          if (value !== null && value !== active) {
            select.mutate(value);
          }
        }}
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
                  {profile.sandbox ? ' · local sandbox' : ''}
                  {profile.id === active ? ' · active' : ''}
                </Text>
              </div>
              <EnvironmentDot profile={profile} />
            </Group>
          );
        }}
      />
      {select.isError && (
        <div className="sy-switch-error">
          <ErrorNotice
            error={select.error}
            context="Switching profile"
            onRetry={() => {
              select.mutate(select.variables);
            }}
          />
          <Button size="xs" variant="default" mt={6} onClick={select.reset}>
            Dismiss
          </Button>
        </div>
      )}
    </Group>
  );
}
