import { Button, Checkbox, CopyButton, Group, Paper, Stack, Text, Textarea, Title } from '@mantine/core';
import { IconCheck, IconCopy, IconDownload, IconUpload } from '@tabler/icons-react';
import { useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import { useExportProfiles, useImportProfiles } from '../../ipc/mutations';

/** Profiles as TOML (never with keys), and importing such TOML. */
export function ExportImport() {
  const exporting = useExportProfiles();
  const importing = useImportProfiles();
  const [toml, setToml] = useState('');
  const [replace, setReplace] = useState(false);
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="export-import-title">
      <Stack gap="md">
        <Title order={2} size="h4" id="export-import-title">
          Export and import
        </Title>
        <Text size="sm" c="dimmed">
          Profiles travel as TOML without their keys; store keys again after importing.
        </Text>
        <Stack gap="xs">
          <Group>
            <Button
              variant="default"
              leftSection={<IconDownload size={16} aria-hidden />}
              loading={exporting.isPending}
              onClick={() => {
                exporting.mutate([]);
              }}
            >
              Export profiles as TOML
            </Button>
          </Group>
          {exporting.isError && <ErrorNotice error={exporting.error} context="Exporting profiles" />}
          {exporting.isSuccess && (
            <>
              <Textarea
                label="Exported profiles"
                value={exporting.data}
                readOnly
                autosize
                minRows={4}
                maxRows={16}
                styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
              />
              <Group>
                <CopyButton value={exporting.data}>
                  {({ copied, copy }) => (
                    <Button
                      size="xs"
                      variant="default"
                      leftSection={copied ? <IconCheck size={14} aria-hidden /> : <IconCopy size={14} aria-hidden />}
                      onClick={copy}
                    >
                      Copy
                    </Button>
                  )}
                </CopyButton>
              </Group>
            </>
          )}
        </Stack>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            importing.mutate({ toml, replace });
          }}
        >
          <Stack gap="xs">
            <Textarea
              label="Profiles to import (TOML)"
              value={toml}
              onChange={(event) => {
                setToml(event.currentTarget.value);
              }}
              autosize
              minRows={4}
              maxRows={16}
              spellCheck={false}
              styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
            />
            <Checkbox
              label="Replace profiles with the same id"
              checked={replace}
              onChange={(event) => {
                setReplace(event.currentTarget.checked);
              }}
            />
            <Group>
              <Button
                type="submit"
                variant="default"
                leftSection={<IconUpload size={16} aria-hidden />}
                loading={importing.isPending}
                disabled={toml.trim() === ''}
              >
                Import profiles
              </Button>
            </Group>
            {importing.isSuccess && (
              <Text size="sm" role="status">
                Imported {importing.data.length} {importing.data.length === 1 ? 'profile' : 'profiles'}
                {importing.data.length > 0 ? `: ${importing.data.map((p) => p.name).join(', ')}.` : '.'}
              </Text>
            )}
            {importing.isError && <ErrorNotice error={importing.error} context="Importing profiles" />}
          </Stack>
        </form>
      </Stack>
    </Paper>
  );
}
