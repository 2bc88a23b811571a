import type { Environment, ProfileSummary, Protection } from '../ipc/types';

export interface EnvironmentLook {
  /** Upper-case word on the badge. */
  label: string;
  /** Mantine colour (with shade) of the band across the top of the window. */
  band: string;
  /** Badge colour and variant; shades picked for AA contrast of the badge text. */
  badgeColor: string;
  badgeVariant: 'filled' | 'light' | 'outline';
}

const LOOKS: Record<Environment, EnvironmentLook> = {
  production: { label: 'PRODUCTION', band: 'red.9', badgeColor: 'red.9', badgeVariant: 'filled' },
  staging: { label: 'STAGING', band: 'yellow.5', badgeColor: 'yellow.5', badgeVariant: 'filled' },
  development: { label: 'DEVELOPMENT', band: 'blue.8', badgeColor: 'blue.8', badgeVariant: 'filled' },
};

export function environmentLook(environment: Environment): EnvironmentLook {
  return LOOKS[environment];
}

export const PROTECTION_LABEL: Record<Protection, string> = {
  normal: 'Normal',
  protected: 'Protected',
  readOnly: 'Read-only',
};

export const ENVIRONMENT_NAME: Record<Environment, string> = {
  production: 'Production',
  staging: 'Staging',
  development: 'Development',
};

export function activeProfileOf(profiles: readonly ProfileSummary[], activeId: string): ProfileSummary | undefined {
  return profiles.find((p) => p.id === activeId);
}
