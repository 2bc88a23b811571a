//! A deploy run: `prepare` (inspect, test, build, verify the bundle, preflight, plan) and
//! `apply` (preflight and plan again, check the confirmation, archive, `POST /deploy`, record,
//! verify the record and `/health`, retention).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use switchyard_clients::{
    DeployBody, DeployRequest, DeploymentQuery, HealthProber, ProbeState, ProbeTarget,
};
use switchyard_core::{
    AppError, Deployment, DeploymentMetadata, Environment, ErrorCode, Profile, RunbookSection,
};
use switchyard_store::{BundleUse, BundleUseKind, DeployPin, JournalStage};

use super::archive::{ArchivedBundle, RetentionReport};
use super::events::{DeployEvent, DeployStepId, PreflightCheck, Progress};
use super::plan::{
    check_basis, check_confirmation, confirmation_words, report_preflight, Confirmation,
    DeployPlan, PreflightInput, VersionSummary,
};
use super::source::{
    inspect_folder, merge_metadata, read_bundle, run_script, syntax_check, BundleInfo,
    DeploySource, MetadataInput, ServiceFolderInfo,
};
use super::{unless_cancelled, version_label, HashedBytes, PreparedEntry};
use crate::context::ProfileContext;
use crate::Ops;

mod manual;
mod verify;
pub(crate) use verify::{health_url, verification_result};

/// What to prepare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PrepareDeploy {
    pub profile_id: String,
    pub service: String,
    pub environment: Environment,
    pub source: DeploySource,
    /// Typed metadata (overrides git/package.json for a folder; required for a bundle file).
    #[serde(default)]
    pub metadata: MetadataInput,
    /// Service bindings to send (binding name → service). None: wrangler.jsonc's for a folder;
    /// for a bundle file (which carries none) those of what runs now, when they are known.
    #[serde(default)]
    pub bindings: Option<BTreeMap<String, String>>,
    /// The run's id, chosen by the caller so it can cancel before the first event arrives.
    /// None: one is generated (every event carries it).
    #[serde(default)]
    pub run_id: Option<String>,
    /// Emergency, when the Deploy API is down: upload straight to the environment's dispatch
    /// namespace through the Cloudflare API (needs the profile's Cloudflare token), recorded as
    /// a manual deployment. Same preflight, plan and confirmation (at least a confirm).
    #[serde(default)]
    pub direct: bool,
}

/// A deploy ready to apply: what was built and checked, and the plan to confirm.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PreparedDeploy {
    pub run_id: String,
    pub profile_id: String,
    pub service: String,
    pub environment: Environment,
    pub source: DeploySource,
    /// What the service folder holds (None for a bundle file).
    pub folder: Option<ServiceFolderInfo>,
    pub bundle: BundleInfo,
    /// The metadata that will be sent.
    pub metadata: DeploymentMetadata,
    /// The bindings that will be sent.
    pub bindings: BTreeMap<String, String>,
    pub checks: Vec<PreflightCheck>,
    pub plan: DeployPlan,
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// The new record is the newest of its service/environment in `GET /deployments`.
    pub record_seen: bool,
    pub record_detail: String,
    pub health_ok: bool,
    pub health_url: String,
    /// The last HTTP status `/health` answered, if any.
    pub health_status: Option<u16>,
    pub health_detail: String,
    /// How long the health check waited, in ms.
    pub waited_ms: u32,
}

/// What a deploy (or a rollback to an archived version) did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DeployOutcome {
    pub run_id: String,
    /// The record the Deploy API created.
    pub deployment: Deployment,
    pub plan: DeployPlan,
    pub bundle: ArchivedBundle,
    pub verification: Verification,
    /// A normal deploy removed the pin that was there.
    pub pin_cleared: bool,
    /// The pin a rollback set.
    pub pin: Option<DeployPin>,
    /// Retention applied after the deploy (None if it failed; the deploy still succeeded).
    pub retention: Option<RetentionReport>,
}

/// Everything `execute` needs, whatever started it.
pub(crate) struct Execution<'a> {
    pub profile: ProfileContext<'a>,
    pub service: String,
    pub environment: Environment,
    pub bytes: HashedBytes,
    pub metadata: DeploymentMetadata,
    pub bindings: BTreeMap<String, String>,
    pub kind: BundleUseKind,
    /// Why (rollbacks): recorded with the pin.
    pub reason: Option<String>,
    /// Extra notes stored with the bundle use (e.g. `rollbackTo`).
    pub notes: serde_json::Map<String, serde_json::Value>,
    pub next: VersionSummary,
    pub warnings: Vec<String>,
}

