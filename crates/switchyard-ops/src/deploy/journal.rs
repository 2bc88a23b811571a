//! The deploy journal: a deploy, restore or direct deploy is written to SQLite before its upload
//! and moved on at each step. If the app dies in between, the next start reconciles the entry
//! with the platform (the Deploy API's records; the namespace's script for a direct deploy):
//! found → the local history and archive are completed; not sent → nothing was deployed;
//! sent but not found → unknown, said as such. The operator is shown each one until dismissed.

use serde::Serialize;
use switchyard_clients::DeploymentQuery;
use switchyard_core::{AppError, Deployment, DeploymentMetadata, DeploymentStatus, Environment};
use switchyard_store::{BundleUse, BundleUseKind, JournalEntry, JournalResolution, JournalStage};

use super::{rfc3339, sha256_hex};
use crate::Ops;

/// How far before its journal entry a matching record may be stamped (clock skew between this
/// machine and the platform).
const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// What a restart found about a deploy the app was doing when it stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct InterruptedDeploy {
    pub run_id: String,
    pub service: String,
    pub environment: Environment,
    /// `deploy`, `rollback` (a restore) or `direct`.
    pub kind: String,
    /// `completed`, `not_deployed` or `unknown`.
    pub resolution: String,
    /// In words, with what to do.
    pub detail: String,
    /// The platform's deployment, when it has one.
    pub deployment_id: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub started_ms: i64,
}

impl From<JournalEntry> for InterruptedDeploy {
    fn from(e: JournalEntry) -> Self {
        InterruptedDeploy {
            run_id: e.run_id,
            service: e.service,
            environment: e.environment,
            kind: e.kind.as_str().to_owned(),
            resolution: e
                .resolution
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            detail: e.resolution_detail.unwrap_or_default(),
            deployment_id: e.deployment_id,
            started_ms: e.started_ms,
        }
    }
}

/// The error a simulated crash ends a run with (tests only).
fn crashed() -> AppError {
    AppError::internal("Simulated crash")
}

impl Ops {
    /// For tests: the next deploy, restore or direct deploy stops dead right after `point`
    /// (`archived`, `uploading`, `sent` — the platform answered, nothing written yet —,
    /// `uploaded`, `recorded`): nothing after it is written, not even the audit log's end, as if
    /// the process had been killed there. None turns it off.
    pub fn simulate_deploy_crash_at(&self, point: Option<&str>) {
        if let Ok(mut p) = self.crash_point.lock() {
            *p = point.map(str::to_owned);
        }
    }

    /// Stop dead here if a simulated crash is set for `point`.
    pub(crate) fn crash_here(&self, point: &str) -> Result<(), AppError> {
        let hit = self
            .crash_point
            .lock()
            .map(|mut p| {
                if p.as_deref() == Some(point) {
                    *p = None;
                    true
                } else {
                    false
                }
            })
            .unwrap_or(false);
        if hit {
            self.crashed
                .store(true, std::sync::atomic::Ordering::SeqCst);
            return Err(crashed());
        }
        Ok(())
    }

