import { Button, Collapse, Paper, Stack, Text } from '@mantine/core';
import { IconChevronDown, IconChevronRight } from '@tabler/icons-react';
import { useMemo, useState } from 'react';

import { type DataColumn, DataTable } from '../../components/DataTable';

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

type RunEvent = RunDetail['events'][number];

const eventWhen = (e: RunEvent) => (e.atMs !== null ? formatLocalTime(e.atMs) : '—');
const eventStep = (run: RunDetail, e: RunEvent) =>
  e.stepIndex !== null ? `${e.stepIndex + 1}. ${run.steps[e.stepIndex]?.title ?? ''}` : '—';
const eventWhat = (e: RunEvent) => `${KIND_WORD[e.kind] ?? e.kind}${e.message !== '' ? ` — ${e.message}` : ''}`;
const eventId = (e: RunEvent, index: number) => (e.seq !== null ? String(e.seq) : `${e.atMs}-${e.kind}-${index}`);

function timelineColumns(run: RunDetail): DataColumn<RunEvent>[] {
  return [
    {
      id: 'when',
      header: 'When',
      accessorFn: (e) => e.atMs ?? 0,
      meta: { width: 190, cellClassName: 'sy-rb-nowrap' },
      cell: ({ row }) => eventWhen(row.original),
    },
    { id: 'step', header: 'Step', accessorFn: (e) => e.stepIndex ?? -1, cell: ({ row }) => eventStep(run, row.original) },
    {
      id: 'what',
      header: 'What',
      cell: ({ row: { original: e } }) => (
        <>
          <Text span size="sm" fw={600}>
            {KIND_WORD[e.kind] ?? e.kind}
          </Text>
          {e.message !== '' && <Text span size="sm">{` — ${e.message}`}</Text>}
        </>
      ),
    },
    { id: 'who', header: 'Who', accessorFn: (e) => e.by, meta: { width: 140 }, cell: ({ row }) => row.original.by },
  ];
}

/** Everything that happened in the run, in order, with who and when. */
export function RunTimeline({ run }: { run: RunDetail }) {
  const [shown, setShown] = useState(false);
  const events = run.events;
  const columns = useMemo(() => timelineColumns(run), [run]);
  const copyText = useMemo(
    () => (e: RunEvent) => [eventWhen(e), eventStep(run, e), eventWhat(e), e.by].join('\t'),
    [run],
  );
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
            <DataTable
              label="Timeline of the run"
              rows={events}
              columns={columns}
              rowId={eventId}
              copyText={copyText}
              className="sy-rb-timeline"
              verticalSpacing={6}
              wrapCells
              virtual={false}
            />
          )}
        </Collapse>
      </Stack>
    </Paper>
  );
}
