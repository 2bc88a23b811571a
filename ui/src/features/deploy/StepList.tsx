import { Badge, Box, Code, Group, List, ScrollArea, Stack, Text } from '@mantine/core';
import { type ReactNode, useEffect, useRef } from 'react';

import { StepStateIcon as StateIcon } from '../../components/StepStateIcon';
import type { DeployStepId, StepState } from '../../ipc/types';
import { type CheckView, type Progress, STEP_LABEL, type StepView } from './progress';

const STATE_WORD: Record<StepState, string> = {
  pending: 'waiting',
  running: 'running',
  passed: 'done',
  failed: 'failed',
  skipped: 'skipped',
};

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
export function StepList({
  progress,
  title,
  labels,
  actions,
  follow = false,
}: {
  progress: Progress;
  title: string;
  /** Step names that read better for this run than the usual ones. */
  labels?: Partial<Record<DeployStepId, string>>;
  /** Shown beside the title (e.g. the run's Cancel button). */
  actions?: ReactNode;
  /** Keep the running step (and its output, once there is some) in view while the run goes on. */
  follow?: boolean;
}) {
  const list = useRef<HTMLOListElement>(null);
  const running = progress.order.find((s) => progress.steps[s]?.state === 'running') ?? null;
  const runningHasOutput = running !== null && (progress.steps[running]?.lines.length ?? 0) > 0;
  useEffect(() => {
    if (follow && running !== null) {
      list.current?.querySelector(`li[data-step="${running}"]`)?.scrollIntoView({ block: 'center' });
    }
  }, [follow, running, runningHasOutput]);
  if (progress.order.length === 0 && !actions) {
    return null;
  }
  return (
    <Stack gap="xs" component="section" aria-label={title}>
      <Group justify="space-between" gap="sm">
        <Text fw={700}>{title}</Text>
        {actions}
      </Group>
      <ol className="sy-steps" ref={list}>
        {progress.order.map((step) => {
          const view = progress.steps[step];
          if (!view) {
            return null;
          }
          const label = labels?.[step] ?? STEP_LABEL[step];
          return (
            <li key={step} data-step={step} data-state={view.state} aria-label={`${label}: ${STATE_WORD[view.state]}`}>
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
