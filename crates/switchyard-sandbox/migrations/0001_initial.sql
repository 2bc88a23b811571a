-- The sandbox's whole state: who may call it, the dispatch namespaces and their scripts, the
-- Deploy API's deployment records, and content-addressed script bodies shared between them.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id    TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    name  TEXT NOT NULL
);

CREATE TABLE api_keys (
    key     TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    label   TEXT NOT NULL
);

CREATE TABLE permissions (
    user_id    TEXT NOT NULL REFERENCES users(id),
    resource   TEXT NOT NULL,
    action     TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (user_id, resource, action)
);

CREATE TABLE blobs (
    hash    TEXT PRIMARY KEY NOT NULL,
    content BLOB NOT NULL
);

CREATE TABLE namespaces (
    name            TEXT PRIMARY KEY NOT NULL,
    namespace_id    TEXT NOT NULL UNIQUE,
    created_on      TEXT NOT NULL,
    modified_on     TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    modified_by     TEXT NOT NULL,
    trusted_workers INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE scripts (
    namespace     TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE ON UPDATE CASCADE,
    name          TEXT NOT NULL,
    tag           TEXT NOT NULL,
    etag          TEXT NOT NULL,
    created_on    TEXT NOT NULL,
    modified_on   TEXT NOT NULL,
    main_module   TEXT NOT NULL,
    has_modules   INTEGER NOT NULL,
    modules       TEXT NOT NULL, -- JSON: [{name, content_type, hash, size}]
    settings      TEXT NOT NULL, -- JSON: the script's settings (bindings, compatibility_date, ...)
    tags          TEXT NOT NULL, -- JSON: [string]
    deployment_id TEXT NOT NULL,
    PRIMARY KEY (namespace, name)
);

CREATE TABLE deployments (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    service        TEXT NOT NULL,
    environment    TEXT NOT NULL,
    tier           TEXT,
    version        TEXT,
    namespace      TEXT NOT NULL,
    namespace_mode TEXT NOT NULL,
    worker         TEXT NOT NULL,
    status         TEXT NOT NULL,
    timestamp      TEXT NOT NULL,
    timestamp_ms   INTEGER NOT NULL,
    url            TEXT NOT NULL,
    version_tag    TEXT NOT NULL,
    metadata       TEXT NOT NULL, -- JSON object
    bindings       TEXT NOT NULL, -- JSON object
    script_hash    TEXT          -- blobs.hash of the uploaded script, for true rollback
);

CREATE INDEX deployments_newest ON deployments (timestamp_ms DESC, seq DESC);
CREATE INDEX deployments_by_service ON deployments (service, environment, timestamp_ms DESC, seq DESC);
