-- Versions and deployments of the scripts in dispatch namespaces (Workers for Platforms
-- versioning). Every upload is a version; a deployment says which versions (at most two) serve a
-- script's traffic and with what percentages. The newest deployment of a script is the active one.
-- They go with their script: deleting a script or its namespace deletes them; renaming a
-- namespace carries them along.

CREATE TABLE script_versions (
    id          TEXT PRIMARY KEY NOT NULL, -- a UUID
    namespace   TEXT NOT NULL,
    script      TEXT NOT NULL,
    number      INTEGER NOT NULL,          -- 1, 2, 3… per script
    created_on  TEXT NOT NULL,
    etag        TEXT NOT NULL,
    main_module TEXT NOT NULL,
    has_modules INTEGER NOT NULL,
    modules     TEXT NOT NULL, -- JSON: [{name, content_type, hash, size}]
    settings    TEXT NOT NULL, -- JSON: the version's settings (bindings, compatibility_date, ...)
    annotations TEXT NOT NULL, -- JSON: {"workers/message", "workers/tag", "workers/triggered_by"}
    source      TEXT NOT NULL,
    FOREIGN KEY (namespace, script) REFERENCES scripts(namespace, name)
        ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE UNIQUE INDEX script_versions_by_number ON script_versions (namespace, script, number);

CREATE TABLE script_deployments (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE, -- a UUID
    namespace    TEXT NOT NULL,
    script       TEXT NOT NULL,
    created_on   TEXT NOT NULL,
    source       TEXT NOT NULL,
    strategy     TEXT NOT NULL,
    versions     TEXT NOT NULL, -- JSON: [{version_id, percentage}]
    annotations  TEXT NOT NULL, -- JSON object
    author_email TEXT NOT NULL,
    FOREIGN KEY (namespace, script) REFERENCES scripts(namespace, name)
        ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX script_deployments_newest ON script_deployments (namespace, script, seq DESC);

-- Scripts stored before versions existed: each becomes its version 1, deployed at 100 %.
INSERT INTO script_versions (id, namespace, script, number, created_on, etag, main_module,
                             has_modules, modules, settings, annotations, source)
SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
         || substr(lower(hex(randomblob(2))), 2) || '-'
         || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2)
         || '-' || lower(hex(randomblob(6))),
       namespace, name, 1, modified_on, etag, main_module, has_modules, modules, settings,
       '{"workers/triggered_by":"upload"}', 'api'
FROM scripts;

INSERT INTO script_deployments (id, namespace, script, created_on, source, strategy, versions,
                                annotations, author_email)
SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
         || substr(lower(hex(randomblob(2))), 2) || '-'
         || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2)
         || '-' || lower(hex(randomblob(6))),
       namespace, script, created_on, 'api', 'percentage',
       json_array(json_object('version_id', id, 'percentage', 100.0)),
       '{"workers/triggered_by":"upload"}', 'operator@sandbox.local'
FROM script_versions;

UPDATE scripts SET deployment_id = (
    SELECT d.id FROM script_deployments d
    WHERE d.namespace = scripts.namespace AND d.script = scripts.name
);
