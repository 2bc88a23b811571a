//! Driving a rollout: start it (the new version uploaded at 0 % beside the stable one), take it
//! up again after a restart, answer the operator's commands, and step through the splits as the
//! gates decide, every change saved and sent to the window.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use switchyard_clients::VersionSplit;
use switchyard_core::{AppError, ErrorCode};
use switchyard_store::RolloutRecord;

use super::gate::{GateReading, HealthGate, StepWatch};
use super::types::{
    PinnedAnswer, Rollout, RolloutCommand, RolloutState, StartRollout, VersionTest,
};
use super::{pin_header, push_event, service_url, short, LiveGuard};
use crate::context::ProfileContext;
use crate::deploy::plan::check_confirmation;
use crate::deploy::{sha256_hex, source, COMPATIBILITY_DATE};
use crate::{actor, Ops};

/// How often the gates are looked at during a step.
const TICK: Duration = Duration::from_millis(500);

impl Ops {
    /// Start a planned rollout and drive it until it ends (completed, rolled back or aborted):
    /// upload the version at 0 %, wait for [`RolloutCommand::Begin`], then step and gate.
    /// `on_update` gets the rollout at every change. Returns the rollout as it ended.
    pub async fn start_rollout(
        &self,
        start: StartRollout,
        on_update: impl Fn(Rollout) + Send + Sync,
    ) -> Result<Rollout, AppError> {
        let req = &start.request;
        req.settings.check()?;
        let profile = self.for_profile(&req.profile_id).await?;
        let now = self.now_ms();
        let id = format!(
            "rollout_{now}_{}",
            &sha256_hex(start.bundle_sha256.as_bytes())[..8]
        );
        let target = format!("{}/{}", req.service, req.environment);
        let params = serde_json::json!({
            "rollout": id, "bundle": start.bundle_sha256, "steps": req.settings.steps,
            "dwellSeconds": req.settings.dwell_seconds, "maxErrorRatePct": req.settings.max_error_rate_pct,
        });
        let _held = self.hold_target(
            &profile,
            crate::target_lock::LockTarget::Service {
                service: &req.service,
                environment: req.environment,
            },
            "a staged rollout",
            &id,
        )?;
        let rollout = self
            .audited(&profile.id, "rollout.start", &target, params, async {
                let plan = self.rollout_plan(req).await?;
                check_confirmation(&plan.confirmation, &start.confirmation, "this rollout")?;
                if plan.bundle_sha256 != start.bundle_sha256 {
                    return Err(AppError::new(
                        ErrorCode::Conflict,
                        "Nothing was changed: the bundle file changed since the plan was made. Look at the new plan and confirm again.",
                    ));
                }
                if let Some(given) = start.confirmation.basis.as_ref() {
                    if given.current_deployment_id != plan.basis.current_deployment_id {
                        return Err(AppError::new(
                            ErrorCode::Conflict,
                            format!(
                                "Nothing was changed: {} in {} was deployed again since the plan was made. Look at the new plan and confirm again.",
                                req.service, req.environment
                            ),
                        ));
                    }
                }
                let versions = profile.versions()?;
                let limit = self.deploy_settings().await?.bundle_size_limit_bytes;
                let (bytes, _) = source::read_bundle(Path::new(&req.bundle_path), limit).await?;
                let stable = versions
                    .get_version(&plan.namespace, &req.service, &plan.stable.version_id)
                    .await?;
                // The new version keeps the stable one's bindings and compatibility settings.
                let resources = stable.resources.clone().unwrap_or_default();
                let metadata = serde_json::json!({
                    "bindings": resources.get("bindings").cloned().unwrap_or_else(|| serde_json::json!([])),
                    "compatibility_date": resources
                        .pointer("/script_runtime/compatibility_date")
                        .cloned()
                        .unwrap_or_else(|| COMPATIBILITY_DATE.into()),
                    "compatibility_flags": resources
                        .pointer("/script_runtime/compatibility_flags")
                        .cloned()
                        .unwrap_or_else(|| serde_json::json!([])),
                });
                let module = format!("{}.mjs", req.service);
                let message = format!("Staged rollout {id} by {}", actor());
                let new_version = versions
                    .upload_version(&plan.namespace, &req.service, &module, bytes, &metadata, Some(&message))
                    .await?;
                versions
                    .create_deployment(
                        &plan.namespace,
                        &req.service,
                        &[
                            VersionSplit::new(&new_version, 0.0),
                            VersionSplit::new(&plan.stable.version_id, 100.0),
                        ],
                        Some(&format!("{id}: new version at 0 %")),
                    )
                    .await?;
                let now = self.now_ms();
                let mut r = Rollout {
                    id: id.clone(),
                    profile_id: profile.id.clone(),
                    service: req.service.clone(),
                    environment: req.environment,
                    namespace: plan.namespace.clone(),
                    bundle_sha256: plan.bundle_sha256.clone(),
                    new_version_id: new_version,
                    stable_version_id: plan.stable.version_id.clone(),
                    settings: req.settings.clone(),
                    state: RolloutState::Testing,
                    step: None,
                    percent: 0,
                    step_started_ms: None,
                    started_ms: now,
                    updated_ms: now,
                    started_by: actor(),
                    gate: None,
                    events: Vec::new(),
                    reason: None,
                    awaiting_checks: false,
                };
                let msg = format!(
                    "Version {} uploaded at 0 % beside {} (100 %). Test it, then begin the steps.",
                    short(&r.new_version_id),
                    short(&r.stable_version_id)
                );
                push_event(&mut r, now, "uploaded", msg);
                self.save_rollout(&r).await?;
                Ok(r)
            })
            .await?;
        on_update(rollout.clone());
        self.drive_rollout(&profile, rollout, &on_update).await
    }

