-- The health samples read by what changed, not check by check (issue #19).
--
-- 1. The incident timeline's health items.
--
-- The timeline shows a target going down and coming back up, not every check. It read every raw
-- sample of its window to find those: with the health monitor's default interval (every target
-- every 30 s, samples kept raw for a day) a 24-hour window is ~29,000 samples for ten targets,
-- ~86,000 at 10 s, read for each page of the Timeline tab.
--
-- `changed` marks a sample whose state is down while the target's sample before it (in time,
-- then in the order written) was not, or the other way round, or that is the target's first
-- sample and is down. "Down" is as the timeline reads a state: anything but up, up_needs_key and
-- degraded. A trigger keeps it as samples are written, in any order: the new sample's mark, and
-- the mark of the sample after it, which now follows it. Deleting the oldest samples (compaction)
-- leaves every other mark true of the samples kept. It is derived: a file salvaged by recovery.rs
-- gets it anew through the trigger as its samples are copied.
ALTER TABLE health_samples ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;

UPDATE health_samples SET changed = 1 WHERE rowid IN (
    SELECT id FROM (
        SELECT rowid AS id,
               state NOT IN ('up', 'up_needs_key', 'degraded') AS down,
               LAG(state NOT IN ('up', 'up_needs_key', 'degraded'))
                   OVER (PARTITION BY profile_id, target ORDER BY at_ms, rowid) AS was_down
        FROM health_samples
    )
    WHERE (was_down IS NULL AND down) OR was_down <> down
);

CREATE INDEX health_samples_changes ON health_samples (profile_id, at_ms) WHERE changed = 1;

CREATE TRIGGER health_samples_changed AFTER INSERT ON health_samples
BEGIN
    UPDATE health_samples SET changed = COALESCE(
        (SELECT (state NOT IN ('up', 'up_needs_key', 'degraded'))
                    <> (NEW.state NOT IN ('up', 'up_needs_key', 'degraded'))
         FROM health_samples
         WHERE profile_id = NEW.profile_id AND target = NEW.target
           AND at_ms <= NEW.at_ms AND (at_ms < NEW.at_ms OR rowid < NEW.rowid)
         ORDER BY at_ms DESC, rowid DESC LIMIT 1),
        NEW.state NOT IN ('up', 'up_needs_key', 'degraded'))
    WHERE rowid = NEW.rowid;
    UPDATE health_samples
    SET changed = (state NOT IN ('up', 'up_needs_key', 'degraded'))
                  <> (NEW.state NOT IN ('up', 'up_needs_key', 'degraded'))
    WHERE rowid = (
        SELECT rowid FROM health_samples
        WHERE profile_id = NEW.profile_id AND target = NEW.target
          AND at_ms >= NEW.at_ms AND (at_ms > NEW.at_ms OR rowid > NEW.rowid)
        ORDER BY at_ms, rowid LIMIT 1);
END;

-- 2. The health board's rows. Each check told how long every target had been in its state by
-- reading the target's raw samples of the last day (2,880 at the default interval) to find the
-- last that differed. With the state in an index, the newest sample in another state is a seek
-- per state (src/health.rs `health_run`).
CREATE INDEX health_samples_by_state ON health_samples (profile_id, target, state, at_ms);
