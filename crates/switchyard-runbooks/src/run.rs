//! The run state machine, pure: step states, what locks a step (an unpassed gate before it, a
//! condition still waiting), which conditional steps are skipped or brought back when the step
//! they look at ends, and how a step's state follows from its action and its checks.

use serde::Serialize;

use crate::model::{Runbook, RunbookStep, StepOutcome};

/// Where a step of a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum RunStepState {
    Pending,
    /// Its action is executing now.
    Running,
    Passed,
    Failed,
    /// Skipped by the operator (with a reason) or by a condition that was not met.
    Skipped,
    /// It was running when the app stopped; its partial output is kept and it can be retried.
    Interrupted,
}

impl RunStepState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStepState::Pending => "pending",
            RunStepState::Running => "running",
            RunStepState::Passed => "passed",
            RunStepState::Failed => "failed",
            RunStepState::Skipped => "skipped",
            RunStepState::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<RunStepState> {
        Some(match s {
            "pending" => RunStepState::Pending,
            "running" => RunStepState::Running,
            "passed" => RunStepState::Passed,
            "failed" => RunStepState::Failed,
            "skipped" => RunStepState::Skipped,
            "interrupted" => RunStepState::Interrupted,
            _ => return None,
        })
    }

    /// Passed, failed or skipped: the step has an outcome a condition can look at.
    pub fn is_ended(self) -> bool {
        matches!(
            self,
            RunStepState::Passed | RunStepState::Failed | RunStepState::Skipped
        )
    }
}

/// What the state machine needs to know of one step of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepStatus {
    pub state: RunStepState,
    /// How the last attempt of the step's action ended, if it ran.
    pub action_outcome: Option<StepOutcome>,
    /// One per manual check, ticked or not.
    pub checks: Vec<bool>,
    /// True when a condition (not the operator) skipped the step.
    pub skipped_by_condition: bool,
}

impl StepStatus {
    pub fn new(step: &RunbookStep) -> StepStatus {
        StepStatus {
            state: RunStepState::Pending,
            action_outcome: None,
            checks: vec![false; step.checks.len()],
            skipped_by_condition: false,
        }
    }
}

/// Why a step cannot be started now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum StepBlocker {
    /// An earlier gate has not passed.
    #[serde(rename_all = "camelCase")]
    Gate { step_index: u32, step_title: String },
    /// The step runs only when an earlier step ends a certain way, and it has not ended yet.
    #[serde(rename_all = "camelCase")]
    WaitingFor {
        step_index: u32,
        step_title: String,
        outcome: StepOutcome,
    },
    /// The condition was not met: the step is skipped.
    #[serde(rename_all = "camelCase")]
    ConditionNotMet {
        step_index: u32,
        step_title: String,
        outcome: StepOutcome,
    },
    /// Its action is running.
    Running,
}

impl StepBlocker {
    /// What to tell the operator.
    pub fn message(&self) -> String {
        match self {
            StepBlocker::Gate { step_index, step_title } => format!(
                "Step {} \"{step_title}\" is a gate: it must pass before the steps after it can start.",
                step_index + 1
            ),
            StepBlocker::WaitingFor { step_index, step_title, outcome } => format!(
                "This step runs only if step {} \"{step_title}\" {}; finish that step first.",
                step_index + 1,
                outcome.as_str()
            ),
            StepBlocker::ConditionNotMet { step_index, step_title, outcome } => format!(
                "This step runs only if step {} \"{step_title}\" {}, and it did not.",
                step_index + 1,
                outcome.as_str()
            ),
            StepBlocker::Running => "This step is running; wait for it or stop it.".into(),
        }
    }
}

/// A gate lets the run go on once it passed, or was skipped: by a condition (it did not apply)
/// or by the operator with a reason (allowed only when no destructive step comes after it, see
/// [`gate_skip_refusal`]).
fn gate_open(status: &StepStatus) -> bool {
    matches!(status.state, RunStepState::Passed | RunStepState::Skipped)
}

