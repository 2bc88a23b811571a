import { Alert, Button, Checkbox, Stack, Text, TextInput } from '@mantine/core';
import { IconLock } from '@tabler/icons-react';
import { useState } from 'react';

import type { ConfirmationKind } from '../ipc/types';

/** What a plan asks before it goes ahead (deploy plans and runbook step plans share this shape). */
export interface ConfirmationNeeded {
  kind: ConfirmationKind;
  /** What to type for `typeName`. */
  phrase: string | null;
  reason: string;
}

/** What the operator gave: a tick, or the phrase typed. */
export interface ConfirmationGiven {
  confirmed: boolean;
  typed: string | null;
}

interface ConfirmActionProps {
  requirement: ConfirmationNeeded;
  /** The button's words, e.g. "Deploy gateway v1.4.0 to production". */
  action: string;
  /** A red button: the action touches production. */
  danger?: boolean;
  busy: boolean;
  /** Anything else the action needs (e.g. a reason), with why it is not ready. */
  notReady?: string | null;
  /** The tick box's words (default: "I have read the plan above and want to go ahead"). */
  confirmLabel?: string;
  onConfirm: (confirmation: ConfirmationGiven) => void;
}

/**
 * The confirmation the engine asked for: none, a tick, the name typed, or nothing at all for a
 * read-only profile (the button is not there; the reason is).
 */
export function ConfirmAction({ requirement, action, danger = false, busy, notReady, confirmLabel, onConfirm }: ConfirmActionProps) {
  const [ticked, setTicked] = useState(false);
  const [typed, setTyped] = useState('');
  if (requirement.kind === 'blocked') {
    return (
      <Alert color="gray" variant="light" icon={<IconLock aria-hidden />} title="Not allowed with this profile">
        {requirement.reason}
      </Alert>
    );
  }
  const phrase = requirement.phrase ?? '';
  const confirmedEnough =
    requirement.kind === 'none' || (requirement.kind === 'confirm' ? ticked : typed === phrase && phrase !== '');
  const ready = confirmedEnough && !notReady;
  return (
    <Stack gap="sm" maw={560}>
      {requirement.kind === 'confirm' && (
        <Checkbox
          label={confirmLabel ?? 'I have read the plan above and want to go ahead'}
          description={requirement.reason}
          checked={ticked}
          onChange={(event) => {
            setTicked(event.currentTarget.checked);
          }}
        />
      )}
      {requirement.kind === 'typeName' && (
        <TextInput
          label={`Type ${phrase} to confirm`}
          description={requirement.reason}
          value={typed}
          onChange={(event) => {
            setTyped(event.currentTarget.value);
          }}
          autoComplete="off"
          spellCheck={false}
          error={typed !== '' && !phrase.startsWith(typed) ? `That is not “${phrase}”.` : undefined}
        />
      )}
      {notReady && (
        <Text size="sm" c="dimmed">
          {notReady}
        </Text>
      )}
      <div>
        <Button
          color={danger ? 'red.8' : 'blue'}
          disabled={!ready}
          loading={busy}
          onClick={() => {
            onConfirm({ confirmed: true, typed: requirement.kind === 'typeName' ? typed : null });
          }}
        >
          {action}
        </Button>
      </div>
    </Stack>
  );
}
