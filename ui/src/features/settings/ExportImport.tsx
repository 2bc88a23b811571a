import { Alert, Button, Checkbox, CopyButton, Group, List, Paper, Stack, Text, Textarea, Title } from '@mantine/core';
import { IconCheck, IconCopy, IconDownload, IconListCheck, IconUpload } from '@tabler/icons-react';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import { type AppError, commands, type ImportPreviewRow } from '../../ipc/bindings';
import { callCommand } from '../../ipc/errors';
import { useExportProfiles, useImportProfiles } from '../../ipc/mutations';

function plural(n: number, one: string, many: string) {
  return `${n} ${n === 1 ? one : many}`;
}

/** What the import would do, reviewed before it is done. */
function ImportReview({ rows }: { rows: ImportPreviewRow[] }) {
  const detaches = rows.some((r) => r.keysDetached.length > 0);
  return (
    <Stack gap={6} role="region" aria-label="What the import would do">
      <List spacing={6} size="sm">
        {rows.map((row) => (
          <List.Item key={row.id}>
            <Text size="sm" fw={600} span>
              {row.replaces ? `Replaces ${row.name} (${row.id})` : `New profile: ${row.name} (${row.id})`}
            </Text>
            {row.replaces && row.hostChanges.length === 0 && (
              <Text size="sm" c="dimmed">
                Its addresses stay the same.
              </Text>
            )}
            {row.hostChanges.map((h) => (
              <Text size="sm" key={h.what}>
                {`${h.what}: ${h.from || '(none)'} → ${h.to || '(none)'}`}
              </Text>
            ))}
          </List.Item>
        ))}
      </List>
      {detaches && (
        <Alert color="orange" title="Keys will not follow the new addresses">
          <Stack gap={4}>
            {rows.flatMap((r) =>
              r.keysDetached.map((k) => (
                <Text size="sm" key={`${r.id}:${k}`}>
                  {`${r.name}: ${k}`}
                </Text>
              )),
            )}
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}

/** Profiles as TOML (never with keys), and importing such TOML. */
export function ExportImport() {
  const exporting = useExportProfiles();
  const importing = useImportProfiles();
  const [toml, setToml] = useState('');
  const [replace, setReplace] = useState(false);
  const review = useMutation<ImportPreviewRow[], AppError, { toml: string; replace: boolean }>({
    mutationFn: (v) => callCommand(() => commands.previewProfileImport(v.toml, v.replace)),
  });
  // A review holds only for the text and choice it was made of.
  const reviewed = review.isSuccess && review.variables.toml === toml && review.variables.replace === replace;
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
            if (reviewed) {
              importing.mutate({ toml, replace }, { onSuccess: () => { review.reset(); } });
            } else {
              importing.reset();
              review.mutate({ toml, replace });
            }
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
            {reviewed && <ImportReview rows={review.data} />}
            <Group>
              {reviewed ? (
                <Button
                  type="submit"
                  leftSection={<IconUpload size={16} aria-hidden />}
                  loading={importing.isPending}
                >
                  {`Import ${plural(review.data.length, 'profile', 'profiles')}`}
                </Button>
              ) : (
                <Button
                  type="submit"
                  variant="default"
                  leftSection={<IconListCheck size={16} aria-hidden />}
                  loading={review.isPending}
                  disabled={toml.trim() === ''}
                >
                  Review import
                </Button>
              )}
            </Group>
            {review.isError && <ErrorNotice error={review.error} context="Reviewing the import" />}
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
