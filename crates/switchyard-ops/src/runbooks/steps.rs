//! Step transitions: run a step's action (written running before the call, its output as it
//! streams, passed or failed after), stop it, tick checks, mark done, skip, add notes; and the
//! condition engine's skips and restores that follow each change.

use switchyard_core::{AppError, ErrorCode};
use switchyard_runbooks::{blocker, condition_changes, settle, ConditionChange};
use switchyard_store::{CheckUpdate, NewRunEvent, RunChanges, RunStepRecord};

use super::format::{redact, utc};
use super::output::OutputSink;
use super::plan::{check_confirmation, resolve_step};
use super::records::{event, no_step, params_json, params_of, statuses, step_label};
use super::{
    LiveGuard, ResolvedStepAction, RunDetail, RunStepState, Runbook, StepBlocker, StepOutput,
    StepRunRequest,
};
use crate::{actor, Ops};

impl Ops {
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
            let (_guard, mut loaded) = self.rb_load_open(run_id).await?;
            let profile = self.for_profile(&loaded.run.profile_id).await?;
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
        let (_guard, mut loaded) = self.rb_load_open(run_id).await?;
        let label = step_label(&loaded.runbook, step_index);
        let step = loaded
            .steps
            .get(step_index as usize)
            .ok_or_else(|| no_step(&loaded, step_index))?;
        let check = step.checks.get(check_index as usize).ok_or_else(|| {
            AppError::invalid_input(format!(
                "{label} has no check number {}.",
                u64::from(check_index) + 1
            ))
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
        let (_guard, mut loaded) = self.rb_load_open(run_id).await?;
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
        let (_guard, mut loaded) = self.rb_load_open(run_id).await?;
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
        let params = serde_json::json!({ "step": u64::from(step_index) + 1, "label": label, "reason": reason });
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
        let profile = self.for_profile(&loaded.run.profile_id).await?;
        let shown = redact(text, &self.output_secrets(&profile).await);
        let params = serde_json::json!({
            "step": step_index.map(|i| u64::from(i) + 1),
            "note": shown.chars().take(500).collect::<String>(),
        });
        self.rb_write_audited(&loaded.run, "runbook.note", params, &changes)
            .await?;
        self.rb_detail(loaded).await
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
