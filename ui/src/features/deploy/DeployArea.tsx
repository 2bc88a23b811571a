import { Loader, Paper, Stack, Tabs, Text } from '@mantine/core';
import { IconArrowBackUp, IconArrowBigUpLines, IconPlugConnected, IconRocket, IconStairsUp } from '@tabler/icons-react';
import { useState } from 'react';

import { areaById } from '../../shell/areas';
import { type NavigationTarget, useNavigation } from '../../shell/navigation';
import { AreaHeader } from '../../components/AreaHeader';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useAppInfo, useProfiles } from '../../ipc/queries';
import { BindingsEditor } from '../bindings/BindingsEditor';
import './deploy.css';
import { DeployWizard } from './DeployWizard';
import { InterruptedDeploys } from './InterruptedDeploys';
import { PromotePanel } from './PromotePanel';
import { RollbackPanel } from './RollbackPanel';
import { RolloutPanel } from './RolloutPanel';

/** The tab another area (or the command palette) asked to open, if any. */
function askedTab(target: NavigationTarget | null): string | null {
  if (target?.rollback || target?.restore) {
    return 'rollback';
  }
  if (target?.promote) {
    return 'promote';
  }
  return target?.deploy ? 'deploy' : null;
}

/** Deploy a service (plan first, confirmation matched to risk) or roll one back. */
export function DeployArea() {
  const appInfo = useAppInfo();
  const profiles = useProfiles();
  const { target } = useNavigation();
  const [tab, setTab] = useState<string>(() => askedTab(target) ?? 'deploy');
  // Asked from elsewhere (Health's "Roll back", the command palette) while Deploy is open: show
  // the tab asked for.
  const [seenTarget, setSeenTarget] = useState(target);
  if (target !== seenTarget) {
    setSeenTarget(target);
    const asked = askedTab(target);
    if (asked !== null) {
      setTab(asked);
    }
  }
  const activeId = appInfo.data?.activeProfile ?? '';
  const profile = profiles.data?.find((p) => p.id === activeId) ?? null;

  return (
    <Stack gap="md">
      <AreaHeader area={areaById('deploy')} />
      {(appInfo.isPending || profiles.isPending) && <Loader size="sm" aria-label="Loading the active profile" />}
      {profiles.isError && <ErrorNotice error={profiles.error} context="Loading profiles" />}
      {appInfo.isSuccess && profiles.isSuccess && profile === null && (
        <Paper withBorder p="lg">
          <Text>No profile is active. Choose or create one in Settings to deploy with it.</Text>
        </Paper>
      )}
      {profile && <InterruptedDeploys profileId={profile.id} />}
      {profile && (
        <Tabs value={tab} onChange={(v) => { setTab(v ?? 'deploy'); }} keepMounted>
          <Tabs.List mb="md">
            <Tabs.Tab value="deploy" leftSection={<IconRocket size={16} aria-hidden />}>
              Deploy
            </Tabs.Tab>
            <Tabs.Tab value="rollback" leftSection={<IconArrowBackUp size={16} aria-hidden />}>
              Roll back
            </Tabs.Tab>
            <Tabs.Tab value="promote" leftSection={<IconArrowBigUpLines size={16} aria-hidden />}>
              Promote
            </Tabs.Tab>
            <Tabs.Tab value="rollout" leftSection={<IconStairsUp size={16} aria-hidden />}>
              Staged rollout
            </Tabs.Tab>
            <Tabs.Tab value="bindings" leftSection={<IconPlugConnected size={16} aria-hidden />}>
              Bindings
            </Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="deploy">
            <DeployWizard key={profile.id} profile={profile} />
          </Tabs.Panel>
          <Tabs.Panel value="rollback">
            <RollbackPanel key={profile.id} profile={profile} />
          </Tabs.Panel>
          <Tabs.Panel value="promote">
            <PromotePanel key={profile.id} profile={profile} />
          </Tabs.Panel>
          <Tabs.Panel value="rollout">
            <RolloutPanel key={profile.id} profile={profile} />
          </Tabs.Panel>
          <Tabs.Panel value="bindings">
            <BindingsEditor key={profile.id} profileId={profile.id} />
          </Tabs.Panel>
        </Tabs>
      )}
    </Stack>
  );
}
