//! What a parsed runbook is: its title, inputs and steps, each step's instruction, manual checks,
//! typed action, gate and condition.

use serde::Serialize;

use crate::action::{StepAction, ValueKind};

/// Where a runbook came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum RunbookOrigin {
    /// Shipped with Switchyard (`crates/switchyard-runbooks/runbooks/<id>.md`).
    BuiltIn,
    /// A file of the user's runbooks folder; the path is shown to the operator.
    User { path: String },
}

/// A run-level input: asked once when a run starts, used by actions as `$name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RunbookInput {
    pub name: String,
    pub kind: ValueKind,
    /// Pre-filled value; when absent the operator must give one to start the run.
    pub default: Option<String>,
}

/// A manual check: a `- [ ]` item the operator ticks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ManualCheck {
    /// The item's text, as Markdown.
    pub text: String,
    pub line: u32,
}

/// What an earlier step must have done for a conditional step to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum StepOutcome {
    Passed,
    Failed,
}

impl StepOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Passed => "passed",
            StepOutcome::Failed => "failed",
        }
    }
}

/// `when=<step-id>:<passed|failed>`: the step runs only if that earlier step ended so; otherwise
/// it is skipped with the reason said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StepCondition {
    pub step_id: String,
    pub step_index: u32,
    pub outcome: StepOutcome,
}

/// A `?` parameter: the operator gives its value when the step runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AskField {
    /// The parameter's name (the key of the value passed when running the step).
    pub param: String,
    pub kind: ValueKind,
}

/// A step's automated action, from its ```` ```switchyard ```` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ActionBlock {
    pub action: StepAction,
    /// The block as written: `switchyard rollback service=$service` (and the body for `command`).
    pub source: String,
    pub line: u32,
    /// Parameters asked when the step runs (`name=?`), in the order written.
    pub asks: Vec<AskField>,
    /// True when the action changes the platform or the machine (rollback, redeploy,
    /// direct-deploy, namespace-create, command): it needs confirmation and is refused in
    /// read-only profiles.
    pub mutates: bool,
}

/// One step: a level-2 heading and everything under it up to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RunbookStep {
    pub index: u32,
    /// `{#id}` from the heading, or the heading's text in kebab case.
    pub id: String,
    pub title: String,
    pub line: u32,
    /// The instruction, as Markdown source (checks and the action block left out). Render it
    /// without raw HTML.
    pub markdown: String,
    pub checks: Vec<ManualCheck>,
    pub action: Option<ActionBlock>,
    /// Later steps stay locked until this one passes.
    pub gate: bool,
    pub condition: Option<StepCondition>,
}

/// A parsed, valid runbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Runbook {
    /// Built-ins: the file stem (`emergency-service-down`); user runbooks: `user/<stem>`.
    pub id: String,
    pub title: String,
    /// For grouping in the list: "Emergency procedures", "Troubleshooting", …
    pub category: String,
    /// The heading of `workers-runbook.md` this runbook turns into a checklist, if any.
    pub replaces: Option<String>,
    /// The text between the title and the first step, as Markdown.
    pub summary: String,
    pub inputs: Vec<RunbookInput>,
    pub steps: Vec<RunbookStep>,
    pub origin: RunbookOrigin,
}

impl Runbook {
    pub fn step(&self, index: u32) -> Option<&RunbookStep> {
        self.steps.get(index as usize)
    }

    pub fn step_by_id(&self, id: &str) -> Option<&RunbookStep> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// A problem found while loading a runbook, with the line (1-based) it is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RunbookError {
    pub line: u32,
    pub message: String,
}

impl std::fmt::Display for RunbookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}
