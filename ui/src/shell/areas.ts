import {
  IconActivityHeartbeat,
  IconBoxMultiple,
  IconChecklist,
  IconClipboardList,
  IconHistory,
  IconListDetails,
  IconRocket,
  IconSettings,
} from '@tabler/icons-react';

/** The eight areas of the window, in sidebar order. Alt+1…Alt+8 follow this order. */
export const AREA_IDS = ['deployments', 'deploy', 'namespaces', 'health', 'logs', 'runbooks', 'audit', 'settings'] as const;
export type AreaId = (typeof AREA_IDS)[number];

export interface Area {
  id: AreaId;
  /** Accessible name of the sidebar button and text of the area's h1. */
  label: string;
  icon: typeof IconRocket;
  /** Alt+N, 1-based position. */
  shortcutDigit: number;
  /** What the area is for, shown in the command palette. */
  summary: string;
}

export const AREAS: readonly Area[] = [
  {
    id: 'deployments',
    label: 'Deployments',
    icon: IconHistory,
    shortcutDigit: 1,
    summary: 'What is deployed where, and its history',
  },
  {
    id: 'deploy',
    label: 'Deploy',
    icon: IconRocket,
    shortcutDigit: 2,
    summary: 'Deploy, roll back, promote, or roll out step by step with health gates',
  },
  {
    id: 'namespaces',
    label: 'Namespaces',
    icon: IconBoxMultiple,
    shortcutDigit: 3,
    summary: 'Dispatch namespaces and their workers',
  },
  {
    id: 'health',
    label: 'Health',
    icon: IconActivityHeartbeat,
    shortcutDigit: 4,
    summary: 'Health of every service and the dispatcher',
  },
  {
    id: 'logs',
    label: 'Logs',
    icon: IconListDetails,
    shortcutDigit: 5,
    summary: 'Live requests, logs and exceptions of chosen services',
  },
  {
    id: 'runbooks',
    label: 'Runbooks',
    icon: IconChecklist,
    shortcutDigit: 6,
    summary: 'Runbook procedures as guided checklists',
  },
  {
    id: 'audit',
    label: 'Audit',
    icon: IconClipboardList,
    shortcutDigit: 7,
    summary: 'Every action taken in Switchyard, and the incident timeline',
  },
  {
    id: 'settings',
    label: 'Settings',
    icon: IconSettings,
    shortcutDigit: 8,
    summary: 'Profiles and keys, deploy and health settings, the local sandbox, the data directory',
  },
];

export function areaById(id: AreaId): Area {
  const area = AREAS.find((a) => a.id === id);
  if (!area) {
    throw new Error(`unknown area ${id}`);
  }
  return area;
}

/** The shortcut as shown to people and as `aria-keyshortcuts` expects it. */
export function areaShortcut(area: Area): string {
  return `Alt+${area.shortcutDigit}`;
}
