import { Button, Group, TextInput } from '@mantine/core';
import { IconFolderOpen } from '@tabler/icons-react';
import { useState } from 'react';

import { commands } from '../ipc/bindings';
import type { PathKind } from '../ipc/types';
import { callCommand, toAppError } from '../ipc/errors';

interface PathFieldProps {
  label: string;
  description?: string;
  kind: PathKind;
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  /** The chooser's window title. */
  chooserTitle: string;
  required?: boolean;
}

/**
 * A path typed or pasted, or chosen with the OS's file chooser ("Choose…"): keyboard users and
 * end-to-end tests type it, everyone else may browse.
 */
export function PathField({ label, description, kind, value, onChange, placeholder, chooserTitle, required }: PathFieldProps) {
  const [problem, setProblem] = useState<string | null>(null);
  const [choosing, setChoosing] = useState(false);
  const choose = async () => {
    setChoosing(true);
    setProblem(null);
    try {
      const picked = await callCommand(() => commands.choosePath(kind, chooserTitle));
      if (picked !== null) {
        onChange(picked);
      }
    } catch (e) {
      setProblem(`The file chooser did not open (${toAppError(e).message}). Type or paste the path instead.`);
    } finally {
      setChoosing(false);
    }
  };
  return (
    <Group align="flex-end" gap="xs" wrap="nowrap">
      <TextInput
        label={label}
        description={description}
        placeholder={placeholder}
        value={value}
        required={required}
        error={problem}
        onChange={(event) => {
          onChange(event.currentTarget.value);
        }}
        style={{ flex: 1 }}
        spellCheck={false}
        autoComplete="off"
      />
      <Button
        variant="default"
        leftSection={<IconFolderOpen size={16} aria-hidden />}
        loading={choosing}
        onClick={() => {
          void choose();
        }}
        aria-label={`Choose ${label.toLowerCase()} with the file chooser`}
      >
        Choose…
      </Button>
    </Group>
  );
}
