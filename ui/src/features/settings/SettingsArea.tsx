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
  Text,
  Title,
  Tooltip,
} from '@mantine/core';
import { IconCheck, IconCopy, IconPlus } from '@tabler/icons-react';
import { createContext, useCallback, useContext, useMemo, useState } from 'react';

import { areaById } from '../../shell/areas';
import { ENVIRONMENT_NAME, environmentLook, PROTECTION_LABEL } from '../../shell/environment';
import { AreaHeader } from '../../components/AreaHeader';
import { KeychainProblem, SandboxProblem } from '../../components/EnvironmentNotices';
import { type DataColumn, DataTable, KeyValue, KeyValueList, type RowAttributes, TextCell } from '../../components/DataTable';
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
      <KeyValueList labelWidth={160}>
        <KeyValue label="Name">{info.name}</KeyValue>
        <KeyValue label="Version">{info.version}</KeyValue>
        <KeyValue label="Keychain">
          {keychain.isPending
            ? 'Checking…'
            : keychain.isError
              ? 'Could not be checked (see above)'
              : keychain.data.state === 'available'
                ? keychain.data.backend
                : 'Unavailable (see above)'}
        </KeyValue>
        <KeyValue label="Data directory">
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
        </KeyValue>
      </KeyValueList>
    </Paper>
  );
}

type ProfileSummary = AppInfo['profiles'][number];

const profileId = (p: ProfileSummary) => p.id;

const profileStatus = (p: ProfileSummary, activeProfile: string) => (p.id === activeProfile ? 'Active' : '');

/** What the profile rows show besides the profile: which is active, which is open, and how to open one. */
interface ProfilesState {
  activeProfile: string;
  selected: string | null;
  onManage: (id: string) => void;
}

// Read by the cells through a context, not built into the columns: new columns would mount new
// cells, and the Manage button just pressed would lose the keyboard focus.
const ProfilesContext = createContext<ProfilesState>({ activeProfile: '', selected: null, onManage: () => undefined });

type ProfileCell = NonNullable<DataColumn<ProfileSummary>['cell']>;

const StatusCell: ProfileCell = ({ row }) => (
  <span className="sy-table-text">{profileStatus(row.original, useContext(ProfilesContext).activeProfile)}</span>
);

const ManageCell: ProfileCell = ({ row: { original: p } }) => {
  const { selected, onManage } = useContext(ProfilesContext);
  return (
    <Button
      size="xs"
      variant={p.id === selected ? 'light' : 'default'}
      aria-expanded={p.id === selected}
      onClick={() => {
        onManage(p.id);
      }}
    >
      Manage {p.name}
    </Button>
  );
};

const PROFILE_COLUMNS: DataColumn<ProfileSummary>[] = [
  {
    id: 'name',
    header: 'Name',
    accessorFn: (p) => p.name,
    cell: ({ row: { original: p } }) => (
      <Group gap={8} wrap="nowrap">
        <TextCell value={p.name} />
        {p.sandbox && (
          <Badge size="xs" variant="default">
            Sandbox
          </Badge>
        )}
      </Group>
    ),
  },
  { id: 'id', header: 'Id', accessorFn: (p) => p.id, cell: ({ row }) => <Code>{row.original.id}</Code> },
  {
    id: 'environment',
    header: 'Environment',
    accessorFn: (p) => ENVIRONMENT_NAME[p.environment],
    meta: { width: 140 },
    cell: ({ row: { original: p } }) => {
      const look = environmentLook(p.environment);
      return (
        <Badge size="sm" color={look.badgeColor} variant={look.badgeVariant} autoContrast>
          {ENVIRONMENT_NAME[p.environment]}
        </Badge>
      );
    },
  },
  {
    id: 'protection',
    header: 'Protection',
    accessorFn: (p) => PROTECTION_LABEL[p.protection],
    meta: { width: 120 },
    cell: ({ row }) => <TextCell value={PROTECTION_LABEL[row.original.protection]} />,
  },
  { id: 'status', header: 'Status', meta: { width: 80 }, cell: StatusCell },
  { id: 'actions', header: () => <span className="sy-sr-only">Actions</span>, meta: { width: 220 }, cell: ManageCell },
];

/** The profiles, one a row: Manage (or Enter on the row) opens one's settings below. */
function ProfilesTable({
  profiles,
  activeProfile,
  selected,
  onManage,
}: {
  profiles: readonly ProfileSummary[];
  activeProfile: string;
  selected: string | null;
  onManage: (id: string) => void;
}) {
  const state = useMemo(() => ({ activeProfile, selected, onManage }), [activeProfile, selected, onManage]);
  const rowAttributes = useCallback(
    (p: ProfileSummary): RowAttributes => ({ 'data-selected': p.id === selected ? 'true' : undefined }),
    [selected],
  );
  const copyText = useCallback(
    (p: ProfileSummary) =>
      [p.name, p.id, ENVIRONMENT_NAME[p.environment], PROTECTION_LABEL[p.protection], profileStatus(p, activeProfile)].join('\t'),
    [activeProfile],
  );
  return (
    <ProfilesContext.Provider value={state}>
      <DataTable
        label="Profiles"
        rows={profiles}
        columns={PROFILE_COLUMNS}
        rowId={profileId}
        rowAttributes={rowAttributes}
        copyText={copyText}
        onActivate={(p) => {
          onManage(p.id);
        }}
        verticalSpacing={6}
        wrapCells
        virtual={false}
      />
    </ProfilesContext.Provider>
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
          <ProfilesTable profiles={info.profiles} activeProfile={info.activeProfile} selected={selected} onManage={setSelected} />
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
