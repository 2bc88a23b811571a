-- Deploy: the bundle archive's bookkeeping and pins after a rollback.

-- How a deployment used its bundle: deploy (through the Deploy API), rollback (an archived bundle
-- re-deployed through the Deploy API) or direct (uploaded straight to the dispatch namespace).
ALTER TABLE bundle_uses ADD COLUMN kind TEXT NOT NULL DEFAULT 'deploy';

-- Retention removes a bundle's file but keeps its row, so history can say why it cannot be
-- restored any more.
ALTER TABLE bundles ADD COLUMN pruned_ms INTEGER;

-- A service/environment pinned to a version after a rollback, until a deliberate deploy over it.
CREATE TABLE deploy_pins (
    profile_id     TEXT NOT NULL,
    service        TEXT NOT NULL,
    environment    TEXT NOT NULL,
    deployment_id  TEXT NOT NULL,   -- the deployment that is current since the rollback
    version_label  TEXT NOT NULL,
    reason         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    pinned_ms      INTEGER NOT NULL,
    PRIMARY KEY (profile_id, service, environment)
);
