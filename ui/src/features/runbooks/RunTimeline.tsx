import { Button, Collapse, Paper, Stack, Table, Text } from '@mantine/core';
import { IconChevronDown, IconChevronRight } from '@tabler/icons-react';
import { useState } from 'react';

import { formatLocalTime } from '../../components/time';
import type { RunDetail } from '../../ipc/types';

const KIND_WORD: Record<string, string> = {
  'run.started': 'Run started',
  'step.started': 'Started',
  'step.passed': 'Passed',
  'step.failed': 'Failed',
  'step.skipped': 'Skipped',
  'step.restored': 'Restored',
  'step.interrupted': 'Interrupted',
  'step.done': 'Marked done',
  'check.ticked': 'Check ticked',
  'check.unticked': 'Check unticked',
  note: 'Note',
  'fault.injected': 'Fault injected',
  'fault.cleared': 'Fault cleared',
  'run.finished': 'Run finished',
  'run.escalated': 'Run escalated',
  'run.abandoned': 'Run abandoned',
};

/** Everything that happened in the run, in order, with who and when. */
export function RunTimeline({ run }: { run: RunDetail }) {
  const [shown, setShown] = useState(false);
  const events = run.events;
  return (
    <Paper withBorder p="md" component="section" aria-label="Timeline">
      <Stack gap="sm">
        <div>
          <Button
            variant="subtle"
            size="compact-sm"
            leftSection={shown ? <IconChevronDown size={16} aria-hidden /> : <IconChevronRight size={16} aria-hidden />}
            aria-expanded={shown}
            onClick={() => {
              setShown((s) => !s);
            }}
          >
            {`${shown ? 'Hide' : 'Show'} timeline (${events.length} ${events.length === 1 ? 'event' : 'events'})`}
          </Button>
        </div>
        <Collapse in={shown}>
          {events.length === 0 ? (
            <Text size="sm" c="dimmed">
              Nothing has happened yet.
            </Text>
          ) : (
            <Table striped withTableBorder aria-label="Timeline of the run" className="sy-rb-timeline">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">When</Table.Th>
                  <Table.Th scope="col">Step</Table.Th>
                  <Table.Th scope="col">What</Table.Th>
                  <Table.Th scope="col">Who</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {events.map((e) => (
                  <Table.Tr key={e.seq ?? `${e.atMs}-${e.kind}`}>
                    <Table.Td className="sy-rb-nowrap">{e.atMs !== null ? formatLocalTime(e.atMs) : '—'}</Table.Td>
                    <Table.Td>{e.stepIndex !== null ? `${e.stepIndex + 1}. ${run.steps[e.stepIndex]?.title ?? ''}` : '—'}</Table.Td>
                    <Table.Td>
                      <Text span size="sm" fw={600}>
                        {KIND_WORD[e.kind] ?? e.kind}
                      </Text>
                      {e.message !== '' && <Text span size="sm">{` — ${e.message}`}</Text>}
                    </Table.Td>
                    <Table.Td>{e.by}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Collapse>
      </Stack>
    </Paper>
  );
}