impl Ops {
    /// The run's Retention step: prune the archive, saying what was kept and pruned; a failure
    /// is shown on the step and does not fail the deploy (it is already done).
    pub(super) async fn retention_step(&self, progress: &Progress<'_>) -> Option<RetentionReport> {
        progress.running(DeployStepId::Retention);
        match self.apply_retention().await {
            Ok(r) => {
                progress.passed(
                    DeployStepId::Retention,
                    format!("{} bundle(s) kept, {} pruned", r.kept, r.pruned.len()),
                );
                Some(r)
            }
            Err(e) => {
                progress.failed(DeployStepId::Retention, &e);
                None
            }
        }
    }

    /// Prepare a deploy: inspect the source, run the folder's test then build scripts (output
    /// streamed), verify the bundle, run the preflight checks and compute the plan. The result
    /// waits in memory for [`Ops::apply_deploy`] with the run id (or [`Ops::discard_deploy`]).
    /// Cancellable with [`Ops::cancel_deploy`]. Failed preflight → the first failed check's error
    /// (every check is in the `preflight` event).
    pub async fn prepare_deploy(
        &self,
        request: PrepareDeploy,
        on_event: impl Fn(DeployEvent) + Send + Sync,
    ) -> Result<PreparedDeploy, AppError> {
        let run = self.begin_run(request.run_id.as_deref(), &on_event)?;
        let (run_id, progress) = (&run.run_id, &run.progress);
        let (kind, path) = match &request.source {
            DeploySource::ServiceFolder { path } => ("serviceFolder", path.clone()),
            DeploySource::BundleFile { path } => ("bundleFile", path.clone()),
        };
        let params = serde_json::json!({
            "runId": run_id, "service": request.service, "environment": request.environment,
            "source": kind, "path": path,
        });
        let target = format!("{}/{}", request.service, request.environment);
        self.audited(
            &request.profile_id,
            "deploy.prepare",
            &target,
            params,
            async {
                let profile = self.for_profile(&request.profile_id).await?;
                self.prepare_inner(&profile, &request, progress, run.token())
                    .await
            },
        )
        .await
    }

