//! Typed actions: the ```` ```switchyard <action> key=value… ```` blocks, their parameters and how
//! each is checked when a runbook is loaded and resolved when a step runs.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use switchyard_core::{DeploymentStatus, Environment, ServiceName};

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

/// `${name}` placeholders of a command body.
pub(crate) fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Characters a run input may contain to be put into a shell command (no quoting needed).
fn shell_safe(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/@:+=,".contains(c))
}

/// Replace `${name}` with run inputs; refuses values that would need shell quoting.
fn interpolate(command: &str, inputs: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = command.to_owned();
    for name in placeholders(command) {
        let value = inputs
            .get(&name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                format!("the run input \"{name}\" (used in the command) has no value")
            })?;
        if !shell_safe(value) {
            return Err(format!(
                "the run input \"{name}\" = \"{value}\" cannot go into a shell command: use letters, digits and . _ - / @ : + = , only"
            ));
        }
        out = out.replace(&format!("${{{name}}}"), value);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Parsing an info string.

/// Split `switchyard rollback service=$service note="two words"` into words, honouring quotes.
pub(crate) fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("a {q} quote is not closed; close it or remove it"));
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

/// The parameters one action accepts: name, kind of value (None: a literal of a fixed type
/// checked by the action), required.
struct ParamSpec {
    name: &'static str,
    value: Option<ValueKind>,
    required: bool,
}

const fn value(name: &'static str, kind: ValueKind, required: bool) -> ParamSpec {
    ParamSpec {
        name,
        value: Some(kind),
        required,
    }
}

const fn literal(name: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        value: None,
        required: false,
    }
}

const HEALTH: &[ParamSpec] = &[
    literal("target"),
    value("service", ValueKind::Service, false),
];
const LOGS: &[ParamSpec] = &[
    value("service", ValueKind::Service, true),
    literal("seconds"),
];
const DEPLOYMENTS: &[ParamSpec] = &[
    value("service", ValueKind::Service, false),
    value("environment", ValueKind::Environment, false),
    literal("limit"),
    literal("status"),
];
const ROLLBACK: &[ParamSpec] = &[
    value("service", ValueKind::Service, true),
    value("environment", ValueKind::Environment, false),
];
const REDEPLOY: &[ParamSpec] = &[
    value("service", ValueKind::Service, true),
    value("version", ValueKind::Version, true),
    value("environment", ValueKind::Environment, false),
];
const NAMESPACE: &[ParamSpec] = &[value("namespace", ValueKind::Namespace, false)];
const NAMESPACE_SCRIPTS: &[ParamSpec] = &[
    value("namespace", ValueKind::Namespace, false),
    value("service", ValueKind::Service, false),
];
const PERMISSIONS: &[ParamSpec] = &[value("user", ValueKind::User, false), literal("require")];
const DIRECT_DEPLOY: &[ParamSpec] = &[
    value("service", ValueKind::Service, true),
    value("version", ValueKind::Version, true),
    value("namespace", ValueKind::Namespace, false),
    value("environment", ValueKind::Environment, false),
];
const COMMAND: &[ParamSpec] = &[value("folder", ValueKind::Folder, true), literal("timeout")];
const NOTE: &[ParamSpec] = &[literal("prompt")];

fn specs(action: &str) -> &'static [ParamSpec] {
    match action {
        "health" => HEALTH,
        "logs" => LOGS,
        "deployments" => DEPLOYMENTS,
        "rollback" => ROLLBACK,
        "redeploy" => REDEPLOY,
        "namespace-get" | "namespace-create" => NAMESPACE,
        "namespace-scripts" => NAMESPACE_SCRIPTS,
        "permissions" => PERMISSIONS,
        "direct-deploy" => DIRECT_DEPLOY,
        "command" => COMMAND,
        "note" => NOTE,
        _ => &[],
    }
}

