//! Runbook runs: the catalog (built-in and user runbooks), runs bound to a profile, each step's
//! action dispatched to the same façade functions the views use, state written to SQLite as it
//! happens (running before the call, output as it streams, passed/failed after), crash recovery
//! (a step that was running when the app died reads back as interrupted), the incident report,
//! and sandbox fault injection for rehearsals.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchyard_clients::{AuthApi, DeployApi, DeploymentQuery};
use switchyard_core::{AppError, Environment, ErrorCode, Profile, Protection};
use switchyard_runbooks::{
    blocker, condition_changes, current_step, parse_runbook, settle, unfinished_steps,
    ConditionChange, StepStatus, UserRunbookFile, USER_ID_PREFIX,
};
pub use switchyard_runbooks::{
    ActionBlock, AskField, HealthTarget, ManualCheck, ParamValue, ResolvedStepAction, RunStepState,
    Runbook, RunbookCatalog, RunbookError, RunbookInput, RunbookLink, RunbookOrigin,
    RunbookProblem, RunbookStep, StepAction, StepBlocker, StepCondition, StepOutcome, ValueKind,
};
use switchyard_secrets::SecretKind;
use switchyard_store::{
    CheckUpdate, NewRun, NewRunEvent, NewRunStep, RunChanges, RunRecord, RunStepRecord, RunUpdate,
};

use crate::{actor, HealthStatus, HealthTargetKind, Ops};

/// The most output kept per step; more is still streamed but not stored.
pub const MAX_STEP_OUTPUT_BYTES: usize = 256 * 1024;
/// How long a health action waits for each target.
const HEALTH_TIMEOUT_MS: u32 = 10_000;
/// How many output lines of each step the incident report quotes (the last ones).
const REPORT_OUTPUT_LINES: usize = 20;

// ---------------------------------------------------------------------------------------------
// Types the window sees.

/// Whether a run is open or over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum RunState {
    Running,
    Finished,
    /// Ended with a gate failed: the procedure did not fix the problem, its escalation steps
    /// were followed, and the steps behind the failed gate were not reached (`end_reason` says
    /// which).
    Escalated,
    Abandoned,
}

impl RunState {
    fn parse(s: &str) -> RunState {
        match s {
            "finished" => RunState::Finished,
            "escalated" => RunState::Escalated,
            "abandoned" => RunState::Abandoned,
            _ => RunState::Running,
        }
    }
}

/// How far a run is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RunProgress {
    pub total: u32,
    pub passed: u32,
    pub failed: u32,
    pub skipped: u32,
    /// Steps that were running when the app stopped.
    pub interrupted: u32,
    pub running: u32,
}

/// A run as the list shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub id: String,
    pub profile_id: String,
    pub runbook_id: String,
    pub title: String,
    pub state: RunState,
    pub rehearsal: bool,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub started_ms: i64,
    pub started_by: String,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub finished_ms: Option<i64>,
    pub progress: RunProgress,
    /// The first step still to do (pending, running or interrupted): where the operator is.
    pub current_step: Option<u32>,
}

/// One manual check of a step in a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RunCheck {
    pub index: u32,
    pub text: String,
    pub checked: bool,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub at_ms: Option<i64>,
    pub by: Option<String>,
}

/// A parameter of an action as it ran (or will run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ActionParam {
    pub name: String,
    pub value: String,
}

/// One step of a run: the runbook's step (instruction, checks, action) is in
/// `RunDetail.runbook.steps[index]`; this is what happened to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RunStep {
    pub index: u32,
    pub id: String,
    pub title: String,
    pub state: RunStepState,
    /// Why it cannot be started now (a gate, a condition), if so.
    pub blocker: Option<StepBlocker>,
    pub blocker_message: Option<String>,
    /// How the last action attempt ended.
    pub outcome: Option<StepOutcome>,
    /// Why the operator may not skip it (a gate in front of a destructive step), if so.
    pub skip_refusal: Option<String>,
    pub skip_reason: Option<String>,
    pub skipped_by_condition: bool,
    pub attempts: u32,
    /// The last action's parameters.
    pub params: Vec<ActionParam>,
    /// The last action's error, in words.
    pub error: Option<String>,
    /// Every attempt's output, as streamed (at most 256 KiB).
    pub output: String,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub started_ms: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub finished_ms: Option<i64>,
    /// Who last acted on the step.
    pub by: Option<String>,
    pub checks: Vec<RunCheck>,
}

/// An entry of a run's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RunEvent {
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub seq: i64,
    pub step_index: Option<u32>,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
    pub by: String,
    /// `run.started`, `step.started`, `step.passed`, `step.failed`, `step.skipped`,
    /// `step.restored`, `step.interrupted`, `step.done`, `check.ticked`, `check.unticked`, `note`,
    /// `fault.injected`, `fault.cleared`, `run.finished`, `run.abandoned`.
    pub kind: String,
    pub message: String,
}

/// A run in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RunDetail {
    pub summary: RunSummary,
    /// The runbook as it was when the run started (the run keeps its Markdown).
    pub runbook: Runbook,
    pub profile_name: String,
    pub environment: Option<Environment>,
    pub inputs: BTreeMap<String, String>,
    pub steps: Vec<RunStep>,
    pub events: Vec<RunEvent>,
    pub finished_by: Option<String>,
    /// Why it was abandoned, or why it ended escalated.
    pub end_reason: Option<String>,
    /// Open runs: steps behind a gate that failed. The run can be finished without them (it
    /// ends escalated).
    pub not_reached: Vec<u32>,
    /// Open runs: why finishing now ends the run escalated, if it does.
    pub escalation: Option<String>,
}

/// What running a step needs: values for its `?` parameters and, for actions that change
/// things, the confirmation its plan asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct StepRunRequest {
    pub values: BTreeMap<String, String>,
    pub confirmation: Option<String>,
    /// The `basis` of the step's plan, sent back: a deploy, rollback or direct deploy is refused
    /// when what runs changed since the plan was shown (so a double submit never applies twice).
    pub basis: Option<crate::PlanBasis>,
}

/// How a step's action must be confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum StepConfirmationKind {
    /// Runs on the button.
    None,
    /// A confirming click: send `phrase` back as `confirmation`.
    Confirm,
    /// The operator types `phrase` (a name) exactly.
    TypeName,
    /// Not allowed on this profile; `reason` says why.
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StepConfirmation {
    pub kind: StepConfirmationKind,
    /// What `StepRunRequest.confirmation` must be (the exact command for `command`).
    pub phrase: Option<String>,
    pub reason: String,
}

/// What running a step will do, shown before it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StepPlan {
    pub run_id: String,
    pub step_index: u32,
    pub action: String,
    /// `rollback service=gateway environment=production`
    pub display: String,
    /// In words: "Roll gateway in production back to its previous deployment".
    pub summary: String,
    pub params: Vec<ActionParam>,
    pub mutates: bool,
    /// For `command`: the folder and the command, shown in full.
    pub command: Option<String>,
    pub folder: Option<String>,
    pub timeout_secs: Option<u32>,
    pub confirmation: StepConfirmation,
    /// For deploys, rollbacks and direct deploys: what the plan was made against (send it back).
    pub basis: Option<crate::PlanBasis>,
}

/// A piece of a step's output as it streams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StepOutput {
    pub run_id: String,
    pub step_index: u32,
    /// One or more whole lines, each ending in `\n`.
    pub text: String,
}

/// A fault a rehearsal injects into the local sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RehearsalFault {
    /// The service answers 503.
    ServiceDown { service: String },
    /// A bad deploy: the sandbox deploys a genuinely broken release of the service (its
    /// `/health` throws in the runtime) through its Deploy API; a rollback or a new deploy ends it.
    BadDeploy { service: String },
    /// The service answers `status` (e.g. 500) with an error body.
    ServiceErrors { service: String, status: u16 },
    /// The Deploy API answers 503.
    DeployApiDown,
    /// The dispatcher answers 503.
    DispatcherDown,
    /// The `db` service reports its database unhealthy (503).
    DatabaseUnhealthy,
    /// `target` (`service:<name>`, `deploy-api`, `dispatcher`, `auth`, `cloudflare-api`) answers
    /// after `ms` milliseconds (at most 120 000).
    Latency { target: String, ms: u32 },
}

/// The target under which a rehearsed bad deploy is listed and cleared.
const BAD_DEPLOY_PREFIX: &str = "bad-deploy:";

impl RehearsalFault {
    fn target_and_body(&self) -> Result<(String, serde_json::Value), AppError> {
        let check_service = |s: &str| switchyard_core::ServiceName::parse(s).map(|_| ());
        Ok(match self {
            RehearsalFault::ServiceDown { service } => {
                check_service(service)?;
                (
                    format!("service:{service}"),
                    serde_json::json!({ "mode": "down" }),
                )
            }
            RehearsalFault::BadDeploy { service } => {
                check_service(service)?;
                (
                    format!("{BAD_DEPLOY_PREFIX}{service}"),
                    serde_json::json!({ "service": service }),
                )
            }
            RehearsalFault::ServiceErrors { service, status } => {
                check_service(service)?;
                if !(400..=599).contains(status) {
                    return Err(AppError::invalid_input(format!(
                        "HTTP {status} is not an error status; use 400 to 599 (500 for a crash)."
                    )));
                }
                (
                    format!("service:{service}"),
                    serde_json::json!({ "mode": "error", "status": status }),
                )
            }
            RehearsalFault::DeployApiDown => {
                ("deploy-api".into(), serde_json::json!({ "mode": "down" }))
            }
            RehearsalFault::DispatcherDown => {
                ("dispatcher".into(), serde_json::json!({ "mode": "down" }))
            }
            RehearsalFault::DatabaseUnhealthy => (
                "service:db".into(),
                serde_json::json!({
                    "mode": "error",
                    "status": 503,
                    "body": "{\"status\":\"unhealthy\",\"service\":\"db\",\"error\":\"database connection lost\"}"
                }),
            ),
            RehearsalFault::Latency { target, ms } => {
                if *ms > 120_000 {
                    return Err(AppError::invalid_input(format!(
                        "{ms} ms is too long: the sandbox adds at most 120000 ms (two minutes)."
                    )));
                }
                (
                    target.clone(),
                    serde_json::json!({ "mode": "latency", "ms": ms }),
                )
            }
        })
    }
}

/// A fault in force in the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ActiveFault {
    /// `service:gateway`, `deploy-api`, `dispatcher`, …
    pub target: String,
    /// `down`, `error`, `latency`, `garbage`, `flaky`, `rate_limited`.
    pub mode: String,
    /// In words: "gateway answers 503".
    pub description: String,
}

// ---------------------------------------------------------------------------------------------
// In-process state: steps executing now, per-run locks, the crash simulator for tests.

#[derive(Default)]
pub(crate) struct RunbookRuntime {
    /// Steps whose action is executing in this process, with the switch that stops them.
    live: Mutex<HashMap<(String, u32), tokio::sync::watch::Sender<bool>>>,
    /// One lock per run, held around each read-modify-write of the run.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Tests: refuse every write after this many (a simulated crash).
    writes_left: Mutex<Option<u32>>,
    ids: AtomicU32,
}

impl std::fmt::Debug for RunbookRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunbookRuntime").finish_non_exhaustive()
    }
}

/// Removes a step from the live set however its execution ends.
struct LiveGuard<'a> {
    runtime: &'a RunbookRuntime,
    key: (String, u32),
}

impl Drop for LiveGuard<'_> {
    fn drop(&mut self) {
        self.runtime
            .live
            .lock()
            .expect("live steps")
            .remove(&self.key);
    }
}

impl RunbookRuntime {
    fn lock_for(&self, run_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .expect("run locks")
            .entry(run_id.to_owned())
            .or_default()
            .clone()
    }

    fn is_live(&self, run_id: &str, step: u32) -> bool {
        self.live
            .lock()
            .expect("live steps")
            .contains_key(&(run_id.to_owned(), step))
    }

