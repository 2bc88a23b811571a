-- Staged rollouts: one row per rollout, its whole state as JSON (steps, split, gates, events),
-- written at every change, so a rollout survives an app restart (it is then shown as
-- interrupted, with the split the platform serves, to resume or roll back).
CREATE TABLE rollouts (
    id          TEXT PRIMARY KEY,
    profile_id  TEXT NOT NULL,
    service     TEXT NOT NULL,
    environment TEXT NOT NULL,
    state       TEXT NOT NULL,
    started_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    data        TEXT NOT NULL
);

CREATE INDEX rollouts_by_profile ON rollouts (profile_id, started_ms DESC);