    async fn prepare_inner(
        &self,
        profile: &ProfileContext<'_>,
        request: &PrepareDeploy,
        progress: &Progress<'_>,
        token: &CancellationToken,
    ) -> Result<PreparedDeploy, AppError> {
        let settings = self.deploy_settings().await?;
        let (folder, bundle_path) = match &request.source {
            DeploySource::ServiceFolder { path } => {
                let dir = PathBuf::from(path);
                let info = progress
                    .run(DeployStepId::Inspect, async {
                        let info = inspect_folder(&dir).await?;
                        let detail = format!(
                            "{} — {}; {} binding(s){}",
                            info.package_name
                                .clone()
                                .unwrap_or_else(|| dir.display().to_string()),
                            info.package_manager_reason,
                            info.bindings.len(),
                            info.git
                                .note
                                .as_ref()
                                .map(|n| format!("; {n}"))
                                .unwrap_or_default()
                        );
                        Ok((info, detail))
                    })
                    .await?;
                for (step, script, name) in [
                    (DeployStepId::Test, &info.test_script, "test"),
                    (DeployStepId::Build, &info.build_script, "build"),
                ] {
                    if token.is_cancelled() {
                        progress.failed(step, &super::cancelled());
                        return Err(super::cancelled());
                    }
                    if script.is_none() {
                        progress.skipped(step, format!("package.json has no \"{name}\" script"));
                        continue;
                    }
                    progress
                        .run(step, async {
                            let d =
                                run_script(&dir, info.package_manager, name, step, progress, token)
                                    .await?;
                            Ok(((), d))
                        })
                        .await?;
                }
                let bundle = dir.join("dist").join("index.js");
                (Some(info), bundle)
            }
            DeploySource::BundleFile { path } => {
                if path.trim().is_empty() {
                    let e = AppError::invalid_input("Choose the bundle file, or paste its path.");
                    progress.failed(DeployStepId::Inspect, &e);
                    return Err(e);
                }
                progress.passed(DeployStepId::Inspect, format!("prebuilt bundle {path}"));
                progress.skipped(DeployStepId::Test, "a prebuilt bundle is deployed as it is");
                progress.skipped(
                    DeployStepId::Build,
                    "a prebuilt bundle is deployed as it is",
                );
                (None, PathBuf::from(path))
            }
        };

        let scratch = self.data_dir.join("tmp");
        let (bytes, bundle) = progress
            .run(DeployStepId::VerifyBundle, async {
                let (bytes, size) = read_bundle(&bundle_path, settings.bundle_size_limit_bytes)
                    .await
                    .map_err(|e| match &folder {
                        Some(_) => AppError::invalid_input(format!(
                            "The build did not produce {} ({}). Check the build script's output folder.",
                            bundle_path.display(),
                            e.message
                        )),
                        None => e,
                    })?;
                if bytes.is_empty() {
                    let info = BundleInfo {
                        path: bundle_path.display().to_string(),
                        size_bytes: size,
                        sha256: String::new(),
                        syntax_checked: false,
                        syntax_note: "not checked: the bundle is over the size limit".into(),
                    };
                    let d = format!("{size} bytes — over the size limit");
                    return Ok(((HashedBytes::new(bytes), info), d));
                }
                // Hashed once here: the check's memory, the plan, the archive and the upload
                // use this hash.
                let bytes = HashedBytes::new(bytes);
                let (checked, note) = syntax_check(&bytes, &scratch, token).await?;
                let info = BundleInfo {
                    path: bundle_path.display().to_string(),
                    size_bytes: size,
                    sha256: bytes.sha256().to_owned(),
                    syntax_checked: checked,
                    syntax_note: note.clone(),
                };
                let d = format!("{size} bytes, sha256 {}…; {note}", info.sha256.get(..12).unwrap_or(&info.sha256));
                Ok(((bytes, info), d))
            })
            .await?;

        let metadata = merge_metadata(
            &request.metadata,
            folder.as_ref().map(|f| &f.git),
            folder.as_ref().and_then(|f| f.package_version.as_deref()),
        );
        let bindings = request
            .bindings
            .clone()
            .or_else(|| folder.as_ref().map(|f| f.bindings.clone()))
            .unwrap_or_default();

        progress.running(DeployStepId::Preflight);
        let checks = unless_cancelled(token, async {
            Ok(self
                .preflight(
                    profile,
                    &PreflightInput {
                        service: &request.service,
                        environment: request.environment,
                        size_bytes: bundle.size_bytes,
                        metadata: Some(&metadata),
                        direct: request.direct,
                    },
                )
                .await)
        })
        .await
        .inspect_err(|e| progress.failed(DeployStepId::Preflight, e))?;
        report_preflight(progress, &checks)?;

        let mut warnings = Vec::new();
        if let Some(f) = &folder {
            warnings.extend(f.notes.iter().cloned());
            if f.git.dirty {
                warnings.extend(f.git.note.iter().cloned());
            }
        }
        if !bundle.syntax_checked {
            warnings.push(bundle.syntax_note.clone());
        }
        let next = VersionSummary {
            deployment_id: None,
            version_label: Some(version_label(metadata.version.as_deref(), &metadata.commit)),
            commit: Some(metadata.commit.clone()),
            branch: Some(metadata.branch.clone()),
            author: Some(metadata.author.clone()),
            timestamp: None,
            size_bytes: Some(bundle.size_bytes),
            sha256: Some(bundle.sha256.clone()),
            bindings: Some(bindings.clone()),
        };
        let carry_bindings = request.bindings.is_none() && folder.is_none();
        let plan = progress
            .run(
                DeployStepId::Plan,
                unless_cancelled(token, async {
                    let (_, current) = self
                        .current_version(profile, &request.service, request.environment, !request.direct)
                        .await?;
                    let mut next = next;
                    let mut warnings = warnings;
                    // A bundle file says nothing about the service's bindings: sending none
                    // would cut the service off from the ones it has (the runbook's "Missing
                    // Service Bindings"), so it keeps those of what runs now.
                    if carry_bindings {
                        if let Some(c) = &current {
                            match c.bindings.as_ref().filter(|b| !b.is_empty()) {
                                Some(kept) => {
                                    warnings.push(format!(
                                        "A bundle file carries no service bindings: it keeps those of what runs now ({}).",
                                        kept.iter()
                                            .map(|(name, service)| format!("{name} → {service}"))
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ));
                                    next.bindings = Some(kept.clone());
                                }
                                None if c.bindings.is_none() => warnings.push(
                                    "A bundle file carries no service bindings and those of what runs now are unknown: it is deployed without any. Deploy from the service folder to send wrangler.jsonc's."
                                        .into(),
                                ),
                                None => {}
                            }
                        }
                    }
                    let mut plan = self
                        .build_plan(
                            profile,
                            &request.service,
                            request.environment,
                            if request.direct { BundleUseKind::Direct } else { BundleUseKind::Deploy },
                            next,
                            current,
                            warnings,
                        )
                        .await?;
                    if request.direct {
                        Ops::make_direct(&mut plan);
                    }
                    let d = format!(
                        "{}; {}",
                        plan.action,
                        confirmation_words(plan.confirmation.kind, false)
                    );
                    Ok((plan, d))
                }),
            )
            .await?;

        let bindings = plan.next.bindings.clone().unwrap_or(bindings);
        let prepared = PreparedDeploy {
            run_id: progress.run_id.clone(),
            profile_id: profile.id.clone(),
            service: request.service.clone(),
            environment: request.environment,
            source: request.source.clone(),
            folder,
            bundle,
            metadata,
            bindings,
            checks,
            plan,
        };
        self.deploy_runs.put_prepared(PreparedEntry {
            prepared: prepared.clone(),
            bytes,
        });
        Ok(prepared)
    }

