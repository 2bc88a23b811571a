import { AppShell, Badge, Box, Button, Group, Kbd, Text, Tooltip } from '@mantine/core';
import { IconEye, IconLock, IconRoute, IconSearch } from '@tabler/icons-react';

import type { ProfileSummary } from '../ipc/types';
import { useAppInfo } from '../ipc/queries';
import { activeProfileOf, environmentLook } from '../shell/environment';
import { BAND_HEIGHT, HEADER_HEIGHT } from '../shell/layout';
import { ProfileSwitcher } from './ProfileSwitcher';

/** Full-width strip naming the environment; production and staging cannot be missed. */
function EnvironmentBand({ profile, failed }: { profile: ProfileSummary | undefined; failed: boolean }) {
  if (!profile) {
    return (
      <Box className="sy-band" data-band="none" h={BAND_HEIGHT}>
        <Text size="xs" fw={700} className="sy-band-text">
          {failed ? 'ENVIRONMENT UNKNOWN — the profile could not be loaded' : 'Loading profile…'}
        </Text>
      </Box>
    );
  }
  const look = environmentLook(profile.environment);
  // The sandbox drives its own (local) production namespace: nothing it does reaches live traffic,
  // so it never borrows production's warning. Real production stays red.
  const text = profile.sandbox
    ? 'LOCAL SANDBOX — nothing here leaves this machine'
    : profile.environment === 'production'
      ? 'PRODUCTION — actions here affect live traffic'
      : profile.environment === 'staging'
        ? 'STAGING — shared environment'
        : 'DEVELOPMENT';
  const band = profile.sandbox ? 'sandbox' : profile.environment;
  return (
    <Box className="sy-band" data-band={band} h={BAND_HEIGHT} bg={profile.sandbox ? undefined : look.band}>
      <Text size="xs" fw={700} className="sy-band-text">
        {text}
      </Text>
    </Box>
  );
}

function ProfileMarkers({ profile }: { profile: ProfileSummary }) {
  const look = environmentLook(profile.environment);
  return (
    <Group gap={6} wrap="nowrap" role="group" aria-label="Environment">
      {/* The sandbox's environment badge is neutral: only a real production profile is red. */}
      <Badge
        size="lg"
        radius="sm"
        color={profile.sandbox ? undefined : look.badgeColor}
        variant={profile.sandbox ? 'default' : look.badgeVariant}
        autoContrast
      >
        {look.label}
      </Badge>
      {profile.sandbox && (
        <Badge size="lg" radius="sm" variant="default">
          SANDBOX
        </Badge>
      )}
      {profile.protection === 'protected' && (
        <Tooltip label="Protected profile: every change asks for confirmation">
          <Badge size="lg" radius="sm" variant="default" leftSection={<IconLock size={14} aria-hidden />}>
            PROTECTED
          </Badge>
        </Tooltip>
      )}
      {profile.protection === 'readOnly' && (
        <Tooltip label="Read-only profile: changes are disabled">
          <Badge size="lg" radius="sm" variant="default" leftSection={<IconEye size={14} aria-hidden />}>
            READ-ONLY
          </Badge>
        </Tooltip>
      )}
    </Group>
  );
}

interface TopBarProps {
  onOpenPalette: () => void;
}

/** App name, the current profile coloured by environment, and the command palette button. */
export function TopBar({ onOpenPalette }: TopBarProps) {
  const appInfo = useAppInfo();
  const profile = appInfo.data ? activeProfileOf(appInfo.data.profiles, appInfo.data.activeProfile) : undefined;
  return (
    <AppShell.Header
      data-environment={profile?.environment ?? 'unknown'}
      data-sandbox={profile?.sandbox ? 'true' : undefined}
      className="sy-header"
    >
      <EnvironmentBand profile={profile} failed={appInfo.isError || appInfo.isSuccess} />
      <Group h={HEADER_HEIGHT} px="md" justify="space-between" wrap="nowrap">
        <Group gap="lg" wrap="nowrap">
          <Group gap={8} wrap="nowrap">
            <IconRoute size={24} stroke={1.8} aria-hidden />
            <Text fw={700} size="lg">
              Switchyard
            </Text>
          </Group>
          <ProfileSwitcher />
          {profile && <ProfileMarkers profile={profile} />}
        </Group>
        <Button
          variant="default"
          leftSection={<IconSearch size={16} aria-hidden />}
          rightSection={
            <Group gap={2} wrap="nowrap" aria-hidden>
              <Kbd size="xs">Ctrl</Kbd>
              <Kbd size="xs">K</Kbd>
            </Group>
          }
          onClick={onOpenPalette}
          aria-keyshortcuts="Control+K Meta+K"
          aria-label="Search (Ctrl+K)"
        >
          Search
        </Button>
      </Group>
    </AppShell.Header>
  );
}
