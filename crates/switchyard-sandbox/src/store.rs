//! The sandbox's SQLite state: settings, users and keys, namespaces, scripts, deployments and
//! content-addressed script bodies. Plain data access; the rules live in the API modules.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{FromRow, Sqlite, SqlitePool, Transaction};

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

#[derive(Debug, Clone, FromRow)]
pub struct NamespaceRow {
    pub name: String,
    pub namespace_id: String,
    pub created_on: String,
    pub modified_on: String,
    pub created_by: String,
    pub modified_by: String,
    pub trusted_workers: bool,
    pub script_count: i64,
}

/// One module of an uploaded script; its bytes are in `blobs` under `hash`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ModuleRef {
    pub name: String,
    pub content_type: String,
    pub hash: String,
    pub size: u64,
}

#[derive(Debug, Clone, FromRow)]
pub struct ScriptRow {
    pub namespace: String,
    pub name: String,
    pub tag: String,
    pub etag: String,
    pub created_on: String,
    pub modified_on: String,
    pub main_module: String,
    pub has_modules: bool,
    pub modules: String,
    pub settings: String,
    pub tags: String,
    pub deployment_id: String,
}

impl ScriptRow {
    pub fn modules(&self) -> Vec<ModuleRef> {
        serde_json::from_str(&self.modules).unwrap_or_default()
    }
    pub fn settings(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.settings).unwrap_or_default()
    }
    pub fn tags(&self) -> Vec<String> {
        serde_json::from_str(&self.tags).unwrap_or_default()
    }
}

/// A script module with its bytes, as uploaded.
#[derive(Debug, Clone)]
pub struct ModuleUpload {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A complete script upload: what replaces the namespace's script of that name.
#[derive(Debug, Clone)]
pub struct ScriptUpload {
    pub modules: Vec<ModuleUpload>,
    pub main_module: String,
    pub has_modules: bool,
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct DeploymentRow {
    pub id: String,
    pub service: String,
    pub environment: String,
    pub tier: Option<String>,
    pub version: Option<String>,
    pub namespace: String,
    pub namespace_mode: String,
    pub worker: String,
    pub status: String,
    pub timestamp: String,
    pub url: String,
    pub version_tag: String,
    pub metadata: String,
    pub bindings: String,
    pub script_hash: Option<String>,
}

/// A deployment record to insert (the `seq` is assigned by the database).
#[derive(Debug, Clone)]
pub struct NewDeployment {
    pub id: String,
    pub service: String,
    pub environment: String,
    pub tier: Option<String>,
    pub version: Option<String>,
    pub namespace: String,
    pub namespace_mode: String,
    pub worker: String,
    pub status: String,
    pub timestamp: DateTime<Utc>,
    pub url: String,
    pub version_tag: String,
    pub metadata: serde_json::Value,
    pub bindings: serde_json::Value,
    pub script_hash: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct PermissionRow {
    pub resource: String,
    pub action: String,
    pub granted_at: String,
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

const NAMESPACE_COLUMNS: &str =
    "n.name, n.namespace_id, n.created_on, n.modified_on, n.created_by, \
     n.modified_by, n.trusted_workers, \
     (SELECT COUNT(*) FROM scripts s WHERE s.namespace = n.name) AS script_count";

const DEPLOYMENT_COLUMNS: &str = "id, service, environment, tier, version, namespace, \
     namespace_mode, worker, status, timestamp, url, version_tag, metadata, bindings, \
     script_hash";

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

    // ---- blobs -----------------------------------------------------------------------------

    pub async fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT content FROM blobs WHERE hash = ?")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.0))
    }

    pub async fn put_blob(&self, content: &[u8]) -> Result<String, StoreError> {
        let mut tx = self.write_transaction().await?;
        let hash = put_blob_in(&mut tx, content).await?;
        tx.commit().await?;
        Ok(hash)
    }

    // ---- namespaces ------------------------------------------------------------------------

