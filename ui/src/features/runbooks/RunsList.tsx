import { Badge, Group, Loader, Stack, Text, UnstyledButton } from '@mantine/core';

import { ErrorNotice } from '../../components/ErrorNotice';
import { formatLocalTime } from '../../components/time';
import type { ProfileSummary, RunSummary } from '../../ipc/types';
import { useRuns } from '../../ipc/runbooks';
import { progressText, RUN_STATE_WORD, runStateColor } from './runModel';

function RunItem({
  run,
  profileName,
  selected,
  onOpen,
}: {
  run: RunSummary;
  profileName: string;
  selected: boolean;
  onOpen: () => void;
}) {
  const when = run.startedMs !== null ? formatLocalTime(run.startedMs) : '';
  return (
    <li>
      <UnstyledButton
        className="sy-rb-item"
        data-selected={selected || undefined}
        aria-current={selected ? 'true' : undefined}
        aria-label={`${run.title}, ${RUN_STATE_WORD[run.state]}, started ${when}`}
        onClick={onOpen}
      >
        <Group gap={6} wrap="nowrap" justify="space-between">
          <Text size="sm" fw={600}>
            {run.title}
          </Text>
          <Group gap={4} wrap="nowrap">
            {run.rehearsal && (
              <Badge size="xs" color="grape.8" variant="filled" tt="none">
                rehearsal
              </Badge>
            )}
            {run.progress.interrupted > 0 && (
              <Badge size="xs" color="orange.8" variant="filled" tt="none">
                interrupted
              </Badge>
            )}
            {run.state !== 'running' && (
              <Badge size="xs" color={runStateColor(run.state)} variant="light" tt="none">
                {RUN_STATE_WORD[run.state]}
              </Badge>
            )}
          </Group>
        </Group>
        <Text size="xs" c="dimmed">{`${profileName} · ${when} · ${run.startedBy}`}</Text>
        <Text size="xs">{progressText(run.progress)}</Text>
      </UnstyledButton>
    </li>
  );
}

interface RunsListProps {
  profiles: readonly ProfileSummary[];
  selectedId: string | null;
  onOpen: (runId: string) => void;
}

/** Open runs (to resume) and finished ones (to read and report), newest first. */
export function RunsList({ profiles, selectedId, onOpen }: RunsListProps) {
  const runs = useRuns();
  if (runs.isPending) {
    return <Loader size="sm" aria-label="Loading runs" />;
  }
  if (runs.isError) {
    return (
      <ErrorNotice
        error={runs.error}
        context="Loading runs"
        onRetry={() => {
          void runs.refetch();
        }}
      />
    );
  }
  const name = (id: string) => profiles.find((p) => p.id === id)?.name ?? id;
  const open = runs.data.filter((r) => r.state === 'running');
  const closed = runs.data.filter((r) => r.state !== 'running');
  const list = (items: RunSummary[]) => (
    <ul className="sy-rb-list">
      {items.map((r) => (
        <RunItem
          key={r.id}
          run={r}
          profileName={name(r.profileId)}
          selected={r.id === selectedId}
          onOpen={() => {
            onOpen(r.id);
          }}
        />
      ))}
    </ul>
  );
  return (
    <Stack gap="md">
      <section aria-label="Open runs">
        <Text size="xs" fw={700} tt="uppercase" c="dimmed" mb={4}>
          {`Open (${open.length})`}
        </Text>
        {open.length === 0 ? (
          <Text size="sm" c="dimmed">
            No run is open. Pick a runbook and start one.
          </Text>
        ) : (
          list(open)
        )}
      </section>
      <section aria-label="Finished runs">
        <Text size="xs" fw={700} tt="uppercase" c="dimmed" mb={4}>
          {`Ended: finished, escalated or abandoned (${closed.length})`}
        </Text>
        {closed.length === 0 ? (
          <Text size="sm" c="dimmed">
            Finished runs stay here with their incident report.
          </Text>
        ) : (
          list(closed)
        )}
      </section>
    </Stack>
  );
}
