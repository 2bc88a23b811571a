//! Deploy and roll back, point-and-click: build a service folder or take a prebuilt bundle,
//! preflight, plan, confirm, `POST /deploy`, verify; archive every bundle deployed
//! (content-addressed) with retention; roll back one step or to any archived version; deploy
//! straight to the namespace when the Deploy API is down; export the history.
//!
//! Every run streams [`DeployEvent`]s and can be cancelled by id ([`Ops::cancel_deploy`]) until
//! the upload starts.

mod archive;
mod diff;
mod direct;
mod events;
mod export;
mod fetch;
mod journal;
mod plan;
mod promote;
mod rollback;
mod rollout;
mod run;
mod source;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use switchyard_core::{AppError, ErrorCode};

pub use archive::{ArchivedBundle, DeploySettings, RetentionReport};
pub(crate) use diff::fill_hunks;
pub use diff::{BundleRef, BundleSide, CodeDiff, CompareRequest, DiffHunk, DiffLine, DiffLineKind};
pub use direct::{DirectDeployOutcome, DirectDeployRequest};
pub use events::{
    CheckState, DeployEvent, DeployStepId, OutputLine, OutputStream, PreflightCheck,
    PreflightCheckId, PreflightReport, StepEvent, StepState,
};
pub use journal::InterruptedDeploy;
pub(crate) use plan::namespace_for;
pub use plan::{
    BindingTarget, Confirmation, ConfirmationKind, ConfirmationRequirement, DeployBindingsDiff,
    DeployPlan, PlanBasis, ServiceBindingChange, VersionSummary,
};
pub use promote::PromoteRequest;
pub use rollback::{
    RestoreRequest, RollbackOutcome, RollbackPlan, RollbackRequest, VersionList, VersionRow,
};
pub(crate) use rollout::RolloutRuntime;
pub use rollout::{
    GateCheck, LiveSplit, LiveVersion, PinnedAnswer, Rollout, RolloutCommand, RolloutEvent,
    RolloutPlan, RolloutRequest, RolloutSettings, RolloutState, StableVersion, StartRollout,
    VersionTest,
};
pub use run::{DeployOutcome, PrepareDeploy, PreparedDeploy, Verification};
pub use source::{
    BundleInfo, DeploySource, GitInfo, MetadataInput, PackageManager, ServiceFolderInfo,
};

/// The compatibility date the Deploy API uploads with (used by the direct deploy too).
const COMPATIBILITY_DATE: &str = "2025-01-01";

/// Where a run is: before the upload it can be cancelled; from the upload on it cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunPhase {
    Cancellable,
    Uploading,
}

#[derive(Debug)]
struct RunControl {
    token: CancellationToken,
    phase: RunPhase,
}

/// A prepared deploy waiting for its confirmation: the plan shown and the exact bytes planned.
#[derive(Debug, Clone)]
struct PreparedEntry {
    prepared: run::PreparedDeploy,
    bytes: HashedBytes,
}

/// In-memory state of the deploy runs of one `Ops`: which runs are going (to cancel them) and
/// which prepared deploys wait for confirmation.
#[derive(Debug, Default)]
pub(crate) struct DeployRuns {
    runs: Mutex<HashMap<String, RunControl>>,
    prepared: Mutex<HashMap<String, PreparedEntry>>,
}

/// Unregisters a run when its work ends, however it ends.
#[derive(Debug)]
struct RunGuard<'a> {
    runs: &'a DeployRuns,
    run_id: String,
    token: CancellationToken,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut runs) = self.runs.runs.lock() {
            runs.remove(&self.run_id);
        }
    }
}

impl DeployRuns {
    /// Register a run (its id must not be running already).
    fn start(&self, run_id: &str) -> Result<RunGuard<'_>, AppError> {
        let mut runs = self
            .runs
            .lock()
            .map_err(|_| AppError::internal("Starting a deploy run"))?;
        if runs.contains_key(run_id) {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!("Deploy run {run_id} is already in progress; wait for it to finish."),
            ));
        }
        let token = CancellationToken::new();
        runs.insert(
            run_id.to_owned(),
            RunControl {
                token: token.clone(),
                phase: RunPhase::Cancellable,
            },
        );
        Ok(RunGuard {
            runs: self,
            run_id: run_id.to_owned(),
            token,
        })
    }

    /// The point of no return: from here on the run cannot be cancelled.
    fn begin_upload(&self, run_id: &str) -> Result<(), AppError> {
        let mut runs = self
            .runs
            .lock()
            .map_err(|_| AppError::internal("Starting the upload"))?;
        if let Some(run) = runs.get_mut(run_id) {
            if run.token.is_cancelled() {
                return Err(cancelled());
            }
            run.phase = RunPhase::Uploading;
        }
        Ok(())
    }

    fn cancel(&self, run_id: &str) -> Result<(), AppError> {
        let runs = self
            .runs
            .lock()
            .map_err(|_| AppError::internal("Cancelling a deploy"))?;
        match runs.get(run_id) {
            None => Err(AppError::new(
                ErrorCode::NotFound,
                format!("No deploy run {run_id} is in progress (it may have finished already)."),
            )),
            Some(run) if run.phase == RunPhase::Uploading => Err(AppError::new(
                ErrorCode::Conflict,
                "The bundle is already being uploaded, so this deploy can no longer be cancelled. \
                 Wait for verification to finish; if the new version misbehaves, roll back.",
            )),
            Some(run) => {
                run.token.cancel();
                Ok(())
            }
        }
    }

    fn put_prepared(&self, entry: PreparedEntry) {
        if let Ok(mut p) = self.prepared.lock() {
            p.insert(entry.prepared.run_id.clone(), entry);
        }
    }

    fn take_prepared(&self, run_id: &str) -> Result<PreparedEntry, AppError> {
        self.prepared
            .lock()
            .map_err(|_| AppError::internal("Reading the prepared deploy"))?
            .remove(run_id)
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NotFound,
                    format!(
                        "There is no prepared deploy {run_id} (it was applied, discarded, or the app restarted). Prepare the deploy again."
                    ),
                )
            })
    }

    /// The bytes of a prepared deploy by their SHA-256 (to compare them before confirming).
    fn prepared_bytes(&self, sha256: &str) -> Option<HashedBytes> {
        let p = self.prepared.lock().ok()?;
        p.values()
            .find(|e| e.prepared.plan.next.sha256.as_deref() == Some(sha256))
            .map(|e| e.bytes.clone())
    }

    fn discard_prepared(&self, run_id: &str) -> bool {
        self.prepared
            .lock()
            .map(|mut p| p.remove(run_id).is_some())
            .unwrap_or(false)
    }
}

