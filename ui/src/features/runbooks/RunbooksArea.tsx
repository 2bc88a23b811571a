import { Badge, Button, Group, Loader, Paper, Stack, Tabs, Text } from '@mantine/core';
import { IconBolt } from '@tabler/icons-react';
import { useState } from 'react';

import { activeProfileOf } from '../../shell/environment';
import { areaById } from '../../shell/areas';
import { type NavigationTarget, useNavigation } from '../../shell/navigation';
import { AreaHeader } from '../../components/AreaHeader';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { Profile, RunSummary } from '../../ipc/types';
import { useRunbookCatalog, useRuns } from '../../ipc/runbooks';
import { useAppInfo, useProfiles } from '../../ipc/queries';
import { RehearsalPanel } from './RehearsalPanel';
import { RunbookCatalog } from './RunbookCatalog';
import { RunbookDetail } from './RunbookDetail';
import { RunsList } from './RunsList';
import { progressText } from './runModel';
import { RunView } from './RunView';
import './runbooks.css';

type Selection =
  | { kind: 'runbook'; id: string; stepId: string | null }
  | { kind: 'run'; id: string }
  | null;

type SideTab = 'runbooks' | 'runs' | 'rehearsal';

function selectionOf(target: NavigationTarget | null): Selection {
  if (target?.runId !== undefined) {
    return { kind: 'run', id: target.runId };
  }
  return target?.runbook ? { kind: 'runbook', id: target.runbook.runbookId, stepId: target.runbook.stepId ?? null } : null;
}

/** Nothing chosen yet: open runs to resume first, else how to begin. */
function Landing({ openRuns, onOpen }: { openRuns: RunSummary[]; onOpen: (runId: string) => void }) {
  if (openRuns.length === 0) {
    return (
      <Paper withBorder p="lg">
        <Stack gap="xs">
          <Text fw={700}>Pick a runbook on the left to start a run.</Text>
          <Text size="sm">
            In an incident, start with <b>Emergency procedures</b>. Every step says what to do; the automated ones run
            from here, and everything is recorded for the incident report.
          </Text>
        </Stack>
      </Paper>
    );
  }
  return (
    <Paper withBorder p="lg" component="section" aria-label="Resume a run">
      <Stack gap="sm">
        <Text fw={700}>{openRuns.length === 1 ? 'A run is open' : `${openRuns.length} runs are open`}</Text>
        {openRuns.map((r) => (
          <Group key={r.id} justify="space-between" wrap="nowrap">
            <div>
              <Group gap={6}>
                <Text size="sm" fw={600}>
                  {r.title}
                </Text>
                {r.rehearsal && (
                  <Badge size="xs" color="grape.8" variant="filled" tt="none">
                    rehearsal
                  </Badge>
                )}
                {r.progress.interrupted > 0 && (
                  <Badge size="xs" color="orange.8" variant="filled" tt="none">
                    interrupted
                  </Badge>
                )}
              </Group>
              <Text size="xs" c="dimmed">
                {progressText(r.progress)}
              </Text>
            </div>
            <Button
              size="xs"
              aria-label={`Resume ${r.title}`}
              onClick={() => {
                onOpen(r.id);
              }}
            >
              Resume
            </Button>
          </Group>
        ))}
      </Stack>
    </Paper>
  );
}

