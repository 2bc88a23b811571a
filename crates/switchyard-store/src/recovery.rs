//! Opening `switchyard.db` safely.
//!
//! - **Damaged file.** SQLite refusing the file (SQLITE_CORRUPT, SQLITE_NOTADB), the quick check
//!   at open failing, a migration hitting damage, or a query having found damage since (it leaves
//!   `switchyard.db.damaged`, see `error`): the file is moved aside with its `-wal` and `-shm`
//!   (`switchyard.db.corrupt-<UTC time>`, never deleted), a new database is created, and every
//!   row that can still be read is copied into it, table by table and range by range, so one bad
//!   page loses only the rows on it. [`StoreRecovery`] says what came back and what did not.
//! - **Quick check at open.** `PRAGMA quick_check` of the whole file reads every page: 0.19 s
//!   warm and 0.83 s cold on a 117 MB database (102,400 deployments, 200,000 health samples,
//!   20,000 audit entries), too slow for every start. The open checks only the tables that
//!   cannot be fetched again (profiles, settings, runbook runs, the audit log, the bundle index,
//!   pins, the deploy journal), on a read-only connection of its own: 7 ms warm, ~50 ms cold on
//!   the same file, nearly all of it the audit log. Damage in the caches (deployment history,
//!   health) is found by the query that reads it, which says "restart" and leaves the marker.
//! - **Newer file.** A database whose migrations include one this build does not know was
//!   written by a newer Switchyard: it is refused before anything is written to it.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sqlx::migrate::MigrateError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Row, SqlitePool};
use switchyard_core::{AppError, ErrorCode};

use crate::error::{
    damaged_marker, fault_of, internal, migrate_fault, sqlite_message, storage_error, Fault,
    BUSY_TIMEOUT,
};

/// The schema's migrations, embedded at compile time.
pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Tables whose rows exist nowhere else: checked at every open.
const CHECKED_AT_OPEN: &[&str] = &[
    "_sqlx_migrations",
    "profiles",
    "app_settings",
    "runbook_runs",
    "runbook_steps",
    "runbook_checks",
    "runbook_events",
    "audit_log",
    "bundles",
    "bundle_uses",
    "deploy_pins",
    "deploy_journal",
    "timeline_notes",
    "timeline_pins",
    "rollouts",
];

/// Tables copied out of a damaged file, parents before their children. `sync_windows` is left
/// out on purpose: the history cache starts "never synced", so the next sync fetches everything
/// the Deploy API still serves, whatever of the cache could be read.
const SALVAGED: &[&str] = &[
    "profiles",
    "app_settings",
    "runbook_runs",
    "runbook_steps",
    "runbook_checks",
    "runbook_events",
    "audit_log",
    "bundles",
    "bundle_uses",
    "deploy_pins",
    "deploy_journal",
    "timeline_notes",
    "timeline_pins",
    "rollouts",
    "deployments",
    "deployment_status_changes",
    "health_buckets",
    "health_samples",
    "log_excerpts",
];

/// Tables deliberately not salvaged, and why (read by the test that every table is covered).
#[cfg_attr(not(test), allow(dead_code))]
const NOT_SALVAGED: &[(&str, &str)] = &[
    (
        "sync_windows",
        "the cache starts never synced, so the next sync fetches all the Deploy API serves",
    ),
    ("_sqlx_migrations", "written anew by the migrations"),
    (
        "audit_out_of_order",
        "written anew by audit_log's trigger as its entries are copied, in number order",
    ),
    (
        "sync_runs",
        "with sync_windows gone, a sync stopped midway is started again from its first window",
    ),
];