/// A deploy run begun (see [`Ops::begin_run`]): its id, its registration (cancellable by id
/// until it is dropped) and its progress events.
pub(crate) struct BegunRun<'a> {
    pub run_id: String,
    guard: RunGuard<'a>,
    pub progress: events::Progress<'a>,
}

impl BegunRun<'_> {
    /// Cancelled when the operator cancels the run.
    fn token(&self) -> &CancellationToken {
        &self.guard.token
    }
}

impl crate::Ops {
    /// The one way to begin a deploy run (deploy, apply, restore, rollback, direct deploy,
    /// promote): the caller's run id (a new one when none or blank), registered so it can be
    /// cancelled by id (Conflict when that id runs already), and the progress that emits its
    /// events with the run id and the clock's time.
    pub(crate) fn begin_run<'a>(
        &'a self,
        requested: Option<&str>,
        on_event: &'a (dyn Fn(DeployEvent) + Send + Sync),
    ) -> Result<BegunRun<'a>, AppError> {
        let run_id = requested
            .filter(|r| !r.trim().is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| new_run_id(self.now_ms()));
        let guard = self.deploy_runs.start(&run_id)?;
        let progress = events::Progress::new(&run_id, self.clock.as_ref(), on_event);
        Ok(BegunRun {
            run_id,
            guard,
            progress,
        })
    }
}

/// The error of a run the operator cancelled.
fn cancelled() -> AppError {
    AppError::new(
        ErrorCode::Cancelled,
        "The deploy was cancelled before the upload; nothing was deployed.",
    )
}

/// Run `work` unless `token` is cancelled first.
async fn unless_cancelled<T>(
    token: &CancellationToken,
    work: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    tokio::select! {
        biased;
        _ = token.cancelled() => Err(cancelled()),
        r = work => r,
    }
}

/// A new run id: `run_<epoch-ms>_<8 hex>`.
fn new_run_id(now_ms: i64) -> String {
    use sha2::{Digest, Sha256};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let digest = Sha256::digest(format!("{now_ms}:{n}:{nanos}:{}", std::process::id()));
    format!("run_{now_ms}_{}", &hex::encode(digest)[..8])
}

/// A bundle's bytes with their SHA-256, hashed once when they are read (or checked once when
/// read back from the archive). The syntax check's memory, the plan, the archive and the upload
/// take the hash from here: 10 MiB is never hashed twice in one run.
#[derive(Debug, Clone)]
pub(crate) struct HashedBytes {
    bytes: Arc<Vec<u8>>,
    sha256: Arc<str>,
}

impl HashedBytes {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        let sha256 = sha256_hex(&bytes).into();
        Self {
            bytes: Arc::new(bytes),
            sha256,
        }
    }

    /// `bytes` when their SHA-256 is `expected` (bytes read back from the archive); else None.
    pub(crate) fn verified(bytes: Vec<u8>, expected: &str) -> Option<Self> {
        let hashed = Self::new(bytes);
        (*hashed.sha256 == *expected).then_some(hashed)
    }

    /// Lowercase hex SHA-256 of the bytes.
    pub(crate) fn sha256(&self) -> &str {
        &self.sha256
    }
}

impl std::ops::Deref for HashedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Lowercase hex sha256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// RFC 3339 of epoch milliseconds.
fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The label of a version: its tag, else the first 7 characters of its commit.
fn version_label(version: Option<&str>, commit: &str) -> String {
    match version.filter(|v| !v.trim().is_empty()) {
        Some(v) => v.to_owned(),
        None => switchyard_core::short_commit(commit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_works_until_the_upload_then_is_refused() {
        let runs = DeployRuns::default();
        assert_eq!(runs.cancel("r1").unwrap_err().code, ErrorCode::NotFound);
        {
            let guard = runs.start("r1").unwrap();
            assert_eq!(runs.start("r1").unwrap_err().code, ErrorCode::Conflict);
            runs.begin_upload("r1").unwrap();
            let e = runs.cancel("r1").unwrap_err();
            assert_eq!(e.code, ErrorCode::Conflict);
            assert!(e.message.contains("can no longer be cancelled"));
            assert!(!guard.token.is_cancelled());
        }
        // The run is unregistered when it ends.
        assert_eq!(runs.cancel("r1").unwrap_err().code, ErrorCode::NotFound);
        let guard = runs.start("r2").unwrap();
        runs.cancel("r2").unwrap();
        assert!(guard.token.is_cancelled());
        assert_eq!(
            runs.begin_upload("r2").unwrap_err().code,
            ErrorCode::Cancelled
        );
    }
}
