import { ActionIcon, Button, Code, Group, List, Loader, Stack, Text, Title, Tooltip } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { ErrorNotice } from '../../components/ErrorNotice';
import { type AppError, commands } from '../../ipc/bindings';
import { callCommand } from '../../ipc/errors';

const KEY = ['project-folders'] as const;

/**
 * The folders whose service folders and bundles may be typed or pasted. Anything else must be
 * chosen with Browse… (the system's chooser); a folder is added here only through the chooser.
 */
export function ProjectFolders() {
  const client = useQueryClient();
  const folders = useQuery<string[], AppError>({ queryKey: KEY, queryFn: () => callCommand(() => commands.projectFolders()) });
  const add = useMutation<string[] | null, AppError>({
    mutationFn: () => callCommand(() => commands.addProjectFolder()),
    onSuccess: (list) => {
      if (list) client.setQueryData(KEY, list);
    },
  });
  const remove = useMutation<string[], AppError, string>({
    mutationFn: (folder: string) => callCommand(() => commands.removeProjectFolder(folder)),
    onSuccess: (list) => client.setQueryData(KEY, list),
  });

  return (
    <Stack gap="xs" mt="lg" component="section" aria-labelledby="sy-project-folders">
      <Title order={3} size="h5" id="sy-project-folders">
        Project folders
      </Title>
      <Text size="sm" c="dimmed">
        A service folder or bundle whose path you type or paste must be inside one of these. Anything chosen with Browse… is
        always allowed. This keeps scripts from running, and files from being uploaded, from a folder you did not pick.
      </Text>
      {folders.isPending && <Loader size="sm" aria-label="Loading the project folders" />}
      {folders.isError && <ErrorNotice error={folders.error} context="Loading the project folders" />}
      {folders.data && folders.data.length === 0 && (
        <Text size="sm">No project folders yet: paths must be chosen with Browse….</Text>
      )}
      {folders.data && folders.data.length > 0 && (
        <List spacing={4} listStyleType="none" aria-label="Project folders">
          {folders.data.map((folder) => (
            <List.Item key={folder}>
              <Group gap="xs" wrap="nowrap">
                <Code>{folder}</Code>
                <Tooltip label="Remove from the list (the folder itself is not touched)">
                  <ActionIcon
                    variant="subtle"
                    color="gray"
                    aria-label={`Remove ${folder} from the project folders`}
                    loading={remove.isPending && remove.variables === folder}
                    onClick={() => { remove.mutate(folder); }}
                  >
                    ×
                  </ActionIcon>
                </Tooltip>
              </Group>
            </List.Item>
          ))}
        </List>
      )}
      <Group>
        <Button variant="default" size="sm" loading={add.isPending} onClick={() => { add.mutate(); }}>
          Add a project folder…
        </Button>
      </Group>
      {add.isError && <ErrorNotice error={add.error} context="Adding a project folder" />}
      {remove.isError && <ErrorNotice error={remove.error} context="Removing a project folder" />}
    </Stack>
  );
}
