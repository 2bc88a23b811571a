import { Button, Menu, Text } from '@mantine/core';
import { IconDownload } from '@tabler/icons-react';
import { useMutation } from '@tanstack/react-query';

import { ErrorNotice } from '../../components/ErrorNotice';
import { commands } from '../../ipc/bindings';
import type { AppError, DeploymentFilter, ExportFormat } from '../../ipc/types';
import { callCommand } from '../../ipc/errors';

/** Export the rows the filters select (all of them, not only those shown) as CSV or JSON. */
export function useExportHistory(profileId: string) {
  return useMutation<string | null, AppError, { filter: DeploymentFilter; format: ExportFormat }>({
    mutationFn: ({ filter, format }) => {
      const all: DeploymentFilter = { ...filter, limit: null, offset: null };
      return callCommand(() => commands.exportHistory(profileId, all, format));
    },
  });
}

export function ExportMenu({ profileId, filter }: { profileId: string; filter: DeploymentFilter }) {
  const exporter = useExportHistory(profileId);
  return (
    <>
      <Menu position="bottom-end" withinPortal>
        <Menu.Target>
          <Button variant="default" leftSection={<IconDownload size={16} aria-hidden />} loading={exporter.isPending}>
            Export…
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Label>The rows these filters select</Menu.Label>
          <Menu.Item
            onClick={() => {
              exporter.mutate({ filter, format: 'csv' });
            }}
          >
            As CSV (spreadsheets)
          </Menu.Item>
          <Menu.Item
            onClick={() => {
              exporter.mutate({ filter, format: 'json' });
            }}
          >
            As JSON (everything the API returned)
          </Menu.Item>
        </Menu.Dropdown>
      </Menu>
      {exporter.isSuccess && exporter.data !== null && (
        <Text size="sm" role="status">{`Exported to ${exporter.data}`}</Text>
      )}
      {exporter.isError && <ErrorNotice error={exporter.error} context="Exporting the history" />}
    </>
  );
}
