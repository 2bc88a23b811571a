-- The history cache at a million rows, continued (issue #19).
--
-- The Deployments view filters by environment alone and by service alone as often as by both,
-- newest first. No index began with the environment, and the service index ran through the
-- environment before the time: either filter walked the profile's time index and read every row's
-- record to test it (an environment is a third of the rows, a service an eighth): 14-35 ms for the
-- page at row 2,000 at a million rows. With an index per filter ending in (ts_ms, id), a page is
-- a walk of that index alone, in the view's order. Every row is kept: only indexes are added.
CREATE INDEX IF NOT EXISTS deployments_by_environment ON deployments (profile_id, environment, ts_ms, id);
CREATE INDEX IF NOT EXISTS deployments_by_service_time ON deployments (profile_id, service, ts_ms, id);

-- The text search, newest first. The text index was keyed by the row's rowid, which says nothing
-- of its time: a search matching 20,000 rows read them all, built SQLite's `rowid IN (…)` list of
-- them and walked the time index against it (~9 ms a page at a million rows). Now each row has a
-- time key (deployments_fts_keys), and the text index is keyed by it, so the index's own order is
-- the view's: the newest matches are its first entries, and a page reads no others.
--
-- A row's key: the milliseconds from its time to 8,000,000,000,000 ms after 1970 (in 2223), times
-- 2^20, plus its place among the rows stored for the same millisecond (0 for the first):
-- ascending keys are descending times. Times outside 1970..2223 share the millisecond of the
-- nearest end (queries break ties by the row's own time and id, so their order stays exact);
-- past 2^20 rows in one millisecond, keys run into the next millisecond's (order approximate).
-- Like the text index's own tables (`_fts` in the name), the keys are derived: a database salvaged
-- by recovery.rs writes them anew through the triggers as its deployments are copied.
CREATE TABLE deployments_fts_keys (
    key   INTEGER PRIMARY KEY,
    row   INTEGER NOT NULL UNIQUE      -- deployments.rowid
);

DROP TRIGGER IF EXISTS deployments_ai;
DROP TRIGGER IF EXISTS deployments_ad;
DROP TRIGGER IF EXISTS deployments_au;
DROP TABLE IF EXISTS deployments_fts;

-- The text index of migration 0007, keyed by time key, without a copy of the text (content = ''):
-- only its keys are read back. Its triggers give the old values to remove a row's terms.
CREATE VIRTUAL TABLE deployments_fts USING fts5(
    id, service, environment, status, version_tag, commit_sha, branch, author, profile_key,
    content = '', tokenize = 'unicode61'
);

INSERT INTO deployments_fts_keys (key, row)
SELECT (8000000000000 - min(max(ts_ms, 0), 8000000000000)) * 1048576
       + row_number() OVER (PARTITION BY min(max(ts_ms, 0), 8000000000000) ORDER BY rowid) - 1,
       rowid
FROM deployments;
INSERT INTO deployments_fts (rowid, id, service, environment, status, version_tag, commit_sha, branch, author, profile_key)
SELECT t.key, d.id, d.service, d.environment, d.status, d.version_tag, d.commit_sha, d.branch, d.author, d.profile_key
FROM deployments_fts_keys t JOIN deployments d ON d.rowid = t.row ORDER BY t.key;

CREATE TRIGGER deployments_ai AFTER INSERT ON deployments BEGIN
    INSERT INTO deployments_fts_keys (key, row)
    SELECT coalesce(
               (SELECT max(key) + 1 FROM deployments_fts_keys WHERE key >= b AND key < b + 1048576),
               b),
           new.rowid
    FROM (SELECT (8000000000000 - min(max(new.ts_ms, 0), 8000000000000)) * 1048576 AS b);
    INSERT INTO deployments_fts (rowid, id, service, environment, status, version_tag, commit_sha, branch, author, profile_key)
    SELECT key, new.id, new.service, new.environment, new.status, new.version_tag, new.commit_sha, new.branch, new.author, new.profile_key
    FROM deployments_fts_keys WHERE row = new.rowid;
END;
CREATE TRIGGER deployments_ad AFTER DELETE ON deployments BEGIN
    INSERT INTO deployments_fts (deployments_fts, rowid, id, service, environment, status, version_tag, commit_sha, branch, author, profile_key)
    SELECT 'delete', key, old.id, old.service, old.environment, old.status, old.version_tag, old.commit_sha, old.branch, old.author, old.profile_key
    FROM deployments_fts_keys WHERE row = old.rowid;
    DELETE FROM deployments_fts_keys WHERE row = old.rowid;
END;
-- An update keeps the row's key unless its time moved to another millisecond (then it is keyed
-- again). Removing and adding the same key writes no segment of its own.
CREATE TRIGGER deployments_au AFTER UPDATE ON deployments BEGIN
    INSERT INTO deployments_fts (deployments_fts, rowid, id, service, environment, status, version_tag, commit_sha, branch, author, profile_key)
    SELECT 'delete', key, old.id, old.service, old.environment, old.status, old.version_tag, old.commit_sha, old.branch, old.author, old.profile_key
    FROM deployments_fts_keys WHERE row = old.rowid;
    DELETE FROM deployments_fts_keys WHERE row = old.rowid
        AND key - (key & 1048575) != (8000000000000 - min(max(new.ts_ms, 0), 8000000000000)) * 1048576;
    INSERT INTO deployments_fts_keys (key, row)
    SELECT coalesce(
               (SELECT max(key) + 1 FROM deployments_fts_keys WHERE key >= b AND key < b + 1048576),
               b),
           new.rowid
    FROM (SELECT (8000000000000 - min(max(new.ts_ms, 0), 8000000000000)) * 1048576 AS b)
    WHERE NOT EXISTS (SELECT 1 FROM deployments_fts_keys WHERE row = new.rowid);
    INSERT INTO deployments_fts (rowid, id, service, environment, status, version_tag, commit_sha, branch, author, profile_key)
    SELECT key, new.id, new.service, new.environment, new.status, new.version_tag, new.commit_sha, new.branch, new.author, new.profile_key
    FROM deployments_fts_keys WHERE row = new.rowid;
END;