/// What happened to a damaged database at open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreRecovery {
    /// The database file that was damaged (a new one is in its place now).
    pub damaged_file: PathBuf,
    /// Where the damaged file is now.
    pub moved_to: PathBuf,
    /// Its `-wal` and `-shm` files, moved beside it (those that existed).
    pub moved_with: Vec<PathBuf>,
    /// How the damage showed.
    pub reason: String,
    /// What was read back into the new database, table by table (a table the damaged file did
    /// not have is absent).
    pub tables: Vec<TableSalvage>,
    /// Why nothing at all could be read from the damaged file, when that is so.
    pub unreadable: Option<String>,
}

impl StoreRecovery {
    /// How one table came through, if the damaged file had it.
    pub fn table(&self, name: &str) -> Option<&TableSalvage> {
        self.tables.iter().find(|t| t.table == name)
    }
}

/// One table of a damaged database, as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableSalvage {
    pub table: String,
    /// Rows copied into the new database.
    pub rows: u64,
    /// Every row could be read (false: some or all of them could not).
    pub complete: bool,
}

enum Opened {
    Ready(SqlitePool),
    Damaged(String),
}

/// Open (creating if needed) and migrate the database at `path`, recovering a damaged one.
pub(crate) async fn open(path: &Path) -> Result<(SqlitePool, Option<StoreRecovery>), AppError> {
    let marker = damaged_marker(path);
    if let Ok(note) = std::fs::read_to_string(&marker) {
        if path.exists() {
            let reason = format!(
                "a query found damage in it while the app ran ({})",
                note.trim().replace('\n', "; ")
            );
            return recover(path, reason).await;
        }
        let _ = std::fs::remove_file(&marker);
    }
    match open_checked(path).await? {
        Opened::Ready(pool) => Ok((pool, None)),
        Opened::Damaged(reason) => recover(path, reason).await,
    }
}

fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // A lock held by another connection is waited for this long, then refused with what
        // to do (error::busy).
        .busy_timeout(BUSY_TIMEOUT)
        // A log restarted after a checkpoint gives its file back down to this size.
        .pragma("journal_size_limit", WAL_FILE_LIMIT_BYTES.to_string())
}

/// What a restarted write-ahead log's file is cut back to (SQLite's automatic checkpoint is at
/// 1,000 pages, about as much; a read that lasts can make the log grow past it meanwhile).
const WAL_FILE_LIMIT_BYTES: u64 = 4 << 20;

/// Whether a connection going back to the pool is fit for the next caller. When SQLite rolls
/// a transaction back by itself (it may on SQLITE_FULL and I/O errors), sqlx's own ROLLBACK then
/// fails and it keeps counting the transaction as open: every later `BEGIN` on that connection
/// would fail ("non-zero transaction depth"), so a full disk, once freed, would still break
/// saves. Such a connection is closed instead (the pool opens a new one).
async fn settled(conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::sqlite::SqliteTransactionManager as Transactions;
    use sqlx::TransactionManager;
    // Nearly every release: no transaction left open, so no rollback queued (sqlx counts a
    // transaction until its rollback has run), and no round trip to the connection's thread.
    if Transactions::get_transaction_depth(conn) == 0 {
        return Ok(true);
    }
    // Runs after any rollback queued by a dropped transaction.
    conn.ping().await?;
    Ok(Transactions::get_transaction_depth(conn) == 0)
}

