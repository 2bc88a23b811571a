import { ActionIcon, Alert, Badge, Button, Group, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconPlus, IconRocket, IconTrash } from '@tabler/icons-react';
import { useMutation } from '@tanstack/react-query';
import { createContext, useContext, useMemo, useState } from 'react';

import { useNavigation } from '../../shell/navigation';
import { type DataColumn, DataTable } from '../../components/DataTable';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PathField } from '../../components/PathField';
import { commands } from '../../ipc/bindings';
import { type AppError, type BindingEdit as BindingEdit, type BindingsEditApplied as BindingsEditApplied, type BindingsEditPlan as BindingsEditPlan, type CodeDiff as CodeDiff, type FolderBindings as FolderBindings } from '../../ipc/types';
import { callCommand } from '../../ipc/errors';
import '../deploy/deploy.css';
import { DiffLines } from '../deploy/CodeDiffView';
import { bindingDiffRows, BindingsDiffTable } from './BindingsDiffTable';

/** One row of the bindings form: a service binding as typed, and the name it had in the file. */
export interface BindingRow {
  /** A stable key for React (not shown). */
  key: string;
  /** The binding's name in the file when it was read (null: a new row). */
  original: string | null;
  binding: string;
  service: string;
  /** The named entrypoint; empty for the default export. */
  entrypoint: string;
}

let rowCounter = 0;

/** A new row (empty unless given). */
export function newBindingRow(binding = '', service = '', original: string | null = null, entrypoint = ''): BindingRow {
  rowCounter += 1;
  return { key: `row-${rowCounter}`, original, binding, service, entrypoint };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** What is wrong with a row, in words (null: nothing), given every row's names. */
export function rowProblem(row: BindingRow, rows: BindingRow[]): string | null {
  const name = row.binding.trim();
  if (name === '') {
    return 'Type the binding name, for example DB_SERVICE.';
  }
  if (!IDENTIFIER.test(name)) {
    return `${name} is not a binding name: use letters, digits and _, starting with a letter (it becomes env.${name.replace(/[^A-Za-z0-9_]/g, '_')}).`;
  }
  if (rows.filter((r) => r.binding.trim() === name).length > 1) {
    return `Two bindings are named ${name}: rename one.`;
  }
  const service = row.service.trim();
  if (service === '') {
    return `Type the service ${name} calls, for example db.`;
  }
  if (/[\s/]/.test(service)) {
    return `${service} is not a worker name: no spaces or /.`;
  }
  const entrypoint = row.entrypoint.trim();
  if (entrypoint !== '' && !IDENTIFIER.test(entrypoint)) {
    return `${entrypoint} is not an entrypoint: it is a class name, letters, digits and _.`;
  }
  return null;
}

/** The bindings the rows give, binding → service (what a deploy sends); rows with a problem left out. */
export function rowsToBindings(rows: BindingRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) {
    if (rowProblem(r, rows) === null) {
      out[r.binding.trim()] = r.service.trim();
    }
  }
  return out;
}

/** Rows for bindings given as binding → service (e.g. what runs now). */
export function bindingsToRows(bindings: Partial<Record<string, string>>): BindingRow[] {
  return Object.entries(bindings).map(([b, s]) => newBindingRow(b, s ?? '', b));
}

/** A row's name in labels: its binding, or its place while unnamed. */
function rowLabel(row: BindingRow, index: number): string {
  return row.binding.trim() === '' ? `binding ${index + 1}` : row.binding.trim();
}

/** One of a row's fields as a text box, labelled "<Field> of <binding>". */
function RowField({
  row,
  index,
  field,
  name,
  placeholder,
  disabled,
  error,
  onSet,
}: {
  row: BindingRow;
  index: number;
  field: 'binding' | 'service' | 'entrypoint';
  name: string;
  placeholder: string;
  disabled: boolean;
  error?: string | null;
  onSet: (key: string, patch: Partial<BindingRow>) => void;
}) {
  return (
    <TextInput
      aria-label={`${name} of ${rowLabel(row, index)}`}
      value={row[field]}
      placeholder={placeholder}
      disabled={disabled}
      error={error}
      spellCheck={false}
      autoComplete="off"
      onChange={(e) => {
        onSet(row.key, { [field]: e.currentTarget.value });
      }}
    />
  );
}

/** What every row of the form reads: the rows (a name must be unique), and how a row changes. */
interface FormState {
  rows: BindingRow[];
  disabled: boolean;
  onSet: (key: string, patch: Partial<BindingRow>) => void;
  onRemove: (key: string) => void;
}