    /// Take over a rollout this process does not drive (the app restarted): read the split
    /// the platform serves, hold it (paused), and drive the rollout again until it ends.
    pub async fn resume_rollout(
        &self,
        id: &str,
        on_update: impl Fn(Rollout) + Send + Sync,
    ) -> Result<Rollout, AppError> {
        if self.rollouts.is_live(id) {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("Rollout {id} is already running in this window."),
            ));
        }
        let mut r = self.load_rollout(id).await?;
        if r.state.is_over() {
            return Ok(r);
        }
        let profile = self.for_profile(&r.profile_id).await?;
        let _held = self.hold_target(
            &profile,
            crate::target_lock::LockTarget::Service {
                service: &r.service,
                environment: r.environment,
            },
            "a staged rollout",
            id,
        )?;
        let versions = profile.versions()?;
        let deployments = versions.list_deployments(&r.namespace, &r.service).await?;
        let share = deployments
            .first()
            .map(|d| {
                d.versions
                    .iter()
                    .filter(|v| v.version_id == r.new_version_id)
                    .map(|v| v.percentage)
                    .sum::<f64>()
            })
            .unwrap_or(0.0);
        r.percent = share.round() as u32;
        let now = self.now_ms();
        r.state = if r.step.is_none() && r.percent == 0 {
            RolloutState::Testing
        } else {
            RolloutState::Paused
        };
        r.reason = Some(format!(
            "Taken up again after the app stopped; the platform serves {} % on the new version. Resume, advance or abort.",
            r.percent
        ));
        let msg = r.reason.clone().unwrap_or_default();
        push_event(&mut r, now, "resumed", msg);
        self.save_rollout(&r).await?;
        on_update(r.clone());
        self.drive_rollout(&profile, r, &on_update).await
    }

    /// Send a command to a rollout driven by this process; an interrupted one can only be
    /// aborted here (resume it with [`Ops::resume_rollout`]).
    pub async fn control_rollout(
        &self,
        id: &str,
        command: RolloutCommand,
    ) -> Result<Rollout, AppError> {
        let sender = self
            .rollouts
            .live
            .lock()
            .map_err(|_| AppError::internal("Reaching the rollout"))?
            .get(id)
            .cloned();
        match sender {
            Some(tx) => {
                tx.send(command).map_err(|_| {
                    AppError::new(ErrorCode::Conflict, format!("Rollout {id} has just ended."))
                })?;
                // The driver answers within a tick; give it the chance before reading.
                tokio::time::sleep(Duration::from_millis(50)).await;
                self.rollout(id).await
            }
            None if command == RolloutCommand::Abort => {
                let mut r = self.load_rollout(id).await?;
                if r.state.is_over() {
                    return Ok(r);
                }
                let profile = self.for_profile(&r.profile_id).await?;
                self.back_to_stable(&profile, &mut r, RolloutState::Aborted, "Aborted by the operator.".into())
                    .await;
                Ok(r)
            }
            None => Err(AppError::new(
                ErrorCode::Conflict,
                format!("Rollout {id} is not running in this window: take it up again (Resume) or abort it."),
            )),
        }
    }

    /// One rollout as stored (interrupted when no driver runs it here).
    pub async fn rollout(&self, id: &str) -> Result<Rollout, AppError> {
        let mut r = self.load_rollout(id).await?;
        self.mark_interrupted(&mut r);
        Ok(r)
    }

    /// The newest rollouts of a profile.
    pub async fn rollouts(&self, profile_id: &str) -> Result<Vec<Rollout>, AppError> {
        let mut out = Vec::new();
        for rec in self.store.rollouts(profile_id, 50).await? {
            if let Ok(mut r) = serde_json::from_value::<Rollout>(rec.data) {
                self.mark_interrupted(&mut r);
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Send `count` requests for `path` pinned to the rollout's new version, and show the answers.
    pub async fn test_rollout_version(
        &self,
        id: &str,
        path: &str,
        count: u32,
    ) -> Result<VersionTest, AppError> {
        if !path.starts_with('/') || path.len() > 512 {
            return Err(AppError::invalid_input(
                "path: a path starting with / (at most 512 characters).",
            ));
        }
        if !(1..=20).contains(&count) {
            return Err(AppError::invalid_input("count: from 1 to 20 requests."));
        }
        let r = self.load_rollout(id).await?;
        let profile = self.for_profile(&r.profile_id).await?;
        let url = format!("{}{path}", service_url(&profile, &r.service, r.environment));
        let mut answers = Vec::new();
        for _ in 0..count {
            let started = Instant::now();
            let sent = self
                .http
                .request(reqwest::Method::GET, &url)
                .header(
                    "Cloudflare-Workers-Version-Overrides",
                    pin_header(&r.service, &r.new_version_id),
                )
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            let ms = started.elapsed().as_millis() as u32;
            answers.push(match sent {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.text().await.unwrap_or_default();
                    PinnedAnswer {
                        status: Some(status),
                        ms,
                        body: body.chars().take(500).collect(),
                        error: None,
                    }
                }
                Err(e) => PinnedAnswer {
                    status: None,
                    ms,
                    body: String::new(),
                    error: Some(format!("No answer: {e}")),
                },
            });
        }
        Ok(VersionTest {
            url,
            version_id: r.new_version_id,
            answers,
        })
    }

    fn mark_interrupted(&self, r: &mut Rollout) {
        if !r.state.is_over() && !self.rollouts.is_live(&r.id) {
            r.state = RolloutState::Interrupted;
            r.reason = Some(format!(
                "The app stopped while this rollout ran. The platform still serves the last split ({} % on the new version). Take it up again or abort it.",
                r.percent
            ));
        }
    }

    async fn load_rollout(&self, id: &str) -> Result<Rollout, AppError> {
        let rec = self.store.rollout(id).await?.ok_or_else(|| {
            AppError::new(ErrorCode::NotFound, format!("There is no rollout {id}."))
        })?;
        serde_json::from_value(rec.data).map_err(|_| AppError::internal("Reading a rollout"))
    }

    pub(super) async fn save_rollout(&self, r: &Rollout) -> Result<(), AppError> {
        let data = serde_json::to_value(r).map_err(|_| AppError::internal("Saving a rollout"))?;
        self.store
            .put_rollout(&RolloutRecord {
                id: r.id.clone(),
                profile_id: r.profile_id.clone(),
                service: r.service.clone(),
                environment: r.environment.as_str().to_owned(),
                state: r.state.as_str().to_owned(),
                started_ms: r.started_ms,
                updated_ms: r.updated_ms,
                data,
            })
            .await
    }

    /// Save and tell the window.
    async fn publish(&self, r: &mut Rollout, on_update: &(impl Fn(Rollout) + Send + Sync)) {
        r.updated_ms = self.now_ms();
        if let Err(e) = self.save_rollout(r).await {
            tracing::error!(error = %e.message, rollout = %r.id, "could not save the rollout");
        }
        on_update(r.clone());
    }

    /// Drive `r` until it ends, answering the operator's commands.
    async fn drive_rollout(
        &self,
        profile: &ProfileContext<'_>,
        mut r: Rollout,
        on_update: &(impl Fn(Rollout) + Send + Sync),
    ) -> Result<Rollout, AppError> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.rollouts
            .live
            .lock()
            .map_err(|_| AppError::internal("Starting the rollout"))?
            .insert(r.id.clone(), tx);
        let _live = LiveGuard {
            rt: &self.rollouts,
            id: r.id.clone(),
        };
        let mut watch: Option<StepWatch> = None;
        let mut health = HealthGate::new(format!(
            "{}/health",
            service_url(profile, &r.service, r.environment)
        ));
        while !r.state.is_over() {
            let command = if r.state == RolloutState::Stepping {
                tokio::select! {
                    c = rx.recv() => c,
                    _ = tokio::time::sleep(TICK) => None,
                }
            } else {
                watch = None;
                rx.recv().await
            };
            if let Some(c) = command {
                self.apply_command(profile, &mut r, c).await;
                if r.state == RolloutState::Stepping {
                    watch = Some(self.watch_step(profile, &r).await);
                    health.restart();
                }
                self.publish(&mut r, on_update).await;
                continue;
            }
            // A tick of a step: look at the gates.
            if watch.is_none() {
                watch = Some(self.watch_step(profile, &r).await);
            }
            let GateReading {
                mut gate,
                requests,
                errors,
                tail_error,
                rate,
                elapsed_ms,
                dwell_over,
                enough,
                step_no,
                failure,
            } = self.read_gate(&r, watch.as_ref(), &mut health).await;
            if let Some(why) = failure {
                gate.passed = Some(false);
                gate.summary = format!("Gate of step {step_no} failed: {why}.");
                r.gate = Some(gate.clone());
                self.audit_gate(profile, &r, &gate).await;
                watch = None;
                self.back_to_stable(
                    profile,
                    &mut r,
                    RolloutState::RolledBack,
                    format!("Rolled back automatically: {why}."),
                )
                .await;
                self.publish(&mut r, on_update).await;
                continue;
            }
            if dwell_over {
                if !enough {
                    gate.summary = format!(
                        "Only {requests} request{} of the new version were seen in the tail at {} % (the gate needs {}){}. Holding this split: send traffic and resume, advance if you are sure, or abort.",
                        if requests == 1 { "" } else { "s" },
                        r.percent,
                        r.settings.min_requests,
                        tail_error.map(|e| format!("; the tail: {e}")).unwrap_or_default()
                    );
                    r.gate = Some(gate.clone());
                    r.state = RolloutState::Paused;
                    r.reason = Some(gate.summary.clone());
                    let now = self.now_ms();
                    push_event(&mut r, now, "paused", gate.summary.clone());
                    self.audit_gate(profile, &r, &gate).await;
                    self.publish(&mut r, on_update).await;
                    continue;
                }
                gate.passed = Some(true);
                gate.summary = format!(
                    "Gate of step {step_no} passed: error rate {rate:.1} % ({errors} of {requests}), {}.",
                    gate.health_detail
                );
                r.gate = Some(gate.clone());
                self.audit_gate(profile, &r, &gate).await;
                let now = self.now_ms();
                push_event(&mut r, now, "gate", gate.summary.clone());
                if !r.settings.operator_checks.is_empty() {
                    // The measures passed; the operator's own checks decide the rest.
                    r.state = RolloutState::Paused;
                    r.awaiting_checks = true;
                    let why = format!(
                        "The gate of step {step_no} passed its measures. Before the split moves on, confirm: {}.",
                        r.settings.operator_checks.join("; ")
                    );
                    r.reason = Some(why.clone());
                    push_event(&mut r, now, "checks", why);
                    watch = None;
                    self.publish(&mut r, on_update).await;
                    continue;
                }
                let next = r.step.map(|s| s + 1).unwrap_or(0);
                if next as usize >= r.settings.steps.len() {
                    r.state = RolloutState::Completed;
                    r.reason = None;
                    let target = format!("{}/{}", r.service, r.environment);
                    let params =
                        serde_json::json!({ "rollout": r.id, "version": r.new_version_id });
                    let _ = self
                        .audited(&profile.id, "rollout.complete", &target, params, async {
                            Ok(())
                        })
                        .await;
                    let msg = format!(
                        "Completed: all traffic on version {}.",
                        short(&r.new_version_id)
                    );
                    push_event(&mut r, now, "completed", msg);
                    watch = None;
                } else {
                    watch = None;
                    if self.go_to_step(profile, &mut r, next).await {
                        watch = Some(self.watch_step(profile, &r).await);
                        health.restart();
                    }
                }
                self.publish(&mut r, on_update).await;
                continue;
            }
            gate.summary = format!(
                "Step {step_no} at {} %: {requests} request{} of the new version, {errors} failed; decides in {} s.",
                r.percent,
                if requests == 1 { "" } else { "s" },
                (i64::from(r.settings.dwell_seconds) * 1000 - elapsed_ms).max(0) / 1000
            );
            r.gate = Some(gate);
            r.updated_ms = self.now_ms();
            on_update(r.clone());
        }
        drop(watch);
        Ok(r)
    }

    async fn apply_command(
        &self,
        profile: &ProfileContext<'_>,
        r: &mut Rollout,
        c: RolloutCommand,
    ) {
        let now = self.now_ms();
        let refuse = |r: &mut Rollout, what: &str| {
            let state = r.state.as_str();
            push_event(
                r,
                now,
                "refused",
                format!("{what} is not possible while the rollout is {state}."),
            );
        };
        match c {
            RolloutCommand::Abort => {
                self.back_to_stable(
                    profile,
                    r,
                    RolloutState::Aborted,
                    "Aborted by the operator.".into(),
                )
                .await;
            }
            RolloutCommand::Begin if r.state == RolloutState::Testing => {
                self.go_to_step(profile, r, 0).await;
            }
            RolloutCommand::Advance
                if matches!(
                    r.state,
                    RolloutState::Stepping
                        | RolloutState::Paused
                        | RolloutState::Stopped
                        | RolloutState::Testing
                ) =>
            {
                if r.awaiting_checks {
                    let target = format!("{}/{}", r.service, r.environment);
                    let params = serde_json::json!({
                        "rollout": r.id, "percent": r.percent, "checks": r.settings.operator_checks,
                    });
                    let _ = self
                        .audited(&profile.id, "rollout.checks", &target, params, async {
                            Ok(())
                        })
                        .await;
                    r.awaiting_checks = false;
                    push_event(
                        r,
                        now,
                        "checks",
                        format!("The operator confirmed the checks at {} %.", r.percent),
                    );
                }
                let next = r.step.map(|s| s + 1).unwrap_or(0);
                if next as usize >= r.settings.steps.len() {
                    // At 100 % already: advancing ends it.
                    r.state = RolloutState::Completed;
                    push_event(
                        r,
                        now,
                        "completed",
                        "Completed by the operator at 100 %.".into(),
                    );
                } else {
                    self.go_to_step(profile, r, next).await;
                }
            }
            RolloutCommand::Pause if r.state == RolloutState::Stepping => {
                r.state = RolloutState::Paused;
                r.reason = Some(format!("Paused by the operator at {} %.", r.percent));
                push_event(r, now, "paused", r.reason.clone().unwrap_or_default());
            }
            RolloutCommand::Resume
                if matches!(r.state, RolloutState::Paused | RolloutState::Stopped) =>
            {
                match r.step {
                    // Set the step's split again (a stopped rollout retries it) with a fresh dwell.
                    Some(i) => {
                        self.go_to_step(profile, r, i).await;
                    }
                    None => {
                        r.state = RolloutState::Testing;
                        r.reason = None;
                    }
                }
            }
            RolloutCommand::Begin => refuse(r, "Begin"),
            RolloutCommand::Advance => refuse(r, "Advance"),
            RolloutCommand::Pause => refuse(r, "Pause"),
            RolloutCommand::Resume => refuse(r, "Resume"),
        }
    }
}