/// Check the file on one connection of its own, closed before anything else happens to the
/// file; then open the pool and migrate.
async fn open_checked(path: &Path) -> Result<Opened, AppError> {
    const OPENING: &str = "Opening the local database";
    // Read-only, on a connection of its own that is closed before anything else happens to
    // the file: a damaged file (and its write-ahead log) is not checkpointed into or deleted
    // by the check, and no connection dropped on a failed connect is closed later, on its
    // worker thread, while the file is being moved.
    let mut checked = !path.exists();
    if !checked {
        let probe = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .busy_timeout(BUSY_TIMEOUT);
        match SqliteConnection::connect_with(&probe).await {
            Ok(mut conn) => {
                let verdict = inspect(&mut conn, path).await;
                let _ = conn.close().await;
                if let Some(reason) = verdict? {
                    return Ok(Opened::Damaged(reason));
                }
                checked = true;
            }
            Err(e) if fault_of(&e) == Fault::Other => {
                // Not a verdict on the file (say, a permission): the pool below says it.
                tracing::warn!(path = %path.display(), error = %e, "the read-only check could not open the database");
            }
            Err(e) => return connect_failed(path, e),
        }
    }

    let pool = match SqlitePoolOptions::new()
        .max_connections(4)
        // sqlx pings a connection each time it is taken from the pool (a round trip to the
        // connection's thread): for a local file that can only fail with the next query too.
        .test_before_acquire(false)
        .after_release(|conn, _| Box::pin(async move { settled(conn).await }))
        .connect_with(options(path))
        .await
    {
        Ok(pool) => pool,
        Err(e) => return connect_failed(path, e),
    };
    if !checked {
        let verdict = match pool.acquire().await {
            Ok(mut conn) => inspect(&mut conn, path).await,
            Err(e) => Err(storage_error(OPENING, Some(path), &e)),
        };
        match verdict {
            Ok(None) => {}
            Ok(Some(reason)) => {
                pool.close().await;
                return Ok(Opened::Damaged(reason));
            }
            Err(e) => {
                pool.close().await;
                return Err(e);
            }
        }
    }
    match MIGRATOR.run(&pool).await {
        Ok(()) => Ok(Opened::Ready(pool)),
        Err(MigrateError::VersionMissing(v)) => {
            pool.close().await;
            Err(written_by_newer(path, v))
        }
        Err(e) => {
            pool.close().await;
            match migrate_fault(&e) {
                Fault::Damaged => Ok(Opened::Damaged(format!(
                    "SQLite, while updating its schema: {}",
                    sqlite_message(&sqlx::Error::Migrate(Box::new(e)))
                ))),
                Fault::Other => Err(internal("Updating the local database", e)),
                _ => Err(storage_error(
                    OPENING,
                    Some(path),
                    &sqlx::Error::Migrate(Box::new(e)),
                )),
            }
        }
    }
}

fn connect_failed(path: &Path, e: sqlx::Error) -> Result<Opened, AppError> {
    match fault_of(&e) {
        Fault::Damaged => Ok(Opened::Damaged(format!("SQLite: {}", sqlite_message(&e)))),
        Fault::Other => {
            tracing::error!(path = %path.display(), error = %e, "opening the database failed");
            Err(AppError::invalid_input(format!(
                "Cannot open the local database {}: {e}. Check that the data folder is readable and writable.",
                path.display()
            )))
        }
        _ => Err(storage_error("Opening the local database", Some(path), &e)),
    }
}

/// Damage in the tables that cannot be fetched again (`Some(how it showed)`), or a schema
/// newer than this build (an error).
async fn inspect(conn: &mut SqliteConnection, path: &Path) -> Result<Option<String>, AppError> {
    let failed = |e: sqlx::Error, what: &str| match fault_of(&e) {
        Fault::Damaged => Ok(Some(format!("{what}SQLite: {}", sqlite_message(&e)))),
        Fault::Other => {
            // Not a verdict on the file: the pool's own open says what is wrong, if anything.
            tracing::warn!(path = %path.display(), error = %e, "the check at open could not run");
            Ok(None)
        }
        _ => Err(storage_error("Opening the local database", Some(path), &e)),
    };
    let tables: Vec<String> =
        match sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut *conn)
            .await
        {
            Ok(t) => t,
            Err(e) => return failed(e, ""),
        };
    for table in CHECKED_AT_OPEN {
        if !tables.iter().any(|t| t == table) {
            continue;
        }
        let found: Vec<String> =
            match sqlx::query_scalar(&format!("PRAGMA quick_check(\"{table}\")"))
                .fetch_all(&mut *conn)
                .await
            {
                Ok(found) => found,
                Err(e) => {
                    return failed(
                        e,
                        &format!("the check at start found damage in its table {table}: "),
                    )
                }
            };
        if found != ["ok"] {
            let mut what = found.join("; ");
            if what.len() > 300 {
                let cut = (0..=300)
                    .rev()
                    .find(|i| what.is_char_boundary(*i))
                    .unwrap_or(0);
                what.truncate(cut);
                what.push('…');
            }
            return Ok(Some(format!(
                "the check at start found damage in its table {table}: {what}"
            )));
        }
    }
    if tables.iter().any(|t| t == "_sqlx_migrations") {
        let applied: Vec<i64> =
            match sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut *conn)
                .await
            {
                Ok(v) => v,
                Err(e) => return failed(e, ""),
            };
        if let Some(unknown) = applied.iter().find(|v| !MIGRATOR.version_exists(**v)) {
            let newest = applied.iter().max().copied().unwrap_or(*unknown);
            return Err(written_by_newer(path, newest));
        }
    }
    Ok(None)
}