// The cells read the form through a context rather than from columns made anew on each keystroke:
// new columns would mount new cells, and the field being typed in would lose its focus.
const FormContext = createContext<FormState>({ rows: [], disabled: true, onSet: () => undefined, onRemove: () => undefined });

type FormCell = NonNullable<DataColumn<BindingRow>['cell']>;

const NameCell: FormCell = ({ row: { original: r, index } }) => {
  const { rows, disabled, onSet } = useContext(FormContext);
  return (
    <>
      <RowField
        row={r}
        index={index}
        field="binding"
        name="Name"
        placeholder="DB_SERVICE"
        disabled={disabled}
        error={rowProblem(r, rows)}
        onSet={onSet}
      />
      {r.original !== null && r.original !== r.binding.trim() && (
        <Text size="xs" c="dimmed">{`renamed from ${r.original}`}</Text>
      )}
    </>
  );
};

const ServiceCell: FormCell = ({ row: { original: r, index } }) => {
  const { disabled, onSet } = useContext(FormContext);
  return <RowField row={r} index={index} field="service" name="Service" placeholder="db" disabled={disabled} onSet={onSet} />;
};

const EntrypointCell: FormCell = ({ row: { original: r, index } }) => {
  const { disabled, onSet } = useContext(FormContext);
  return (
    <RowField row={r} index={index} field="entrypoint" name="Entrypoint" placeholder="default export" disabled={disabled} onSet={onSet} />
  );
};

const RemoveCell: FormCell = ({ row: { original: r, index } }) => {
  const { disabled, onRemove } = useContext(FormContext);
  return (
    <ActionIcon
      variant="subtle"
      color="red"
      disabled={disabled}
      aria-label={`Remove ${rowLabel(r, index)}`}
      onClick={() => {
        onRemove(r.key);
      }}
    >
      <IconTrash size={16} aria-hidden />
    </ActionIcon>
  );
};

const FORM_COLUMNS: DataColumn<BindingRow>[] = [
  { id: 'binding', header: 'Binding', cell: NameCell },
  { id: 'service', header: 'Service', cell: ServiceCell },
  { id: 'entrypoint', header: 'Entrypoint', cell: EntrypointCell },
  { id: 'remove', header: () => <span className="sy-sr-only">Remove</span>, meta: { width: 56 }, cell: RemoveCell },
];

const FORM_COLUMNS_NO_ENTRYPOINT = FORM_COLUMNS.filter((c) => c.id !== 'entrypoint');

const bindingRowKey = (r: BindingRow) => r.key;

/**
 * The service bindings as editable rows: add, rename, point elsewhere, remove. Controlled: rows in,
 * rows out, no file. The bundle-file deploy uses it for the bindings it sends.
 */
export function BindingsForm({
  rows,
  onChange,
  showEntrypoint = false,
  disabled = false,
}: {
  rows: BindingRow[];
  onChange: (rows: BindingRow[]) => void;
  showEntrypoint?: boolean;
  disabled?: boolean;
}) {
  const form = useMemo<FormState>(
    () => ({
      rows,
      disabled,
      onSet: (key, patch) => {
        onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
      },
      onRemove: (key) => {
        onChange(rows.filter((r) => r.key !== key));
      },
    }),
    [rows, disabled, onChange],
  );
  return (
    <Stack gap="xs">
      {rows.length === 0 && (
        <Text size="sm" c="dimmed">
          No service bindings.
        </Text>
      )}
      {rows.length > 0 && (
        <FormContext.Provider value={form}>
          <DataTable
            label="Service bindings"
            rows={rows}
            columns={showEntrypoint ? FORM_COLUMNS : FORM_COLUMNS_NO_ENTRYPOINT}
            rowId={bindingRowKey}
            highlightOnHover={false}
            verticalSpacing={6}
            wrapCells
            virtual={false}
          />
        </FormContext.Provider>
      )}
      <Group>
        <Button
          variant="default"
          size="xs"
          leftSection={<IconPlus size={14} aria-hidden />}
          disabled={disabled}
          onClick={() => {
            onChange([...rows, newBindingRow()]);
          }}
        >
          Add a binding
        </Button>
      </Group>
    </Stack>
  );
}

