import { Badge, Box, CloseButton, Group, Kbd, Notification, Text } from '@mantine/core';
import { Spotlight, type SpotlightStore, useSpotlight } from '@mantine/spotlight';
import { IconCircleCheck, IconSearch } from '@tabler/icons-react';
import { type KeyboardEvent, useCallback, useEffect, useId, useMemo, useState } from 'react';

import { ErrorNotice } from '../components/ErrorNotice';
import { type PaletteAction, type PaletteNotice, usePaletteActions } from './palette/actions';
import { frecency, rank, type Use } from './palette/fuzzy';
import { loadUses, recordUse } from './palette/history';

/** Most rows shown for a query (typing more narrows them). */
const MAX_SHOWN = 50;
/** Most recent actions listed first on an empty query. */
const MAX_RECENT = 5;
/** How long a success notice stays (an error stays until dismissed). */
const NOTICE_MS = 8000;

/**
 * Highlight the `index`-th row as Mantine's arrow keys do (its `data-selected` row is what Enter
 * clicks), for the changes of the rows Mantine does not see: a verb completed, live data arriving.
 */
function highlight(store: SpotlightStore, listId: string, index: number) {
  const list = document.getElementById(listId);
  const rows = list?.querySelectorAll('[data-action]') ?? [];
  list?.querySelector('[data-selected]')?.removeAttribute('data-selected');
  const row = rows[index];
  row?.setAttribute('data-selected', 'true');
  store.setState((state) => ({ ...state, selected: row ? index : -1 }));
}

interface Section {
  label: string | null;
  actions: PaletteAction[];
}

/** Empty query: recent and frequent first, then the verbs and simple actions, then the areas. */
function emptyQuerySections(actions: readonly PaletteAction[], uses: ReadonlyMap<string, Use>, nowMs: number): Section[] {
  const recent = actions
    .filter((a) => a.fill === undefined && uses.has(a.id))
    .sort((a, b) => frecency(uses.get(b.id), nowMs) - frecency(uses.get(a.id), nowMs))
    .slice(0, MAX_RECENT);
  const recentIds = new Set(recent.map((a) => a.id));
  const isArea = (a: PaletteAction) => a.id.startsWith('go:');
  const simple = actions.filter(
    (a) => !recentIds.has(a.id) && !isArea(a) && (a.fill !== undefined || a.id === 'health-check' || a.id === 'sync-history'),
  );
  const areas = actions.filter((a) => !recentIds.has(a.id) && isArea(a));
  return [
    { label: 'Recent', actions: recent },
    { label: 'Actions', actions: simple },
    { label: 'Areas', actions: areas },
  ].filter((s) => s.actions.length > 0);
}

function NoticeView({ notice, onDismiss }: { notice: PaletteNotice; onDismiss: () => void }) {
  return (
    <Box className="sy-palette-notice">
      {notice.ok ? (
        <Notification
          role="status"
          icon={<IconCircleCheck size={18} aria-hidden />}
          color="green"
          withCloseButton={false}
          withBorder
        >
          <Group justify="space-between" wrap="nowrap" gap="xs">
            <Text size="sm">{notice.text}</Text>
            <CloseButton size="sm" aria-label="Dismiss" onClick={onDismiss} />
          </Group>
        </Notification>
      ) : (
        <Box>
          <ErrorNotice error={notice.error} context={notice.context} />
          <Group justify="flex-end" mt={4}>
            <CloseButton size="sm" aria-label="Dismiss" onClick={onDismiss} />
          </Group>
        </Box>
      )}
    </Box>
  );
}

interface CommandPaletteProps {
  store: SpotlightStore;
  close: () => void;
}

/**
 * Ctrl/Cmd+K: a modal dialog ("Command palette") with a search box ("Search commands") over a
 * listbox of actions, each with its argument completed from live data: "roll back gateway",
 * "open namespace dotdo-staging", "switch profile staging"… Matching is fuzzy ("rolbak gatew");
 * recent and frequent actions come first. Enter acts on the highlighted one. Actions that change
 * something that matters (deploy, roll back, restore, promote, delete) only open their plan;
 * the others act at once. A verb on its own ("Roll back ‹service›…") fills the search box, for
 * its arguments to be chosen (Tab does the same).
 */
