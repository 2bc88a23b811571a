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
pub use health::{HealthBucket, HealthSample, HealthState};
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
