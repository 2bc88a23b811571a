//! The typed events a deploy run streams: step states, output lines, preflight checks.

use serde::{Deserialize, Serialize};
use switchyard_core::{AppError, Clock};

/// The steps of a deploy, rollback or direct deploy, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum DeployStepId {
    /// Read package.json, wrangler.jsonc and git metadata of a service folder (or the bundle file).
    Inspect,
    /// The folder's test script.
    Test,
    /// The folder's build script.
    Build,
    /// dist/index.js (or the bundle file) exists, its size and hash, `node --check`.
    VerifyBundle,
    /// Key, permission, size limit, service, environment, profile protection.
    Preflight,
    /// What is deployed now vs what will be, and the confirmation it needs.
    Plan,
    /// The bundle written to the archive.
    Archive,
    /// `POST /deploy`, `POST /rollback` or the direct upload to the namespace.
    Upload,
    /// The new record is the newest in `GET /deployments`.
    VerifyRecord,
    /// The service's `/health` answers 200 within the configured wait.
    VerifyHealth,
    /// Retention applied to the archive.
    Retention,
}

/// The state of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum StepState {
    Pending,
    Running,
    Passed,
    Failed,
    Skipped,
}

/// Which stream of a child process a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// A step changed state. `detail` says what it found, why it was skipped or why it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StepEvent {
    pub run_id: String,
    pub step: DeployStepId,
    pub state: StepState,
    pub detail: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
}

/// One line of a step's output (test and build output, live).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct OutputLine {
    pub run_id: String,
    pub step: DeployStepId,
    pub stream: OutputStream,
    pub line: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
}

/// What a preflight check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum PreflightCheckId {
    /// The profile is not read-only.
    ProfileWritable,
    /// The service is one of the profile's services and a valid name.
    Service,
    /// The environment and its dispatch namespace.
    Environment,
    /// A Deploy API key is stored for the profile.
    KeyPresent,
    /// The auth service knows the key.
    KeyValid,
    /// The key's user has `deployments:create`.
    Permission,
    /// A Cloudflare API token is stored (direct deploys only).
    CloudflareToken,
    /// The bundle is under the size limit.
    BundleSize,
    /// commit, branch and author are filled in (the Deploy API requires them).
    Metadata,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum CheckState {
    Passed,
    Failed,
    /// Not checked because an earlier check failed (e.g. no key → key not validated).
    Skipped,
}

/// One preflight check, reported individually.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PreflightCheck {
    pub id: PreflightCheckId,
    /// What was checked, e.g. "The key's user may deploy (deployments:create)".
    pub label: String,
    pub state: CheckState,
    /// What was found.
    pub detail: String,
    /// For a failed check: the error with its runbook section.
    pub error: Option<AppError>,
}

/// Every preflight check of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PreflightReport {
    pub run_id: String,
    pub checks: Vec<PreflightCheck>,
}

/// What a deploy run streams. JSON: `{"kind": "step" | "output" | "preflight", ...fields}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DeployEvent {
    Step(StepEvent),
    Output(OutputLine),
    Preflight(PreflightReport),
}

/// Emits a run's events with its id and the clock's time.
pub(crate) struct Progress<'a> {
    pub run_id: String,
    clock: &'a dyn Clock,
    sink: &'a (dyn Fn(DeployEvent) + Send + Sync),
}

impl<'a> Progress<'a> {
    pub fn new(
        run_id: &str,
        clock: &'a dyn Clock,
        sink: &'a (dyn Fn(DeployEvent) + Send + Sync),
    ) -> Self {
        Progress {
            run_id: run_id.to_owned(),
            clock,
            sink,
        }
    }

    pub fn step(&self, step: DeployStepId, state: StepState, detail: Option<String>) {
        (self.sink)(DeployEvent::Step(StepEvent {
            run_id: self.run_id.clone(),
            step,
            state,
            detail,
            at_ms: self.clock.now_ms(),
        }));
    }

    pub fn running(&self, step: DeployStepId) {
        self.step(step, StepState::Running, None);
    }

    pub fn passed(&self, step: DeployStepId, detail: impl Into<String>) {
        self.step(step, StepState::Passed, Some(detail.into()));
    }

    pub fn skipped(&self, step: DeployStepId, why: impl Into<String>) {
        self.step(step, StepState::Skipped, Some(why.into()));
    }

    pub fn failed(&self, step: DeployStepId, error: &AppError) {
        self.step(step, StepState::Failed, Some(error.message.clone()));
    }

    pub fn line(&self, step: DeployStepId, stream: OutputStream, line: String) {
        (self.sink)(DeployEvent::Output(OutputLine {
            run_id: self.run_id.clone(),
            step,
            stream,
            line,
            at_ms: self.clock.now_ms(),
        }));
    }

    pub fn preflight(&self, checks: &[PreflightCheck]) {
        (self.sink)(DeployEvent::Preflight(PreflightReport {
            run_id: self.run_id.clone(),
            checks: checks.to_vec(),
        }));
    }

    /// Run a step: running, then passed with the detail it returns, or failed with its error.
    pub async fn run<T>(
        &self,
        step: DeployStepId,
        work: impl std::future::Future<Output = Result<(T, String), AppError>>,
    ) -> Result<T, AppError> {
        self.running(step);
        match work.await {
            Ok((value, detail)) => {
                self.passed(step, detail);
                Ok(value)
            }
            Err(e) => {
                self.failed(step, &e);
                Err(e)
            }
        }
    }
}
