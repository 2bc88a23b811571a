import type { ErrorCode } from '../ipc/types';

export interface ErrorText {
  /** What happened, in a few words: the notice's title. */
  title: string;
  /** What to do next. */
  nextStep: string;
}

/**
 * How each error code reads to an operator. A `Record` over `ErrorCode`, so a code added on the
 * Rust side fails the type check here until it has words.
 */
export const ERROR_TEXT: Record<ErrorCode, ErrorText> = {
  InvalidApiKey: {
    title: 'The API key was rejected',
    nextStep: 'Check the key stored for this profile, or issue a new one and store it again.',
  },
  InsufficientPermissions: {
    title: 'The API key lacks permission for this',
    nextStep: 'Use a key that has the required permission, or ask a platform admin to grant it.',
  },
  ReadOnlyProfile: {
    title: 'This profile is read-only',
    nextStep: 'Change its protection in Settings to make changes, or switch to a profile that allows them.',
  },
  ServiceNotFound: {
    title: 'No such service',
    nextStep: "Check the service name against this profile's service list.",
  },
  ServiceNotDeployed: {
    title: 'The service has not been deployed',
    nextStep: 'Deploy it first; there is nothing to act on yet.',
  },
  NoPreviousDeployment: {
    title: 'There is no earlier deployment to roll back to',
    nextStep: 'Redeploy a known-good bundle instead of rolling back.',
  },
  Unreachable: {
    title: 'A back-end could not be reached',
    nextStep: "Check the network and the service's health; data shown may be stale.",
  },
  ServerError: {
    title: 'The platform answered with an error',
    nextStep: "Read the message for the platform's reason; if it persists, follow the runbook section shown.",
  },
  InvalidResponse: {
    title: 'The platform answered with something unexpected',
    nextStep: 'The service may be down or behind a proxy; check its health, then try again.',
  },
  Timeout: {
    title: 'The request timed out',
    nextStep: "Try again; if it keeps timing out, check the back-end's health.",
  },
  RateLimited: {
    title: 'Too many requests: the API is rate-limiting',
    nextStep: 'Wait a minute, then try again.',
  },
  KeychainUnavailable: {
    title: 'The OS keychain could not be opened',
    nextStep: 'Unlock the keychain (on Linux: start the Secret Service, e.g. gnome-keyring) and try again.',
  },
  InvalidInput: {
    title: 'The input was not accepted',
    nextStep: 'Correct it and try again.',
  },
  NotFound: {
    title: 'Not found',
    nextStep: 'It may have been removed. Refresh and try again.',
  },
  Conflict: {
    title: 'It changed while you were working on it',
    nextStep: 'Refresh to see the current state, then try again.',
  },
  BundleTooLarge: {
    title: 'The bundle is too large to deploy',
    nextStep: 'Reduce the bundle size and build it again.',
  },
  Cancelled: {
    title: 'Cancelled',
    nextStep: 'Nothing more was done. Start again when ready.',
  },
  DiskFull: {
    title: "The disk holding Switchyard's data is full",
    nextStep: 'Free space on that disk, then try again. Nothing of this action was saved.',
  },
  DatabaseBusy: {
    title: "Switchyard's database is busy",
    nextStep:
      'Try again. If it stays busy, close any other program that has the database open (a database browser, a backup or sync tool).',
  },
  Internal: {
    title: 'Something went wrong inside Switchyard',
    nextStep: "Try again. If it persists, the full details are in Switchyard's log.",
  },
};

const FALLBACK: ErrorText = {
  title: 'Something went wrong',
  nextStep: "Try again. If it persists, the full details are in Switchyard's log.",
};

/** Words for a code; codes newer than this UI still get a safe fallback at run time. */
export function errorText(code: ErrorCode): ErrorText {
  return (ERROR_TEXT as Partial<Record<string, ErrorText>>)[code] ?? FALLBACK;
}
