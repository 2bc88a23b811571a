-- The Audit area reads the log newest first — of one profile or of all, by time range, action and
-- outcome — a page at a time with the count of every match, and searches its text. Each index
-- ends in the rowid (seq), so walking one backwards gives "newest first, ties by seq" unsorted.

-- Replaced by audit_by_profile_time: (profile_id, at_ms DESC) gave the rowid in the wrong order.
DROP INDEX IF EXISTS audit_by_profile;
CREATE INDEX audit_by_profile_time ON audit_log (profile_id, at_ms);
-- Every profile at once.
CREATE INDEX audit_by_time ON audit_log (at_ms);
-- An action or a family of actions (`deploy.` is a range of these indexes); also the list of
-- actions.
CREATE INDEX audit_by_action ON audit_log (action, at_ms);
CREATE INDEX audit_by_profile_action ON audit_log (profile_id, action, at_ms);
-- An outcome as the filter groups them (ok, started, interrupted, and any other is an error). The
-- queries write this very expression (OUTCOME_CLASS in src/audit.rs), or SQLite cannot use it.
CREATE INDEX audit_by_outcome ON audit_log (
    (CASE WHEN outcome IN ('ok', 'started', 'interrupted') THEN outcome ELSE 'error' END), at_ms
);

-- Text search: any part of a word, any case (trigrams), over what an operator looks for. Params
-- are redacted before they are stored, so nothing secret is indexed.
CREATE VIRTUAL TABLE audit_fts USING fts5(
    actor, action, target, params, message,
    content = 'audit_log', content_rowid = 'seq', tokenize = 'trigram'
);
CREATE TRIGGER audit_log_ai AFTER INSERT ON audit_log BEGIN
    INSERT INTO audit_fts (rowid, actor, action, target, params, message)
    VALUES (new.seq, new.actor, new.action, new.target, new.params, new.message);
END;
CREATE TRIGGER audit_log_ad AFTER DELETE ON audit_log BEGIN
    INSERT INTO audit_fts (audit_fts, rowid, actor, action, target, params, message)
    VALUES ('delete', old.seq, old.actor, old.action, old.target, old.params, old.message);
END;
CREATE TRIGGER audit_log_au AFTER UPDATE ON audit_log BEGIN
    INSERT INTO audit_fts (audit_fts, rowid, actor, action, target, params, message)
    VALUES ('delete', old.seq, old.actor, old.action, old.target, old.params, old.message);
    INSERT INTO audit_fts (rowid, actor, action, target, params, message)
    VALUES (new.seq, new.actor, new.action, new.target, new.params, new.message);
END;
-- The entries written before this migration.
INSERT INTO audit_fts (audit_fts) VALUES ('rebuild');
