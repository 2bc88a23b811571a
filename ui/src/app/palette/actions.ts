import {
  IconActivityHeartbeat,
  IconArrowBackUp,
  IconArrowBigUpLines,
  IconBolt,
  IconBoxMultiple,
  IconChecklist,
  IconCode,
  IconListDetails,
  IconRefresh,
  IconRestore,
  IconRocket,
  IconSwitchHorizontal,
  IconTrash,
} from '@tabler/icons-react';
import { useMemo } from 'react';

import { useHealthMonitor } from '../../features/health/HealthMonitor';
import type { ActiveFault, AppError, Environment, Profile, RehearsalFault, VersionRow } from '../../ipc/types';
import { useVersionsOf } from '../../ipc/deploy';
import { toAppError } from '../../ipc/errors';
import { useSelectProfile } from '../../ipc/mutations';
import { useNamespaces, useWorkers } from '../../ipc/namespaces';
import { useAppInfo, useProfiles } from '../../ipc/queries';
import { useClearFault, useInjectFault, useRunbookCatalog, useSandboxFaults } from '../../ipc/runbooks';
import { AREAS, areaShortcut } from '../../shell/areas';
import { activeProfileOf } from '../../shell/environment';
import { useNavigation } from '../../shell/navigation';
import { type Searchable, wordScore, wordsOfQuery } from './fuzzy';

/** What an action's row shows and what choosing it does. */
export interface PaletteAction extends Searchable {
  description: string;
  /** Its keyboard shortcut as people read it and `aria-keyshortcuts` takes it ("Alt+3"). */
  shortcut?: string;
  icon: typeof IconRocket;
  /** It changes something that matters: choosing it opens its plan, never runs it. */
  opensPlan: boolean;
  /** A verb still waiting for its argument: choosing it types this into the search box instead. */
  fill?: string;
  run: () => void;
}

/** What a direct action reports when it is done, for the notice under the palette. */
export type PaletteNotice = { ok: true; text: string } | { ok: false; context: string; error: AppError };

/** Most workers offered (a namespace can hold thousands; typing narrows them). */
export const MAX_WORKER_ACTIONS = 2000;

/** The rehearsal faults the palette can switch on and off, with the target each is listed under. */
interface FaultChoice {
  key: string;
  fault: RehearsalFault;
  target: string;
  /** The mode the sandbox lists it with (null: any fault on the target is this one). */
  mode: string | null;
  words: string;
}

function faultChoices(services: readonly string[]): FaultChoice[] {
  const out: FaultChoice[] = [];
  for (const service of services) {
    out.push({
      key: `down:${service}`,
      fault: { kind: 'serviceDown', service },
      target: `service:${service}`,
      mode: 'down',
      words: `${service} down (503)`,
    });
    out.push({
      key: `errors:${service}`,
      fault: { kind: 'serviceErrors', service, status: 500 },
      target: `service:${service}`,
      mode: 'error',
      words: `${service} answers 500`,
    });
    out.push({
      key: `bad-deploy:${service}`,
      fault: { kind: 'badDeploy', service },
      target: `bad-deploy:${service}`,
      mode: null,
      words: `bad deploy of ${service}`,
    });
  }
  out.push(
    { key: 'deploy-api-down', fault: { kind: 'deployApiDown' }, target: 'deploy-api', mode: 'down', words: 'Deploy API down' },
    { key: 'dispatcher-down', fault: { kind: 'dispatcherDown' }, target: 'dispatcher', mode: 'down', words: 'dispatcher down' },
    {
      key: 'database-unhealthy',
      fault: { kind: 'databaseUnhealthy' },
      target: 'service:db',
      mode: 'error',
      words: 'database unhealthy (db)',
    },
  );
  return out;
}

function activeFaultOf(choice: FaultChoice, active: readonly ActiveFault[]): ActiveFault | undefined {
  return active.find((f) => f.target === choice.target && (choice.mode === null || f.mode === choice.mode));
}

function versionName(row: VersionRow): string {
  return row.deployment.versionTag ?? row.deployment.version ?? row.deployment.id;
}

/** True when a typed word reads like `verb` ("rest", "restor", "restroe"…). */
function mentions(query: string, verb: string): boolean {
  return wordsOfQuery(query).some((t) => t.length >= 3 && wordScore(t, verb) >= 0.5);
}

interface Verb {
  id: string;
  label: string;
  fill: string;
  description: string;
  keywords: string[];
  icon: typeof IconRocket;
  opensPlan: boolean;
}

