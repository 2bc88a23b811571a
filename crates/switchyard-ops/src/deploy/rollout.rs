//! Staged rollouts of a namespaced worker with health gates and automatic rollback.
//!
//! Through Cloudflare's versions and deployments API (what wrangler refuses with a dispatch
//! namespace): the new bundle is uploaded as a version at 0 % beside the stable one, the operator
//! can send it requests pinned with `Cloudflare-Workers-Version-Overrides`, then the split moves
//! step by step (10 % → 50 % → 100 % by default). During each step's dwell the gates are watched:
//! the service's `/health`, and the error rate of the new version among the requests the tail
//! shows. A failed gate puts 100 % back on the stable version by itself and says why; the operator
//! can pause, resume, advance or abort at any time. Every change is in the audit log (and so in
//! the incident timeline) and in the store, so a rollout cut off by a restart is shown as
//! interrupted, to resume or roll back.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use switchyard_clients::{CloudflareApi, TailSocket, VersionSplit, WorkerVersionsApi};
use switchyard_core::{AppError, Environment, ErrorCode, Profile};
use switchyard_store::RolloutRecord;

use super::plan::{check_confirmation, confirmation_for, namespace_for};
use super::{
    sha256_hex, source, Confirmation, ConfirmationRequirement, PlanBasis, COMPATIBILITY_DATE,
};
use crate::{actor, Ops};

/// How often the gates are looked at during a step.
const TICK: Duration = Duration::from_millis(500);
/// How often `/health` is checked during a step.
const HEALTH_EVERY: Duration = Duration::from_secs(2);
/// Events kept in a rollout (the oldest go first).
const MAX_EVENTS: usize = 200;

/// The steps, dwell and gates of a rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RolloutSettings {
    /// The new version's share at each step, ascending, ending at 100.
    pub steps: Vec<u32>,
    /// How long each step holds before its gate decides.
    pub dwell_seconds: u32,
    /// The gate fails when more than this share of the new version's requests fail.
    pub max_error_rate_pct: f64,
    /// Requests of the new version needed in a step before its error rate can decide.
    pub min_requests: u32,
    /// Requests a second Switchyard sends to the service during each step (0: rely on real
    /// traffic), so a quiet service still gives the gate something to judge.
    pub probe_per_second: u32,
    /// The path those requests ask for.
    pub probe_path: String,
}

impl Default for RolloutSettings {
    fn default() -> Self {
        RolloutSettings {
            steps: vec![10, 50, 100],
            dwell_seconds: 60,
            max_error_rate_pct: 5.0,
            min_requests: 20,
            probe_per_second: 0,
            probe_path: "/".into(),
        }
    }
}

impl RolloutSettings {
    /// Refuse settings that cannot make a rollout, naming the field.
    pub fn check(&self) -> Result<(), AppError> {
        let bad = |m: String| Err(AppError::invalid_input(m));
        if self.steps.is_empty() || self.steps.len() > 10 {
            return bad(format!(
                "steps: give 1 to 10 percentages ending at 100 (got {}).",
                self.steps.len()
            ));
        }
        if self.steps.iter().any(|p| *p == 0 || *p > 100) {
            return bad("steps: each step is a share from 1 to 100 %.".into());
        }
        if self.steps.windows(2).any(|w| w[0] >= w[1]) {
            return bad(
                "steps: each step must be larger than the one before (e.g. 10, 50, 100).".into(),
            );
        }
        if self.steps.last() != Some(&100) {
            return bad("steps: the last step must be 100 % (the rollout ends with all traffic on the new version).".into());
        }
        if !(1..=86_400).contains(&self.dwell_seconds) {
            return bad("dwellSeconds: from 1 second to 1 day.".into());
        }
        if !(0.0..=100.0).contains(&self.max_error_rate_pct) || self.max_error_rate_pct.is_nan() {
            return bad("maxErrorRatePct: a share from 0 to 100 %.".into());
        }
        if !(1..=100_000).contains(&self.min_requests) {
            return bad("minRequests: from 1 to 100,000 requests.".into());
        }
        if self.probe_per_second > 50 {
            return bad("probePerSecond: at most 50 requests a second.".into());
        }
        if !self.probe_path.starts_with('/') || self.probe_path.len() > 512 {
            return bad("probePath: a path starting with / (at most 512 characters).".into());
        }
        Ok(())
    }
}

