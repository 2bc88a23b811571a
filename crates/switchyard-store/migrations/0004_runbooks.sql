-- Runbook runs: who started them, with which inputs, from which Markdown (so a run resumes even
-- when its file changes), how each step ended, the manual checks, and a timeline of events.

ALTER TABLE runbook_runs ADD COLUMN started_by TEXT NOT NULL DEFAULT '';
ALTER TABLE runbook_runs ADD COLUMN inputs TEXT NOT NULL DEFAULT '{}';      -- JSON object
ALTER TABLE runbook_runs ADD COLUMN source TEXT NOT NULL DEFAULT '';        -- the Markdown run
ALTER TABLE runbook_runs ADD COLUMN finished_by TEXT;
ALTER TABLE runbook_runs ADD COLUMN end_reason TEXT;                        -- why it was abandoned

ALTER TABLE runbook_steps ADD COLUMN step_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runbook_steps ADD COLUMN outcome TEXT;                          -- last action: passed | failed
ALTER TABLE runbook_steps ADD COLUMN skip_reason TEXT;
ALTER TABLE runbook_steps ADD COLUMN skipped_by_condition INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runbook_steps ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runbook_steps ADD COLUMN params TEXT;                           -- JSON: the last action's parameters
ALTER TABLE runbook_steps ADD COLUMN error TEXT;                            -- the last action's error message
ALTER TABLE runbook_steps ADD COLUMN actor TEXT;                            -- who last acted on the step

CREATE TABLE runbook_checks (
    run_id       TEXT NOT NULL REFERENCES runbook_runs (id) ON DELETE CASCADE,
    step_index   INTEGER NOT NULL,
    check_index  INTEGER NOT NULL,
    text         TEXT NOT NULL,
    checked      INTEGER NOT NULL DEFAULT 0,
    at_ms        INTEGER,
    actor        TEXT,
    PRIMARY KEY (run_id, step_index, check_index)
);

CREATE TABLE runbook_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT NOT NULL REFERENCES runbook_runs (id) ON DELETE CASCADE,
    step_index   INTEGER,
    at_ms        INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    kind         TEXT NOT NULL,     -- run.started, step.started, step.passed, check.ticked, note, fault.injected…
    message      TEXT NOT NULL,
    data         TEXT               -- JSON, optional
);
CREATE INDEX runbook_events_by_run ON runbook_events (run_id, seq);
CREATE INDEX runbook_runs_by_profile ON runbook_runs (profile_id, started_ms);
