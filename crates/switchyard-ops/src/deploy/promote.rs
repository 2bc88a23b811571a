//! Promote: deploy to one environment exactly the bundle that runs in another (staging →
//! production): the same archived bytes (same sha256), the same service bindings (services are
//! named alike in every environment), the metadata kept and "promoted from" recorded; no
//! rebuild. Warned when the source is failing health or younger than the soak time; refused
//! when its bundle is not in the archive.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use switchyard_clients::{HealthProber, ProbeState, ProbeTarget};
use switchyard_core::{AppError, Deployment, Environment, ErrorCode};
use switchyard_store::BundleUseKind;

use super::archive::bindings_of;
use super::events::{DeployEvent, DeployStepId};
use super::plan::{Confirmation, DeployPlan, VersionSummary};
use super::rfc3339;
use super::run::{health_url, DeployOutcome, Execution};
use crate::context::ProfileContext;
use crate::Ops;

/// A promote to perform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PromoteRequest {
    pub profile_id: String,
    pub service: String,
    /// Where the proven version runs (usually staging).
    pub from: Environment,
    /// Where it goes (usually production).
    pub to: Environment,
    #[serde(default)]
    pub confirmation: Confirmation,
    #[serde(default)]
    pub run_id: Option<String>,
}

impl Ops {
    /// What promoting `service` from `from` to `to` would do: the plan (what runs in `to` now
    /// against the exact bundle of `from`), with warnings about the source's health and age.
    pub async fn promote_plan(
        &self,
        profile_id: &str,
        service: &str,
        from: Environment,
        to: Environment,
    ) -> Result<DeployPlan, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let ex = self.promote_execution(&profile, service, from, to).await?;
        let (_, current) = self.current_version(&profile, service, to, true).await?;
        self.build_plan(
            &profile,
            service,
            to,
            ex.kind,
            ex.next.clone(),
            current,
            ex.warnings.clone(),
        )
        .await
    }

    /// Promote: deploy to `to` the archived bundle of what runs in `from`, through the Deploy
    /// API, with the same preflight, plan check, confirmation, journal and verification as any
    /// deploy.
    pub async fn promote(
        &self,
        request: PromoteRequest,
        on_event: impl Fn(DeployEvent) + Send + Sync,
    ) -> Result<DeployOutcome, AppError> {
        let run = self.begin_run(request.run_id.as_deref(), &on_event)?;
        let (run_id, progress) = (&run.run_id, &run.progress);
        let params = serde_json::json!({
            "runId": run_id, "service": request.service, "from": request.from, "to": request.to,
        });
        let target = format!("{}/{}", request.service, request.to);
        self.audited(
            &request.profile_id,
            "deploy.promote",
            &target,
            params,
            async {
                if request.from == request.to {
                    return Err(AppError::invalid_input(format!(
                        "Promote from one environment to another: {} to {} is the same one.",
                        request.from, request.to
                    )));
                }
                let profile = self.for_profile(&request.profile_id).await?;
                let ex = progress
                    .run(DeployStepId::Inspect, async {
                        let ex = self
                            .promote_execution(&profile, &request.service, request.from, request.to)
                            .await?;
                        let d = format!(
                            "the bundle running in {} ({} bytes, sha256 {}…)",
                            request.from,
                            ex.bytes.len(),
                            ex.next
                                .sha256
                                .as_deref()
                                .and_then(|h| h.get(..12))
                                .unwrap_or_default()
                        );
                        Ok((ex, d))
                    })
                    .await?;
                progress.skipped(DeployStepId::Test, "promoted as it runs: no rebuild");
                progress.skipped(DeployStepId::Build, "promoted as it runs: no rebuild");
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

    async fn promote_execution<'a>(
        &self,
        profile: &ProfileContext<'a>,
        service: &str,
        from: Environment,
        to: Environment,
    ) -> Result<Execution<'a>, AppError> {
        let (source, _) = self.current_version(profile, service, from, true).await?;
        let source: Deployment = source.ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                format!(
                    "Nothing of {service} is deployed in {from}, so there is nothing to promote."
                ),
            )
        })?;
        let u = self
            .store
            .bundle_use(&profile.id, &source.id)
            .await?
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NotFound,
                    format!(
                        "{} runs {service} in {from}, but its bundle is not in Switchyard's archive (it was deployed outside Switchyard, or before the archive existed), so it cannot be promoted byte for byte. Deploy it to {from} through Switchyard first, or deploy to {to} from its folder.",
                        source.id
                    ),
                )
            })?;
        let bytes = self.read_archived(&u.sha256).await.map_err(|e| {
            AppError::new(
                ErrorCode::NotFound,
                format!(
                    "The bundle of {} was removed from the archive ({}), so it cannot be promoted byte for byte. Deploy to {to} from its folder.",
                    source.id, e.message
                ),
            )
        })?;
        let settings = self.deploy_settings().await?;
        let mut warnings = Vec::new();
        // Younger than the soak time?
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&source.timestamp) {
            let age_min = (self.now_ms() - at.timestamp_millis()) / 60_000;
            if age_min < i64::from(settings.promote_soak_minutes) {
                warnings.push(format!(
                    "{} has run in {from} for {} min only (deployed {}); the soak time is {} min (Settings → Deploys). Promote now only if you have seen enough.",
                    source.version_tag.as_deref().unwrap_or(&source.id),
                    age_min.max(0),
                    rfc3339(at.timestamp_millis()),
                    settings.promote_soak_minutes
                ));
            }
        }
        // Failing health where it runs?
        let url = health_url(profile, service, from);
        let probe = HealthProber::new(self.http.clone(), std::time::Duration::from_secs(5))
            .probe(&ProbeTarget {
                name: service.to_owned(),
                url: url.clone(),
                key: None,
            })
            .await;
        if probe.state != ProbeState::Up {
            warnings.push(format!(
                "{service} is failing its health check in {from} right now ({url}: {}). Promoting a version that fails where it runs is rarely what you want.",
                probe.detail.as_deref().unwrap_or("not up")
            ));
        }
        let mut metadata = source.metadata.clone();
        let label = source
            .version_tag
            .clone()
            .unwrap_or_else(|| super::version_label(metadata.version.as_deref(), &metadata.commit));
        metadata.version = Some(label.clone());
        let bindings: BTreeMap<String, String> = bindings_of(&u.bindings);
        let mut notes = serde_json::Map::new();
        notes.insert(
            "promotedFrom".into(),
            serde_json::json!({ "environment": from, "deploymentId": source.id }),
        );
        let next = VersionSummary {
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
        warnings.insert(
            0,
            format!(
                "Promoted from {from}: exactly the bundle {} runs there (sha256 {}), with its bindings; nothing is rebuilt.",
                source.id, u.sha256
            ),
        );
        Ok(Execution {
            profile: profile.clone(),
            service: service.to_owned(),
            environment: to,
            bytes,
            metadata,
            bindings,
            kind: BundleUseKind::Deploy,
            reason: None,
            notes,
            next,
            warnings,
        })
    }
}
