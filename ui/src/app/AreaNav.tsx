import { AppShell, Divider, Kbd, NavLink, Text } from '@mantine/core';

import { type Area, AREAS, areaShortcut } from '../shell/areas';
import { useNavigation } from '../shell/navigation';

function AreaLink({ area }: { area: Area }) {
  const { area: current, navigate } = useNavigation();
  const Icon = area.icon;
  const active = current === area.id;
  return (
    <NavLink
      component="button"
      type="button"
      label={area.label}
      leftSection={<Icon size={18} stroke={1.7} aria-hidden />}
      rightSection={
        <Kbd size="xs" aria-hidden className="sy-nav-hint">
          {areaShortcut(area)}
        </Kbd>
      }
      active={active}
      variant="filled"
      // Explicit name, so tools that read text content do not append the shortcut hint.
      aria-label={area.label}
      aria-current={active ? 'page' : undefined}
      aria-keyshortcuts={areaShortcut(area)}
      onClick={() => {
        navigate(area.id);
      }}
      className="sy-nav-link"
    />
  );
}

/** The sidebar: one button per area; Tab reaches each, Enter or Space opens it, Alt+1…8 too. */
export function AreaNav() {
  const operate = AREAS.filter((a) => a.id !== 'runbooks' && a.id !== 'audit' && a.id !== 'settings');
  // What was done, during an incident and after it: the procedures and the audit log.
  const incidents = AREAS.filter((a) => a.id === 'runbooks' || a.id === 'audit');
  const settings = AREAS.filter((a) => a.id === 'settings');
  return (
    <AppShell.Navbar p="xs" aria-label="Areas" className="sy-navbar">
      <AppShell.Section grow>
        <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" pt={4} pb={6} aria-hidden>
          Operate
        </Text>
        {operate.map((area) => (
          <AreaLink key={area.id} area={area} />
        ))}
        <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" pt="md" pb={6} aria-hidden>
          Incidents
        </Text>
        {incidents.map((area) => (
          <AreaLink key={area.id} area={area} />
        ))}
      </AppShell.Section>
      <AppShell.Section>
        <Divider my="xs" />
        {settings.map((area) => (
          <AreaLink key={area.id} area={area} />
        ))}
      </AppShell.Section>
    </AppShell.Navbar>
  );
}
