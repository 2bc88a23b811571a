//! The sandbox's SQLite state: settings, users and keys, namespaces, scripts with their versions
//! and version deployments, the Deploy API's deployment records, and content-addressed script
//! bodies. Plain data access; the rules live in the API modules.

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

/// One version of a namespace script: its code and settings as uploaded.
#[derive(Debug, Clone, FromRow)]
pub struct VersionRow {
    pub id: String,
    pub namespace: String,
    pub script: String,
    pub number: i64,
    pub created_on: String,
    pub etag: String,
    pub main_module: String,
    pub has_modules: bool,
    pub modules: String,
    pub settings: String,
    pub annotations: String,
    pub source: String,
}

impl VersionRow {
    pub fn modules(&self) -> Vec<ModuleRef> {
        serde_json::from_str(&self.modules).unwrap_or_default()
    }
    pub fn settings(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.settings).unwrap_or_default()
    }
    pub fn annotations(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.annotations).unwrap_or_default()
    }
}

/// One version of a deployment and its share of the traffic.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VersionShare {
    pub version_id: String,
    pub percentage: f64,
}

/// A deployment of a namespace script: which versions serve it, with what percentages.
#[derive(Debug, Clone, FromRow)]
pub struct ScriptDeploymentRow {
    pub id: String,
    pub namespace: String,
    pub script: String,
    pub created_on: String,
    pub source: String,
    pub strategy: String,
    pub versions: String,
    pub annotations: String,
    pub author_email: String,
}

impl ScriptDeploymentRow {
    pub fn versions(&self) -> Vec<VersionShare> {
        serde_json::from_str(&self.versions).unwrap_or_default()
    }
    pub fn annotations(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.annotations).unwrap_or_default()
    }
}

/// A deployment to create.
#[derive(Debug, Clone)]
pub struct NewScriptDeployment {
    pub source: String,
    pub strategy: String,
    pub versions: Vec<VersionShare>,
    pub annotations: serde_json::Map<String, serde_json::Value>,
    pub author_email: String,
}

