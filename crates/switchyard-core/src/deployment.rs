//! Deployments as the Deploy API records them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::names::Environment;

/// The status the Deploy API gives a deployment record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    Deployed,
    Failed,
    RolledBack,
}

impl DeploymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Deployed => "deployed",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::RolledBack => "rolled_back",
        }
    }
}

impl fmt::Display for DeploymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeploymentStatus {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "deployed" => Ok(DeploymentStatus::Deployed),
            "failed" => Ok(DeploymentStatus::Failed),
            "rolled_back" => Ok(DeploymentStatus::RolledBack),
            other => Err(AppError::invalid_input(format!(
                "\"{other}\" is not a deployment status (deployed, failed or rolled_back)."
            ))),
        }
    }
}

/// Git and release metadata sent with a deploy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeploymentMetadata {
    pub commit: String,
    pub branch: String,
    pub author: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One deployment record, as `GET /deployments` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// `deploy_<epoch-ms>_<8 hex>`.
    pub id: String,
    pub service: String,
    pub environment: Environment,
    #[serde(default)]
    pub tier: Option<String>,
    /// Set for versioned deploys (worker `<service>-<version>`).
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    pub status: DeploymentStatus,
    /// RFC 3339.
    pub timestamp: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub version_tag: Option<String>,
    #[serde(default)]
    pub metadata: DeploymentMetadata,
}

impl Deployment {
    /// Milliseconds since the epoch encoded in the id (`deploy_<ms>_<hex>`), if it has that form.
    pub fn id_millis(&self) -> Option<i64> {
        self.id
            .strip_prefix("deploy_")?
            .split('_')
            .next()?
            .parse()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_deployment_object() {
        let json = r#"{ "id": "deploy_1696348800000_a1b2c3d4", "service": "gateway",
          "environment": "production", "tier": null, "version": null,
          "namespace": "dotdo-production", "namespaceMode": "environment", "status": "rolled_back",
          "timestamp": "2023-10-03T16:00:00.000Z", "url": "https://gateway.do",
          "versionTag": "v1.0.0",
          "metadata": { "commit": "abc1234", "branch": "main", "author": "a@b.c", "version": "v1.0.0" } }"#;
        let d: Deployment = serde_json::from_str(json).unwrap();
        assert_eq!(d.status, DeploymentStatus::RolledBack);
        assert_eq!(d.environment, Environment::Production);
        assert_eq!(d.metadata.version.as_deref(), Some("v1.0.0"));
        assert_eq!(d.id_millis(), Some(1_696_348_800_000));
    }

    #[test]
    fn status_round_trips_through_text() {
        for s in [
            DeploymentStatus::Deployed,
            DeploymentStatus::Failed,
            DeploymentStatus::RolledBack,
        ] {
            assert_eq!(s.as_str().parse::<DeploymentStatus>().unwrap(), s);
        }
        assert!("ok".parse::<DeploymentStatus>().is_err());
    }
}

/// The first seven characters of a commit, as `git log --oneline` shows it. Counted in
/// characters, not bytes: a commit is whatever text the platform holds (a tag set by another
/// tool may be anything), and slicing its bytes would panic on a multi-byte character.
pub fn short_commit(commit: &str) -> String {
    commit.chars().take(7).collect()
}

#[cfg(test)]
mod short_commit_tests {
    #[test]
    fn short_commit_counts_characters() {
        assert_eq!(super::short_commit("0123456789abcdef"), "0123456");
        assert_eq!(super::short_commit("äöüßéèêë"), "äöüßéèê");
        assert_eq!(super::short_commit("abc"), "abc");
        assert_eq!(super::short_commit(""), "");
    }
}