/// A rollout to plan: the bundle file, where, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RolloutRequest {
    pub profile_id: String,
    pub service: String,
    pub environment: Environment,
    /// The built bundle (an ES module), as for a bundle-file deploy.
    pub bundle_path: String,
    pub settings: RolloutSettings,
}

/// The version serving all traffic now, which the rollout falls back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StableVersion {
    pub version_id: String,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub number: Option<u64>,
    pub created_on: Option<String>,
    pub message: Option<String>,
}

/// What a rollout will do, shown before it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RolloutPlan {
    pub profile_id: String,
    pub service: String,
    pub environment: Environment,
    pub namespace: String,
    pub bundle_sha256: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub bundle_size: u64,
    pub stable: StableVersion,
    pub settings: RolloutSettings,
    pub warnings: Vec<String>,
    pub confirmation: ConfirmationRequirement,
    /// The button's label.
    pub action: String,
    /// The active deployment the plan was made against: send it back in the confirmation.
    pub basis: PlanBasis,
}

/// Start a planned rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StartRollout {
    pub request: RolloutRequest,
    /// The bundle's hash as planned: a file changed since is refused.
    pub bundle_sha256: String,
    pub confirmation: Confirmation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum RolloutState {
    /// The new version is uploaded at 0 %: test it, then begin the steps.
    Testing,
    /// At a step, dwelling, its gates watched.
    Stepping,
    /// Holding the split; nothing moves by itself.
    Paused,
    /// A platform call failed: the split is the last one confirmed. Resume to retry, or abort.
    Stopped,
    /// The app stopped while the rollout ran: resume it or abort it.
    Interrupted,
    /// All traffic is on the new version.
    Completed,
    /// A gate failed: all traffic went back to the stable version.
    RolledBack,
    /// The operator aborted it: all traffic went back to the stable version.
    Aborted,
}

impl RolloutState {
    pub fn is_over(self) -> bool {
        matches!(
            self,
            RolloutState::Completed | RolloutState::RolledBack | RolloutState::Aborted
        )
    }

    fn as_str(self) -> &'static str {
        match self {
            RolloutState::Testing => "testing",
            RolloutState::Stepping => "stepping",
            RolloutState::Paused => "paused",
            RolloutState::Stopped => "stopped",
            RolloutState::Interrupted => "interrupted",
            RolloutState::Completed => "completed",
            RolloutState::RolledBack => "rolledBack",
            RolloutState::Aborted => "aborted",
        }
    }
}

/// What a step's gates saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct GateCheck {
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
    pub percent: u32,
    /// None until the first health check of the step.
    pub health_ok: Option<bool>,
    pub health_detail: String,
    /// Requests of the new version seen in the tail during the step, and how many failed.
    pub requests: u32,
    pub errors: u32,
    pub error_rate_pct: Option<f64>,
    /// None while the step dwells; true or false once the gate decided.
    pub passed: Option<bool>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RolloutEvent {
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
    pub kind: String,
    pub message: String,
}

/// A rollout and where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    pub id: String,
    pub profile_id: String,
    pub service: String,
    pub environment: Environment,
    pub namespace: String,
    pub bundle_sha256: String,
    pub new_version_id: String,
    pub stable_version_id: String,
    pub settings: RolloutSettings,
    pub state: RolloutState,
    /// Index into `settings.steps` of the step reached (None while at 0 %).
    pub step: Option<u32>,
    /// The new version's share of traffic the platform was last told, in percent.
    pub percent: u32,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub step_started_ms: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub started_ms: i64,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub updated_ms: i64,
    pub started_by: String,
    pub gate: Option<GateCheck>,
    /// Newest last.
    pub events: Vec<RolloutEvent>,
    /// Why it paused, stopped, rolled back or was aborted.
    pub reason: Option<String>,
}

