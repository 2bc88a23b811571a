//! The sandbox's SQLite state: settings, users and keys, namespaces, scripts with their versions
//! and version deployments, the Deploy API's deployment records, and content-addressed script
//! bodies. Plain data access; the rules live in the API modules.
//!
//! This file opens the database and holds settings, users, keys and permissions; the row types
//! are in `rows`, namespaces, scripts and their versions in `scripts`, the Deploy API's records in
//! `deployments`.

mod deployments;
mod rows;
mod scripts;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

pub use deployments::insert_deployment_in;
pub use rows::{
    DeploymentRow, ModuleUpload, NamespaceRow, NewDeployment, NewScriptDeployment, PermissionRow,
    ScriptDeploymentRow, ScriptRow, ScriptUpload, UserRow, VersionRow, VersionShare,
    SANDBOX_AUTHOR,
};
pub use scripts::{put_blob_in, put_script_in, upload_etag};

/// The file name of the sandbox database inside its data dir.
pub const DATABASE_FILE: &str = "sandbox.db";

/// RFC 3339 with milliseconds and `Z`, the way the platform writes timestamps.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A random lowercase hex string of `bytes * 2` characters.
pub fn random_hex(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    hex::encode(raw)
}

/// A random version-4 UUID in its hyphenated form.
pub fn random_uuid() -> String {
    let mut raw: [u8; 16] = rand::random();
    raw[6] = (raw[6] & 0x0f) | 0x40;
    raw[8] = (raw[8] & 0x3f) | 0x80;
    let h = hex::encode(raw);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("namespace not found")]
    NamespaceNotFound,
    #[error("script not found")]
    ScriptNotFound,
    #[error("namespace already exists")]
    NamespaceExists,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir`, in WAL mode, and migrates it.
    pub async fn open(data_dir: &Path) -> anyhow::Result<Store> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(DATABASE_FILE);
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        // The database holds the sandbox's demo keys: owner-only (SQLite gives its -wal and
        // -shm files the same mode).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(Store { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- settings -------------------------------------------------------------------------

    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let value: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value.map(|v| v.0))
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The stored value of `key`, or `init()` stored and returned when there is none yet.
    pub async fn setting_or_init(
        &self,
        key: &str,
        init: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        if let Some(v) = self.setting(key).await? {
            return Ok(v);
        }
        let v = init();
        self.set_setting(key, &v).await?;
        Ok(v)
    }

    // ---- users, keys, permissions --------------------------------------------------------

    pub async fn upsert_user(&self, id: &str, email: &str, name: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO users (id, email, name) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET email = excluded.email, name = excluded.name")
            .bind(id)
            .bind(email)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn insert_api_key(
        &self,
        key: &str,
        user_id: &str,
        label: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT OR IGNORE INTO api_keys (key, user_id, label) VALUES (?, ?, ?)")
            .bind(key)
            .bind(user_id)
            .bind(label)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn user_by_key(&self, key: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT u.id, u.email, u.name FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key = ?",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn user(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, email, name FROM users WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn grant_permission(
        &self,
        user_id: &str,
        resource: &str,
        action: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT OR IGNORE INTO permissions (user_id, resource, action, granted_at) VALUES (?, ?, ?, ?)")
            .bind(user_id)
            .bind(resource)
            .bind(action)
            .bind(format_time(Utc::now()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn permissions(&self, user_id: &str) -> Result<Vec<PermissionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT resource, action, granted_at FROM permissions WHERE user_id = ? ORDER BY resource, action",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A write transaction that takes SQLite's write lock up front (`BEGIN IMMEDIATE`), so it
    /// waits (busy timeout) for other writers instead of failing when it later starts to write.
    pub async fn begin(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.write_transaction().await
    }

    async fn write_transaction(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}