/// Wait (up to 5 s) until no descriptor of this process has the database's files open, so no
/// closing connection checkpoints into, or deletes, a file after it is moved. Linux (`/proc`);
/// elsewhere it returns at once.
async fn wait_until_closed(path: &Path) {
    let names = [
        path.to_path_buf(),
        with_suffix(path, "-wal"),
        with_suffix(path, "-shm"),
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
            return;
        };
        let open = fds
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| names.contains(&target));
        if !open || std::time::Instant::now() > deadline {
            if open {
                tracing::warn!(path = %path.display(), "the damaged database is still open in this process");
            }
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The newest schema version this build knows.
fn known_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

fn written_by_newer(path: &Path, version: i64) -> AppError {
    tracing::error!(path = %path.display(), version, known = known_version(), "the database is newer than this build");
    AppError::new(
        ErrorCode::InvalidInput,
        format!(
            "Switchyard's database {} was written by a newer version of Switchyard (its schema is at version {version}; this version knows up to {}). It was left as it is. Run the newer Switchyard, or start this one on another data folder (set SWITCHYARD_DATA_DIR).",
            path.display(),
            known_version()
        ),
    )
}

/// Move the damaged file aside, create a new database, copy what can be read.
async fn recover(
    path: &Path,
    reason: String,
) -> Result<(SqlitePool, Option<StoreRecovery>), AppError> {
    tracing::warn!(path = %path.display(), %reason, "the database is damaged: moving it aside");
    wait_until_closed(path).await;
    let moved_to = aside_name(path);
    let moved_with = move_aside(path, &moved_to, &reason)?;
    let _ = std::fs::remove_file(damaged_marker(path));
    let pool = match open_checked(path).await? {
        Opened::Ready(pool) => pool,
        Opened::Damaged(again) => {
            return Err(internal(
                "Creating a new local database",
                format!("the new database is damaged too: {again}"),
            ))
        }
    };
    let (tables, unreadable) = salvage(&pool, &moved_to).await;
    let recovery = StoreRecovery {
        damaged_file: path.to_path_buf(),
        moved_to,
        moved_with,
        reason,
        tables,
        unreadable,
    };
    tracing::warn!(recovery = ?recovery, "the damaged database was replaced");
    Ok((pool, Some(recovery)))
}

/// `switchyard.db.corrupt-<UTC time>`, unique in its folder.
fn aside_name(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut candidate = path.with_file_name(format!("{name}.corrupt-{stamp}"));
    let mut n = 2;
    while candidate.exists() || with_suffix(&candidate, "-wal").exists() {
        candidate = path.with_file_name(format!("{name}.corrupt-{stamp}-{n}"));
        n += 1;
    }
    candidate
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Rename the file and its `-wal`/`-shm` together. If the `-wal` cannot follow, everything goes
/// back: a new database must never pick up the damaged one's write-ahead log.
fn move_aside(path: &Path, to: &Path, reason: &str) -> Result<Vec<PathBuf>, AppError> {
    let cannot = |e: std::io::Error| {
        tracing::error!(error = %e, path = %path.display(), "could not move the damaged database aside");
        AppError::invalid_input(format!(
            "Switchyard's database {} is damaged ({reason}) and could not be moved aside ({e}). Move it and its -wal and -shm files out of {} yourself, then start Switchyard again: it will create a new database.",
            path.display(),
            path.parent().map(|p| p.display().to_string()).unwrap_or_default()
        ))
    };
    std::fs::rename(path, to).map_err(cannot)?;
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    for suffix in ["-wal", "-shm"] {
        let from = with_suffix(path, suffix);
        if std::fs::symlink_metadata(&from).is_err() {
            continue;
        }
        let dest = with_suffix(to, suffix);
        if let Err(e) = std::fs::rename(&from, &dest) {
            for (orig, now) in moved.iter().rev() {
                let _ = std::fs::rename(now, orig);
            }
            let _ = std::fs::rename(to, path);
            return Err(cannot(e));
        }
        moved.push((from, dest));
    }
    Ok(moved.into_iter().map(|(_, dest)| dest).collect())
}

/// A read-only `file:` URI for ATTACH (the damaged file is never written).
fn read_only_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(char::from(*b))
            }
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri.push_str("?mode=ro");
    uri
}