export function CommandPalette({ store, close }: CommandPaletteProps) {
  const { opened, selected } = useSpotlight(store);
  const [query, setQuery] = useState('');
  const [uses, setUses] = useState(loadUses);
  const [notice, setNotice] = useState<PaletteNotice | null>(null);
  // "Now" for recency: when the palette was last opened (uses are re-read then, too: another
  // window of the app may have added some).
  const [openedAt, setOpenedAt] = useState(() => Date.now());
  const listId = `sy-palette-${useId().replace(/:/g, '')}`;

  const notify = useCallback((next: PaletteNotice) => {
    setNotice(next);
  }, []);
  useEffect(() => {
    if (notice?.ok !== true) {
      return undefined;
    }
    const timer = window.setTimeout(() => {
      setNotice(null);
    }, NOTICE_MS);
    return () => {
      window.clearTimeout(timer);
    };
  }, [notice]);

  const actions = usePaletteActions({ opened, query, notify });
  const trimmed = query.trim();
  const sections = useMemo<Section[]>(() => {
    if (trimmed === '') {
      return emptyQuerySections(actions, uses, openedAt);
    }
    // A verb already typed out ("roll back ") is done with: its arguments are what is left.
    const typed = query.trimStart().toLowerCase();
    const open = actions.filter((a) => a.fill === undefined || !typed.startsWith(a.fill));
    return [{ label: null, actions: rank(open, trimmed, uses, openedAt).slice(0, MAX_SHOWN) }];
  }, [actions, query, trimmed, uses, openedAt]);
  const shown = useMemo(() => sections.flatMap((s) => s.actions), [sections]);

  // Whenever the rows change — typing, a verb completed, live data (namespaces, workers…)
  // arriving — the top one is highlighted once they are rendered, so what Enter runs is what is
  // highlighted (and announced).
  const shownKey = shown.map((a) => a.id).join('\n');
  useEffect(() => {
    if (opened && (query.trim() !== '' || store.getState().selected >= 0)) {
      highlight(store, listId, 0);
    }
  }, [shownKey, query, opened, store, listId]);

  /** Type a verb's words into the search box; its arguments are listed (the effect above highlights the first). */
  const fill = setQuery;

  const choose = (action: PaletteAction) => {
    if (action.fill !== undefined) {
      fill(action.fill);
      return;
    }
    setUses((u) => recordUse(u, action.id, Date.now()));
    action.run();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    const code = event.nativeEvent.code;
    if (code === 'ArrowDown' || code === 'ArrowUp') {
      // Mantine moves the highlight after this handler, without telling its store's readers:
      // tell them, so the highlighted option is the active descendant.
      queueMicrotask(() => {
        store.setState((state) => ({ ...state }));
      });
    }
    const isEnter = event.key === 'Enter' || code === 'Enter' || code === 'NumpadEnter';
    const index = store.getState().selected;
    // Nothing highlighted yet: Enter runs the top match (Mantine only runs a highlighted action).
    if (isEnter && index === -1) {
      const first = shown[0];
      if (first) {
        event.preventDefault();
        choose(first);
        if (first.fill === undefined) {
          close();
        }
      }
    }
    // Tab completes a verb still waiting for its argument.
    if (event.key === 'Tab' && !event.shiftKey) {
      const highlighted = shown[index === -1 ? 0 : index];
      if (highlighted?.fill !== undefined) {
        event.preventDefault();
        fill(highlighted.fill);
      }
    }
  };

  const optionId = (i: number) => `${listId}-option-${i}`;
  const activeIndex = selected >= 0 && selected < shown.length ? selected : -1;

  const positions = new Map(shown.map((a, i) => [a.id, i]));
  const renderAction = (action: PaletteAction) => {
    const i = positions.get(action.id) ?? -1;
    const Icon = action.icon;
    return (
      <Spotlight.Action
        key={action.id}
        // Spotlight.Action keeps `id` to itself: the option gets it here, for aria-activedescendant.
        ref={(element: HTMLButtonElement | null) => {
          element?.setAttribute('id', optionId(i));
        }}
        role="option"
        aria-selected={i === activeIndex}
        aria-keyshortcuts={action.shortcut}
        data-opens-plan={action.opensPlan || undefined}
        label={action.label}
        description={action.description}
        closeSpotlightOnTrigger={action.fill === undefined}
        leftSection={<Icon size={20} stroke={1.6} aria-hidden />}
        rightSection={
          action.shortcut || action.opensPlan ? (
            <Group gap={6} wrap="nowrap" aria-hidden>
              {action.opensPlan && (
                <Badge size="xs" variant="default" tt="none">
                  opens plan
                </Badge>
              )}
              {action.shortcut && <Kbd size="xs">{action.shortcut}</Kbd>}
            </Group>
          ) : undefined
        }
        onClick={() => {
          choose(action);
        }}
      />
    );
  };

  return (
    <>
      <Spotlight.Root
        store={store}
        title="Command palette"
        classNames={{ header: 'sy-sr-only' }}
        query={query}
        onQueryChange={setQuery}
        onSpotlightOpen={() => {
          setOpenedAt(Date.now());
          setUses(loadUses());
        }}
        onSpotlightClose={() => {
          setQuery('');
        }}
        shortcut={['mod + K']}
        tagsToIgnore={[]}
        scrollable
        maxHeight={480}
      >
        <Spotlight.Search
          role="combobox"
          aria-label="Search commands"
          aria-expanded={shown.length > 0}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={activeIndex >= 0 ? optionId(activeIndex) : undefined}
          placeholder="Go to an area, or: roll back gateway, open namespace…, switch profile…"
          leftSection={<IconSearch size={18} stroke={1.6} aria-hidden />}
          onKeyDown={onKeyDown}
        />
        {/* Always rendered: Mantine looks the list up by id when Enter is pressed. */}
        <Spotlight.ActionsList id={listId} role="listbox" aria-label="Commands">
          {shown.length > 0 ? (
            sections.map((section) =>
              section.label === null ? (
                section.actions.map(renderAction)
              ) : (
                <Spotlight.ActionsGroup key={section.label} label={section.label} role="group" aria-label={section.label}>
                  {section.actions.map(renderAction)}
                </Spotlight.ActionsGroup>
              ),
            )
          ) : (
            <Spotlight.Empty>
              No command matches. Try an area, or a verb: deploy, roll back, restore, promote, open namespace, open
              worker, logs, start runbook, switch profile, run health check, sync history.
            </Spotlight.Empty>
          )}
        </Spotlight.ActionsList>
        <Spotlight.Footer>
          <Text size="xs" c="dimmed">
            ↑ ↓ to choose · Enter to act (deploys, rollbacks and deletes open their plan) · Tab to complete · Esc to
            close
          </Text>
        </Spotlight.Footer>
      </Spotlight.Root>
      {notice && (
        <NoticeView
          notice={notice}
          onDismiss={() => {
            setNotice(null);
          }}
        />
      )}
    </>
  );
}