/** The edits that turn the file's bindings into the rows: removes, renames, retargets, adds. */
export function editsFor(file: FolderBindings, rows: BindingRow[]): BindingEdit[] {
  const kept = new Set(rows.map((r) => r.original).filter((o): o is string => o !== null));
  const removes: BindingEdit[] = file.bindings
    .filter((b) => !kept.has(b.binding))
    .map((b) => ({ op: 'remove', binding: b.binding }));
  const renames: BindingEdit[] = [];
  const retargets: BindingEdit[] = [];
  const adds: BindingEdit[] = [];
  for (const r of rows) {
    const binding = r.binding.trim();
    const service = r.service.trim();
    const entrypoint = r.entrypoint.trim() === '' ? null : r.entrypoint.trim();
    const before = r.original === null ? undefined : file.bindings.find((b) => b.binding === r.original);
    if (before === undefined) {
      adds.push({ op: 'add', binding, service, entrypoint });
      continue;
    }
    if (before.binding !== binding) {
      renames.push({ op: 'rename', from: before.binding, to: binding });
    }
    if (before.service !== service || (before.entrypoint ?? null) !== entrypoint) {
      retargets.push({ op: 'retarget', binding, service, entrypoint });
    }
  }
  return [...removes, ...renames, ...retargets, ...adds];
}

/** The file's unified diff (the same look as the deploy's code diff). */
function FileDiff({ diff, file }: { diff: CodeDiff; file: string }) {
  const n = (k: number) => `${k} line${k === 1 ? '' : 's'}`;
  return (
    <Stack gap={6} role="group" aria-label="Changes to the file">
      <Group gap="xs">
        <Text fw={600} size="sm">
          {file}
        </Text>
        {diff.added > 0 && <Badge color="green" tt="none">{`+${diff.added}`}</Badge>}
        {diff.removed > 0 && <Badge color="red" tt="none">{`−${diff.removed}`}</Badge>}
        <Text size="sm">{diff.identical ? 'No change to the file.' : `${n(diff.added)} added, ${n(diff.removed)} removed; every other line is kept as it is.`}</Text>
      </Group>
      {diff.truncated && (
        <Text size="sm" c="yellow.8">
          {diff.truncated}
        </Text>
      )}
      {diff.hunks.length > 0 && (
        <DiffLines diff={diff} label="File changes, line by line" />
      )}
    </Stack>
  );
}

const REDEPLOY_DIFFERENCE = {
  differing: 'Changed by the redeploy',
  onlyLocal: 'Added by the redeploy',
  onlyDeployed: 'Removed by the redeploy',
} as const;

/** The edited file against the deployed worker's bindings. */
function DeployedDifference({ plan }: { plan: BindingsEditPlan }) {
  const rows = useMemo(
    () => (plan.deployed === null ? [] : bindingDiffRows(plan.deployed, REDEPLOY_DIFFERENCE, ['onlyLocal', 'onlyDeployed', 'differing'])),
    [plan.deployed],
  );
  return (
    <Stack gap={6} role="group" aria-label="Against the deployed worker">
      <Text fw={600} size="sm">{`Against ${plan.worker} deployed in ${plan.namespace}`}</Text>
      <Text size="sm">{plan.deployedNote}</Text>
      {rows.length > 0 && (
        <BindingsDiffTable label="Bindings: edited file against the deployed worker" rows={rows} localHeader="In the file" />
      )}
    </Stack>
  );
}

/**
 * Bindings edited in place: a service folder's wrangler.jsonc service bindings as a form; the
 * change reviewed (file diff, services missing from the namespace, the deployed difference) and
 * saved with the file's comments and formatting kept; then the redeploy the change needs.
 */
