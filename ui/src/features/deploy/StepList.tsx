import { Badge, Box, Code, Group, List, Loader, ScrollArea, Stack, Text, ThemeIcon } from '@mantine/core';
import { IconCheck, IconCircleDashed, IconPlayerSkipForward, IconX } from '@tabler/icons-react';
import { useEffect, useRef } from 'react';

import type { StepState } from '../../ipc/bindings';
import { type CheckView, type Progress, STEP_LABEL, type StepView } from './progress';

const STATE_WORD: Record<StepState, string> = {
  pending: 'waiting',
  running: 'running',
  passed: 'done',
  failed: 'failed',
  skipped: 'skipped',
};

function StateIcon({ state }: { state: StepState }) {
  switch (state) {
    case 'running':
      return <Loader size={18} aria-hidden />;
    case 'passed':
      return (
        <ThemeIcon size={20} radius="xl" color="green.8" aria-hidden>
          <IconCheck size={14} />
        </ThemeIcon>
      );
    case 'failed':
      return (
        <ThemeIcon size={20} radius="xl" color="red.8" aria-hidden>
          <IconX size={14} />
        </ThemeIcon>
      );
    case 'skipped':
      return (
        <ThemeIcon size={20} radius="xl" color="gray.6" variant="light" aria-hidden>
          <IconPlayerSkipForward size={14} />
        </ThemeIcon>
      );
    case 'pending':
      return (
        <ThemeIcon size={20} radius="xl" color="gray.5" variant="outline" aria-hidden>
          <IconCircleDashed size={14} />
        </ThemeIcon>
      );
  }
}

/** The live output of a step, kept scrolled to the newest line while it runs. */
function Output({ view, label }: { view: StepView; label: string }) {
  const viewport = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = viewport.current;
    if (el && view.state === 'running') {
      el.scrollTop = el.scrollHeight;
    }
  }, [view.lines.length, view.state]);
  if (view.lines.length === 0) {
    return null;
  }
  return (
    <ScrollArea.Autosize mah={220} viewportRef={viewport} type="auto" className="sy-step-output">
      <Code block aria-label={`Output of ${label}`}>
        {view.dropped > 0 ? `… ${view.dropped} earlier lines not shown\n` : ''}
        {view.lines.map((l) => (l.stream === 'stderr' ? `! ${l.line}` : l.line)).join('\n')}
      </Code>
    </ScrollArea.Autosize>
  );
}

function Checks({ checks }: { checks: CheckView[] }) {
  return (
    <List spacing={4} size="sm" aria-label="Preflight checks" listStyleType="none">
      {checks.map((c) => (
        <List.Item key={c.id} icon={<StateIcon state={c.state} />}>
          <Text size="sm" span fw={600}>
            {c.label}
          </Text>
          <Text size="sm" span>
            {`: ${c.detail}`}
          </Text>
          {c.error && c.error !== c.detail && (
            <Text size="sm" c="red.8">
              {c.error}
            </Text>
          )}
        </List.Item>
      ))}
    </List>
  );
}

/** Every step of a deploy or rollback with its state, detail and output, as they happen. */
export function StepList({ progress, title }: { progress: Progress; title: string }) {
  if (progress.order.length === 0) {
    return null;
  }
  return (
    <Stack gap="xs" component="section" aria-label={title}>
      <Text fw={700}>{title}</Text>
      <ol className="sy-steps">
        {progress.order.map((step) => {
          const view = progress.steps[step];
          if (!view) {
            return null;
          }
          const label = STEP_LABEL[step];
          return (
            <li key={step} data-state={view.state} aria-label={`${label}: ${STATE_WORD[view.state]}`}>
              <Group gap="sm" wrap="nowrap" align="flex-start">
                <Box pt={2}>
                  <StateIcon state={view.state} />
                </Box>
                <Stack gap={4} style={{ flex: 1, minWidth: 0 }}>
                  <Group gap="xs">
                    <Text fw={600} size="sm">
                      {label}
                    </Text>
                    <Badge size="xs" variant="light" color={view.state === 'failed' ? 'red' : 'gray'} tt="none">
                      {STATE_WORD[view.state]}
                    </Badge>
                  </Group>
                  {view.detail && (
                    <Text size="sm" c={view.state === 'failed' ? 'red.8' : undefined}>
                      {view.detail}
                    </Text>
                  )}
                  {step === 'preflight' && progress.checks.length > 0 && <Checks checks={progress.checks} />}
                  <Output view={view} label={label} />
                </Stack>
              </Group>
            </li>
          );
        })}
      </ol>
    </Stack>
  );
}
