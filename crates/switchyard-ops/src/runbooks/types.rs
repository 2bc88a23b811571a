//! The runs, steps and plans as the window sees them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use switchyard_core::Environment;

use super::{RunStepState, Runbook, StepBlocker, StepOutcome};

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
    pub(super) fn parse(s: &str) -> RunState {
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
