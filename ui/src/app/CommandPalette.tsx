import { Kbd, Text } from '@mantine/core';
import { Spotlight, type SpotlightStore } from '@mantine/spotlight';
import { IconSearch } from '@tabler/icons-react';
import { type KeyboardEvent, useMemo, useState } from 'react';

import { AREAS, areaShortcut } from './areas';
import { useNavigation } from './navigation';

interface Command {
  id: string;
  label: string;
  description: string;
  keywords: string[];
  shortcut?: string;
  icon?: typeof IconSearch;
  run: () => void;
}

function matches(command: Command, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (q === '') {
    return true;
  }
  const haystack = [command.label, command.description, ...command.keywords].join(' ').toLowerCase();
  return q.split(/\s+/).every((word) => haystack.includes(word));
}

interface CommandPaletteProps {
  store: SpotlightStore;
  close: () => void;
}

/**
 * Ctrl/Cmd+K: a modal dialog ("Command palette") with a search box ("Search commands").
 * Typing narrows the commands and highlights the top match; Enter runs the highlighted one.
 */
export function CommandPalette({ store, close }: CommandPaletteProps) {
  const { navigate } = useNavigation();
  const [query, setQuery] = useState('');

  const commands = useMemo<Command[]>(
    () =>
      AREAS.map((area) => ({
        id: `go-${area.id}`,
        label: `Go to ${area.label}`,
        description: area.summary,
        keywords: [area.label, area.id],
        shortcut: areaShortcut(area),
        icon: area.icon,
        run: () => {
          navigate(area.id);
        },
      })),
    [navigate],
  );

  const filtered = commands.filter((c) => matches(c, query));

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    const isEnter = event.key === 'Enter' || event.nativeEvent.code === 'Enter' || event.nativeEvent.code === 'NumpadEnter';
    // Nothing highlighted yet: Enter runs the top match (Mantine only runs a highlighted action).
    if (isEnter && store.getState().selected === -1) {
      const first = filtered[0];
      if (first) {
        event.preventDefault();
        first.run();
        close();
      }
    }
  };

  return (
    <Spotlight.Root
      store={store}
      title="Command palette"
      classNames={{ header: 'sy-sr-only' }}
      query={query}
      onQueryChange={setQuery}
      onSpotlightClose={() => {
        setQuery('');
      }}
      shortcut={['mod + K']}
      tagsToIgnore={[]}
      scrollable
      maxHeight={480}
    >
      <Spotlight.Search
        aria-label="Search commands"
        placeholder="Type an area or a command…"
        leftSection={<IconSearch size={18} stroke={1.6} aria-hidden />}
        onKeyDown={onKeyDown}
      />
      {/* Always rendered: Mantine looks the list up by id when Enter is pressed. */}
      <Spotlight.ActionsList>
        {filtered.length > 0 ? (
          filtered.map((c) => {
            const Icon = c.icon;
            return (
              <Spotlight.Action
                key={c.id}
                label={c.label}
                description={c.description}
                leftSection={Icon ? <Icon size={20} stroke={1.6} aria-hidden /> : undefined}
                rightSection={
                  c.shortcut ? (
                    <Kbd size="xs" aria-hidden>
                      {c.shortcut}
                    </Kbd>
                  ) : undefined
                }
                onClick={c.run}
              />
            );
          })
        ) : (
          <Spotlight.Empty>No command matches. Commands so far: go to an area.</Spotlight.Empty>
        )}
      </Spotlight.ActionsList>
      <Spotlight.Footer>
        <Text size="xs" c="dimmed">
          ↑ ↓ to choose · Enter to run · Esc to close
        </Text>
      </Spotlight.Footer>
    </Spotlight.Root>
  );
}
