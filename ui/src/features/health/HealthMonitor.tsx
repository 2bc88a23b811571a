import { CloseButton, Notification, Stack, Text } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';

import type { AppError, HealthBoard, HealthNotification } from '../../ipc/types';
import { useHealthBoard } from '../../ipc/health';
import { useAppInfo } from '../../ipc/queries';

/** The "Check every" choices; the value is the interval in ms ('0' = off). */
export const CHECK_INTERVALS = [
  { value: '0', label: 'Off' },
  { value: '10000', label: '10 seconds' },
  { value: '30000', label: '30 seconds' },
  { value: '60000', label: '1 minute' },
  { value: '300000', label: '5 minutes' },
] as const;

const DEFAULT_INTERVAL = '30000';
const INTERVAL_KEY = 'switchyard.health.interval';
/** How long an in-app notification stays before it goes by itself. */
const NOTIFICATION_LIFETIME_MS = 10_000;

interface ChangeNotice {
  id: number;
  target: string;
  title: string;
  body: string;
  down: boolean;
}

export interface HealthMonitorValue {
  profileId: string | null;
  /** The chosen interval, a CHECK_INTERVALS value. */
  interval: string;
  setInterval: (value: string) => void;
  board: UseQueryResult<HealthBoard, AppError>;
}

const HealthMonitorContext = createContext<HealthMonitorValue | null>(null);

function savedInterval(): string {
  try {
    const saved = window.localStorage.getItem(INTERVAL_KEY);
    return CHECK_INTERVALS.some((c) => c.value === saved) && saved !== null ? saved : DEFAULT_INTERVAL;
  } catch {
    return DEFAULT_INTERVAL;
  }
}

/** More than this many changes in one direction at once become one notice (an outage, not a list). */
const COLLAPSE_OVER = 2;

/** The notices of one check: each change, or one per direction when many changed together. */
export function collapse(list: readonly HealthNotification[]): Omit<ChangeNotice, 'id'>[] {
  const out: Omit<ChangeNotice, 'id'>[] = [];
  for (const down of [true, false]) {
    const group = list.filter((n) => (n.state === 'down') === down);
    if (group.length > COLLAPSE_OVER) {
      const names = group.map((n) => n.target).join(', ');
      out.push({
        target: down ? 'many-down' : 'many-up',
        title: down ? `${group.length} targets are down: ${names}` : `${group.length} targets are up again: ${names}`,
        body: down ? 'Open Health for each one’s answer and its runbook section.' : 'Their latest checks answered.',
        down,
      });
    } else {
      out.push(
        ...group.map((n) => ({ target: n.target, title: n.title, body: n.body, down })),
      );
    }
  }
  return out;
}

/**
 * The notifications each check raised (the engine decides and rate-limits them, and the shell
 * shows them on the desktop too), shown in the window for a while.
 */
function useChangeNotices() {
  const [notices, setNotices] = useState<ChangeNotice[]>([]);
  const nextId = useRef(1);
  const timers = useRef(new Set<number>());

  const dismiss = useCallback((id: number) => {
    setNotices((list) => list.filter((n) => n.id !== id));
  }, []);

  const onChecked = useCallback(
    (board: HealthBoard) => {
      const fresh: ChangeNotice[] = collapse(board.notifications).map((n) => ({ ...n, id: nextId.current++ }));
      if (fresh.length === 0) {
        return;
      }
      setNotices((list) => [...list.filter((n) => !fresh.some((f) => f.target === n.target)), ...fresh].slice(-6));
      for (const notice of fresh) {
        const timer = window.setTimeout(() => {
          timers.current.delete(timer);
          dismiss(notice.id);
        }, NOTIFICATION_LIFETIME_MS);
        timers.current.add(timer);
      }
    },
    [dismiss],
  );

  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending) {
        window.clearTimeout(timer);
      }
      pending.clear();
    };
  }, []);

  return { notices, dismiss, onChecked };
}

function ChangeNotices({ notices, dismiss }: { notices: ChangeNotice[]; dismiss: (id: number) => void }) {
  if (notices.length === 0) {
    return null;
  }
  return (
    <Stack gap="xs" className="sy-health-notices" role="region" aria-label="Health notifications">
      {notices.map((notice) => (
        <Notification
          key={notice.id}
          role={notice.down ? 'alert' : 'status'}
          color={notice.down ? 'red' : 'green'}
          title={notice.title}
          withCloseButton={false}
        >
          <Stack gap={4}>
            <Text size="sm">{notice.body}</Text>
            <CloseButton
              size="sm"
              aria-label={`Dismiss: ${notice.title}`}
              onClick={() => {
                dismiss(notice.id);
              }}
            />
          </Stack>
        </Notification>
      ))}
    </Stack>
  );
}

/**
 * Checks the active profile's health on the chosen interval wherever the operator is in the
 * window, so a service going down is noticed (and notified) even with Health closed.
 */
export function HealthMonitorProvider({ children }: { children: ReactNode }) {
  const appInfo = useAppInfo();
  const profileId = appInfo.isSuccess && appInfo.data.activeProfile !== '' ? appInfo.data.activeProfile : null;
  const [interval, setIntervalState] = useState<string>(savedInterval);
  const { notices, dismiss, onChecked } = useChangeNotices();
  const intervalMs = Number(interval);
  const board = useHealthBoard(profileId, intervalMs > 0 ? intervalMs : false, onChecked);
  const setInterval = useCallback((value: string) => {
    setIntervalState(value);
    try {
      window.localStorage.setItem(INTERVAL_KEY, value);
    } catch {
      // Not remembered across restarts; the choice still holds for this session.
    }
  }, []);
  const value = useMemo(() => ({ profileId, interval, setInterval, board }), [profileId, interval, setInterval, board]);
  return (
    <HealthMonitorContext.Provider value={value}>
      {children}
      <ChangeNotices notices={notices} dismiss={dismiss} />
    </HealthMonitorContext.Provider>
  );
}

export function useHealthMonitor(): HealthMonitorValue {
  const value = useContext(HealthMonitorContext);
  if (value === null) {
    throw new Error('useHealthMonitor is used outside HealthMonitorProvider');
  }
  return value;
}
