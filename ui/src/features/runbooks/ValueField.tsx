import { NativeSelect, Textarea, TextInput } from '@mantine/core';

import { PathField } from '../../components/PathField';
import type { Profile, ValueKind } from '../../ipc/types';
import { KIND_HINT } from './runModel';

const ENVIRONMENTS = ['production', 'staging', 'development'];

interface ValueFieldProps {
  label: string;
  kind: ValueKind;
  value: string;
  onChange: (value: string) => void;
  /** The profile the run is bound to: its services are offered. */
  profile: Profile | undefined;
  description?: string;
  /** A note's text: several lines. */
  multiline?: boolean;
}

/** A value a runbook asks for, with the picker its kind calls for. */
export function ValueField({ label, kind, value, onChange, profile, description, multiline = false }: ValueFieldProps) {
  const hint = description ?? (KIND_HINT[kind] || undefined);
  switch (kind) {
    case 'service': {
      const services = profile?.services ?? [];
      const options = services.includes(value) || value === '' ? services : [value, ...services];
      return (
        <NativeSelect
          label={label}
          description={hint}
          value={value}
          required
          data={[{ value: '', label: 'Choose a service…', disabled: true }, ...options]}
          onChange={(event) => {
            onChange(event.currentTarget.value);
          }}
        />
      );
    }
    case 'environment':
      return (
        <NativeSelect
          label={label}
          description={hint}
          value={value}
          required
          data={[{ value: '', label: 'Choose an environment…', disabled: true }, ...ENVIRONMENTS]}
          onChange={(event) => {
            onChange(event.currentTarget.value);
          }}
        />
      );
    case 'folder':
      return (
        <PathField
          label={label}
          description={hint}
          kind="folder"
          value={value}
          onChange={onChange}
          chooserTitle={label}
          required
        />
      );
    default:
      if (multiline) {
        return (
          <Textarea
            label={label}
            description={hint}
            value={value}
            autosize
            minRows={2}
            required
            onChange={(event) => {
              onChange(event.currentTarget.value);
            }}
          />
        );
      }
      return (
        <TextInput
          label={label}
          description={hint}
          value={value}
          required
          spellCheck={false}
          autoComplete="off"
          onChange={(event) => {
            onChange(event.currentTarget.value);
          }}
        />
      );
  }
}
