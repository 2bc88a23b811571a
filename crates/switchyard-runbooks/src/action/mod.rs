//! Typed actions: the ```` ```switchyard <action> key=value… ```` blocks, their parameters and how
//! each is checked when a runbook is loaded and resolved when a step runs.
//!
//! This file holds the actions as a runbook writes them ([`StepAction`]) and their values; the
//! resolved form the engine dispatches is in `resolved`, the `command` action's shell text in
//! `command`, and the parsing of a block's info string in `parse`.

mod command;
mod parse;
mod resolved;

use std::collections::BTreeMap;

use serde::Serialize;
use switchyard_core::{DeploymentStatus, Environment, ServiceName};

use command::{interpolate, placeholders};
pub(crate) use parse::parse_action;
pub use resolved::ResolvedStepAction;

/// Every action name, as written after `switchyard`.
pub const ACTION_NAMES: [&str; 14] = [
    "health",
    "logs",
    "deployments",
    "rollback",
    "redeploy",
    "namespace-list",
    "namespace-get",
    "namespace-create",
    "namespace-scripts",
    "validate-key",
    "permissions",
    "direct-deploy",
    "command",
    "note",
];

/// Longest a `logs` step may capture, in seconds.
pub const MAX_LOGS_SECONDS: u32 = 300;
/// How long a `logs` step captures when its block does not say.
pub const DEFAULT_LOGS_SECONDS: u32 = 20;

/// Longest a `command` may run, in seconds.
pub const MAX_COMMAND_TIMEOUT_SECS: u32 = 3600;
/// How long a `command` may run when its block does not say.
pub const DEFAULT_COMMAND_TIMEOUT_SECS: u32 = 600;

/// What a value names, so the window can offer the right picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ValueKind {
    /// One of the profile's services.
    Service,
    /// production | staging | development.
    Environment,
    /// A dispatch namespace name.
    Namespace,
    /// An archived version of a service (a version tag or a deployment id).
    Version,
    /// A local folder (pick with a folder dialog).
    Folder,
    /// An auth-service user id.
    User,
    /// Free text.
    Text,
}

impl ValueKind {
    /// The kind an input of this name has when its declaration does not say.
    pub fn for_name(name: &str) -> ValueKind {
        ValueKind::parse(name).unwrap_or(ValueKind::Text)
    }

    pub fn parse(word: &str) -> Option<ValueKind> {
        Some(match word {
            "service" => ValueKind::Service,
            "environment" => ValueKind::Environment,
            "namespace" => ValueKind::Namespace,
            "version" => ValueKind::Version,
            "folder" => ValueKind::Folder,
            "user" => ValueKind::User,
            "text" => ValueKind::Text,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::Service => "service",
            ValueKind::Environment => "environment",
            ValueKind::Namespace => "namespace",
            ValueKind::Version => "version",
            ValueKind::Folder => "folder",
            ValueKind::User => "user",
            ValueKind::Text => "text",
        }
    }

    /// ManualCheck a concrete value of this kind; the message says what is wrong.
    pub fn check(self, value: &str) -> Result<(), String> {
        if value.trim().is_empty() {
            return Err(format!("the {} is empty", self.as_str()));
        }
        match self {
            ValueKind::Service => ServiceName::parse(value).map(|_| ()).map_err(|e| e.message),
            ValueKind::Environment => value
                .parse::<Environment>()
                .map(|_| ())
                .map_err(|e| e.message),
            ValueKind::Namespace => {
                if value
                    .chars()
                    .any(|c| c.is_whitespace() || c == '/' || c.is_control())
                {
                    Err(format!(
                        "\"{value}\" is not a namespace name: no spaces or \"/\", e.g. dotdo-production"
                    ))
                } else {
                    Ok(())
                }
            }
            ValueKind::Version | ValueKind::User => {
                if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    Err(format!("\"{value}\" must not contain spaces"))
                } else {
                    Ok(())
                }
            }
            ValueKind::Folder | ValueKind::Text => Ok(()),
        }
    }
}