    /// Apply a prepared deploy with the operator's confirmation: preflight and plan again (the
    /// platform may have changed meanwhile), check the confirmation against what the plan
    /// requires, archive the bundle, `POST /deploy`, record it, verify. Cancellable until the
    /// upload starts. A failure before the upload keeps the prepared deploy, so it can be
    /// applied again (e.g. with the name typed correctly).
    pub async fn apply_deploy(
        &self,
        run_id: &str,
        confirmation: Confirmation,
        on_event: impl Fn(DeployEvent) + Send + Sync,
    ) -> Result<DeployOutcome, AppError> {
        let entry = self.deploy_runs.take_prepared(run_id)?;
        let run = self.begin_run(Some(run_id), &on_event)?;
        let p = &entry.prepared;
        let progress = &run.progress;
        let params = serde_json::json!({
            "runId": run_id, "service": p.service, "environment": p.environment,
            "sha256": p.bundle.sha256, "sizeBytes": p.bundle.size_bytes,
            "version": p.metadata.version, "commit": p.metadata.commit, "branch": p.metadata.branch,
            "confirmation": p.plan.confirmation.kind,
        });
        let target = format!("{}/{}", p.service, p.environment);
        let action = if p.plan.kind == BundleUseKind::Direct {
            "deploy.direct"
        } else {
            "deploy.apply"
        };
        let mut uploaded = false;
        let result = self
            .audited(&p.profile_id, action, &target, params, async {
                let profile = self.for_profile(&p.profile_id).await?;
                let ex = Execution {
                    profile,
                    service: p.service.clone(),
                    environment: p.environment,
                    bytes: entry.bytes.clone(),
                    metadata: p.metadata.clone(),
                    bindings: p.bindings.clone(),
                    kind: p.plan.kind,
                    reason: None,
                    notes: serde_json::Map::new(),
                    next: p.plan.next.clone(),
                    warnings: p
                        .plan
                        .warnings
                        .iter()
                        .filter(|w| !w.contains("pinned") && !w.contains("bypasses the Deploy API"))
                        .cloned()
                        .collect(),
                };
                // A prepared deploy is bound to the plan it showed, whatever the caller sent.
                let mut confirmation = confirmation.clone();
                confirmation
                    .basis
                    .get_or_insert_with(|| p.plan.basis.clone());
                self.execute(&ex, &confirmation, progress, run.token(), &mut uploaded)
                    .await
            })
            .await;
        if result.is_err() && !uploaded {
            self.deploy_runs.put_prepared(entry);
        }
        result
    }

