//! The bundle archive: every bundle the app deploys, stored content-addressed at
//! `<data_dir>/bundles/<sha256>`, indexed with its deployment, bindings and metadata; retention
//! (keep the last N per service/environment, a total size cap) that never removes the bundle of
//! what is deployed now or pinned.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use switchyard_core::{AppError, Environment, ErrorCode};
use switchyard_store::{BundleRecord, BundleUse, BundleUseKind};

use crate::Ops;

/// The app setting that holds [`DeploySettings`] (JSON).
const SETTINGS_KEY: &str = "deploy.settings";
/// The archive's folder inside the data dir.
pub(crate) const BUNDLES_DIR: &str = "bundles";

/// Deploy settings (app-wide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct DeploySettings {
    /// Archived bundles kept per profile, service and environment (newest first). Default 10.
    pub keep_per_service: u32,
    /// Total size the archive may take, in bytes; the oldest unprotected bundles go first.
    /// Default 512 MiB.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub max_archive_bytes: u64,
    /// How long verification waits for the service's `/health` to answer 200, in ms. Default 30 000.
    pub health_wait_ms: u32,
    /// Pause between two health probes, in ms. Default 1 000.
    pub health_poll_ms: u32,
    /// The largest bundle the preflight accepts, in bytes. Default 10 MiB (Workers Paid; the
    /// sandbox enforces the same).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub bundle_size_limit_bytes: u64,
    /// How long a version should run in the environment it is promoted from before a promote
    /// goes ahead without a warning, in minutes. Default 30.
    pub promote_soak_minutes: u32,
}

impl Default for DeploySettings {
    fn default() -> Self {
        DeploySettings {
            keep_per_service: 10,
            max_archive_bytes: 512 * 1024 * 1024,
            health_wait_ms: 30_000,
            health_poll_ms: 1_000,
            bundle_size_limit_bytes: 10 * 1024 * 1024,
            promote_soak_minutes: 30,
        }
    }
}

impl DeploySettings {
    fn validate(&self) -> Result<(), AppError> {
        if self.keep_per_service == 0 {
            return Err(AppError::invalid_input(
                "Keep at least 1 bundle per service and environment (what is deployed is always kept).",
            ));
        }
        if self.max_archive_bytes < 1024 * 1024 {
            return Err(AppError::invalid_input(
                "The archive size cap must be at least 1 MiB.",
            ));
        }
        if self.health_wait_ms > 600_000 {
            return Err(AppError::invalid_input(
                "The health wait is at most 600 000 ms (10 minutes).",
            ));
        }
        if !(100..=60_000).contains(&self.health_poll_ms) {
            return Err(AppError::invalid_input(
                "The pause between health probes must be 100 to 60 000 ms.",
            ));
        }
        if !(1..=100 * 1024 * 1024).contains(&self.bundle_size_limit_bytes) {
            return Err(AppError::invalid_input(
                "The bundle size limit must be 1 byte to 100 MiB.",
            ));
        }
        Ok(())
    }
}

/// An archived bundle as a history row or version list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ArchivedBundle {
    pub deployment_id: String,
    pub service: String,
    pub environment: Environment,
    pub sha256: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub size_bytes: i64,
    pub kind: BundleUseKind,
    /// The file is in the archive (false once retention pruned it, or when it went missing).
    pub available: bool,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub pruned_ms: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub used_ms: i64,
    /// The bindings sent with it.
    pub bindings: BTreeMap<String, String>,
}

/// What a retention pass did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RetentionReport {
    /// Bundles still in the archive.
    pub kept: u32,
    /// Of those, how many are protected (deployed now, pinned, or the newest of their service).
    pub protected: u32,
    /// Hashes of the bundles removed.
    pub pruned: Vec<String>,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub freed_bytes: u64,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub total_bytes: u64,
    /// The protected bundles alone exceed the size cap (nothing more could be removed).
    pub over_cap: bool,
}

