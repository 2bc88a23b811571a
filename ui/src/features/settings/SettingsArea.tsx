import {
  ActionIcon,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Loader,
  Paper,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from '@mantine/core';
import { IconCheck, IconCopy, IconPlus } from '@tabler/icons-react';
import { useState } from 'react';

import { areaById } from '../../shell/areas';
import { ENVIRONMENT_NAME, environmentLook, PROTECTION_LABEL } from '../../shell/environment';
import { AreaHeader } from '../../components/AreaHeader';
import { KeychainProblem, SandboxProblem } from '../../components/EnvironmentNotices';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { AppInfo } from '../../ipc/types';
import { useAppInfo, useKeychainStatus, useProfiles } from '../../ipc/queries';
import { DeploySettings } from './DeploySettings';
import { ExportImport } from './ExportImport';
import { HealthSettings } from './HealthSettings';
import { SandboxSettings } from './SandboxSettings';
import { ProfileDetail } from './ProfileDetail';
import { ProfileFormDialog } from './ProfileFormDialog';

function AppInfoPanel({ info }: { info: AppInfo }) {
  const keychain = useKeychainStatus();
  return (
    <Paper withBorder p="md" radius="md">
      <Title order={2} size="h4" mb="sm">
        App
      </Title>
      <Table variant="vertical" layout="fixed" withTableBorder={false} verticalSpacing={6}>
        <Table.Tbody>
          <Table.Tr>
            <Table.Th w={160}>Name</Table.Th>
            <Table.Td>{info.name}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Version</Table.Th>
            <Table.Td>{info.version}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Keychain</Table.Th>
            <Table.Td>
              {keychain.isPending
                ? 'Checking…'
                : keychain.isError
                  ? 'Could not be checked (see above)'
                  : keychain.data.state === 'available'
                    ? keychain.data.backend
                    : 'Unavailable (see above)'}
            </Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Data directory</Table.Th>
            <Table.Td>
              <Group gap={6} wrap="nowrap">
                <Code style={{ wordBreak: 'break-all' }}>{info.dataDir}</Code>
                <CopyButton value={info.dataDir}>
                  {({ copied, copy }) => (
                    <Tooltip label={copied ? 'Copied' : 'Copy path'}>
                      <ActionIcon
                        variant="subtle"
                        color={copied ? 'teal.8' : 'gray.8'}
                        onClick={copy}
                        aria-label="Copy data directory path"
                      >
                        {copied ? <IconCheck size={16} aria-hidden /> : <IconCopy size={16} aria-hidden />}
                      </ActionIcon>
                    </Tooltip>
                  )}
                </CopyButton>
              </Group>
            </Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
    </Paper>
  );
}

function ProfilesPanel({ info }: { info: AppInfo }) {
  const [selected, setSelected] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const profiles = useProfiles();
  const selectedSummary = info.profiles.find((p) => p.id === selected);
  const selectedProfile = profiles.data?.find((p) => p.id === selected);
  return (
    <>
      <Paper withBorder p="md" radius="md">
        <Group justify="space-between" align="flex-start" mb="sm">
          <div>
            <Title order={2} size="h4" mb={4}>
              Profiles
            </Title>
            <Text size="sm" c="dimmed">
              Each profile names an environment of the platform. Choose the active one in the top bar.
            </Text>
          </div>
          <Button
            leftSection={<IconPlus size={16} aria-hidden />}
            onClick={() => {
              setAdding(true);
            }}
          >
            Add profile
          </Button>
        </Group>
        {info.profiles.length === 0 ? (
          <Text size="sm">No profiles are configured.</Text>
        ) : (
          <Table striped highlightOnHover withTableBorder verticalSpacing={6} aria-label="Profiles">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Name</Table.Th>
                <Table.Th scope="col">Id</Table.Th>
                <Table.Th scope="col">Environment</Table.Th>
                <Table.Th scope="col">Protection</Table.Th>
                <Table.Th scope="col">Status</Table.Th>
                <Table.Th scope="col">
                  <span className="sy-sr-only">Actions</span>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {info.profiles.map((p) => {
                const look = environmentLook(p.environment);
                return (
                  <Table.Tr key={p.id} data-selected={p.id === selected ? 'true' : undefined}>
                    <Table.Td>
                      {p.name}
                      {p.sandbox && (
                        <Badge ml={8} size="xs" variant="default">
                          Sandbox
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Code>{p.id}</Code>
                    </Table.Td>
                    <Table.Td>
                      <Badge size="sm" color={look.badgeColor} variant={look.badgeVariant} autoContrast>
                        {ENVIRONMENT_NAME[p.environment]}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{PROTECTION_LABEL[p.protection]}</Table.Td>
                    <Table.Td>{p.id === info.activeProfile ? 'Active' : ''}</Table.Td>
                    <Table.Td>
                      <Button
                        size="xs"
                        variant={p.id === selected ? 'light' : 'default'}
                        aria-expanded={p.id === selected}
                        onClick={() => {
                          setSelected(p.id);
                        }}
                      >
                        Manage {p.name}
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
        {info.profiles.length > 0 && selected === null && (
          <Text size="sm" c="dimmed" mt="sm">
            Choose Manage on a profile to see its settings, edit it, or store and test its keys.
          </Text>
        )}
      </Paper>
      {selectedSummary &&
        (selectedProfile ? (
          <ProfileDetail
            key={selectedProfile.id}
            profile={selectedProfile}
            active={selectedProfile.id === info.activeProfile}
            onDeleted={() => {
              setSelected(null);
            }}
          />
        ) : profiles.isError ? (
          <ErrorNotice
            error={profiles.error}
            context="Loading the profile's settings"
            onRetry={() => {
              void profiles.refetch();
            }}
          />
        ) : (
          <Group gap="xs">
            <Loader size="sm" aria-hidden />
            <Text size="sm">Loading {selectedSummary.name}…</Text>
          </Group>
        ))}
      <ProfileFormDialog
        opened={adding}
        onClose={() => {
          setAdding(false);
        }}
        onSaved={setSelected}
      />
    </>
  );
}

/** App info, keychain and sandbox state, profiles with their keys, deploy and health settings, and export/import. */
export function SettingsArea() {
  const appInfo = useAppInfo();
  const keychain = useKeychainStatus();
  return (
    <Stack gap="md" maw={960}>
      <AreaHeader area={areaById('settings')} />
      {appInfo.isPending && (
        <Group gap="xs">
          <Loader size="sm" aria-hidden />
          <Text size="sm">Loading app info…</Text>
        </Group>
      )}
      {appInfo.isError && (
        <ErrorNotice
          error={appInfo.error}
          context="Loading app info"
          onRetry={() => {
            void appInfo.refetch();
          }}
        />
      )}
      {appInfo.isSuccess && (
        <>
          {keychain.isSuccess && <KeychainProblem keychain={keychain.data} />}
          {keychain.isError && <ErrorNotice error={keychain.error} context="Checking the keychain" />}
          {appInfo.data.sandboxError && <SandboxProblem error={appInfo.data.sandboxError} />}
          <AppInfoPanel info={appInfo.data} />
          <ProfilesPanel info={appInfo.data} />
          <DeploySettings />
          <HealthSettings />
          <SandboxSettings />
          <ExportImport />
        </>
      )}
    </Stack>
  );
}
