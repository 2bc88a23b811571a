//! Rollback: the Deploy API's one-step `POST /rollback`, and rolling back to any archived
//! version by deploying its stored bundle again. Either pins the service/environment.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use switchyard_clients::DeploymentQuery;
use switchyard_core::{AppError, Deployment, DeploymentStatus, Environment, ErrorCode};
use switchyard_store::{BundleRecord, BundleUseKind, DeployPin, DeploymentFilter};

use super::archive::{bindings_of, ArchivedBundle};
use super::events::{DeployEvent, DeployStepId, Progress};
use super::plan::{
    check_basis, check_confirmation, check_writable, confirmation_for, report_preflight,
    summary_of, Confirmation, ConfirmationRequirement, DeployPlan, PlanBasis, PreflightInput,
};
use super::run::{verification_result, DeployOutcome, Execution, Verification};
use super::{rfc3339, unless_cancelled};
use crate::context::ProfileContext;
use crate::Ops;

/// What the one-step rollback would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RollbackPlan {
    pub profile_id: String,
    pub service: String,
    pub environment: Environment,
    /// The newest `deployed` record: it becomes `rolled_back`.
    pub current: Option<Deployment>,
    /// The one before it: it becomes current. None → the rollback is not possible.
    pub becomes_current: Option<Deployment>,
    /// The archive has the bundle of `becomes_current` (so "roll back to this version" could
    /// also upload it again).
    pub previous_bundle_archived: bool,
    /// Why the rollback cannot be done, when it cannot.
    pub blocked_reason: Option<String>,
    pub warnings: Vec<String>,
    pub confirmation: ConfirmationRequirement,
    /// The button's label.
    pub action: String,
    /// What this plan was made against: send it back in the confirmation.
    pub basis: PlanBasis,
}

/// A one-step rollback to perform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RollbackRequest {
    pub profile_id: String,
    pub service: String,
    pub environment: Environment,
    /// Why (required): recorded in the audit log and on the pin.
    pub reason: String,
    #[serde(default)]
    pub confirmation: Confirmation,
    #[serde(default)]
    pub run_id: Option<String>,
}

/// What a one-step rollback did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RollbackOutcome {
    pub run_id: String,
    /// The deployment that is current now (the previous one).
    pub deployment: Deployment,
    /// The id of the deployment marked `rolled_back`.
    pub rolled_back_id: Option<String>,
    pub verification: Verification,
    pub pin: DeployPin,
}

/// Roll back to an archived version: deploy its stored bundle again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RestoreRequest {
    pub profile_id: String,
    /// The deployment whose bundle to deploy again.
    pub deployment_id: String,
    /// Why (required): recorded in the audit log and on the pin.
    pub reason: String,
    #[serde(default)]
    pub confirmation: Confirmation,
    #[serde(default)]
    pub run_id: Option<String>,
}

/// One version of a service/environment and whether it can be restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct VersionRow {
    pub deployment: Deployment,
    /// It is what is deployed now.
    pub current: bool,
    /// The service/environment is pinned to it.
    pub pinned: bool,
    /// Its archived bundle can be deployed again.
    pub restorable: bool,
    /// Why not, when not.
    pub why_not: Option<String>,
    pub bundle: Option<ArchivedBundle>,
    /// Not archived here, but the platform still holds its code: "Fetch from the platform"
    /// archives it (see `fetch.rs`).
    pub fetchable: bool,
}

/// The versions of a service/environment, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct VersionList {
    pub service: String,
    pub environment: Environment,
    pub rows: Vec<VersionRow>,
    pub pin: Option<DeployPin>,
    /// Set when the Deploy API could not be read and the list comes from the cache alone.
    pub stale_note: Option<String>,
}

fn require_reason(reason: &str) -> Result<String, AppError> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(AppError::invalid_input(
            "Say why you roll back (for the audit log and the incident report), then try again.",
        ));
    }
    Ok(r.to_owned())
}

