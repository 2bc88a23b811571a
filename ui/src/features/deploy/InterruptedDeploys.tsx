import { Alert, Button, Group, Stack, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { ErrorNotice } from '../../components/ErrorNotice';
import { formatLocalTime } from '../../components/time';
import { commands } from '../../ipc/bindings';
import type { AppError, InterruptedDeploy as InterruptedDeploy } from '../../ipc/types';
import { deployKeys } from '../../ipc/deploy';
import { callCommand } from '../../ipc/errors';

const TITLE: Record<string, string> = {
  completed: 'reached the platform',
  not_deployed: 'was not deployed',
  unknown: 'may or may not have reached the platform',
};

const COLOR: Record<string, string> = {
  completed: 'blue',
  not_deployed: 'gray',
  unknown: 'orange',
};

const KIND: Record<string, string> = {
  deploy: 'Deploy',
  rollback: 'Restore',
  direct: 'Direct deploy',
};

/**
 * Deploys Switchyard was doing when it stopped (a crash, a kill), as the engine reconciled them
 * with the platform: what happened and what to do, until the operator dismisses each.
 */
export function InterruptedDeploys({ profileId }: { profileId: string }) {
  const client = useQueryClient();
  const key = [...deployKeys.all(profileId), 'interrupted'] as const;
  const list = useQuery<InterruptedDeploy[], AppError>({
    queryKey: key,
    queryFn: () => callCommand(() => commands.interruptedDeploys(profileId)),
  });
  const dismiss = useMutation<boolean, AppError, string>({
    mutationFn: (runId) => callCommand(() => commands.dismissInterruptedDeploy(runId)),
    onSuccess: () => client.invalidateQueries({ queryKey: key }),
  });
  if (list.isError) {
    return <ErrorNotice error={list.error} context="Reading the deploys cut off by the last stop" />;
  }
  if (!list.data || list.data.length === 0) {
    return null;
  }
  return (
    <Stack gap="xs" component="section" aria-label="Deploys cut off when Switchyard stopped">
      {list.data.map((d) => (
        <Alert
          key={d.runId}
          color={COLOR[d.resolution] ?? 'orange'}
          variant="light"
          title={`${KIND[d.kind] ?? 'Deploy'} of ${d.service} to ${d.environment} ${TITLE[d.resolution] ?? ''} (cut off when Switchyard stopped${d.startedMs !== null ? `, ${formatLocalTime(d.startedMs)}` : ''})`}
        >
          <Group justify="space-between" align="flex-start" wrap="nowrap">
            <Text size="sm">{d.detail}</Text>
            <Button
              size="xs"
              variant="default"
              loading={dismiss.isPending && dismiss.variables === d.runId}
              onClick={() => {
                dismiss.mutate(d.runId);
              }}
              aria-label={`Dismiss the notice about the ${d.service} ${d.environment} deploy`}
            >
              Dismiss
            </Button>
          </Group>
        </Alert>
      ))}
      {dismiss.isError && <ErrorNotice error={dismiss.error} context="Dismissing the notice" />}
    </Stack>
  );
}
