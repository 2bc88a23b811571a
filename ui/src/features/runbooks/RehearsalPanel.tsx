import { Button, Group, Loader, NativeSelect, NumberInput, Stack, Text } from '@mantine/core';
import { IconBolt, IconEraser } from '@tabler/icons-react';
import { useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import type { Profile, RehearsalFault } from '../../ipc/types';
import { useClearFault, useInjectFault, useSandboxFaults } from '../../ipc/runbooks';

type FaultKind = RehearsalFault['kind'];

const FAULT_LABEL: Record<FaultKind, string> = {
  badDeploy: 'A bad deploy: a broken release of a service is deployed (its /health throws) until it is rolled back',
  serviceDown: 'A service is down (503)',
  serviceErrors: 'A service answers errors (e.g. 500)',
  deployApiDown: 'The Deploy API is down',
  dispatcherDown: 'The dispatcher is down',
  databaseUnhealthy: 'The database is unhealthy',
  latency: 'Something answers slowly',
};

const LATENCY_TARGETS = ['deploy-api', 'dispatcher', 'auth', 'cloudflare-api'];

function buildFault(kind: FaultKind, service: string, status: number, target: string, ms: number): RehearsalFault {
  switch (kind) {
    case 'serviceDown':
    case 'badDeploy':
      return { kind, service };
    case 'serviceErrors':
      return { kind, service, status };
    case 'latency':
      return { kind, target, ms };
    case 'deployApiDown':
    case 'dispatcherDown':
    case 'databaseUnhealthy':
      return { kind };
  }
}

interface RehearsalPanelProps {
  profile: Profile;
  /** The open run faults are recorded on, if any. */
  run: { id: string; title: string } | null;
}

/** Faults injected into the Local sandbox, so an emergency runbook can be practised for real. */
export function RehearsalPanel({ profile, run }: RehearsalPanelProps) {
  const runId = run?.id ?? null;
  const faults = useSandboxFaults(profile.id, true);
  const inject = useInjectFault(profile.id, runId);
  const clear = useClearFault(profile.id, runId);
  const services = profile.services;
  const [kind, setKind] = useState<FaultKind>('badDeploy');
  const [service, setService] = useState(services[0] ?? 'gateway');
  const [status, setStatus] = useState<number>(500);
  const [target, setTarget] = useState(`service:${services[0] ?? 'gateway'}`);
  const [ms, setMs] = useState<number>(5000);
  const targets = [...services.map((s) => `service:${s}`), ...LATENCY_TARGETS];

  return (
    <Stack gap="md" component="section" aria-label="Rehearsal">
      <Text size="sm">
        Break the Local sandbox on purpose, then follow an emergency runbook to fix it. Nothing outside this computer
        is touched.
      </Text>
      <Text size="xs" c="dimmed">
        {run
          ? `Faults are recorded on the timeline of the open run “${run.title}”.`
          : 'Open a run to record the faults on its timeline.'}
      </Text>
      <Stack gap="xs">
        <NativeSelect
          label="Fault"
          value={kind}
          data={(Object.keys(FAULT_LABEL) as FaultKind[]).map((k) => ({ value: k, label: FAULT_LABEL[k] }))}
          onChange={(event) => {
            setKind(event.currentTarget.value as FaultKind);
          }}
        />
        {(kind === 'serviceDown' || kind === 'badDeploy' || kind === 'serviceErrors') && (
          <NativeSelect
            label="Service"
            value={service}
            data={services}
            onChange={(event) => {
              setService(event.currentTarget.value);
            }}
          />
        )}
        {kind === 'serviceErrors' && (
          <NumberInput
            label="HTTP status"
            description="400 to 599; 500 looks like a crash."
            min={400}
            max={599}
            value={status}
            onChange={(v) => {
              setStatus(typeof v === 'number' ? v : Number(v));
            }}
          />
        )}
        {kind === 'latency' && (
          <>
            <NativeSelect
              label="What answers slowly"
              value={target}
              data={targets}
              onChange={(event) => {
                setTarget(event.currentTarget.value);
              }}
            />
            <NumberInput
              label="Delay (ms)"
              description="At most 120000 (two minutes)."
              min={1}
              max={120_000}
              step={500}
              value={ms}
              onChange={(v) => {
                setMs(typeof v === 'number' ? v : Number(v));
              }}
            />
          </>
        )}
        <div>
          <Button
            color="orange.8"
            leftSection={<IconBolt size={16} aria-hidden />}
            loading={inject.isPending}
            onClick={() => {
              inject.mutate(buildFault(kind, service, status, target, ms));
            }}
          >
            Inject fault
          </Button>
        </div>
        {inject.isError && <ErrorNotice error={inject.error} context="Injecting the fault" />}
      </Stack>
      <section aria-label="Active faults">
        <Text fw={700} size="sm" mb={4}>
          Active faults
        </Text>
        {faults.isPending && <Loader size="xs" aria-label="Loading the sandbox's faults" />}
        {faults.isError && (
          <ErrorNotice
            error={faults.error}
            context="Reading the sandbox's faults"
            onRetry={() => {
              void faults.refetch();
            }}
          />
        )}
        {faults.isSuccess && faults.data.length === 0 && (
          <Text size="sm" c="dimmed">
            None: the sandbox is healthy.
          </Text>
        )}
        {faults.isSuccess && faults.data.length > 0 && (
          <Stack gap={6}>
            <ul className="sy-rb-list">
              {faults.data.map((f) => (
                <li key={f.target}>
                  <Group justify="space-between" wrap="nowrap" gap="xs">
                    <Text size="sm">{f.description}</Text>
                    <Button
                      size="compact-xs"
                      variant="default"
                      aria-label={`Clear fault: ${f.description}`}
                      loading={clear.isPending && clear.variables === f.target}
                      onClick={() => {
                        clear.mutate(f.target);
                      }}
                    >
                      Clear
                    </Button>
                  </Group>
                </li>
              ))}
            </ul>
            <div>
              <Button
                size="xs"
                variant="outline"
                leftSection={<IconEraser size={14} aria-hidden />}
                loading={clear.isPending && clear.variables === null}
                onClick={() => {
                  clear.mutate(null);
                }}
              >
                Clear all faults
              </Button>
            </div>
          </Stack>
        )}
        {clear.isError && <ErrorNotice error={clear.error} context="Clearing the fault" />}
      </section>
    </Stack>
  );
}