fn why_not(
    d: &Deployment,
    current: bool,
    bundle: Option<&ArchivedBundle>,
    record: Option<&BundleRecord>,
) -> Option<String> {
    if current {
        return Some("It is what is deployed now.".into());
    }
    if d.status == DeploymentStatus::Failed {
        return Some("This deployment failed, so its bundle never ran.".into());
    }
    match (bundle, record) {
        (None, _) => Some(
            "No archived bundle: it was deployed outside Switchyard, or before the archive existed.".into(),
        ),
        (Some(_), Some(r)) if r.pruned_ms.is_some() => Some(format!(
            "Its bundle was removed from the archive by the retention setting ({}).",
            rfc3339(r.pruned_ms.unwrap_or_default())
        )),
        (Some(b), _) if !b.available => Some(
            "Its archived bundle file is missing from the data folder (deleted by hand?).".into(),
        ),
        _ => None,
    }
}

impl Ops {
    /// The versions of `service` in `environment` (from the Deploy API, cached; the cache alone
    /// when it is unreachable), each with whether it can be restored and why not.
    pub async fn versions(
        &self,
        profile_id: &str,
        service: &str,
        environment: Environment,
    ) -> Result<VersionList, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let mut stale_note = None;
        let fetched = match profile.deploy_api() {
            Err(e) => Err(e),
            Ok(api) => {
                api.list(&DeploymentQuery {
                    service: Some(service.to_owned()),
                    environment: Some(environment),
                    limit: Some(100),
                })
                .await
            }
        };
        match fetched {
            Ok(list) => {
                self.store
                    .upsert_deployments(profile_id, &list.deployments, self.now_ms())
                    .await?;
            }
            Err(e) => stale_note = Some(format!("Showing the cached history: {}", e.message)),
        }
        let deployments = self
            .store
            .query_deployments(
                profile_id,
                &DeploymentFilter {
                    service: Some(service.to_owned()),
                    environment: Some(environment),
                    limit: Some(200),
                    ..Default::default()
                },
            )
            .await?;
        let archive: HashMap<String, ArchivedBundle> = self
            .archived_bundles(profile_id)
            .await?
            .into_iter()
            .map(|b| (b.deployment_id.clone(), b))
            .collect();
        let records: HashMap<String, BundleRecord> = self
            .store
            .bundles()
            .await?
            .into_iter()
            .map(|b| (b.sha256.clone(), b))
            .collect();
        let current_id = deployments
            .iter()
            .find(|d| d.status == DeploymentStatus::Deployed)
            .map(|d| d.id.clone());
        let pin = self.store.pin(profile_id, service, environment).await?;
        let rows = deployments
            .into_iter()
            .map(|d| {
                let current = current_id.as_deref() == Some(d.id.as_str());
                let bundle = archive.get(&d.id).cloned();
                let record = bundle.as_ref().and_then(|b| records.get(&b.sha256));
                let why_not = why_not(&d, current, bundle.as_ref(), record);
                let fetchable =
                    bundle.is_none() && super::fetch::why_not_fetchable(&d, current).is_none();
                VersionRow {
                    fetchable,
                    pinned: pin.as_ref().is_some_and(|p| p.deployment_id == d.id),
                    restorable: why_not.is_none(),
                    why_not,
                    current,
                    bundle,
                    deployment: d,
                }
            })
            .collect();
        Ok(VersionList {
            service: service.to_owned(),
            environment,
            rows,
            pin,
            stale_note,
        })
    }

    /// Every pin of a profile (service/environment held at a version after a rollback).
    pub async fn deploy_pins(&self, profile_id: &str) -> Result<Vec<DeployPin>, AppError> {
        self.for_profile(profile_id).await?;
        self.store.pins(Some(profile_id)).await
    }

    /// What the one-step rollback of `service` in `environment` would do.
    pub async fn rollback_plan(
        &self,
        profile_id: &str,
        service: &str,
        environment: Environment,
    ) -> Result<RollbackPlan, AppError> {
        let profile = self.for_profile(profile_id).await?;
        self.rollback_plan_for(&profile, service, environment).await
    }

    async fn rollback_plan_for(
        &self,
        profile: &ProfileContext<'_>,
        service: &str,
        environment: Environment,
    ) -> Result<RollbackPlan, AppError> {
        let api = profile.deploy_api()?;
        let list = api
            .list(&DeploymentQuery {
                service: Some(service.to_owned()),
                environment: Some(environment),
                limit: Some(100),
            })
            .await?;
        self.store
            .upsert_deployments(&profile.id, &list.deployments, self.now_ms())
            .await?;
        let mut deployed = list
            .deployments
            .into_iter()
            .filter(|d| d.status == DeploymentStatus::Deployed);
        let current = deployed.next();
        let becomes_current = deployed.next();
        let previous_bundle_archived = match &becomes_current {
            Some(d) => self
                .archived_bundle(&profile.id, &d.id)
                .await?
                .is_some_and(|b| b.available),
            None => false,
        };
        let confirmation = confirmation_for(profile, environment, service, false);
        let blocked_reason = if confirmation.kind == super::ConfirmationKind::Blocked {
            Some(confirmation.reason.clone())
        } else if becomes_current.is_none() {
            Some(format!(
                "{service} in {environment} has fewer than two deployed versions: there is nothing to roll back to."
            ))
        } else {
            None
        };
        let mut warnings = vec![
            "The Deploy API's rollback only marks the newest deployment rolled_back; it does not upload the previous script again, so the namespace keeps serving the current script.".to_owned(),
        ];
        warnings.push(if previous_bundle_archived {
            "The previous version's bundle is archived: its \"Restore…\" button in the versions table uploads it again for a real rollback.".to_owned()
        } else {
            "The previous version's bundle is not archived, so it cannot be uploaded again from here.".to_owned()
        });
        let label = |d: &Option<Deployment>| {
            d.as_ref()
                .map(|d| summary_of(d).version_label.unwrap_or_default())
                .unwrap_or_default()
        };
        let action = format!(
            "Roll back {service} in {environment} from {} to {}",
            label(&current),
            label(&becomes_current)
        );
        let basis = PlanBasis::of(current.as_ref().map(summary_of).as_ref());
        Ok(RollbackPlan {
            basis,
            profile_id: profile.id.clone(),
            service: service.to_owned(),
            environment,
            current,
            becomes_current,
            previous_bundle_archived,
            blocked_reason,
            warnings,
            confirmation,
            action,
        })
    }

    /// The runbook's one-step rollback (`POST /rollback`), then health verification; pins the
    /// service/environment to the version that became current.
    pub async fn rollback(
        &self,
        request: RollbackRequest,
        on_event: impl Fn(DeployEvent) + Send + Sync,
    ) -> Result<RollbackOutcome, AppError> {
        let run = self.begin_run(request.run_id.as_deref(), &on_event)?;
        let (run_id, progress) = (&run.run_id, &run.progress);
        let params = serde_json::json!({
            "runId": run_id, "service": request.service, "environment": request.environment,
            "reason": request.reason,
        });
        let target = format!("{}/{}", request.service, request.environment);
        self.audited(
            &request.profile_id,
            "deploy.rollback",
            &target,
            params,
            async {
                let reason = require_reason(&request.reason)?;
                let profile = self.for_profile(&request.profile_id).await?;
                let (service, environment) = (request.service.as_str(), request.environment);
                progress.running(DeployStepId::Preflight);
                let writable = check_writable(&profile);
                progress.preflight(std::slice::from_ref(&writable));
                if let Some(e) = writable.error {
                    progress.failed(DeployStepId::Preflight, &e);
                    return Err(e);
                }
                let _held = self
                    .hold_target(
                        &profile,
                        crate::target_lock::LockTarget::Service {
                            service,
                            environment,
                        },
                        "a rollback",
                        run_id,
                    )
                    .inspect_err(|e| progress.failed(DeployStepId::Preflight, e))?;
                progress.passed(DeployStepId::Preflight, "the profile allows changes");
                let plan = progress
                    .run(
                        DeployStepId::Plan,
                        unless_cancelled(run.token(), async {
                            let plan = self
                                .rollback_plan_for(&profile, service, environment)
                                .await?;
                            if let Some(why) = &plan.blocked_reason {
                                let code =
                                    if plan.confirmation.kind == super::ConfirmationKind::Blocked {
                                        ErrorCode::InsufficientPermissions
                                    } else {
                                        ErrorCode::NoPreviousDeployment
                                    };
                                return Err(AppError::new(code, why.clone()));
                            }
                            check_confirmation(
                                &plan.confirmation,
                                &request.confirmation,
                                "this rollback",
                            )?;
                            check_basis(
                                request.confirmation.basis.as_ref(),
                                &plan.basis,
                                "this rollback",
                            )?;
                            let d = plan.action.clone();
                            Ok((plan, d))
                        }),
                    )
                    .await?;
                if let Err(e) = self.deploy_runs.begin_upload(run_id) {
                    progress.failed(DeployStepId::Upload, &e);
                    return Err(e);
                }
                let api = profile.deploy_api()?;
                let deployment = progress
                    .run(DeployStepId::Upload, async {
                        let r = api.rollback(service, environment).await?;
                        let d = format!("{} is current again", r.deployment.id);
                        Ok((r.deployment, d))
                    })
                    .await?;
                // Refresh the cache so the rolled-back record shows its new status.
                self.refresh_window(&profile, service, environment).await;
                let now = self.now_ms();
                let pin = DeployPin {
                    profile_id: profile.id.clone(),
                    service: service.to_owned(),
                    environment,
                    deployment_id: deployment.id.clone(),
                    version_label: summary_of(&deployment).version_label.unwrap_or_default(),
                    reason,
                    actor: crate::actor(),
                    pinned_ms: now,
                };
                self.store.set_pin(&pin).await?;
                let verification = self
                    .verify(&profile, service, environment, None, progress)
                    .await;
                verification_result(&deployment, &verification)?;
                Ok(RollbackOutcome {
                    run_id: run_id.clone(),
                    rolled_back_id: plan.current.map(|d| d.id),
                    deployment,
                    verification,
                    pin,
                })
            },
        )
        .await
    }

    /// The plan of rolling back to an archived version (re-deploying its bundle).
    pub async fn restore_plan(
        &self,
        profile_id: &str,
        deployment_id: &str,
    ) -> Result<DeployPlan, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let ex = self.restore_execution(&profile, deployment_id, "").await?;
        let (_, current) = self
            .current_version(&profile, &ex.service, ex.environment, true)
            .await?;
        self.build_plan(
            &profile,
            &ex.service,
            ex.environment,
            ex.kind,
            ex.next.clone(),
            current,
            ex.warnings.clone(),
        )
        .await
    }

    /// Roll back to an archived version: deploy its stored bundle again with its stored bindings
    /// through `POST /deploy` (metadata marks it a rollback to that deployment), verify, and pin
    /// the service/environment to it.
    pub async fn restore_version(
        &self,
        request: RestoreRequest,
        on_event: impl Fn(DeployEvent) + Send + Sync,
    ) -> Result<DeployOutcome, AppError> {
        let run = self.begin_run(request.run_id.as_deref(), &on_event)?;
        let (run_id, progress) = (&run.run_id, &run.progress);
        let params = serde_json::json!({
            "runId": run_id, "deploymentId": request.deployment_id, "reason": request.reason,
        });
        self.audited(
            &request.profile_id,
            "deploy.restore",
            &request.deployment_id,
            params,
            async {
                let reason = require_reason(&request.reason)?;
                let profile = self.for_profile(&request.profile_id).await?;
                let ex = progress
                    .run(DeployStepId::Inspect, async {
                        let ex = self
                            .restore_execution(&profile, &request.deployment_id, &reason)
                            .await?;
                        let d = format!(
                            "archived bundle of {} ({} bytes)",
                            request.deployment_id,
                            ex.bytes.len()
                        );
                        Ok((ex, d))
                    })
                    .await?;
                progress.skipped(
                    DeployStepId::Test,
                    "an archived bundle is deployed as it was",
                );
                progress.skipped(
                    DeployStepId::Build,
                    "an archived bundle is deployed as it was",
                );
                let mut uploaded = false;
                self.execute(
                    &ex,
                    &request.confirmation,
                    progress,
                    run.token(),
                    &mut uploaded,
                )
                .await
            },
        )
        .await
    }

    /// The execution that re-deploys the archived bundle of `deployment_id`.
    async fn restore_execution<'a>(
        &self,
        profile: &ProfileContext<'a>,
        deployment_id: &str,
        reason: &str,
    ) -> Result<Execution<'a>, AppError> {
        let u = self.store.bundle_use(&profile.id, deployment_id).await?.ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                format!(
                    "{deployment_id} has no archived bundle: it was deployed outside Switchyard, or before the archive existed, so it cannot be restored."
                ),
            )
        })?;
        let bytes = self.read_archived(&u.sha256).await?;
        let original: Option<Deployment> = self
            .store
            .query_deployments(
                &profile.id,
                &DeploymentFilter {
                    service: Some(u.service.clone()),
                    environment: Some(u.environment),
                    limit: Some(1000),
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .find(|d| d.id == deployment_id);
        if original
            .as_ref()
            .is_some_and(|d| d.status == DeploymentStatus::Failed)
        {
            return Err(AppError::invalid_input(format!(
                "{deployment_id} failed, so its bundle never ran; choose a version that was deployed."
            )));
        }
        let stored = |k: &str| {
            u.metadata
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .unwrap_or_default()
        };
        let label = original
            .as_ref()
            .and_then(|d| d.version_tag.clone())
            .unwrap_or_else(|| super::version_label(Some(&stored("version")), &stored("commit")));
        let metadata = switchyard_core::DeploymentMetadata {
            commit: stored("commit"),
            branch: stored("branch"),
            author: stored("author"),
            version: Some(format!("{label} (rollback to {deployment_id})")),
        };
        let bindings: BTreeMap<String, String> = bindings_of(&u.bindings);
        let mut notes = serde_json::Map::new();
        notes.insert("rollbackTo".into(), deployment_id.into());
        notes.insert("reason".into(), reason.into());
        let next = super::VersionSummary {
            deployment_id: None,
            version_label: Some(label),
            commit: Some(metadata.commit.clone()),
            branch: Some(metadata.branch.clone()),
            author: Some(metadata.author.clone()),
            timestamp: None,
            size_bytes: Some(bytes.len() as u64),
            sha256: Some(u.sha256.clone()),
            bindings: Some(bindings.clone()),
        };
        Ok(Execution {
            profile: profile.clone(),
            service: u.service.clone(),
            environment: u.environment,
            bytes,
            metadata,
            bindings,
            kind: BundleUseKind::Rollback,
            reason: Some(reason.to_owned()),
            notes,
            next,
            warnings: vec![format!(
                "This re-deploys the archived bundle of {deployment_id}; afterwards {} in {} is pinned to it until someone deploys over it.",
                u.service, u.environment
            )],
        })
    }

    /// Preflight for a direct deploy (exposed to the direct module).
    pub(crate) async fn direct_preflight(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        service: &str,
        environment: Environment,
        size: u64,
        progress: &Progress<'_>,
    ) -> Result<(), AppError> {
        progress.running(DeployStepId::Preflight);
        let checks = self
            .preflight(
                profile,
                &PreflightInput {
                    service,
                    environment,
                    size_bytes: size,
                    metadata: None,
                    direct: true,
                },
            )
            .await;
        report_preflight(progress, &checks)
    }
}