/// What the operator asks of a running rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum RolloutCommand {
    /// From 0 %: go to the first step.
    Begin,
    Pause,
    /// Continue a paused or stopped rollout at its step (a stopped one retries its split).
    Resume,
    /// Go to the next step now, without waiting for the dwell.
    Advance,
    /// Put all traffic back on the stable version and end the rollout.
    Abort,
}

/// One answer of the new version to a pinned request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PinnedAnswer {
    pub status: Option<u16>,
    pub ms: u32,
    /// The start of the body (at most 500 characters).
    pub body: String,
    pub error: Option<String>,
}

/// The new version tested with requests pinned to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct VersionTest {
    pub url: String,
    pub version_id: String,
    pub answers: Vec<PinnedAnswer>,
}

/// The rollouts driven by this process: their command inboxes.
#[derive(Debug, Default)]
pub(crate) struct RolloutRuntime {
    live: Mutex<HashMap<String, mpsc::UnboundedSender<RolloutCommand>>>,
}

impl RolloutRuntime {
    fn is_live(&self, id: &str) -> bool {
        self.live.lock().is_ok_and(|m| m.contains_key(id))
    }
}

/// Unregisters a driver however it ends.
struct LiveGuard<'a> {
    rt: &'a RolloutRuntime,
    id: String,
}

impl Drop for LiveGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.rt.live.lock() {
            m.remove(&self.id);
        }
    }
}

/// The URL of `service` in `environment` under `profile` (its root, no trailing slash).
fn service_url(profile: &Profile, service: &str, environment: Environment) -> String {
    profile
        .service_url_template
        .replace("{service}", service)
        .replace("{environment}", environment.as_str())
        .trim_end_matches('/')
        .to_owned()
}

/// The override header value that pins `worker` to `version`.
fn pin_header(worker: &str, version: &str) -> String {
    format!("{worker}=\"{version}\"")
}

/// What a tail event says about the new version: (is it one of its requests, did it fail).
fn judge(ev: &switchyard_clients::TraceEvent, namespace: &str, version: &str) -> Option<bool> {
    if ev
        .dispatch_namespace
        .as_deref()
        .is_some_and(|ns| ns != namespace)
    {
        return None;
    }
    let id = ev.script_version.as_ref()?.id.as_deref()?;
    if id != version {
        return None;
    }
    let status = ev
        .event
        .as_ref()
        .and_then(|e| e.response.as_ref())
        .and_then(|r| r.status);
    let failed =
        ev.outcome != "ok" || !ev.exceptions.is_empty() || status.is_some_and(|s| s >= 500);
    Some(failed)
}

#[derive(Debug, Default)]
struct Counts {
    requests: u32,
    errors: u32,
    tail_error: Option<String>,
}

/// The tasks watching one step: the tail of the worker and the probe traffic. Stopped on drop.
struct StepWatch {
    counts: Arc<Mutex<Counts>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    tail: Option<(CloudflareApi, String, String)>,
}

impl Drop for StepWatch {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Some((api, worker, id)) = self.tail.take() {
            tokio::spawn(async move {
                let _ = api.delete_tail(&worker, &id).await;
            });
        }
    }
}

impl Ops {
    fn rollout_api(
        &self,
        profile: &Profile,
    ) -> Result<(CloudflareApi, WorkerVersionsApi), AppError> {
        let cf = self.cloudflare_client(profile)?;
        Ok((cf.clone(), WorkerVersionsApi::new(cf)))
    }

