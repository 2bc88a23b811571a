import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  Loader,
  Paper,
  Stack,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { IconArrowBackUp, IconCircleCheck, IconPin } from '@tabler/icons-react';
import { useEffect, useMemo, useRef, useState } from 'react';

import { type NavigationTarget, useNavigation } from '../../shell/navigation';
import { ConfirmAction } from '../../components/ConfirmAction';
import { type DataColumn, DataTable } from '../../components/DataTable';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatBytes, shortHash } from '../../components/format';
import { formatLocalTime } from '../../components/time';
import { commands } from '../../ipc/bindings';
import type { AppError, ArchivedBundle, Confirmation, Deployment, Environment, Profile, VersionRow } from '../../ipc/types';
import { deployKeys, useRestorePlan, useRollbackPlan, useVersions } from '../../ipc/deploy';
import { callCommand } from '../../ipc/errors';
import { ServiceEnvironmentFields } from './ServiceEnvironment';
import { CodeDiffView } from './CodeDiffView';
import { DeployPlanView, Warnings } from './PlanView';
import { StepList } from './StepList';
import { useStreamedRun } from './useStreamedRun';

function label(d: Deployment | null): string {
  if (!d) {
    return 'nothing';
  }
  return `${d.versionTag ?? d.version ?? d.id} (${d.metadata.commit.slice(0, 7)}, ${d.id})`;
}

type Action = { kind: 'oneStep' } | { kind: 'restore'; row: VersionRow };

type Result = { ok: true; text: string } | { ok: false; error: AppError };