    fn spend_write(&self) -> Result<(), AppError> {
        let mut left = self.writes_left.lock().expect("write budget");
        match left.as_mut() {
            Some(0) => Err(AppError::internal(
                "Saving the runbook run (simulated crash)",
            )),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// The built-in runbook (and step) for an error's `runbook` heading (`AppError.runbook`), so the
/// window can open it in one click. `None` for a heading no runbook covers.
pub fn runbook_link_for_error(heading: &str) -> Option<RunbookLink> {
    switchyard_runbooks::runbook_link_for_heading(heading)
}

fn not_found(run_id: &str) -> AppError {
    AppError::new(
        ErrorCode::NotFound,
        format!("There is no runbook run \"{run_id}\". It may have been started on another computer; pick one from the list of runs."),
    )
}

fn step_state(s: &str) -> RunStepState {
    RunStepState::parse(s).unwrap_or(RunStepState::Pending)
}

fn outcome_of(s: Option<&str>) -> Option<StepOutcome> {
    match s {
        Some("passed") => Some(StepOutcome::Passed),
        Some("failed") => Some(StepOutcome::Failed),
        _ => None,
    }
}

fn statuses(steps: &[RunStepRecord]) -> Vec<StepStatus> {
    steps
        .iter()
        .map(|s| StepStatus {
            state: step_state(&s.state),
            action_outcome: outcome_of(s.outcome.as_deref()),
            checks: s.checks.iter().map(|c| c.checked).collect(),
            skipped_by_condition: s.skipped_by_condition,
        })
        .collect()
}

fn params_of(action: &ResolvedStepAction) -> Vec<ActionParam> {
    action
        .params()
        .into_iter()
        .map(|(name, value)| ActionParam { name, value })
        .collect()
}

/// Parameters in their order, as `[{"name": …, "value": …}]`.
fn params_json(params: &[ActionParam]) -> serde_json::Value {
    serde_json::to_value(params).unwrap_or_default()
}

fn params_from_json(v: &serde_json::Value) -> Vec<ActionParam> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .map(|p| ActionParam {
                    name: p["name"].as_str().unwrap_or_default().to_owned(),
                    value: p["value"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Fill in what defaults to the profile's: the environment of a rollback, redeploy or direct
/// deploy, the namespace of namespace actions. Plans, timelines and reports then say exactly
/// what ran.
fn with_profile_defaults(action: ResolvedStepAction, profile: &Profile) -> ResolvedStepAction {
    let env = |e: Option<Environment>| Some(e.unwrap_or(profile.environment));
    let ns = |n: Option<String>| Some(n.unwrap_or_else(|| profile.namespace.clone()));
    match action {
        ResolvedStepAction::Rollback {
            service,
            environment,
        } => ResolvedStepAction::Rollback {
            service,
            environment: env(environment),
        },
        ResolvedStepAction::Redeploy {
            service,
            version,
            environment,
        } => ResolvedStepAction::Redeploy {
            service,
            version,
            environment: env(environment),
        },
        ResolvedStepAction::DirectDeploy {
            service,
            version,
            namespace,
            environment,
        } => ResolvedStepAction::DirectDeploy {
            service,
            version,
            namespace,
            environment: env(environment),
        },
        ResolvedStepAction::NamespaceGet { namespace } => ResolvedStepAction::NamespaceGet {
            namespace: ns(namespace),
        },
        ResolvedStepAction::NamespaceCreate { namespace } => ResolvedStepAction::NamespaceCreate {
            namespace: ns(namespace),
        },
        ResolvedStepAction::NamespaceScripts { namespace, service } => {
            ResolvedStepAction::NamespaceScripts {
                namespace: ns(namespace),
                service,
            }
        }
        other => other,
    }
}

fn inputs_of(run: &RunRecord) -> BTreeMap<String, String> {
    run.inputs
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn step_label(runbook: &Runbook, index: u32) -> String {
    let title = runbook.step(index).map(|s| s.title.as_str()).unwrap_or("?");
    format!("Step {} \"{title}\"", u64::from(index) + 1)
}

/// A state, in the words of the timeline.
fn event(kind: &str, step: Option<u32>, at_ms: i64, message: String) -> NewRunEvent {
    NewRunEvent {
        step_index: step,
        at_ms,
        actor: actor(),
        kind: kind.to_owned(),
        message,
        data: None,
    }
}

/// The writes that apply `changes` of the condition engine to `steps`.
fn apply_conditions(
    runbook: &Runbook,
    steps: &mut [RunStepRecord],
    now: i64,
    changes: &mut RunChanges,
) {
    let st = statuses(steps);
    for c in condition_changes(runbook, &st) {
        match c {
            ConditionChange::Skip { index, reason } => {
                let s = &mut steps[index as usize];
                s.state = RunStepState::Skipped.as_str().into();
                s.skipped_by_condition = true;
                s.skip_reason = Some(reason.clone());
                s.finished_ms = Some(now);
                changes.steps.push(s.clone());
                changes.events.push(NewRunEvent {
                    actor: "switchyard".into(),
                    ..event(
                        "step.skipped",
                        Some(index),
                        now,
                        format!("{} skipped. {reason}", step_label(runbook, index)),
                    )
                });
            }
            ConditionChange::Restore { index } => {
                let s = &mut steps[index as usize];
                s.state = RunStepState::Pending.as_str().into();
                s.skipped_by_condition = false;
                s.skip_reason = None;
                s.finished_ms = None;
                changes.steps.push(s.clone());
                changes.events.push(NewRunEvent {
                    actor: "switchyard".into(),
                    ..event(
                        "step.restored",
                        Some(index),
                        now,
                        format!(
                            "{} is needed again: the step it depends on is not over.",
                            step_label(runbook, index)
                        ),
                    )
                });
            }
        }
    }
}

/// The run's data, loaded under its lock.
struct Loaded {
    run: RunRecord,
    runbook: Runbook,
    steps: Vec<RunStepRecord>,
}

/// An action's outcome: passed or failed with a message; output was streamed on the way.
struct ActionResult {
    passed: bool,
    error: Option<String>,
}

impl ActionResult {
    fn pass() -> ActionResult {
        ActionResult {
            passed: true,
            error: None,
        }
    }
    fn fail(message: impl Into<String>) -> ActionResult {
        ActionResult {
            passed: false,
            error: Some(message.into()),
        }
    }
}

/// Streams a step's output to the window and to SQLite.
struct OutputSink<'a, P: Fn(StepOutput) + Send + Sync> {
    ops: &'a Ops,
    run_id: String,
    step: u32,
    progress: &'a P,
    stored: usize,
    truncated: bool,
    /// Values never shown or stored: the profile's keys, and the sandbox's demo token.
    secrets: Vec<String>,
}

impl<P: Fn(StepOutput) + Send + Sync> OutputSink<'_, P> {
    async fn emit(&mut self, text: &str) -> Result<(), AppError> {
        if text.is_empty() {
            return Ok(());
        }
        let mut text = text.to_owned();
        for secret in self.secrets.iter().filter(|s| s.len() >= 4) {
            text = text.replace(secret.as_str(), "***");
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        (self.progress)(StepOutput {
            run_id: self.run_id.clone(),
            step_index: self.step,
            text: text.clone(),
        });
        if self.truncated {
            return Ok(());
        }
        let to_store = if self.stored + text.len() > MAX_STEP_OUTPUT_BYTES {
            self.truncated = true;
            format!(
                "[output truncated: Switchyard keeps the first {} KiB of a step's output]\n",
                MAX_STEP_OUTPUT_BYTES / 1024
            )
        } else {
            text
        };
        self.stored += to_store.len();
        self.ops.runbooks.spend_write()?;
        self.ops
            .store
            .append_step_output(&self.run_id, self.step, &to_store)
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers: UTC time, redaction.

/// `2025-10-04 12:00:00 UTC`
pub(crate) fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Hide anything that looks like a key or token: the profile's own secrets, `Bearer …`,
/// `sk_…`, `key=…`/`token=…` values, and long random-looking strings.
pub(crate) fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s.as_str(), "***");
    }
    let mut result = String::with_capacity(out.len());
    let mut redact_next = false;
    for (i, piece) in out.split_inclusive(char::is_whitespace).enumerate() {
        let word = piece.trim_end();
        let tail = &piece[word.len()..];
        let lower = word.to_ascii_lowercase();
        let secretish_key = ["key", "token", "secret", "password", "authorization"]
            .iter()
            .any(|k| lower.contains(k));
        let replaced = if redact_next && lower == "bearer" {
            word.to_owned()
        } else if redact_next && !word.is_empty() {
            redact_next = false;
            "***".to_owned()
        } else if lower == "bearer" || lower == "authorization:" {
            redact_next = true;
            word.to_owned()
        } else if let Some((k, v)) = word.split_once(['=', ':']).filter(|_| secretish_key) {
            if v.is_empty() {
                word.to_owned()
            } else {
                format!("{k}{}***", &word[k.len()..k.len() + 1])
            }
        } else if word.starts_with("sk_") || word.starts_with("sk-") || looks_random(word) {
            "***".to_owned()
        } else {
            word.to_owned()
        };
        let _ = i;
        result.push_str(&replaced);
        result.push_str(tail);
    }
    result
}

/// 32+ characters of letters and digits mixed (hex digests count too): likely a token.
fn looks_random(word: &str) -> bool {
    let core = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    core.len() >= 32
        && core
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && core.chars().any(|c| c.is_ascii_digit())
        && core.chars().any(|c| c.is_ascii_alphabetic())
}

// ---------------------------------------------------------------------------------------------
// The façade.

impl Ops {
    /// The folder user runbooks are read from (`<data_dir>/runbooks`); the window offers to open it.
    pub fn runbooks_folder(&self) -> std::path::PathBuf {
        self.data_dir.join("runbooks")
    }

    /// Every runbook: the built-ins, then the user's `*.md` files that load. Files with mistakes
    /// are listed in `problems` with each mistake's line; they never hide another runbook.
    pub async fn runbook_catalog(&self) -> Result<RunbookCatalog, AppError> {
        let dir = self.runbooks_folder();
        let files = tokio::task::spawn_blocking(move || read_user_runbooks(&dir))
            .await
            .map_err(|_| AppError::internal("Reading the runbooks folder"))?;
        Ok(RunbookCatalog::load(files))
    }

    /// One runbook of the catalog.
    pub async fn runbook(&self, runbook_id: &str) -> Result<Runbook, AppError> {
        let catalog = self.runbook_catalog().await?;
        if let Some(r) = catalog.get(runbook_id) {
            return Ok(r.clone());
        }
        if let Some(p) = catalog.problems.iter().find(|p| p.runbook_id == runbook_id) {
            let first = p.errors.first().map(|e| e.to_string()).unwrap_or_default();
            return Err(AppError::invalid_input(format!(
                "The runbook {} has {} mistake(s) and cannot be used until they are fixed (first: {first}).",
                p.file,
                p.errors.len()
            )));
        }
        Err(AppError::new(
            ErrorCode::NotFound,
            format!("There is no runbook \"{runbook_id}\". Pick one from the Runbooks list."),
        ))
    }

    /// Start a run of `runbook_id` on `profile_id`. `inputs` gives the runbook's run inputs
    /// (those with a default may be left out). A rehearsal is for the Local sandbox only.
    pub async fn start_run(
        &self,
        profile_id: &str,
        runbook_id: &str,
        inputs: BTreeMap<String, String>,
        rehearsal: bool,
    ) -> Result<RunDetail, AppError> {
        let profile = self.store.get_profile(profile_id).await?;
        if rehearsal && !profile.sandbox {
            return Err(AppError::invalid_input(format!(
                "Rehearsals run on the Local sandbox only; profile \"{}\" talks to a real platform. Switch to the Local sandbox profile to rehearse.",
                profile.name
            )));
        }
        let runbook = self.runbook(runbook_id).await?;
        let source = match &runbook.origin {
            RunbookOrigin::BuiltIn => switchyard_runbooks::builtin_source(runbook_id)
                .map(str::to_owned)
                .ok_or_else(|| AppError::internal("Reading a built-in runbook"))?,
            RunbookOrigin::User { path } => std::fs::read_to_string(path).map_err(|e| {
                AppError::invalid_input(format!(
                    "The runbook file {path} could not be read again: {e}."
                ))
            })?,
        };
        // Re-parse what is stored, so the run is exactly what it will read back.
        let runbook = parse_runbook(runbook_id, &source, runbook.origin.clone()).map_err(|errors| {
            AppError::invalid_input(format!(
                "The runbook changed while starting and now has mistakes ({}). Fix the file and start again.",
                errors
                    .first()
                    .map(|e| format!("line {}: {}", e.line, e.message))
                    .unwrap_or_else(|| "no detail".into())
            ))
        })?;
        let mut values = BTreeMap::new();
        let mut problems = Vec::new();
        for given in inputs.keys() {
            if !runbook.inputs.iter().any(|i| &i.name == given) {
                problems.push(format!("it has no input \"{given}\""));
            }
        }
        for input in &runbook.inputs {
            let value = inputs
                .get(&input.name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .or_else(|| input.default.clone());
            match value {
                None => problems.push(format!(
                    "give a {} for \"{}\"",
                    input.kind.as_str(),
                    input.name
                )),
                Some(v) => match input.kind.check(&v) {
                    Ok(()) => {
                        values.insert(input.name.clone(), v);
                    }
                    Err(e) => problems.push(format!("{}: {e}", input.name)),
                },
            }
        }
        if !problems.is_empty() {
            return Err(AppError::invalid_input(format!(
                "The run of \"{}\" was not started: {}.",
                runbook.title,
                problems.join("; ")
            )));
        }
        let now = self.now_ms();
        let n = self.runbooks.ids.fetch_add(1, Ordering::Relaxed);
        let digest = Sha256::digest(format!(
            "{now}/{n}/{}/{profile_id}/{runbook_id}",
            std::process::id()
        ));
        let id = format!("run_{now}_{}", &hex::encode(digest)[..8]);
        let new_run = NewRun {
            id: id.clone(),
            profile_id: profile_id.to_owned(),
            runbook: runbook_id.to_owned(),
            runbook_hash: hex::encode(Sha256::digest(source.as_bytes())),
            title: runbook.title.clone(),
            rehearsal,
            started_ms: now,
            started_by: actor(),
            inputs: serde_json::to_value(&values).unwrap_or_default(),
            source,
            steps: runbook
                .steps
                .iter()
                .map(|s| NewRunStep {
                    step_index: s.index,
                    step_id: s.id.clone(),
                    title: s.title.clone(),
                    checks: s.checks.iter().map(|c| c.text.clone()).collect(),
                })
                .collect(),
        };
        let inputs_text = values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!(
            "{} \"{}\" started on profile \"{}\"{}{}",
            if rehearsal { "Rehearsal of" } else { "Run of" },
            runbook.title,
            profile.name,
            if inputs_text.is_empty() {
                String::new()
            } else {
                format!(" with {inputs_text}")
            },
            "."
        );
        let params = serde_json::json!({ "runbook": runbook_id, "run": id, "rehearsal": rehearsal, "inputs": values });
        self.audited(profile_id, "runbook.start", runbook_id, params, async {
            self.runbooks.spend_write()?;
            self.store
                .create_run(&new_run, &event("run.started", None, now, message))
                .await
        })
        .await?;
        self.run_detail(&id).await
    }

    /// Runs of a profile (or of every profile), newest first, open and finished.
    pub async fn runs(&self, profile_id: Option<&str>) -> Result<Vec<RunSummary>, AppError> {
        let records = self.store.runs(profile_id).await?;
        let mut out = Vec::with_capacity(records.len());
        for run in records {
            let lock = self.runbooks.lock_for(&run.id);
            let _guard = lock.lock().await;
            let steps = self.rb_recover_interrupted(&run).await?;
            out.push(summary(&run, &steps));
        }
        Ok(out)
    }

    /// A run in full. A step that was running when the app stopped reads back as interrupted,
    /// with its partial output; run it again to retry.
    pub async fn run_detail(&self, run_id: &str) -> Result<RunDetail, AppError> {
        let lock = self.runbooks.lock_for(run_id);
        let _guard = lock.lock().await;
        let loaded = self.rb_load(run_id).await?;
        self.rb_detail(loaded).await
    }

    /// What running step `step_index` will do with `values`, and the confirmation it needs.
    pub async fn step_plan(
        &self,
        run_id: &str,
        step_index: u32,
        values: BTreeMap<String, String>,
    ) -> Result<StepPlan, AppError> {
        let loaded = {
            let lock = self.runbooks.lock_for(run_id);
            let _guard = lock.lock().await;
            self.rb_load(run_id).await?
        };
        let profile = self.store.get_profile(&loaded.run.profile_id).await?;
        let (action, _) = resolve_step(&loaded, &profile, step_index, &values)?;
        self.rb_plan_for(&loaded, &profile, step_index, &action)
            .await
    }

    /// Run step `step_index`'s action. The step is written `running` before the call, its output
    /// appended as it streams (and passed to `progress`), and `passed`/`failed` after. An action
    /// that fails is a normal outcome (the step reads failed, with the error); refusals (a gate,
    /// a wrong confirmation, a read-only profile, missing values) are errors and change nothing.
    pub async fn run_step(
        &self,
        run_id: &str,
        step_index: u32,
        request: StepRunRequest,
        progress: impl Fn(StepOutput) + Send + Sync,
    ) -> Result<RunDetail, AppError> {
        let (stop_rx, loaded, profile, action, _live) = {
            let lock = self.runbooks.lock_for(run_id);
            let _guard = lock.lock().await;
            let mut loaded = self.rb_load(run_id).await?;
            check_open(&loaded.run)?;
            let profile = self.store.get_profile(&loaded.run.profile_id).await?;
            let (action, _) = resolve_step(&loaded, &profile, step_index, &request.values)?;
            let st = statuses(&loaded.steps);
            if let Some(b) = blocker(&loaded.runbook, &st, step_index) {
                return Err(AppError::new(ErrorCode::Conflict, b.message()));
            }
            let plan = self
                .rb_plan_for(&loaded, &profile, step_index, &action)
                .await?;
            check_confirmation(&plan, request.confirmation.as_deref())?;

            let (tx, rx) = tokio::sync::watch::channel(false);
            let key = (run_id.to_owned(), step_index);
            self.runbooks
                .live
                .lock()
                .expect("live steps")
                .insert(key.clone(), tx);
            let live = LiveGuard {
                runtime: &self.runbooks,
                key,
            };

            let now = self.now_ms();
            let params = params_of(&action);
            let mut changes = RunChanges::default();
            let step = &mut loaded.steps[step_index as usize];
            step.state = RunStepState::Running.as_str().into();
            step.started_ms = Some(now);
            step.finished_ms = None;
            step.outcome = None;
            step.error = None;
            step.skip_reason = None;
            step.skipped_by_condition = false;
            step.attempts += 1;
            step.params = Some(params_json(&params));
            step.actor = Some(actor());
            let attempt = step.attempts;
            changes.steps.push(step.clone());
            changes.events.push(event(
                "step.started",
                Some(step_index),
                now,
                format!(
                    "{} started{}: {}",
                    step_label(&loaded.runbook, step_index),
                    if attempt > 1 {
                        format!(" (attempt {attempt})")
                    } else {
                        String::new()
                    },
                    action.display()
                ),
            ));
            apply_conditions(&loaded.runbook, &mut loaded.steps, now, &mut changes);
            self.rb_write(run_id, &changes).await?;
            (rx, loaded, profile, action, live)
        };
        // In the audit log from its start: a step cut off by a crash shows as interrupted.
        let label = step_label(&loaded.runbook, step_index);
        let begun = self
            .audit_begin(
                &loaded.run.profile_id,
                "runbook.step",
                &loaded.run.runbook,
                serde_json::json!({
                    "run": run_id,
                    "step": u64::from(step_index) + 1,
                    "label": label,
                    "action": redact(&action.display(), &self.output_secrets(&profile).await),
                }),
            )
            .await;

        let mut sink = OutputSink {
            ops: self,
            run_id: run_id.to_owned(),
            step: step_index,
            progress: &progress,
            stored: loaded.steps[step_index as usize].output.len(),
            truncated: false,
            secrets: self.output_secrets(&profile).await,
        };
        if loaded.steps[step_index as usize].attempts > 1 {
            sink.emit(&format!(
                "--- attempt {} at {} ---",
                loaded.steps[step_index as usize].attempts,
                utc(self.now_ms())
            ))
            .await?;
        }
        let result = match self
            .execute_step_action(
                &loaded, &profile, step_index, &action, &request, &mut sink, stop_rx,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => {
                self.audit_end(begun, &format!("{:?}", e.code), Some(&e.message))
                    .await;
                return Err(e);
            }
        };
        let outcome = if result.passed { "ok" } else { "failed" };
        self.audit_end(begun, outcome, result.error.as_deref())
            .await;

        let lock = self.runbooks.lock_for(run_id);
        let _guard = lock.lock().await;
        let mut loaded = self.rb_load_raw(run_id).await?;
        let now = self.now_ms();
        let mut changes = RunChanges::default();
        {
            let runbook_step = loaded.runbook.steps[step_index as usize].clone();
            let step = &mut loaded.steps[step_index as usize];
            step.outcome = Some(if result.passed { "passed" } else { "failed" }.into());
            step.error = result.error.clone();
            step.finished_ms = Some(now);
            step.state = RunStepState::Pending.as_str().into();
            let st = statuses(std::slice::from_ref(step));
            let settled = settle(&runbook_step, &st[0]);
            step.state = settled.as_str().into();
            changes.steps.push(step.clone());
            let label = step_label(&loaded.runbook, step_index);
            let (kind, message) = match (&result.error, settled) {
                (Some(e), _) => ("step.failed", format!("{label} failed: {e}")),
                (None, RunStepState::Passed) => ("step.passed", format!("{label} passed.")),
                (None, _) => (
                    "step.action-passed",
                    format!("{label}: the action succeeded; tick the step's checks to finish it."),
                ),
            };
            changes
                .events
                .push(event(kind, Some(step_index), now, message));
        }
        if let ResolvedStepAction::Note { text } = &action {
            changes
                .events
                .push(event("note", Some(step_index), now, text.clone()));
        }
        apply_conditions(&loaded.runbook, &mut loaded.steps, now, &mut changes);
        self.rb_write(run_id, &changes).await?;
        drop(_live);
        self.rb_detail(loaded).await
    }

    /// Stop a running step's command (killing its processes). True when something was running.
    pub async fn stop_step(&self, run_id: &str, step_index: u32) -> Result<bool, AppError> {
        let live = self.runbooks.live.lock().expect("live steps");
        match live.get(&(run_id.to_owned(), step_index)) {
            Some(tx) => {
                let _ = tx.send(true);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Tick or untick a manual check. A step whose action succeeded (or that has no action)
    /// passes when its last check is ticked.
    pub async fn set_check(
        &self,
        run_id: &str,
        step_index: u32,
        check_index: u32,
        checked: bool,
    ) -> Result<RunDetail, AppError> {
        let lock = self.runbooks.lock_for(run_id);
        let _guard = lock.lock().await;
        let mut loaded = self.rb_load(run_id).await?;
        check_open(&loaded.run)?;
        let label = step_label(&loaded.runbook, step_index);
        let step = loaded
            .steps
            .get(step_index as usize)
            .ok_or_else(|| no_step(&loaded, step_index))?;
        let check = step.checks.get(check_index as usize).ok_or_else(|| {
            AppError::invalid_input(format!("{label} has no check number {}.", u64::from(check_index) + 1))
        })?;
        if check.checked == checked {
            return self.rb_detail(loaded).await;
        }
        if checked {
            let st = statuses(&loaded.steps);
            if let Some(b) = blocker(&loaded.runbook, &st, step_index) {
                if !matches!(b, StepBlocker::Running) {
                    return Err(AppError::new(ErrorCode::Conflict, b.message()));
                }
            }
        }
        let text = check.text.clone();
        let now = self.now_ms();
        let mut changes = RunChanges::default();
        changes.checks.push(CheckUpdate {
            step_index,
            check_index,
            checked,
            at_ms: now,
            actor: actor(),
        });
        changes.events.push(event(
            if checked {
                "check.ticked"
            } else {
                "check.unticked"
            },
            Some(step_index),
            now,
            format!(
                "{label}: {} \"{text}\"",
                if checked { "checked" } else { "unchecked" }
            ),
        ));
        let step = &mut loaded.steps[step_index as usize];
        step.checks[check_index as usize].checked = checked;
        let before = step.state.clone();
        let st = statuses(std::slice::from_ref(step));
        let settled = settle(&loaded.runbook.steps[step_index as usize], &st[0]);
        if settled.as_str() != before {
            step.state = settled.as_str().into();
            step.actor = Some(actor());
            step.finished_ms = (settled == RunStepState::Passed).then_some(now);
            changes.steps.push(step.clone());
            if settled == RunStepState::Passed {
                changes.events.push(event(
                    "step.passed",
                    Some(step_index),
                    now,
                    format!("{label} passed."),
                ));
            }
            apply_conditions(&loaded.runbook, &mut loaded.steps, now, &mut changes);
        }
        let params = serde_json::json!({
            "step": u64::from(step_index) + 1, "label": label, "check": text, "checked": checked,
        });
        self.rb_write_audited(&loaded.run, "runbook.check", params, &changes)
            .await?;
        self.rb_detail(loaded).await
    }

    /// Mark a step without an action done (its checks, if any, must all be ticked).
    pub async fn complete_step(
        &self,
        run_id: &str,
        step_index: u32,
    ) -> Result<RunDetail, AppError> {
        let lock = self.runbooks.lock_for(run_id);
        let _guard = lock.lock().await;
        let mut loaded = self.rb_load(run_id).await?;
        check_open(&loaded.run)?;
        let label = step_label(&loaded.runbook, step_index);
        let rb_step = loaded
            .runbook
            .step(step_index)
            .ok_or_else(|| no_step(&loaded, step_index))?
            .clone();
        if rb_step.action.is_some() {
            return Err(AppError::invalid_input(format!(
                "{label} has an action: it passes when its action succeeds. Run it, or skip the step with a reason."
            )));
        }
        let st = statuses(&loaded.steps);
        if let Some(b) = blocker(&loaded.runbook, &st, step_index) {
            return Err(AppError::new(ErrorCode::Conflict, b.message()));
        }
        let step = &mut loaded.steps[step_index as usize];
        let open: Vec<String> = step
            .checks
            .iter()
            .filter(|c| !c.checked)
            .map(|c| format!("\"{}\"", c.text))
            .collect();
        if !open.is_empty() {
            return Err(AppError::invalid_input(format!(
                "{label} is not done: tick {} first (or skip the step with a reason).",
                open.join(", ")
            )));
        }
        if step.state == RunStepState::Passed.as_str() {
            return self.rb_detail(loaded).await;
        }
        let now = self.now_ms();
        step.state = RunStepState::Passed.as_str().into();
        step.actor = Some(actor());
        step.started_ms = step.started_ms.or(Some(now));
        step.finished_ms = Some(now);
        step.skip_reason = None;
        step.skipped_by_condition = false;
        let mut changes = RunChanges::default();
        changes.steps.push(step.clone());
        changes.events.push(event(
            "step.done",
            Some(step_index),
            now,
            format!("{label} marked done."),
        ));
        apply_conditions(&loaded.runbook, &mut loaded.steps, now, &mut changes);
        let params = serde_json::json!({ "step": u64::from(step_index) + 1, "label": label });
        self.rb_write_audited(&loaded.run, "runbook.step.done", params, &changes)
            .await?;
        self.rb_detail(loaded).await
    }

    /// Skip a step, saying why. Gates cannot be skipped (abandon the run if one cannot pass).
    pub async fn skip_step(
        &self,
        run_id: &str,
        step_index: u32,
        reason: &str,
    ) -> Result<RunDetail, AppError> {
        let lock = self.runbooks.lock_for(run_id);
        let _guard = lock.lock().await;
        let mut loaded = self.rb_load(run_id).await?;
        check_open(&loaded.run)?;
        let label = step_label(&loaded.runbook, step_index);
        loaded
            .runbook
            .step(step_index)
            .ok_or_else(|| no_step(&loaded, step_index))?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::invalid_input(format!(
                "Say why {label} is skipped; the reason goes in the incident report."
            )));
        }
        if let Some(why) = switchyard_runbooks::gate_skip_refusal(&loaded.runbook, step_index) {
            return Err(AppError::new(ErrorCode::Conflict, why));
        }
        let st = statuses(&loaded.steps);
        if let Some(b @ (StepBlocker::Gate { .. } | StepBlocker::Running)) =
            blocker(&loaded.runbook, &st, step_index)
        {
            return Err(AppError::new(ErrorCode::Conflict, b.message()));
        }
        let now = self.now_ms();
        let step = &mut loaded.steps[step_index as usize];
        step.state = RunStepState::Skipped.as_str().into();
        step.skip_reason = Some(reason.to_owned());
        step.skipped_by_condition = false;
        step.actor = Some(actor());
        step.finished_ms = Some(now);
        let mut changes = RunChanges::default();
        changes.steps.push(step.clone());
        changes.events.push(event(
            "step.skipped",
            Some(step_index),
            now,
            format!("{label} skipped: {reason}"),
        ));
        apply_conditions(&loaded.runbook, &mut loaded.steps, now, &mut changes);
        let params =
            serde_json::json!({ "step": u64::from(step_index) + 1, "label": label, "reason": reason });
        self.rb_write_audited(&loaded.run, "runbook.skip", params, &changes)
            .await?;
        self.rb_detail(loaded).await
    }

    /// Add a note to the run's timeline (optionally about one step). Allowed on finished runs too.
    pub async fn add_run_note(
        &self,
        run_id: &str,
        step_index: Option<u32>,
        text: &str,
    ) -> Result<RunDetail, AppError> {
        let lock = self.runbooks.lock_for(run_id);
        let _guard = lock.lock().await;
        let loaded = self.rb_load(run_id).await?;
        let text = text.trim();
        if text.is_empty() {
            return Err(AppError::invalid_input(
                "The note is empty: write something first.",
            ));
        }
        if let Some(i) = step_index {
            loaded.runbook.step(i).ok_or_else(|| no_step(&loaded, i))?;
        }
        let mut changes = RunChanges::default();
        changes
            .events
            .push(event("note", step_index, self.now_ms(), text.to_owned()));
        // The note as the report shows it: anything that looks like a key replaced by ***.
        let profile = self.store.get_profile(&loaded.run.profile_id).await?;
        let shown = redact(text, &self.output_secrets(&profile).await);
        let params = serde_json::json!({
            "step": step_index.map(|i| u64::from(i) + 1),
            "note": shown.chars().take(500).collect::<String>(),
        });
        self.rb_write_audited(&loaded.run, "runbook.note", params, &changes)
            .await?;
        self.rb_detail(loaded).await
    }

    /// Finish a run: every step must be passed, failed or skipped.
    pub async fn finish_run(&self, run_id: &str) -> Result<RunDetail, AppError> {
        self.rb_end_run(run_id, None).await
    }

    /// Abandon a run, saying why (no step may be running).
    pub async fn abandon_run(&self, run_id: &str, reason: &str) -> Result<RunDetail, AppError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::invalid_input(
                "Say why the run is abandoned; the reason goes in the incident report.",
            ));
        }
        self.rb_end_run(run_id, Some(reason)).await
    }

    async fn rb_end_run(
        &self,
        run_id: &str,
        abandon_reason: Option<&str>,
    ) -> Result<RunDetail, AppError> {
        let lock = self.runbooks.lock_for(run_id);
        let _guard = lock.lock().await;
        let mut loaded = self.rb_load(run_id).await?;
        check_open(&loaded.run)?;
        let st = statuses(&loaded.steps);
        if let Some(i) = st.iter().position(|s| s.state == RunStepState::Running) {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!(
                    "{} is running; wait for it or stop it first.",
                    step_label(&loaded.runbook, i as u32)
                ),
            ));
        }
        let unreached = switchyard_runbooks::not_reached(&loaded.runbook, &st);
        if abandon_reason.is_none() {
            let open: Vec<u32> = unfinished_steps(&st)
                .into_iter()
                .filter(|i| !unreached.contains(i))
                .collect();
            if !open.is_empty() {
                let list: Vec<String> = open.iter().map(|i| (i + 1).to_string()).collect();
                return Err(AppError::invalid_input(format!(
                    "The run is not finished: step{} {} still to do. Run, complete or skip {} (with a reason), or abandon the run.",
                    if open.len() > 1 { "s" } else { "" },
                    list.join(", "),
                    if open.len() > 1 { "them" } else { "it" }
                )));
            }
        }
        let now = self.now_ms();
        let escalation = abandon_reason
            .is_none()
            .then(|| escalation_note(&loaded.runbook, &st))
            .flatten();
        let end_reason = abandon_reason.map(str::to_owned).or(escalation.clone());
        let (state, kind, message) = match (abandon_reason, &escalation) {
            (Some(r), _) => ("abandoned", "run.abandoned", format!("Run abandoned: {r}")),
            (None, Some(why)) => (
                "escalated",
                "run.escalated",
                format!("Run escalated: {why}."),
            ),
            (None, None) => ("finished", "run.finished", "Run finished.".to_owned()),
        };
        let changes = RunChanges {
            run: Some(RunUpdate {
                state: state.into(),
                finished_ms: Some(now),
                finished_by: Some(actor()),
                end_reason: end_reason.clone(),
                rehearsal: loaded.run.rehearsal,
            }),
            events: vec![event(kind, None, now, message)],
            ..Default::default()
        };
        let params = serde_json::json!({ "run": run_id, "reason": abandon_reason });
        self.audited(
            &loaded.run.profile_id,
            &format!("runbook.{state}"),
            &loaded.run.runbook,
            params,
            async { self.rb_write(run_id, &changes).await },
        )
        .await?;
        loaded.run.state = state.into();
        loaded.run.finished_ms = Some(now);
        loaded.run.finished_by = Some(actor());
        loaded.run.end_reason = end_reason;
        self.rb_detail(loaded).await
    }

    /// The run as a Markdown incident report: title, profile, rehearsal marker, timeline (UTC),
    /// every action with its parameters and outcome, checks, skips, notes. Anything that looks
    /// like a key or token is replaced by `***`.
    pub async fn incident_report(&self, run_id: &str) -> Result<String, AppError> {
        let detail = self.run_detail(run_id).await?;
        let secrets = match self.store.get_profile(&detail.summary.profile_id).await {
            Ok(p) => self.redaction_secrets(&p).await,
            Err(_) => Vec::new(),
        };
        let mut text = report(&detail);
        text.push_str(&self.meanwhile(&detail).await);
        Ok(redact(&text, &secrets))
    }

    /// The report's "Meanwhile" section: what else happened on the run's profile while it ran —
    /// actions in other areas (the audit log, without the run's own steps), deployments (the
    /// history cache) and health changes — oldest first. Collected by the incident timeline
    /// (`timeline.rs`).
    async fn meanwhile(&self, d: &RunDetail) -> String {
        let s = &d.summary;
        let to = s.finished_ms.unwrap_or_else(|| self.now_ms());
        let items = self
            .meanwhile_lines(&s.profile_id, &s.id, &s.runbook_id, s.started_ms, to)
            .await;
        let mut out = String::from("\n## Meanwhile, elsewhere in Switchyard (UTC)\n\n");
        if items.is_empty() {
            out.push_str("Nothing else was recorded on this profile while the run was open (no other action, deployment or health change).\n");
        }
        for line in items {
            out.push_str(&format!("- {line}\n"));
        }
        out
    }

    // --- Rehearsal -----------------------------------------------------------------------------

    /// The faults in force in the Local sandbox.
    pub async fn sandbox_faults(&self, profile_id: &str) -> Result<Vec<ActiveFault>, AppError> {
        let url = self.rb_faults_url(profile_id).await?;
        let resp = self
            .http
            .request(reqwest::Method::GET, &url)
            .send()
            .await
            .map_err(|e| sandbox_unreachable(&e))?;
        let body: serde_json::Value = resp.json().await.map_err(|e| sandbox_unreachable(&e))?;
        let mut active: Vec<ActiveFault> = body["faults"]
            .as_array()
            .map(|a| a.iter().map(describe_fault).collect())
            .unwrap_or_default();
        let rehearsal: serde_json::Value = self
            .http
            .request(reqwest::Method::GET, &rehearsal_url(&url))
            .send()
            .await
            .map_err(|e| sandbox_unreachable(&e))?
            .json()
            .await
            .map_err(|e| sandbox_unreachable(&e))?;
        for b in rehearsal["bad_deploys"].as_array().into_iter().flatten() {
            let service = b["service"].as_str().unwrap_or_default();
            active.push(ActiveFault {
                target: format!("{BAD_DEPLOY_PREFIX}{service}"),
                mode: "bad_deploy".into(),
                description: format!(
                    "{service} runs a broken release ({}, deployed by the rehearsal) until it is rolled back or deployed again",
                    b["version_tag"].as_str().unwrap_or("a broken version")
                ),
            });
        }
        Ok(active)
    }

    /// Inject a fault into the Local sandbox. With `run_id`, the run is marked a rehearsal and
    /// the fault goes in its timeline.
    pub async fn inject_fault(
        &self,
        profile_id: &str,
        fault: RehearsalFault,
        run_id: Option<&str>,
    ) -> Result<Vec<ActiveFault>, AppError> {
        let url = self.rb_faults_url(profile_id).await?;
        let (target, body) = fault.target_and_body()?;
        let environment = self.store.get_profile(profile_id).await?.environment;
        let (method, endpoint, body) = match &fault {
            RehearsalFault::BadDeploy { service } => (
                reqwest::Method::POST,
                format!("{}/bad-deploy", rehearsal_url(&url)),
                serde_json::json!({ "service": service, "environment": environment.as_str() }),
            ),
            _ => (reqwest::Method::PUT, format!("{url}/{target}"), body),
        };
        let params = serde_json::json!({ "target": target, "fault": body, "run": run_id });
        self.audited(profile_id, "sandbox.fault", &target, params, async {
            if let Some(run_id) = run_id {
                self.rb_check_rehearsal_run(run_id, profile_id).await?;
            }
            let resp = self
                .http
                .request(method, &endpoint)
                .json(&body)
                .send()
                .await
                .map_err(|e| sandbox_unreachable(&e))?;
            if !resp.status().is_success() {
                let text = resp.text().await.unwrap_or_default();
                return Err(AppError::invalid_input(format!(
                    "The sandbox refused the fault: {text}"
                )));
            }
            Ok(())
        })
        .await?;
        let active = self.sandbox_faults(profile_id).await?;
        if let Some(run_id) = run_id {
            let desc = active
                .iter()
                .find(|f| f.target == target)
                .map(|f| f.description.clone())
                .unwrap_or_else(|| target.clone());
            self.rb_rehearsal_event(
                run_id,
                "fault.injected",
                format!("Rehearsal fault injected: {desc}."),
            )
            .await?;
        }
        Ok(active)
    }

    /// Clear one fault (`target` as listed), or every fault when `target` is None.
    pub async fn clear_fault(
        &self,
        profile_id: &str,
        target: Option<&str>,
        run_id: Option<&str>,
    ) -> Result<Vec<ActiveFault>, AppError> {
        let url = self.rb_faults_url(profile_id).await?;
        let what = target.unwrap_or("all");
        self.audited(
            profile_id,
            "sandbox.fault.clear",
            what,
            serde_json::json!({ "run": run_id }),
            async {
                if let Some(run_id) = run_id {
                    self.rb_check_rehearsal_run(run_id, profile_id).await?;
                }
                let environment = self.store.get_profile(profile_id).await?.environment;
                // A bad deploy is ended by restoring the previous release; "all" ends both kinds.
                let urls = match target {
                    Some(t) => match t.strip_prefix(BAD_DEPLOY_PREFIX) {
                        Some(service) => vec![format!(
                            "{}/bad-deploy/{service}/{}",
                            rehearsal_url(&url),
                            environment.as_str()
                        )],
                        None => vec![format!("{url}/{t}")],
                    },
                    None => vec![url.clone(), rehearsal_url(&url)],
                };
                for full in urls {
                    let resp = self
                        .http
                        .request(reqwest::Method::DELETE, &full)
                        .send()
                        .await
                        .map_err(|e| sandbox_unreachable(&e))?;
                    if !resp.status().is_success() {
                        let text = resp.text().await.unwrap_or_default();
                        return Err(AppError::invalid_input(format!(
                            "The sandbox did not clear the fault: {text}"
                        )));
                    }
                }
                Ok(())
            },
        )
        .await?;
        if let Some(run_id) = run_id {
            let message = match target {
                Some(t) => format!("Rehearsal fault cleared: {t}."),
                None => "Every rehearsal fault cleared.".to_owned(),
            };
            self.rb_rehearsal_event(run_id, "fault.cleared", message)
                .await?;
        }
        self.sandbox_faults(profile_id).await
    }

    // --- Tests ---------------------------------------------------------------------------------

    /// For crash tests: after `writes` more writes of runbook runs, every write fails as if the
    /// app had died there (`None` lifts it). Drop the `Ops` and open the data folder again to
    /// see what a restart sees.
    #[doc(hidden)]
    pub fn simulate_crash_after_writes(&self, writes: Option<u32>) {
        *self.runbooks.writes_left.lock().expect("write budget") = writes;
    }

    // --- Internals -----------------------------------------------------------------------------

    /// Write an operator's change to a run and record it in the audit log (`action`, with the
    /// run and step in its parameters).
    async fn rb_write_audited(
        &self,
        run: &RunRecord,
        action: &str,
        mut params: serde_json::Value,
        changes: &RunChanges,
    ) -> Result<(), AppError> {
        if let Some(m) = params.as_object_mut() {
            m.insert("run".into(), run.id.clone().into());
        }
        self.audited(&run.profile_id, action, &run.runbook, params, async {
            self.rb_write(&run.id, changes).await
        })
        .await
    }

    async fn rb_write(&self, run_id: &str, changes: &RunChanges) -> Result<(), AppError> {
        self.runbooks.spend_write()?;
        self.store.apply_run_changes(run_id, changes).await
    }

    async fn rb_load_raw(&self, run_id: &str) -> Result<Loaded, AppError> {
        let run = self
            .store
            .run(run_id)
            .await?
            .ok_or_else(|| not_found(run_id))?;
        let origin = match run.runbook.strip_prefix(USER_ID_PREFIX) {
            Some(stem) => RunbookOrigin::User {
                path: self
                    .runbooks_folder()
                    .join(format!("{stem}.md"))
                    .display()
                    .to_string(),
            },
            None => RunbookOrigin::BuiltIn,
        };
        let runbook = parse_runbook(&run.runbook, &run.source, origin).map_err(|errors| {
            tracing::error!(
                run = run_id,
                ?errors,
                "a stored run's runbook no longer parses"
            );
            AppError::internal("Reading the runbook of this run")
        })?;
        let steps = self.store.run_steps(run_id).await?;
        if steps.len() != runbook.steps.len() {
            tracing::error!(
                run = run_id,
                "a stored run's steps do not match its runbook"
            );
            return Err(AppError::internal("Reading the steps of this run"));
        }
        Ok(Loaded {
            run,
            runbook,
            steps,
        })
    }

    /// Load a run, turning steps that were running in a process that died into interrupted.
    async fn rb_load(&self, run_id: &str) -> Result<Loaded, AppError> {
        let mut loaded = self.rb_load_raw(run_id).await?;
        loaded.steps = self
            .rb_recover_with(&loaded.run, &loaded.runbook, loaded.steps)
            .await?;
        Ok(loaded)
    }

    async fn rb_recover_interrupted(
        &self,
        run: &RunRecord,
    ) -> Result<Vec<RunStepRecord>, AppError> {
        let steps = self.store.run_steps(&run.id).await?;
        if !steps.iter().any(|s| s.state == "running") {
            return Ok(steps);
        }
        let loaded = self.rb_load_raw(&run.id).await?;
        self.rb_recover_with(&loaded.run, &loaded.runbook, loaded.steps)
            .await
    }

    async fn rb_recover_with(
        &self,
        run: &RunRecord,
        runbook: &Runbook,
        mut steps: Vec<RunStepRecord>,
    ) -> Result<Vec<RunStepRecord>, AppError> {
        let mut changes = RunChanges::default();
        let now = self.now_ms();
        for s in steps.iter_mut() {
            if s.state == "running" && !self.runbooks.is_live(&run.id, s.step_index) {
                s.state = RunStepState::Interrupted.as_str().into();
                changes.steps.push(s.clone());
                changes.events.push(NewRunEvent {
                    actor: "switchyard".into(),
                    ..event(
                        "step.interrupted",
                        Some(s.step_index),
                        now,
                        format!(
                            "{} was running when Switchyard stopped; its output so far is kept. Run it again to retry.",
                            step_label(runbook, s.step_index)
                        ),
                    )
                });
            }
        }
        if !changes.steps.is_empty() {
            self.rb_write(&run.id, &changes).await?;
        }
        Ok(steps)
    }

    async fn rb_detail(&self, loaded: Loaded) -> Result<RunDetail, AppError> {
        let Loaded {
            run,
            runbook,
            steps,
        } = loaded;
        let events = self.store.run_events(&run.id).await?;
        let profile = self.store.get_profile(&run.profile_id).await.ok();
        let st = statuses(&steps);
        let run_steps = steps
            .iter()
            .map(|s| {
                let b = if run.state == "running" {
                    blocker(&runbook, &st, s.step_index)
                } else {
                    None
                };
                RunStep {
                    skip_refusal: (run.state == "running")
                        .then(|| switchyard_runbooks::gate_skip_refusal(&runbook, s.step_index))
                        .flatten(),
                    index: s.step_index,
                    id: s.step_id.clone(),
                    title: s.title.clone(),
                    state: step_state(&s.state),
                    blocker_message: b.as_ref().map(StepBlocker::message),
                    blocker: b,
                    outcome: outcome_of(s.outcome.as_deref()),
                    skip_reason: s.skip_reason.clone(),
                    skipped_by_condition: s.skipped_by_condition,
                    attempts: s.attempts,
                    params: s.params.as_ref().map(params_from_json).unwrap_or_default(),
                    error: s.error.clone(),
                    output: s.output.clone(),
                    started_ms: s.started_ms,
                    finished_ms: s.finished_ms,
                    by: s.actor.clone(),
                    checks: s
                        .checks
                        .iter()
                        .map(|c| RunCheck {
                            index: c.check_index,
                            text: c.text.clone(),
                            checked: c.checked,
                            at_ms: c.at_ms,
                            by: c.actor.clone(),
                        })
                        .collect(),
                }
            })
            .collect();
        let open = run.state == "running";
        Ok(RunDetail {
            not_reached: if open {
                switchyard_runbooks::not_reached(&runbook, &st)
            } else {
                Vec::new()
            },
            escalation: if open {
                escalation_note(&runbook, &st)
            } else {
                None
            },
            summary: summary(&run, &steps),
            profile_name: profile
                .as_ref()
                .map(|p| p.name.clone())
                .unwrap_or_else(|| run.profile_id.clone()),
            environment: profile.as_ref().map(|p| p.environment),
            inputs: inputs_of(&run),
            steps: run_steps,
            events: events
                .into_iter()
                .map(|e| RunEvent {
                    seq: e.seq,
                    step_index: e.event.step_index,
                    at_ms: e.event.at_ms,
                    by: e.event.actor,
                    kind: e.event.kind,
                    message: e.event.message,
                })
                .collect(),
            finished_by: run.finished_by.clone(),
            end_reason: run.end_reason.clone(),
            runbook,
        })
    }

    /// Values a step's output must never show or store: the profile's keys (whatever a command
    /// or an error echoes) and, on the sandbox, its demo credentials.
    async fn output_secrets(&self, profile: &Profile) -> Vec<String> {
        let mut secrets = Vec::new();
        for kind in [SecretKind::DeployApiKey, SecretKind::CloudflareToken] {
            if let Ok(Some(s)) = self.secret_for(profile, kind) {
                secrets.push(s.expose().to_owned());
            }
        }
        if profile.sandbox {
            if let Some(d) = self
                .sandbox_link
                .read()
                .expect("sandbox link lock")
                .as_ref()
                .map(|l| &l.discovery)
            {
                secrets.extend([
                    d.cloudflare_token.clone(),
                    d.deploy_key.clone(),
                    d.readonly_key.clone(),
                ]);
            }
        }
        secrets
    }

    /// What a shell step on `profile_id` adds to its minimal environment: on the Local sandbox,
    /// its Cloudflare API URL, account and demo token (wrangler's `CLOUDFLARE_API_BASE_URL`,
    /// `CLOUDFLARE_ACCOUNT_ID`, `CLOUDFLARE_API_TOKEN`) and the Deploy API's URL; elsewhere
    /// nothing.
    async fn sandbox_env_for(&self, profile_id: &str) -> Vec<(String, String)> {
        let Ok(profile) = self.store.get_profile(profile_id).await else {
            return Vec::new();
        };
        if !profile.sandbox {
            return Vec::new();
        }
        let link = self.sandbox_link.read().expect("sandbox link lock");
        let Some(d) = link.as_ref().map(|l| &l.discovery) else {
            return Vec::new();
        };
        vec![
            (
                "CLOUDFLARE_API_BASE_URL".into(),
                d.cloudflare_api_url.clone(),
            ),
            ("CLOUDFLARE_ACCOUNT_ID".into(), d.account_id.clone()),
            ("CLOUDFLARE_API_TOKEN".into(), d.cloudflare_token.clone()),
            ("SWITCHYARD_DEPLOY_API_URL".into(), d.deploy_api_url.clone()),
        ]
    }

    async fn rb_faults_url(&self, profile_id: &str) -> Result<String, AppError> {
        let profile = self.store.get_profile(profile_id).await?;
        if !profile.sandbox {
            return Err(AppError::invalid_input(format!(
                "Faults can be injected into the Local sandbox only; profile \"{}\" talks to a real platform. Switch to the Local sandbox profile to rehearse.",
                profile.name
            )));
        }
        let link = self.sandbox_link.read().expect("sandbox link lock");
        link.as_ref().map(|l| l.discovery.faults_url.clone()).ok_or_else(|| {
            AppError::new(
                ErrorCode::Unreachable,
                "The Local sandbox is not running, so no fault can be injected. Restart Switchyard to start it.",
            )
        })
    }

    async fn rb_check_rehearsal_run(&self, run_id: &str, profile_id: &str) -> Result<(), AppError> {
        let run = self
            .store
            .run(run_id)
            .await?
            .ok_or_else(|| not_found(run_id))?;
        if run.profile_id != profile_id {
            return Err(AppError::invalid_input(
                "That run belongs to another profile; rehearse in a run started on the Local sandbox.",
            ));
        }
        check_open(&run)
    }

    async fn rb_rehearsal_event(
        &self,
        run_id: &str,
        kind: &str,
        message: String,
    ) -> Result<(), AppError> {
        let lock = self.runbooks.lock_for(run_id);
        let _guard = lock.lock().await;
        let run = self
            .store
            .run(run_id)
            .await?
            .ok_or_else(|| not_found(run_id))?;
        let changes = RunChanges {
            run: Some(RunUpdate {
                state: run.state.clone(),
                finished_ms: run.finished_ms,
                finished_by: run.finished_by.clone(),
                end_reason: run.end_reason.clone(),
                rehearsal: true,
            }),
            events: vec![event(kind, None, self.now_ms(), message)],
            ..Default::default()
        };
        self.rb_write(run_id, &changes).await
    }

    /// The plan of a resolved action: what it does, and the confirmation it needs.
    async fn rb_plan_for(
        &self,
        loaded: &Loaded,
        profile: &Profile,
        step_index: u32,
        action: &ResolvedStepAction,
    ) -> Result<StepPlan, AppError> {
        let env = |e: &Option<Environment>| e.unwrap_or(profile.environment);
        let ns = |n: &Option<String>| n.clone().unwrap_or_else(|| profile.namespace.clone());
        let display = action.display();
        let read_only = profile.protection == Protection::ReadOnly;
        let blocked = |what: &str| {
            StepConfirmation {
            kind: StepConfirmationKind::Blocked,
            phrase: None,
            reason: format!(
                "Profile \"{}\" is read-only, so {what} is disabled. Change its protection in Settings to make changes.",
                profile.name
            ),
        }
        };
        let none = StepConfirmation {
            kind: StepConfirmationKind::None,
            phrase: None,
            reason: "Reads only; changes nothing.".into(),
        };
        let mut plan = StepPlan {
            run_id: loaded.run.id.clone(),
            step_index,
            action: action.name().to_owned(),
            display: display.clone(),
            summary: String::new(),
            params: params_of(action),
            mutates: false,
            command: None,
            folder: None,
            timeout_secs: None,
            confirmation: none,
            basis: None,
        };
        match action {
            ResolvedStepAction::Health { target, service } => {
                plan.summary = match (target, service) {
                    (HealthTarget::Services, Some(s)) => format!("Check the health of {s}"),
                    (HealthTarget::Services, None) => "Check the health of every service".into(),
                    (HealthTarget::Dispatcher, _) => "Check the dispatcher's health".into(),
                    (HealthTarget::DeployApi, _) => "Check the Deploy API's health".into(),
                }
            }
            ResolvedStepAction::Deployments {
                service,
                environment,
                limit,
                status,
            } => {
                plan.summary = format!(
                    "List the last {limit} deployments{}{}{}",
                    service
                        .as_ref()
                        .map(|s| format!(" of {s}"))
                        .unwrap_or_default(),
                    environment.map(|e| format!(" in {e}")).unwrap_or_default(),
                    status.map(|s| format!(", {s} only")).unwrap_or_default()
                )
            }
            ResolvedStepAction::Logs { service, seconds } => {
                plan.summary = format!(
                    "Capture what {service}'s code logs for {seconds} seconds (its requests, console lines and exceptions)"
                )
            }
            ResolvedStepAction::NamespaceList => {
                plan.summary = "List the dispatch namespaces".into()
            }
            ResolvedStepAction::NamespaceGet { namespace } => {
                plan.summary = format!("Read namespace {}", ns(namespace))
            }
            ResolvedStepAction::NamespaceScripts { namespace, service } => {
                plan.summary = format!(
                    "List the workers of {}{}",
                    ns(namespace),
                    service
                        .as_ref()
                        .map(|s| format!(" and look for {s}"))
                        .unwrap_or_default()
                )
            }
            ResolvedStepAction::ValidateKey => {
                plan.summary = "Test the profile's Deploy API key".into()
            }
            ResolvedStepAction::Permissions { user, require } => {
                plan.summary = format!(
                    "List the permissions of {}{}",
                    user.clone().unwrap_or_else(|| "the key's user".into()),
                    require
                        .as_ref()
                        .map(|r| format!(" and look for {r}"))
                        .unwrap_or_default()
                )
            }
            ResolvedStepAction::Note { .. } => plan.summary = "Add a note to the run".into(),
            ResolvedStepAction::NamespaceCreate { namespace } => {
                let name = ns(namespace);
                plan.mutates = true;
                plan.summary = format!("Create dispatch namespace {name}");
                plan.confirmation = if read_only {
                    blocked("creating a namespace")
                } else if profile.environment == Environment::Production {
                    StepConfirmation {
                        kind: StepConfirmationKind::TypeName,
                        phrase: Some(name.clone()),
                        reason: format!("This changes production: type {name} to create it."),
                    }
                } else {
                    StepConfirmation {
                        kind: StepConfirmationKind::Confirm,
                        phrase: Some(display.clone()),
                        reason: format!(
                            "Creates namespace {name} in the account of \"{}\".",
                            profile.name
                        ),
                    }
                };
            }
            ResolvedStepAction::Command {
                folder,
                command,
                timeout_secs,
            } => {
                plan.mutates = true;
                plan.summary = format!("Run `{command}` in {folder}");
                plan.command = Some(command.clone());
                plan.folder = Some(folder.clone());
                plan.timeout_secs = Some(*timeout_secs);
                plan.confirmation = if read_only {
                    blocked("running local commands")
                } else {
                    StepConfirmation {
                        kind: StepConfirmationKind::Confirm,
                        phrase: Some(command.clone()),
                        reason: format!("Runs this command on this computer, in {folder}, for at most {timeout_secs} s."),
                    }
                };
            }
            ResolvedStepAction::Rollback {
                service,
                environment,
            } => {
                plan.mutates = true;
                let e = env(environment);
                plan.summary = format!("Roll {service} in {e} back to its previous deployment");
                let p = self.rollback_plan(&profile.id, service, e).await?;
                plan.confirmation = confirmation_from(
                    &p.confirmation,
                    &display,
                    read_only,
                    p.blocked_reason.as_deref(),
                );
                if !p.action.is_empty() {
                    plan.summary = p.action.clone();
                }
                plan.basis = Some(p.basis);
            }
            ResolvedStepAction::Redeploy {
                service,
                version,
                environment,
            } => {
                plan.mutates = true;
                let e = env(environment);
                let deployment_id = self
                    .rb_archived_deployment(&profile.id, service, e, version)
                    .await?;
                let p = self.restore_plan(&profile.id, &deployment_id).await?;
                plan.summary = if p.action.is_empty() {
                    format!("Redeploy {service} {version} in {e}")
                } else {
                    p.action.clone()
                };
                plan.confirmation = confirmation_from(&p.confirmation, &display, read_only, None);
                plan.basis = Some(p.basis);
            }
            ResolvedStepAction::DirectDeploy {
                service,
                version,
                namespace,
                environment,
            } => {
                plan.mutates = true;
                let e = env(environment);
                let deployment_id = self
                    .rb_archived_deployment(&profile.id, service, e, version)
                    .await?;
                let p = self
                    .direct_deploy_plan(&profile.id, &deployment_id, Some(e))
                    .await?;
                if let Some(n) = namespace {
                    if *n != p.namespace {
                        return Err(AppError::invalid_input(format!(
                            "The direct deploy goes to {} (the namespace of {e}), not {n}: set environment= to the namespace's environment.",
                            p.namespace
                        )));
                    }
                }
                plan.summary = if p.action.is_empty() {
                    format!(
                        "Upload {service} {version} straight to namespace {}",
                        p.namespace
                    )
                } else {
                    p.action.clone()
                };
                plan.confirmation = confirmation_from(&p.confirmation, &display, read_only, None);
                plan.basis = Some(p.basis);
            }
        }
        Ok(plan)
    }

    /// The deployment id of an archived `version` of a service (a deployment id is taken as is).
    async fn rb_archived_deployment(
        &self,
        profile_id: &str,
        service: &str,
        environment: Environment,
        version: &str,
    ) -> Result<String, AppError> {
        if version.starts_with("deploy_") {
            return Ok(version.to_owned());
        }
        let list = self.versions(profile_id, service, environment).await?;
        let matching: Vec<_> = list
            .rows
            .iter()
            .filter(|r| {
                r.deployment.version_tag.as_deref() == Some(version)
                    || r.deployment.version.as_deref() == Some(version)
                    || r.deployment.metadata.version.as_deref() == Some(version)
                    || r.deployment.metadata.commit.starts_with(version) && version.len() >= 7
            })
            .collect();
        match matching.iter().find(|r| r.restorable).or(matching.first()) {
            Some(r) => Ok(r.deployment.id.clone()),
            None => Err(AppError::new(
                ErrorCode::NotFound,
                format!("{service} in {environment} has no archived version \"{version}\". Pick one from the versions list (Deployments → {service})."),
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn execute_step_action<P: Fn(StepOutput) + Send + Sync>(
        &self,
        loaded: &Loaded,
        profile: &Profile,
        step_index: u32,
        action: &ResolvedStepAction,
        request: &StepRunRequest,
        sink: &mut OutputSink<'_, P>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<ActionResult, AppError> {
        let result = self
            .dispatch_step_action(loaded, profile, step_index, action, request, sink, stop)
            .await;
        match result {
            Ok(r) => {
                if let Some(e) = &r.error {
                    sink.emit(&format!("✗ {e}")).await?;
                }
                Ok(r)
            }
            // A failed write of the output is the store failing: the step cannot be recorded.
            Err(Failure::Store(e)) => Err(e),
            Err(Failure::Action(e)) => {
                sink.emit(&format!("✗ {}", e.message)).await?;
                Ok(ActionResult::fail(e.message))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn dispatch_step_action<P: Fn(StepOutput) + Send + Sync>(
        &self,
        loaded: &Loaded,
        profile: &Profile,
        step_index: u32,
        action: &ResolvedStepAction,
        request: &StepRunRequest,
        sink: &mut OutputSink<'_, P>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<ActionResult, Failure> {
        let pid = profile.id.as_str();
        let env = |e: &Option<Environment>| e.unwrap_or(profile.environment);
        let ns = |n: &Option<String>| n.clone().unwrap_or_else(|| profile.namespace.clone());
        let reason = format!(
            "Runbook \"{}\", {} (run {})",
            loaded.runbook.title,
            step_label(&loaded.runbook, step_index),
            loaded.run.id
        );
        let confirmation = crate::Confirmation {
            confirmed: true,
            typed: request.confirmation.clone(),
            basis: request.basis.clone(),
        };
        match action {
            ResolvedStepAction::Health { target, service } => {
                let board = self.check_health(pid, HEALTH_TIMEOUT_MS).await?;
                let rows: Vec<_> = board
                    .results
                    .iter()
                    .filter(|r| match target {
                        HealthTarget::Services => {
                            r.kind == HealthTargetKind::Service
                                && service.as_ref().is_none_or(|s| &r.name == s)
                        }
                        HealthTarget::Dispatcher => r.kind == HealthTargetKind::Dispatcher,
                        HealthTarget::DeployApi => r.kind == HealthTargetKind::DeployApi,
                    })
                    .collect();
                if rows.is_empty() {
                    return Err(Failure::Action(AppError::invalid_input(match (target, service) {
                        (HealthTarget::Services, Some(s)) => format!(
                            "Profile \"{}\" has no service \"{s}\". Add it to the profile's services in Settings, or pick another.",
                            profile.name
                        ),
                        (HealthTarget::Dispatcher, _) => format!(
                            "Profile \"{}\" has no dispatcher URL. Add it in Settings to check the dispatcher.",
                            profile.name
                        ),
                        _ => "There is nothing to check.".into(),
                    })));
                }
                let mut text = String::new();
                let mut down = Vec::new();
                for r in &rows {
                    let status = r
                        .http_status
                        .map(|s| format!("HTTP {s}"))
                        .unwrap_or_else(|| "no answer".into());
                    let state = match r.state {
                        HealthStatus::Up => "up",
                        HealthStatus::UpNeedsKey => "up (needs a key)",
                        HealthStatus::Down => "DOWN",
                    };
                    let _ = write!(
                        text,
                        "{:<12} {:<16} {:<10} {:>5} ms",
                        r.name, state, status, r.latency_ms
                    );
                    if let Some(d) = &r.detail {
                        let _ = write!(text, "  {d}");
                    }
                    text.push('\n');
                    if r.state == HealthStatus::Down {
                        down.push(r.name.clone());
                    }
                }
                let up = rows.len() - down.len();
                let _ = write!(text, "{up}/{} up", rows.len());
                sink.emit(&text).await.map_err(Failure::Store)?;
                Ok(if down.is_empty() {
                    ActionResult::pass()
                } else {
                    ActionResult::fail(format!("{} down: {}", down.len(), down.join(", ")))
                })
            }
            ResolvedStepAction::Deployments {
                service,
                environment,
                limit,
                status,
            } => {
                let key = self
                    .secret_for(profile, SecretKind::DeployApiKey)?
                    .ok_or_else(|| {
                        AppError::new(
                            ErrorCode::InvalidApiKey,
                            format!(
                                "Profile \"{}\" has no Deploy API key yet. Add it in Settings.",
                                profile.name
                            ),
                        )
                    })?;
                let api = DeployApi::new(self.http.clone(), &profile.deploy_api_url, key);
                let list = api
                    .list(&DeploymentQuery {
                        service: service.clone(),
                        environment: *environment,
                        limit: Some(*limit),
                    })
                    .await?;
                if let Err(e) = self
                    .store
                    .upsert_deployments(pid, &list.deployments, self.now_ms())
                    .await
                {
                    tracing::warn!(error = %e.message, "could not cache the deployments a runbook listed");
                }
                let rows: Vec<_> = list
                    .deployments
                    .iter()
                    .filter(|d| status.is_none_or(|s| d.status == s))
                    .collect();
                let mut text = String::new();
                for d in &rows {
                    let _ = writeln!(
                        text,
                        "{}  {:<10} {:<12} {:<12} {:<10} {}",
                        d.timestamp,
                        d.service,
                        d.environment,
                        d.status,
                        d.version_tag.as_deref().unwrap_or("-"),
                        d.id
                    );
                }
                let _ = write!(
                    text,
                    "{} deployment{}{}",
                    rows.len(),
                    if rows.len() == 1 { "" } else { "s" },
                    status
                        .map(|s| format!(" {s} (of the last {})", list.deployments.len()))
                        .unwrap_or_default()
                );
                sink.emit(&text).await.map_err(Failure::Store)?;
                Ok(ActionResult::pass())
            }
            ResolvedStepAction::Logs { service, seconds } => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                let session = self
                    .start_logs(
                        crate::LogsRequest {
                            profile_id: pid.to_owned(),
                            services: vec![service.clone()],
                        },
                        move |e| {
                            let _ = tx.send(e);
                        },
                    )
                    .await?;
                sink.emit(&format!(
                    "Tailing {service} for {seconds} s (requests, console lines, exceptions)…\n"
                ))
                .await
                .map_err(Failure::Store)?;
                let deadline = tokio::time::Instant::now()
                    + std::time::Duration::from_secs(u64::from(*seconds));
                let mut stop = stop.clone();
                let (mut invocations, mut failures) = (0u32, 0u32);
                let mut stopped_early = false;
                loop {
                    let event = tokio::select! {
                        e = rx.recv() => e,
                        _ = tokio::time::sleep_until(deadline) => break,
                        _ = stop.changed() => { stopped_early = true; break }
                    };
                    let text = match event {
                        Some(crate::LogsEvent::Line { line }) => {
                            invocations += 1;
                            if line.outcome != "ok" || !line.exceptions.is_empty() {
                                failures += 1;
                            }
                            line.to_text()
                        }
                        Some(crate::LogsEvent::Reconnecting {
                            reason,
                            retry_in_ms,
                            ..
                        }) => {
                            format!(
                                "(the tail broke: {reason}; reconnecting in {} s)\n",
                                retry_in_ms / 1000
                            )
                        }
                        Some(_) => continue,
                        None => break,
                    };
                    sink.emit(&text).await.map_err(Failure::Store)?;
                }
                self.stop_logs(session).await?;
                sink.emit(&format!(
                    "{invocations} request{} of {service} in {}{}; {failures} failed.",
                    if invocations == 1 { "" } else { "s" },
                    if stopped_early {
                        "the time before it was stopped".to_owned()
                    } else {
                        format!("{seconds} s")
                    },
                    if invocations == 0 {
                        " (nothing reached it while the tail was open)"
                    } else {
                        ""
                    },
                ))
                .await
                .map_err(Failure::Store)?;
                Ok(ActionResult::pass())
            }
            ResolvedStepAction::NamespaceList => {
                let list = self.list_namespaces(pid).await?;
                let mut text = String::new();
                for n in &list {
                    let _ = writeln!(
                        text,
                        "{:<28} {:>6} workers{}",
                        n.name,
                        n.script_count,
                        if n.trusted_workers { "  trusted" } else { "" }
                    );
                }
                let _ = write!(
                    text,
                    "{} namespace{}",
                    list.len(),
                    if list.len() == 1 { "" } else { "s" }
                );
                sink.emit(&text).await.map_err(Failure::Store)?;
                Ok(ActionResult::pass())
            }
            ResolvedStepAction::NamespaceGet { namespace } => {
                let name = ns(namespace);
                let list = self.list_namespaces(pid).await?;
                match list.iter().find(|n| n.name == name) {
                    Some(n) => {
                        sink.emit(&format!(
                            "{}\n  id: {}\n  workers: {}\n  trusted: {}\n  created: {}",
                            n.name,
                            n.id.as_deref().unwrap_or("-"),
                            n.script_count,
                            if n.trusted_workers { "yes" } else { "no" },
                            n.created_on.as_deref().unwrap_or("-")
                        ))
                        .await
                        .map_err(Failure::Store)?;
                        Ok(ActionResult::pass())
                    }
                    None => Ok(ActionResult::fail(format!(
                        "Namespace {name} does not exist in the account (there {} {}: {}).",
                        if list.len() == 1 { "is" } else { "are" },
                        list.len(),
                        list.iter()
                            .map(|n| n.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))),
                }
            }
            ResolvedStepAction::NamespaceCreate { namespace } => {
                let name = ns(namespace);
                let created = self.create_namespace(pid, &name).await?;
                sink.emit(&format!(
                    "Created namespace {} (id {}).",
                    created.name,
                    created.id.as_deref().unwrap_or("-")
                ))
                .await
                .map_err(Failure::Store)?;
                Ok(ActionResult::pass())
            }
            ResolvedStepAction::NamespaceScripts { namespace, service } => {
                let name = ns(namespace);
                let rows = self.list_workers(pid, &name).await?;
                let mut text = String::new();
                for w in rows.iter().take(200) {
                    let _ = writeln!(
                        text,
                        "{:<28} {:<12} {:<10} {}",
                        w.name,
                        w.environment.as_deref().unwrap_or("-"),
                        w.version.as_deref().unwrap_or("-"),
                        w.commit
                            .as_deref()
                            .map(switchyard_core::short_commit)
                            .unwrap_or_else(|| "-".into())
                    );
                }
                if rows.len() > 200 {
                    let _ = writeln!(text, "… and {} more", rows.len() - 200);
                }
                let _ = write!(
                    text,
                    "{} worker{} in {name}",
                    rows.len(),
                    if rows.len() == 1 { "" } else { "s" }
                );
                sink.emit(&text).await.map_err(Failure::Store)?;
                match service {
                    Some(s) if !rows.iter().any(|w| &w.name == s || w.service.as_deref() == Some(s.as_str())) => {
                        Ok(ActionResult::fail(format!(
                            "Worker {s} is not in namespace {name}: deploy it through the Deploy API."
                        )))
                    }
                    _ => Ok(ActionResult::pass()),
                }
            }
            ResolvedStepAction::ValidateKey => {
                let check = self.validate_key(pid).await?;
                sink.emit(&format!(
                    "user: {}\npermissions: {}\nmay deploy: {}\nDeploy API accepts the key: {}",
                    check.user_id.as_deref().unwrap_or("unknown"),
                    if check.permissions.is_empty() {
                        "none".to_owned()
                    } else {
                        check.permissions.join(", ")
                    },
                    if check.can_deploy { "yes" } else { "no" },
                    if check.deploy_api_accepts {
                        "yes"
                    } else {
                        "no"
                    }
                ))
                .await
                .map_err(Failure::Store)?;
                Ok(if !check.can_deploy {
                    ActionResult::fail(
                        "The key is valid but lacks the deploy permission (deployments:create).",
                    )
                } else if !check.deploy_api_accepts {
                    ActionResult::fail("The Deploy API does not accept the key.")
                } else {
                    ActionResult::pass()
                })
            }
            ResolvedStepAction::Permissions { user, require } => {
                let key = self
                    .secret_for(profile, SecretKind::DeployApiKey)?
                    .ok_or_else(|| {
                        AppError::new(
                            ErrorCode::InvalidApiKey,
                            format!(
                                "Profile \"{}\" has no Deploy API key yet. Add it in Settings.",
                                profile.name
                            ),
                        )
                    })?;
                let auth = AuthApi::new(self.http.clone(), &profile.auth_url);
                let user = match user {
                    Some(u) => u.clone(),
                    None => auth.validate_key(&key).await?.user_id.ok_or_else(|| {
                        AppError::new(ErrorCode::InvalidResponse, "The auth service did not say whose key this is; give user= in the runbook.")
                    })?,
                };
                let perms = auth.permissions(&key, &user).await?;
                sink.emit(&format!(
                    "{user}: {}",
                    if perms.is_empty() {
                        "no permissions".to_owned()
                    } else {
                        perms.join(", ")
                    }
                ))
                .await
                .map_err(Failure::Store)?;
                match require {
                    Some(r) if !perms.iter().any(|p| p == r) => Ok(ActionResult::fail(format!(
                        "{user} lacks the permission {r}."
                    ))),
                    _ => Ok(ActionResult::pass()),
                }
            }
            ResolvedStepAction::Note { text } => {
                sink.emit(text).await.map_err(Failure::Store)?;
                Ok(ActionResult::pass())
            }
            ResolvedStepAction::Command {
                folder,
                command,
                timeout_secs,
            } => {
                self.rb_run_command(pid, folder, command, *timeout_secs, sink, stop)
                    .await
            }
            ResolvedStepAction::Rollback {
                service,
                environment,
            } => {
                let lines = Arc::new(Mutex::new(Vec::<String>::new()));
                let outcome = self
                    .rollback(
                        crate::RollbackRequest {
                            profile_id: pid.to_owned(),
                            service: service.clone(),
                            environment: env(environment),
                            reason,
                            confirmation,
                            run_id: None,
                        },
                        deploy_event_sink(&lines, sink.progress, &sink.run_id, step_index),
                    )
                    .await;
                flush_lines(&lines, sink).await?;
                let o = outcome?;
                sink.emit(&format!(
                    "{} in {} is back on {} ({}).\nhealth: {}",
                    o.deployment.service,
                    o.deployment.environment,
                    o.deployment
                        .version_tag
                        .as_deref()
                        .unwrap_or("the previous version"),
                    o.deployment.id,
                    if o.verification.health_ok {
                        "ok"
                    } else {
                        o.verification.health_detail.as_str()
                    }
                ))
                .await
                .map_err(Failure::Store)?;
                Ok(ActionResult::pass())
            }
            ResolvedStepAction::Redeploy {
                service,
                version,
                environment,
            } => {
                let deployment_id = self
                    .rb_archived_deployment(pid, service, env(environment), version)
                    .await?;
                let lines = Arc::new(Mutex::new(Vec::<String>::new()));
                let outcome = self
                    .restore_version(
                        crate::RestoreRequest {
                            profile_id: pid.to_owned(),
                            deployment_id,
                            reason,
                            confirmation,
                            run_id: None,
                        },
                        deploy_event_sink(&lines, sink.progress, &sink.run_id, step_index),
                    )
                    .await;
                flush_lines(&lines, sink).await?;
                let o = outcome?;
                sink.emit(&format!(
                    "Deployed {} {} ({}).\nhealth: {}",
                    o.deployment.service,
                    o.deployment.version_tag.as_deref().unwrap_or(version),
                    o.deployment.id,
                    if o.verification.health_ok {
                        "ok"
                    } else {
                        o.verification.health_detail.as_str()
                    }
                ))
                .await
                .map_err(Failure::Store)?;
                Ok(ActionResult::pass())
            }
            ResolvedStepAction::DirectDeploy {
                service,
                version,
                environment,
                ..
            } => {
                let e = env(environment);
                let deployment_id = self
                    .rb_archived_deployment(pid, service, e, version)
                    .await?;
                let lines = Arc::new(Mutex::new(Vec::<String>::new()));
                let outcome = self
                    .direct_deploy(
                        crate::DirectDeployRequest {
                            profile_id: pid.to_owned(),
                            deployment_id,
                            environment: Some(e),
                            reason,
                            confirmation,
                            run_id: None,
                        },
                        deploy_event_sink(&lines, sink.progress, &sink.run_id, step_index),
                    )
                    .await;
                flush_lines(&lines, sink).await?;
                let o = outcome?;
                sink.emit(&format!(
                    "Uploaded {} straight to namespace {} (recorded in the audit log as a manual deployment).\nhealth: {}",
                    o.script,
                    o.namespace,
                    if o.verification.health_ok { "ok" } else { o.verification.health_detail.as_str() }
                ))
                .await
                .map_err(Failure::Store)?;
                Ok(ActionResult::pass())
            }
        }
    }

    async fn rb_run_command<P: Fn(StepOutput) + Send + Sync>(
        &self,
        profile_id: &str,
        folder: &str,
        command: &str,
        timeout_secs: u32,
        sink: &mut OutputSink<'_, P>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<ActionResult, Failure> {
        use tokio::io::AsyncBufReadExt;
        let dir = Path::new(folder);
        if !dir.is_dir() {
            return Ok(ActionResult::fail(format!(
                "The folder {folder} does not exist or is not a folder. Choose the right folder and run the step again."
            )));
        }
        sink.emit(&format!("$ {command}    (in {folder})"))
            .await
            .map_err(Failure::Store)?;
        let mut cmd = if cfg!(windows) {
            let mut c = tokio::process::Command::new("cmd");
            c.arg("/C").arg(command);
            c
        } else {
            let mut c = tokio::process::Command::new("sh");
            c.arg("-c").arg(command);
            c
        };
        // A minimal environment: no token or key the app was started with. On the Local sandbox
        // the step gets the sandbox's URLs and demo credentials, so a rehearsal's wrangler or
        // curl can never reach a real account.
        let extra = self.sandbox_env_for(profile_id).await;
        cmd.env_clear()
            .envs(crate::process::minimal_env(std::env::vars(), &extra))
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                return Ok(ActionResult::fail(format!(
                    "The command could not be started: {e}."
                )))
            }
        };
        let pid = child.id();
        let begun = self
            .audit_begin(
                profile_id,
                "runbook.command",
                folder,
                serde_json::json!({ "command": command, "folder": folder }),
            )
            .await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        if let Some(out) = child.stdout.take() {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(out).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
            });
        }
        if let Some(err) = child.stderr.take() {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(err).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let deadline = tokio::time::sleep(Duration::from_secs(u64::from(timeout_secs)));
        tokio::pin!(deadline);
        let mut status = None;
        let mut ended_by: Option<&str> = None;
        let mut output_open = true;
        while status.is_none() || output_open {
            tokio::select! {
                line = rx.recv(), if output_open => match line {
                    Some(l) => sink.emit(&l).await.map_err(Failure::Store)?,
                    None => output_open = false,
                },
                s = child.wait(), if status.is_none() => {
                    status = Some(s);
                }
                _ = &mut deadline, if ended_by.is_none() => {
                    ended_by = Some("timeout");
                    kill_tree(&mut child, pid);
                }
                changed = stop.changed(), if ended_by.is_none() => {
                    if changed.is_ok() && *stop.borrow() {
                        ended_by = Some("stopped");
                        kill_tree(&mut child, pid);
                    }
                }
            }
            if ended_by.is_some() && status.is_some() {
                // Grandchildren may hold the pipes open; do not wait for them.
                break;
            }
        }
        let result = match (ended_by, status) {
            (Some("timeout"), _) => ActionResult::fail(format!(
                "The command did not finish within {timeout_secs} s and was stopped."
            )),
            (Some(_), _) => ActionResult::fail("Stopped by the operator."),
            (None, Some(Ok(s))) if s.success() => ActionResult::pass(),
            (None, Some(Ok(s))) => ActionResult::fail(match s.code() {
                Some(code) => format!("The command failed with exit status {code}."),
                None => "The command was killed by a signal.".to_owned(),
            }),
            (None, Some(Err(e))) => {
                ActionResult::fail(format!("Waiting for the command failed: {e}."))
            }
            (None, None) => ActionResult::fail("The command ended without an exit status."),
        };
        let outcome = if result.passed { "ok" } else { "failed" };
        self.audit_end(begun, outcome, result.error.as_deref())
            .await;
        Ok(result)
    }
}

/// Why an action did not produce an outcome: its own failure (the step fails) or the store's
/// (the step cannot be recorded; the run is left as a crash would leave it).
enum Failure {
    Action(AppError),
    Store(AppError),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::Action(e)
    }
}

fn kill_tree(child: &mut tokio::process::Child, pid: Option<u32>) {
    // The command leads its own process group: end the whole group (pnpm, node, …).
    if let Some(pid) = pid {
        crate::process::signal_group(pid, crate::process::Stop::Kill);
    }
    let _ = child.start_kill();
}

fn deploy_event_sink<'a>(
    lines: &'a Arc<Mutex<Vec<String>>>,
    progress: &'a (impl Fn(StepOutput) + Send + Sync),
    run_id: &'a str,
    step_index: u32,
) -> impl Fn(crate::DeployEvent) + Send + Sync + 'a {
    move |e| {
        let text = match e {
            crate::DeployEvent::Step(s) => {
                let state = serde_json::to_value(s.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let step = serde_json::to_value(s.step)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                match s.detail {
                    Some(d) => format!("[{step}] {state}: {d}"),
                    None => format!("[{step}] {state}"),
                }
            }
            crate::DeployEvent::Output(o) => o.line,
            crate::DeployEvent::Preflight(p) => p
                .checks
                .iter()
                .map(|c| format!("preflight {}: {}", c.label, c.detail))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        progress(StepOutput {
            run_id: run_id.to_owned(),
            step_index,
            text: format!("{text}\n"),
        });
        lines.lock().expect("deploy output").push(text);
    }
}

/// Store what a deploy operation streamed (it was already shown live).
async fn flush_lines<P: Fn(StepOutput) + Send + Sync>(
    lines: &Arc<Mutex<Vec<String>>>,
    sink: &mut OutputSink<'_, P>,
) -> Result<(), Failure> {
    let text = std::mem::take(&mut *lines.lock().expect("deploy output")).join("\n");
    if text.is_empty() {
        return Ok(());
    }
    // Already streamed: store without showing twice.
    let stored = format!("{text}\n");
    if sink.stored + stored.len() <= MAX_STEP_OUTPUT_BYTES {
        sink.stored += stored.len();
        sink.ops.runbooks.spend_write().map_err(Failure::Store)?;
        sink.ops
            .store
            .append_step_output(&sink.run_id, sink.step, &stored)
            .await
            .map_err(Failure::Store)?;
    }
    Ok(())
}

fn confirmation_from(
    req: &crate::ConfirmationRequirement,
    display: &str,
    read_only: bool,
    blocked_reason: Option<&str>,
) -> StepConfirmation {
    use crate::ConfirmationKind as K;
    // A plan blocked for another reason than the profile (no previous deployment…) still runs:
    // the call fails with that reason and the step records it.
    let _ = blocked_reason;
    match req.kind {
        K::Blocked => StepConfirmation {
            kind: StepConfirmationKind::Blocked,
            phrase: None,
            reason: req.reason.clone(),
        },
        _ if read_only => StepConfirmation {
            kind: StepConfirmationKind::Blocked,
            phrase: None,
            reason: req.reason.clone(),
        },
        K::TypeName => StepConfirmation {
            kind: StepConfirmationKind::TypeName,
            phrase: req.phrase.clone(),
            reason: req.reason.clone(),
        },
        // Every change made from a runbook is confirmed, even where the Deploy area would not ask.
        K::Confirm | K::None => StepConfirmation {
            kind: StepConfirmationKind::Confirm,
            phrase: Some(display.to_owned()),
            reason: req.reason.clone(),
        },
    }
}

fn check_confirmation(plan: &StepPlan, given: Option<&str>) -> Result<(), AppError> {
    match plan.confirmation.kind {
        StepConfirmationKind::None => Ok(()),
        // Blocked is a read-only profile: its own setting, not a platform permission.
        StepConfirmationKind::Blocked => Err(AppError::new(
            ErrorCode::ReadOnlyProfile,
            plan.confirmation.reason.clone(),
        )),
        StepConfirmationKind::Confirm | StepConfirmationKind::TypeName => {
            let phrase = plan.confirmation.phrase.as_deref().unwrap_or_default();
            match given {
                Some(g) if g == phrase => Ok(()),
                None => Err(AppError::invalid_input(format!(
                    "Nothing was run: \"{}\" needs confirmation. {}",
                    plan.summary, plan.confirmation.reason
                ))),
                Some(_) if plan.action == "command" => Err(AppError::invalid_input(format!(
                    "Nothing was run: the confirmed command is not the one this step runs now, which is:\n{phrase}\nReview it and confirm again."
                ))),
                Some(_) if plan.confirmation.kind == StepConfirmationKind::TypeName => Err(AppError::invalid_input(format!(
                    "Nothing was run: type \"{phrase}\" exactly to confirm."
                ))),
                Some(_) => Err(AppError::invalid_input(
                    "Nothing was run: the step changed since it was confirmed. Review the plan and confirm again.",
                )),
            }
        }
    }
}

/// Why the run, if it ended now, would end escalated: the gates that failed and the steps behind
/// them it did not reach. None when no gate failed.
fn escalation_note(runbook: &Runbook, st: &[switchyard_runbooks::StepStatus]) -> Option<String> {
    let failed = switchyard_runbooks::failed_gates(runbook, st);
    if failed.is_empty() {
        return None;
    }
    // "step 5 …" inside the sentence.
    let gates: Vec<String> = failed
        .iter()
        .map(|&i| {
            let label = step_label(runbook, i);
            let mut chars = label.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => label,
            }
        })
        .collect();
    let mut why = format!(
        "the procedure did not fix the problem: {} failed",
        gates.join(", ")
    );
    let unreached = switchyard_runbooks::not_reached(runbook, st);
    if !unreached.is_empty() {
        let steps: Vec<String> = unreached.iter().map(|i| (i + 1).to_string()).collect();
        why.push_str(&format!(
            "; step{} {} not reached",
            if steps.len() > 1 { "s" } else { "" },
            steps.join(", ")
        ));
    }
    Some(why)
}

fn check_open(run: &RunRecord) -> Result<(), AppError> {
    if run.state == "running" {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::Conflict,
            format!("This run was {} and cannot change any more; start a new run to go through the runbook again.", run.state),
        ))
    }
}

fn no_step(loaded: &Loaded, index: u32) -> AppError {
    AppError::invalid_input(format!(
        "\"{}\" has no step {} (it has {}).",
        loaded.runbook.title,
        u64::from(index) + 1,
        loaded.runbook.steps.len()
    ))
}

/// The step's action resolved with the run's inputs and the operator's values.
fn resolve_step(
    loaded: &Loaded,
    profile: &Profile,
    step_index: u32,
    values: &BTreeMap<String, String>,
) -> Result<(ResolvedStepAction, StepAction), AppError> {
    let step = loaded
        .runbook
        .step(step_index)
        .ok_or_else(|| no_step(loaded, step_index))?;
    let label = step_label(&loaded.runbook, step_index);
    let block = step.action.as_ref().ok_or_else(|| {
        AppError::invalid_input(format!(
            "{label} has no action to run: tick its checks, or mark it done."
        ))
    })?;
    let resolved = block
        .action
        .resolve(&inputs_of(&loaded.run), values)
        .map_err(|problems| {
            AppError::invalid_input(format!("{label} cannot run yet: {}.", problems.join("; ")))
        })?;
    Ok((
        with_profile_defaults(resolved, profile),
        block.action.clone(),
    ))
}

fn summary(run: &RunRecord, steps: &[RunStepRecord]) -> RunSummary {
    let st = statuses(steps);
    let count = |s: RunStepState| st.iter().filter(|x| x.state == s).count() as u32;
    RunSummary {
        id: run.id.clone(),
        profile_id: run.profile_id.clone(),
        runbook_id: run.runbook.clone(),
        title: run.title.clone(),
        state: RunState::parse(&run.state),
        rehearsal: run.rehearsal,
        started_ms: run.started_ms,
        started_by: run.started_by.clone(),
        finished_ms: run.finished_ms,
        progress: RunProgress {
            total: st.len() as u32,
            passed: count(RunStepState::Passed),
            failed: count(RunStepState::Failed),
            skipped: count(RunStepState::Skipped),
            interrupted: count(RunStepState::Interrupted),
            running: count(RunStepState::Running),
        },
        current_step: current_step(&st),
    }
}

fn read_user_runbooks(dir: &Path) -> Vec<UserRunbookFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<UserRunbookFile> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("md")) && p.is_file())
        .map(|p| UserRunbookFile {
            stem: p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: p.display().to_string(),
            content: std::fs::read_to_string(&p).map_err(|e| e.to_string()),
        })
        .collect();
    files.sort_by(|a, b| a.stem.cmp(&b.stem));
    files
}

