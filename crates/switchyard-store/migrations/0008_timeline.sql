-- The incident timeline's own records: notes written at a time (free text, its author the OS
-- user), and the items an operator pinned, by their stable ids (`audit:<seq>`, `deploy:<id>`,
-- `health:<target>:<at_ms>`, `step:<run>:<seq>`, `note:<id>`), so pins survive reloads.

CREATE TABLE timeline_notes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id   TEXT NOT NULL,
    at_ms        INTEGER NOT NULL,      -- the time the note is about (where it sits)
    written_ms   INTEGER NOT NULL,      -- when it was written
    author       TEXT NOT NULL,
    text         TEXT NOT NULL,         -- the profile's keys already replaced by ***
    run_id       TEXT                   -- the run it was written beside, if any
);
CREATE INDEX timeline_notes_by_time ON timeline_notes (profile_id, at_ms);

CREATE TABLE timeline_pins (
    profile_id   TEXT NOT NULL,
    item_id      TEXT NOT NULL,
    pinned_ms    INTEGER NOT NULL,
    pinned_by    TEXT NOT NULL,
    PRIMARY KEY (profile_id, item_id)
);