/// Who the sandbox records as the author of versions and deployments.
pub const SANDBOX_AUTHOR: &str = "operator@sandbox.local";

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
    /// A change of settings (not of tags alone) is a new version of the script, deployed at
    /// 100 %, as on the platform.
    pub async fn update_script_settings(
        &self,
        namespace: &str,
        name: &str,
        settings: &serde_json::Map<String, serde_json::Value>,
        tags: &[String],
    ) -> Result<ScriptRow, StoreError> {
        let before = self.script(namespace, name).await?;
        let settings_json = serde_json::Value::Object(settings.clone()).to_string();
        let mut tx = self.write_transaction().await?;
        let r = sqlx::query(
            "UPDATE scripts SET settings = ?, tags = ?, modified_on = ? WHERE namespace = ? AND name = ?",
        )
        .bind(&settings_json)
        .bind(serde_json::to_string(tags).unwrap_or_else(|_| "[]".into()))
        .bind(format_time(Utc::now()))
        .bind(namespace)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::ScriptNotFound);
        }
        if before.settings() != *settings {
            let mut etag_input = Vec::new();
            for m in before.modules() {
                etag_input.extend_from_slice(m.hash.as_bytes());
            }
            etag_input.extend_from_slice(settings_json.as_bytes());
            let etag = sha256_hex(&etag_input);
            let code = VersionCode {
                etag: &etag,
                main_module: &before.main_module,
                has_modules: before.has_modules,
                modules: &before.modules,
                settings: &settings_json,
            };
            let annotations = serde_json::Map::from_iter([(
                "workers/triggered_by".to_owned(),
                serde_json::Value::String("version_settings".into()),
            )]);
            let version =
                insert_version_in(&mut tx, namespace, name, &code, &annotations, Utc::now())
                    .await?;
            deploy_alone_in(
                &mut tx,
                namespace,
                name,
                &version,
                "version_settings",
                Utc::now(),
            )
            .await?;
            sqlx::query("UPDATE scripts SET etag = ? WHERE namespace = ? AND name = ?")
                .bind(&etag)
                .bind(namespace)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.script(namespace, name).await
    }

    // ---- versions and their deployments ----------------------------------------------------

    /// Stores a version of an existing script without moving traffic.
    pub async fn insert_version(
        &self,
        namespace: &str,
        name: &str,
        upload: &ScriptUpload,
        annotations: &serde_json::Map<String, serde_json::Value>,
        at: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let mut tx = self.write_transaction().await?;
        let exists: Option<(i64,)> =
            sqlx::query_as("SELECT 1 FROM scripts WHERE namespace = ? AND name = ?")
                .bind(namespace)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Err(StoreError::ScriptNotFound);
        }
        let stored = store_modules_in(&mut tx, upload).await?;
        let id = insert_version_in(
            &mut tx,
            namespace,
            name,
            &stored.code(upload),
            annotations,
            at,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The versions of a script, newest first.
    pub async fn versions(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<VersionRow>, StoreError> {
        self.script(namespace, name).await?;
        Ok(sqlx::query_as(
            "SELECT * FROM script_versions WHERE namespace = ? AND script = ? ORDER BY number DESC",
        )
        .bind(namespace)
        .bind(name)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A version by id, whatever script it belongs to.
    pub async fn version(&self, id: &str) -> Result<Option<VersionRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM script_versions WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The deployments of a script, newest (the active one) first.
    pub async fn script_deployments(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<ScriptDeploymentRow>, StoreError> {
        self.script(namespace, name).await?;
        Ok(sqlx::query_as(
            "SELECT id, namespace, script, created_on, source, strategy, versions, annotations, author_email \
             FROM script_deployments WHERE namespace = ? AND script = ? ORDER BY seq DESC",
        )
        .bind(namespace)
        .bind(name)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The deployment serving a script's traffic (its newest), if it has one.
    pub async fn active_deployment(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<ScriptDeploymentRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, namespace, script, created_on, source, strategy, versions, annotations, author_email \
             FROM script_deployments WHERE namespace = ? AND script = ? ORDER BY seq DESC LIMIT 1",
        )
        .bind(namespace)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Makes `d` the active deployment of a script (the caller checked its versions).
    pub async fn insert_script_deployment(
        &self,
        namespace: &str,
        name: &str,
        d: &NewScriptDeployment,
        at: DateTime<Utc>,
    ) -> Result<ScriptDeploymentRow, StoreError> {
        let mut tx = self.write_transaction().await?;
        let id = insert_script_deployment_in(&mut tx, namespace, name, d, at).await?;
        tx.commit().await?;
        self.active_deployment(namespace, name)
            .await?
            .filter(|r| r.id == id)
            .ok_or(StoreError::ScriptNotFound)
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
    let stored = store_modules_in(tx, upload).await?;
    let etag = stored.etag.clone();
    let settings_json = stored.settings.clone();
    let modules_json = stored.modules.clone();
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
    .bind(modules_json)
    .bind(settings_json)
    .bind(serde_json::to_string(&upload.tags).unwrap_or_else(|_| "[]".into()))
    .bind(random_uuid())
    .execute(&mut **tx)
    .await?;
    // As on the platform, an upload is a new version deployed to 100 % of the traffic.
    let annotations = serde_json::Map::from_iter([(
        "workers/triggered_by".to_owned(),
        serde_json::Value::String("upload".into()),
    )]);
    let version =
        insert_version_in(tx, namespace, name, &stored.code(upload), &annotations, at).await?;
    deploy_alone_in(tx, namespace, name, &version, "upload", at).await?;
    Ok(())
}

/// An upload's modules stored as blobs: their JSON references, the settings JSON and the etag.
struct StoredModules {
    modules: String,
    settings: String,
    etag: String,
}

impl StoredModules {
    fn code<'a>(&'a self, upload: &'a ScriptUpload) -> VersionCode<'a> {
        VersionCode {
            etag: &self.etag,
            main_module: &upload.main_module,
            has_modules: upload.has_modules,
            modules: &self.modules,
            settings: &self.settings,
        }
    }
}

async fn store_modules_in(
    tx: &mut Transaction<'static, Sqlite>,
    upload: &ScriptUpload,
) -> Result<StoredModules, StoreError> {
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
    let settings = serde_json::Value::Object(upload.settings.clone()).to_string();
    etag_input.extend_from_slice(settings.as_bytes());
    Ok(StoredModules {
        modules: serde_json::to_string(&modules).unwrap_or_else(|_| "[]".into()),
        settings,
        etag: sha256_hex(&etag_input),
    })
}

/// The code of a version, as stored.
struct VersionCode<'a> {
    etag: &'a str,
    main_module: &'a str,
    has_modules: bool,
    modules: &'a str,
    settings: &'a str,
}

/// Inserts the next version of a script; its id.
async fn insert_version_in(
    tx: &mut Transaction<'static, Sqlite>,
    namespace: &str,
    name: &str,
    code: &VersionCode<'_>,
    annotations: &serde_json::Map<String, serde_json::Value>,
    at: DateTime<Utc>,
) -> Result<String, StoreError> {
    let (number,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM script_versions WHERE namespace = ? AND script = ?",
    )
    .bind(namespace)
    .bind(name)
    .fetch_one(&mut **tx)
    .await?;
    let id = random_uuid();
    sqlx::query(
        "INSERT INTO script_versions (id, namespace, script, number, created_on, etag, main_module, has_modules, modules, settings, annotations, source) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'api')",
    )
    .bind(&id)
    .bind(namespace)
    .bind(name)
    .bind(number)
    .bind(format_time(at))
    .bind(code.etag)
    .bind(code.main_module)
    .bind(code.has_modules)
    .bind(code.modules)
    .bind(code.settings)
    .bind(serde_json::Value::Object(annotations.clone()).to_string())
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// Deploys one version at 100 % and records the deployment as the script's.
async fn deploy_alone_in(
    tx: &mut Transaction<'static, Sqlite>,
    namespace: &str,
    name: &str,
    version_id: &str,
    triggered_by: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let d = NewScriptDeployment {
        source: "api".into(),
        strategy: "percentage".into(),
        versions: vec![VersionShare {
            version_id: version_id.to_owned(),
            percentage: 100.0,
        }],
        annotations: serde_json::Map::from_iter([(
            "workers/triggered_by".to_owned(),
            serde_json::Value::String(triggered_by.into()),
        )]),
        author_email: SANDBOX_AUTHOR.into(),
    };
    insert_script_deployment_in(tx, namespace, name, &d, at).await?;
    Ok(())
}

/// Inserts a deployment of a script and points the script's `deployment_id` at it; its id.
async fn insert_script_deployment_in(
    tx: &mut Transaction<'static, Sqlite>,
    namespace: &str,
    name: &str,
    d: &NewScriptDeployment,
    at: DateTime<Utc>,
) -> Result<String, StoreError> {
    let id = random_uuid();
    sqlx::query(
        "INSERT INTO script_deployments (id, namespace, script, created_on, source, strategy, versions, annotations, author_email) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(namespace)
    .bind(name)
    .bind(format_time(at))
    .bind(&d.source)
    .bind(&d.strategy)
    .bind(serde_json::to_string(&d.versions).unwrap_or_else(|_| "[]".into()))
    .bind(serde_json::Value::Object(d.annotations.clone()).to_string())
    .bind(&d.author_email)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE scripts SET deployment_id = ? WHERE namespace = ? AND name = ?")
        .bind(&id)
        .bind(namespace)
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(id)
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