/** The verbs that take an argument, offered on their own so they can be discovered and completed. */
function verbsFor(profile: Profile | undefined, sandbox: boolean, mayChange: boolean): Verb[] {
  const verbs: Verb[] = [];
  if (profile && mayChange) {
    verbs.push(
      {
        id: 'verb:deploy',
        label: 'Deploy ‹service›…',
        fill: 'deploy ',
        description: 'Choose the service: the deploy form opens with it chosen',
        keywords: ['deploy', 'ship', 'release'],
        icon: IconRocket,
        opensPlan: true,
      },
      {
        id: 'verb:rollback',
        label: 'Roll back ‹service›…',
        fill: 'roll back ',
        description: 'Choose the service: its one-step rollback plan opens',
        keywords: ['rollback', 'revert', 'undo'],
        icon: IconArrowBackUp,
        opensPlan: true,
      },
      {
        id: 'verb:restore',
        label: 'Restore ‹service› ‹version›…',
        fill: 'restore ',
        description: 'Choose the service and an archived version: its restore plan opens',
        keywords: ['restore', 'version', 'archived'],
        icon: IconRestore,
        opensPlan: true,
      },
      {
        id: 'verb:promote',
        label: 'Promote ‹service›…',
        fill: 'promote ',
        description: 'Choose the service: its promote plan (staging → production) opens',
        keywords: ['promote', 'staging', 'production'],
        icon: IconArrowBigUpLines,
        opensPlan: true,
      },
    );
  }
  if (profile) {
    verbs.push(
      {
        id: 'verb:namespace',
        label: 'Open namespace ‹namespace›…',
        fill: 'open namespace ',
        description: 'Choose a dispatch namespace of this account',
        keywords: ['namespace', 'dispatch'],
        icon: IconBoxMultiple,
        opensPlan: false,
      },
      {
        id: 'verb:worker',
        label: 'Open worker ‹script›…',
        fill: 'open worker ',
        description: `Choose a worker of ${profile.namespace}`,
        keywords: ['worker', 'script'],
        icon: IconCode,
        opensPlan: false,
      },
      {
        id: 'verb:logs',
        label: 'Logs ‹service›…',
        fill: 'logs ',
        description: 'Choose the service to tail',
        keywords: ['logs', 'tail'],
        icon: IconListDetails,
        opensPlan: false,
      },
    );
  }
  verbs.push(
    {
      id: 'verb:runbook',
      label: 'Start runbook ‹runbook›…',
      fill: 'start runbook ',
      description: 'Choose a runbook to run as a checklist',
      keywords: ['runbook', 'procedure', 'incident'],
      icon: IconChecklist,
      opensPlan: false,
    },
    {
      id: 'verb:profile',
      label: 'Switch profile ‹profile›…',
      fill: 'switch profile ',
      description: 'Choose the profile to make active',
      keywords: ['profile', 'environment'],
      icon: IconSwitchHorizontal,
      opensPlan: false,
    },
  );
  if (sandbox) {
    verbs.push({
      id: 'verb:fault',
      label: 'Toggle rehearsal fault ‹fault›…',
      fill: 'toggle fault ',
      description: 'Break the Local sandbox on purpose, or mend it (sandbox only)',
      keywords: ['rehearsal', 'fault', 'inject', 'clear'],
      icon: IconBolt,
      opensPlan: false,
    });
  }
  return verbs;
}

interface PaletteActionsOptions {
  /** The palette is open: only then is live data (namespaces, workers, runbooks…) read. */
  opened: boolean;
  query: string;
  /** Tell the operator how a direct action ended. */
  notify: (notice: PaletteNotice) => void;
}

/**
 * Every action of the palette for the active profile, completed from live data: areas, the verbs
 * on their own, and each verb with each of its arguments (services, versions, namespaces,
 * workers, runbooks, profiles, rehearsal faults).
 */