/// Copy every readable row of the damaged file at `from` into the new database.
async fn salvage(pool: &SqlitePool, from: &Path) -> (Vec<TableSalvage>, Option<String>) {
    let mut conn = match pool.acquire().await {
        // Its own connection, closed at the end: ATTACH and foreign_keys are per connection.
        Ok(c) => c.detach(),
        Err(e) => {
            return (
                Vec::new(),
                Some(format!("no connection to the new database: {e}")),
            )
        }
    };
    let result = salvage_on(&mut conn, from).await;
    let _ = conn.close().await;
    result
}

async fn salvage_on(
    conn: &mut SqliteConnection,
    from: &Path,
) -> (Vec<TableSalvage>, Option<String>) {
    let unreadable = |e: sqlx::Error| (Vec::new(), Some(sqlite_message(&e)));
    // Children whose parent row was lost are removed below, not refused one chunk at a time.
    if let Err(e) = sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
    {
        return unreadable(e);
    }
    if let Err(e) = sqlx::query("ATTACH DATABASE ? AS damaged")
        .bind(read_only_uri(from))
        .execute(&mut *conn)
        .await
    {
        return unreadable(e);
    }
    let names: Vec<String> =
        match sqlx::query_scalar("SELECT name FROM damaged.sqlite_master WHERE type = 'table'")
            .fetch_all(&mut *conn)
            .await
        {
            Ok(n) => n,
            Err(e) => {
                let _ = sqlx::query("DETACH DATABASE damaged")
                    .execute(&mut *conn)
                    .await;
                return unreadable(e);
            }
        };
    let mut tables = Vec::new();
    for table in SALVAGED {
        if names.iter().any(|n| n == table) {
            tables.push(salvage_table(conn, table).await);
        }
    }
    // Rows whose parent was lost (a runbook step without its run, a bundle use without its
    // bundle) would only be invisible clutter: removed, and their table is not complete.
    if let Ok(orphans) = sqlx::query("PRAGMA main.foreign_key_check")
        .fetch_all(&mut *conn)
        .await
    {
        for row in orphans {
            let table: String = row.try_get(0).unwrap_or_default();
            let rowid: Option<i64> = row.try_get(1).ok().flatten();
            let (Some(t), Some(rowid)) = (tables.iter_mut().find(|t| t.table == table), rowid)
            else {
                continue;
            };
            if sqlx::query(&format!("DELETE FROM main.\"{}\" WHERE rowid = ?", t.table))
                .bind(rowid)
                .execute(&mut *conn)
                .await
                .is_ok_and(|r| r.rows_affected() == 1)
            {
                t.rows = t.rows.saturating_sub(1);
                t.complete = false;
            }
        }
    }
    let _ = sqlx::query("DETACH DATABASE damaged")
        .execute(&mut *conn)
        .await;
    (tables, None)
}

