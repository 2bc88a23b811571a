-- Log excerpts for the incident timeline: while a tail is open (the Logs area, a runbook's
-- `logs` step, a staged rollout's gate), each failed invocation of a worker is kept with up to 5
-- invocations before it and the next 5 after it. One row per invocation, written once even when
-- it surrounds several failures; the rows around one or more failures close together share an
-- `excerpt_id` and follow each other by `id`. Texts are redacted of keys and tokens before they
-- are written (the store never holds a secret). At most 20,000 rows per profile: the oldest are
-- pruned as new ones are written.
CREATE TABLE log_excerpts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id  TEXT NOT NULL,
    excerpt_id  INTEGER NOT NULL,     -- the stretch of invocations around a failure
    at_ms       INTEGER NOT NULL,     -- when the invocation started (the platform's time)
    service     TEXT NOT NULL,        -- the service tailed
    script      TEXT NOT NULL,        -- the worker that ran, as the platform names it
    outcome     TEXT NOT NULL,        -- ok, exception, exceededCpu, canceled…
    status      INTEGER,              -- the HTTP status, when there was a response
    method      TEXT,
    url         TEXT,
    failure     INTEGER NOT NULL,     -- 1: this invocation is a failure the excerpt surrounds
    summary     TEXT NOT NULL,        -- one line: the request and what went wrong
    text        TEXT NOT NULL         -- the whole invocation: request, console lines, exceptions
);
-- The timeline's read: a profile's failures in a window.
CREATE INDEX log_excerpts_failures ON log_excerpts (profile_id, failure, at_ms);
-- The lines around a failure.
CREATE INDEX log_excerpts_by_excerpt ON log_excerpts (excerpt_id);
-- Pruning a profile's oldest rows.
CREATE INDEX log_excerpts_by_profile ON log_excerpts (profile_id);
