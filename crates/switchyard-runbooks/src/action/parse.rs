//! Parsing a block's info string: `switchyard <action> key=value…` split into words (quotes
//! honoured), each parameter checked against what the action accepts.

use std::collections::BTreeMap;

use switchyard_core::DeploymentStatus;

use super::command::placeholders;
use super::{
    HealthTarget, ParamValue, StepAction, ValueKind, ACTION_NAMES, DEFAULT_COMMAND_TIMEOUT_SECS,
    DEFAULT_LOGS_SECONDS, MAX_COMMAND_TIMEOUT_SECS, MAX_LOGS_SECONDS,
};

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
