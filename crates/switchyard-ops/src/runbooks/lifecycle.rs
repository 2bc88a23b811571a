//! A run's life: start (inputs checked, the runbook's source stored with it), list and read back
//! (a step that was running when the app died reads back as interrupted), finish or abandon;
//! and the locked load and write every change goes through.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use sha2::{Digest, Sha256};
use switchyard_core::{AppError, ErrorCode};
use switchyard_runbooks::{blocker, parse_runbook, unfinished_steps, USER_ID_PREFIX};
use switchyard_store::{
    NewRun, NewRunEvent, NewRunStep, RunChanges, RunRecord, RunStepRecord, RunUpdate,
};

use super::plan::escalation_note;
use super::records::{
    check_open, event, inputs_of, not_found, outcome_of, params_from_json, statuses, step_label,
    step_state, summary,
};
use super::{
    Loaded, RunCheck, RunDetail, RunEvent, RunStep, RunStepState, RunSummary, Runbook,
    RunbookOrigin, StepBlocker,
};
use crate::{actor, Ops};

impl Ops {
    /// Start a run of `runbook_id` on `profile_id`. `inputs` gives the runbook's run inputs
    /// (those with a default may be left out). A rehearsal is for the Local sandbox only.
    pub async fn start_run(
        &self,
        profile_id: &str,
        runbook_id: &str,
        inputs: BTreeMap<String, String>,
        rehearsal: bool,
    ) -> Result<RunDetail, AppError> {
        let profile = self.for_profile(profile_id).await?;
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
        let (_guard, mut loaded) = self.rb_load_open(run_id).await?;
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
    pub(super) async fn rb_write_audited(
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

    pub(super) async fn rb_write(
        &self,
        run_id: &str,
        changes: &RunChanges,
    ) -> Result<(), AppError> {
        self.runbooks.spend_write()?;
        self.store.apply_run_changes(run_id, changes).await
    }

    pub(super) async fn rb_load_raw(&self, run_id: &str) -> Result<Loaded, AppError> {
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
    pub(super) async fn rb_load(&self, run_id: &str) -> Result<Loaded, AppError> {
        let mut loaded = self.rb_load_raw(run_id).await?;
        loaded.steps = self
            .rb_recover_with(&loaded.run, &loaded.runbook, loaded.steps)
            .await?;
        Ok(loaded)
    }

    /// Lock a run and load it, refused unless it is still open; it stays locked while the
    /// guard lives.
    pub(super) async fn rb_load_open(
        &self,
        run_id: &str,
    ) -> Result<(tokio::sync::OwnedMutexGuard<()>, Loaded), AppError> {
        let guard = self.runbooks.lock_for(run_id).lock_owned().await;
        let loaded = self.rb_load(run_id).await?;
        check_open(&loaded.run)?;
        Ok((guard, loaded))
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

    pub(super) async fn rb_detail(&self, loaded: Loaded) -> Result<RunDetail, AppError> {
        let Loaded {
            run,
            runbook,
            steps,
        } = loaded;
        let events = self.store.run_events(&run.id).await?;
        let profile = self.for_profile(&run.profile_id).await.ok();
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
}
