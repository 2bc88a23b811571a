import { Alert, Button, Code, Group, Stack, Text } from '@mantine/core';
import { IconAlertTriangle, IconBook2, IconRefresh } from '@tabler/icons-react';
import { useContext } from 'react';

import { NavigationContext } from '../shell/navigation';
import type { AppError } from '../ipc/types';
import { type ErrorText, errorText } from './errorText';
import { OpenRunbookButton } from './OpenRunbookButton';

interface ErrorNoticeProps {
  error: AppError;
  /** Offered as a "Try again" button when set. */
  onRetry?: () => void;
  /** What was being attempted, e.g. "Loading app info". */
  context?: string;
  /**
   * Words for this failure when the code's own would not be true here (the codes' words are about
   * the platform; installing workerd talks to the npm registry).
   */
  text?: ErrorText;
}

/**
 * An error as the operator needs it: what happened, the details from the back-end, the next step,
 * and the runbook section that covers it when there is one.
 */
export function ErrorNotice({ error, onRetry, context, text: words }: ErrorNoticeProps) {
  const text = words ?? errorText(error.code);
  // Inside the window (not in a bare component test) the section opens its runbook.
  const navigation = useContext(NavigationContext);
  return (
    <Alert
      role="alert"
      color="red"
      variant="light"
      icon={<IconAlertTriangle aria-hidden />}
      title={context ? `${context} failed: ${text.title}` : text.title}
      data-error-code={error.code}
    >
      <Stack gap={6}>
        <Text size="sm">{error.message}</Text>
        <Text size="sm">
          <Text span fw={600} size="sm">
            Next step:
          </Text>{' '}
          {text.nextStep}
        </Text>
        {typeof error.runbook === 'string' && error.runbook !== '' && (
          <Group gap={6} wrap="wrap">
            <Group gap={6} wrap="nowrap">
              <IconBook2 size={16} aria-hidden />
              <Text size="sm">
                Runbook section: <Text span fw={600} size="sm">{`“${error.runbook}”`}</Text>
              </Text>
            </Group>
            {navigation && <OpenRunbookButton section={error.runbook} navigation={navigation} />}
          </Group>
        )}
        <Group justify="space-between" align="center">
          <Text size="xs" c="dimmed">
            Error code <Code>{error.code}</Code>
          </Text>
          {onRetry && (
            <Button size="xs" variant="default" leftSection={<IconRefresh size={14} aria-hidden />} onClick={onRetry}>
              Try again
            </Button>
          )}
        </Group>
      </Stack>
    </Alert>
  );
}