/// `<base>/__sandbox/rehearsal`, beside `<base>/__sandbox/faults`.
fn rehearsal_url(faults_url: &str) -> String {
    format!(
        "{}/rehearsal",
        faults_url.trim_end_matches("/faults").trim_end_matches('/')
    )
}

fn sandbox_unreachable(e: &dyn std::fmt::Display) -> AppError {
    tracing::warn!(error = %e, "the sandbox's fault API did not answer");
    AppError::new(
        ErrorCode::Unreachable,
        "The Local sandbox did not answer. Restart Switchyard to start it again.",
    )
}

fn describe_fault(v: &serde_json::Value) -> ActiveFault {
    let target = v["target"].as_str().unwrap_or_default().to_owned();
    let fault = &v["fault"];
    let mode = fault["mode"].as_str().unwrap_or_default().to_owned();
    let who = target
        .strip_prefix("service:")
        .unwrap_or(&target)
        .to_owned();
    let description = match mode.as_str() {
        "down" => format!("{who} is down (503)"),
        "error" => format!(
            "{who} answers HTTP {}",
            fault["status"].as_u64().unwrap_or(500)
        ),
        "latency" => format!(
            "{who} answers after {} ms",
            fault["ms"].as_u64().unwrap_or(0)
        ),
        "garbage" => format!("{who} answers garbage"),
        "flaky" => format!(
            "{who} fails {}% of requests",
            fault["percent"].as_u64().unwrap_or(0)
        ),
        "rate_limited" => format!("{who} rate-limits every request"),
        other => format!("{who}: {other}"),
    };
    let description = if v["until_deploy"].as_bool().unwrap_or(false) {
        format!("{description} until it is rolled back or deployed again (a bad deploy)")
    } else {
        description
    };
    ActiveFault {
        target,
        mode,
        description,
    }
}

