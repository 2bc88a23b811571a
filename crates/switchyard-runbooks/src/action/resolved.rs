//! An action with every value concrete and checked: what the engine dispatches.

use std::fmt::Write as _;

use serde::Serialize;
use switchyard_core::{DeploymentStatus, Environment};

use super::HealthTarget;

/// An action with every value concrete and checked: what the engine dispatches. Optional
/// environment and namespace default to the profile's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ResolvedStepAction {
    Health {
        target: HealthTarget,
        service: Option<String>,
    },
    Logs {
        service: String,
        seconds: u32,
    },
    Deployments {
        service: Option<String>,
        environment: Option<Environment>,
        limit: u32,
        status: Option<DeploymentStatus>,
    },
    Rollback {
        service: String,
        environment: Option<Environment>,
    },
    Redeploy {
        service: String,
        version: String,
        environment: Option<Environment>,
    },
    NamespaceList,
    NamespaceGet {
        namespace: Option<String>,
    },
    NamespaceCreate {
        namespace: Option<String>,
    },
    NamespaceScripts {
        namespace: Option<String>,
        service: Option<String>,
    },
    ValidateKey,
    Permissions {
        user: Option<String>,
        require: Option<String>,
    },
    DirectDeploy {
        service: String,
        version: String,
        namespace: Option<String>,
        environment: Option<Environment>,
    },
    Command {
        folder: String,
        command: String,
        #[serde(rename = "timeoutSecs")]
        timeout_secs: u32,
    },
    Note {
        text: String,
    },
}

impl ResolvedStepAction {
    pub fn name(&self) -> &'static str {
        match self {
            ResolvedStepAction::Health { .. } => "health",
            ResolvedStepAction::Logs { .. } => "logs",
            ResolvedStepAction::Deployments { .. } => "deployments",
            ResolvedStepAction::Rollback { .. } => "rollback",
            ResolvedStepAction::Redeploy { .. } => "redeploy",
            ResolvedStepAction::NamespaceList => "namespace-list",
            ResolvedStepAction::NamespaceGet { .. } => "namespace-get",
            ResolvedStepAction::NamespaceCreate { .. } => "namespace-create",
            ResolvedStepAction::NamespaceScripts { .. } => "namespace-scripts",
            ResolvedStepAction::ValidateKey => "validate-key",
            ResolvedStepAction::Permissions { .. } => "permissions",
            ResolvedStepAction::DirectDeploy { .. } => "direct-deploy",
            ResolvedStepAction::Command { .. } => "command",
            ResolvedStepAction::Note { .. } => "note",
        }
    }

    /// The parameters as `(name, value)` pairs, for plans and the incident report.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                out.push((k.to_owned(), v));
            }
        };
        match self {
            ResolvedStepAction::Health { target, service } => {
                put("target", Some(target.as_str().into()));
                put("service", service.clone());
            }
            ResolvedStepAction::Logs { service, seconds } => {
                put("service", Some(service.clone()));
                put("seconds", Some(seconds.to_string()));
            }
            ResolvedStepAction::Deployments {
                service,
                environment,
                limit,
                status,
            } => {
                put("service", service.clone());
                put("environment", environment.map(|e| e.to_string()));
                put("limit", Some(limit.to_string()));
                put("status", status.map(|s| s.to_string()));
            }
            ResolvedStepAction::Rollback {
                service,
                environment,
            } => {
                put("service", Some(service.clone()));
                put("environment", environment.map(|e| e.to_string()));
            }
            ResolvedStepAction::Redeploy {
                service,
                version,
                environment,
            } => {
                put("service", Some(service.clone()));
                put("version", Some(version.clone()));
                put("environment", environment.map(|e| e.to_string()));
            }
            ResolvedStepAction::NamespaceList | ResolvedStepAction::ValidateKey => {}
            ResolvedStepAction::NamespaceGet { namespace }
            | ResolvedStepAction::NamespaceCreate { namespace } => {
                put("namespace", namespace.clone())
            }
            ResolvedStepAction::NamespaceScripts { namespace, service } => {
                put("namespace", namespace.clone());
                put("service", service.clone());
            }
            ResolvedStepAction::Permissions { user, require } => {
                put("user", user.clone());
                put("require", require.clone());
            }
            ResolvedStepAction::DirectDeploy {
                service,
                version,
                namespace,
                environment,
            } => {
                put("service", Some(service.clone()));
                put("version", Some(version.clone()));
                put("namespace", namespace.clone());
                put("environment", environment.map(|e| e.to_string()));
            }
            ResolvedStepAction::Command {
                folder,
                command,
                timeout_secs,
            } => {
                put("folder", Some(folder.clone()));
                put("command", Some(command.clone()));
                put("timeoutSecs", Some(timeout_secs.to_string()));
            }
            ResolvedStepAction::Note { text } => put("text", Some(text.clone())),
        }
        out
    }

    /// `rollback service=gateway environment=production`.
    pub fn display(&self) -> String {
        let mut s = self.name().to_owned();
        for (k, v) in self.params() {
            if k == "command" {
                continue;
            }
            if v.contains(char::is_whitespace) {
                let _ = write!(s, " {k}=\"{v}\"");
            } else {
                let _ = write!(s, " {k}={v}");
            }
        }
        s
    }
}
