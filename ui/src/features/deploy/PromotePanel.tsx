import { Alert, Button, Group, Loader, NativeSelect, Paper, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { IconCircleCheck } from '@tabler/icons-react';
import { useState } from 'react';

import { type NavigationTarget, useNavigation } from '../../shell/navigation';
import { ConfirmAction } from '../../components/ConfirmAction';
import { ErrorNotice } from '../../components/ErrorNotice';
import { commands } from '../../ipc/bindings';
import type { AppError, DeployOutcome, DeployPlan, Environment, Profile } from '../../ipc/types';
import { deployKeys } from '../../ipc/deploy';
import { callCommand } from '../../ipc/errors';
import { ENVIRONMENTS } from './ServiceEnvironment';
import { DeployPlanView } from './PlanView';
import { StepList } from './StepList';
import { useStreamedRun } from './useStreamedRun';

type Result = { ok: true; outcome: DeployOutcome } | { ok: false; error: AppError };

/** The service whose promote plan another area (the command palette) asked for, if the profile has it. */
function askedService(target: NavigationTarget | null, profile: Profile): string | null {
  const service = target?.promote?.service;
  return service !== undefined && profile.services.includes(service) ? service : null;
}

/**
 * Promote: deploy to one environment exactly the bundle that runs in another (staging →
 * production), byte for byte, with its bindings; no rebuild. The plan comes first, with warnings
 * when the source is young or failing its health check.
 */
export function PromotePanel({ profile }: { profile: Profile }) {
  const { target } = useNavigation();
  const [service, setService] = useState(() => askedService(target, profile) ?? '');
  const [from, setFrom] = useState<Environment>('staging');
  const [to, setTo] = useState<Environment>('production');
  const { running, progress, apply, clear } = useStreamedRun(profile.id);
  const [result, setResult] = useState<Result | null>(null);
  // Asked again while Deploy is open (the command palette's "Promote gateway"): that service's
  // plan is shown. Only the plan: nothing is promoted until it is confirmed.
  const [seenTarget, setSeenTarget] = useState(target);
  if (target !== seenTarget) {
    setSeenTarget(target);
    const asked = askedService(target, profile);
    if (asked !== null && !running) {
      setService(asked);
      setResult(null);
      clear();
    }
  }
  const readOnly = profile.protection === 'readOnly';
  const ready = service !== '' && from !== to;
  const plan = useQuery<DeployPlan, AppError>({
    queryKey: [...deployKeys.all(profile.id), 'promotePlan', service, from, to],
    queryFn: () => callCommand(() => commands.promotePlan(profile.id, service, from, to)),
    enabled: ready,
    staleTime: 0,
    gcTime: 0,
  });
  const retarget = () => {
    setResult(null);
    clear();
  };

  const go = async (p: DeployPlan, confirmed: boolean, typed: string | null) => {
    setResult(null);
    const end = await apply((events) =>
      commands.promote(
        { profileId: profile.id, service, from, to, confirmation: { confirmed, typed, basis: p.basis }, runId: null },
        events,
      ),
    );
    setResult(end.ok ? { ok: true, outcome: end.value } : end);
  };

  return (
    <Stack gap="md">
      <Paper withBorder p="lg" radius="md" component="section" aria-labelledby="sy-promote-heading">
        <Stack gap="md">
          <Title order={2} size="h3" id="sy-promote-heading">
            Promote a proven version
          </Title>
          <Text size="sm" c="dimmed">
            Deploys exactly the bundle that runs in one environment to another — the same bytes (sha256) and service bindings, no
            rebuild — through the Deploy API, after its plan and confirmation.
          </Text>
          <Group gap="md" align="flex-end" wrap="wrap">
            <NativeSelect
              label="Service"
              data={[{ value: '', label: 'Choose…' }, ...profile.services.map((s) => ({ value: s, label: s }))]}
              value={service}
              onChange={(e) => {
                setService(e.currentTarget.value);
                retarget();
              }}
              w={200}
            />
            <NativeSelect
              label="From"
              data={ENVIRONMENTS}
              value={from}
              onChange={(e) => {
                setFrom(e.currentTarget.value as Environment);
                retarget();
              }}
              w={180}
            />
            <NativeSelect
              label="To"
              data={ENVIRONMENTS}
              value={to}
              onChange={(e) => {
                setTo(e.currentTarget.value as Environment);
                retarget();
              }}
              w={180}
            />
          </Group>
          {service === '' && <Text size="sm" c="dimmed">Choose the service to promote.</Text>}
          {service !== '' && from === to && <Text size="sm">Choose two different environments.</Text>}
        </Stack>
      </Paper>

      {ready && (
        <Paper withBorder p="lg" radius="md" component="section" aria-label="Promote plan and confirmation">
          {plan.isPending && <Loader size="sm" aria-label="Loading the promote plan" />}
          {plan.isError && <ErrorNotice error={plan.error} context="Planning the promote" />}
          {plan.isSuccess && (
            <Stack gap="md">
              <DeployPlanView plan={plan.data} />
              {readOnly ? (
                <Text size="sm">This profile is read-only: nothing can be promoted with it.</Text>
              ) : (
                <ConfirmAction
                  requirement={plan.data.confirmation}
                  action={`Promote ${service} from ${from} to ${to}`}
                  danger={to === 'production'}
                  busy={running}
                  onConfirm={(c) => void go(plan.data, c.confirmed, c.typed)}
                />
              )}
            </Stack>
          )}
        </Paper>
      )}

      {progress.order.length > 0 && (
        <Paper withBorder p="lg" radius="md">
          <StepList progress={progress} title="Promote progress" follow={running} />
        </Paper>
      )}

      {result?.ok === true && (
        <Alert color="green" variant="light" icon={<IconCircleCheck aria-hidden />} title={`Promoted ${service} to ${to}`} role="status">
          <Stack gap={4}>
            <Text size="sm">{`Deployment ${result.outcome.deployment.id}: the bundle ${result.outcome.bundle.sha256.slice(0, 12)}… that runs in ${from}.`}</Text>
            <Text size="sm">{`Health: ${result.outcome.verification.healthDetail}`}</Text>
            <Group>
              <Button variant="default" onClick={retarget}>
                Done
              </Button>
            </Group>
          </Stack>
        </Alert>
      )}
      {result?.ok === false && <ErrorNotice error={result.error} context="Promoting" />}
    </Stack>
  );
}
