//! The incident timeline's own records — notes written at a time and the items pinned (by their
//! stable ids) — and the reads the timeline needs across a window: each target's state just
//! before the window, and the health samples in it where that state changes.

use serde::Serialize;
use sqlx::Row;
use switchyard_core::AppError;

use crate::error::db;
use crate::{HealthSample, Store};

/// A note to write on a profile's timeline. Its text must already have the profile's keys
/// replaced (the store never holds a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTimelineNote {
    pub profile_id: String,
    /// The time the note is about: where it sits in the timeline.
    pub at_ms: i64,
    pub written_ms: i64,
    pub author: String,
    pub text: String,
    pub run_id: Option<String>,
}

/// A stored note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineNoteRecord {
    pub id: i64,
    pub profile_id: String,
    pub at_ms: i64,
    pub written_ms: i64,
    pub author: String,
    pub text: String,
    pub run_id: Option<String>,
}

/// At most this many health changes are read for one window (a target going down and up at
/// every check for a week, every 30 s); older raw samples are folded into buckets anyway.
const MAX_WINDOW_SAMPLES: i64 = 250_000;

impl Store {
    /// Write a note; its id.
    pub async fn add_timeline_note(&self, note: &NewTimelineNote) -> Result<i64, AppError> {
        let row = crate::write_returning(
            sqlx::query(
                "INSERT INTO timeline_notes (profile_id, at_ms, written_ms, author, text, run_id)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(&note.profile_id)
            .bind(note.at_ms)
            .bind(note.written_ms)
            .bind(&note.author)
            .bind(&note.text)
            .bind(&note.run_id),
            &self.pool,
        )
        .await
        .map_err(db("Saving the note"))?;
        Ok(row.get(0))
    }

    /// The notes of a profile in `[since_ms, until_ms)`, oldest first: the first `limit` of them,
    /// and how many there are in all.
    pub async fn timeline_notes(
        &self,
        profile_id: &str,
        since_ms: i64,
        until_ms: i64,
        limit: u32,
    ) -> Result<(Vec<TimelineNoteRecord>, u64), AppError> {
        self.timeline_notes_from(profile_id, since_ms, until_ms, limit, false)
            .await
    }

    /// The notes of a profile in `[since_ms, until_ms)`: the first `limit` of them oldest first,
    /// or with `newest`, the last `limit` newest first; and how many there are in all.
    pub async fn timeline_notes_from(
        &self,
        profile_id: &str,
        since_ms: i64,
        until_ms: i64,
        limit: u32,
        newest: bool,
    ) -> Result<(Vec<TimelineNoteRecord>, u64), AppError> {
        let what = "Reading the timeline's notes";
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) FROM timeline_notes WHERE profile_id = ? AND at_ms >= ? AND at_ms < ?",
        )
        .bind(profile_id)
        .bind(since_ms)
        .bind(until_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(db(what))?
        .get(0);
        let rows = sqlx::query(if newest {
            "SELECT id, profile_id, at_ms, written_ms, author, text, run_id FROM timeline_notes
             WHERE profile_id = ? AND at_ms >= ? AND at_ms < ? ORDER BY at_ms DESC, id DESC LIMIT ?"
        } else {
            "SELECT id, profile_id, at_ms, written_ms, author, text, run_id FROM timeline_notes
             WHERE profile_id = ? AND at_ms >= ? AND at_ms < ? ORDER BY at_ms, id LIMIT ?"
        })
        .bind(profile_id)
        .bind(since_ms)
        .bind(until_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db(what))?;
        let notes = rows
            .iter()
            .map(|r| TimelineNoteRecord {
                id: r.get(0),
                profile_id: r.get(1),
                at_ms: r.get(2),
                written_ms: r.get(3),
                author: r.get(4),
                text: r.get(5),
                run_id: r.get(6),
            })
            .collect();
        Ok((notes, u64::try_from(total).unwrap_or(0)))
    }

    /// Pin (or unpin) an item of a profile's timeline by its id. Pinning twice keeps the first.
    pub async fn set_timeline_pin(
        &self,
        profile_id: &str,
        item_id: &str,
        pinned: bool,
        at_ms: i64,
        by: &str,
    ) -> Result<(), AppError> {
        let q = if pinned {
            sqlx::query(
                "INSERT INTO timeline_pins (profile_id, item_id, pinned_ms, pinned_by) VALUES (?, ?, ?, ?)
                 ON CONFLICT (profile_id, item_id) DO NOTHING",
            )
            .bind(profile_id)
            .bind(item_id)
            .bind(at_ms)
            .bind(by)
        } else {
            sqlx::query("DELETE FROM timeline_pins WHERE profile_id = ? AND item_id = ?")
                .bind(profile_id)
                .bind(item_id)
        };
        q.execute(&self.pool).await.map_err(db("Saving the pin"))?;
        Ok(())
    }

