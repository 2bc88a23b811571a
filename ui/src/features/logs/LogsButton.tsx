import { Button, type ButtonProps } from '@mantine/core';
import { IconListDetails } from '@tabler/icons-react';

import { useNavigation } from '../../shell/navigation';

interface LogsButtonProps {
  /** The service (a worker's name) to tail. */
  service: string;
  size?: ButtonProps['size'];
  variant?: ButtonProps['variant'];
}

/** "Logs": opens the Logs area tailing `service` (its name says which: "Logs for gateway"). */
export function LogsButton({ service, size = 'compact-sm', variant = 'light' }: LogsButtonProps) {
  const { navigate } = useNavigation();
  return (
    <Button
      size={size}
      variant={variant}
      leftSection={<IconListDetails size={14} aria-hidden />}
      aria-label={`Logs for ${service}`}
      onClick={() => {
        navigate('logs', { logs: { services: [service] } });
      }}
    >
      Logs
    </Button>
  );
}