    /// Prepare and apply in one call (for runbooks and scripts that confirm up front).
    pub async fn deploy(
        &self,
        request: PrepareDeploy,
        confirmation: Confirmation,
        on_event: impl Fn(DeployEvent) + Send + Sync,
    ) -> Result<DeployOutcome, AppError> {
        let prepared = self.prepare_deploy(request, &on_event).await?;
        let result = self
            .apply_deploy(&prepared.run_id, confirmation, &on_event)
            .await;
        self.deploy_runs.discard_prepared(&prepared.run_id);
        result
    }

    /// Cancel a running deploy, rollback or direct deploy by run id. Refused (Conflict) once its
    /// upload has started; NotFound when no such run is going.
    pub fn cancel_deploy(&self, run_id: &str) -> Result<(), AppError> {
        self.deploy_runs.cancel(run_id)
    }

    /// Forget a prepared deploy that will not be applied; true if there was one.
    pub fn discard_deploy(&self, run_id: &str) -> bool {
        self.deploy_runs.discard_prepared(run_id)
    }

    /// Preflight, plan + confirmation, archive, upload through `POST /deploy`, record, verify,
    /// retention. `uploaded` turns true at the point of no return.
    pub(crate) async fn execute(
        &self,
        ex: &Execution<'_>,
        confirmation: &Confirmation,
        progress: &Progress<'_>,
        token: &CancellationToken,
        uploaded: &mut bool,
    ) -> Result<DeployOutcome, AppError> {
        let (service, environment, profile) = (&ex.service, ex.environment, &ex.profile);
        // The upload's body (13 MiB of base64 for a 10 MiB bundle) is built on another thread
        // while preflight, plan and archive run; dropped unused if the run stops before.
        let body = (ex.kind != BundleUseKind::Direct).then(|| {
            let request = DeployRequest {
                service: service.clone(),
                environment,
                tier: None,
                version: None,
                script: String::new(),
                bindings: ex.bindings.clone(),
                metadata: ex.metadata.clone(),
            };
            let bytes = ex.bytes.clone();
            tokio::task::spawn_blocking(move || DeployBody::new(&request, &bytes))
        });
        progress.running(DeployStepId::Preflight);
        let what = match ex.kind {
            BundleUseKind::Deploy => "this deploy",
            _ => "this rollback",
        };
        let _held = self
            .hold_target(
                profile,
                crate::target_lock::LockTarget::Service {
                    service,
                    environment,
                },
                match ex.kind {
                    BundleUseKind::Deploy => "a deploy",
                    BundleUseKind::Rollback => "a rollback to an archived version",
                    BundleUseKind::Direct => "a direct deploy",
                },
                &progress.run_id,
            )
            .inspect_err(|e| progress.failed(DeployStepId::Preflight, e))?;
        let checks = unless_cancelled(token, async {
            Ok(self
                .preflight(
                    profile,
                    &PreflightInput {
                        service,
                        environment,
                        size_bytes: ex.bytes.len() as u64,
                        metadata: Some(&ex.metadata),
                        direct: ex.kind == BundleUseKind::Direct,
                    },
                )
                .await)
        })
        .await
        .inspect_err(|e| progress.failed(DeployStepId::Preflight, e))?;
        report_preflight(progress, &checks)?;

        let plan = progress
            .run(
                DeployStepId::Plan,
                unless_cancelled(token, async {
                    let direct = ex.kind == BundleUseKind::Direct;
                    let (_, current) = self
                        .current_version(profile, service, environment, !direct)
                        .await?;
                    let mut plan = self
                        .build_plan(
                            profile,
                            service,
                            environment,
                            ex.kind,
                            ex.next.clone(),
                            current,
                            ex.warnings.clone(),
                        )
                        .await?;
                    if direct {
                        Ops::make_direct(&mut plan);
                    }
                    check_confirmation(&plan.confirmation, confirmation, what)?;
                    check_basis(confirmation.basis.as_ref(), &plan.basis, what)?;
                    let d = format!(
                        "{} — {}",
                        plan.action,
                        confirmation_words(plan.confirmation.kind, true)
                    );
                    Ok((plan, d))
                }),
            )
            .await?;

        let record = progress
            .run(DeployStepId::Archive, async {
                let r = self.archive_bundle(&ex.bytes).await?;
                let d = format!("stored as bundles/{}", r.sha256);
                Ok((r, d))
            })
            .await?;

        let mut metadata_json = serde_json::to_value(&ex.metadata).unwrap_or_default();
        if let Some(m) = metadata_json.as_object_mut() {
            m.extend(ex.notes.clone());
        }
        let bindings_json = serde_json::to_value(&ex.bindings).unwrap_or_default();
        let run_id = progress.run_id.as_str();
        // Committed before anything is sent: a crash from here on is reconciled at the next start.
        self.journal_begin(
            run_id,
            &profile.id,
            ex.kind,
            service,
            environment,
            &record.sha256,
            metadata_json.clone(),
            bindings_json.clone(),
        )
        .await
        .inspect_err(|e| progress.failed(DeployStepId::Archive, e))?;
        if let Err(e) = self.deploy_runs.begin_upload(run_id) {
            progress.failed(DeployStepId::Upload, &e);
            let _ = self
                .store
                .journal_stage(run_id, JournalStage::Failed, None, self.now_ms())
                .await;
            return Err(e);
        }
        *uploaded = true;
        if ex.kind == BundleUseKind::Direct {
            return self
                .execute_direct(ex, plan, &record, metadata_json, progress)
                .await;
        }
        self.journal_stage(run_id, JournalStage::Uploading, None)
            .await?;
        let api = profile.deploy_api()?;
        progress.running(DeployStepId::Upload);
        let body = match body {
            Some(building) => building.await.ok(),
            None => None,
        }
        .ok_or_else(|| AppError::internal("Building the upload's body"));
        let deployment = match async { api.deploy_body(body?).await }.await {
            Ok(r) => r.deployment,
            Err(e) => {
                progress.failed(DeployStepId::Upload, &e);
                let _ = self
                    .store
                    .journal_stage(run_id, JournalStage::Failed, None, self.now_ms())
                    .await;
                // The Deploy API records failed uploads too: cache what it says now.
                self.refresh_window(profile, service, environment).await;
                return Err(e);
            }
        };
        self.crash_here("sent")?;
        self.journal_stage(run_id, JournalStage::Uploaded, Some(&deployment.id))
            .await?;
        progress.passed(
            DeployStepId::Upload,
            format!("{} recorded as {}", deployment.id, deployment.status),
        );

        // Record locally before verifying: the deploy happened whatever verification finds.
        let now = self.now_ms();
        self.store
            .record_bundle_use(&BundleUse {
                sha256: record.sha256.clone(),
                profile_id: profile.id.clone(),
                deployment_id: deployment.id.clone(),
                service: service.clone(),
                environment,
                bindings: bindings_json,
                metadata: metadata_json,
                used_ms: now,
                kind: ex.kind,
            })
            .await?;
        self.store
            .upsert_deployments(&profile.id, std::slice::from_ref(&deployment), now)
            .await?;
        self.crash_here("recorded")?;
        self.journal_stage(run_id, JournalStage::Done, None).await?;
        let mut pin_cleared = false;
        let mut pin = None;
        match ex.kind {
            BundleUseKind::Rollback => {
                let p = DeployPin {
                    profile_id: profile.id.clone(),
                    service: service.clone(),
                    environment,
                    deployment_id: deployment.id.clone(),
                    version_label: ex.next.version_label.clone().unwrap_or_default(),
                    reason: ex.reason.clone().unwrap_or_default(),
                    actor: crate::actor(),
                    pinned_ms: now,
                };
                self.store.set_pin(&p).await?;
                pin = Some(p);
            }
            _ => {
                pin_cleared = self
                    .store
                    .clear_pin(&profile.id, service, environment)
                    .await?
            }
        }

        let verification = self
            .verify(
                profile,
                service,
                environment,
                Some(&deployment.id),
                progress,
            )
            .await;
        let retention = self.retention_step(progress).await;
        let bundle = self
            .archived_bundle(&profile.id, &deployment.id)
            .await?
            .ok_or_else(|| AppError::internal("Reading the archived bundle"))?;
        verification_result(&deployment, &verification)?;
        Ok(DeployOutcome {
            run_id: progress.run_id.clone(),
            deployment,
            plan,
            bundle,
            verification,
            pin_cleared,
            pin,
            retention,
        })
    }
}
