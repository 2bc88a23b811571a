import {
  ActionIcon,
  Alert,
  Button,
  Group,
  List,
  Loader,
  Modal,
  NativeSelect,
  Radio,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { IconCircleCheck, IconPlus, IconRocket, IconTemplate, IconTrash } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { type SyntheticEvent, useState } from 'react';

import { useNavigation } from '../../shell/navigation';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PathField } from '../../components/PathField';
import { commands } from '../../ipc/bindings';
import type { AppError, CreatedService, Environment, Profile, ServiceTemplate, TemplateCatalog } from '../../ipc/types';
import { callCommand, toAppError } from '../../ipc/errors';

const ENVIRONMENTS: Environment[] = ['production', 'staging', 'development'];

/** The service name rule of `switchyard_core::ServiceName` (checked again in Rust). */
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const BINDING_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

interface BindingRow {
  name: string;
  service: string;
}

/** The dispatch namespace of `environment` under `profile` (as the deploy plan finds it). */
function namespaceFor(profile: Profile, environment: Environment): string {
  return environment === profile.environment ? profile.namespace : `dotdo-${environment}`;
}

function rowsOf(bindings: Partial<Record<string, string>>): BindingRow[] {
  return Object.entries(bindings).map(([name, service]) => ({ name, service: service ?? '' }));
}

function serviceNameProblem(name: string): string | null {
  if (name === '') {
    return null;
  }
  return SERVICE_NAME.test(name) && !name.endsWith('-')
    ? null
    : 'Use lowercase letters, digits and "-", starting with a letter (for example billing).';
}

function useTemplates() {
  return useQuery<TemplateCatalog, AppError>({
    queryKey: ['serviceTemplates'],
    queryFn: () => callCommand(() => commands.serviceTemplates()),
  });
}

function origin(t: ServiceTemplate): string {
  return t.origin.kind === 'builtIn' ? 'built-in' : `yours: ${t.origin.path}`;
}