/// Where a parameter's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "from", content = "value", rename_all = "camelCase")]
pub enum ParamValue {
    /// Written in the runbook: `service=gateway`.
    Literal(String),
    /// A run input: `service=$service`.
    Input(String),
    /// Asked when the step runs: `version=?`.
    Ask,
}

/// Which health targets a `health` action checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum HealthTarget {
    Services,
    Dispatcher,
    DeployApi,
}

impl HealthTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthTarget::Services => "services",
            HealthTarget::Dispatcher => "dispatcher",
            HealthTarget::DeployApi => "deploy-api",
        }
    }
}

/// A typed, validated action. Values that name things may come from the runbook, a run input
/// or the operator at run time ([`ParamValue`]); numbers and enumerations are written in the
/// runbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StepAction {
    /// ManualCheck health: every service (or one, `service=`), the dispatcher, or the Deploy API.
    /// Passes when every checked target is up.
    Health {
        target: HealthTarget,
        service: Option<ParamValue>,
    },
    /// Capture what a service's code logs (its tail) for `seconds`: requests, `console.*` lines,
    /// exceptions with their stack, into the step's output and the incident report.
    Logs { service: ParamValue, seconds: u32 },
    /// List deployments from the Deploy API, newest first. `status=failed` shows failures only.
    Deployments {
        service: Option<ParamValue>,
        environment: Option<ParamValue>,
        limit: u32,
        status: Option<DeploymentStatus>,
    },
    /// Roll a service back to its previous deployment (Deploy API `POST /rollback`).
    Rollback {
        service: ParamValue,
        environment: Option<ParamValue>,
    },
    /// Deploy an archived version of a service again through the Deploy API.
    Redeploy {
        service: ParamValue,
        version: ParamValue,
        environment: Option<ParamValue>,
    },
    /// List the account's dispatch namespaces.
    NamespaceList,
    /// Read one namespace (the profile's when not given). Fails when it does not exist.
    NamespaceGet { namespace: Option<ParamValue> },
    /// Create a namespace (the profile's when not given).
    NamespaceCreate { namespace: Option<ParamValue> },
    /// List the workers of a namespace; with `service=`, fails when that worker is missing.
    NamespaceScripts {
        namespace: Option<ParamValue>,
        service: Option<ParamValue>,
    },
    /// Test the profile's Deploy API key (who it is, whether it may deploy).
    ValidateKey,
    /// List a user's permissions (the key's user when not given); with `require=`, fails when
    /// that permission is missing.
    Permissions {
        user: Option<ParamValue>,
        require: Option<String>,
    },
    /// The emergency path when the Deploy API is down: upload an archived bundle straight to
    /// the namespace through the Cloudflare API, recorded as a manual deployment.
    DirectDeploy {
        service: ParamValue,
        version: ParamValue,
        namespace: Option<ParamValue>,
        environment: Option<ParamValue>,
    },
    /// A local shell command (the block's body) run in `folder`, shown in full and confirmed.
    Command {
        folder: ParamValue,
        command: String,
        #[serde(rename = "timeoutSecs")]
        timeout_secs: u32,
    },
    /// The operator writes a note (what they did by hand, whom they told); it goes in the report.
    Note { prompt: Option<String> },
}

