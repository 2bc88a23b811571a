import { Button, Group, Loader, NumberInput, Stack, Text } from '@mantine/core';
import { type SyntheticEvent, useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import { AUTO_SYNC_MAX, AUTO_SYNC_MIN, useHistoryAutoSync, useSetHistoryAutoSync } from '../../ipc/history';

export const AUTO_SYNC_LABEL = 'Sync history automatically when older than N minutes';

export const AUTO_SYNC_ERROR = `Automatic history sync (N): enter a whole number of minutes from ${AUTO_SYNC_MIN} to ${AUTO_SYNC_MAX}.`;

function isValid(value: string | number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= AUTO_SYNC_MIN && value <= AUTO_SYNC_MAX;
}

function savedText(minutes: number): string {
  return minutes === 0
    ? 'Saved: history is synced only when you press Sync history.'
    : `Saved: Deployments syncs history by itself when it was never synced or is older than ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`;
}

/** How old the cached history may get before the Deployments area syncs it by itself (0: never). */
export function HistorySyncSetting() {
  const current = useHistoryAutoSync();
  const save = useSetHistoryAutoSync();
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

  if (current.isPending) {
    return (
      <Group gap="xs" mt="md">
        <Loader size="sm" aria-hidden />
        <Text size="sm">Loading the history sync setting…</Text>
      </Group>
    );
  }
  if (current.isError) {
    return (
      <ErrorNotice
        error={current.error}
        context="Loading the history sync setting"
        onRetry={() => {
          void current.refetch();
        }}
      />
    );
  }
  return (
    <form onSubmit={onSubmit} noValidate aria-label="Automatic history sync">
      <Stack gap="sm" maw={620} mt="md">
        <NumberInput
          label={AUTO_SYNC_LABEL}
          description={`Minutes, ${AUTO_SYNC_MIN} to ${AUTO_SYNC_MAX} (a week); 0 never syncs by itself. A profile whose history was never synced is synced the first time Deployments opens on it.`}
          min={AUTO_SYNC_MIN}
          max={AUTO_SYNC_MAX}
          clampBehavior="none"
          allowDecimal={false}
          allowNegative={false}
          value={value}
          error={typed !== null && !valid ? AUTO_SYNC_ERROR : undefined}
          onChange={(next) => {
            setTyped(next);
            setSaved(null);
            save.reset();
          }}
          styles={{ wrapper: { maxWidth: 180 } }}
        />
        <Group gap="sm">
          <Button type="submit" disabled={!valid || !changed} loading={save.isPending}>
            Save automatic sync
          </Button>
          {saved !== null && (
            <Text size="sm" role="status">
              {savedText(saved)}
            </Text>
          )}
        </Group>
        {save.isError && <ErrorNotice error={save.error} context="Saving the history sync setting" />}
      </Stack>
    </form>
  );
}