/// The incident report of a run.
fn report(d: &RunDetail) -> String {
    let s = &d.summary;
    let mut out = String::new();
    let _ = writeln!(out, "# Incident report: {}", s.title);
    out.push('\n');
    if s.rehearsal {
        let _ = writeln!(out, "> **REHEARSAL** — practised on the Local sandbox with injected faults; nothing real was affected.\n");
    }
    let state = match s.state {
        RunState::Running => "in progress".to_owned(),
        RunState::Finished => "finished".to_owned(),
        RunState::Escalated => format!(
            "escalated — {}",
            d.end_reason.as_deref().unwrap_or("a gate failed")
        ),
        RunState::Abandoned => format!(
            "abandoned — {}",
            d.end_reason.as_deref().unwrap_or("no reason given")
        ),
    };
    let _ = writeln!(out, "| | |\n| --- | --- |");
    let _ = writeln!(out, "| Runbook | {} (`{}`) |", s.title, s.runbook_id);
    let _ = writeln!(
        out,
        "| Profile | {}{} |",
        d.profile_name,
        d.environment.map(|e| format!(" ({e})")).unwrap_or_default()
    );
    let _ = writeln!(out, "| Run | `{}` |", s.id);
    let _ = writeln!(
        out,
        "| Started | {} by {} |",
        utc(s.started_ms),
        s.started_by
    );
    if let Some(f) = s.finished_ms {
        let _ = writeln!(
            out,
            "| Ended | {} by {} |",
            utc(f),
            d.finished_by.as_deref().unwrap_or("?")
        );
    }
    let _ = writeln!(out, "| Status | {state} |");
    let _ = writeln!(
        out,
        "| Steps | {} passed, {} failed, {} skipped, {} not done, of {} |",
        s.progress.passed,
        s.progress.failed,
        s.progress.skipped,
        s.progress.total - s.progress.passed - s.progress.failed - s.progress.skipped,
        s.progress.total
    );
    if !d.inputs.is_empty() {
        let inputs = d
            .inputs
            .iter()
            .map(|(k, v)| format!("{k} = `{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "| Inputs | {inputs} |");
    }

    let _ = writeln!(out, "\n## Timeline (UTC)\n");
    for e in &d.events {
        let _ = writeln!(
            out,
            "- {} — {} — {}",
            utc(e.at_ms),
            e.by,
            one_line(&e.message)
        );
    }

    let _ = writeln!(out, "\n## Steps\n");
    for step in &d.steps {
        let rb = d.runbook.step(step.index);
        let state = match step.state {
            RunStepState::Skipped if step.skipped_by_condition => "skipped (not needed)",
            other => other.as_str(),
        };
        let _ = writeln!(out, "### {}. {} — {state}\n", step.index + 1, step.title);
        if let Some(block) = rb.and_then(|r| r.action.as_ref()) {
            if step.params.is_empty() {
                let _ = writeln!(out, "- Action: `{}` (not run)", block.action.name());
            } else {
                let params = step
                    .params
                    .iter()
                    .filter(|p| p.name != "command")
                    .map(|p| format!("{}={}", p.name, p.value))
                    .collect::<Vec<_>>()
                    .join(" ");
                let _ = writeln!(out, "- Action: `{} {params}`", block.action.name());
                if let Some(c) = step.params.iter().find(|p| p.name == "command") {
                    let _ = writeln!(out, "- Command: `{}`", c.value);
                }
            }
        }
        if let Some(start) = step.started_ms {
            let _ = writeln!(
                out,
                "- Started {}{}{}",
                utc(start),
                step.by
                    .as_deref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default(),
                if step.attempts > 1 {
                    format!(" (attempt {})", step.attempts)
                } else {
                    String::new()
                }
            );
        }
        if let Some(end) = step.finished_ms {
            let outcome = match (step.outcome, &step.error) {
                (_, Some(e)) => format!("failed: {}", one_line(e)),
                (Some(StepOutcome::Passed), None) => "succeeded".into(),
                _ => state.to_owned(),
            };
            let _ = writeln!(out, "- Ended {}: {outcome}", utc(end));
        }
        if let Some(r) = &step.skip_reason {
            let _ = writeln!(out, "- Skipped: {}", one_line(r));
        }
        for c in &step.checks {
            let _ = writeln!(
                out,
                "- [{}] {}{}",
                if c.checked { "x" } else { " " },
                c.text,
                match (c.checked, c.at_ms, &c.by) {
                    (true, Some(at), Some(by)) => format!(" — {} by {by}", utc(at)),
                    _ => String::new(),
                }
            );
        }
        if !step.output.trim().is_empty() {
            let lines: Vec<&str> = step.output.lines().collect();
            let start = lines.len().saturating_sub(REPORT_OUTPUT_LINES);
            let _ = writeln!(
                out,
                "- Output{}:\n\n  ```text",
                if start > 0 {
                    format!(" (last {REPORT_OUTPUT_LINES} of {} lines)", lines.len())
                } else {
                    String::new()
                }
            );
            for l in &lines[start..] {
                let _ = writeln!(out, "  {}", l.replace("```", "'''"));
            }
            let _ = writeln!(out, "  ```");
        }
        out.push('\n');
    }

    let notes: Vec<&RunEvent> = d.events.iter().filter(|e| e.kind == "note").collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "## Notes\n");
        for n in notes {
            let about = n
                .step_index
                .map(|i| format!(" (step {})", i + 1))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- {} — {}{about}: {}",
                utc(n.at_ms),
                n.by,
                one_line(&n.message)
            );
        }
        out.push('\n');
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_epoch_milliseconds() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_696_348_800_000), "2023-10-03 16:00:00 UTC");
        assert_eq!(utc(1_709_210_096_000), "2024-02-29 12:34:56 UTC");
    }

    #[test]
    fn redaction_hides_keys_and_tokens() {
        let text = "Authorization: Bearer abc.def key=sk_live_123 token:xyz ok=1 deploy_1696348800000_a1b2c3d4 \
                    0123456789abcdef0123456789abcdef my-secret-value";
        let out = redact(text, &["my-secret-value".into()]);
        assert!(!out.contains("abc.def"), "{out}");
        assert!(!out.contains("sk_live_123"), "{out}");
        assert!(!out.contains("xyz"), "{out}");
        assert!(!out.contains("0123456789abcdef0123456789abcdef"), "{out}");
        assert!(!out.contains("my-secret-value"), "{out}");
        assert!(out.contains("ok=1"), "{out}");
        assert!(
            out.contains("deploy_1696348800000_a1b2c3d4"),
            "deployment ids stay: {out}"
        );
    }
}

#[cfg(all(test, feature = "specta"))]
mod typescript {
    use super::*;

    /// Every type the runbook commands send crosses IPC as TypeScript without BigInt or clashes.
    #[test]
    fn runbook_types_export_to_typescript() {
        let types = specta::Types::default()
            .register::<RunDetail>()
            .register::<RunSummary>()
            .register::<StepPlan>()
            .register::<StepRunRequest>()
            .register::<StepOutput>()
            .register::<RehearsalFault>()
            .register::<ActiveFault>()
            .register::<RunbookCatalog>()
            .register::<RunbookLink>()
            .register::<ResolvedStepAction>();
        let ts = specta_typescript::Typescript::default()
            .export(&types, specta_serde::Format)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(ts.contains("RunStepState"), "{ts}");
    }
}