/// Why the operator may not skip step `index`, if they may not: a gate with a step that changes
/// the platform or the machine after it (other than its own way out, `when=<gate>:failed`, which
/// runs only when the gate failed) must pass; skipping it would wave a destructive step through.
pub fn gate_skip_refusal(runbook: &Runbook, index: u32) -> Option<String> {
    let step = runbook.step(index)?;
    if !step.gate {
        return None;
    }
    let destructive = runbook
        .steps
        .iter()
        .skip(index as usize + 1)
        .find(|later| {
            later.action.as_ref().is_some_and(|a| a.mutates)
                && !later
                    .condition
                    .as_ref()
                    .is_some_and(|c| c.step_index == index && c.outcome == StepOutcome::Failed)
        })?;
    Some(format!(
        "Step {} \"{}\" is a gate in front of step {} \"{}\", which changes things: it must pass, so it cannot be skipped. Retry it; if it keeps failing, follow the escalation steps or abandon the run with a reason.",
        index + 1,
        step.title,
        destructive.index + 1,
        destructive.title
    ))
}

/// Steps the run cannot reach: still to do, behind a gate that failed. A run may end with them
/// (it ends escalated: the procedure did not fix the problem); the report names them.
pub fn not_reached(runbook: &Runbook, statuses: &[StepStatus]) -> Vec<u32> {
    unfinished_steps(statuses)
        .into_iter()
        .filter(|&i| {
            state_of(statuses, i) == Some(RunStepState::Pending)
                && matches!(
                    blocker(runbook, statuses, i),
                    Some(StepBlocker::Gate { step_index, .. })
                        if state_of(statuses, step_index) == Some(RunStepState::Failed)
                )
        })
        .collect()
}

/// The gates that failed (the run, if it ends now, ends escalated).
pub fn failed_gates(runbook: &Runbook, statuses: &[StepStatus]) -> Vec<u32> {
    runbook
        .steps
        .iter()
        .filter(|s| s.gate && state_of(statuses, s.index) == Some(RunStepState::Failed))
        .map(|s| s.index)
        .collect()
}

/// How step `index` may be started now: `None` when it may.
pub fn blocker(runbook: &Runbook, statuses: &[StepStatus], index: u32) -> Option<StepBlocker> {
    let step = runbook.step(index)?;
    let status = statuses.get(index as usize)?;
    if status.state == RunStepState::Running {
        return Some(StepBlocker::Running);
    }
    // A step that says `when=<gate>:failed` is the way out of that gate: the gate does not lock it.
    let exit_of = step
        .condition
        .as_ref()
        .filter(|c| c.outcome == StepOutcome::Failed)
        .map(|c| c.step_index);
    for earlier in runbook.steps.iter().take(index as usize) {
        // A step with no status (a runbook file that gained steps since the run began) is
        // treated as not passed.
        if earlier.gate
            && Some(earlier.index) != exit_of
            && !statuses.get(earlier.index as usize).is_some_and(gate_open)
        {
            return Some(StepBlocker::Gate {
                step_index: earlier.index,
                step_title: earlier.title.clone(),
            });
        }
    }
    if let Some(c) = &step.condition {
        let (Some(target), Some(on)) = (
            statuses.get(c.step_index as usize),
            runbook.step(c.step_index),
        ) else {
            // The parser refuses a condition on a step that does not exist; a stored run
            // that lacks it waits rather than guesses.
            return Some(StepBlocker::WaitingFor {
                step_index: c.step_index,
                step_title: format!("step {}", c.step_index + 1),
                outcome: c.outcome,
            });
        };
        let title = on.title.clone();
        if !target.state.is_ended() {
            return Some(StepBlocker::WaitingFor {
                step_index: c.step_index,
                step_title: title,
                outcome: c.outcome,
            });
        }
        if ended_as(target) != Some(c.outcome) {
            return Some(StepBlocker::ConditionNotMet {
                step_index: c.step_index,
                step_title: title,
                outcome: c.outcome,
            });
        }
    }
    None
}

/// The state of step `index`, if the run has a status for it.
fn state_of(statuses: &[StepStatus], index: u32) -> Option<RunStepState> {
    statuses.get(index as usize).map(|s| s.state)
}

