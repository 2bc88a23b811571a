import {
  Alert,
  Button,
  Checkbox,
  Group,
  Paper,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconCircleCheck, IconPlayerPlay, IconPlayerStop } from '@tabler/icons-react';
import { type SyntheticEvent, useEffect, useRef, useState } from 'react';

import { type NavigationTarget, useNavigation } from '../../shell/navigation';
import { ConfirmAction } from '../../components/ConfirmAction';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatBytes, shortHash } from '../../components/format';
import { PathField } from '../../components/PathField';
import { commands } from '../../ipc/bindings';
import { type AppError, type Confirmation, type DeployOutcome, type Environment, type PreparedDeploy, type Profile } from '../../ipc/types';
import { callCommand, toAppError } from '../../ipc/errors';
import { type BindingRow, BindingsForm, rowProblem, rowsToBindings } from '../bindings/BindingsEditor';
import { NewServiceButton } from '../templates/NewService';
import { DeployPlanView } from './PlanView';
import { stepStarted } from './progress';
import { ServiceEnvironmentFields } from './ServiceEnvironment';
import { StepList } from './StepList';
import { useStreamedRun } from './useStreamedRun';

type SourceKind = 'serviceFolder' | 'bundleFile';

type Phase =
  | { name: 'form' }
  | { name: 'preparing'; runId: string }
  | { name: 'planned'; prepared: PreparedDeploy }
  | { name: 'applying'; prepared: PreparedDeploy }
  | { name: 'done'; outcome: DeployOutcome }
  | { name: 'failed'; error: AppError; prepared: PreparedDeploy | null };

function lastSegment(path: string): string {
  const parts = path.replace(/[\\/]+$/, '').split(/[\\/]/);
  return parts[parts.length - 1] ?? '';
}

function newRunId(): string {
  return `run-${crypto.randomUUID()}`;
}

interface Metadata {
  version: string;
  commit: string;
  branch: string;
  author: string;
}

const EMPTY_METADATA: Metadata = { version: '', commit: '', branch: '', author: '' };

const FROM_FOLDER: Metadata = {
  version: 'from package.json',
  commit: 'from git',
  branch: 'from git',
  author: 'from git config user.email',
};

const BUNDLE_EXAMPLES: Metadata = {
  version: 'e.g. v1.4.0',
  commit: 'e.g. 3f9c2ab',
  branch: 'e.g. main',
  author: 'e.g. alice@example.com',
};

function orNull(value: string): string | null {
  const v = value.trim();
  return v === '' ? null : v;
}

