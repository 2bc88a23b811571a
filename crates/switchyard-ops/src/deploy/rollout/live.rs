//! History knows versions: which versions serve each service of an environment now, and what
//! share each takes (the active deployment of the versions API), beside the Deploy API's history.

use serde::{Deserialize, Serialize};

use switchyard_core::{AppError, Environment, ErrorCode};

use crate::Ops;

/// One version in an active deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LiveVersion {
    pub version_id: String,
    pub percentage: f64,
    /// The version's message (e.g. "Staged rollout … by …"), when it has one.
    pub message: Option<String>,
}

/// What serves a service now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LiveSplit {
    pub service: String,
    /// Largest share first; empty when `note` says why nothing is known.
    pub versions: Vec<LiveVersion>,
    /// When the active deployment was made (RFC 3339).
    pub since: Option<String>,
    /// Why the versions are unknown (no worker, no token, the API failed).
    pub note: Option<String>,
}

impl Ops {
    /// For each service of the profile: the versions serving it in `environment` and their
    /// shares. A service the platform cannot answer for says why; the others still show.
    pub async fn live_splits(
        &self,
        profile_id: &str,
        environment: Environment,
    ) -> Result<Vec<LiveSplit>, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let versions = profile.versions()?;
        let namespace = profile.dispatch_namespace(environment);
        let mut out = Vec::new();
        for service in &profile.services {
            let mut split = LiveSplit {
                service: service.clone(),
                versions: Vec::new(),
                since: None,
                note: None,
            };
            match versions.list_deployments(&namespace, service).await {
                Ok(list) => match list.first() {
                    Some(active) => {
                        split.since = active.created_on.clone();
                        for v in &active.versions {
                            let message = versions
                                .get_version(&namespace, service, &v.version_id)
                                .await
                                .ok()
                                .and_then(|x| x.message().map(str::to_owned));
                            split.versions.push(LiveVersion {
                                version_id: v.version_id.clone(),
                                percentage: v.percentage,
                                message,
                            });
                        }
                        split
                            .versions
                            .sort_by(|a, b| b.percentage.total_cmp(&a.percentage));
                    }
                    None => split.note = Some("No deployment of this worker yet.".into()),
                },
                Err(e) if e.code == ErrorCode::NotFound => {
                    split.note = Some(format!("No worker {service} in {namespace}."));
                }
                Err(e) => split.note = Some(e.message),
            }
            out.push(split);
        }
        Ok(out)
    }
}
