import { Button } from '@mantine/core';
import { IconChecklist } from '@tabler/icons-react';

import type { Navigation } from '../shell/navigation';
import { useRunbookCatalog, useRunbookLink } from '../ipc/runbooks';

/**
 * "Open runbook: <title>" for an error's runbook section: asks which runbook (and step) covers it,
 * and opens it in the Runbooks area. Nothing when no runbook covers the section.
 */
export function OpenRunbookButton({ section, navigation }: { section: string; navigation: Navigation }) {
  const link = useRunbookLink(section);
  const catalog = useRunbookCatalog();
  if (!link.data) {
    return null;
  }
  const { runbookId, stepId } = link.data;
  const title = catalog.data?.runbooks.find((r) => r.id === runbookId)?.title ?? link.data.heading;
  return (
    <Button
      size="xs"
      variant="light"
      color="blue"
      leftSection={<IconChecklist size={14} aria-hidden />}
      onClick={() => {
        navigation.navigate('runbooks', { runbook: { runbookId, stepId } });
      }}
    >
      {`Open runbook: ${title}`}
    </Button>
  );
}
