//! The bundle archive index (files live in `<data_dir>/bundles/<sha256>`; this module only knows
//! their rows), which deployment used which bundle, and pins after a rollback.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use switchyard_core::{AppError, Environment};

use crate::error::{db, internal};
use crate::Store;

/// An archived bundle file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BundleRecord {
    /// Lowercase hex sha256 of the file's bytes.
    pub sha256: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub size_bytes: i64,
    /// Where the file is (or was, when pruned).
    pub path: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub created_ms: i64,
    /// When retention removed the file; None while it is kept.
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub pruned_ms: Option<i64>,
}

/// How a deployment came to use a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum BundleUseKind {
    /// A deploy through the Deploy API.
    Deploy,
    /// An archived bundle re-deployed through the Deploy API to roll back.
    Rollback,
    /// Uploaded straight to the dispatch namespace (Deploy API down), recorded as manual.
    Direct,
}

impl BundleUseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BundleUseKind::Deploy => "deploy",
            BundleUseKind::Rollback => "rollback",
            BundleUseKind::Direct => "direct",
        }
    }

    pub(crate) fn parse(s: &str) -> BundleUseKind {
        match s {
            "rollback" => BundleUseKind::Rollback,
            "direct" => BundleUseKind::Direct,
            _ => BundleUseKind::Deploy,
        }
    }
}

/// One deployment's use of an archived bundle, with what was sent alongside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BundleUse {
    pub sha256: String,
    pub profile_id: String,
    pub deployment_id: String,
    pub service: String,
    pub environment: Environment,
    /// The bindings sent (`{"DB_SERVICE": "db"}`).
    #[cfg_attr(feature = "specta", specta(type = std::collections::BTreeMap<String, String>))]
    pub bindings: serde_json::Value,
    /// The metadata sent (commit, branch, author, version) plus Switchyard's notes.
    #[cfg_attr(feature = "specta", specta(type = std::collections::BTreeMap<String, String>))]
    pub metadata: serde_json::Value,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub used_ms: i64,
    pub kind: BundleUseKind,
}

/// A service/environment held at a version after a rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DeployPin {
    pub profile_id: String,
    pub service: String,
    pub environment: Environment,
    /// The deployment that is current since the rollback.
    pub deployment_id: String,
    /// Its version tag (or short commit), for display.
    pub version_label: String,
    pub reason: String,
    pub actor: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub pinned_ms: i64,
}

fn bundle_from_row(r: &sqlx::sqlite::SqliteRow) -> BundleRecord {
    BundleRecord {
        sha256: r.get("sha256"),
        size_bytes: r.get("size_bytes"),
        path: r.get("path"),
        created_ms: r.get("created_ms"),
        pruned_ms: r.get("pruned_ms"),
    }
}

fn use_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<BundleUse, AppError> {
    let context = "Reading the bundle archive";
    let environment: String = r.get("environment");
    let bindings: String = r.get("bindings");
    let metadata: String = r.get("metadata");
    let kind: String = r.get("kind");
    Ok(BundleUse {
        sha256: r.get("sha256"),
        profile_id: r.get("profile_id"),
        deployment_id: r.get("deployment_id"),
        service: r.get("service"),
        environment: environment.parse()?,
        bindings: serde_json::from_str(&bindings).map_err(|e| internal(context, e))?,
        metadata: serde_json::from_str(&metadata).map_err(|e| internal(context, e))?,
        used_ms: r.get("used_ms"),
        kind: BundleUseKind::parse(&kind),
    })
}

fn pin_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<DeployPin, AppError> {
    let environment: String = r.get("environment");
    Ok(DeployPin {
        profile_id: r.get("profile_id"),
        service: r.get("service"),
        environment: environment.parse()?,
        deployment_id: r.get("deployment_id"),
        version_label: r.get("version_label"),
        reason: r.get("reason"),
        actor: r.get("actor"),
        pinned_ms: r.get("pinned_ms"),
    })
}

const USE_COLUMNS: &str =
    "sha256, profile_id, deployment_id, service, environment, bindings, metadata, used_ms, kind";