/// Parse one `switchyard …` block: `info` is the info string, `body` the block's content.
/// `declared` holds the run inputs the runbook declares. Every problem is returned.
pub(crate) fn parse_action(
    info: &str,
    body: &str,
    declared: &[crate::model::RunbookInput],
) -> Result<StepAction, Vec<String>> {
    let words = split_words(info).map_err(|e| vec![e])?;
    let mut words = words.into_iter();
    words.next(); // "switchyard"
    let Some(name) = words.next() else {
        return Err(vec![format!(
            "the block says \"switchyard\" but not which action; write e.g. ```switchyard health (actions: {})",
            ACTION_NAMES.join(", ")
        )]);
    };
    if !ACTION_NAMES.contains(&name.as_str()) {
        return Err(vec![format!(
            "unknown action \"{name}\"; use one of: {}",
            ACTION_NAMES.join(", ")
        )]);
    }
    let specs = specs(&name);
    let mut problems = Vec::new();
    let mut given: BTreeMap<&'static str, ParamValue> = BTreeMap::new();
    for word in words {
        let Some((key, raw)) = word.split_once('=') else {
            problems.push(format!(
                "\"{word}\" is not a parameter: write name=value (e.g. service=gateway, service=$service or service=?)"
            ));
            continue;
        };
        let Some(spec) = specs.iter().find(|s| s.name == key) else {
            let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
            problems.push(if known.is_empty() {
                format!("{name} takes no parameters, but \"{key}\" is given")
            } else {
                format!(
                    "{name} has no parameter \"{key}\"; it takes: {}",
                    known.join(", ")
                )
            });
            continue;
        };
        if given.contains_key(spec.name) {
            problems.push(format!("{key} is given twice"));
            continue;
        }
        let pv = if raw == "?" {
            ParamValue::Ask
        } else if let Some(input) = raw.strip_prefix('$') {
            ParamValue::Input(input.to_owned())
        } else {
            ParamValue::Literal(raw.to_owned())
        };
        match (&pv, spec.value) {
            (ParamValue::Ask | ParamValue::Input(_), None) => {
                problems.push(format!(
                    "{key} must be written in the runbook (not $input or ?): it is {}",
                    literal_hint(&name, key)
                ));
                continue;
            }
            (ParamValue::Input(input), Some(_)) if !declared.iter().any(|d| &d.name == input) => {
                problems.push(format!(
                    "{key}=${input} uses the run input \"{input}\", which the runbook does not declare; add it to `inputs:` in the front matter"
                ));
            }
            (ParamValue::Literal(v), Some(kind)) => {
                if let Err(e) = kind.check(v) {
                    problems.push(format!("{key}: {e}"));
                }
            }
            _ => {}
        }
        given.insert(spec.name, pv);
    }
    for spec in specs {
        if spec.required && !given.contains_key(spec.name) {
            problems.push(format!(
                "{name} needs {}=… (a value, $input or ? to ask when the step runs)",
                spec.name
            ));
        }
    }
    let lit = |given: &BTreeMap<&'static str, ParamValue>, k: &str| match given.get(k) {
        Some(ParamValue::Literal(v)) => Some(v.clone()),
        _ => None,
    };
    let body = body.trim_end_matches('\n');
    if name != "command" && !body.trim().is_empty() {
        problems.push(format!(
            "only the command action has a body; move the text of this {name} block out of the block"
        ));
    }
    // Typed literals.
    let target = match lit(&given, "target").as_deref() {
        None | Some("services") => HealthTarget::Services,
        Some("dispatcher") => HealthTarget::Dispatcher,
        Some("deploy-api") => HealthTarget::DeployApi,
        Some(other) => {
            problems.push(format!(
                "target \"{other}\" is not one of services, dispatcher, deploy-api"
            ));
            HealthTarget::Services
        }
    };
    if name == "health" && target != HealthTarget::Services && given.contains_key("service") {
        problems.push("service= goes with target=services only".into());
    }
    let limit = match lit(&given, "limit") {
        None => 10,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                problems.push(format!(
                    "limit \"{v}\" must be a whole number from 1 to 100"
                ));
                10
            }
        },
    };
    let status = match lit(&given, "status") {
        None => None,
        Some(v) => match v.parse::<DeploymentStatus>() {
            Ok(s) => Some(s),
            Err(e) => {
                problems.push(format!("status: {}", e.message));
                None
            }
        },
    };
    let seconds = match lit(&given, "seconds") {
        None => DEFAULT_LOGS_SECONDS,
        Some(v) => match v.trim_end_matches('s').parse::<u32>() {
            Ok(n) if (1..=MAX_LOGS_SECONDS).contains(&n) => n,
            _ => {
                problems.push(format!(
                    "seconds \"{v}\" must be a whole number from 1 to {MAX_LOGS_SECONDS}"
                ));
                DEFAULT_LOGS_SECONDS
            }
        },
    };
    let timeout_secs = match lit(&given, "timeout") {
        None => DEFAULT_COMMAND_TIMEOUT_SECS,
        Some(v) => match v.trim_end_matches('s').parse::<u32>() {
            Ok(n) if (1..=MAX_COMMAND_TIMEOUT_SECS).contains(&n) => n,
            _ => {
                problems.push(format!(
                    "timeout \"{v}\" must be a number of seconds from 1 to {MAX_COMMAND_TIMEOUT_SECS}"
                ));
                DEFAULT_COMMAND_TIMEOUT_SECS
            }
        },
    };
    if name == "command" {
        if body.trim().is_empty() {
            problems.push(
                "the command block is empty: write the command to run on the line after ```switchyard command folder=…".into(),
            );
        }
        for p in placeholders(body) {
            if !declared.iter().any(|d| d.name == p) {
                problems.push(format!(
                    "the command uses ${{{p}}}, a run input the runbook does not declare; add it to `inputs:`"
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let require = lit(&given, "require");
    let prompt = lit(&given, "prompt");
    let mut take = |k: &str| given.remove(k);
    Ok(match name.as_str() {
        "health" => StepAction::Health {
            target,
            service: take("service"),
        },
        "logs" => StepAction::Logs {
            service: take("service").unwrap_or(ParamValue::Ask),
            seconds,
        },
        "deployments" => StepAction::Deployments {
            service: take("service"),
            environment: take("environment"),
            limit,
            status,
        },
        "rollback" => StepAction::Rollback {
            service: take("service").unwrap_or(ParamValue::Ask),
            environment: take("environment"),
        },
        "redeploy" => StepAction::Redeploy {
            service: take("service").unwrap_or(ParamValue::Ask),
            version: take("version").unwrap_or(ParamValue::Ask),
            environment: take("environment"),
        },
        "namespace-list" => StepAction::NamespaceList,
        "namespace-get" => StepAction::NamespaceGet {
            namespace: take("namespace"),
        },
        "namespace-create" => StepAction::NamespaceCreate {
            namespace: take("namespace"),
        },
        "namespace-scripts" => StepAction::NamespaceScripts {
            namespace: take("namespace"),
            service: take("service"),
        },
        "validate-key" => StepAction::ValidateKey,
        "permissions" => StepAction::Permissions {
            user: take("user"),
            require,
        },
        "direct-deploy" => StepAction::DirectDeploy {
            service: take("service").unwrap_or(ParamValue::Ask),
            version: take("version").unwrap_or(ParamValue::Ask),
            namespace: take("namespace"),
            environment: take("environment"),
        },
        "command" => StepAction::Command {
            folder: take("folder").unwrap_or(ParamValue::Ask),
            command: body.trim().to_owned(),
            timeout_secs,
        },
        _ => StepAction::Note { prompt },
    })
}

fn literal_hint(action: &str, key: &str) -> &'static str {
    match (action, key) {
        ("health", "target") => "services, dispatcher or deploy-api",
        (_, "limit") => "a number from 1 to 100",
        (_, "status") => "deployed, failed or rolled_back",
        (_, "timeout") | (_, "seconds") => "a number of seconds",
        (_, "require") => "a permission such as deployments:create",
        _ => "text written in the runbook",
    }
}
