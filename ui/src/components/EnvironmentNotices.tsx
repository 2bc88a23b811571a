import { Alert, Text } from '@mantine/core';
import { IconAlertTriangle, IconKey } from '@tabler/icons-react';

import type { KeychainStatus } from '../ipc/bindings';

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