    pub async fn namespaces(&self) -> Result<Vec<NamespaceRow>, StoreError> {
        let sql =
            format!("SELECT {NAMESPACE_COLUMNS} FROM namespaces n ORDER BY n.created_on, n.name");
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    pub async fn namespace(&self, name: &str) -> Result<Option<NamespaceRow>, StoreError> {
        let sql = format!("SELECT {NAMESPACE_COLUMNS} FROM namespaces n WHERE n.name = ?");
        Ok(sqlx::query_as(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn create_namespace(
        &self,
        name: &str,
        created_by: &str,
        at: DateTime<Utc>,
    ) -> Result<NamespaceRow, StoreError> {
        let now = format_time(at);
        let result = sqlx::query(
            "INSERT INTO namespaces (name, namespace_id, created_on, modified_on, created_by, modified_by, trusted_workers) \
             VALUES (?, ?, ?, ?, ?, ?, 0)",
        )
        .bind(name)
        .bind(random_uuid())
        .bind(&now)
        .bind(&now)
        .bind(created_by)
        .bind(created_by)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::NamespaceExists)
            }
            Err(e) => return Err(e.into()),
        }
        self.namespace(name)
            .await?
            .ok_or(StoreError::NamespaceNotFound)
    }

    /// Renames and/or sets `trusted_workers`; `None` leaves a field unchanged.
    pub async fn update_namespace(
        &self,
        name: &str,
        new_name: Option<&str>,
        trusted_workers: Option<bool>,
        modified_by: &str,
    ) -> Result<NamespaceRow, StoreError> {
        let target = new_name.unwrap_or(name);
        let result = sqlx::query(
            "UPDATE namespaces SET name = ?, trusted_workers = COALESCE(?, trusted_workers), modified_on = ?, modified_by = ? WHERE name = ?",
        )
        .bind(target)
        .bind(trusted_workers)
        .bind(format_time(Utc::now()))
        .bind(modified_by)
        .bind(name)
        .execute(&self.pool)
        .await;
        match result {
            Ok(r) if r.rows_affected() == 0 => return Err(StoreError::NamespaceNotFound),
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::NamespaceExists)
            }
            Err(e) => return Err(e.into()),
        }
        self.namespace(target)
            .await?
            .ok_or(StoreError::NamespaceNotFound)
    }

    /// Deletes a namespace and every script in it.
    pub async fn delete_namespace(&self, name: &str) -> Result<(), StoreError> {
        let r = sqlx::query("DELETE FROM namespaces WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NamespaceNotFound);
        }
        Ok(())
    }

    // ---- scripts ---------------------------------------------------------------------------

    pub async fn scripts(&self, namespace: &str) -> Result<Vec<ScriptRow>, StoreError> {
        if self.namespace(namespace).await?.is_none() {
            return Err(StoreError::NamespaceNotFound);
        }
        Ok(
            sqlx::query_as("SELECT * FROM scripts WHERE namespace = ? ORDER BY name")
                .bind(namespace)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn script(&self, namespace: &str, name: &str) -> Result<ScriptRow, StoreError> {
        if self.namespace(namespace).await?.is_none() {
            return Err(StoreError::NamespaceNotFound);
        }
        let row: Option<ScriptRow> =
            sqlx::query_as("SELECT * FROM scripts WHERE namespace = ? AND name = ?")
                .bind(namespace)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        row.ok_or(StoreError::ScriptNotFound)
    }

    /// Uploads (creates or replaces) a script: keeps `created_on` and `tag`, bumps the rest.
    /// Whether a script of this name is in any namespace.
    pub async fn script_exists_anywhere(&self, name: &str) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM scripts WHERE name = ? LIMIT 1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    pub async fn put_script(
        &self,
        namespace: &str,
        name: &str,
        upload: &ScriptUpload,
        at: DateTime<Utc>,
    ) -> Result<ScriptRow, StoreError> {
        let mut tx = self.write_transaction().await?;
        put_script_in(&mut tx, namespace, name, upload, at).await?;
        tx.commit().await?;
        self.script(namespace, name).await
    }

    /// Replaces one script's stored settings and tags, bumping `modified_on`.
    pub async fn update_script_settings(
        &self,
        namespace: &str,
        name: &str,
        settings: &serde_json::Map<String, serde_json::Value>,
        tags: &[String],
    ) -> Result<ScriptRow, StoreError> {
        let r = sqlx::query(
            "UPDATE scripts SET settings = ?, tags = ?, modified_on = ? WHERE namespace = ? AND name = ?",
        )
        .bind(serde_json::Value::Object(settings.clone()).to_string())
        .bind(serde_json::to_string(tags).unwrap_or_else(|_| "[]".into()))
        .bind(format_time(Utc::now()))
        .bind(namespace)
        .bind(name)
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::ScriptNotFound);
        }
        self.script(namespace, name).await
    }

