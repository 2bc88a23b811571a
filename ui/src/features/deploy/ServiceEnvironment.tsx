import { NativeSelect } from '@mantine/core';

import type { Environment } from '../../ipc/types';

export const ENVIRONMENTS: Environment[] = ['production', 'staging', 'development'];

/**
 * The service and the environment a run acts on, as two selects side by side (put them in the
 * form's row of fields). With `choose`, the service starts unchosen ("Choose…").
 */
export function ServiceEnvironmentFields({
  services,
  service,
  onService,
  environment,
  onEnvironment,
  choose = false,
}: {
  services: readonly string[];
  service: string;
  onService: (service: string) => void;
  environment: Environment;
  onEnvironment: (environment: Environment) => void;
  choose?: boolean;
}) {
  return (
    <>
      <NativeSelect
        label="Service"
        data={[...(choose ? [{ value: '', label: 'Choose…' }] : []), ...services.map((s) => ({ value: s, label: s }))]}
        value={service}
        onChange={(e) => {
          onService(e.currentTarget.value);
        }}
        w={200}
      />
      <NativeSelect
        label="Environment"
        data={ENVIRONMENTS}
        value={environment}
        onChange={(e) => {
          onEnvironment(e.currentTarget.value as Environment);
        }}
        w={200}
      />
    </>
  );
}
