//! A run as stored, read back: step states, parameters, inputs, labels, timeline entries and
//! the summary the list shows.

use std::collections::BTreeMap;

use switchyard_core::{AppError, ErrorCode};
use switchyard_runbooks::{current_step, StepStatus};
use switchyard_store::{NewRunEvent, RunRecord, RunStepRecord};

use super::{
    ActionParam, Loaded, ResolvedStepAction, RunProgress, RunState, RunStepState, RunSummary,
    Runbook, StepOutcome,
};
use crate::actor;

pub(super) fn not_found(run_id: &str) -> AppError {
    AppError::new(
        ErrorCode::NotFound,
        format!("There is no runbook run \"{run_id}\". It may have been started on another computer; pick one from the list of runs."),
    )
}

pub(super) fn step_state(s: &str) -> RunStepState {
    RunStepState::parse(s).unwrap_or(RunStepState::Pending)
}

pub(super) fn outcome_of(s: Option<&str>) -> Option<StepOutcome> {
    match s {
        Some("passed") => Some(StepOutcome::Passed),
        Some("failed") => Some(StepOutcome::Failed),
        _ => None,
    }
}

pub(super) fn statuses(steps: &[RunStepRecord]) -> Vec<StepStatus> {
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

pub(super) fn params_of(action: &ResolvedStepAction) -> Vec<ActionParam> {
    action
        .params()
        .into_iter()
        .map(|(name, value)| ActionParam { name, value })
        .collect()
}

/// Parameters in their order, as `[{"name": …, "value": …}]`.
pub(super) fn params_json(params: &[ActionParam]) -> serde_json::Value {
    serde_json::to_value(params).unwrap_or_default()
}

pub(super) fn params_from_json(v: &serde_json::Value) -> Vec<ActionParam> {
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

pub(super) fn inputs_of(run: &RunRecord) -> BTreeMap<String, String> {
    run.inputs
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn step_label(runbook: &Runbook, index: u32) -> String {
    let title = runbook.step(index).map(|s| s.title.as_str()).unwrap_or("?");
    format!("Step {} \"{title}\"", u64::from(index) + 1)
}

/// A state, in the words of the timeline.
pub(super) fn event(kind: &str, step: Option<u32>, at_ms: i64, message: String) -> NewRunEvent {
    NewRunEvent {
        step_index: step,
        at_ms,
        actor: actor(),
        kind: kind.to_owned(),
        message,
        data: None,
    }
}

pub(super) fn check_open(run: &RunRecord) -> Result<(), AppError> {
    if run.state == "running" {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::Conflict,
            format!("This run was {} and cannot change any more; start a new run to go through the runbook again.", run.state),
        ))
    }
}

pub(super) fn no_step(loaded: &Loaded, index: u32) -> AppError {
    AppError::invalid_input(format!(
        "\"{}\" has no step {} (it has {}).",
        loaded.runbook.title,
        u64::from(index) + 1,
        loaded.runbook.steps.len()
    ))
}

pub(super) fn summary(run: &RunRecord, steps: &[RunStepRecord]) -> RunSummary {
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