    /// The ids of a profile's pinned items, in the order they were pinned.
    pub async fn timeline_pins(&self, profile_id: &str) -> Result<Vec<String>, AppError> {
        let rows = sqlx::query(
            "SELECT item_id FROM timeline_pins WHERE profile_id = ? ORDER BY pinned_ms, rowid",
        )
        .bind(profile_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the pinned items"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// The health samples a timeline of `[since_ms, until_ms)` needs to show each target going
    /// down and coming back up, without reading every check: the state each target was in when
    /// the window opened (its last sample in `[lookback_ms, since_ms)`, if any), and the samples
    /// in the window where that can change — each target's first, and every one whose state is
    /// down while the one before it was not, or the other way round (`changed`, kept by the
    /// trigger of migration 0015). Both by target then time. A seek per target and a walk of
    /// the changes: the checks between them are not read.
    pub async fn health_changes(
        &self,
        profile_id: &str,
        lookback_ms: i64,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<(Vec<HealthSample>, Vec<HealthSample>), AppError> {
        let rows = sqlx::query(
            "WITH RECURSIVE targets (target) AS (
                 SELECT MIN(target) FROM health_samples WHERE profile_id = ?1
                 UNION ALL
                 SELECT (SELECT MIN(target) FROM health_samples
                         WHERE profile_id = ?1 AND target > targets.target)
                 FROM targets WHERE targets.target IS NOT NULL
             ),
             before (id) AS (
                 SELECT (SELECT rowid FROM health_samples
                         WHERE profile_id = ?1 AND target = targets.target
                           AND at_ms >= ?2 AND at_ms < ?3
                         ORDER BY at_ms DESC, rowid DESC LIMIT 1)
                 FROM targets WHERE targets.target IS NOT NULL
             ),
             inside (id) AS (
                 SELECT (SELECT rowid FROM health_samples
                         WHERE profile_id = ?1 AND target = targets.target
                           AND at_ms >= ?3 AND at_ms < ?4
                         ORDER BY at_ms, rowid LIMIT 1)
                 FROM targets WHERE targets.target IS NOT NULL
                 UNION
                 SELECT id FROM (SELECT rowid AS id FROM health_samples
                                 WHERE profile_id = ?1 AND changed = 1
                                   AND at_ms >= ?3 AND at_ms < ?4
                                 LIMIT ?5)
             )
             SELECT target, at_ms, state, http_status, latency_ms, 0 AS opening, rowid
             FROM health_samples WHERE rowid IN (SELECT id FROM before)
             UNION ALL
             SELECT target, at_ms, state, http_status, latency_ms, 1, rowid
             FROM health_samples WHERE rowid IN (SELECT id FROM inside)
             ORDER BY 6, 1, 2, 7",
        )
        .bind(profile_id)
        .bind(lookback_ms)
        .bind(since_ms)
        .bind(until_ms)
        .bind(MAX_WINDOW_SAMPLES)
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading health samples"))?;
        let (before, inside): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r.get::<i64, _>(5) == 0);
        Ok((
            before.into_iter().map(HealthSample::from_row).collect(),
            inside.into_iter().map(HealthSample::from_row).collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HealthState;

    fn s(target: &str, at_ms: i64, state: HealthState) -> HealthSample {
        HealthSample {
            target: target.into(),
            at_ms,
            state,
            http_status: None,
            latency_ms: None,
        }
    }

    #[tokio::test]
    async fn notes_pins_and_health_of_a_window() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).await.unwrap();
        for (at, text) in [(30, "later"), (10, "first"), (500, "outside")] {
            store
                .add_timeline_note(&NewTimelineNote {
                    profile_id: "p".into(),
                    at_ms: at,
                    written_ms: 1000,
                    author: "ana".into(),
                    text: text.into(),
                    run_id: None,
                })
                .await
                .unwrap();
        }
        let (notes, total) = store.timeline_notes("p", 0, 100, 1).await.unwrap();
        assert_eq!(total, 2);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].text, "first");
        assert_eq!(store.timeline_notes("q", 0, 100, 10).await.unwrap().1, 0);

        store
            .set_timeline_pin("p", "audit:3", true, 5, "ana")
            .await
            .unwrap();
        store
            .set_timeline_pin("p", "note:1", true, 6, "ana")
            .await
            .unwrap();
        store
            .set_timeline_pin("p", "audit:3", true, 7, "bob")
            .await
            .unwrap();
        assert_eq!(
            store.timeline_pins("p").await.unwrap(),
            ["audit:3", "note:1"]
        );
        store
            .set_timeline_pin("p", "audit:3", false, 8, "ana")
            .await
            .unwrap();
        assert_eq!(store.timeline_pins("p").await.unwrap(), ["note:1"]);
        assert!(store.timeline_pins("q").await.unwrap().is_empty());

        store
            .insert_health_samples(
                "p",
                &[
                    s("gateway", 5, HealthState::Up),
                    s("gateway", 8, HealthState::Down),
                    s("gateway", 20, HealthState::Down),
                    s("gateway", 22, HealthState::Down),
                    s("gateway", 24, HealthState::Up),
                    s("db", 3, HealthState::Up),
                    s("db", 25, HealthState::Up),
                ],
            )
            .await
            .unwrap();
        let (before, within) = store.health_changes("p", 0, 10, 30).await.unwrap();
        assert_eq!(before.len(), 2);
        assert_eq!((before[1].target.as_str(), before[1].at_ms), ("gateway", 8));
        assert_eq!(before[1].state, HealthState::Down);
        // Each target's first sample in the window, then only those that change its state
        // (gateway still down at 22 is not read).
        let got: Vec<_> = within
            .iter()
            .map(|x| (x.target.as_str(), x.at_ms))
            .collect();
        assert_eq!(got, [("db", 25), ("gateway", 20), ("gateway", 24)]);
    }
}