function Outcome({ outcome, onAgain }: { outcome: DeployOutcome; onAgain: () => void }) {
  const d = outcome.deployment;
  const v = outcome.verification;
  return (
    <Alert
      color="green"
      variant="light"
      icon={<IconCircleCheck aria-hidden />}
      title={
        outcome.plan.kind === 'direct'
          ? `Uploaded ${d.service} ${d.versionTag ?? ''} straight to ${outcome.plan.namespace}`
          : `Deployed ${d.service} ${d.versionTag ?? d.version ?? ''} to ${d.environment}`
      }
      role="status"
    >
      <Stack gap={4}>
        <Text size="sm">{`Deployment ${d.id}; bundle ${shortHash(outcome.bundle.sha256)} (${outcome.bundle.sizeBytes !== null ? formatBytes(outcome.bundle.sizeBytes) : 'size unknown'}) archived.`}</Text>
        <Text size="sm">{`Record: ${v.recordDetail}`}</Text>
        <Text size="sm">{`Health: ${v.healthDetail}`}</Text>
        {outcome.pinCleared && <Text size="sm">The rollback pin on this service was cleared by this deploy.</Text>}
        <Group mt="xs">
          <Button variant="default" onClick={onAgain}>
            Deploy something else
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}

/** The service another area (the command palette's "Deploy gateway") asked to deploy, if the profile has it. */
function askedService(target: NavigationTarget | null, profile: Profile): string | null {
  const service = target?.deploy?.service;
  return service !== undefined && profile.services.includes(service) ? service : null;
}

/** Deploy a service: source → test, build, checks → plan → confirm → upload → verify. */
export function DeployWizard({ profile }: { profile: Profile }) {
  const { target } = useNavigation();
  const [source, setSource] = useState<SourceKind>('serviceFolder');
  const [path, setPath] = useState(() => target?.deploy?.folder ?? '');
  const [service, setService] = useState<string>(() => askedService(target, profile) ?? '');
  const [environment, setEnvironment] = useState<Environment>(profile.environment);
  const [metadata, setMetadata] = useState<Metadata>(EMPTY_METADATA);
  // A bundle file carries no wrangler.jsonc: its service bindings are typed here.
  const [bindingRows, setBindingRows] = useState<BindingRow[]>([]);
  const [phase, setPhase] = useState<Phase>({ name: 'form' });
  // Asked again while Deploy is open: that service is chosen (only chosen: nothing runs yet).
  const [seenTarget, setSeenTarget] = useState(target);
  if (target !== seenTarget) {
    setSeenTarget(target);
    const asked = askedService(target, profile);
    if (asked !== null && phase.name === 'form') {
      setService(asked);
    }
    // A folder asked for (a new service's "Deploy it"): the service folder source, on it.
    const folder = target?.deploy?.folder;
    if (folder !== undefined && phase.name === 'form') {
      setSource('serviceFolder');
      setPath(folder);
    }
  }
  // Preparing (tests, build, checks) and applying (upload, verify) stream into one progress.
  const run = useStreamedRun(profile.id);
  const progress = run.progress;
  const [cancelProblem, setCancelProblem] = useState<string | null>(null);
  // Emergency route: straight to the namespace through the Cloudflare API (the Deploy API is down).
  const [direct, setDirect] = useState(false);
  const planRef = useRef<HTMLDivElement>(null);
  const resultRef = useRef<HTMLDivElement>(null);

  // The page follows the run (the step list keeps the running step in view): the plan when it is
  // ready (the confirmation is under it), the outcome or the error at the end. Otherwise they
  // appear below the form, out of sight, and the operator is left looking at a spinner.
  useEffect(() => {
    const target =
      phase.name === 'planned' ? planRef.current : phase.name === 'done' || phase.name === 'failed' ? resultRef.current : null;
    target?.scrollIntoView({ block: 'start' });
  }, [phase.name]);

  // The upload began before the run failed: the deployment exists (not a plan to go back to).
  const uploaded = phase.name === 'failed' && phase.prepared !== null && stepStarted(progress, 'upload');
  const guessedService = source === 'serviceFolder' ? lastSegment(path) : '';
  const serviceName = service !== '' ? service : profile.services.includes(guessedService) ? guessedService : '';
  const busy = phase.name === 'preparing' || phase.name === 'applying';
  const bundleNeeds =
    source === 'bundleFile' && (metadata.commit.trim() === '' || metadata.branch.trim() === '' || metadata.author.trim() === '')
      ? 'A bundle file needs its commit, branch and author typed in.'
      : null;
  const bindingsProblem =
    source === 'bundleFile'
      ? bindingRows.map((r) => rowProblem(r, bindingRows)).find((p) => p !== null) ?? null
      : null;
  const formProblem =
    path.trim() === ''
      ? source === 'serviceFolder'
        ? 'Choose the service folder.'
        : 'Choose the bundle file.'
      : serviceName === ''
        ? 'Choose the service.'
        : (bundleNeeds ?? (bindingsProblem === null ? null : `Service bindings: ${bindingsProblem}`));

  const prepare = async (event: SyntheticEvent) => {
    event.preventDefault();
    await prepareWith(direct);
  };

  const prepareWith = async (straight: boolean) => {
    if (formProblem) {
      return;
    }
    const runId = newRunId();
    setCancelProblem(null);
    setPhase({ name: 'preparing', runId });
    const end = await run.prepare((events) =>
      commands.prepareDeploy(
        {
          profileId: profile.id,
          service: serviceName,
          environment,
          source: source === 'serviceFolder' ? { kind: 'serviceFolder', path: path.trim() } : { kind: 'bundleFile', path: path.trim() },
          metadata: {
            version: orNull(metadata.version),
            commit: orNull(metadata.commit),
            branch: orNull(metadata.branch),
            author: orNull(metadata.author),
          },
          // A folder's bindings come from its wrangler.jsonc; a bundle file's from the form.
          bindings: source === 'bundleFile' && bindingRows.length > 0 ? rowsToBindings(bindingRows) : null,
          runId,
          direct: straight,
        },
        events,
      ),
    );
    setPhase(end.ok ? { name: 'planned', prepared: end.value } : { name: 'failed', error: end.error, prepared: null });
  };

  const apply = async (prepared: PreparedDeploy, confirmation: Confirmation) => {
    setPhase({ name: 'applying', prepared });
    const end = await run.apply((events) => commands.applyDeploy(prepared.runId, confirmation, events));
    setPhase(end.ok ? { name: 'done', outcome: end.value } : { name: 'failed', error: end.error, prepared });
  };

  const cancel = async (runId: string) => {
    try {
      await callCommand(() => commands.cancelDeploy(runId));
    } catch (e) {
      setCancelProblem(toAppError(e).message);
    }
  };

  const reset = () => {
    if (phase.name === 'planned') {
      void commands.discardDeploy(phase.prepared.runId);
    }
    setPhase({ name: 'form' });
    run.clear();
  };

  const setMeta = (key: keyof Metadata) => (event: React.ChangeEvent<HTMLInputElement>) => {
    const value = event.currentTarget.value;
    setMetadata((m) => ({ ...m, [key]: value }));
  };

  const readOnly = profile.protection === 'readOnly';
  // For a folder, empty fields are read from it: say so rather than show sample values that look
  // filled in.
  const hint = source === 'serviceFolder' ? FROM_FOLDER : BUNDLE_EXAMPLES;

  return (
    <Stack gap="md">
      {/* Outside the form below: the dialog's own form must not submit this one. */}
      <Group justify="flex-end">
        <NewServiceButton profile={profile} />
      </Group>
      <Paper withBorder p="lg" radius="md" component="section" aria-labelledby="sy-deploy-source">
        <form onSubmit={(e) => void prepare(e)}>
          <Stack gap="md">
            <Title order={2} size="h3" id="sy-deploy-source">
              What to deploy
            </Title>
            {readOnly && (
              <Alert color="gray" variant="light" title="This profile is read-only">
                Deploying is turned off for it. Choose another profile, or change its protection in Settings.
              </Alert>
            )}
            <SegmentedControl
              aria-label="Source"
              value={source}
              disabled={busy}
              onChange={(v) => {
                setSource(v as SourceKind);
                setPath('');
              }}
              data={[
                { value: 'serviceFolder', label: 'Service folder (test and build it)' },
                { value: 'bundleFile', label: 'Built bundle file' },
              ]}
              maw={560}
            />
            {source === 'serviceFolder' ? (
              <PathField
                label="Service folder"
                description="workers/<service> of the platform's repository: its tests and build run here, then dist/index.js is deployed."
                kind="folder"
                value={path}
                onChange={setPath}
                placeholder="/home/you/platform/workers/gateway"
                chooserTitle="Choose the service folder"
              />
            ) : (
              <PathField
                label="Bundle file"
                description="A built Worker script (.js or .mjs)."
                kind="bundle"
                value={path}
                onChange={setPath}
                placeholder="/home/you/platform/workers/gateway/dist/index.js"
                chooserTitle="Choose the bundle"
              />
            )}
            <Group gap="md" align="flex-end" wrap="wrap">
              <ServiceEnvironmentFields
                services={profile.services}
                service={serviceName}
                onService={setService}
                environment={environment}
                onEnvironment={setEnvironment}
                choose
              />
            </Group>
            <Text size="sm" fw={600}>
              {source === 'bundleFile' ? 'Metadata (required for a bundle file)' : 'Metadata (optional: read from git and package.json when empty)'}
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="md">
              <TextInput label="Version" placeholder={hint.version} value={metadata.version} onChange={setMeta('version')} />
              <TextInput label="Commit" placeholder={hint.commit} value={metadata.commit} onChange={setMeta('commit')} spellCheck={false} />
              <TextInput label="Branch" placeholder={hint.branch} value={metadata.branch} onChange={setMeta('branch')} spellCheck={false} />
              <TextInput label="Author" placeholder={hint.author} value={metadata.author} onChange={setMeta('author')} />
            </SimpleGrid>
            {source === 'bundleFile' && (
              <Stack gap={4} role="group" aria-label="Service bindings of the bundle">
                <Text size="sm" fw={600}>
                  Service bindings (sent with the bundle)
                </Text>
                <Text size="sm" c="dimmed">
                  A bundle file has no wrangler.jsonc: the bindings it gets are the ones listed here, and bindings change only on a
                  deploy. Leave the list empty to deploy it with none.
                </Text>
                <BindingsForm rows={bindingRows} onChange={setBindingRows} disabled={busy} />
              </Stack>
            )}
            <Checkbox
              label="Emergency: upload straight to the namespace, bypassing the Deploy API"
              description={`Only when the Deploy API is down. Uses the profile's Cloudflare API token; recorded as a manual deployment in the audit log and the history (the Deploy API's list will not show it).`}
              checked={direct}
              onChange={(e) => {
                setDirect(e.currentTarget.checked);
              }}
            />
            <Group gap="md">
              <Button
                type="submit"
                leftSection={<IconPlayerPlay size={16} aria-hidden />}
                disabled={formProblem !== null || busy || readOnly || phase.name === 'planned'}
                loading={phase.name === 'preparing'}
              >
                {`${source === 'serviceFolder' ? 'Test, build and plan' : 'Check and plan'}${direct ? ' (direct to the namespace)' : ''}`}
              </Button>
              {formProblem && phase.name === 'form' && (
                <Text size="sm" c="dimmed">
                  {formProblem}
                </Text>
              )}
            </Group>
            <Text size="xs" c="dimmed">
              Nothing is uploaded until you have seen the plan and confirmed it.
            </Text>
          </Stack>
        </form>
      </Paper>

      {(progress.order.length > 0 || phase.name === 'preparing') && (
        <Paper withBorder p="lg" radius="md">
          <StepList
            progress={progress}
            title="Progress"
            labels={{
              ...(source === 'bundleFile' ? { inspect: 'Read the bundle file' } : {}),
              // A direct upload goes to the namespace, and the Deploy API keeps no record of it.
              ...(direct ? { upload: 'Upload to the namespace (Cloudflare API)', verifyRecord: 'Deploy API record (none for a direct upload)' } : {}),
            }}
            follow={busy}
            actions={
              phase.name === 'preparing' ? (
                // Beside the steps it stops, so it stays in reach while the output is watched.
                <Button
                  variant="default"
                  color="red"
                  leftSection={<IconPlayerStop size={16} aria-hidden />}
                  onClick={() => void cancel(phase.runId)}
                >
                  Cancel
                </Button>
              ) : undefined
            }
          />
          {cancelProblem && (
            <Text size="sm" c="red.8" role="alert" mt="xs">
              {cancelProblem}
            </Text>
          )}
        </Paper>
      )}

      {(phase.name === 'planned' || phase.name === 'applying') && (
        <Paper withBorder p="lg" radius="md" component="section" aria-label="Plan and confirmation" ref={planRef} className="sy-follow">
          <Stack gap="md">
            <DeployPlanView plan={phase.prepared.plan} />
            <ConfirmAction
              key={phase.prepared.runId}
              requirement={phase.prepared.plan.confirmation}
              action={phase.prepared.plan.action}
              danger={phase.prepared.environment === 'production'}
              busy={phase.name === 'applying'}
              onConfirm={(c) => void apply(phase.prepared, { confirmed: c.confirmed, typed: c.typed, basis: phase.prepared.plan.basis })}
            />
            {phase.name === 'planned' && (
              <Group>
                <Button variant="subtle" onClick={reset}>
                  Discard this deploy
                </Button>
              </Group>
            )}
          </Stack>
        </Paper>
      )}

      {phase.name === 'done' && (
        <div ref={resultRef} className="sy-follow">
          <Outcome outcome={phase.outcome} onAgain={reset} />
        </div>
      )}

      {phase.name === 'failed' && (
        <Stack gap="sm" ref={resultRef} className="sy-follow">
          <ErrorNotice
            error={phase.error}
            context={uploaded ? 'The deploy was uploaded but its check' : phase.prepared ? 'Deploying' : 'Preparing the deploy'}
          />
          {uploaded && (
            <Text size="sm">
              The upload happened: the deployment is recorded in the history and its bundle is archived. Look at the
              service’s health before doing anything else; roll back from the “Roll back” tab if it is broken.
            </Text>
          )}
          {!direct && !uploaded && (phase.error.code === 'Unreachable' || phase.error.code === 'Timeout' || phase.error.code === 'ServerError') && (
            <Alert color="orange" variant="light" title="Is the Deploy API down?">
              <Stack gap="xs">
                <Text size="sm">
                  If it is, this build can go straight to the dispatch namespace through the Cloudflare API (emergency only; recorded as a manual
                  deployment). You will see the plan and confirm it first.
                </Text>
                <Group>
                  <Button
                    color="orange"
                    variant="light"
                    onClick={() => {
                      setDirect(true);
                      void prepareWith(true);
                    }}
                  >
                    Plan a direct upload instead
                  </Button>
                </Group>
              </Stack>
            </Alert>
          )}
          <Group>
            {phase.prepared && !uploaded && phase.error.code !== 'Cancelled' && (
              <Button
                variant="default"
                onClick={() => {
                  if (phase.prepared) {
                    setPhase({ name: 'planned', prepared: phase.prepared });
                  }
                }}
              >
                Back to the plan
              </Button>
            )}
            <Button variant="default" onClick={reset}>
              Start again
            </Button>
          </Group>
        </Stack>
      )}
    </Stack>
  );
}