    pub async fn delete_script(&self, namespace: &str, name: &str) -> Result<(), StoreError> {
        if self.namespace(namespace).await?.is_none() {
            return Err(StoreError::NamespaceNotFound);
        }
        let r = sqlx::query("DELETE FROM scripts WHERE namespace = ? AND name = ?")
            .bind(namespace)
            .bind(name)
            .execute(&self.pool)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::ScriptNotFound);
        }
        Ok(())
    }

    // ---- deployments -----------------------------------------------------------------------

    pub async fn insert_deployment(&self, d: &NewDeployment) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        insert_deployment_in(&mut tx, d).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Newest first, optionally filtered, at most `limit`.
    pub async fn deployments(
        &self,
        service: Option<&str>,
        environment: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeploymentRow>, StoreError> {
        let sql = format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments \
             WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR environment = ?2) \
             ORDER BY timestamp_ms DESC, seq DESC LIMIT ?3"
        );
        Ok(sqlx::query_as(&sql)
            .bind(service)
            .bind(environment)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn deployment(&self, id: &str) -> Result<Option<DeploymentRow>, StoreError> {
        let sql = format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The two newest `deployed` records of a service in an environment.
    pub async fn newest_deployed(
        &self,
        service: &str,
        environment: &str,
    ) -> Result<Vec<DeploymentRow>, StoreError> {
        let sql = format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments \
             WHERE service = ? AND environment = ? AND status = 'deployed' \
             ORDER BY timestamp_ms DESC, seq DESC LIMIT 2"
        );
        Ok(sqlx::query_as(&sql)
            .bind(service)
            .bind(environment)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn set_deployment_status(&self, id: &str, status: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE deployments SET status = ? WHERE id = ?")
            .bind(status)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
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

pub async fn put_blob_in(
    tx: &mut Transaction<'static, Sqlite>,
    content: &[u8],
) -> Result<String, StoreError> {
    let hash = sha256_hex(content);
    sqlx::query("INSERT OR IGNORE INTO blobs (hash, content) VALUES (?, ?)")
        .bind(&hash)
        .bind(content)
        .execute(&mut **tx)
        .await?;
    Ok(hash)
}

pub async fn put_script_in(
    tx: &mut Transaction<'static, Sqlite>,
    namespace: &str,
    name: &str,
    upload: &ScriptUpload,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let exists: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM namespaces WHERE name = ?")
        .bind(namespace)
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_none() {
        return Err(StoreError::NamespaceNotFound);
    }
    let mut modules = Vec::with_capacity(upload.modules.len());
    let mut etag_input = Vec::new();
    for m in &upload.modules {
        let hash = put_blob_in(tx, &m.content).await?;
        etag_input.extend_from_slice(hash.as_bytes());
        modules.push(ModuleRef {
            name: m.name.clone(),
            content_type: m.content_type.clone(),
            hash,
            size: m.content.len() as u64,
        });
    }
    let settings_json = serde_json::Value::Object(upload.settings.clone()).to_string();
    etag_input.extend_from_slice(settings_json.as_bytes());
    let etag = sha256_hex(&etag_input);
    let now = format_time(at);
    sqlx::query(
        "INSERT INTO scripts (namespace, name, tag, etag, created_on, modified_on, main_module, has_modules, modules, settings, tags, deployment_id) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT(namespace, name) DO UPDATE SET etag = excluded.etag, modified_on = excluded.modified_on, \
           main_module = excluded.main_module, has_modules = excluded.has_modules, modules = excluded.modules, \
           settings = excluded.settings, tags = excluded.tags, deployment_id = excluded.deployment_id",
    )
    .bind(namespace)
    .bind(name)
    .bind(random_hex(16))
    .bind(etag)
    .bind(&now)
    .bind(&now)
    .bind(&upload.main_module)
    .bind(upload.has_modules)
    .bind(serde_json::to_string(&modules).unwrap_or_else(|_| "[]".into()))
    .bind(settings_json)
    .bind(serde_json::to_string(&upload.tags).unwrap_or_else(|_| "[]".into()))
    .bind(random_hex(16))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_deployment_in(
    tx: &mut Transaction<'static, Sqlite>,
    d: &NewDeployment,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO deployments (id, service, environment, tier, version, namespace, namespace_mode, worker, status, timestamp, timestamp_ms, url, version_tag, metadata, bindings, script_hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&d.id)
    .bind(&d.service)
    .bind(&d.environment)
    .bind(&d.tier)
    .bind(&d.version)
    .bind(&d.namespace)
    .bind(&d.namespace_mode)
    .bind(&d.worker)
    .bind(&d.status)
    .bind(format_time(d.timestamp))
    .bind(d.timestamp.timestamp_millis())
    .bind(&d.url)
    .bind(&d.version_tag)
    .bind(d.metadata.to_string())
    .bind(d.bindings.to_string())
    .bind(&d.script_hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