/// The bindings map of a stored JSON value (non-string values dropped).
pub(crate) fn bindings_of(v: &serde_json::Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn archived(u: &BundleUse, b: Option<&BundleRecord>) -> ArchivedBundle {
    let available = b.is_some_and(|b| b.pruned_ms.is_none() && Path::new(&b.path).is_file());
    ArchivedBundle {
        deployment_id: u.deployment_id.clone(),
        service: u.service.clone(),
        environment: u.environment,
        sha256: u.sha256.clone(),
        size_bytes: b.map(|b| b.size_bytes).unwrap_or(0),
        kind: u.kind,
        available,
        pruned_ms: b.and_then(|b| b.pruned_ms),
        used_ms: u.used_ms,
        bindings: bindings_of(&u.bindings),
    }
}

impl Ops {
    fn bundles_dir(&self) -> PathBuf {
        self.data_dir.join(BUNDLES_DIR)
    }

    /// The deploy settings (defaults until changed).
    pub async fn deploy_settings(&self) -> Result<DeploySettings, AppError> {
        match self.store.setting(SETTINGS_KEY).await? {
            None => Ok(DeploySettings::default()),
            Some(text) => Ok(serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "deploy settings unreadable; using defaults");
                DeploySettings::default()
            })),
        }
    }

    /// Change the deploy settings, then apply retention with them.
    pub async fn set_deploy_settings(
        &self,
        settings: DeploySettings,
    ) -> Result<RetentionReport, AppError> {
        let params = serde_json::to_value(settings).unwrap_or_default();
        self.audited("", "deploy.settings", "deploy", params, async {
            settings.validate()?;
            let text = serde_json::to_string(&settings)
                .map_err(|_| AppError::internal("Saving the deploy settings"))?;
            self.store.set_setting(SETTINGS_KEY, &text).await?;
            self.apply_retention().await
        })
        .await
    }

    /// Apply retention now (it also runs after every deploy).
    pub async fn prune_bundles(&self) -> Result<RetentionReport, AppError> {
        self.audited(
            "",
            "bundles.prune",
            "bundles",
            serde_json::json!({}),
            async { self.apply_retention().await },
        )
        .await
    }

    /// Every archived bundle a profile's deployments used, newest first. The history view joins
    /// it to its rows by `deployment_id` to show hash and size.
    pub async fn archived_bundles(
        &self,
        profile_id: &str,
    ) -> Result<Vec<ArchivedBundle>, AppError> {
        let uses = self.store.bundle_uses(profile_id, None, None).await?;
        let bundles: HashMap<String, BundleRecord> = self
            .store
            .bundles()
            .await?
            .into_iter()
            .map(|b| (b.sha256.clone(), b))
            .collect();
        Ok(uses
            .iter()
            .map(|u| archived(u, bundles.get(&u.sha256)))
            .collect())
    }

    /// The archived bundle of one deployment, if the app deployed it.
    pub async fn archived_bundle(
        &self,
        profile_id: &str,
        deployment_id: &str,
    ) -> Result<Option<ArchivedBundle>, AppError> {
        let Some(u) = self.store.bundle_use(profile_id, deployment_id).await? else {
            return Ok(None);
        };
        let b = self.store.bundle(&u.sha256).await?;
        Ok(Some(archived(&u, b.as_ref())))
    }

    /// Write `bytes` into the archive (temp file + rename) and index it.
    pub(crate) async fn archive_bundle(
        &self,
        bytes: &super::HashedBytes,
    ) -> Result<BundleRecord, AppError> {
        let sha = bytes.sha256();
        let dir = self.bundles_dir();
        let path = dir.join(sha);
        let fail = |e: std::io::Error| {
            tracing::error!(error = %e, dir = %dir.display(), "writing the bundle archive failed");
            if switchyard_core::error::is_disk_full(&e) {
                return AppError::disk_full(
                    "Storing the bundle in the archive",
                    &dir.display().to_string(),
                );
            }
            AppError::new(
                ErrorCode::Internal,
                format!(
                    "The bundle could not be stored in the archive ({}): {e}. Check that the data folder is writable and has space.",
                    dir.display()
                ),
            )
        };
        let present = tokio::fs::metadata(&path)
            .await
            .map(|m| m.len() == bytes.len() as u64)
            .unwrap_or(false);
        if !present {
            tokio::fs::create_dir_all(&dir).await.map_err(fail)?;
            let tmp = dir.join(format!(".{sha}.{}.tmp", std::process::id()));
            let written = async {
                use tokio::io::AsyncWriteExt;
                let mut f = tokio::fs::File::create(&tmp).await?;
                f.write_all(bytes).await?;
                f.sync_all().await?;
                drop(f);
                tokio::fs::rename(&tmp, &path).await
            }
            .await;
            if let Err(e) = written {
                // Nothing half-written stays behind (a full disk, a failed rename).
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(fail(e));
            }
        }
        self.store
            .put_bundle(
                sha,
                bytes.len() as i64,
                &path.display().to_string(),
                self.now_ms(),
            )
            .await
    }

    /// Read an archived bundle back, checking its hash.
    pub(crate) async fn read_archived(&self, sha256: &str) -> Result<super::HashedBytes, AppError> {
        let record = self.store.bundle(sha256).await?.ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                format!("Bundle {sha256} is not in the archive."),
            )
        })?;
        if let Some(at) = record.pruned_ms {
            return Err(AppError::new(
                ErrorCode::NotFound,
                format!(
                    "Bundle {} was removed from the archive by the retention setting ({}).",
                    &sha256[..12.min(sha256.len())],
                    super::rfc3339(at)
                ),
            ));
        }
        let bytes = tokio::fs::read(&record.path).await.map_err(|e| {
            AppError::new(
                ErrorCode::NotFound,
                format!(
                    "The archived bundle file {} cannot be read ({e}); it may have been deleted by hand.",
                    record.path
                ),
            )
        })?;
        super::HashedBytes::verified(bytes, sha256).ok_or_else(|| {
            AppError::new(
                ErrorCode::Conflict,
                format!(
                    "The archived bundle file {} no longer matches its hash; it was changed on disk and will not be deployed.",
                    record.path
                ),
            )
        })
    }

    /// Keep the newest `keep_per_service` bundles of each profile/service/environment and stay
    /// under the size cap, never removing a protected bundle: the bundle of what is deployed now
    /// (newest `deployed` record in the history cache), of a pinned version, or the newest one
    /// the app deployed to a service/environment.
    pub(crate) async fn apply_retention(&self) -> Result<RetentionReport, AppError> {
        let settings = self.deploy_settings().await?;
        let uses = self.store.all_bundle_uses().await?; // newest first
        let bundles = self.store.bundles().await?;
        let current: HashSet<(String, String)> = self
            .store
            .current_deployment_ids()
            .await?
            .into_iter()
            .collect();
        let pinned: HashSet<(String, String)> = self
            .store
            .pins(None)
            .await?
            .into_iter()
            .map(|p| (p.profile_id, p.deployment_id))
            .collect();

        // Bundles of deploys a crash left unfinished (or whose outcome is unknown) are kept.
        let mut protected: HashSet<String> = self
            .store
            .journal_protected_bundles()
            .await?
            .into_iter()
            .collect();
        let mut keep: HashSet<String> = HashSet::new();
        let mut last_used: HashMap<String, i64> = HashMap::new();
        let mut per_group: HashMap<(String, String, Environment), Vec<String>> = HashMap::new();
        for u in &uses {
            let id = (u.profile_id.clone(), u.deployment_id.clone());
            let group = per_group
                .entry((u.profile_id.clone(), u.service.clone(), u.environment))
                .or_default();
            if group.is_empty() || current.contains(&id) || pinned.contains(&id) {
                protected.insert(u.sha256.clone());
            }
            if !group.contains(&u.sha256) {
                group.push(u.sha256.clone());
            }
            if group.len() <= settings.keep_per_service as usize {
                keep.insert(u.sha256.clone());
            }
            let t = last_used.entry(u.sha256.clone()).or_insert(u.used_ms);
            *t = (*t).max(u.used_ms);
        }
        keep.extend(protected.iter().cloned());

        let live: Vec<&BundleRecord> = bundles.iter().filter(|b| b.pruned_ms.is_none()).collect();
        let mut prune: Vec<&BundleRecord> = live
            .iter()
            .copied()
            .filter(|b| !keep.contains(&b.sha256))
            .collect();
        let mut kept: Vec<&BundleRecord> = live
            .iter()
            .copied()
            .filter(|b| keep.contains(&b.sha256))
            .collect();
        let mut total: u64 = kept.iter().map(|b| b.size_bytes.max(0) as u64).sum();
        // Over the cap: drop the least recently used unprotected bundles first.
        kept.sort_by_key(|b| last_used.get(&b.sha256).copied().unwrap_or(b.created_ms));
        let mut over_cap = false;
        if total > settings.max_archive_bytes {
            let mut still = Vec::new();
            for b in kept {
                if total > settings.max_archive_bytes && !protected.contains(&b.sha256) {
                    total -= b.size_bytes.max(0) as u64;
                    prune.push(b);
                } else {
                    still.push(b);
                }
            }
            over_cap = total > settings.max_archive_bytes;
            kept = still;
        }

        let mut pruned = Vec::new();
        let mut freed_bytes = 0u64;
        for b in &prune {
            match tokio::fs::remove_file(&b.path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(error = %e, path = %b.path, "could not remove an archived bundle");
                    continue;
                }
            }
            freed_bytes += b.size_bytes.max(0) as u64;
            pruned.push(b.sha256.clone());
        }
        self.store
            .mark_bundles_pruned(&pruned, self.now_ms())
            .await?;
        Ok(RetentionReport {
            kept: kept.len() as u32,
            protected: kept
                .iter()
                .filter(|b| protected.contains(&b.sha256))
                .count() as u32,
            pruned,
            freed_bytes,
            total_bytes: total,
            over_cap,
        })
    }
}
