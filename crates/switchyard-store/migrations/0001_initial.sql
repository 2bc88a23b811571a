-- Switchyard's local store. Secrets never go here: API keys live in the OS keychain.

-- Profiles: where one environment of the platform lives. No secrets; settings as JSON so new
-- fields need no migration.
CREATE TABLE profiles (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL,          -- JSON of switchyard_core::Profile
    created_at  INTEGER NOT NULL,       -- epoch ms
    updated_at  INTEGER NOT NULL
);

-- The deployment history cache: every record ever seen, kept after it falls out of the
-- Deploy API's 100-record window.
CREATE TABLE deployments (
    profile_id        TEXT NOT NULL,
    id                TEXT NOT NULL,
    service           TEXT NOT NULL,
    environment       TEXT NOT NULL,
    status            TEXT NOT NULL,
    ts_ms             INTEGER NOT NULL,  -- deployment time, epoch ms (sort key)
    timestamp         TEXT NOT NULL,     -- as the API wrote it
    version           TEXT,
    version_tag       TEXT,
    commit_sha        TEXT NOT NULL,
    branch            TEXT NOT NULL,
    author            TEXT NOT NULL,
    url               TEXT,
    namespace         TEXT,
    record            TEXT NOT NULL,     -- the whole record as JSON
    first_seen_ms     INTEGER NOT NULL,
    last_seen_ms      INTEGER NOT NULL,
    PRIMARY KEY (profile_id, id)
);
CREATE INDEX deployments_by_time ON deployments (profile_id, ts_ms DESC);
CREATE INDEX deployments_by_service ON deployments (profile_id, service, environment, ts_ms DESC);
CREATE INDEX deployments_by_status ON deployments (profile_id, status, ts_ms DESC);
CREATE INDEX deployments_by_author ON deployments (profile_id, author, ts_ms DESC);
CREATE INDEX deployments_by_branch ON deployments (profile_id, branch, ts_ms DESC);

-- Text search over the fields operators search by.
CREATE VIRTUAL TABLE deployments_fts USING fts5(
    id, service, environment, status, version_tag, commit_sha, branch, author,
    content = 'deployments', content_rowid = 'rowid', tokenize = 'unicode61'
);
CREATE TRIGGER deployments_ai AFTER INSERT ON deployments BEGIN
    INSERT INTO deployments_fts (rowid, id, service, environment, status, version_tag, commit_sha, branch, author)
    VALUES (new.rowid, new.id, new.service, new.environment, new.status, new.version_tag, new.commit_sha, new.branch, new.author);
END;
CREATE TRIGGER deployments_ad AFTER DELETE ON deployments BEGIN
    INSERT INTO deployments_fts (deployments_fts, rowid, id, service, environment, status, version_tag, commit_sha, branch, author)
    VALUES ('delete', old.rowid, old.id, old.service, old.environment, old.status, old.version_tag, old.commit_sha, old.branch, old.author);
END;
CREATE TRIGGER deployments_au AFTER UPDATE ON deployments BEGIN
    INSERT INTO deployments_fts (deployments_fts, rowid, id, service, environment, status, version_tag, commit_sha, branch, author)
    VALUES ('delete', old.rowid, old.id, old.service, old.environment, old.status, old.version_tag, old.commit_sha, old.branch, old.author);
    INSERT INTO deployments_fts (rowid, id, service, environment, status, version_tag, commit_sha, branch, author)
    VALUES (new.rowid, new.id, new.service, new.environment, new.status, new.version_tag, new.commit_sha, new.branch, new.author);
END;

-- Status changes seen by sync (deployed -> rolled_back).
CREATE TABLE deployment_status_changes (
    profile_id     TEXT NOT NULL,
    deployment_id  TEXT NOT NULL,
    from_status    TEXT NOT NULL,
    to_status      TEXT NOT NULL,
    observed_ms    INTEGER NOT NULL
);
CREATE INDEX status_changes_by_deployment ON deployment_status_changes (profile_id, deployment_id);

-- Sync bookkeeping: one row per query window ('' = any service / any environment).
CREATE TABLE sync_windows (
    profile_id     TEXT NOT NULL,
    service        TEXT NOT NULL,
    environment    TEXT NOT NULL,
    as_of_ms       INTEGER,            -- last successful sync
    attempted_ms   INTEGER NOT NULL,   -- last attempt
    last_error     TEXT,               -- safe message of the last failure, NULL after a success
    records_seen   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (profile_id, service, environment)
);

-- Bundle archive index: files live in bundles/<sha256>.
CREATE TABLE bundles (
    sha256      TEXT PRIMARY KEY NOT NULL,
    size_bytes  INTEGER NOT NULL,
    path        TEXT NOT NULL,
    created_ms  INTEGER NOT NULL
);
CREATE TABLE bundle_uses (
    sha256         TEXT NOT NULL REFERENCES bundles (sha256) ON DELETE CASCADE,
    profile_id     TEXT NOT NULL,
    deployment_id  TEXT NOT NULL,
    service        TEXT NOT NULL,
    environment    TEXT NOT NULL,
    bindings       TEXT NOT NULL,   -- JSON
    metadata       TEXT NOT NULL,   -- JSON
    used_ms        INTEGER NOT NULL,
    PRIMARY KEY (profile_id, deployment_id)
);
CREATE INDEX bundle_uses_by_service ON bundle_uses (profile_id, service, environment, used_ms DESC);

-- Health samples (raw) and their down-sampled buckets.
CREATE TABLE health_samples (
    profile_id   TEXT NOT NULL,
    target       TEXT NOT NULL,
    at_ms        INTEGER NOT NULL,
    state        TEXT NOT NULL,      -- up | up_needs_key | down | degraded
    http_status  INTEGER,
    latency_ms   INTEGER
);
CREATE INDEX health_samples_by_target ON health_samples (profile_id, target, at_ms);
CREATE TABLE health_buckets (
    profile_id      TEXT NOT NULL,
    target          TEXT NOT NULL,
    bucket_ms       INTEGER NOT NULL,  -- bucket start
    width_ms        INTEGER NOT NULL,
    samples         INTEGER NOT NULL,
    up_samples      INTEGER NOT NULL,
    avg_latency_ms  REAL,
    max_latency_ms  INTEGER,
    PRIMARY KEY (profile_id, target, bucket_ms)
);

-- Audit log of every action taken through the app.
CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms        INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    profile_id   TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    params       TEXT NOT NULL,      -- JSON, redacted before it gets here
    outcome      TEXT NOT NULL,      -- ok | error code
    message      TEXT,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX audit_by_profile ON audit_log (profile_id, at_ms DESC);

-- Runbook runs and their steps (filled by the runbook engine).
CREATE TABLE runbook_runs (
    id            TEXT PRIMARY KEY NOT NULL,
    profile_id    TEXT NOT NULL,
    runbook       TEXT NOT NULL,      -- runbook id (file name)
    runbook_hash  TEXT NOT NULL,      -- sha256 of the Markdown the run started from
    title         TEXT NOT NULL,
    state         TEXT NOT NULL,      -- running | paused | finished | abandoned
    started_ms    INTEGER NOT NULL,
    finished_ms   INTEGER,
    rehearsal     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE runbook_steps (
    run_id       TEXT NOT NULL REFERENCES runbook_runs (id) ON DELETE CASCADE,
    step_index   INTEGER NOT NULL,
    title        TEXT NOT NULL,
    state        TEXT NOT NULL,       -- pending | running | passed | failed | skipped
    output       TEXT,
    note         TEXT,
    started_ms   INTEGER,
    finished_ms  INTEGER,
    PRIMARY KEY (run_id, step_index)
);
