import type { Environment, Profile, Protection } from '../../ipc/types';

export const DEFAULT_SERVICES = ['gateway', 'db', 'auth', 'schedule', 'webhooks', 'email', 'mcp', 'queue'] as const;

export const ENVIRONMENTS: readonly Environment[] = ['production', 'staging', 'development'];

export const PROTECTION_OPTIONS: readonly { value: Protection; label: string }[] = [
  { value: 'normal', label: 'Normal' },
  { value: 'protected', label: 'Protected (always confirm)' },
  { value: 'readOnly', label: 'Read-only (no changes)' },
];

/** What the form edits: every field as the operator types it. */
export interface ProfileFormValues {
  name: string;
  environment: Environment;
  deployApiUrl: string;
  authUrl: string;
  cloudflareApiUrl: string;
  accountId: string;
  namespace: string;
  serviceUrlTemplate: string;
  dispatcherUrl: string;
  protection: Protection;
  services: string;
}

/** The fields whose default depends on the environment. */
export function environmentDefaults(environment: Environment): Pick<ProfileFormValues, 'namespace' | 'serviceUrlTemplate'> {
  return {
    namespace: `dotdo-${environment}`,
    serviceUrlTemplate: environment === 'production' ? 'https://{service}.do' : 'https://{service}.{environment}.do',
  };
}

export function newProfileValues(environment: Environment = 'production'): ProfileFormValues {
  return {
    name: '',
    environment,
    deployApiUrl: 'https://deploy.do',
    authUrl: 'https://auth.do',
    cloudflareApiUrl: 'https://api.cloudflare.com/client/v4',
    accountId: '',
    ...environmentDefaults(environment),
    dispatcherUrl: '',
    protection: 'normal',
    services: DEFAULT_SERVICES.join(', '),
  };
}

export function valuesOf(profile: Profile): ProfileFormValues {
  return {
    name: profile.name,
    environment: profile.environment,
    deployApiUrl: profile.deployApiUrl,
    authUrl: profile.authUrl,
    cloudflareApiUrl: profile.cloudflareApiUrl,
    accountId: profile.accountId ?? '',
    namespace: profile.namespace,
    serviceUrlTemplate: profile.serviceUrlTemplate,
    dispatcherUrl: profile.dispatcherUrl ?? '',
    protection: profile.protection ?? 'normal',
    services: profile.services.join(', '),
  };
}

/**
 * Switching the environment refills the fields that still hold the previous environment's default,
 * and leaves anything the operator typed alone.
 */
export function withEnvironment(values: ProfileFormValues, environment: Environment): ProfileFormValues {
  const before = environmentDefaults(values.environment);
  const after = environmentDefaults(environment);
  return {
    ...values,
    environment,
    namespace: values.namespace === before.namespace || values.namespace === '' ? after.namespace : values.namespace,
    serviceUrlTemplate:
      values.serviceUrlTemplate === before.serviceUrlTemplate || values.serviceUrlTemplate === ''
        ? after.serviceUrlTemplate
        : values.serviceUrlTemplate,
  };
}

/** "dotdo Staging 2" → "dotdo-staging-2". */
export function profileIdFrom(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export function parseServices(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The profile to save. Validation is the core's job: it refuses what is wrong, with a message. */
export function toProfile(id: string, values: ProfileFormValues): Profile {
  return {
    id,
    name: values.name.trim(),
    environment: values.environment,
    protection: values.protection,
    sandbox: false,
    deployApiUrl: values.deployApiUrl.trim(),
    authUrl: values.authUrl.trim(),
    cloudflareApiUrl: values.cloudflareApiUrl.trim(),
    accountId: values.accountId.trim(),
    namespace: values.namespace.trim(),
    services: parseServices(values.services),
    serviceUrlTemplate: values.serviceUrlTemplate.trim(),
    dispatcherUrl: values.dispatcherUrl.trim(),
  };
}
