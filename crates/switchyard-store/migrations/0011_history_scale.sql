-- The history cache at a million rows (issue #19).
--
-- The Deployments view orders by time, newest first, ties by id (`ts_ms DESC, id DESC`). The
-- indexes ended in `ts_ms` only, so SQLite sorted each run of equal times, and a page further down
-- (OFFSET) loaded every skipped row's record into that sort: 10-13 ms for the page at row 2,000.
-- Ending each in `id` gives the whole order from the index (walked backwards), so a page needs no
-- sort and the skipped rows are index entries only. Every row is kept: only indexes change.
DROP INDEX IF EXISTS deployments_by_time;
CREATE INDEX deployments_by_time ON deployments (profile_id, ts_ms, id);
DROP INDEX IF EXISTS deployments_by_service;
CREATE INDEX deployments_by_service ON deployments (profile_id, service, environment, ts_ms, id);
DROP INDEX IF EXISTS deployments_by_status;
CREATE INDEX deployments_by_status ON deployments (profile_id, status, ts_ms, id);
DROP INDEX IF EXISTS deployments_by_author;
CREATE INDEX deployments_by_author ON deployments (profile_id, author, ts_ms, id);
DROP INDEX IF EXISTS deployments_by_branch;
CREATE INDEX deployments_by_branch ON deployments (profile_id, branch, ts_ms, id);

-- A full sync in progress: its windows synced since `started_ms` (sync_windows.as_of_ms) are not
-- asked again when a sync stopped before its end (the app closed, the Deploy API stopped
-- answering) is started again. Removed when a sync reaches its last window.
CREATE TABLE sync_runs (
    profile_id   TEXT PRIMARY KEY NOT NULL,
    started_ms   INTEGER NOT NULL
);
