//! Switchyard's local store: one SQLite file (`switchyard.db`, WAL) holding the profiles, the
//! deployment history cache with its sync bookkeeping, the bundle archive index, health samples
//! with down-sampling, the audit log, runbook runs, the timeline's notes and pins, and the log
//! excerpts around failures seen in tails. Migrations live in this crate.
//!
//! It owns the schema and every query; it must not depend on `tauri`, on HTTP clients or on the
//! keychain, and it never stores a secret. Time is passed in (epoch milliseconds), so records are
//! testable.

mod audit;
mod bundles;
mod deployments;
mod error;
mod health;
mod journal;
mod log_excerpts;
mod profiles;
mod recovery;
mod rollouts;
mod runbooks;
mod settings;
mod timeline;

use std::path::Path;
use std::sync::Arc;

use sqlx::SqlitePool;
use switchyard_core::AppError;

pub use audit::{AuditEntry, AuditRecord};
pub use bundles::{BundleRecord, BundleUse, BundleUseKind, DeployPin};
pub use deployments::{
    DeploymentFilter, HistorySort, HistorySortKey, SyncWindow, SyncWindowState, UpsertReport,
    COUNT_BOUND,
};
pub use health::{HealthBucket, HealthRun, HealthSample, HealthState};
pub use journal::{JournalEntry, JournalResolution, JournalStage};
pub use log_excerpts::{
    LogExcerpt, LogExcerptLine, NewLogExcerptLine, LOG_EXCERPT_ROWS_PER_PROFILE,
};
pub use recovery::{StoreRecovery, TableSalvage};
pub use rollouts::RolloutRecord;
pub use runbooks::{
    CheckUpdate, NewRun, NewRunEvent, NewRunStep, RunChanges, RunCheckRecord, RunEventRecord,
    RunRecord, RunStepRecord, RunUpdate,
};
pub use timeline::{NewTimelineNote, TimelineNoteRecord};

/// The file name of the store inside the data folder.
pub const DB_FILE: &str = "switchyard.db";

/// An open store. Cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    /// Names the file in errors while the store is open (see `error`).
    _file: Arc<error::OpenFile>,
    /// Set when the file was found damaged at open and replaced (see `recovery`).
    recovery: Option<Arc<StoreRecovery>>,
}

impl Store {
    /// Open (creating if needed) `switchyard.db` in `data_dir` and bring its schema up to date.
    pub async fn open_in(data_dir: &Path) -> Result<Store, AppError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            AppError::invalid_input(format!(
                "Cannot create the data folder {}: {e}. Check that it is writable.",
                data_dir.display()
            ))
        })?;
        Store::open(&data_dir.join(DB_FILE)).await
    }

    /// Open (creating if needed) the database file at `path` and migrate it. A damaged file is
    /// moved aside and replaced, keeping what can be read ([`Store::recovery`] says what); a
    /// file written by a newer Switchyard is refused untouched.
    pub async fn open(path: &Path) -> Result<Store, AppError> {
        let (pool, recovery) = recovery::open(path).await?;
        Ok(Store {
            pool,
            _file: error::OpenFile::register(path),
            recovery: recovery.map(Arc::new),
        })
    }

    /// What happened to a damaged database this open replaced, if it did.
    pub fn recovery(&self) -> Option<&StoreRecovery> {
        self.recovery.as_deref()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Run a write that returns its row (`INSERT … RETURNING`) to its end, and give that row.
/// SQLite's automatic checkpoint runs when a write statement ends; `fetch_one` stops the
/// statement after its first row, so the write commits without it: a store written that way
/// never copied its write-ahead log back and the log grew by every page each write touched
/// (~63 KB an audit entry) until the app closed. (A checkpoint run from elsewhere, say when a
/// connection goes back to the pool, would race the next write and keep the log from
/// restarting.) Every `RETURNING` of the store goes through here (a test checks).
pub(crate) async fn write_returning<'q>(
    query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    pool: &SqlitePool,
) -> Result<sqlx::sqlite::SqliteRow, sqlx::Error> {
    query
        .fetch_all(pool)
        .await?
        .into_iter()
        .next()
        .ok_or(sqlx::Error::RowNotFound)
}

/// The rows of a page that `query` builds as one JSON array in its first column (NULL for an
/// empty page), read as `T`s: one message from SQLite's thread instead of one per row. `what`
/// names the read in an error.
pub(crate) async fn json_page<T: serde::de::DeserializeOwned>(
    query: &mut sqlx::QueryBuilder<'_, sqlx::Sqlite>,
    pool: &SqlitePool,
    what: &'static str,
) -> Result<Vec<T>, switchyard_core::AppError> {
    use sqlx::Row;
    let json: Option<String> = query
        .build()
        .fetch_one(pool)
        .await
        .map_err(error::db(what))?
        .get(0);
    json.map_or(Ok(Vec::new()), |j| {
        serde_json::from_str(&j).map_err(|e| error::internal(what, e))
    })
}

#[cfg(test)]
mod tests {
    /// The writes that return their row all run to their end ([`super::write_returning`]): each
    /// `RETURNING` in the store's sources sits inside a `write_returning(` call.
    #[test]
    fn every_write_that_returns_its_row_runs_to_its_end() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut seen = 0;
        for entry in std::fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for (at, _) in text.match_indices("RETURNING") {
                // Inside the call: no `.await` between its opening and the statement's text.
                let inside = text[..at]
                    .rfind("write_returning(")
                    .is_some_and(|call| !text[call..at].contains(".await"));
                if path.ends_with("lib.rs") {
                    continue;
                }
                seen += 1;
                assert!(
                    inside,
                    "{} has a RETURNING statement not run through write_returning (byte {at})",
                    path.display()
                );
            }
        }
        assert!(
            seen >= 3,
            "the store's writes that return their row were not found"
        );
    }
}