export function usePaletteActions({ opened, query, notify }: PaletteActionsOptions): PaletteAction[] {
  const { navigate } = useNavigation();
  const appInfo = useAppInfo();
  const profiles = useProfiles();
  const summary = appInfo.isSuccess ? activeProfileOf(appInfo.data.profiles, appInfo.data.activeProfile) : undefined;
  const profile = profiles.data?.find((p) => p.id === summary?.id);
  const profileId = profile?.id ?? null;
  const sandbox = summary?.sandbox === true && profile?.sandbox === true;
  const mayChange = profile !== undefined && profile.protection !== 'readOnly';
  const environment: Environment = profile?.environment ?? 'production';
  const services = useMemo(() => profile?.services ?? [], [profile]);

  const namespaces = useNamespaces(opened ? profileId : null);
  const workers = useWorkers(opened ? profileId : null, opened ? (profile?.namespace ?? null) : null);
  const catalog = useRunbookCatalog(opened);
  const faults = useSandboxFaults(profileId ?? '', opened && sandbox);
  // Versions are read only once a restore is being typed, and for the services named if any.
  const wantsRestore = opened && mayChange && mentions(query, 'restore');
  const named = services.filter((s) => wordsOfQuery(query).some((t) => t.length >= 2 && wordScore(t, s) >= 0.5));
  const versionServices = named.length > 0 ? named : services;
  const versionRows = useVersionsOf(profileId ?? '', versionServices, environment, wantsRestore);

  const { mutate: selectProfile } = useSelectProfile();
  const { mutate: injectFault } = useInjectFault(profileId ?? '', null);
  const { mutate: clearFault } = useClearFault(profileId ?? '', null);
  const refetchHealth = useHealthMonitor().board.refetch;

  return useMemo(() => {
    const out: PaletteAction[] = [];

    for (const area of AREAS) {
      out.push({
        id: `go:${area.id}`,
        label: `Go to ${area.label}`,
        description: area.summary,
        keywords: [area.id, 'area', 'open'],
        shortcut: areaShortcut(area),
        icon: area.icon,
        opensPlan: false,
        run: () => {
          navigate(area.id);
        },
      });
    }

    for (const verb of verbsFor(profile, sandbox, mayChange)) {
      out.push({ ...verb, run: () => undefined });
    }

    if (profile) {
      out.push({
        id: 'health-check',
        label: 'Run health check',
        description: `Check every service, the dispatcher and the Deploy API of ${profile.name} now`,
        keywords: ['health', 'check', 'status', 'probe'],
        icon: IconActivityHeartbeat,
        opensPlan: false,
        run: () => {
          void refetchHealth().then((result) => {
            if (result.data && !result.isError) {
              notify({ ok: true, text: `Health checked: ${result.data.summary.text}` });
            } else if (result.error) {
              notify({ ok: false, context: 'Checking health', error: result.error });
            }
          });
        },
      });
      out.push({
        id: 'sync-history',
        label: 'Sync history',
        description: `Fetch ${profile.name}'s deployment history from the Deploy API into the cache`,
        keywords: ['sync', 'history', 'deployments', 'refresh', 'fetch'],
        icon: IconRefresh,
        opensPlan: false,
        run: () => {
          navigate('deployments', { sync: true });
        },
      });
    }

    if (profile && mayChange) {
      const env = profile.environment;
      for (const service of services) {
        out.push({
          id: `rollback:${service}`,
          label: `Roll back ${service}`,
          description: `Opens the one-step rollback plan of ${service} in ${env}; nothing changes until you confirm it`,
          keywords: ['rollback', 'revert', 'undo', 'service', env],
          icon: IconArrowBackUp,
          opensPlan: true,
          run: () => {
            navigate('deploy', { rollback: { service } });
          },
        });
      }
      for (const service of services) {
        out.push({
          id: `deploy:${service}`,
          label: `Deploy ${service}`,
          description: `Opens the deploy form with ${service} chosen; a plan comes before anything is uploaded`,
          keywords: ['ship', 'release', 'service', env],
          icon: IconRocket,
          opensPlan: true,
          run: () => {
            navigate('deploy', { deploy: { service } });
          },
        });
      }
      for (const service of services) {
        out.push({
          id: `promote:${service}`,
          label: `Promote ${service}`,
          description: `Opens the plan to promote ${service} from staging to production; nothing changes until you confirm it`,
          keywords: ['staging', 'production', 'service'],
          icon: IconArrowBigUpLines,
          opensPlan: true,
          run: () => {
            navigate('deploy', { promote: { service } });
          },
        });
      }
      for (const list of versionRows) {
        if (!list) {
          continue;
        }
        for (const row of list.rows) {
          if (!row.restorable || row.current) {
            continue;
          }
          const d = row.deployment;
          const name = versionName(row);
          out.push({
            id: `restore:${list.service}:${d.id}`,
            label: `Restore ${list.service} ${name}`,
            description: `Opens the plan to restore ${name} (${d.metadata.commit.slice(0, 7)}, ${d.metadata.author}, ${d.timestamp.slice(0, 10)}); nothing changes until you confirm it`,
            keywords: ['version', 'archived', d.id, d.metadata.commit.slice(0, 7), list.environment],
            icon: IconRestore,
            opensPlan: true,
            run: () => {
              navigate('deploy', { restore: { service: list.service, deploymentId: d.id } });
            },
          });
        }
      }
    }

    if (profile) {
      for (const service of services) {
        out.push({
          id: `logs:${service}`,
          label: `Logs ${service}`,
          description: `Tail ${service}'s requests, logs and exceptions live`,
          keywords: ['tail', 'live', 'requests', 'exceptions', 'service'],
          icon: IconListDetails,
          opensPlan: false,
          run: () => {
            navigate('logs', { logs: { services: [service] } });
          },
        });
      }
      for (const ns of namespaces.data ?? []) {
        out.push({
          id: `namespace:${ns.name}`,
          label: `Open namespace ${ns.name}`,
          description: `${ns.scriptCount} ${ns.scriptCount === 1 ? 'worker' : 'workers'}${ns.trustedWorkers ? ', trusted' : ''}`,
          keywords: ['dispatch'],
          icon: IconBoxMultiple,
          opensPlan: false,
          run: () => {
            navigate('namespaces', { namespace: { name: ns.name } });
          },
        });
      }
      if (mayChange) {
        for (const ns of namespaces.data ?? []) {
          out.push({
            id: `delete-namespace:${ns.name}`,
            label: `Delete namespace ${ns.name}`,
            description: `Opens the delete plan of ${ns.name}; its name must be typed to confirm it`,
            keywords: ['remove', 'dispatch'],
            icon: IconTrash,
            opensPlan: true,
            run: () => {
              navigate('namespaces', { namespace: { name: ns.name, delete: true } });
            },
          });
        }
      }
      const ns = profile.namespace;
      for (const worker of (workers.data ?? []).slice(0, MAX_WORKER_ACTIONS)) {
        out.push({
          id: `worker:${ns}:${worker.name}`,
          label: `Open worker ${worker.name}`,
          description: [ns, worker.version, worker.branch].filter(Boolean).join(' · '),
          keywords: ['script', ...worker.tags],
          icon: IconCode,
          opensPlan: false,
          run: () => {
            navigate('namespaces', { namespace: { name: ns, script: worker.name } });
          },
        });
      }
    }

    for (const runbook of catalog.data?.runbooks ?? []) {
      out.push({
        id: `runbook:${runbook.id}`,
        label: `Start runbook ${runbook.title}`,
        description: `${runbook.category}: opens it ready to start a run`,
        keywords: ['run', 'procedure', 'checklist', runbook.id, runbook.category],
        icon: IconChecklist,
        opensPlan: false,
        run: () => {
          navigate('runbooks', { runbook: { runbookId: runbook.id } });
        },
      });
    }

    if (appInfo.isSuccess) {
      for (const p of appInfo.data.profiles) {
        if (p.id === appInfo.data.activeProfile) {
          continue;
        }
        out.push({
          id: `profile:${p.id}`,
          label: `Switch profile ${p.name}`,
          description: `${p.sandbox ? 'Local sandbox' : p.environment}${p.protection === 'normal' ? '' : `, ${p.protection === 'readOnly' ? 'read-only' : 'protected'}`}`,
          keywords: ['use', 'select', p.id, p.environment],
          icon: IconSwitchHorizontal,
          opensPlan: false,
          run: () => {
            selectProfile(p.id, {
              onSuccess: () => {
                notify({ ok: true, text: `Switched to ${p.name}` });
              },
              onError: (error) => {
                notify({ ok: false, context: 'Switching profile', error: toAppError(error) });
              },
            });
          },
        });
      }
    }

    if (sandbox && profileId !== null) {
      const active = faults.data ?? [];
      for (const choice of faultChoices(services)) {
        const on = activeFaultOf(choice, active);
        out.push({
          id: `fault:${choice.key}`,
          label: on ? `Clear rehearsal fault: ${choice.words}` : `Inject rehearsal fault: ${choice.words}`,
          description: on
            ? `In force now (${on.description}); clears it in the Local sandbox`
            : 'Breaks the Local sandbox on purpose, to rehearse an incident; run it again to clear it',
          keywords: ['toggle', 'rehearsal', 'fault', 'sandbox', on ? 'clear' : 'inject'],
          icon: IconBolt,
          opensPlan: false,
          run: () => {
            const report = {
              onSuccess: () => {
                notify({ ok: true, text: on ? `Cleared: ${on.description}` : `Injected rehearsal fault: ${choice.words}` });
              },
              onError: (error: AppError) => {
                notify({ ok: false, context: on ? 'Clearing the fault' : 'Injecting the fault', error: toAppError(error) });
              },
            };
            if (on) {
              clearFault(on.target, report);
            } else {
              injectFault(choice.fault, report);
            }
          },
        });
      }
    }

    return out;
  }, [
    navigate,
    profile,
    profileId,
    sandbox,
    mayChange,
    services,
    namespaces.data,
    workers.data,
    catalog.data,
    faults.data,
    appInfo.isSuccess,
    appInfo.data,
    versionRows,
    refetchHealth,
    selectProfile,
    injectFault,
    clearFault,
    notify,
  ]);
}