impl Store {
    /// Index a bundle file (already written at `path`). Indexing it again keeps the first
    /// `created_ms` and revives it if retention had pruned it.
    pub async fn put_bundle(
        &self,
        sha256: &str,
        size_bytes: i64,
        path: &str,
        now_ms: i64,
    ) -> Result<BundleRecord, AppError> {
        let row = crate::write_returning(
            sqlx::query(
                "INSERT INTO bundles (sha256, size_bytes, path, created_ms, pruned_ms) VALUES (?, ?, ?, ?, NULL)
                 ON CONFLICT (sha256) DO UPDATE SET path = excluded.path, size_bytes = excluded.size_bytes,
                 pruned_ms = NULL
                 RETURNING sha256, size_bytes, path, created_ms, pruned_ms",
            )
            .bind(sha256)
            .bind(size_bytes)
            .bind(path)
            .bind(now_ms),
            &self.pool,
        )
        .await
        .map_err(db("Indexing an archived bundle"))?;
        Ok(bundle_from_row(&row))
    }

    /// One archived bundle by hash.
    pub async fn bundle(&self, sha256: &str) -> Result<Option<BundleRecord>, AppError> {
        let row = sqlx::query(
            "SELECT sha256, size_bytes, path, created_ms, pruned_ms FROM bundles WHERE sha256 = ?",
        )
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("Reading the bundle archive"))?;
        Ok(row.as_ref().map(bundle_from_row))
    }

    /// Every indexed bundle, pruned ones included, oldest first.
    pub async fn bundles(&self) -> Result<Vec<BundleRecord>, AppError> {
        let rows = sqlx::query(
            "SELECT sha256, size_bytes, path, created_ms, pruned_ms FROM bundles ORDER BY created_ms, sha256",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the bundle archive"))?;
        Ok(rows.iter().map(bundle_from_row).collect())
    }

    /// Note that retention removed these bundles' files.
    pub async fn mark_bundles_pruned(
        &self,
        sha256s: &[String],
        now_ms: i64,
    ) -> Result<(), AppError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(db("Pruning the bundle archive"))?;
        for sha in sha256s {
            sqlx::query("UPDATE bundles SET pruned_ms = ? WHERE sha256 = ?")
                .bind(now_ms)
                .bind(sha)
                .execute(&mut *tx)
                .await
                .map_err(db("Pruning the bundle archive"))?;
        }
        tx.commit()
            .await
            .map_err(db("Pruning the bundle archive"))?;
        Ok(())
    }

    /// Record that a deployment used an (already indexed) bundle.
    pub async fn record_bundle_use(&self, u: &BundleUse) -> Result<(), AppError> {
        let context = "Recording an archived bundle";
        let bindings = serde_json::to_string(&u.bindings).map_err(|e| internal(context, e))?;
        let metadata = serde_json::to_string(&u.metadata).map_err(|e| internal(context, e))?;
        sqlx::query(
            "INSERT INTO bundle_uses (sha256, profile_id, deployment_id, service, environment, bindings, metadata, used_ms, kind)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (profile_id, deployment_id) DO UPDATE SET sha256 = excluded.sha256,
             bindings = excluded.bindings, metadata = excluded.metadata, used_ms = excluded.used_ms,
             kind = excluded.kind",
        )
        .bind(&u.sha256)
        .bind(&u.profile_id)
        .bind(&u.deployment_id)
        .bind(&u.service)
        .bind(u.environment.as_str())
        .bind(bindings)
        .bind(metadata)
        .bind(u.used_ms)
        .bind(u.kind.as_str())
        .execute(&self.pool)
        .await
        .map_err(db(context))?;
        Ok(())
    }

    /// The bundle a deployment used, if the app archived one.
    pub async fn bundle_use(
        &self,
        profile_id: &str,
        deployment_id: &str,
    ) -> Result<Option<BundleUse>, AppError> {
        let row = sqlx::query(&format!(
            "SELECT {USE_COLUMNS} FROM bundle_uses WHERE profile_id = ? AND deployment_id = ?"
        ))
        .bind(profile_id)
        .bind(deployment_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("Reading the bundle archive"))?;
        row.as_ref().map(use_from_row).transpose()
    }

    /// The bundle uses of a profile (all services when `service` is None), newest first.
    pub async fn bundle_uses(
        &self,
        profile_id: &str,
        service: Option<&str>,
        environment: Option<Environment>,
    ) -> Result<Vec<BundleUse>, AppError> {
        let rows = sqlx::query(&format!(
            "SELECT {USE_COLUMNS} FROM bundle_uses WHERE profile_id = ?
             AND (? IS NULL OR service = ?) AND (? IS NULL OR environment = ?)
             ORDER BY used_ms DESC, deployment_id DESC"
        ))
        .bind(profile_id)
        .bind(service)
        .bind(service)
        .bind(environment.map(|e| e.as_str()))
        .bind(environment.map(|e| e.as_str()))
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the bundle archive"))?;
        rows.iter().map(use_from_row).collect()
    }

    /// Every bundle use of every profile, newest first (for retention).
    pub async fn all_bundle_uses(&self) -> Result<Vec<BundleUse>, AppError> {
        let rows = sqlx::query(&format!(
            "SELECT {USE_COLUMNS} FROM bundle_uses ORDER BY used_ms DESC, deployment_id DESC"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the bundle archive"))?;
        rows.iter().map(use_from_row).collect()
    }

    /// Per profile, service and environment, the id of the newest cached deployment whose
    /// status is `deployed` (what is current as far as the history cache knows), as
    /// `(profile_id, deployment_id)`.
    pub async fn current_deployment_ids(&self) -> Result<Vec<(String, String)>, AppError> {
        let rows = sqlx::query(
            "SELECT d.profile_id, d.id FROM deployments d
             WHERE d.status = 'deployed' AND d.id = (
                SELECT d2.id FROM deployments d2
                WHERE d2.profile_id = d.profile_id AND d2.service = d.service
                  AND d2.environment = d.environment AND d2.status = 'deployed'
                ORDER BY d2.ts_ms DESC, d2.id DESC LIMIT 1)",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the current deployments"))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Pin a service/environment (replacing any pin it had).
    pub async fn set_pin(&self, pin: &DeployPin) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO deploy_pins (profile_id, service, environment, deployment_id, version_label, reason, actor, pinned_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (profile_id, service, environment) DO UPDATE SET
             deployment_id = excluded.deployment_id, version_label = excluded.version_label,
             reason = excluded.reason, actor = excluded.actor, pinned_ms = excluded.pinned_ms",
        )
        .bind(&pin.profile_id)
        .bind(&pin.service)
        .bind(pin.environment.as_str())
        .bind(&pin.deployment_id)
        .bind(&pin.version_label)
        .bind(&pin.reason)
        .bind(&pin.actor)
        .bind(pin.pinned_ms)
        .execute(&self.pool)
        .await
        .map_err(db("Pinning a version"))?;
        Ok(())
    }

    /// The pin of a service/environment, if any.
    pub async fn pin(
        &self,
        profile_id: &str,
        service: &str,
        environment: Environment,
    ) -> Result<Option<DeployPin>, AppError> {
        let row = sqlx::query(
            "SELECT * FROM deploy_pins WHERE profile_id = ? AND service = ? AND environment = ?",
        )
        .bind(profile_id)
        .bind(service)
        .bind(environment.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("Reading pins"))?;
        row.as_ref().map(pin_from_row).transpose()
    }

    /// Every pin of a profile (every profile when None), by service and environment.
    pub async fn pins(&self, profile_id: Option<&str>) -> Result<Vec<DeployPin>, AppError> {
        let rows = sqlx::query(
            "SELECT * FROM deploy_pins WHERE (? IS NULL OR profile_id = ?)
             ORDER BY profile_id, service, environment",
        )
        .bind(profile_id)
        .bind(profile_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading pins"))?;
        rows.iter().map(pin_from_row).collect()
    }

    /// Remove the pin of a service/environment; true if there was one.
    pub async fn clear_pin(
        &self,
        profile_id: &str,
        service: &str,
        environment: Environment,
    ) -> Result<bool, AppError> {
        let done = sqlx::query(
            "DELETE FROM deploy_pins WHERE profile_id = ? AND service = ? AND environment = ?",
        )
        .bind(profile_id)
        .bind(service)
        .bind(environment.as_str())
        .execute(&self.pool)
        .await
        .map_err(db("Removing a pin"))?;
        Ok(done.rows_affected() > 0)
    }
}
