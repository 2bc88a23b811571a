//! The plan of a rollout: the bundle, the single stable version it starts from, the steps and
//! gates, and the confirmation it needs.

use std::path::Path;

use switchyard_clients::WorkerVersionsApi;
use switchyard_core::{AppError, ErrorCode};

use super::short;
use super::types::{RolloutPlan, RolloutRequest, StableVersion};
use crate::deploy::plan::confirmation_for;
use crate::deploy::{source, HashedBytes, PlanBasis};
use crate::Ops;

impl Ops {
    /// The single version serving 100 % now, and the active deployment's id.
    pub(super) async fn stable_version(
        &self,
        versions: &WorkerVersionsApi,
        namespace: &str,
        worker: &str,
    ) -> Result<(String, StableVersion), AppError> {
        let deployments = versions.list_deployments(namespace, worker).await?;
        let Some(active) = deployments.first() else {
            return Err(AppError::new(
                ErrorCode::NotFound,
                format!("{worker} in {namespace} has no deployment: deploy it once before a staged rollout."),
            ));
        };
        if active.versions.len() != 1 {
            let split: Vec<String> = active
                .versions
                .iter()
                .map(|v| format!("{} at {} %", short(&v.version_id), v.percentage))
                .collect();
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!(
                    "{worker} in {namespace} already splits its traffic ({}): finish or roll back that rollout first.",
                    split.join(", ")
                ),
            ));
        }
        let id = active.versions[0].version_id.clone();
        let v = versions.get_version(namespace, worker, &id).await?;
        Ok((
            active.id.clone(),
            StableVersion {
                version_id: id,
                number: v.number,
                created_on: v.metadata.created_on.clone(),
                message: v.message().map(str::to_owned),
            },
        ))
    }

    /// The plan of a staged rollout: the bundle, the stable version it starts from, the steps
    /// and gates, and the confirmation it needs (as a deploy to that environment would).
    pub async fn rollout_plan(&self, req: &RolloutRequest) -> Result<RolloutPlan, AppError> {
        req.settings.check()?;
        let profile = self.for_profile(&req.profile_id).await?;
        let limit = self.deploy_settings().await?.bundle_size_limit_bytes;
        let (bytes, size) = source::read_bundle(Path::new(&req.bundle_path), limit).await?;
        let bytes = HashedBytes::new(bytes);
        // Archived now so the plan's diff can show it; the archive is content-addressed.
        self.archive_bundle(&bytes).await?;
        let namespace = profile.dispatch_namespace(req.environment);
        let versions = profile.versions()?;
        let (active, stable) = self
            .stable_version(&versions, &namespace, &req.service)
            .await?;
        let mut warnings = Vec::new();
        if req.settings.probe_per_second == 0 {
            warnings.push(format!(
                "No probe traffic: the error-rate gate judges only real requests. A step with fewer than {} requests of the new version pauses and asks you.",
                req.settings.min_requests
            ));
        }
        let confirmation = confirmation_for(&profile, req.environment, &req.service, false);
        let steps: Vec<String> = req
            .settings
            .steps
            .iter()
            .map(|p| format!("{p} %"))
            .collect();
        Ok(RolloutPlan {
            profile_id: profile.id.clone(),
            service: req.service.clone(),
            environment: req.environment,
            namespace,
            bundle_sha256: bytes.sha256().to_owned(),
            bundle_size: size,
            basis: PlanBasis {
                current_deployment_id: Some(active),
                current_label: Some(format!("version {}", short(&stable.version_id))),
            },
            stable,
            settings: req.settings.clone(),
            warnings,
            confirmation,
            action: format!(
                "Roll out {} in {} in steps ({})",
                req.service,
                req.environment,
                steps.join(" → ")
            ),
        })
    }
}