    /// Open the journal entry of a run whose bundle is archived (before anything is sent).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn journal_begin(
        &self,
        run_id: &str,
        profile_id: &str,
        kind: BundleUseKind,
        service: &str,
        environment: Environment,
        sha256: &str,
        metadata: serde_json::Value,
        bindings: serde_json::Value,
    ) -> Result<(), AppError> {
        let now = self.now_ms();
        self.store
            .journal_begin(&JournalEntry {
                run_id: run_id.to_owned(),
                profile_id: profile_id.to_owned(),
                kind,
                service: service.to_owned(),
                environment,
                sha256: sha256.to_owned(),
                metadata,
                bindings,
                started_ms: now,
                stage: JournalStage::Archived,
                deployment_id: None,
                updated_ms: now,
                resolution: None,
                resolution_detail: None,
            })
            .await?;
        self.crash_here("archived")
    }

    /// Move a run's journal entry on; stops dead there under a simulated crash.
    pub(crate) async fn journal_stage(
        &self,
        run_id: &str,
        stage: JournalStage,
        deployment_id: Option<&str>,
    ) -> Result<(), AppError> {
        self.store
            .journal_stage(run_id, stage, deployment_id, self.now_ms())
            .await?;
        self.crash_here(stage.as_str())
    }

    /// Reconcile the journal entries a crash left unfinished with the platform, and say what was
    /// found. An entry whose platform cannot be asked now stays for the next start.
    pub async fn reconcile_deploys(&self) -> Result<Vec<InterruptedDeploy>, AppError> {
        let mut found = Vec::new();
        for e in self.store.journal_unresolved().await? {
            match self.reconcile_one(&e).await {
                Ok((resolution, detail, id)) => {
                    self.store
                        .journal_resolve(
                            &e.run_id,
                            resolution,
                            &detail,
                            id.as_deref(),
                            self.now_ms(),
                        )
                        .await?;
                    let mut e = e;
                    e.resolution = Some(resolution);
                    e.resolution_detail = Some(detail);
                    e.deployment_id = id.or(e.deployment_id);
                    found.push(InterruptedDeploy::from(e));
                }
                Err(err) => tracing::warn!(
                    run = %e.run_id,
                    error = %err.message,
                    "an interrupted deploy could not be reconciled yet"
                ),
            }
        }
        Ok(found)
    }

    /// Interrupted deploys of a profile the operator has not dismissed, newest first.
    pub async fn interrupted_deploys(
        &self,
        profile_id: &str,
    ) -> Result<Vec<InterruptedDeploy>, AppError> {
        Ok(self
            .store
            .journal_notices(profile_id)
            .await?
            .into_iter()
            .map(InterruptedDeploy::from)
            .collect())
    }

    /// The operator read what happened to an interrupted deploy.
    pub async fn dismiss_interrupted_deploy(&self, run_id: &str) -> Result<bool, AppError> {
        self.store.journal_acknowledge(run_id).await
    }

    async fn reconcile_one(
        &self,
        e: &JournalEntry,
    ) -> Result<(JournalResolution, String, Option<String>), AppError> {
        let what = format!(
            "The {} of {} to {}",
            kind_words(e.kind),
            e.service,
            e.environment
        );
        if e.stage == JournalStage::Archived {
            return Ok((
                JournalResolution::NotDeployed,
                format!("{what} stopped before its upload (Switchyard was closed or crashed): nothing was deployed. Deploy again if it is still needed."),
                None,
            ));
        }
        let profile = self.for_profile(&e.profile_id).await?;
        let metadata: DeploymentMetadata =
            serde_json::from_value(e.metadata.clone()).unwrap_or(DeploymentMetadata {
                commit: String::new(),
                branch: String::new(),
                author: String::new(),
                version: None,
            });
        let record = match e.kind {
            BundleUseKind::Direct => self.direct_record_of(&profile, e, &metadata).await?,
            _ => match &e.deployment_id {
                Some(id) => self.deploy_record_by_id(&profile, e, id).await?,
                None => self.deploy_record_like(&profile, e, &metadata).await?,
            },
        };
        let Some(record) = record else {
            return Ok((
                JournalResolution::Unknown,
                format!("{what} was being uploaded when Switchyard stopped, and the platform has no record of it: whether it runs is unknown. Check the service's health and history; deploy again to be sure."),
                None,
            ));
        };
        // Complete what the crash left out: the history and the archive's use of the bundle.
        let now = self.now_ms();
        self.store
            .upsert_deployments(&profile.id, std::slice::from_ref(&record), now)
            .await?;
        let mut meta = e.metadata.clone();
        if let Some(m) = meta.as_object_mut() {
            m.insert("reconciled".into(), true.into());
        }
        if self
            .store
            .bundle_use(&profile.id, &record.id)
            .await?
            .is_none()
        {
            self.store
                .record_bundle_use(&BundleUse {
                    sha256: e.sha256.clone(),
                    profile_id: profile.id.clone(),
                    deployment_id: record.id.clone(),
                    service: e.service.clone(),
                    environment: e.environment,
                    bindings: e.bindings.clone(),
                    metadata: meta,
                    used_ms: now,
                    kind: e.kind,
                })
                .await?;
        }
        self.store
            .journal_stage(&e.run_id, JournalStage::Done, Some(&record.id), now)
            .await?;
        Ok((
            JournalResolution::Completed,
            format!("{what} was under way when Switchyard stopped. It reached the platform as {}: the history and the bundle archive were completed. Check its health.", record.id),
            Some(record.id),
        ))
    }

    async fn recent_records(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        e: &JournalEntry,
    ) -> Result<Vec<Deployment>, AppError> {
        Ok(profile
            .deploy_api()?
            .list(&DeploymentQuery {
                service: Some(e.service.clone()),
                environment: Some(e.environment),
                limit: Some(50),
            })
            .await?
            .deployments)
    }

    async fn deploy_record_by_id(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        e: &JournalEntry,
        id: &str,
    ) -> Result<Option<Deployment>, AppError> {
        Ok(self
            .recent_records(profile, e)
            .await?
            .into_iter()
            .find(|d| d.id == id))
    }

    /// The newest record of the entry's service/environment, stamped after the entry began,
    /// with the metadata the entry sent.
    async fn deploy_record_like(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        e: &JournalEntry,
        metadata: &DeploymentMetadata,
    ) -> Result<Option<Deployment>, AppError> {
        let after = e.started_ms - CLOCK_SKEW_MS;
        Ok(self
            .recent_records(profile, e)
            .await?
            .into_iter()
            .filter(|d| d.status != DeploymentStatus::Failed)
            .filter(|d| {
                d.metadata.commit == metadata.commit && d.metadata.version == metadata.version
            })
            .filter(|d| {
                chrono::DateTime::parse_from_rfc3339(&d.timestamp)
                    .map(|t| t.timestamp_millis() >= after)
                    .unwrap_or(false)
            })
            .max_by(|a, b| a.timestamp.cmp(&b.timestamp)))
    }

    /// A direct deploy reached the namespace when the script there is the entry's bundle, byte
    /// for byte: its manual history record.
    async fn direct_record_of(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        e: &JournalEntry,
        metadata: &DeploymentMetadata,
    ) -> Result<Option<Deployment>, AppError> {
        let namespace = profile.dispatch_namespace(e.environment);
        let api = profile.cloudflare()?;
        let content = match api.script_content(&namespace, &e.service).await {
            Ok(c) => c,
            Err(err) if err.code == switchyard_core::ErrorCode::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        if sha256_hex(&content) != e.sha256 {
            return Ok(None);
        }
        let label = super::version_label(metadata.version.as_deref(), &metadata.commit);
        Ok(Some(Deployment {
            id: e.deployment_id.clone().unwrap_or_else(|| {
                format!(
                    "manual_{}_{}",
                    e.started_ms,
                    &sha256_hex(e.run_id.as_bytes())[..8]
                )
            }),
            service: e.service.clone(),
            environment: e.environment,
            tier: None,
            version: None,
            namespace: Some(namespace),
            status: DeploymentStatus::Deployed,
            timestamp: rfc3339(e.started_ms),
            url: None,
            version_tag: Some(format!("{label} (manual)")),
            metadata: metadata.clone(),
        }))
    }
}

fn kind_words(kind: BundleUseKind) -> &'static str {
    match kind {
        BundleUseKind::Deploy => "deploy",
        BundleUseKind::Rollback => "restore",
        BundleUseKind::Direct => "direct deploy",
    }
}
