-- The Audit area's text search, pages read by number (issue #19).
--
-- A text page is read from the text index's newest matches by number, and is the page of the
-- list in time order unless an entry written out of time order sorts into it, which each page
-- checked by walking the time index over the page's times (~4,000 entries for `refused`'s 200
-- at 100,000 entries: ~0.6 ms). A page after a cursor was also counted from the start of the
-- matches: at row 2,000 the 1,800 before the cursor read again with the 2,000 after it. Knowing
-- which entries were written out of time order, a page skips the walk when none is among its
-- times, and a page after a cursor is counted from the cursor on, as the other filters' pages
-- are, when none disagrees with the cursor (src/audit.rs TEXT_PAGE_BY_SEQ).
--
-- The entries written out of time order: an entry whose time is before that of an entry written
-- earlier (numbered lower), or that was numbered below one already written (a salvaged file's
-- rows copied back). Of any two entries whose number and time disagree, the later written is
-- here (or one whose time was changed). Entries are written when their action starts, so this
-- holds none or a few (a slow start written after a later one). At most 64 are kept: past
-- them, the row numbered -1 says "too many to list" for good (a log written into out of time
-- order at scale, as the bench's seed is), and every page is read down the time index as before.
-- The table so stays a few rows whatever the log, and its checks cost a few steps. It is
-- derived: a database salvaged by recovery.rs writes it anew through the trigger as its entries
-- are copied, in number order. Every entry is kept: only this table and its triggers are added.
CREATE TABLE audit_out_of_order (
    seq  INTEGER PRIMARY KEY            -- audit_log.seq, or -1: more than 64
);

-- The entries already written: those with a time before the latest time of the ones before
-- them; -1 alone when there are more than 64.
WITH late(seq) AS (
    SELECT seq FROM (
        SELECT seq, at_ms,
               max(at_ms) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                   AS latest
        FROM audit_log)
    WHERE at_ms < latest)
INSERT INTO audit_out_of_order (seq)
SELECT seq FROM late WHERE (SELECT count(*) FROM late) <= 64
UNION ALL
SELECT -1 WHERE (SELECT count(*) FROM late) > 64;

-- Two steps into indexes (the latest time, the highest number), whatever the log's length; then
-- a count of at most 64 rows.
CREATE TRIGGER audit_log_order_ai AFTER INSERT ON audit_log
WHEN new.at_ms < (SELECT max(at_ms) FROM audit_log) OR new.seq < (SELECT max(seq) FROM audit_log)
BEGIN
    INSERT OR IGNORE INTO audit_out_of_order (seq)
    SELECT CASE WHEN (SELECT count(*) FROM audit_out_of_order) < 64 THEN new.seq ELSE -1 END;
END;
-- Finishing an entry changes neither; anything else that does marks it.
CREATE TRIGGER audit_log_order_au AFTER UPDATE OF seq, at_ms ON audit_log
WHEN new.seq IS NOT old.seq OR new.at_ms IS NOT old.at_ms
BEGIN
    INSERT OR IGNORE INTO audit_out_of_order (seq)
    SELECT CASE WHEN (SELECT count(*) FROM audit_out_of_order) < 64 THEN new.seq ELSE -1 END;
END;
-- An entry removed is no longer out of order; -1 stays.
CREATE TRIGGER audit_log_order_ad AFTER DELETE ON audit_log BEGIN
    DELETE FROM audit_out_of_order WHERE seq = old.seq;
END;
