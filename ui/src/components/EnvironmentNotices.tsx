import { Alert, Button, Group, List, Text } from '@mantine/core';
import { IconAlertTriangle, IconDatabaseExclamation, IconKey } from '@tabler/icons-react';

import type { KeychainStatus, StorageNotice } from '../ipc/types';

/** The local sandbox did not start: the Local sandbox profile cannot work until it does. */
export function SandboxProblem({ error }: { error: string }) {
  return (
    <Alert
      role="alert"
      color="red"
      variant="light"
      icon={<IconAlertTriangle aria-hidden />}
      title="The local sandbox is not running"
    >
      <Text size="sm">{error}</Text>
      <Text size="sm" mt={4}>
        The Local sandbox profile cannot reach anything until it runs. Restart Switchyard after fixing the cause, or
        switch to another profile.
      </Text>
    </Alert>
  );
}

/** The OS keychain cannot be used, so keys cannot be stored or read. */
export function KeychainProblem({ keychain }: { keychain: KeychainStatus }) {
  if (keychain.state !== 'unavailable') {
    return null;
  }
  return (
    <Alert
      role="alert"
      color="red"
      variant="light"
      icon={<IconKey aria-hidden />}
      title={`Keychain unavailable: ${keychain.reason}`}
    >
      <Text size="sm">
        API keys cannot be stored or used until the keychain answers. The Local sandbox profile still works (it uses
        the sandbox&apos;s own demo keys).
      </Text>
    </Alert>
  );
}

/**
 * Switchyard's database was found damaged at this start and replaced: where the damaged file went,
 * what was read back, what was not and what that means. Shown above every area until dismissed
 * (app info carries it only at the start that did the recovery; the audit log keeps it).
 */
export function StorageRecovered({ notice, onDismiss }: { notice: StorageNotice; onDismiss: () => void }) {
  return (
    <Alert
      role="alert"
      color="orange"
      variant="light"
      icon={<IconDatabaseExclamation aria-hidden />}
      title="Switchyard's database was damaged and has been replaced"
    >
      <Text size="sm">{notice.summary}</Text>
      {notice.recovered.length > 0 && (
        <>
          <Text size="sm" fw={600} mt="xs">
            Recovered
          </Text>
          <List size="sm" aria-label="Recovered">
            {notice.recovered.map((line) => (
              <List.Item key={line}>{line}</List.Item>
            ))}
          </List>
        </>
      )}
      {notice.lost.length > 0 && (
        <>
          <Text size="sm" fw={600} mt="xs">
            Could not be recovered
          </Text>
          <List size="sm" aria-label="Could not be recovered">
            {notice.lost.map((line) => (
              <List.Item key={line}>{line}</List.Item>
            ))}
          </List>
        </>
      )}
      {notice.next.map((line) => (
        <Text size="sm" mt={4} key={line}>
          {line}
        </Text>
      ))}
      <Group mt="sm">
        <Button size="xs" variant="default" onClick={onDismiss}>
          Dismiss
        </Button>
      </Group>
    </Alert>
  );
}
