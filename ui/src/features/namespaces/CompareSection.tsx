import { Button, Code, Group, List, NativeSelect, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { IconArrowsDiff } from '@tabler/icons-react';
import { type SyntheticEvent, useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import type { Drift, NamespaceSummary, WorkerRevision } from '../../ipc/types';
import { useCompareNamespaces } from '../../ipc/namespaces';

/** Which two namespaces to compare first: production against staging when both exist. */
export function defaultPair(names: readonly string[]): [string, string] {
  const left = names.includes('dotdo-production') ? 'dotdo-production' : (names[0] ?? '');
  const right = names.includes('dotdo-staging')
    ? 'dotdo-staging'
    : (names.find((n) => n !== left) ?? left);
  return [left, right];
}

/** "v1.2.3 / abc1234" (either may be missing). */
export function revisionText(r: WorkerRevision): string {
  const version = r.version ?? 'no version';
  const commit = r.commit ? r.commit.slice(0, 7) : 'no commit';
  return `${version} / ${commit}`;
}

function NameList({ title, names, empty }: { title: string; names: readonly string[]; empty: string }) {
  const id = `sy-drift-${title.replace(/\W+/g, '-')}`;
  return (
    <div>
      <Title order={3} size="h5" id={id} mb={4}>
        {title}
      </Title>
      {names.length === 0 ? (
        <Text size="sm" c="dimmed">
          {empty}
        </Text>
      ) : (
        <List size="sm" aria-labelledby={id}>
          {names.map((n) => (
            <List.Item key={n}>
              <Code>{n}</Code>
            </List.Item>
          ))}
        </List>
      )}
    </div>
  );
}

function DriftView({ drift }: { drift: Drift }) {
  return (
    <Stack gap="md">
      <SimpleGrid cols={{ base: 1, md: 3 }} spacing="lg">
        <NameList title={`Only in ${drift.left}`} names={drift.onlyLeft} empty={`Nothing is only in ${drift.left}.`} />
        <NameList
          title={`Only in ${drift.right}`}
          names={drift.onlyRight}
          empty={`Nothing is only in ${drift.right}.`}
        />
        <div>
          <Title order={3} size="h5" id="sy-drift-different" mb={4}>
            Different versions
          </Title>
          {drift.differing.length === 0 ? (
            <Text size="sm" c="dimmed">
              No worker runs different builds in the two.
            </Text>
          ) : (
            <List size="sm" aria-labelledby="sy-drift-different">
              {drift.differing.map((d) => (
                <List.Item key={d.name}>
                  <Code>{d.name}</Code>: {revisionText(d.left)} → {revisionText(d.right)}
                </List.Item>
              ))}
            </List>
          )}
        </div>
      </SimpleGrid>
      <Text size="sm" fw={600}>{`${drift.same} the same`}</Text>
    </Stack>
  );
}

/** Which workers differ between two namespaces, by name and by the build their tags say they run. */
export function CompareSection({ profileId, namespaces }: { profileId: string; namespaces: readonly NamespaceSummary[] }) {
  const names = namespaces.map((n) => n.name);
  const [defaultLeft, defaultRight] = defaultPair(names);
  const [left, setLeft] = useState<string | null>(null);
  const [right, setRight] = useState<string | null>(null);
  const compare = useCompareNamespaces(profileId);
  // Until chosen, a side follows the default (and forgets a namespace that went away).
  const leftName = left !== null && names.includes(left) ? left : defaultLeft;
  const rightName = right !== null && names.includes(right) ? right : defaultRight;

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    compare.mutate({ left: leftName, right: rightName });
  };

  return (
    <Paper withBorder p="lg" radius="md" component="section" aria-labelledby="sy-compare-heading">
      <Stack gap="md">
        <Title order={2} id="sy-compare-heading">
          Compare namespaces
        </Title>
        {names.length < 2 ? (
          <Text size="sm">
            Comparing needs two namespaces; this account has {names.length}. Create another with “Create namespace”.
          </Text>
        ) : (
          <form onSubmit={submit}>
            <Group align="flex-end" gap="md" wrap="wrap">
              <NativeSelect
                label="Left namespace"
                data={names}
                value={leftName}
                onChange={(event) => {
                  setLeft(event.currentTarget.value);
                }}
                w={240}
              />
              <NativeSelect
                label="Right namespace"
                data={names}
                value={rightName}
                onChange={(event) => {
                  setRight(event.currentTarget.value);
                }}
                w={240}
              />
              <Button
                type="submit"
                leftSection={<IconArrowsDiff size={16} aria-hidden />}
                loading={compare.isPending}
                disabled={leftName === rightName}
              >
                Compare
              </Button>
            </Group>
            {leftName === rightName && (
              <Text size="sm" mt="xs">
                Choose two different namespaces.
              </Text>
            )}
          </form>
        )}
        {compare.isError && <ErrorNotice error={compare.error} context="Comparing the namespaces" />}
        {compare.data && <DriftView drift={compare.data} />}
      </Stack>
    </Paper>
  );
}
