//! The runbook's emergency "Deploy API Down": upload an archived bundle straight to the
//! environment's dispatch namespace through the Cloudflare API, recorded as a manual deployment.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use switchyard_core::{
    AppError, Deployment, DeploymentMetadata, DeploymentStatus, Environment, ErrorCode, Profile,
};
use switchyard_store::{BundleUse, BundleUseKind, JournalStage};

use super::archive::bindings_of;
use super::events::{DeployEvent, DeployStepId, Progress};
use super::plan::{check_basis, check_confirmation, Confirmation, DeployPlan, VersionSummary};
use super::run::{health_url, verification_result, Verification};
use super::{rfc3339, sha256_hex, unless_cancelled, version_label, COMPATIBILITY_DATE};
use crate::Ops;

/// A direct deploy to perform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DirectDeployRequest {
    pub profile_id: String,
    /// The deployment whose archived bundle (and bindings) to upload.
    pub deployment_id: String,
    /// The environment to upload to; None: the one the bundle was deployed to.
    #[serde(default)]
    pub environment: Option<Environment>,
    /// Why (required): the audit log records it as a manual deployment.
    pub reason: String,
    #[serde(default)]
    pub confirmation: Confirmation,
    #[serde(default)]
    pub run_id: Option<String>,
}

/// What a direct deploy did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DirectDeployOutcome {
    pub run_id: String,
    /// The manual record added to the local history (`id` starts with `manual_`; the Deploy
    /// API never saw this deployment).
    pub record: Deployment,
    pub namespace: String,
    /// The worker written: the service's name.
    pub script: String,
    /// The tags it was uploaded with.
    pub tags: Vec<String>,
    pub verification: Verification,
}

/// A tag value Cloudflare accepts (no `,` or `&`).
fn tag_value(v: &str) -> String {
    v.replace([',', '&'], "-")
}

/// What a direct deploy sends, resolved from the archive.
struct DirectSource {
    service: String,
    environment: Environment,
    sha256: String,
    bindings: BTreeMap<String, String>,
    metadata: DeploymentMetadata,
    label: String,
}