/** What was made, what to do next, and "Deploy it" (the deploy wizard on that folder). */
function Created({ created, onDeploy, onAnother }: { created: CreatedService; onDeploy: () => void; onAnother: () => void }) {
  return (
    <Alert color="green" variant="light" icon={<IconCircleCheck aria-hidden />} title={`Created ${created.service} in ${created.folder}`} role="status">
      <Stack gap="xs">
        <Text size="sm">{`${/^[aeiou]/i.test(created.kind) ? 'An' : 'A'} ${created.kind} service for ${created.namespace} (${created.environment}): ${created.files.join(', ')}.`}</Text>
        <List size="sm" type="ordered">
          {created.nextSteps.map((s) => (
            <List.Item key={s}>{s}</List.Item>
          ))}
        </List>
        <Group>
          <Button leftSection={<IconRocket size={16} aria-hidden />} onClick={onDeploy}>
            Deploy it
          </Button>
          <Button variant="default" onClick={onAnother}>
            Make another
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}

/**
 * A new service from a template (the runbook's domain, integration and ai kinds, and the user's
 * templates): name, environment, bindings, description, folder → the files, then "Deploy it".
 */
export function NewServiceForm({ profile, onDeploy }: { profile: Profile; onDeploy?: () => void }) {
  const templates = useTemplates();
  const { navigate } = useNavigation();
  const [templateId, setTemplateId] = useState<string | null>(null);
  const [service, setService] = useState('');
  const [environment, setEnvironment] = useState<Environment>(profile.environment);
  const [bindings, setBindings] = useState<BindingRow[] | null>(null);
  const [description, setDescription] = useState('');
  const [folder, setFolder] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [created, setCreated] = useState<CreatedService | null>(null);

  const list = templates.data?.templates ?? [];
  const chosen = list.find((t) => t.id === templateId) ?? list[0] ?? null;
  // Until edited, the bindings are the template's suggestion.
  const rows = bindings ?? (chosen ? rowsOf(chosen.bindings) : []);
  const nameProblem = serviceNameProblem(service);
  const badBinding = rows.find((r) => !BINDING_NAME.test(r.name) || !SERVICE_NAME.test(r.service));
  const formProblem =
    chosen === null
      ? 'Choose a template.'
      : service === '' || nameProblem
        ? 'Name the service.'
        : folder.trim() === ''
          ? 'Choose the folder for the new service.'
          : badBinding
            ? `Complete the binding ${badBinding.name || '(unnamed)'}: a name like DB_SERVICE and a service like db.`
            : null;

  const setRow = (i: number, change: Partial<BindingRow>) => {
    setBindings(rows.map((r, j) => (j === i ? { ...r, ...change } : r)));
  };

  const create = async (event: SyntheticEvent) => {
    event.preventDefault();
    // The dialog is rendered in a portal, but React bubbles its submit to the forms around it.
    event.stopPropagation();
    if (formProblem || chosen === null) {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const made = await callCommand(() =>
        commands.createService({
          profileId: profile.id,
          templateId: chosen.id,
          service,
          environment,
          folder: folder.trim(),
          bindings: Object.fromEntries(rows.map((r) => [r.name, r.service])),
          description: description.trim() === '' ? null : description.trim(),
        }),
      );
      setCreated(made);
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <Created
        created={created}
        onDeploy={() => {
          navigate('deploy', { deploy: { service: created.service, folder: created.folder } });
          onDeploy?.();
        }}
        onAnother={() => {
          setCreated(null);
          setService('');
          setFolder('');
        }}
      />
    );
  }

  return (
    <form onSubmit={(e) => void create(e)}>
      <Stack gap="md">
        {templates.isPending && <Loader size="sm" aria-label="Loading the templates" />}
        {templates.isError && <ErrorNotice error={templates.error} context="Loading the templates" />}
        {templates.data && (
          <Radio.Group
            label="Template"
            value={chosen?.id ?? null}
            onChange={(id) => {
              setTemplateId(id);
              setBindings(null);
            }}
          >
            <Stack gap="xs" mt="xs">
              {list.map((t) => (
                <Radio key={t.id} value={t.id} label={t.name} description={`${t.description} (${t.kind}; ${origin(t)})`} />
              ))}
            </Stack>
          </Radio.Group>
        )}
        {templates.data && templates.data.problems.length > 0 && (
          <Alert color="orange" variant="light" title="Templates with mistakes (fix them to use them)">
            <Stack gap={4}>
              {templates.data.problems.map((p) => (
                <div key={p.templateId}>
                  <Text size="sm" fw={600}>
                    {p.folder}
                  </Text>
                  <List size="sm">
                    {p.errors.map((e) => (
                      <List.Item key={`${e.file}:${String(e.line)}:${e.message}`}>
                        {e.line > 0 ? `${e.file} line ${String(e.line)}: ${e.message}` : `${e.file}: ${e.message}`}
                      </List.Item>
                    ))}
                  </List>
                </div>
              ))}
            </Stack>
          </Alert>
        )}
        {templates.data && (
          <Text size="xs" c="dimmed">{`Add your own templates as folders in ${templates.data.folder} (template.toml and the files).`}</Text>
        )}
        <Group gap="md" align="flex-start" wrap="wrap">
          <TextInput
            label="Service name"
            placeholder="billing"
            value={service}
            onChange={(e) => {
              setService(e.currentTarget.value.trim());
            }}
            error={nameProblem}
            spellCheck={false}
            autoComplete="off"
            w={240}
          />
          <NativeSelect
            label="Environment"
            description={`Namespace: ${namespaceFor(profile, environment)}`}
            data={ENVIRONMENTS}
            value={environment}
            onChange={(e) => {
              setEnvironment(e.currentTarget.value as Environment);
            }}
            w={240}
          />
        </Group>
        <Stack gap={6}>
          <Text size="sm" fw={500}>
            Service bindings
          </Text>
          {rows.length === 0 && (
            <Text size="sm" c="dimmed">
              None: the service calls no other service.
            </Text>
          )}
          {rows.map((r, i) => (
            <Group key={i} gap="xs" wrap="nowrap">
              <TextInput
                aria-label={`Binding ${String(i + 1)} name`}
                placeholder="DB_SERVICE"
                value={r.name}
                onChange={(e) => {
                  setRow(i, { name: e.currentTarget.value.trim() });
                }}
                spellCheck={false}
                w={200}
              />
              <Text size="sm" aria-hidden>
                →
              </Text>
              <TextInput
                aria-label={`Binding ${String(i + 1)} service`}
                placeholder="db"
                value={r.service}
                onChange={(e) => {
                  setRow(i, { service: e.currentTarget.value.trim() });
                }}
                spellCheck={false}
                w={160}
              />
              <ActionIcon
                variant="subtle"
                color="gray"
                aria-label={`Remove the binding ${r.name || String(i + 1)}`}
                onClick={() => {
                  setBindings(rows.filter((_, j) => j !== i));
                }}
              >
                <IconTrash size={16} aria-hidden />
              </ActionIcon>
            </Group>
          ))}
          <Group>
            <Button
              variant="subtle"
              size="compact-sm"
              leftSection={<IconPlus size={14} aria-hidden />}
              onClick={() => {
                setBindings([...rows, { name: '', service: '' }]);
              }}
            >
              Add a binding
            </Button>
          </Group>
        </Stack>
        <TextInput
          label="Description (optional)"
          placeholder="What the service does, in one line"
          value={description}
          onChange={(e) => {
            setDescription(e.currentTarget.value);
          }}
        />
        <PathField
          label="Folder"
          description="The new service's folder, for example …/workers/billing: it is created (an existing one must be empty). Nothing is ever written over."
          kind="folder"
          value={folder}
          onChange={setFolder}
          placeholder="/home/you/platform/workers/billing"
          chooserTitle="Choose the folder for the new service"
        />
        {error && <ErrorNotice error={error} context="Creating the service" />}
        <Group gap="md">
          <Button type="submit" leftSection={<IconTemplate size={16} aria-hidden />} disabled={formProblem !== null} loading={busy}>
            Create service
          </Button>
          {formProblem && (
            <Text size="sm" c="dimmed">
              {formProblem}
            </Text>
          )}
        </Group>
        <Text size="xs" c="dimmed">
          Building it needs its dependencies installed once (npm install or pnpm install, with the network).
        </Text>
      </Stack>
    </form>
  );
}

/** "New service from a template…": the form in a dialog; "Deploy it" closes it on the deploy wizard. */
export function NewServiceButton({ profile }: { profile: Profile }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button
        variant="subtle"
        size="compact-sm"
        leftSection={<IconTemplate size={14} aria-hidden />}
        onClick={() => {
          setOpen(true);
        }}
      >
        New service from a template…
      </Button>
      <Modal
        opened={open}
        onClose={() => {
          setOpen(false);
        }}
        title="New service from a template"
        size="lg"
      >
        <NewServiceForm
          profile={profile}
          onDeploy={() => {
            setOpen(false);
          }}
        />
      </Modal>
    </>
  );
}