/** The runbook's procedures as guided checklists: the catalog, runs, and rehearsals on the sandbox. */
export function RunbooksArea() {
  const { target } = useNavigation();
  const appInfo = useAppInfo();
  const profiles = useProfiles();
  const catalog = useRunbookCatalog();
  const runs = useRuns();
  const [selection, setSelection] = useState<Selection>(() => selectionOf(target));
  const [tab, setTab] = useState<SideTab>(target?.runId !== undefined ? 'runs' : 'runbooks');
  // A new request to open a runbook (an error's "Open runbook" while this area is shown).
  const [seenTarget, setSeenTarget] = useState(target);
  if (target !== seenTarget) {
    setSeenTarget(target);
    const next = selectionOf(target);
    if (next) {
      setSelection(next);
      setTab(next.kind === 'run' ? 'runs' : 'runbooks');
    }
  }

  const area = areaById('runbooks');
  if (appInfo.isPending) {
    return <Loader size="sm" aria-label="Loading" />;
  }
  const activeSummary = appInfo.isSuccess ? activeProfileOf(appInfo.data.profiles, appInfo.data.activeProfile) : undefined;
  const fullProfiles: Profile[] = profiles.data ?? [];
  const active = fullProfiles.find((p) => p.id === activeSummary?.id);
  const allRuns = runs.data ?? [];
  const openRuns = allRuns.filter((r) => r.state === 'running');
  const selectedRun = selection?.kind === 'run' ? allRuns.find((r) => r.id === selection.id) : undefined;
  const rehearsalRun =
    selectedRun && selectedRun.state === 'running' && selectedRun.profileId === active?.id
      ? { id: selectedRun.id, title: selectedRun.title }
      : null;
  const sandbox = active?.sandbox ?? false;
  const shownTab: SideTab = tab === 'rehearsal' && !sandbox ? 'runbooks' : tab;

  const openRun = (runId: string) => {
    setSelection({ kind: 'run', id: runId });
  };

  let main;
  if (selection?.kind === 'run') {
    main = <RunView runId={selection.id} profiles={fullProfiles} />;
  } else if (selection?.kind === 'runbook') {
    const runbook = catalog.data?.runbooks.find((r) => r.id === selection.id);
    if (catalog.isPending) {
      main = <Loader size="sm" aria-label="Loading runbooks" />;
    } else if (!runbook) {
      main = (
        <Text size="sm" c="dimmed">
          {`There is no runbook “${selection.id}” any more. Pick one on the left.`}
        </Text>
      );
    } else {
      main = (
        <RunbookDetail
          runbook={runbook}
          profile={active}
          focusStepId={selection.stepId}
          openRuns={openRuns.filter((r) => r.runbookId === runbook.id)}
          onStarted={(id) => {
            openRun(id);
            setTab('runs');
          }}
          onOpenRun={openRun}
        />
      );
    }
  } else {
    main = <Landing openRuns={openRuns} onOpen={openRun} />;
  }

  return (
    <Stack gap="md">
      <AreaHeader area={area} />
      {profiles.isError && <ErrorNotice error={profiles.error} context="Loading profiles" />}
      <div className="sy-rb-layout">
        <aside className="sy-rb-side" aria-label="Runbooks and runs">
          <Tabs
            value={shownTab}
            onChange={(v) => {
              if (v) {
                setTab(v as SideTab);
              }
            }}
            keepMounted={false}
          >
            <Tabs.List mb="sm">
              <Tabs.Tab value="runbooks">
                Runbooks
              </Tabs.Tab>
              <Tabs.Tab value="runs">
                {openRuns.length > 0 ? `Runs · ${openRuns.length} open` : 'Runs'}
              </Tabs.Tab>
              {sandbox && (
                <Tabs.Tab value="rehearsal" leftSection={<IconBolt size={14} aria-hidden />} color="orange">
                  Rehearsal
                </Tabs.Tab>
              )}
            </Tabs.List>
            <Tabs.Panel value="runbooks">
              <RunbookCatalog
                selectedId={selection?.kind === 'runbook' ? selection.id : null}
                dataDir={appInfo.isSuccess ? appInfo.data.dataDir : null}
                onSelect={(id) => {
                  setSelection({ kind: 'runbook', id, stepId: null });
                }}
              />
            </Tabs.Panel>
            <Tabs.Panel value="runs">
              <RunsList
                profiles={appInfo.isSuccess ? appInfo.data.profiles : []}
                selectedId={selection?.kind === 'run' ? selection.id : null}
                onOpen={openRun}
              />
            </Tabs.Panel>
            {sandbox && active && (
              <Tabs.Panel value="rehearsal">
                <RehearsalPanel profile={active} run={rehearsalRun} />
              </Tabs.Panel>
            )}
          </Tabs>
        </aside>
        <section className="sy-rb-main" aria-label="Runbook or run">
          {main}
        </section>
      </div>
    </Stack>
  );
}
