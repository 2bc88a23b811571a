//! Restore beyond this machine: a version deployed by a colleague, CI or wrangler has no bundle
//! in this machine's archive. Its code is fetched from the platform (the worker's content and
//! bindings in the namespace), archived with where it came from, and is then comparable,
//! promotable and (once it is not the current one) restorable like any other.
//!
//! The namespace keeps only what each worker runs now: an unversioned worker's older code was
//! overwritten, so only the current deployment (or a versioned deploy's own
//! `<service>-<version>` worker) can be fetched, and the app says so for the others.

use std::collections::BTreeMap;

use switchyard_core::{AppError, Deployment, DeploymentStatus, Environment, ErrorCode};
use switchyard_store::{BundleUse, BundleUseKind, DeploymentFilter};

use super::{rfc3339, ArchivedBundle};
use crate::Ops;

/// The worker a deployment's code lives in, as the Deploy API names it.
pub(crate) fn worker_of(d: &Deployment) -> String {
    match &d.version {
        Some(v) => format!("{}-{v}", d.service),
        None => d.service.clone(),
    }
}

/// Whether the platform still holds `d`'s code: the current deployment of its worker, or a
/// versioned deploy (its own worker). None when it can be fetched, else why not.
pub(crate) fn why_not_fetchable(d: &Deployment, current: bool) -> Option<String> {
    if d.status == DeploymentStatus::Failed {
        return Some("This deployment failed, so its code never ran.".into());
    }
    if current || d.version.is_some() {
        return None;
    }
    Some(format!(
        "The namespace keeps only the code {} runs now; this older version was overwritten there, so it cannot be fetched.",
        d.service
    ))
}

impl Ops {
    /// Fetch the code of `deployment_id` (a deployment of `service` in `environment`) from the
    /// platform and archive it with its provenance. Refused, saying why, when the platform no
    /// longer holds that code.
    pub async fn fetch_platform_bundle(
        &self,
        profile_id: &str,
        service: &str,
        environment: Environment,
        deployment_id: &str,
    ) -> Result<ArchivedBundle, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let params = serde_json::json!({ "service": service, "environment": environment, "deployment": deployment_id });
        let target = format!("{service}/{environment}");
        self.audited(profile_id, "deploy.fetch_bundle", &target, params, async {
            let rows = self
                .store
                .query_deployments(
                    profile_id,
                    &DeploymentFilter {
                        service: Some(service.to_owned()),
                        environment: Some(environment),
                        limit: Some(500),
                        ..Default::default()
                    },
                )
                .await?;
            let current_id = rows
                .iter()
                .find(|d| d.status == DeploymentStatus::Deployed)
                .map(|d| d.id.clone());
            let d = rows
                .into_iter()
                .find(|d| d.id == deployment_id)
                .ok_or_else(|| {
                    AppError::new(
                        ErrorCode::NotFound,
                        format!("There is no deployment {deployment_id} of {service} in {environment} in the history: sync the history and try again."),
                    )
                })?;
            if let Some(why) = why_not_fetchable(&d, current_id.as_deref() == Some(d.id.as_str())) {
                return Err(AppError::new(ErrorCode::Conflict, why));
            }
            let namespace = profile.dispatch_namespace(environment);
            let worker = worker_of(&d);
            let api = profile.cloudflare()?;
            let bytes = api.script_content(&namespace, &worker).await?;
            let bindings: BTreeMap<String, String> = api
                .script_bindings(&namespace, &worker)
                .await
                .map(|list| {
                    list.iter()
                        .filter(|b| b.get("type").and_then(|t| t.as_str()) == Some("service"))
                        .filter_map(|b| {
                            Some((
                                b.get("name")?.as_str()?.to_owned(),
                                b.get("service")?.as_str()?.to_owned(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let record = self
                .archive_bundle(&super::HashedBytes::new(bytes.to_vec()))
                .await?;
            let now = self.now_ms();
            self.store
                .record_bundle_use(&BundleUse {
                    sha256: record.sha256.clone(),
                    profile_id: profile_id.to_owned(),
                    deployment_id: d.id.clone(),
                    service: service.to_owned(),
                    environment,
                    bindings: serde_json::to_value(&bindings).unwrap_or_default(),
                    metadata: serde_json::json!({
                        "commit": d.metadata.commit,
                        "branch": d.metadata.branch,
                        "author": d.metadata.author,
                        "version": d.metadata.version,
                        "fetchedFrom": format!("{namespace}/{worker}"),
                        "fetchedAt": rfc3339(now),
                    }),
                    used_ms: now,
                    kind: BundleUseKind::Deploy,
                })
                .await?;
            self.archived_bundle(profile_id, &d.id).await?.ok_or_else(|| {
                AppError::internal("Archiving the fetched bundle")
            })
        })
        .await
    }
}