impl StepAction {
    /// The name written after `switchyard`.
    pub fn name(&self) -> &'static str {
        match self {
            StepAction::Health { .. } => "health",
            StepAction::Logs { .. } => "logs",
            StepAction::Deployments { .. } => "deployments",
            StepAction::Rollback { .. } => "rollback",
            StepAction::Redeploy { .. } => "redeploy",
            StepAction::NamespaceList => "namespace-list",
            StepAction::NamespaceGet { .. } => "namespace-get",
            StepAction::NamespaceCreate { .. } => "namespace-create",
            StepAction::NamespaceScripts { .. } => "namespace-scripts",
            StepAction::ValidateKey => "validate-key",
            StepAction::Permissions { .. } => "permissions",
            StepAction::DirectDeploy { .. } => "direct-deploy",
            StepAction::Command { .. } => "command",
            StepAction::Note { .. } => "note",
        }
    }

    /// True for actions that change the platform or run something on this machine.
    pub fn mutates(&self) -> bool {
        matches!(
            self,
            StepAction::Rollback { .. }
                | StepAction::Redeploy { .. }
                | StepAction::NamespaceCreate { .. }
                | StepAction::DirectDeploy { .. }
                | StepAction::Command { .. }
        )
    }

    /// Every name-like parameter with the kind of value it takes.
    fn value_params(&self) -> Vec<(&'static str, &ParamValue, ValueKind)> {
        type Param<'a> = (&'static str, &'a ParamValue, ValueKind);
        fn put<'a>(
            out: &mut Vec<Param<'a>>,
            n: &'static str,
            v: Option<&'a ParamValue>,
            k: ValueKind,
        ) {
            if let Some(v) = v {
                out.push((n, v, k));
            }
        }
        let mut out: Vec<Param<'_>> = Vec::new();
        let mut push = |n, v, k| put(&mut out, n, v, k);
        match self {
            StepAction::Health { service, .. } => {
                push("service", service.as_ref(), ValueKind::Service)
            }
            StepAction::Logs { service, .. } => push("service", Some(service), ValueKind::Service),
            StepAction::Deployments {
                service,
                environment,
                ..
            } => {
                push("service", service.as_ref(), ValueKind::Service);
                push("environment", environment.as_ref(), ValueKind::Environment);
            }
            StepAction::Rollback {
                service,
                environment,
            } => {
                push("service", Some(service), ValueKind::Service);
                push("environment", environment.as_ref(), ValueKind::Environment);
            }
            StepAction::Redeploy {
                service,
                version,
                environment,
            } => {
                push("service", Some(service), ValueKind::Service);
                push("version", Some(version), ValueKind::Version);
                push("environment", environment.as_ref(), ValueKind::Environment);
            }
            StepAction::NamespaceGet { namespace } | StepAction::NamespaceCreate { namespace } => {
                push("namespace", namespace.as_ref(), ValueKind::Namespace)
            }
            StepAction::NamespaceScripts { namespace, service } => {
                push("namespace", namespace.as_ref(), ValueKind::Namespace);
                push("service", service.as_ref(), ValueKind::Service);
            }
            StepAction::Permissions { user, .. } => push("user", user.as_ref(), ValueKind::User),
            StepAction::DirectDeploy {
                service,
                version,
                namespace,
                environment,
            } => {
                push("service", Some(service), ValueKind::Service);
                push("version", Some(version), ValueKind::Version);
                push("namespace", namespace.as_ref(), ValueKind::Namespace);
                push("environment", environment.as_ref(), ValueKind::Environment);
            }
            StepAction::Command { folder, .. } => push("folder", Some(folder), ValueKind::Folder),
            StepAction::NamespaceList | StepAction::ValidateKey | StepAction::Note { .. } => {}
        }
        out
    }

    /// The `?` parameters, asked when the step runs.
    pub fn asks(&self) -> Vec<crate::model::AskField> {
        let mut asks: Vec<_> = self
            .value_params()
            .into_iter()
            .filter(|(_, v, _)| matches!(v, ParamValue::Ask))
            .map(|(n, _, k)| crate::model::AskField {
                param: n.to_owned(),
                kind: k,
            })
            .collect();
        if matches!(self, StepAction::Note { .. }) {
            asks.push(crate::model::AskField {
                param: "text".into(),
                kind: ValueKind::Text,
            });
        }
        asks
    }

    /// The run inputs (`$name`) this action uses.
    pub fn inputs_used(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .value_params()
            .into_iter()
            .filter_map(|(_, v, _)| match v {
                ParamValue::Input(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        if let StepAction::Command { command, .. } = self {
            names.extend(placeholders(command));
        }
        names
    }

    /// Resolve every value: literals as written, `$input` from the run's inputs, `?` from
    /// `asked`. Each value is checked against its kind; every problem is reported.
    pub fn resolve(
        &self,
        inputs: &BTreeMap<String, String>,
        asked: &BTreeMap<String, String>,
    ) -> Result<ResolvedStepAction, Vec<String>> {
        let mut problems = Vec::new();
        let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
        for (name, value, kind) in self.value_params() {
            let concrete = match value {
                ParamValue::Literal(v) => Some(v.clone()),
                ParamValue::Input(n) => match inputs.get(n).filter(|v| !v.trim().is_empty()) {
                    Some(v) => Some(v.trim().to_owned()),
                    None => {
                        problems.push(format!(
                            "the run input \"{n}\" (used for {name}) has no value"
                        ));
                        None
                    }
                },
                ParamValue::Ask => match asked.get(name).filter(|v| !v.trim().is_empty()) {
                    Some(v) => Some(v.trim().to_owned()),
                    None => {
                        problems.push(format!(
                            "this step needs a {} for \"{name}\"",
                            kind.as_str()
                        ));
                        None
                    }
                },
            };
            if let Some(v) = concrete {
                match kind.check(&v) {
                    Ok(()) => {
                        values.insert(name, v);
                    }
                    Err(e) => problems.push(format!("{name}: {e}")),
                }
            }
        }
        let text = if matches!(self, StepAction::Note { .. }) {
            match asked
                .get("text")
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
            {
                Some(t) => Some(t.to_owned()),
                None => {
                    problems.push("write the note's text first".into());
                    None
                }
            }
        } else {
            None
        };
        let command = if let StepAction::Command { command, .. } = self {
            match interpolate(command, inputs) {
                Ok(c) => Some(c),
                Err(e) => {
                    problems.push(e);
                    None
                }
            }
        } else {
            None
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let get = |n: &str| values.get(n).cloned();
        let env = |n: &str| get(n).and_then(|v| v.parse::<Environment>().ok());
        Ok(match self {
            StepAction::Health { target, .. } => ResolvedStepAction::Health {
                target: *target,
                service: get("service"),
            },
            StepAction::Logs { seconds, .. } => ResolvedStepAction::Logs {
                service: get("service").unwrap_or_default(),
                seconds: *seconds,
            },
            StepAction::Deployments { limit, status, .. } => ResolvedStepAction::Deployments {
                service: get("service"),
                environment: env("environment"),
                limit: *limit,
                status: *status,
            },
            StepAction::Rollback { .. } => ResolvedStepAction::Rollback {
                service: get("service").unwrap_or_default(),
                environment: env("environment"),
            },
            StepAction::Redeploy { .. } => ResolvedStepAction::Redeploy {
                service: get("service").unwrap_or_default(),
                version: get("version").unwrap_or_default(),
                environment: env("environment"),
            },
            StepAction::NamespaceList => ResolvedStepAction::NamespaceList,
            StepAction::NamespaceGet { .. } => ResolvedStepAction::NamespaceGet {
                namespace: get("namespace"),
            },
            StepAction::NamespaceCreate { .. } => ResolvedStepAction::NamespaceCreate {
                namespace: get("namespace"),
            },
            StepAction::NamespaceScripts { .. } => ResolvedStepAction::NamespaceScripts {
                namespace: get("namespace"),
                service: get("service"),
            },
            StepAction::ValidateKey => ResolvedStepAction::ValidateKey,
            StepAction::Permissions { require, .. } => ResolvedStepAction::Permissions {
                user: get("user"),
                require: require.clone(),
            },
            StepAction::DirectDeploy { .. } => ResolvedStepAction::DirectDeploy {
                service: get("service").unwrap_or_default(),
                version: get("version").unwrap_or_default(),
                namespace: get("namespace"),
                environment: env("environment"),
            },
            StepAction::Command { timeout_secs, .. } => ResolvedStepAction::Command {
                folder: get("folder").unwrap_or_default(),
                command: command.unwrap_or_default(),
                timeout_secs: *timeout_secs,
            },
            StepAction::Note { .. } => ResolvedStepAction::Note {
                text: text.unwrap_or_default(),
            },
        })
    }
}
