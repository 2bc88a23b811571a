//! Namespaces, the scripts in them and their content-addressed module bodies, each script's
//! versions and the deployments that split its traffic between them.

use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};

use super::rows::{
    ModuleRef, NamespaceRow, NewScriptDeployment, ScriptDeploymentRow, ScriptRow, ScriptUpload,
    VersionRow, VersionShare, SANDBOX_AUTHOR,
};
use super::{format_time, random_hex, random_uuid, sha256_hex, Store, StoreError};

const NAMESPACE_COLUMNS: &str =
    "n.name, n.namespace_id, n.created_on, n.modified_on, n.created_by, \
     n.modified_by, n.trusted_workers, \
     (SELECT COUNT(*) FROM scripts s WHERE s.namespace = n.name) AS script_count";

impl Store {
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

    /// At most `limit` scripts of `namespace` named after `after` (from the first when `None`),
    /// by name: one page of a cursor-paged list, read by the primary key without the rest.
    pub async fn scripts_after(
        &self,
        namespace: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ScriptRow>, StoreError> {
        if self.namespace(namespace).await?.is_none() {
            return Err(StoreError::NamespaceNotFound);
        }
        Ok(sqlx::query_as(
            "SELECT * FROM scripts WHERE namespace = ? AND name > ? ORDER BY name LIMIT ?",
        )
        .bind(namespace)
        .bind(after.unwrap_or(""))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?)
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

    /// Stores an upload as the script's new version `version_id` (chosen by the caller, so the
    /// runtime can check the code under the id it will serve it with), deployed at 100 %.
    pub async fn put_script(
        &self,
        namespace: &str,
        name: &str,
        upload: &ScriptUpload,
        at: DateTime<Utc>,
        version_id: &str,
    ) -> Result<ScriptRow, StoreError> {
        let mut tx = self.write_transaction().await?;
        put_script_version_in(&mut tx, namespace, name, upload, at, version_id).await?;
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
            let version = insert_version_in(
                &mut tx,
                namespace,
                name,
                &code,
                &annotations,
                Utc::now(),
                &random_uuid(),
            )
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

    /// Stores a version `version_id` (chosen by the caller) of an existing script without moving
    /// traffic.
    pub async fn insert_version(
        &self,
        namespace: &str,
        name: &str,
        upload: &ScriptUpload,
        annotations: &serde_json::Map<String, serde_json::Value>,
        at: DateTime<Utc>,
        version_id: &str,
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
            version_id,
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
            "SELECT id, created_on, source, strategy, versions, annotations, author_email \
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
            "SELECT id, created_on, source, strategy, versions, annotations, author_email \
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

/// Stores an upload as a script's new version (a new id), deployed at 100 %.
pub async fn put_script_in(
    tx: &mut Transaction<'static, Sqlite>,
    namespace: &str,
    name: &str,
    upload: &ScriptUpload,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    put_script_version_in(tx, namespace, name, upload, at, &random_uuid()).await
}

async fn put_script_version_in(
    tx: &mut Transaction<'static, Sqlite>,
    namespace: &str,
    name: &str,
    upload: &ScriptUpload,
    at: DateTime<Utc>,
    version_id: &str,
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
    let version = insert_version_in(
        tx,
        namespace,
        name,
        &stored.code(upload),
        &annotations,
        at,
        version_id,
    )
    .await?;
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
    let settings = settings_json(upload);
    etag_input.extend_from_slice(settings.as_bytes());
    Ok(StoredModules {
        modules: serde_json::to_string(&modules).unwrap_or_else(|_| "[]".into()),
        settings,
        etag: sha256_hex(&etag_input),
    })
}

fn settings_json(upload: &ScriptUpload) -> String {
    serde_json::Value::Object(upload.settings.clone()).to_string()
}

/// The etag and settings JSON an upload will be stored with (as `store_modules_in` computes
/// them), before it is stored: the runtime checks new code under the code id it will serve.
pub fn upload_etag(upload: &ScriptUpload) -> (String, String) {
    let mut etag_input = Vec::new();
    for m in &upload.modules {
        etag_input.extend_from_slice(sha256_hex(&m.content).as_bytes());
    }
    let settings = settings_json(upload);
    etag_input.extend_from_slice(settings.as_bytes());
    (sha256_hex(&etag_input), settings)
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
    id: &str,
) -> Result<String, StoreError> {
    let (number,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM script_versions WHERE namespace = ? AND script = ?",
    )
    .bind(namespace)
    .bind(name)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO script_versions (id, namespace, script, number, created_on, etag, main_module, has_modules, modules, settings, annotations, source) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'api')",
    )
    .bind(id)
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
    Ok(id.to_owned())
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
