-- The deploy journal: every deploy, restore and direct deploy is written here before its upload
-- and moved on at each step, so a crash between the upload and the history write is found and
-- reconciled on the next start, and retention never prunes a bundle an unfinished deploy uses.
CREATE TABLE deploy_journal (
    run_id            TEXT PRIMARY KEY,
    profile_id        TEXT NOT NULL,
    kind              TEXT NOT NULL,    -- deploy | rollback | direct
    service           TEXT NOT NULL,
    environment       TEXT NOT NULL,
    sha256            TEXT NOT NULL,    -- the archived bundle
    metadata          TEXT NOT NULL,    -- JSON: what the bundle use records (commit, version, notes)
    bindings          TEXT NOT NULL,    -- JSON: binding name -> service
    started_ms        INTEGER NOT NULL,
    stage             TEXT NOT NULL,    -- archived | uploading | uploaded | done | failed
    deployment_id     TEXT,             -- once the platform answered
    updated_ms        INTEGER NOT NULL,
    -- Set when a restart found the entry unfinished: completed | not_deployed | unknown.
    resolution        TEXT,
    resolution_detail TEXT,
    acknowledged      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX deploy_journal_open ON deploy_journal (stage);

-- Audit entries are written when an action starts (outcome 'started') and completed when it
-- ends; one still 'started' when the app opens was cut off by a crash and is marked so.
CREATE INDEX audit_log_outcome ON audit_log (outcome);