function ReasonField({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  return (
    <Textarea
      label="Reason"
      description="Recorded in the audit log and the pin, e.g. “v1.4.0 returns 500 on /api/orders”."
      value={value}
      onChange={(e) => {
        onChange(e.currentTarget.value);
      }}
      autosize
      minRows={2}
      maw={560}
      required
    />
  );
}

/** The one-step rollback: the plan from the engine, a reason, the confirmation. */
function OneStepPlan({
  profile,
  service,
  environment,
  busy,
  onGo,
}: {
  profile: Profile;
  service: string;
  environment: Environment;
  busy: boolean;
  onGo: (reason: string, confirmation: Confirmation) => void;
}) {
  const plan = useRollbackPlan(profile.id, service, environment, true);
  const [reason, setReason] = useState('');
  if (plan.isPending) {
    return <Loader size="sm" aria-label="Loading the rollback plan" />;
  }
  if (plan.isError) {
    return <ErrorNotice error={plan.error} context="Planning the rollback" />;
  }
  const p = plan.data;
  return (
    <Stack gap="sm">
      <Title order={3} size="h4">{`Plan: roll ${service} in ${environment} back one step`}</Title>
      <Text size="sm">{`Now current: ${label(p.current)}`}</Text>
      <Text size="sm" fw={600}>{`Becomes current: ${label(p.becomesCurrent)}`}</Text>
      <Warnings warnings={p.warnings} />
      {p.blockedReason ? (
        <Alert color="gray" variant="light" title="This rollback cannot be done">
          {p.blockedReason}
        </Alert>
      ) : (
        <>
          <ReasonField value={reason} onChange={setReason} />
          <ConfirmAction
            requirement={p.confirmation}
            action={p.action}
            danger={environment === 'production'}
            busy={busy}
            notReady={reason.trim() === '' ? 'Write the reason first.' : null}
            onConfirm={(c) => {
              // The plan's basis goes back: the engine refuses if what runs changed since.
              onGo(reason.trim(), { ...c, basis: p.basis });
            }}
          />
        </>
      )}
    </Stack>
  );
}

/** Restoring an archived version: its plan, a reason, the confirmation. */
function RestorePlan({
  profile,
  row,
  busy,
  onGo,
}: {
  profile: Profile;
  row: VersionRow;
  busy: boolean;
  onGo: (reason: string, confirmation: Confirmation) => void;
}) {
  const plan = useRestorePlan(profile.id, row.deployment.id);
  const [reason, setReason] = useState('');
  if (plan.isPending) {
    return <Loader size="sm" aria-label="Loading the restore plan" />;
  }
  if (plan.isError) {
    return <ErrorNotice error={plan.error} context="Planning the restore" />;
  }
  return (
    <Stack gap="sm">
      <DeployPlanView plan={plan.data} />
      <ReasonField value={reason} onChange={setReason} />
      <ConfirmAction
        requirement={plan.data.confirmation}
        action={plan.data.action}
        danger={plan.data.environment === 'production'}
        busy={busy}
        notReady={reason.trim() === '' ? 'Write the reason first.' : null}
        onConfirm={(c) => {
          onGo(reason.trim(), { ...c, basis: plan.data.basis });
        }}
      />
    </Stack>
  );
}

function versionName(d: Deployment): string {
  return d.versionTag ?? d.version ?? d.id;
}

/** Two archived versions of the table compared, the older on the left. */
function CompareVersions({
  profileId,
  rows,
  chosen,
}: {
  profileId: string;
  rows: VersionRow[];
  chosen: string[];
}) {
  const picked = rows
    .filter((r) => chosen.includes(r.deployment.id) && r.bundle?.available)
    .sort((a, b) => Date.parse(a.deployment.timestamp) - Date.parse(b.deployment.timestamp));
  const [older, newer] = picked;
  if (picked.length !== 2 || !older?.bundle || !newer?.bundle) {
    return (
      <Text size="sm" c="dimmed">
        Tick two archived versions to compare their code.
      </Text>
    );
  }
  return (
    <Paper withBorder p="sm" component="section" aria-label="Compare two versions">
      <Stack gap="xs">
        <Title order={3} size="h5">
          {`${versionName(older.deployment)} → ${versionName(newer.deployment)}`}
        </Title>
        <CodeDiffView
          profileId={profileId}
          left={{ kind: 'bundle', sha256: older.bundle.sha256 }}
          right={{ kind: 'bundle', sha256: newer.bundle.sha256 }}
          leftTitle={versionName(older.deployment)}
          rightTitle={versionName(newer.deployment)}
        />
      </Stack>
    </Paper>
  );
}

/**
 * Restore beyond this machine: fetch a version deployed elsewhere (CI, a colleague, wrangler)
 * from the platform into the archive, after which it can be compared, promoted and restored.
 */
function FetchButton({
  profileId,
  row,
  name,
  disabled,
}: {
  profileId: string;
  row: VersionRow;
  name: string;
  disabled: boolean;
}) {
  const client = useQueryClient();
  const d = row.deployment;
  const fetchIt = useMutation<ArchivedBundle, AppError>({
    mutationFn: () => callCommand(() => commands.fetchPlatformBundle(profileId, d.service, d.environment, d.id)),
    onSuccess: () => client.invalidateQueries({ queryKey: deployKeys.all(profileId) }),
  });
  return (
    <>
      <Button
        size="compact-xs"
        variant="subtle"
        loading={fetchIt.isPending}
        disabled={disabled}
        aria-label={`Fetch ${name} from the platform`}
        onClick={() => {
          fetchIt.mutate();
        }}
      >
        Fetch its code from the platform
      </Button>
      {fetchIt.isError && (
        <Text size="xs" c="red" maw={260} role="alert">
          {fetchIt.error.message}
        </Text>
      )}
    </>
  );
}

/** A version's row: its name, badges and id on two lines. */
const VERSION_ROW_HEIGHT = 64;
/** One that cannot be restored also says why (and may offer to fetch its code). */
const UNRESTORABLE_ROW_HEIGHT = 96;

const versionId = (r: VersionRow) => r.deployment.id;
const versionRowHeight = (r: VersionRow) => (r.restorable ? VERSION_ROW_HEIGHT : UNRESTORABLE_ROW_HEIGHT);

function versionRowName(r: VersionRow): string {
  const d = r.deployment;
  return d.versionTag ?? d.version ?? d.id;
}

interface VersionsTableProps {
  profileId: string;
  rows: VersionRow[];
  disabled: boolean;
  onRestore: (row: VersionRow) => void;
  /** Deployment ids ticked for comparison (at most two). */
  chosen: string[];
  onChoose: (ids: string[]) => void;
}

function versionColumns({ profileId, disabled, onRestore, chosen, onChoose }: Omit<VersionsTableProps, 'rows'>): DataColumn<VersionRow>[] {
  return [
    {
      id: 'version',
      header: 'Version',
      meta: { width: 200 },
      cell: ({ row: { original: r } }) => (
        <>
          {/* Wraps: a restore's long name ("v1.0.0 (rollback to deploy_…)") must not squeeze
              the badges into unreadable stubs. */}
          <Group gap={6} wrap="wrap">
            <Text size="sm">{versionRowName(r)}</Text>
            {r.current && (
              <Badge size="xs" color="green" tt="none">
                current
              </Badge>
            )}
            {r.pinned && (
              <Badge size="xs" color="orange" tt="none" leftSection={<IconPin size={10} aria-hidden />}>
                pinned
              </Badge>
            )}
          </Group>
          <Text size="xs" c="dimmed">
            {r.deployment.id}
          </Text>
        </>
      ),
    },
    {
      id: 'commit',
      header: 'Commit',
      meta: { width: 80 },
      cell: ({ row }) => (
        <Text size="sm" ff="monospace">
          {row.original.deployment.metadata.commit.slice(0, 7)}
        </Text>
      ),
    },
    { id: 'author', header: 'Author', meta: { width: 130 }, cell: ({ row }) => row.original.deployment.metadata.author },
    {
      id: 'deployed',
      header: 'Deployed',
      meta: { width: 150 },
      cell: ({ row }) => formatLocalTime(Date.parse(row.original.deployment.timestamp)),
    },
    { id: 'status', header: 'Status', meta: { width: 90 }, cell: ({ row }) => row.original.deployment.status.replace('_', ' ') },
    {
      id: 'bundle',
      header: 'Archived bundle',
      meta: { width: 140 },
      cell: ({ row: { original: r } }) =>
        r.bundle && r.bundle.available ? (
          <Text size="sm">{`${shortHash(r.bundle.sha256)} · ${r.bundle.sizeBytes !== null ? formatBytes(r.bundle.sizeBytes) : '?'}`}</Text>
        ) : (
          <Text size="sm" c="dimmed">
            none
          </Text>
        ),
    },
    {
      id: 'compare',
      header: 'Compare',
      meta: { width: 80 },
      cell: ({ row: { original: r } }) =>
        r.bundle?.available && (
          <Checkbox
            aria-label={`Compare ${versionRowName(r)}`}
            checked={chosen.includes(r.deployment.id)}
            onChange={(e) => {
              const on = e.currentTarget.checked;
              const id = r.deployment.id;
              // Ticking a third drops the oldest tick: two are compared at a time.
              onChoose(on ? [...chosen, id].slice(-2) : chosen.filter((c) => c !== id));
            }}
          />
        ),
    },
    {
      id: 'restore',
      header: 'Restore',
      cell: ({ row: { original: r } }) =>
        r.restorable ? (
          <Button
            size="xs"
            variant="light"
            disabled={disabled}
            onClick={() => {
              onRestore(r);
            }}
            aria-label={`Restore ${versionRowName(r)}`}
          >
            Restore…
          </Button>
        ) : (
          <Stack gap={4} align="flex-start">
            <Text size="xs" c="dimmed" maw={260}>
              {r.whyNot ?? 'Cannot be restored.'}
            </Text>
            {r.fetchable && <FetchButton profileId={profileId} row={r} name={versionRowName(r)} disabled={disabled} />}
          </Stack>
        ),
    },
  ];
}

function VersionsTable({ profileId, rows, disabled, onRestore, chosen, onChoose }: VersionsTableProps) {
  const columns = useMemo(
    () => versionColumns({ profileId, disabled, onRestore, chosen, onChoose }),
    [profileId, disabled, onRestore, chosen, onChoose],
  );
  return (
    <DataTable
      label="Versions"
      rows={rows}
      columns={columns}
      rowId={versionId}
      rowHeight={VERSION_ROW_HEIGHT}
      estimateRowHeight={versionRowHeight}
      className="sy-versions-table"
      scrollClassName="sy-table-auto"
      verticalSpacing="xs"
      wrapCells
    />
  );
}

function askedService(target: NavigationTarget | null, profile: Profile): string | null {
  const service = target?.rollback?.service;
  return service !== undefined && profile.services.includes(service) && profile.protection !== 'readOnly' ? service : null;
}

/** The archived version another area (the command palette) asked to restore, when the profile may. */
function askedRestore(target: NavigationTarget | null, profile: Profile): { service: string; deploymentId: string } | null {
  const restore = target?.restore;
  return restore !== undefined && profile.services.includes(restore.service) && profile.protection !== 'readOnly' ? restore : null;
}

/** Roll a service back one step (the Deploy API's rollback) or to any archived version. */
export function RollbackPanel({ profile }: { profile: Profile }) {
  const { target } = useNavigation();
  const [service, setService] = useState(
    () => askedService(target, profile) ?? askedRestore(target, profile)?.service ?? profile.services[0] ?? '',
  );
  // A restore asked for (the command palette's "Restore gateway v1.4.0"): its plan opens once the
  // versions are read and the version is found restorable there.
  const [pendingRestore, setPendingRestore] = useState<string | null>(() => askedRestore(target, profile)?.deploymentId ?? null);
  const [environment, setEnvironment] = useState<Environment>(profile.environment);
  const [action, setAction] = useState<Action | null>(() => (askedService(target, profile) !== null ? { kind: 'oneStep' } : null));
  const { running, progress, apply, clear } = useStreamedRun(profile.id);
  /** What the steps shown are of (the action itself is gone once it is done). */
  const [progressKind, setProgressKind] = useState<Action['kind'] | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  // Asked again while Deploy is open: the plan of that service (only the plan, as above).
  const [seenTarget, setSeenTarget] = useState(target);
  if (target !== seenTarget) {
    setSeenTarget(target);
    const asked = askedService(target, profile);
    const restore = askedRestore(target, profile);
    if (asked !== null && !running) {
      setService(asked);
      setEnvironment(profile.environment);
      setAction({ kind: 'oneStep' });
      setResult(null);
      clear();
    } else if (restore !== null && !running) {
      setService(restore.service);
      setEnvironment(profile.environment);
      setAction(null);
      setPendingRestore(restore.deploymentId);
    }
  }
  const versions = useVersions(profile.id, service, environment);
  if (pendingRestore !== null && versions.data?.service === service && versions.data.environment === environment) {
    setPendingRestore(null);
    const row = versions.data.rows.find((r) => r.deployment.id === pendingRestore);
    if (row?.restorable && !running) {
      setAction({ kind: 'restore', row });
      setResult(null);
      clear();
    }
  }
  const [compared, setCompared] = useState<string[]>([]);
  const readOnly = profile.protection === 'readOnly';
  const actionRef = useRef<HTMLDivElement>(null);
  const resultRef = useRef<HTMLDivElement>(null);

  // Bring the plan into view when one is asked for (it opens under the versions table), and the
  // result when it comes.
  useEffect(() => {
    actionRef.current?.scrollIntoView({ block: 'start' });
  }, [action]);
  useEffect(() => {
    resultRef.current?.scrollIntoView({ block: 'start' });
  }, [result]);

  /** Another service or environment: what was shown for the previous one goes. */
  const retarget = () => {
    setAction(null);
    setCompared([]);
    setResult(null);
    clear();
  };

  const start = (next: Action) => {
    setAction(next);
    setResult(null);
    clear();
  };

  const go = async (reason: string, confirmation: Confirmation) => {
    if (!action) {
      return;
    }
    setProgressKind(action.kind);
    if (action.kind === 'oneStep') {
      const end = await apply((events) =>
        commands.rollback({ profileId: profile.id, service, environment, reason, confirmation }, events),
      );
      setResult(
        end.ok
          ? {
              ok: true,
              text: `Rolled ${service} back: ${end.value.deployment.versionTag ?? end.value.deployment.id} is current and pinned. ${end.value.verification.healthDetail}`,
            }
          : end,
      );
      if (end.ok) {
        setAction(null);
      }
    } else {
      const restored = action.row.deployment;
      const end = await apply((events) =>
        commands.restoreVersion({ profileId: profile.id, deploymentId: restored.id, reason, confirmation }, events),
      );
      setResult(
        end.ok
          ? {
              ok: true,
              text: `Restored ${service} to ${restored.versionTag ?? restored.id} as deployment ${end.value.deployment.id}; it is pinned. ${end.value.verification.healthDetail}`,
            }
          : end,
      );
      if (end.ok) {
        setAction(null);
      }
    }
  };

  const pin = versions.data?.pin ?? null;

  return (
    <Stack gap="md">
      <Paper withBorder p="lg" radius="md" component="section" aria-labelledby="sy-rollback-heading">
        <Stack gap="md">
          <Title order={2} size="h3" id="sy-rollback-heading">
            Roll back a service
          </Title>
          <Group gap="md" align="flex-end" wrap="wrap">
            <ServiceEnvironmentFields
              services={profile.services}
              service={service}
              onService={(s) => {
                setService(s);
                retarget();
              }}
              environment={environment}
              onEnvironment={(e) => {
                setEnvironment(e);
                retarget();
              }}
            />
            <Button
              leftSection={<IconArrowBackUp size={16} aria-hidden />}
              color="orange"
              disabled={readOnly || running || service === ''}
              onClick={() => {
                start({ kind: 'oneStep' });
              }}
            >
              Roll back one step…
            </Button>
          </Group>
          {result && (
            // At the top, beside what it changed (the pin, the versions), where the page goes
            // back to when the run ends.
            <div ref={resultRef} className="sy-follow">
              {result.ok ? (
                <Alert color="green" variant="light" icon={<IconCircleCheck aria-hidden />} title="Rollback done" role="status">
                  {result.text}
                </Alert>
              ) : (
                <ErrorNotice error={result.error} context="Rolling back" />
              )}
            </div>
          )}
          {readOnly && (
            <Text size="sm" c="dimmed">
              This profile is read-only: rollbacks are turned off.
            </Text>
          )}
          {pin && (
            <Alert color="orange" variant="light" icon={<IconPin aria-hidden />} title={`${service} is pinned to ${pin.versionLabel}`}>
              {`Pinned by ${pin.actor}${pin.pinnedMs !== null ? ` at ${formatLocalTime(pin.pinnedMs)}` : ''}: “${pin.reason}”. It stays until someone deploys over it deliberately.`}
            </Alert>
          )}
          {versions.data?.staleNote && (
            <Text size="sm" c="dimmed">
              {versions.data.staleNote}
            </Text>
          )}
          {versions.isPending && service !== '' && <Loader size="sm" aria-label="Loading versions" />}
          {versions.isError && (
            <ErrorNotice
              error={versions.error}
              context="Loading the versions"
              onRetry={() => {
                void versions.refetch();
              }}
            />
          )}
          {versions.data && versions.data.rows.length === 0 && (
            <Text size="sm">{`No deployments of ${service} in ${environment} are known. Sync the history in Deployments.`}</Text>
          )}
          {versions.data && versions.data.rows.length > 0 && (
            <>
              <VersionsTable
                profileId={profile.id}
                rows={versions.data.rows}
                disabled={readOnly || running}
                onRestore={(row) => {
                  start({ kind: 'restore', row });
                }}
                chosen={compared}
                onChoose={setCompared}
              />
              {versions.data.rows.some((r) => r.bundle?.available) && (
                <CompareVersions profileId={profile.id} rows={versions.data.rows} chosen={compared} />
              )}
            </>
          )}
        </Stack>
      </Paper>

      {action && (
        <Paper withBorder p="lg" radius="md" component="section" aria-label="Rollback plan and confirmation" ref={actionRef} className="sy-follow">
          <Stack gap="md">
            {action.kind === 'oneStep' ? (
              <OneStepPlan profile={profile} service={service} environment={environment} busy={running} onGo={(r, c) => void go(r, c)} />
            ) : (
              <RestorePlan key={action.row.deployment.id} profile={profile} row={action.row} busy={running} onGo={(r, c) => void go(r, c)} />
            )}
            {!running && (
              <Group>
                <Button
                  variant="subtle"
                  onClick={() => {
                    setAction(null);
                  }}
                >
                  Cancel
                </Button>
              </Group>
            )}
          </Stack>
        </Paper>
      )}

      {progress.order.length > 0 && (
        <Paper withBorder p="lg" radius="md">
          <StepList
            progress={progress}
            title="Rollback progress"
            follow={running}
            // The Deploy API's rollback uploads nothing: it moves the "current" mark back.
            labels={progressKind === 'oneStep' ? { upload: 'Ask the Deploy API to roll back' } : undefined}
          />
        </Paper>
      )}


    </Stack>
  );
}
