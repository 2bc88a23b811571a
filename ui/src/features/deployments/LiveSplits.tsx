import { Badge, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';

import { shortHash } from '../../components/format';
import { commands } from '../../ipc/bindings';
import type { AppError, Environment, LiveSplit as LiveSplit } from '../../ipc/types';
import { callCommand } from '../../ipc/errors';

/**
 * History knows versions: the services whose traffic is split between two versions right now
 * (a staged rollout in progress, or one left at a split), with each version's share. Shown only
 * when some service is split; the history below says the rest.
 */
export function LiveSplits({ profileId, environment }: { profileId: string; environment: Environment }) {
  const splits = useQuery<LiveSplit[], AppError>({
    queryKey: ['liveSplits', profileId, environment],
    queryFn: () => callCommand(() => commands.liveSplits(profileId, environment)),
    refetchInterval: 10_000,
  });
  const split = (splits.data ?? []).filter((s) => s.versions.length > 1);
  if (split.length === 0) {
    return null;
  }
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="sy-live-splits">
      <Stack gap={6}>
        <Title order={2} size="h5" id="sy-live-splits">
          {`Traffic split now in ${environment}`}
        </Title>
        {split.map((s) => (
          <Group key={s.service} gap="xs" wrap="wrap" aria-label={`${s.service}: split between ${s.versions.length} versions`} role="group">
            <Text size="sm" fw={600} miw={90}>
              {s.service}
            </Text>
            {s.versions.map((v) => (
              <Badge key={v.versionId} variant="light" tt="none" color={v.message?.startsWith('Staged rollout') ? 'teal' : 'gray'}>
                {`${v.percentage} % · version ${shortHash(v.versionId)}${v.message ? ` · ${v.message}` : ''}`}
              </Badge>
            ))}
          </Group>
        ))}
      </Stack>
    </Paper>
  );
}