impl Ops {
    async fn direct_source(
        &self,
        profile: &Profile,
        request: &DirectDeployRequest,
    ) -> Result<DirectSource, AppError> {
        let u = self
            .store
            .bundle_use(&profile.id, &request.deployment_id)
            .await?
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NotFound,
                    format!(
                        "{} has no archived bundle, so it cannot be uploaded directly. Choose a version Switchyard deployed.",
                        request.deployment_id
                    ),
                )
            })?;
        let stored = |k: &str| {
            u.metadata
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .unwrap_or_default()
        };
        let version = stored("version");
        let metadata = DeploymentMetadata {
            commit: stored("commit"),
            branch: stored("branch"),
            author: stored("author"),
            version: (!version.is_empty()).then_some(version.clone()),
        };
        Ok(DirectSource {
            service: u.service.clone(),
            environment: request.environment.unwrap_or(u.environment),
            label: version_label(Some(&version), &metadata.commit),
            sha256: u.sha256,
            bindings: bindings_of(&u.bindings),
            metadata,
        })
    }

    /// The plan of a direct deploy (confirmation: production → type the name; otherwise at
    /// least a confirm, since it bypasses the Deploy API).
    pub async fn direct_deploy_plan(
        &self,
        profile_id: &str,
        deployment_id: &str,
        environment: Option<Environment>,
    ) -> Result<DeployPlan, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let request = DirectDeployRequest {
            profile_id: profile_id.to_owned(),
            deployment_id: deployment_id.to_owned(),
            environment,
            reason: String::new(),
            confirmation: Confirmation::default(),
            run_id: None,
        };
        let src = self.direct_source(&profile, &request).await?;
        self.direct_plan(&profile, &src).await
    }

    async fn direct_plan(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        src: &DirectSource,
    ) -> Result<DeployPlan, AppError> {
        let size = self
            .store
            .bundle(&src.sha256)
            .await?
            .map(|b| b.size_bytes.max(0) as u64);
        let next = VersionSummary {
            deployment_id: None,
            version_label: Some(src.label.clone()),
            commit: Some(src.metadata.commit.clone()),
            branch: Some(src.metadata.branch.clone()),
            author: Some(src.metadata.author.clone()),
            timestamp: None,
            size_bytes: size,
            sha256: Some(src.sha256.clone()),
            bindings: Some(src.bindings.clone()),
        };
        // The Deploy API may be down: what is current comes from the cache.
        let (_, current) = self
            .current_version(profile, &src.service, src.environment, false)
            .await?;
        let mut plan = self
            .build_plan(
                profile,
                &src.service,
                src.environment,
                BundleUseKind::Direct,
                next,
                current,
                Vec::new(),
            )
            .await?;
        Ops::make_direct(&mut plan);
        Ok(plan)
    }

    /// Upload an archived bundle straight to the environment's dispatch namespace (worker named
    /// after the service, tags as the Deploy API writes them plus `manual:switchyard`), record it
    /// as a manual deployment (audit log, local history, archive), then verify `/health`.
    pub async fn direct_deploy(
        &self,
        request: DirectDeployRequest,
        on_event: impl Fn(DeployEvent) + Send + Sync,
    ) -> Result<DirectDeployOutcome, AppError> {
        let run = self.begin_run(request.run_id.as_deref(), &on_event)?;
        let (run_id, progress) = (&run.run_id, &run.progress);
        let params = serde_json::json!({
            "runId": run_id, "deploymentId": request.deployment_id,
            "environment": request.environment, "reason": request.reason, "manual": true,
        });
        self.audited(&request.profile_id, "deploy.direct", &request.deployment_id, params, async {
            if request.reason.trim().is_empty() {
                return Err(AppError::invalid_input(
                    "Say why you deploy directly (for the audit log and the incident report), then try again.",
                ));
            }
            let profile = self.for_profile(&request.profile_id).await?;
            let (src, bytes) = progress
                .run(DeployStepId::Inspect, async {
                    let src = self.direct_source(&profile, &request).await?;
                    let bytes = self.read_archived(&src.sha256).await?;
                    let d = format!("archived bundle of {} ({} bytes)", request.deployment_id, bytes.len());
                    Ok(((src, bytes), d))
                })
                .await?;
            progress.skipped(DeployStepId::Test, "an archived bundle is deployed as it was");
            progress.skipped(DeployStepId::Build, "an archived bundle is deployed as it was");
            progress.passed(DeployStepId::VerifyBundle, format!("sha256 {} matches the archive", src.sha256.get(..12).unwrap_or(&src.sha256)));
            let _held = self
                .hold_target(
                    &profile,
                    crate::target_lock::LockTarget::Service { service: &src.service, environment: src.environment },
                    "a direct deploy",
                    run_id,
                )
                .inspect_err(|e| progress.failed(DeployStepId::Preflight, e))?;
            unless_cancelled(run.token(), async {
                self.direct_preflight(&profile, &src.service, src.environment, bytes.len() as u64, progress).await
            })
            .await?;
            progress
                .run(DeployStepId::Plan, unless_cancelled(run.token(), async {
                    let plan = self.direct_plan(&profile, &src).await?;
                    check_confirmation(&plan.confirmation, &request.confirmation, "this direct deploy")?;
                    check_basis(request.confirmation.basis.as_ref(), &plan.basis, "this direct deploy")?;
                    let d = plan.action.clone();
                    Ok((plan, d))
                }))
                .await?;
            progress.passed(DeployStepId::Archive, format!("already archived as bundles/{}", src.sha256));
            let mut meta = serde_json::to_value(&src.metadata).unwrap_or_default();
            if let Some(m) = meta.as_object_mut() {
                m.insert("manual".into(), true.into());
                m.insert("copyOf".into(), request.deployment_id.clone().into());
                m.insert("reason".into(), request.reason.trim().into());
            }
            let bindings_json = serde_json::to_value(&src.bindings).unwrap_or_default();
            // Committed before anything is sent: a crash from here on is reconciled at the next start.
            self.journal_begin(run_id, &profile.id, BundleUseKind::Direct, &src.service, src.environment, &src.sha256, meta.clone(), bindings_json.clone())
                .await?;
            if let Err(e) = self.deploy_runs.begin_upload(run_id) {
                progress.failed(DeployStepId::Upload, &e);
                let _ = self.store.journal_stage(run_id, JournalStage::Failed, None, self.now_ms()).await;
                return Err(e);
            }
            let uploaded = self
                .direct_upload(
                    &DirectUpload {
                        profile: &profile,
                        run_id,
                        service: &src.service,
                        environment: src.environment,
                        bytes: &bytes,
                        sha256: &src.sha256,
                        bindings: &src.bindings,
                        metadata: &src.metadata,
                        label: &src.label,
                        bundle_notes: meta,
                    },
                    progress,
                )
                .await?;
            let DirectUploaded { record, namespace, script, tags } = uploaded;
            let verification = self
                .verify(&profile, &src.service, src.environment, None, progress)
                .await;
            debug_assert_eq!(verification.health_url, health_url(&profile, &src.service, src.environment));
            verification_result(&record, &verification)?;
            Ok(DirectDeployOutcome {
                run_id: run_id.clone(),
                record,
                namespace,
                script,
                tags,
                verification,
            })
        })
        .await
    }
}