fn ended_as(status: &StepStatus) -> Option<StepOutcome> {
    match status.state {
        RunStepState::Passed => Some(StepOutcome::Passed),
        RunStepState::Failed => Some(StepOutcome::Failed),
        _ => None,
    }
}

/// A change a condition makes to a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionChange {
    /// The condition was not met: skip the step, saying why.
    Skip { index: u32, reason: String },
    /// The step it looks at is running again or ended the other way: the step is pending again.
    Restore { index: u32 },
}

/// Which conditional steps must be skipped or restored given the current states. Steps the
/// operator already acted on (ran, skipped by hand) are never touched. Chains are followed.
pub fn condition_changes(runbook: &Runbook, statuses: &[StepStatus]) -> Vec<ConditionChange> {
    let mut statuses = statuses.to_vec();
    let mut changes = Vec::new();
    loop {
        let mut changed = false;
        for step in &runbook.steps {
            let Some(c) = &step.condition else { continue };
            let i = step.index as usize;
            let Some(target) = statuses.get(c.step_index as usize).cloned() else {
                continue;
            };
            let Some(me) = statuses.get_mut(i) else {
                continue;
            };
            let untouched = me.state == RunStepState::Pending && me.action_outcome.is_none();
            let by_condition = me.state == RunStepState::Skipped && me.skipped_by_condition;
            if !untouched && !by_condition {
                continue;
            }
            let met = ended_as(&target) == Some(c.outcome);
            let decided = target.state.is_ended();
            if untouched && decided && !met {
                let title = runbook.step(c.step_index).map_or("", |s| s.title.as_str());
                let how = match target.state {
                    RunStepState::Skipped => "was skipped".to_owned(),
                    s => s.as_str().to_owned(),
                };
                let reason = format!(
                    "Not needed: step {} \"{title}\" {how}, and this step runs only if it {}.",
                    c.step_index + 1,
                    c.outcome.as_str()
                );
                me.state = RunStepState::Skipped;
                me.skipped_by_condition = true;
                changes.push(ConditionChange::Skip {
                    index: step.index,
                    reason,
                });
                changed = true;
            } else if by_condition && (!decided || met) {
                me.state = RunStepState::Pending;
                me.skipped_by_condition = false;
                changes.push(ConditionChange::Restore { index: step.index });
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    changes
}

/// The state a step settles in after its action ended or a check changed. Running, skipped and
/// interrupted steps stay as they are; a step with no action and no checks passes only when the
/// operator marks it done.
pub fn settle(step: &RunbookStep, status: &StepStatus) -> RunStepState {
    if matches!(
        status.state,
        RunStepState::Running | RunStepState::Skipped | RunStepState::Interrupted
    ) {
        return status.state;
    }
    let checks_done = status.checks.iter().all(|c| *c);
    if step.action.is_some() {
        return match status.action_outcome {
            Some(StepOutcome::Failed) => RunStepState::Failed,
            Some(StepOutcome::Passed) if checks_done => RunStepState::Passed,
            _ => RunStepState::Pending,
        };
    }
    if step.checks.is_empty() {
        return status.state;
    }
    if checks_done {
        RunStepState::Passed
    } else {
        RunStepState::Pending
    }
}

/// The step the operator should look at: the first one still to do (pending, running or
/// interrupted). A failed step the run went past is not current.
pub fn current_step(statuses: &[StepStatus]) -> Option<u32> {
    statuses
        .iter()
        .position(|s| {
            matches!(
                s.state,
                RunStepState::Pending | RunStepState::Running | RunStepState::Interrupted
            )
        })
        .map(|i| i as u32)
}

/// Steps that keep a run from being finished: pending, running or interrupted.
pub fn unfinished_steps(statuses: &[StepStatus]) -> Vec<u32> {
    statuses
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            matches!(
                s.state,
                RunStepState::Pending | RunStepState::Running | RunStepState::Interrupted
            )
        })
        .map(|(i, _)| i as u32)
        .collect()
}
