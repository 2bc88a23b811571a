//! Mapping database failures to safe, user-facing errors.
//!
//! Most failures are internal (the detail is logged, the operator gets a safe message), but three
//! are the machine's, not Switchyard's, and each says what to do: the disk is full (nothing was
//! saved), the database stayed busy past the wait, and the file is damaged (restart: the next
//! open moves it aside and keeps what can be read — see `recovery`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use switchyard_core::{AppError, ErrorCode};

/// How long a statement waits for a lock another connection holds before it gives up.
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What kind of storage failure an error is, when it is one the operator can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// SQLITE_FULL, or ENOSPC/EDQUOT from the file system.
    Full,
    /// SQLITE_BUSY / SQLITE_LOCKED after the busy timeout.
    Busy,
    /// SQLITE_CORRUPT / SQLITE_NOTADB: the file is damaged or not a database.
    Damaged,
    Other,
}

/// Classify a sqlx error by SQLite's primary result code (the low byte of the extended one).
pub(crate) fn fault_of(e: &sqlx::Error) -> Fault {
    match e {
        sqlx::Error::Database(d) => {
            match d
                .code()
                .and_then(|c| c.parse::<i64>().ok())
                .map(|c| c & 0xff)
            {
                Some(13) => Fault::Full,
                Some(5) | Some(6) => Fault::Busy,
                Some(11) | Some(26) => Fault::Damaged,
                _ => Fault::Other,
            }
        }
        sqlx::Error::Io(io) if switchyard_core::error::is_disk_full(io) => Fault::Full,
        sqlx::Error::Migrate(m) => migrate_fault(m),
        _ => Fault::Other,
    }
}

pub(crate) fn migrate_fault(e: &sqlx::migrate::MigrateError) -> Fault {
    match e {
        sqlx::migrate::MigrateError::Execute(e)
        | sqlx::migrate::MigrateError::ExecuteMigration(e, _) => fault_of(e),
        _ => Fault::Other,
    }
}

/// The database files open in this process, so an error can name its file. (A query error
/// does not say which pool it came from; the app has one store, so the name is exact there.
/// With several stores open at once — tests — messages say `switchyard.db` without a folder.)
static OPEN_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Registers a database file as open for as long as its store (any clone) lives.
#[derive(Debug)]
pub(crate) struct OpenFile {
    path: PathBuf,
}

impl OpenFile {
    pub(crate) fn register(path: &Path) -> Arc<OpenFile> {
        OPEN_FILES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(path.to_path_buf());
        Arc::new(OpenFile {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        let mut open = OPEN_FILES.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = open.iter().position(|p| *p == self.path) {
            open.swap_remove(i);
        }
    }
}

/// The one database file open in this process, if exactly one is.
fn the_open_file() -> Option<PathBuf> {
    let open = OPEN_FILES.lock().unwrap_or_else(PoisonError::into_inner);
    let first = open.first()?;
    open.iter().all(|p| p == first).then(|| first.clone())
}

/// The marker a query leaves beside a database it found damaged, so the next open recovers it
/// even where the quick check at open (which reads only the tables that cannot be synced again)
/// would not see the damage.
pub(crate) fn damaged_marker(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".damaged");
    db.with_file_name(name)
}

/// Log the full error, return a safe message.
pub(crate) fn internal(context: &str, e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "{context} failed");
    AppError::internal(context)
}

/// Map a failed statement: a full disk, a busy or a damaged database say so and what to do;
/// anything else is internal.
pub(crate) fn db(context: &'static str) -> impl Fn(sqlx::Error) -> AppError {
    move |e| storage_error(context, the_open_file().as_deref(), &e)
}

/// The error for `e`, naming `path` (the database file) when known.
pub(crate) fn storage_error(context: &str, path: Option<&Path>, e: &sqlx::Error) -> AppError {
    let fault = fault_of(e);
    if fault != Fault::Other {
        tracing::error!(error = %e, ?fault, "{context} failed");
    }
    let file = path.map_or_else(|| crate::DB_FILE.to_owned(), |p| p.display().to_string());
    match fault {
        Fault::Full => {
            let folder = path.and_then(Path::parent).map_or_else(
                || "Switchyard's data folder".to_owned(),
                |p| p.display().to_string(),
            );
            AppError::disk_full(context, &folder)
        }
        Fault::Busy => busy(context, &file),
        Fault::Damaged => {
            if let Some(path) = path {
                let note = format!("{context}: {e}\n");
                if let Err(w) = std::fs::write(damaged_marker(path), note) {
                    tracing::error!(error = %w, "could not mark the database as damaged");
                }
            }
            AppError::new(
                ErrorCode::Internal,
                format!(
                    "{context} failed: Switchyard's database {file} is damaged (SQLite: {}). Restart Switchyard: it will move the damaged file aside (nothing is deleted), keep everything it can still read, and start a new database.",
                    sqlite_message(e)
                ),
            )
        }
        Fault::Other => internal(context, e),
    }
}

/// The database stayed busy past [`BUSY_TIMEOUT`].
pub(crate) fn busy(context: &str, file: &str) -> AppError {
    AppError::new(
        ErrorCode::DatabaseBusy,
        format!(
            "{context} failed: Switchyard's database {file} stayed locked by another connection or program for more than {} s. Try again; if it stays busy, close any other program that has the file open (a database browser, a backup or sync tool) — only one Switchyard may use a data folder.",
            BUSY_TIMEOUT.as_secs()
        ),
    )
}

/// SQLite's own words for a database error (no file contents, no secrets).
pub(crate) fn sqlite_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_owned(),
        sqlx::Error::Migrate(m) => match &**m {
            sqlx::migrate::MigrateError::Execute(e)
            | sqlx::migrate::MigrateError::ExecuteMigration(e, _) => sqlite_message(e),
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}