/// What a direct upload sends and records.
pub(crate) struct DirectUpload<'a> {
    pub profile: &'a crate::context::ProfileContext<'a>,
    pub run_id: &'a str,
    pub service: &'a str,
    pub environment: Environment,
    pub bytes: &'a [u8],
    pub sha256: &'a str,
    pub bindings: &'a BTreeMap<String, String>,
    pub metadata: &'a DeploymentMetadata,
    /// The version's label (the record is tagged "<label> (manual)").
    pub label: &'a str,
    /// What the archive's bundle use records (the metadata plus Switchyard's notes).
    pub bundle_notes: serde_json::Value,
}

/// What a direct upload did.
pub(crate) struct DirectUploaded {
    pub record: Deployment,
    pub namespace: String,
    pub script: String,
    pub tags: Vec<String>,
}

impl Ops {
    /// Upload a bundle straight to the environment's dispatch namespace through the Cloudflare
    /// API (worker named after the service; tags as the Deploy API writes them plus
    /// `manual:switchyard`) and record it as a manual deployment in the local history and the
    /// archive. The run's journal entry must be open (stage `archived`): this moves it on.
    pub(crate) async fn direct_upload(
        &self,
        u: &DirectUpload<'_>,
        progress: &Progress<'_>,
    ) -> Result<DirectUploaded, AppError> {
        let run_id = u.run_id;
        self.journal_stage(run_id, JournalStage::Uploading, None)
            .await?;
        let namespace = u.profile.dispatch_namespace(u.environment);
        let script = u.service.to_owned();
        let mut tags = vec![
            format!("service:{}", tag_value(u.service)),
            format!("env:{}", u.environment),
            format!("commit:{}", tag_value(&u.metadata.commit)),
            format!("branch:{}", tag_value(&u.metadata.branch)),
            "manual:switchyard".to_owned(),
        ];
        tags.retain(|t| !t.ends_with(':'));
        let module = format!("{script}.mjs");
        let cf_bindings: Vec<serde_json::Value> = u
            .bindings
            .iter()
            .map(|(name, service)| serde_json::json!({"type": "service", "name": name, "service": service}))
            .collect();
        let metadata = serde_json::json!({
            "main_module": module,
            "compatibility_date": COMPATIBILITY_DATE,
            "bindings": cf_bindings,
            "tags": tags,
        });
        let api = u.profile.cloudflare()?;
        if let Err(e) = progress
            .run(DeployStepId::Upload, async {
                api.upload_script(&namespace, &script, &module, u.bytes.to_vec(), &metadata)
                    .await?;
                Ok((
                    (),
                    format!("uploaded {script} to {namespace} through the Cloudflare API"),
                ))
            })
            .await
        {
            let _ = self
                .store
                .journal_stage(run_id, JournalStage::Failed, None, self.now_ms())
                .await;
            return Err(e);
        }
        self.crash_here("sent")?;

        let now = self.now_ms();
        let record = Deployment {
            id: format!("manual_{now}_{}", &sha256_hex(run_id.as_bytes())[..8]),
            service: u.service.to_owned(),
            environment: u.environment,
            tier: None,
            version: None,
            namespace: Some(namespace.clone()),
            status: DeploymentStatus::Deployed,
            timestamp: rfc3339(now),
            url: None,
            version_tag: Some(format!("{} (manual)", u.label)),
            metadata: u.metadata.clone(),
        };
        self.journal_stage(run_id, JournalStage::Uploaded, Some(&record.id))
            .await?;
        self.store
            .upsert_deployments(&u.profile.id, std::slice::from_ref(&record), now)
            .await?;
        self.store
            .record_bundle_use(&BundleUse {
                sha256: u.sha256.to_owned(),
                profile_id: u.profile.id.clone(),
                deployment_id: record.id.clone(),
                service: u.service.to_owned(),
                environment: u.environment,
                bindings: serde_json::to_value(u.bindings).unwrap_or_default(),
                metadata: u.bundle_notes.clone(),
                used_ms: now,
                kind: BundleUseKind::Direct,
            })
            .await?;
        self.crash_here("recorded")?;
        self.journal_stage(run_id, JournalStage::Done, None).await?;
        Ok(DirectUploaded {
            record,
            namespace,
            script,
            tags,
        })
    }

    /// A direct plan needs at least a confirm and says it bypasses the Deploy API.
    pub(crate) fn make_direct(plan: &mut DeployPlan) {
        plan.warnings.insert(0, BYPASS_WARNING.to_owned());
        if plan.confirmation.kind == super::ConfirmationKind::None {
            plan.confirmation = super::ConfirmationRequirement {
                kind: super::ConfirmationKind::Confirm,
                phrase: None,
                reason: "A direct upload bypasses the Deploy API: confirm to go ahead.".into(),
            };
        }
    }
}

/// What every direct plan says first.
const BYPASS_WARNING: &str = "This bypasses the Deploy API (emergency only): its deployment list will not show this deploy. It is recorded in the audit log and in the local history as manual; document it in the incident report.";
