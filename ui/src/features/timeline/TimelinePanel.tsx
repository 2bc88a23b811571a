import {
  Badge,
  Button,
  Group,
  Loader,
  NativeSelect,
  Paper,
  Stack,
  Text,
  Textarea,
  TextInput,
  VisuallyHidden,
} from '@mantine/core';
import { IconClipboardCopy, IconDeviceFloppy, IconNote, IconPin, IconPinned, IconRefresh } from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';

import { activeProfileOf } from '../../shell/environment';
import type { NavigationTarget } from '../../shell/navigation';
import { ErrorNotice } from '../../components/ErrorNotice';
import { formatLocalTime } from '../../components/time';
import { type Timeline as Timeline, type TimelineItem as TimelineItem } from '../../ipc/types';
import { useAppInfo } from '../../ipc/queries';
import { useRuns } from '../../ipc/runbooks';
import {
  choiceValue,
  DEFAULT_CHOICE,
  formatLineTime,
  KIND_COLOR,
  KIND_LABEL,
  plural,
  toLocalInput,
  TONE_COLOR,
  toWindow,
  WINDOW_PRESETS,
  type WindowChoice,
  type WindowPreset,
  windowWords,
} from './timelineModel';
import { joinPages, timelineKey, useAddNote, usePinItem, useSaveTimeline, useTimeline, useTimelineMarkdown } from './useTimeline';
import './timeline.css';

/** Where the Timeline tab was asked to open (a run, a range of time). */
export type TimelineTarget = NonNullable<NavigationTarget['timeline']>;

/** How many recent runs the window chooser offers. */
const RECENT_RUNS = 20;

/** The choice a navigation target asks for: a run, or a range of time. */
function choiceOf(target: TimelineTarget | undefined): WindowChoice | null {
  if (!target) {
    return null;
  }
  if (target.runId !== undefined) {
    return { kind: 'run', runId: target.runId };
  }
  if (target.sinceMs !== undefined) {
    const until = target.untilMs ?? Date.now();
    return { kind: 'range', from: toLocalInput(target.sinceMs), to: toLocalInput(until) };
  }
  return null;
}

/** A log item's invocations, monospace, oldest first; the item's own failure marked. */
function LogLines({ item }: { item: TimelineItem }) {
  return (
    <ol className="sy-tl-log" aria-label={`Log excerpt: ${item.title}`}>
      {item.logLines.map((line, i) => (
        <li
          // Lines have no id of their own; their order never changes.
          key={i}
          className="sy-tl-log-line"
          data-focus={line.focus || undefined}
          data-failed={line.failed || undefined}
          aria-current={line.focus ? 'true' : undefined}
        >
          <span className="sy-tl-log-mark" aria-hidden>
            {line.focus ? '▶' : line.failed ? '✖' : ''}
          </span>
          {(line.focus || line.failed) && (
            <VisuallyHidden>{line.focus ? 'This failure: ' : 'Another failure: '}</VisuallyHidden>
          )}
          <time className="sy-tl-log-time" dateTime={new Date(line.atMs ?? 0).toISOString()}>
            {formatLineTime(line.atMs ?? 0)}
          </time>
          <span className="sy-tl-log-text">{line.text}</span>
        </li>
      ))}
    </ol>
  );
}

