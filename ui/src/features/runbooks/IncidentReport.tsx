import { Button, Collapse, CopyButton, Group, Loader, Paper, Stack, Text } from '@mantine/core';
import { IconCheck, IconChevronDown, IconChevronRight, IconCopy } from '@tabler/icons-react';
import { useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import { Markdown } from '../../components/Markdown';
import { useIncidentReport } from '../../ipc/runbooks';

/** The run as a Markdown incident report: copied in one click, previewed as it will read. */
export function IncidentReport({ runId, finished }: { runId: string; finished: boolean }) {
  const [shown, setShown] = useState(finished);
  const report = useIncidentReport(runId, shown);
  return (
    <Paper withBorder p="md" component="section" aria-label="Incident report">
      <Stack gap="sm">
        <Group justify="space-between">
          <Button
            variant="subtle"
            size="compact-sm"
            leftSection={shown ? <IconChevronDown size={16} aria-hidden /> : <IconChevronRight size={16} aria-hidden />}
            aria-expanded={shown}
            onClick={() => {
              setShown((s) => !s);
            }}
          >
            {shown ? 'Hide incident report' : 'Show incident report'}
          </Button>
          {report.isSuccess && shown && (
            <CopyButton value={report.data}>
              {({ copied, copy }) => (
                <Button
                  size="xs"
                  color={copied ? 'green.8' : undefined}
                  leftSection={copied ? <IconCheck size={14} aria-hidden /> : <IconCopy size={14} aria-hidden />}
                  onClick={copy}
                >
                  {copied ? 'Copied' : 'Copy incident report'}
                </Button>
              )}
            </CopyButton>
          )}
        </Group>
        <Collapse in={shown}>
          {report.isPending && shown && <Loader size="sm" aria-label="Loading the incident report" />}
          {report.isError && <ErrorNotice error={report.error} context="Writing the incident report" />}
          {report.isSuccess && (
            <>
              <Text size="xs" c="dimmed" mb={6}>
                Markdown, secrets replaced by ***. Paste it in the incident ticket or channel.
              </Text>
              <div className="sy-rb-report" aria-label="Incident report preview" role="document">
                <Markdown>{report.data}</Markdown>
              </div>
            </>
          )}
        </Collapse>
      </Stack>
    </Paper>
  );
}
