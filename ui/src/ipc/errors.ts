import type { AppError, ErrorCode } from './types';

/** What a generated command wrapper resolves to (tauri-specta's typed-error shape). */
export type CommandResult<T> = { status: 'ok'; data: T } | { status: 'error'; error: unknown };

/**
 * Every error code the Rust side sends. A `Record` over `ErrorCode`, so a code added there fails
 * the type check here until it is listed (a missing one made real errors — a Deploy API 500 —
 * read as "unknown failure" inside Switchyard).
 */
const KNOWN_CODES: Record<ErrorCode, true> = {
  InvalidApiKey: true,
  InsufficientPermissions: true,
  ReadOnlyProfile: true,
  ServiceNotFound: true,
  ServiceNotDeployed: true,
  NoPreviousDeployment: true,
  Unreachable: true,
  ServerError: true,
  InvalidResponse: true,
  Timeout: true,
  RateLimited: true,
  KeychainUnavailable: true,
  InvalidInput: true,
  NotFound: true,
  Conflict: true,
  BundleTooLarge: true,
  Cancelled: true,
  DiskFull: true,
  DatabaseBusy: true,
  Internal: true,
};

const ERROR_CODES = Object.keys(KNOWN_CODES) as readonly ErrorCode[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** True when `value` has the shape of an `AppError` as it crosses IPC. */
export function isAppError(value: unknown): value is AppError {
  return (
    isRecord(value) &&
    typeof value.code === 'string' &&
    (ERROR_CODES as readonly string[]).includes(value.code) &&
    typeof value.message === 'string' &&
    (value.runbook === null || value.runbook === undefined || typeof value.runbook === 'string')
  );
}

/**
 * Whatever an IPC call failed with, as an `AppError`. Errors that did not come from the Rust side
 * (the call could not be made at all, or the reply was not an `AppError`) become `Internal`.
 */
export function toAppError(failure: unknown): AppError {
  if (isAppError(failure)) {
    return { code: failure.code, message: failure.message, runbook: failure.runbook ?? null };
  }
  const detail =
    failure instanceof Error ? failure.message : typeof failure === 'string' ? failure : 'unknown failure';
  return {
    code: 'Internal',
    message: `The call to Switchyard's core failed: ${detail}`,
    runbook: null,
  };
}

/**
 * Runs a generated command wrapper and returns its data, or throws an `AppError` (always an
 * `AppError`, never anything else) so query hooks can type their error as `AppError`.
 */
export async function callCommand<T>(call: () => Promise<CommandResult<T>>): Promise<T> {
  let result: CommandResult<T>;
  try {
    result = await call();
  } catch (failure) {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- AppError is the error type across IPC.
    throw toAppError(failure);
  }
  if (result.status === 'error') {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- AppError is the error type across IPC.
    throw toAppError(result.error);
  }
  return result.data;
}