function ItemRow({
  item,
  onPin,
  pinning,
}: {
  item: TimelineItem;
  onPin: (item: TimelineItem) => void;
  pinning: boolean;
}) {
  const labelId = `sy-tl-${item.id.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  return (
    <li className="sy-tl-item" aria-labelledby={labelId} data-pinned={item.pinned || undefined}>
      <Group gap="sm" wrap="nowrap" align="flex-start">
        <Text size="xs" c="dimmed" className="sy-tl-time" component="time" dateTime={new Date(item.atMs ?? 0).toISOString()}>
          {formatLocalTime(item.atMs ?? 0)}
        </Text>
        <Badge size="sm" variant="filled" color={KIND_COLOR[item.kind]} tt="none" className="sy-tl-kind">
          {KIND_LABEL[item.kind]}
        </Badge>
        <Stack gap={2} className="sy-tl-body">
          <Group gap="xs" wrap="wrap">
            <Text size="sm" fw={600} id={labelId} className="sy-tl-title">
              {item.title}
            </Text>
            {item.outcome !== null && (
              <Badge size="sm" variant="filled" color={TONE_COLOR[item.tone]} tt="none">
                {item.outcome}
              </Badge>
            )}
          </Group>
          {item.actor !== null && (
            <Text size="xs" c="dimmed">
              {`by ${item.actor}`}
            </Text>
          )}
          {item.detail !== null && (
            <Text size="xs" className="sy-tl-detail">
              {item.detail}
            </Text>
          )}
          {item.outputTail !== null && (
            <pre className="sy-tl-output" aria-label={`Last lines of output: ${item.title}`}>
              {item.outputTail}
            </pre>
          )}
          {item.logLines.length > 0 && <LogLines item={item} />}
        </Stack>
        <Button
          size="compact-xs"
          className="sy-tl-pin"
          variant={item.pinned ? 'filled' : 'subtle'}
          aria-pressed={item.pinned}
          aria-label={`Pin ${item.title}`}
          disabled={pinning}
          leftSection={item.pinned ? <IconPinned size={14} aria-hidden /> : <IconPin size={14} aria-hidden />}
          onClick={() => {
            onPin(item);
          }}
        >
          {item.pinned ? 'Pinned' : 'Pin'}
        </Button>
      </Group>
    </li>
  );
}

/** What the window looked at, in words. */
function lookedAt(t: Timeline): string {
  const run = t.run ? ` around the run “${t.run.title}”` : '';
  return `${t.profileName}${run}, ${windowWords(t.sinceMs ?? 0, t.untilMs ?? 0)}`;
}

/**
 * The incident timeline of a profile: a window (recent hours, a range, or a runbook run), every
 * action, health change, deployment, runbook step and note in it, oldest first; pins, notes and
 * Markdown to copy or save.
 */
export function TimelinePanel({ target }: { target?: TimelineTarget }) {
  const appInfo = useAppInfo();
  const runs = useRuns();
  const client = useQueryClient();
  const [choice, setChoiceState] = useState<WindowChoice>(() => choiceOf(target) ?? DEFAULT_CHOICE);
  // Presets count back from when they were chosen (or refreshed), not from every render.
  const [nowMs, setNowMs] = useState(() => Date.now());
  // A new request to open a run's timeline while the area is shown.
  const [seenTarget, setSeenTarget] = useState(target);
  if (target !== seenTarget) {
    setSeenTarget(target);
    const next = choiceOf(target);
    if (next) {
      setChoiceState(next);
    }
  }
  const setChoice = (next: WindowChoice) => {
    setNowMs(Date.now());
    setChoiceState(next);
  };
  const [note, setNote] = useState('');
  const [notice, setNotice] = useState<string | null>(null);

  const profiles = appInfo.data?.profiles ?? [];
  const active = appInfo.data ? activeProfileOf(appInfo.data.profiles, appInfo.data.activeProfile) : undefined;
  const profileId = target?.profileId ?? active?.id ?? '';
  const asked = useMemo(() => toWindow(choice, profileId, nowMs), [choice, profileId, nowMs]);
  const request = 'window' in asked ? asked.window : null;
  const timeline = useTimeline(profileId === '' && choice.kind !== 'run' ? null : request);
  const pin = usePinItem();
  const addNote = useAddNote();
  const markdown = useTimelineMarkdown();
  const save = useSaveTimeline();

  const recentRuns = (runs.data ?? []).slice(0, RECENT_RUNS);
  const profileName = (id: string) => profiles.find((p) => p.id === id)?.name ?? id;
  const runChoices = recentRuns.map((r) => ({
    value: `run:${r.id}`,
    label: `${r.title} — ${r.startedMs !== null ? formatLocalTime(r.startedMs) : ''}${r.profileId === profileId ? '' : ` (${profileName(r.profileId)})`}`,
  }));
  // A run asked for that the list does not hold (yet) stays a choice.
  if (choice.kind === 'run' && !runChoices.some((c) => c.value === choiceValue(choice))) {
    runChoices.unshift({ value: choiceValue(choice), label: timeline.data?.pages[0]?.run?.title ?? 'The run opened' });
  }

  const t = useMemo(() => joinPages(timeline.data?.pages), [timeline.data]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = timeline;
  const shownProfile = t?.profileId ?? profileId;
  const copy = () => {
    if (!request) return;
    setNotice(null);
    markdown.mutate(request, {
      onSuccess: (text) => {
        navigator.clipboard.writeText(text).then(
          () => {
            setNotice(
              t && t.earlier > 0
                ? 'Copied the whole timeline of the window (earlier items included) to the clipboard as Markdown.'
                : `Copied the timeline (${plural(t?.items.length ?? 0, 'item', 'items')}) to the clipboard as Markdown.`,
            );
          },
          (error: unknown) => {
            setNotice(
              `Copying to the clipboard failed (${error instanceof Error ? error.message : String(error)}). Use “Save as Markdown…” instead.`,
            );
          },
        );
      },
    });
  };
  const submitNote = () => {
    const text = note.trim();
    if (text === '' || shownProfile === '') return;
    setNotice(null);
    addNote.mutate(
      { profileId: shownProfile, atMs: null, text, runId: t?.run?.id ?? null },
      {
        onSuccess: (item) => {
          setNote('');
          // Presets end now: read them again so the note, written now, is inside.
          if (choice.kind === 'preset') {
            setNowMs(Date.now());
          }
          const at = item.atMs ?? 0;
          if (t && choice.kind === 'range' && at >= (t.untilMs ?? 0)) {
            setNotice(`Note saved at ${formatLocalTime(at)}, after the end of this window: choose a window that includes it to see it.`);
          } else {
            setNotice(`Note added at ${formatLocalTime(at)}.`);
          }
        },
      },
    );
  };

  return (
    <Stack gap="md" className="sy-tl">
      <Text size="sm" c="dimmed">
        One profile’s actions, health changes, deployments, runbook steps, notes and the failures its log tails saw
        (with the requests around each), oldest first, on this computer’s clock. Keys and tokens are shown as ***. Pin
        what matters: pinned items lead the Markdown export.
      </Text>
      <Group gap="sm" align="flex-end" wrap="wrap">
        <NativeSelect
          label="Window"
          value={choiceValue(choice)}
          data={[
            ...WINDOW_PRESETS.map((p) => ({ value: p.value, label: p.label })),
            { value: 'range', label: 'From – to…' },
            ...(runChoices.length > 0 ? [{ group: 'Recent runbook runs', items: runChoices }] : []),
          ]}
          onChange={(event) => {
            const v = event.currentTarget.value;
            if (v.startsWith('run:')) {
              setChoice({ kind: 'run', runId: v.slice(4) });
            } else if (v === 'range') {
              const until = Date.now();
              setChoice({ kind: 'range', from: toLocalInput(until - 3_600_000), to: toLocalInput(until) });
            } else {
              setChoice({ kind: 'preset', preset: v as WindowPreset });
            }
          }}
          w={320}
        />
        {choice.kind === 'range' && (
          <>
            <TextInput
              type="datetime-local"
              label="From"
              value={choice.from}
              onChange={(event) => {
                setChoice({ ...choice, from: event.currentTarget.value });
              }}
              w={210}
            />
            <TextInput
              type="datetime-local"
              label="To"
              value={choice.to}
              error={'problem' in asked && asked.problem.startsWith('To is before') ? asked.problem : undefined}
              onChange={(event) => {
                setChoice({ ...choice, to: event.currentTarget.value });
              }}
              w={210}
            />
          </>
        )}
        <Button
          variant="default"
          leftSection={<IconRefresh size={16} aria-hidden />}
          onClick={() => {
            setNowMs(Date.now());
            void client.invalidateQueries({ queryKey: timelineKey });
          }}
        >
          Refresh timeline
        </Button>
        <Button
          variant="default"
          leftSection={<IconClipboardCopy size={16} aria-hidden />}
          disabled={!request || !t}
          loading={markdown.isPending}
          onClick={copy}
        >
          Copy as Markdown
        </Button>
        <Button
          variant="default"
          leftSection={<IconDeviceFloppy size={16} aria-hidden />}
          disabled={!request || !t}
          loading={save.isPending}
          onClick={() => {
            if (!request) return;
            setNotice(null);
            save.mutate(request, {
              onSuccess: (path) => {
                // A cancelled dialog saved nothing, and says nothing.
                if (path !== null) setNotice(`Saved to ${path}`);
              },
            });
          }}
        >
          Save as Markdown…
        </Button>
      </Group>
      {notice !== null && (
        <Text size="sm" role="status">
          {notice}
        </Text>
      )}
      {markdown.isError && <ErrorNotice error={markdown.error} context="Copying the timeline" />}
      {save.isError && <ErrorNotice error={save.error} context="Saving the timeline" />}
      {pin.isError && <ErrorNotice error={pin.error} context="Pinning an item" />}
      {'problem' in asked ? (
        <Text size="sm" role="status">
          {asked.problem}
        </Text>
      ) : profileId === '' && choice.kind !== 'run' ? (
        <Text size="sm">Choose a profile in the top bar to see its timeline.</Text>
      ) : timeline.isPending ? (
        <Group gap="xs" role="status">
          <Loader size="sm" aria-hidden />
          <Text size="sm">Reading the timeline…</Text>
        </Group>
      ) : timeline.isError ? (
        <ErrorNotice
          error={timeline.error}
          context="Reading the timeline"
          onRetry={() => {
            void timeline.refetch();
          }}
        />
      ) : t ? (
        <>
          <Text size="sm" aria-live="polite" id="sy-tl-count">
            {t.items.length === 0
              ? `Nothing was recorded on ${lookedAt(t)}: no action in the audit log, health change, deployment, runbook step, note or failure in the logs. Choose a longer window or another run.`
              : `${plural(t.items.length, 'item', 'items')} on ${lookedAt(t)}${t.pinned.length > 0 ? ` · ${plural(t.pinned.length, 'pinned', 'pinned')}` : ''}`}
          </Text>
          {hasNextPage && t.earlier > 0 && (
            <Paper withBorder p="sm">
              <Group gap="sm">
                <Text size="sm">
                  {t.earlierExact
                    ? `${plural(t.earlier, 'earlier item', 'earlier items')} in this window ${t.earlier === 1 ? 'is' : 'are'} not shown yet.`
                    : `At least ${plural(t.earlier, 'earlier item', 'earlier items')} in this window are not shown yet.`}
                </Text>
                <Button
                  variant="light"
                  size="compact-sm"
                  loading={isFetchingNextPage}
                  onClick={() => {
                    if (!isFetchingNextPage) void fetchNextPage();
                  }}
                >
                  Show earlier items
                </Button>
              </Group>
            </Paper>
          )}
          {t.items.length > 0 && (
            <ol className="sy-tl-list" aria-label="Timeline" aria-describedby="sy-tl-count">
              {t.items.map((item) => (
                <ItemRow
                  key={item.id}
                  item={item}
                  pinning={pin.isPending && pin.variables.itemId === item.id}
                  onPin={(i) => {
                    pin.mutate({ profileId: t.profileId, itemId: i.id, pinned: !i.pinned });
                  }}
                />
              ))}
            </ol>
          )}
          {t.notShown > 0 && (
            <Paper withBorder p="sm">
              <Text size="sm">
                {`${t.notShownExact ? '' : 'At least '}${plural(t.notShown, 'more item', 'more items')} in this window ${
                  t.notShown === 1 ? 'is' : 'are'
                } not shown (at most ${t.items.length.toLocaleString()} are listed). Choose a shorter window to see ${
                  t.notShown === 1 ? 'it' : 'them'
                }.`}
              </Text>
            </Paper>
          )}
          <Paper withBorder p="sm" component="section" aria-label="Add a note">
            <Stack gap={6} maw={640}>
              <Textarea
                label="Note"
                description={`Written at the current time by you, on ${t.profileName}'s timeline. Keys in it are stored as ***.`}
                value={note}
                autosize
                minRows={2}
                onChange={(event) => {
                  setNote(event.currentTarget.value);
                }}
              />
              {addNote.isError && <ErrorNotice error={addNote.error} context="Saving the note" />}
              <Group>
                <Button
                  leftSection={<IconNote size={16} aria-hidden />}
                  disabled={note.trim() === ''}
                  loading={addNote.isPending}
                  onClick={submitNote}
                >
                  Add a note
                </Button>
              </Group>
            </Stack>
          </Paper>
        </>
      ) : null}
    </Stack>
  );
}
