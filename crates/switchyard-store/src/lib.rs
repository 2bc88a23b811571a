//! Switchyard's local store: one SQLite file (`switchyard.db`, WAL) holding the profiles, the
//! deployment history cache with its sync bookkeeping, the bundle archive index, health samples
//! with down-sampling, the audit log, and runbook runs. Migrations live in this crate.
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
mod profiles;
mod runbooks;
mod settings;

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use switchyard_core::AppError;

pub use audit::{AuditEntry, AuditRecord};
pub use bundles::{BundleRecord, BundleUse, BundleUseKind, DeployPin};
pub use deployments::{
    DeploymentFilter, HistorySort, HistorySortKey, SyncWindow, SyncWindowState, UpsertReport,
};
pub use health::{HealthBucket, HealthSample, HealthState};
pub use journal::{JournalEntry, JournalResolution, JournalStage};
pub use runbooks::{
    CheckUpdate, NewRun, NewRunEvent, NewRunStep, RunChanges, RunCheckRecord, RunEventRecord,
    RunRecord, RunStepRecord, RunUpdate,
};

/// The file name of the store inside the data folder.
pub const DB_FILE: &str = "switchyard.db";

/// An open store. Cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
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

    /// Open (creating if needed) the database file at `path` and migrate it.
    pub async fn open(path: &Path) -> Result<Store, AppError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|e| error::internal("Opening the local database", e))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| {
                tracing::error!(path = %path.display(), error = %e, "opening the database failed");
                AppError::invalid_input(format!(
                    "Cannot open the local database {}: {e}. If the file is damaged, move it aside; \
                     Switchyard will create a new one and sync history again.",
                    path.display()
                ))
            })?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| error::internal("Updating the local database", e))?;
        Ok(Store { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