    /// The single version serving 100 % now, and the active deployment's id.
    async fn stable_version(
        &self,
        versions: &WorkerVersionsApi,
        namespace: &str,
        worker: &str,
    ) -> Result<(String, StableVersion), AppError> {
        let deployments = versions.list_deployments(namespace, worker).await?;
        let Some(active) = deployments.first() else {
            return Err(AppError::new(
                ErrorCode::NotFound,
                format!("{worker} in {namespace} has no deployment: deploy it once before a staged rollout."),
            ));
        };
        if active.versions.len() != 1 {
            let split: Vec<String> = active
                .versions
                .iter()
                .map(|v| format!("{} at {} %", short(&v.version_id), v.percentage))
                .collect();
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!(
                    "{worker} in {namespace} already splits its traffic ({}): finish or roll back that rollout first.",
                    split.join(", ")
                ),
            ));
        }
        let id = active.versions[0].version_id.clone();
        let v = versions.get_version(namespace, worker, &id).await?;
        Ok((
            active.id.clone(),
            StableVersion {
                version_id: id,
                number: v.number,
                created_on: v.metadata.created_on.clone(),
                message: v.message().map(str::to_owned),
            },
        ))
    }

    /// The plan of a staged rollout: the bundle, the stable version it starts from, the steps
    /// and gates, and the confirmation it needs (as a deploy to that environment would).
    pub async fn rollout_plan(&self, req: &RolloutRequest) -> Result<RolloutPlan, AppError> {
        req.settings.check()?;
        let profile = self.store.get_profile(&req.profile_id).await?;
        let limit = self.deploy_settings().await?.bundle_size_limit_bytes;
        let (bytes, size) = source::read_bundle(Path::new(&req.bundle_path), limit).await?;
        // Archived now so the plan's diff can show it; the archive is content-addressed.
        self.archive_bundle(&bytes).await?;
        let namespace = namespace_for(&profile, req.environment);
        let (_, versions) = self.rollout_api(&profile)?;
        let (active, stable) = self
            .stable_version(&versions, &namespace, &req.service)
            .await?;
        let mut warnings = Vec::new();
        if req.settings.probe_per_second == 0 {
            warnings.push(format!(
                "No probe traffic: the error-rate gate judges only real requests. A step with fewer than {} requests of the new version pauses and asks you.",
                req.settings.min_requests
            ));
        }
        let confirmation = confirmation_for(&profile, req.environment, &req.service, false);
        let steps: Vec<String> = req
            .settings
            .steps
            .iter()
            .map(|p| format!("{p} %"))
            .collect();
        Ok(RolloutPlan {
            profile_id: profile.id.clone(),
            service: req.service.clone(),
            environment: req.environment,
            namespace,
            bundle_sha256: sha256_hex(&bytes),
            bundle_size: size,
            basis: PlanBasis {
                current_deployment_id: Some(active),
                current_label: Some(format!("version {}", short(&stable.version_id))),
            },
            stable,
            settings: req.settings.clone(),
            warnings,
            confirmation,
            action: format!(
                "Roll out {} in {} in steps ({})",
                req.service,
                req.environment,
                steps.join(" → ")
            ),
        })
    }

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
        let profile = self.store.get_profile(&req.profile_id).await?;
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
                let (_, versions) = self.rollout_api(&profile)?;
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
        let profile = self.store.get_profile(&r.profile_id).await?;
        let _held = self.hold_target(
            &profile,
            crate::target_lock::LockTarget::Service {
                service: &r.service,
                environment: r.environment,
            },
            "a staged rollout",
            id,
        )?;
        let (_, versions) = self.rollout_api(&profile)?;
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
                let profile = self.store.get_profile(&r.profile_id).await?;
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
        let profile = self.store.get_profile(&r.profile_id).await?;
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

    async fn save_rollout(&self, r: &Rollout) -> Result<(), AppError> {
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

    /// Put all traffic back on the stable version; `state` and `reason` say why. When even that
    /// fails the rollout stops where the platform is, saying so.
    async fn back_to_stable(
        &self,
        profile: &Profile,
        r: &mut Rollout,
        state: RolloutState,
        reason: String,
    ) {
        let target = format!("{}/{}", r.service, r.environment);
        let params = serde_json::json!({
            "rollout": r.id, "from": r.percent, "stable": r.stable_version_id, "reason": reason,
        });
        let action = if state == RolloutState::Aborted {
            "rollout.abort"
        } else {
            "rollout.rollback"
        };
        let done = self
            .audited(&profile.id, action, &target, params, async {
                let (_, versions) = self.rollout_api(profile)?;
                versions
                    .create_deployment(
                        &r.namespace,
                        &r.service,
                        &[VersionSplit::new(&r.stable_version_id, 100.0)],
                        Some(&format!("{}: back to the stable version", r.id)),
                    )
                    .await
            })
            .await;
        let now = self.now_ms();
        match done {
            Ok(_) => {
                let from = r.percent;
                r.percent = 0;
                r.state = state;
                r.reason = Some(reason.clone());
                push_event(
                    r,
                    now,
                    action.trim_start_matches("rollout."),
                    format!(
                        "All traffic back on {} (the new version had {from} %): {reason}",
                        short(&r.stable_version_id)
                    ),
                );
            }
            Err(e) => {
                r.state = RolloutState::Stopped;
                r.reason = Some(format!(
                    "{reason} Putting all traffic back on the stable version failed: {} The platform still serves {} % on the new version: abort again when it answers.",
                    e.message, r.percent
                ));
                push_event(r, now, "stopped", r.reason.clone().unwrap_or_default());
            }
        }
        r.updated_ms = now;
        if let Err(e) = self.save_rollout(r).await {
            tracing::error!(error = %e.message, "could not save the rollout");
        }
    }

    /// Move the split to step `index`; on failure the rollout stops at the last confirmed split.
    async fn go_to_step(&self, profile: &Profile, r: &mut Rollout, index: u32) -> bool {
        let Some(&pct) = r.settings.steps.get(index as usize) else {
            return false;
        };
        let target = format!("{}/{}", r.service, r.environment);
        let params = serde_json::json!({ "rollout": r.id, "step": index + 1, "percent": pct, "from": r.percent });
        let split = if pct >= 100 {
            vec![VersionSplit::new(&r.new_version_id, 100.0)]
        } else {
            vec![
                VersionSplit::new(&r.new_version_id, f64::from(pct)),
                VersionSplit::new(&r.stable_version_id, f64::from(100 - pct)),
            ]
        };
        let done = self
            .audited(&profile.id, "rollout.step", &target, params, async {
                let (_, versions) = self.rollout_api(profile)?;
                versions
                    .create_deployment(
                        &r.namespace,
                        &r.service,
                        &split,
                        Some(&format!("{}: {pct} %", r.id)),
                    )
                    .await
            })
            .await;
        let now = self.now_ms();
        match done {
            Ok(_) => {
                r.percent = pct;
                r.step = Some(index);
                r.step_started_ms = Some(now);
                r.state = RolloutState::Stepping;
                r.reason = None;
                r.gate = None;
                push_event(
                    r,
                    now,
                    "step",
                    format!(
                        "Step {} of {}: {pct} % on the new version; its gates decide in {} s.",
                        index + 1,
                        r.settings.steps.len(),
                        r.settings.dwell_seconds
                    ),
                );
                true
            }
            Err(e) => {
                r.state = RolloutState::Stopped;
                r.reason = Some(format!(
                    "Moving to {pct} % failed: {} The platform still serves the last confirmed split ({} % on the new version). Resume to retry, or abort to put all traffic back on the stable version.",
                    e.message, r.percent
                ));
                push_event(r, now, "stopped", r.reason.clone().unwrap_or_default());
                false
            }
        }
    }

    /// Start watching the current step: the worker's tail (the new version's requests and
    /// errors) and, when asked, probe traffic.
    async fn watch_step(&self, profile: &Profile, r: &Rollout) -> StepWatch {
        let counts = Arc::new(Mutex::new(Counts::default()));
        let mut watch = StepWatch {
            counts: counts.clone(),
            tasks: Vec::new(),
            tail: None,
        };
        match self.rollout_api(profile) {
            Ok((cf, _)) => match cf.create_tail(&r.service).await {
                Ok(info) => {
                    watch.tail = Some((cf.clone(), r.service.clone(), info.id.clone()));
                    let (ns, version) = (r.namespace.clone(), r.new_version_id.clone());
                    let counts = counts.clone();
                    watch.tasks.push(tokio::spawn(async move {
                        let mut socket = match TailSocket::connect(&info).await {
                            Ok(s) => s,
                            Err(e) => {
                                if let Ok(mut c) = counts.lock() {
                                    c.tail_error = Some(e.message);
                                }
                                return;
                            }
                        };
                        while let Some(ev) = socket.next_event().await {
                            let Ok(ev) = ev else { continue };
                            if let Some(failed) = judge(&ev, &ns, &version) {
                                if let Ok(mut c) = counts.lock() {
                                    c.requests += 1;
                                    c.errors += u32::from(failed);
                                }
                            }
                        }
                    }));
                }
                Err(e) => {
                    if let Ok(mut c) = counts.lock() {
                        c.tail_error = Some(e.message);
                    }
                }
            },
            Err(e) => {
                if let Ok(mut c) = counts.lock() {
                    c.tail_error = Some(e.message);
                }
            }
        }
        if r.settings.probe_per_second > 0 {
            let url = format!(
                "{}{}",
                service_url(profile, &r.service, r.environment),
                r.settings.probe_path
            );
            let client = self.http.clone();
            let every = Duration::from_millis(1000 / u64::from(r.settings.probe_per_second));
            watch.tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    let client = client.clone();
                    let url = url.clone();
                    tokio::spawn(async move {
                        let _ = client
                            .request(reqwest::Method::GET, &url)
                            .timeout(Duration::from_secs(5))
                            .send()
                            .await;
                    });
                }
            }));
        }
        // Let the tail connect before the step's traffic counts.
        tokio::time::sleep(Duration::from_millis(200)).await;
        watch
    }

    /// Drive `r` until it ends, answering the operator's commands.
    async fn drive_rollout(
        &self,
        profile: &Profile,
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
        let mut health_fails = 0u32;
        let mut last_health = Instant::now() - HEALTH_EVERY;
        let health_url = format!("{}/health", service_url(profile, &r.service, r.environment));
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
                    health_fails = 0;
                    last_health = Instant::now() - HEALTH_EVERY;
                }
                self.publish(&mut r, on_update).await;
                continue;
            }
            // A tick of a step: look at the gates.
            if watch.is_none() {
                watch = Some(self.watch_step(profile, &r).await);
            }
            let (requests, errors, tail_error) = watch
                .as_ref()
                .and_then(|w| {
                    w.counts
                        .lock()
                        .ok()
                        .map(|c| (c.requests, c.errors, c.tail_error.clone()))
                })
                .unwrap_or_default();
            let mut gate = r.gate.clone().unwrap_or(GateCheck {
                at_ms: 0,
                percent: r.percent,
                health_ok: None,
                health_detail: "not checked yet".into(),
                requests: 0,
                errors: 0,
                error_rate_pct: None,
                passed: None,
                summary: String::new(),
            });
            if last_health.elapsed() >= HEALTH_EVERY {
                last_health = Instant::now();
                let (ok, detail) = match self
                    .http
                    .request(reqwest::Method::GET, &health_url)
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await
                {
                    Ok(resp) if resp.status().is_success() => {
                        (true, format!("/health answered {}", resp.status().as_u16()))
                    }
                    Ok(resp) => (
                        false,
                        format!("/health answered {}", resp.status().as_u16()),
                    ),
                    Err(e) => (false, format!("/health did not answer: {e}")),
                };
                health_fails = if ok { 0 } else { health_fails + 1 };
                gate.health_ok = Some(ok);
                gate.health_detail = detail;
            }
            gate.at_ms = self.now_ms();
            gate.percent = r.percent;
            gate.requests = requests;
            gate.errors = errors;
            gate.error_rate_pct =
                (requests > 0).then(|| f64::from(errors) * 100.0 / f64::from(requests));
            let rate = gate.error_rate_pct.unwrap_or(0.0);
            let elapsed_ms = gate.at_ms - r.step_started_ms.unwrap_or(gate.at_ms);
            let dwell_over = elapsed_ms >= i64::from(r.settings.dwell_seconds) * 1000;
            let enough = requests >= r.settings.min_requests;
            let step_no = r.step.map(|s| s + 1).unwrap_or(0);
            let failure = if health_fails >= 2 {
                Some(format!(
                    "the service's health failed twice in a row ({}) at {} %",
                    gate.health_detail, r.percent
                ))
            } else if enough && rate > r.settings.max_error_rate_pct {
                Some(format!(
                    "the new version's error rate was {rate:.1} % ({errors} of {requests} requests failed) at {} %, above the {} % allowed",
                    r.percent, r.settings.max_error_rate_pct
                ))
            } else {
                None
            };
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
                        health_fails = 0;
                        last_health = Instant::now() - HEALTH_EVERY;
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

    async fn audit_gate(&self, profile: &Profile, r: &Rollout, gate: &GateCheck) {
        let target = format!("{}/{}", r.service, r.environment);
        let params = serde_json::json!({
            "rollout": r.id, "percent": gate.percent, "requests": gate.requests,
            "errors": gate.errors, "errorRatePct": gate.error_rate_pct, "health": gate.health_detail,
        });
        let outcome = match gate.passed {
            Some(true) => "ok",
            Some(false) => "failed",
            None => "held",
        };
        let begun = self
            .audit_begin(&profile.id, "rollout.gate", &target, params)
            .await;
        self.audit_end(begun, outcome, Some(&gate.summary)).await;
    }

    async fn apply_command(&self, profile: &Profile, r: &mut Rollout, c: RolloutCommand) {
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

fn push_event(r: &mut Rollout, at_ms: i64, kind: &str, message: String) {
    r.events.push(RolloutEvent {
        at_ms,
        kind: kind.to_owned(),
        message,
    });
    if r.events.len() > MAX_EVENTS {
        let extra = r.events.len() - MAX_EVENTS;
        r.events.drain(..extra);
    }
}

fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_by_name() {
        assert!(RolloutSettings::default().check().is_ok());
        for (s, field) in [
            (
                RolloutSettings {
                    steps: vec![],
                    ..Default::default()
                },
                "steps",
            ),
            (
                RolloutSettings {
                    steps: vec![50, 10, 100],
                    ..Default::default()
                },
                "steps",
            ),
            (
                RolloutSettings {
                    steps: vec![10, 50],
                    ..Default::default()
                },
                "steps",
            ),
            (
                RolloutSettings {
                    dwell_seconds: 0,
                    ..Default::default()
                },
                "dwellSeconds",
            ),
            (
                RolloutSettings {
                    max_error_rate_pct: 101.0,
                    ..Default::default()
                },
                "maxErrorRatePct",
            ),
            (
                RolloutSettings {
                    min_requests: 0,
                    ..Default::default()
                },
                "minRequests",
            ),
            (
                RolloutSettings {
                    probe_per_second: 51,
                    ..Default::default()
                },
                "probePerSecond",
            ),
            (
                RolloutSettings {
                    probe_path: "x".into(),
                    ..Default::default()
                },
                "probePath",
            ),
        ] {
            let e = s.check().unwrap_err();
            assert!(e.message.starts_with(field), "{field}: {}", e.message);
        }
    }

    #[test]
    fn only_the_new_versions_requests_in_its_namespace_count() {
        let ev = |ns: &str,
                  v: &str,
                  outcome: &str,
                  status: u16|
         -> switchyard_clients::TraceEvent {
            serde_json::from_value(serde_json::json!({
                "outcome": outcome, "dispatchNamespace": ns, "scriptVersion": {"id": v},
                "event": {"request": {"url": "http://x/", "method": "GET"}, "response": {"status": status}},
            }))
            .unwrap()
        };
        assert_eq!(judge(&ev("ns", "new", "ok", 200), "ns", "new"), Some(false));
        assert_eq!(judge(&ev("ns", "new", "ok", 503), "ns", "new"), Some(true));
        assert_eq!(
            judge(&ev("ns", "new", "exception", 500), "ns", "new"),
            Some(true)
        );
        assert_eq!(judge(&ev("ns", "old", "exception", 500), "ns", "new"), None);
        assert_eq!(judge(&ev("other", "new", "ok", 200), "ns", "new"), None);
    }
}