export function BindingsEditor({ profileId }: { profileId: string }) {
  const { navigate } = useNavigation();
  const [folder, setFolder] = useState('');
  const [file, setFile] = useState<FolderBindings | null>(null);
  const [rows, setRows] = useState<BindingRow[]>([]);
  const [plan, setPlan] = useState<BindingsEditPlan | null>(null);
  const [saved, setSaved] = useState<BindingsEditApplied | null>(null);

  const read = useMutation<FolderBindings, AppError, string>({
    mutationFn: (path) => callCommand(() => commands.folderBindings(path)),
    onSuccess: (f) => {
      setFile(f);
      setRows(f.bindings.map((b) => newBindingRow(b.binding, b.service, b.binding, b.entrypoint ?? '')));
      setPlan(null);
      setSaved(null);
    },
  });
  const review = useMutation<BindingsEditPlan, AppError, BindingEdit[]>({
    mutationFn: (edits) => callCommand(() => commands.planBindingsEdit({ profileId, folder, edits, baseSha256: null })),
    onSuccess: setPlan,
  });
  const save = useMutation<BindingsEditApplied, AppError, BindingsEditPlan>({
    mutationFn: (p) =>
      callCommand(() => commands.applyBindingsEdit({ profileId, folder, edits: file === null ? [] : editsFor(file, rows), baseSha256: p.baseSha256 })),
    onSuccess: (applied) => {
      setSaved(applied);
      setPlan(null);
      setFile((f) => (f === null ? f : { ...f, sha256: applied.sha256, bindings: applied.bindings }));
      setRows(applied.bindings.map((b) => newBindingRow(b.binding, b.service, b.binding, b.entrypoint ?? '')));
    },
  });

  const edits = file === null ? [] : editsFor(file, rows);
  const problems = rows.some((r) => rowProblem(r, rows) !== null);
  const changeRows = (next: BindingRow[]) => {
    setRows(next);
    setPlan(null);
    setSaved(null);
  };

  return (
    <Stack gap="md">
      <Paper withBorder p="md">
        <Stack gap="sm">
          <Title order={3} size="h4">
            Service bindings of a folder
          </Title>
          <Text size="sm" c="dimmed">
            Edits the services list of wrangler.jsonc in place: comments, order and formatting stay as they are. Bindings change only when the service is deployed again.
          </Text>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              read.mutate(folder);
            }}
          >
            <Stack gap="xs">
              <PathField
                label="Service folder"
                description="The folder with wrangler.jsonc, e.g. workers/gateway in the platform's repository."
                kind="folder"
                value={folder}
                onChange={(v) => {
                  setFolder(v);
                  setFile(null);
                  setPlan(null);
                  setSaved(null);
                }}
                placeholder="/home/you/platform/workers/gateway"
                chooserTitle="Choose the service folder"
              />
              <Group>
                <Button type="submit" variant="default" loading={read.isPending} disabled={folder.trim() === ''}>
                  Read bindings
                </Button>
              </Group>
            </Stack>
          </form>
          {read.isError && <ErrorNotice error={read.error} context="Reading the bindings" />}
        </Stack>
      </Paper>

      {file !== null && (
        <Paper withBorder p="md">
          <Stack gap="sm">
            <Text size="sm">{`${file.file}${file.workerName ? ` — worker ${file.workerName}` : ''}`}</Text>
            <BindingsForm rows={rows} onChange={changeRows} showEntrypoint />
            {file.vars.length > 0 && (
              <Text size="xs" c="dimmed">{`Variables (not edited here): ${file.vars.join(', ')}.`}</Text>
            )}
            <Group>
              <Button
                onClick={() => {
                  review.mutate(edits);
                }}
                loading={review.isPending}
                disabled={edits.length === 0 || problems}
              >
                Review changes
              </Button>
              {edits.length === 0 && (
                <Text size="sm" c="dimmed">
                  No change yet.
                </Text>
              )}
            </Group>
            {review.isError && <ErrorNotice error={review.error} context="Reviewing the change" />}
          </Stack>
        </Paper>
      )}

      {plan !== null && (
        <Paper withBorder p="md" aria-label="The change, reviewed">
          <Stack gap="md">
            <FileDiff diff={plan.fileDiff} file={plan.file} />
            {plan.missingServices.length > 0 ? (
              <Alert color="red" title={`Not in ${plan.namespace}`} role="alert">
                {plan.services
                  .filter((s) => s.exists === false)
                  .map((s) => (
                    <Text size="sm" key={s.service}>{`${s.service} (bound as ${s.bindings.join(', ')}): ${s.note ?? 'not found'}`}</Text>
                  ))}
              </Alert>
            ) : (
              <Text size="sm">
                {plan.services.every((s) => s.exists === true)
                  ? `Every bound service is deployed in ${plan.namespace}.`
                  : `Some services could not be checked in ${plan.namespace}: ${plan.services
                      .filter((s) => s.exists === null)
                      .map((s) => `${s.service} (${s.note ?? 'unknown'})`)
                      .join('; ')}`}
              </Text>
            )}
            <DeployedDifference plan={plan} />
            <Text size="sm">{plan.envInterface.note}</Text>
            {plan.notes.map((n) => (
              <Text size="sm" key={n}>
                {n}
              </Text>
            ))}
            <Group>
              <Button
                onClick={() => {
                  save.mutate(plan);
                }}
                loading={save.isPending}
              >
                Save to wrangler.jsonc
              </Button>
            </Group>
          </Stack>
        </Paper>
      )}
      {save.isError && <ErrorNotice error={save.error} context="Saving the bindings" />}

      {saved !== null && (
        <Alert color="green" title="Bindings saved" role="status">
          <Stack gap={4}>
            <Text size="sm">{saved.message}</Text>
            <Text size="sm">{saved.envInterface.note}</Text>
            <Group mt="xs">
              <Button
                leftSection={<IconRocket size={16} aria-hidden />}
                onClick={() => {
                  navigate('deploy', { deploy: { service: saved.worker, folder: saved.folder } });
                }}
              >
                Open the redeploy
              </Button>
            </Group>
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}
