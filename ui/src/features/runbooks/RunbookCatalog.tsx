import { Alert, Badge, Code, Group, List, Loader, Stack, Text, TextInput, UnstyledButton } from '@mantine/core';
import { IconAlertTriangle, IconFolder, IconSearch } from '@tabler/icons-react';
import { useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import type { RunbookProblem } from '../../ipc/types';
import { useRunbookCatalog } from '../../ipc/runbooks';
import { groupByCategory, matchesSearch, plainSummary } from './runModel';

function BrokenFiles({ problems }: { problems: RunbookProblem[] }) {
  if (problems.length === 0) {
    return null;
  }
  return (
    <Alert
      color="orange"
      variant="light"
      icon={<IconAlertTriangle aria-hidden />}
      title={problems.length === 1 ? 'One of your runbooks did not load' : `${problems.length} of your runbooks did not load`}
    >
      <Stack gap="xs">
        {problems.map((p) => (
          <div key={p.file}>
            <Text size="sm" fw={600} className="sy-rb-path">
              {p.file}
            </Text>
            <List size="sm" aria-label={`Mistakes in ${p.file}`}>
              {p.errors.map((e) => (
                <List.Item key={`${e.line}:${e.message}`}>{`Line ${e.line}: ${e.message}`}</List.Item>
              ))}
            </List>
          </div>
        ))}
        <Text size="xs">Fix the file and it appears in the list. The other runbooks are not affected.</Text>
      </Stack>
    </Alert>
  );
}

interface RunbookCatalogProps {
  selectedId: string | null;
  onSelect: (runbookId: string) => void;
  /** The data folder: user runbooks live in its runbooks/ folder. */
  dataDir: string | null;
}

/** Every runbook, grouped (emergencies first) and searchable; broken user files listed apart. */
export function RunbookCatalog({ selectedId, onSelect, dataDir }: RunbookCatalogProps) {
  const catalog = useRunbookCatalog();
  const [query, setQuery] = useState('');
  if (catalog.isPending) {
    return <Loader size="sm" aria-label="Loading runbooks" />;
  }
  if (catalog.isError) {
    return (
      <ErrorNotice
        error={catalog.error}
        context="Loading runbooks"
        onRetry={() => {
          void catalog.refetch();
        }}
      />
    );
  }
  const shown = catalog.data.runbooks.filter((r) => matchesSearch(r, query));
  const groups = groupByCategory(shown);
  const folder = dataDir ? `${dataDir.replace(/[\\/]$/, '')}/runbooks` : 'the runbooks folder of the data folder';
  return (
    <Stack gap="sm">
      <TextInput
        aria-label="Search runbooks"
        placeholder="Search runbooks (e.g. rollback, 404, database)"
        leftSection={<IconSearch size={16} aria-hidden />}
        value={query}
        onChange={(event) => {
          setQuery(event.currentTarget.value);
        }}
      />
      {groups.length === 0 && (
        <Text size="sm" c="dimmed">
          {`No runbook matches “${query}”.`}
        </Text>
      )}
      {groups.map(([category, runbooks]) => (
        <section key={category} aria-label={category} className="sy-rb-group">
          <Text size="xs" fw={700} tt="uppercase" c={category.toLowerCase().startsWith('emergency') ? 'red.8' : 'dimmed'} mb={4}>
            {category}
          </Text>
          <ul className="sy-rb-list">
            {runbooks.map((r) => (
              <li key={r.id}>
                <UnstyledButton
                  className="sy-rb-item"
                  data-selected={r.id === selectedId || undefined}
                  aria-current={r.id === selectedId ? 'true' : undefined}
                  aria-label={r.title}
                  onClick={() => {
                    onSelect(r.id);
                  }}
                >
                  <Group gap={6} wrap="nowrap" justify="space-between">
                    <Text size="sm" fw={600}>
                      {r.title}
                    </Text>
                    {r.origin !== 'builtIn' && (
                      <Badge size="xs" variant="light" color="grape" tt="none">
                        yours
                      </Badge>
                    )}
                  </Group>
                  <Text size="xs" c="dimmed" lineClamp={2}>
                    {plainSummary(r.summary)}
                  </Text>
                  {r.replaces && (
                    <Text size="xs" c="dimmed" fs="italic">
                      {`Runbook section: ${r.replaces}`}
                    </Text>
                  )}
                </UnstyledButton>
              </li>
            ))}
          </ul>
        </section>
      ))}
      <BrokenFiles problems={catalog.data.problems} />
      <Group gap={6} wrap="nowrap" align="flex-start">
        <IconFolder size={14} aria-hidden style={{ marginTop: 3, flexShrink: 0 }} />
        <Text size="xs" c="dimmed">
          Your own runbooks: Markdown files in <Code className="sy-rb-path">{folder}</Code>. They appear here when this
          area opens.
        </Text>
      </Group>
    </Stack>
  );
}