async fn columns(conn: &mut SqliteConnection, schema: &str, table: &str) -> Option<Vec<String>> {
    let rows = sqlx::query(&format!("PRAGMA {schema}.table_info(\"{table}\")"))
        .fetch_all(&mut *conn)
        .await
        .ok()?;
    Some(
        rows.iter()
            .filter_map(|r| r.try_get::<String, _>(1).ok())
            .collect(),
    )
}

/// Copy one table, a range of rowids at a time: a damaged page loses the rows of its range,
/// not the table.
async fn salvage_table(conn: &mut SqliteConnection, table: &str) -> TableSalvage {
    let mut out = TableSalvage {
        table: table.to_owned(),
        rows: 0,
        complete: false,
    };
    let (Some(theirs), Some(ours)) = (
        columns(conn, "damaged", table).await,
        columns(conn, "main", table).await,
    ) else {
        return out;
    };
    // Columns both have: an older file lacks newer columns (their defaults apply).
    let shared: Vec<String> = ours
        .iter()
        .filter(|c| theirs.contains(c))
        .map(|c| format!("\"{c}\""))
        .collect();
    if shared.is_empty() {
        return out;
    }
    let cols = shared.join(", ");
    let copy = format!(
        "INSERT OR IGNORE INTO main.\"{table}\" ({cols}) SELECT {cols} FROM damaged.\"{table}\""
    );
    let range: Result<(Option<i64>, Option<i64>), _> = sqlx::query_as(&format!(
        "SELECT min(rowid), max(rowid) FROM damaged.\"{table}\""
    ))
    .fetch_one(&mut *conn)
    .await;
    match range {
        Ok((None, _)) | Ok((_, None)) => out.complete = true,
        Ok((Some(lo), Some(hi))) => {
            let step = ((hi - lo) / 1000).max(1000);
            let ranged = format!("{copy} WHERE rowid >= ? AND rowid < ?");
            out.complete = true;
            let mut at = lo;
            while at <= hi {
                let end = at.saturating_add(step);
                match sqlx::query(&ranged)
                    .bind(at)
                    .bind(end)
                    .execute(&mut *conn)
                    .await
                {
                    Ok(r) => out.rows += r.rows_affected(),
                    Err(e) => {
                        tracing::warn!(table, from = at, to = end, error = %e, "rows lost to damage");
                        out.complete = false;
                    }
                }
                at = end;
            }
        }
        // Not even its first and last row: try the whole table in one go.
        Err(_) => {
            if let Ok(r) = sqlx::query(&copy).execute(&mut *conn).await {
                out.rows = r.rows_affected();
            }
        }
    }
    out
}

#[cfg(test)]
mod coverage {
    use super::*;

    /// A table added by a migration is salvaged from a damaged file, or left out on purpose
    /// with a reason: rows of a new table are never silently lost.
    #[tokio::test]
    async fn every_table_of_the_schema_is_salvaged_or_left_out_on_purpose() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open_in(dir.path()).await.unwrap();
        // Full-text indexes (and their shadow tables) are rebuilt from the tables they index.
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE '%!_fts%' ESCAPE '!'",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        assert!(tables.len() > 10, "{tables:?}");
        for t in &tables {
            assert!(
                SALVAGED.contains(&t.as_str()) || NOT_SALVAGED.iter().any(|(n, _)| n == t),
                "table {t} is neither salvaged nor left out on purpose (recovery.rs)"
            );
        }
        for t in SALVAGED.iter().chain(NOT_SALVAGED.iter().map(|(n, _)| n)) {
            assert!(
                tables.iter().any(|x| x == t),
                "{t} is listed but not in the schema"
            );
        }
    }
}
