import { Alert, Button, Checkbox, Group, Loader, Modal, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { type SyntheticEvent, useState } from 'react';

import { ErrorNotice } from '../../components/ErrorNotice';
import type { KeyCheck, Profile, SecretKindArg } from '../../ipc/types';
import { useDeleteSecret, useMoveKeys, useSetSecret, useTestCloudflareToken, useValidateKey } from '../../ipc/mutations';
import { useProfileSecrets } from '../../ipc/queries';

export const SECRET_NAME: Record<SecretKindArg, string> = {
  deployApiKey: 'Deploy API key',
  cloudflareToken: 'Cloudflare API token',
};

const SECRET_KINDS: readonly SecretKindArg[] = ['deployApiKey', 'cloudflareToken'];

interface SecretRowProps {
  profile: Profile;
  kind: SecretKindArg;
  stored: boolean;
}

function SecretRow({ profile, kind, stored }: SecretRowProps) {
  const name = SECRET_NAME[kind];
  const [value, setValue] = useState('');
  const [confirming, setConfirming] = useState(false);
  const store = useSetSecret();
  const remove = useDeleteSecret();

  const onSubmit = (event: SyntheticEvent) => {
    event.preventDefault();
    store.mutate(
      { profileId: profile.id, kind, value },
      {
        onSuccess: () => {
          setValue('');
        },
      },
    );
  };

  return (
    <Stack gap={6}>
      <Text size="sm" fw={600}>
        {name}: {stored ? 'stored in the keychain' : 'not set'}
      </Text>
      <form onSubmit={onSubmit}>
        <Group align="flex-end" gap="sm" wrap="nowrap">
          {/* A plain password field: no "show" toggle, so the key is never displayed. */}
          <TextInput
            type="password"
            label={`New ${name}`}
            value={value}
            onChange={(event) => {
              setValue(event.currentTarget.value);
            }}
            autoComplete="off"
            spellCheck={false}
            w={360}
          />
          <Button type="submit" variant="default" loading={store.isPending} disabled={value === ''}>
            Store {name}
          </Button>
          {stored && (
            <Button
              variant="subtle"
              color="red.8"
              onClick={() => {
                remove.reset();
                setConfirming(true);
              }}
            >
              Remove {name}
            </Button>
          )}
        </Group>
      </form>
      {store.isSuccess && (
        <Text size="sm" role="status">
          {name} stored in the keychain.
        </Text>
      )}
      {store.isError && <ErrorNotice error={store.error} context={`Storing the ${name}`} />}
      <Modal
        opened={confirming}
        onClose={() => {
          setConfirming(false);
        }}
        title={`Remove ${name} of ${profile.name}`}
      >
        <Stack gap="sm">
          <Text size="sm">
            The {name} is deleted from the OS keychain. {profile.name} cannot{' '}
            {kind === 'deployApiKey' ? 'deploy or sync history' : 'manage dispatch namespaces'} until a new one is
            stored.
          </Text>
          {remove.isError && <ErrorNotice error={remove.error} context={`Removing the ${name}`} />}
          <Group justify="flex-end">
            <Button
              variant="default"
              onClick={() => {
                setConfirming(false);
              }}
            >
              Cancel
            </Button>
            <Button
              color="red.8"
              loading={remove.isPending}
              onClick={() => {
                remove.mutate(
                  { profileId: profile.id, kind },
                  {
                    onSuccess: () => {
                      setConfirming(false);
                    },
                  },
                );
              }}
            >
              Remove the {name} of {profile.name}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

const PERMISSIONS_RUNBOOK = 'Issue: "Insufficient permissions" (403)';

function KeyCheckResult({ check }: { check: KeyCheck }) {
  const permissions = check.permissions.length > 0 ? check.permissions.join(', ') : 'none';
  return (
    <Stack gap={6}>
      <Text size="sm">
        Valid: user {check.userId ?? 'unknown'}. Permissions: {permissions}. Can deploy: {check.canDeploy ? 'yes' : 'no'}.
      </Text>
      <Text size="sm">Deploy API accepts it for reading history: {check.deployApiAccepts ? 'yes' : 'no'}.</Text>
      {!check.canDeploy && (
        <Alert color="yellow" variant="light" icon={<IconAlertTriangle aria-hidden />} title="This key cannot deploy">
          <Text size="sm">
            Deploys need the deployments:create permission. Ask a platform admin for a key that has it.
          </Text>
          <Text size="sm" mt={4}>
            Runbook section: <Text span fw={600} size="sm">{`“${PERMISSIONS_RUNBOOK}”`}</Text>
          </Text>
        </Alert>
      )}
    </Stack>
  );
}

function KeyTest({ profile, canTest }: { profile: Profile; canTest: boolean }) {
  const validate = useValidateKey();
  return (
    <Stack gap={6}>
      <Group gap="sm">
        <Button
          variant="default"
          loading={validate.isPending}
          disabled={!canTest}
          onClick={() => {
            validate.mutate(profile.id);
          }}
        >
          Test Deploy API key
        </Button>
        {!canTest && (
          <Text size="sm" c="dimmed">
            Store a Deploy API key first.
          </Text>
        )}
      </Group>
      <div role="status" aria-label="Key test result">
        {validate.isPending && <Text size="sm">Testing the key…</Text>}
        {validate.isSuccess && <KeyCheckResult check={validate.data} />}
        {validate.isError && <ErrorNotice error={validate.error} context="Testing the Deploy API key" />}
      </div>
    </Stack>
  );
}

/**
 * Stored keys saved for other addresses than the profile names now (it was edited or imported):
 * they are not sent until entered again or moved here, which the operator confirms.
 */
function DetachedKeys({ profile, detached }: { profile: Profile; detached: readonly string[] }) {
  const move = useMoveKeys();
  const [same, setSame] = useState(false);
  if (detached.length === 0) {
    return null;
  }
  return (
    <Alert role="alert" color="orange" variant="light" title="Stored keys are not used: the profile's addresses changed">
      <Stack gap="xs">
        {detached.map((d) => (
          <Text key={d} size="sm">
            {d}
          </Text>
        ))}
        <Checkbox
          label="The new addresses are the same service: send the stored keys there"
          checked={same}
          onChange={(event) => {
            setSame(event.currentTarget.checked);
          }}
        />
        <Group>
          <Button
            size="xs"
            variant="default"
            disabled={!same}
            loading={move.isPending}
            onClick={() => {
              move.mutate(profile.id, {
                onSuccess: () => {
                  setSame(false);
                },
              });
            }}
          >
            Move the stored keys to the new addresses
          </Button>
        </Group>
        {move.isError && <ErrorNotice error={move.error} context="Moving the keys" />}
      </Stack>
    </Alert>
  );
}

function TokenTest({ profile, canTest }: { profile: Profile; canTest: boolean }) {
  const test = useTestCloudflareToken();
  const check = test.data;
  return (
    <Stack gap={6}>
      <Group gap="sm">
        <Button
          variant="default"
          loading={test.isPending}
          disabled={!canTest}
          onClick={() => {
            test.mutate(profile.id);
          }}
        >
          Test Cloudflare API token
        </Button>
        {!canTest && (
          <Text size="sm" c="dimmed">
            Store a Cloudflare API token first.
          </Text>
        )}
      </Group>
      <div role="status" aria-label="Token test result">
        {test.isPending && <Text size="sm">Testing the token…</Text>}
        {test.isSuccess && check && (
          <Text size="sm">
            {`Cloudflare says the token is ${check.status}${check.expiresOn ? `, until ${check.expiresOn}` : ''}${
              check.accountOwned ? ' (an account token)' : ''
            }. ${
              check.canListNamespaces
                ? "It may list this account's dispatch namespaces."
                : "It may not list this account's dispatch namespaces: give it the Workers Scripts permission."
            }`}
          </Text>
        )}
        {test.isError && <ErrorNotice error={test.error} context="Testing the Cloudflare API token" />}
      </div>
    </Stack>
  );
}

/** Which keys a profile has, storing and removing them, and testing the Deploy API key. */
export function KeysSection({ profile }: { profile: Profile }) {
  const secrets = useProfileSecrets(profile.id);
  return (
    <Stack gap="sm">
      <Title order={3} size="h5">
        Keys
      </Title>
      {profile.sandbox ? (
        <Text size="sm">This profile uses the local sandbox&apos;s demo credentials.</Text>
      ) : secrets.isPending ? (
        <Group gap="xs">
          <Loader size="xs" aria-hidden />
          <Text size="sm">Asking the keychain…</Text>
        </Group>
      ) : secrets.isError ? (
        <ErrorNotice
          error={secrets.error}
          context="Reading which keys are stored"
          onRetry={() => {
            void secrets.refetch();
          }}
        />
      ) : (
        <Stack gap="md">
          {secrets.data.keychainError && (
            <Alert role="alert" color="red" variant="light" title="The keychain could not be asked">
              <Text size="sm">{secrets.data.keychainError}</Text>
            </Alert>
          )}
          <DetachedKeys profile={profile} detached={secrets.data.detached} />
          {SECRET_KINDS.map((kind) => (
            <SecretRow key={kind} profile={profile} kind={kind} stored={secrets.data[kind]} />
          ))}
        </Stack>
      )}
      <KeyTest profile={profile} canTest={profile.sandbox || secrets.data?.deployApiKey === true} />
      <TokenTest profile={profile} canTest={profile.sandbox || secrets.data?.cloudflareToken === true} />
    </Stack>
  );
}
