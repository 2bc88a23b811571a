import { Button, Group, Loader, NumberInput, Paper, Stack, Text, Title } from '@mantine/core';
import { type SyntheticEvent, useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import {
  CORRELATION_WINDOW_MAX,
  CORRELATION_WINDOW_MIN,
  useCorrelationWindow,
  useSetCorrelationWindow,
} from '../../ipc/health';

export const CORRELATION_LABEL =
  'Health: name a deployment as the likely cause when a service fails within N minutes of it';

export const CORRELATION_ERROR = `Health correlation window (N): enter a whole number of minutes from ${CORRELATION_WINDOW_MIN} to ${CORRELATION_WINDOW_MAX}.`;

function isValid(value: string | number): value is number {
  return (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= CORRELATION_WINDOW_MIN &&
    value <= CORRELATION_WINDOW_MAX
  );
}

/** The health ↔ deployment correlation window (how long after a deployment a failure is blamed on it). */
export function HealthSettings() {
  const current = useCorrelationWindow();
  const save = useSetCorrelationWindow();
  /** What was typed; null while untouched (the saved value shows). */
  const [typed, setTyped] = useState<string | number | null>(null);
  const [saved, setSaved] = useState<number | null>(null);
  const value = typed ?? current.data ?? '';
  const valid = isValid(value);
  const changed = typed !== null && value !== current.data;

  const onSubmit = (event: SyntheticEvent) => {
    event.preventDefault();
    if (!isValid(value)) {
      return;
    }
    const minutes = value;
    save.mutate(minutes, {
      onSuccess: () => {
        setTyped(null);
        setSaved(minutes);
      },
    });
  };

  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="sy-health-settings">
      <Title order={2} size="h4" mb="sm" id="sy-health-settings">
        Health
      </Title>
      {current.isPending && (
        <Group gap="xs">
          <Loader size="sm" aria-hidden />
          <Text size="sm">Loading the health settings…</Text>
        </Group>
      )}
      {current.isError && (
        <ErrorNotice
          error={current.error}
          context="Loading the correlation window"
          onRetry={() => {
            void current.refetch();
          }}
        />
      )}
      {current.isSuccess && (
        <form onSubmit={onSubmit} noValidate>
          <Stack gap="sm" maw={620}>
            <NumberInput
              label={CORRELATION_LABEL}
              description={`Minutes, ${CORRELATION_WINDOW_MIN} to ${CORRELATION_WINDOW_MAX} (24 hours). Health then names that deployment, with Roll back and Logs buttons. The next health check uses it.`}
              min={CORRELATION_WINDOW_MIN}
              max={CORRELATION_WINDOW_MAX}
              clampBehavior="none"
              allowDecimal={false}
              allowNegative={false}
              value={value}
              error={typed !== null && !valid ? CORRELATION_ERROR : undefined}
              onChange={(next) => {
                setTyped(next);
                setSaved(null);
                save.reset();
              }}
              styles={{ wrapper: { maxWidth: 180 } }}
            />
            <Group gap="sm">
              <Button type="submit" disabled={!valid || !changed} loading={save.isPending}>
                Save correlation window
              </Button>
              {saved !== null && (
                <Text size="sm" role="status">
                  {`Saved: a deployment up to ${saved} ${saved === 1 ? 'minute' : 'minutes'} before a service starts failing is named as the likely cause.`}
                </Text>
              )}
            </Group>
            {save.isError && <ErrorNotice error={save.error} context="Saving the correlation window" />}
          </Stack>
        </form>
      )}
    </Paper>
  );
}
