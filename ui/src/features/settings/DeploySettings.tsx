import { Alert, Button, Group, Loader, NumberInput, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type SyntheticEvent, useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import { formatBytes } from '../../components/format';
import { commands } from '../../ipc/bindings';
import type { AppError, DeploySettings, RetentionReport } from '../../ipc/types';
import { callCommand } from '../../ipc/errors';
import { HistorySyncSetting } from './HistorySyncSetting';
import { ProjectFolders } from './ProjectFolders';

const MIB = 1024 * 1024;

type Key = keyof DeploySettings;

/** One setting as the form shows it: in a unit people think in, converted to the engine's. */
interface Field {
  key: Key;
  label: string;
  description: string;
  /** Engine units per displayed unit (bytes per MiB, ms per second, 1). */
  scale: number;
  /** Decimals the field accepts (0: whole numbers only). */
  decimals: number;
  min: number;
  max?: number;
  step?: number;
  /** Said when the field is left empty. */
  unit: string;
}

export const DEPLOY_FIELDS: readonly Field[] = [
  {
    key: 'keepPerService',
    label: 'Bundles kept per service and environment',
    description:
      'Archived bundles (newest first) kept for each profile, service and environment, for rollback and restore. The deployed, pinned and newest bundle of each are always kept. At least 1. Default 10.',
    scale: 1,
    decimals: 0,
    min: 1,
    unit: 'bundles',
  },
  {
    key: 'maxArchiveBytes',
    label: 'Archive size cap (MiB)',
    description:
      'The most disk space all archived bundles may take; over it, the least recently used unprotected bundles are removed first. At least 1 MiB. Default 512 MiB.',
    scale: MIB,
    decimals: 2,
    min: 1,
    unit: 'MiB',
  },
  {
    key: 'healthWaitMs',
    label: 'Health wait after a deploy (seconds)',
    description:
      "How long verification keeps probing the service's /health for a 200 before that check fails. At most 600 seconds (10 minutes). Default 30 seconds.",
    scale: 1000,
    decimals: 3,
    min: 0,
    max: 600,
    unit: 'seconds',
  },
  {
    key: 'healthPollMs',
    label: 'Pause between health probes (seconds)',
    description: 'How long verification waits after a /health probe that failed before the next one. 0.1 to 60 seconds. Default 1 second.',
    scale: 1000,
    decimals: 3,
    min: 0.1,
    max: 60,
    step: 0.5,
    unit: 'seconds',
  },
  {
    key: 'bundleSizeLimitBytes',
    label: 'Largest bundle accepted (MiB)',
    description:
      "The preflight refuses a bigger bundle before anything is deployed. Up to 100 MiB. Default 10 MiB, the Workers Paid limit; the Local sandbox refuses scripts over 10 MiB whatever is set here.",
    scale: MIB,
    decimals: 2,
    min: 0,
    max: 100,
    unit: 'MiB',
  },
  {
    key: 'promoteSoakMinutes',
    label: 'Promote soak time (minutes)',
    description:
      'A promote of a version that has run for less than this in the environment it comes from shows a warning before it goes ahead. 0 turns the warning off. Default 30 minutes.',
    scale: 1,
    decimals: 0,
    min: 0,
    unit: 'minutes',
  },
];

const deploySettingsKey = ['settings', 'deploy'] as const;

type Typed = Partial<Record<Key, string | number>>;

/** The value a field shows for the engine's, in the field's unit. */
function shown(field: Field, raw: number | null): number | '' {
  return raw === null ? '' : Number((raw / field.scale).toFixed(field.decimals));
}

/** The engine's value for what was typed, or null when it is not a number. */
function toRaw(field: Field, value: string | number): number | null {
  const n = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  return Number.isFinite(n) ? Math.round(n * field.scale) : null;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "Kept 12 bundles (4 protected); pruned 3 (freed 1.2 MiB). The archive now takes 40.0 MiB." */
export function retentionSummary(report: RetentionReport): string {
  const pruned = report.pruned.length;
  const kept = `Kept ${plural(report.kept, 'bundle', 'bundles')} (${report.protected} protected)`;
  const freed = report.freedBytes !== null ? ` (freed ${formatBytes(report.freedBytes)})` : '';
  const removed = pruned === 0 ? 'nothing pruned' : `pruned ${pruned}${freed}`;
  const total = report.totalBytes !== null ? ` The archive now takes ${formatBytes(report.totalBytes)}.` : '';
  return `${kept}; ${removed}.${total}`;
}

/** App-wide deploy settings: bundle archive retention, health verification, size limit, promote soak. */
export function DeploySettings() {
  const client = useQueryClient();
  const current = useQuery<DeploySettings, AppError>({
    queryKey: deploySettingsKey,
    queryFn: () => callCommand(() => commands.deploySettings()),
    staleTime: Infinity,
  });
  const save = useMutation<RetentionReport, AppError, DeploySettings>({
    mutationFn: (settings) => callCommand(() => commands.setDeploySettings(settings)),
    onSuccess: (_report, settings) => {
      client.setQueryData<DeploySettings>(deploySettingsKey, (before) => before && { ...before, ...settings });
      // Retention may have removed archived bundles that history, rollback and restore show.
      void client.invalidateQueries({ queryKey: ['deploy'] });
    },
  });
  /** What was typed per field; absent while untouched (the saved value shows). */
  const [typed, setTyped] = useState<Typed>({});
  const [report, setReport] = useState<RetentionReport | null>(null);

  const saved = current.data;
  const raws = DEPLOY_FIELDS.map((field) => {
    const t = typed[field.key];
    return t === undefined ? (saved?.[field.key] ?? null) : toRaw(field, t);
  });
  const incomplete = DEPLOY_FIELDS.some((field, i) => typed[field.key] !== undefined && raws[i] === null);
  const changed = saved !== undefined && DEPLOY_FIELDS.some((field, i) => raws[i] !== saved[field.key]);

  const onSubmit = (event: SyntheticEvent) => {
    event.preventDefault();
    if (incomplete || !changed) {
      return;
    }
    const settings: DeploySettings = {};
    DEPLOY_FIELDS.forEach((field, i) => {
      const raw = raws[i];
      // A value the engine did not give (and nobody typed) is left out: the engine uses its default.
      if (raw !== null && raw !== undefined) {
        settings[field.key] = raw;
      }
    });
    save.mutate(settings, {
      onSuccess: (done) => {
        setTyped({});
        setReport(done);
      },
    });
  };

  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="sy-deploy-settings">
      <Title order={2} size="h4" mb={4} id="sy-deploy-settings">
        Deploys
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        For every profile. Saving also tidies the bundle archive with the new retention settings.
      </Text>
      {current.isPending && (
        <Group gap="xs">
          <Loader size="sm" aria-hidden />
          <Text size="sm">Loading the deploy settings…</Text>
        </Group>
      )}
      {current.isError && (
        <ErrorNotice
          error={current.error}
          context="Loading the deploy settings"
          onRetry={() => {
            void current.refetch();
          }}
        />
      )}
      {current.isSuccess && (
        <form onSubmit={onSubmit} noValidate>
          <Stack gap="sm">
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md" verticalSpacing="sm">
              {DEPLOY_FIELDS.map((field, i) => {
                const t = typed[field.key];
                return (
                  <NumberInput
                    key={field.key}
                    label={field.label}
                    description={field.description}
                    min={field.min}
                    max={field.max}
                    step={field.step}
                    clampBehavior="none"
                    allowNegative={false}
                    allowDecimal={field.decimals > 0}
                    decimalScale={field.decimals > 0 ? field.decimals : undefined}
                    value={t ?? shown(field, current.data[field.key] ?? null)}
                    error={t !== undefined && raws[i] === null ? `Enter a number of ${field.unit}.` : undefined}
                    onChange={(next) => {
                      setTyped((before) => ({ ...before, [field.key]: next }));
                      setReport(null);
                      save.reset();
                    }}
                    styles={{ wrapper: { maxWidth: 180 } }}
                  />
                );
              })}
            </SimpleGrid>
            <Group gap="sm">
              <Button type="submit" disabled={incomplete || !changed} loading={save.isPending}>
                Save deploy settings
              </Button>
            </Group>
            {report && (
              <Stack gap={6}>
                <Text size="sm" role="status" aria-label="Bundle archive retention">
                  {`Saved. ${retentionSummary(report)}`}
                </Text>
                {report.overCap && (
                  <Alert color="yellow" variant="light" title="The archive is still over its size cap">
                    The bundles that are always kept (deployed now, pinned, or the newest of their service and
                    environment) take more than the cap on their own, so nothing more could be removed. Raise the cap
                    if the disk space is not a concern.
                  </Alert>
                )}
              </Stack>
            )}
            {save.isError && <ErrorNotice error={save.error} context="Saving the deploy settings" />}
          </Stack>
        </form>
      )}
      <HistorySyncSetting />
      <ProjectFolders />
    </Paper>
  );
}
