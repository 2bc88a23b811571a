//! Switchyard's façade: one public async fn per user action — manage profiles and their keys,
//! validate a key, sync and query deployment history, deploy (prepare → plan → apply, with the
//! bundle archive), roll back or restore an archived version, inspect and manage namespaces,
//! check health, run runbooks step by step, and install the sandbox's workerd — each recorded in
//! the audit log and each returning `AppError`s the window can show as they are. It ties together
//! the store, the keychain, the HTTP clients, the runbook engine and the embedded sandbox.
//!
//! It must not depend on `tauri`: the desktop shell calls these functions from thin commands, and
//! tests call them without a window.

mod audit;
pub mod bindings_edit;
mod context;
mod deploy;
mod health;
mod history;
mod key_origins;
mod logs;
mod memory;
mod namespaces;
mod process;
mod profile_import;
mod profiles;
mod project_folders;
mod runbooks;
mod secrets;
mod storage;
mod target_lock;
mod templates;
mod timeline;
mod worker_listing;
mod worker_secrets;
mod workerd_install;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use switchyard_clients::{HttpClient, HttpSettings};
use switchyard_core::{AppError, Clock, Profile, SANDBOX_PROFILE_ID};
use switchyard_sandbox::{Discovery, Sandbox, SandboxConfig};
use switchyard_secrets::{Secret, SecretKind, SecretStore};
use switchyard_store::{AuditEntry, AuditRecord, Store};

pub use audit::{AuditPage, AuditRow};
pub use deploy::{
    ArchivedBundle, BindingTarget, BundleInfo, CheckState, Confirmation, ConfirmationKind,
    ConfirmationRequirement, DeployBindingsDiff, DeployEvent, DeployOutcome, DeployPlan,
    DeploySettings, DeploySource, DeployStepId, DirectDeployOutcome, DirectDeployRequest, GitInfo,
    MetadataInput, OutputLine, OutputStream, PackageManager, PlanBasis, PreflightCheck,
    PreflightCheckId, PreflightReport, PrepareDeploy, PreparedDeploy, RestoreRequest,
    RetentionReport, RollbackOutcome, RollbackPlan, RollbackRequest, ServiceBindingChange,
    ServiceFolderInfo, StepEvent, StepState, Verification, VersionList, VersionRow, VersionSummary,
};
pub use deploy::{
    BundleRef, BundleSide, CodeDiff, CompareRequest, DiffHunk, DiffLine, DiffLineKind, GateCheck,
    InterruptedDeploy, LiveSplit, LiveVersion, PinnedAnswer, PromoteRequest, Rollout,
    RolloutCommand, RolloutEvent, RolloutPlan, RolloutRequest, RolloutSettings, RolloutState,
    StableVersion, StartRollout, VersionTest,
};
pub use health::{
    health_targets, HealthBoard, HealthNotification, HealthPoint, HealthStatus, HealthSummary,
    HealthTargetKind, NotificationGate, ServiceHealth, DEPLOY_API_TARGET, DISPATCHER_TARGET,
};
pub use history::{
    HistoryPage, SyncProgress, SyncReport, WindowFailure, AUTO_SYNC_MINUTES, AUTO_SYNC_SETTING,
    DEFAULT_AUTO_SYNC_MINUTES,
};
pub use logs::{
    LogException, LogLine, LogMessage, LogsEvent, LogsRequest, MAX_CAPTURE_SECONDS,
    MAX_TAILED_SERVICES,
};
pub use memory::release_freed_memory;
pub use namespaces::{
    Binding, BindingChange, BindingKind, BindingsDiff, DeletePlan, Drift, DriftEntry,
    NamespaceSummary, WorkerDetail, WorkerPage, WorkerRevision, WorkerRow,
};
pub use profile_import::{HostChange, ImportPreviewRow};
pub use profiles::{ProfileExport, ProfileSecrets};
pub use project_folders::{PathUse, PROJECT_FOLDERS_MAX, PROJECT_FOLDERS_SETTING};
pub use runbooks::{
    runbook_link_for_error, ActionBlock, ActionParam, ActiveFault, AskField, HealthTarget,
    ManualCheck, ParamValue, RehearsalFault, ResolvedStepAction, RunCheck, RunDetail, RunEvent,
    RunProgress, RunState, RunStep, RunStepState, RunSummary, Runbook, RunbookCatalog,
    RunbookError, RunbookInput, RunbookLink, RunbookOrigin, RunbookProblem, RunbookStep,
    StepAction, StepBlocker, StepCondition, StepConfirmation, StepConfirmationKind, StepOutcome,
    StepOutput, StepPlan, StepRunRequest, ValueKind, MAX_STEP_OUTPUT_BYTES,
};
pub use secrets::{KeyCheck, TokenCheck};
pub use storage::StorageNotice;
pub use templates::*;
pub use timeline::*;
pub use worker_listing::{
    TagGroup, WorkerListingProgress, WorkerQuery, WorkerSortKey, WorkerWindow, KEPT_LISTINGS,
    WINDOW_ROWS_MAX,
};
pub use worker_secrets::{
    TagDeletePlan, WorkerSecrets, MAX_BULK_SECRETS, MAX_SECRET_VALUE_BYTES, MAX_WORKER_TAGS,
};
pub use workerd_install::{
    install as install_workerd_binary, npm_registry, tarball_url, InstalledWorkerd,
    WorkerdDownload, WorkerdInstallEvent, WorkerdInstallOffer, WorkerdInstalled,
    DEFAULT_NPM_REGISTRY, MAX_BINARY_BYTES, MAX_DOWNLOAD_BYTES,
};

/// At most one health notification per target and direction (down / up) in this many seconds.
pub const HEALTH_NOTIFY_EVERY_SECS: u32 = 60;

/// Who the audit log names as the actor: the OS user running the app.
fn actor() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .or_else(|| {
            // No login variables (a service, a test harness): the account of the process.
            let status = std::fs::read_to_string("/proc/self/status").ok()?;
            let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
            let uid = uid.split_whitespace().next()?.to_owned();
            let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
            passwd
                .lines()
                .find(|l| l.split(':').nth(2) == Some(uid.as_str()))
                .and_then(|l| l.split(':').next())
                .map(str::to_owned)
                .or(Some(format!("uid {uid}")))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The embedded sandbox's runtime, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SandboxRuntime {
    /// Deployed scripts execute (workerd was found).
    pub executing: bool,
    /// workerd is up now (false while it restarts).
    pub running: bool,
    /// In words: what runs the scripts, or why nothing does and how to fix it.
    pub message: String,
    pub workerd_version: Option<String>,
    /// The workerd binary, and where it was found: `setting`, `switchyard_env`, `miniflare_env`,
    /// `cache`, `wrangler`.
    pub workerd_path: Option<String>,
    pub workerd_source: Option<String>,
    pub restarts: u32,
    /// Crashes and restarts, oldest first.
    pub notices: Vec<RuntimeNotice>,
}

/// The sandbox's runtime status as the window shows it.
fn runtime_view(status: switchyard_sandbox::RuntimeStatus) -> SandboxRuntime {
    SandboxRuntime {
        executing: status.executing,
        running: status.state == switchyard_sandbox::RuntimeState::Running,
        message: status.message,
        workerd_version: status.workerd_version,
        workerd_path: status
            .workerd
            .as_ref()
            .map(|w| w.path.display().to_string()),
        workerd_source: status.workerd.as_ref().and_then(|w| {
            serde_json::to_value(w.source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
        }),
        restarts: status.restarts,
        notices: status
            .notices
            .into_iter()
            .map(|n| RuntimeNotice {
                at: n.at,
                message: n.message,
            })
            .collect(),
    }
}

/// Something the runtime did that the operator should know.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RuntimeNotice {
    pub at: String,
    pub message: String,
}

/// The embedded sandbox's links and demo credentials (they protect nothing; kept in memory only).
#[derive(Debug, Clone)]
struct SandboxLink {
    discovery: Discovery,
}

/// The setting that holds the workerd binary chosen in Settings.
pub const WORKERD_PATH_SETTING: &str = "sandbox.workerd_path";

/// The lock file that makes a data folder one app's at a time.
pub const LOCK_FILE: &str = "switchyard.lock";

/// Takes the data folder for this process: an exclusive lock on `<data_dir>/switchyard.lock`
/// (released when the process ends, however it ends). Another process holding it is a
/// `Conflict` naming the folder, the process and what to do.
fn lock_data_dir(data_dir: &Path) -> Result<std::fs::File, AppError> {
    use std::io::{Read, Seek, Write};
    std::fs::create_dir_all(data_dir).map_err(|e| {
        AppError::invalid_input(format!(
            "The data folder {} cannot be created: {e}. Check its permissions, or set SWITCHYARD_DATA_DIR to another folder.",
            data_dir.display()
        ))
    })?;
    let path = data_dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| {
            AppError::invalid_input(format!(
                "The data folder {} cannot be used: {} cannot be opened ({e}). Check the folder's permissions.",
                data_dir.display(),
                path.display()
            ))
        })?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = write!(file, "{}", std::process::id());
            let _ = file.flush();
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let who = match holder.trim().parse::<u32>() {
                Ok(pid) => format!("Another Switchyard (process {pid})"),
                Err(_) => "Another Switchyard".to_owned(),
            };
            Err(AppError::new(
                switchyard_core::ErrorCode::Conflict,
                format!(
                    "{who} is using the data folder {}. Two apps on one folder would overwrite each other's runs and history: switch to the open window, or close it and start again. To run a second one on purpose, set SWITCHYARD_DATA_DIR to another folder.",
                    data_dir.display()
                ),
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(AppError::invalid_input(format!(
            "The data folder {} cannot be locked ({e}); Switchyard needs a local folder that supports file locks. Set SWITCHYARD_DATA_DIR to one.",
            data_dir.display()
        ))),
    }
}

/// The app's engine: everything a window (or a test) can ask for.
pub struct Ops {
    /// Held for the life of this `Ops`: the data folder is this process's alone.
    _folder_lock: std::fs::File,
    store: Store,
    secrets: Arc<dyn SecretStore>,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    data_dir: PathBuf,
    sandbox_link: RwLock<Option<SandboxLink>>,
    sandbox: tokio::sync::Mutex<Option<Sandbox>>,
    /// Runbook steps executing now, per-run locks.
    runbooks: runbooks::RunbookRuntime,
    /// Rate-limits the desktop notifications raised by health checks.
    health_gate: std::sync::Mutex<NotificationGate>,
    /// Deploy runs in progress (to cancel them) and prepared deploys awaiting confirmation.
    deploy_runs: deploy::DeployRuns,
    /// Staged rollouts driven by this process (their command inboxes).
    rollouts: deploy::RolloutRuntime,
    /// Open logs sessions (tails), ended when they stop or the app exits.
    logs: logs::LogSessions,
    /// Where each stored key may be sent (see `key_origins`).
    key_origins: key_origins::KeyOrigins,
    /// One mutation per target at a time, across processes (see `target_lock`).
    target_locks: target_lock::TargetLocks,
    /// Tests: where the next deploy stops dead (see `simulate_deploy_crash_at`).
    crash_point: std::sync::Mutex<Option<String>>,
    /// Set once a simulated crash happened: nothing more is written, as after a kill.
    crashed: std::sync::atomic::AtomicBool,
    /// Set when `switchyard.db` was damaged at open and replaced (see `storage`).
    storage_notice: Option<StorageNotice>,
    /// The paths the operator chose in the OS's chooser (see `project_folders`).
    path_grants: project_folders::PathGrants,
    /// The namespaces' worker listings the window queries (see `worker_listing`).
    worker_listings: worker_listing::WorkerListings,
}

impl std::fmt::Debug for Ops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ops")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Ops {
    /// Open the store in `data_dir` (creating it) with the given keychain and clock.
    pub async fn open(
        data_dir: &Path,
        secrets: Arc<dyn SecretStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Ops, AppError> {
        let folder_lock = lock_data_dir(data_dir)?;
        let store = Store::open_in(data_dir).await?;
        // The archive's files live in `<data dir>/bundles` (deploy::archive).
        let storage_notice = store
            .recovery()
            .map(|r| storage::notice(r, &data_dir.join("bundles")));
        let http = HttpClient::new(HttpSettings::default())?;
        let ops = Ops {
            _folder_lock: folder_lock,
            store,
            secrets,
            http,
            clock,
            data_dir: data_dir.to_path_buf(),
            sandbox_link: RwLock::new(None),
            sandbox: tokio::sync::Mutex::new(None),
            runbooks: runbooks::RunbookRuntime::default(),
            health_gate: std::sync::Mutex::new(NotificationGate::new(HEALTH_NOTIFY_EVERY_SECS)),
            deploy_runs: deploy::DeployRuns::default(),
            rollouts: deploy::RolloutRuntime::default(),
            logs: logs::LogSessions::default(),
            key_origins: key_origins::KeyOrigins::default(),
            target_locks: target_lock::TargetLocks::new(
                target_lock::default_lock_dir(data_dir),
                data_dir,
            ),
            crash_point: std::sync::Mutex::new(None),
            crashed: std::sync::atomic::AtomicBool::new(false),
            storage_notice,
            path_grants: project_folders::PathGrants::from_env(),
            worker_listings: worker_listing::WorkerListings::default(),
        };
        // Actions a previous run of the app was doing when it stopped: say so in the audit log.
        let cut = ops.store.mark_interrupted_audits().await?;
        if cut > 0 {
            tracing::warn!(cut, "audit entries of actions cut off by the last stop");
        }
        ops.load_key_origins().await?;
        ops.record_storage_recovery().await;
        Ok(ops)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// What was done about a damaged database at open, if anything (shown once, at this start).
    pub fn storage_notice(&self) -> Option<&StorageNotice> {
        self.storage_notice.as_ref()
    }

    /// The damaged database replaced at open goes in the log and in the new audit log.
    async fn record_storage_recovery(&self) {
        let Some(notice) = &self.storage_notice else {
            return;
        };
        tracing::warn!(notice = %notice.text(), "the damaged database was replaced");
        let profile_id = match self.active_profile().await {
            Ok(p) => p.id,
            Err(_) => SANDBOX_PROFILE_ID.to_owned(),
        };
        let entry = AuditEntry {
            at_ms: self.now_ms(),
            actor: actor(),
            profile_id,
            action: "storage.recovered".to_owned(),
            target: notice.damaged_file.clone(),
            params: serde_json::json!({ "movedTo": notice.moved_to }),
            outcome: "ok".to_owned(),
            message: Some(notice.text()),
            duration_ms: 0,
        };
        if let Err(e) = self.store.append_audit(&entry).await {
            tracing::error!(error = %e.message, "could not record the database recovery in the audit log");
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Start the embedded sandbox on 127.0.0.1 (random port, data in `<data_dir>/sandbox`) and
    /// bind the "Local sandbox" profile to it, creating the profile on first run.
    pub async fn start_embedded_sandbox(&self) -> Result<Profile, AppError> {
        let workerd = self
            .store
            .setting(WORKERD_PATH_SETTING)
            .await
            .ok()
            .flatten()
            .map(PathBuf::from);
        let config = SandboxConfig {
            data_dir: self.data_dir.join("sandbox"),
            port: 0,
            seed: true,
            true_rollback: false,
            workerd,
        };
        let sandbox = Sandbox::start(config).await.map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "the embedded sandbox did not start");
            AppError::internal("Starting the local sandbox")
        })?;
        let discovery = sandbox.discovery().clone();
        *self.sandbox.lock().await = Some(sandbox);
        self.attach_sandbox(discovery).await
    }

    /// Bind the "Local sandbox" profile to a running sandbox (its URLs change every start).
    pub async fn attach_sandbox(&self, discovery: Discovery) -> Result<Profile, AppError> {
        let mut profile = match self.store.get_profile(SANDBOX_PROFILE_ID).await {
            Ok(p) => p,
            Err(_) => Profile::local_sandbox(),
        };
        profile.sandbox = true;
        profile.deploy_api_url = discovery.deploy_api_url.clone();
        profile.auth_url = discovery.auth_url.clone();
        profile.cloudflare_api_url = discovery.cloudflare_api_url.clone();
        profile.account_id = discovery.account_id.clone();
        profile.dispatcher_url = discovery.dispatcher_url.clone();
        profile.service_url_template = discovery.service_url_template.clone();
        profile.validate()?;
        self.store.save_profile(&profile, self.now_ms()).await?;
        *self.sandbox_link.write().expect("sandbox link lock") = Some(SandboxLink { discovery });
        Ok(profile)
    }

    /// Whether the embedded sandbox executes deployed scripts, and what its runtime reported;
    /// `None` when no sandbox runs in this process.
    pub async fn sandbox_runtime(&self) -> Option<SandboxRuntime> {
        let guard = self.sandbox.lock().await;
        Some(runtime_view(guard.as_ref()?.runtime_status()))
    }

    /// The workerd binary chosen in Settings, if any (else the sandbox looks for one itself).
    pub async fn workerd_path(&self) -> Result<Option<String>, AppError> {
        self.store.setting(WORKERD_PATH_SETTING).await
    }

    /// Choose the workerd binary the Local sandbox executes scripts with (`None`: look for one:
    /// SWITCHYARD_WORKERD, MINIFLARE_WORKERD_PATH, the cache, a wrangler install). Checked by
    /// running it; used from the next start of Switchyard.
    pub async fn set_workerd_path(&self, path: Option<String>) -> Result<(), AppError> {
        let params = serde_json::json!({ "path": path });
        self.audited(SANDBOX_PROFILE_ID, "setting.workerd", "workerd", params, async {
            match path.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                None => self.store.delete_setting(WORKERD_PATH_SETTING).await,
                Some(p) => {
                    let version = std::process::Command::new(p)
                        .arg("--version")
                        .output()
                        .ok()
                        .filter(|o| o.status.success())
                        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
                    match version {
                        Some(v) if v.starts_with("workerd") => {
                            self.store.set_setting(WORKERD_PATH_SETTING, p).await
                        }
                        _ => Err(AppError::invalid_input(format!(
                            "workerd path: {p} is not a workerd binary (running it with --version did not print a workerd version). Choose the file node_modules/@cloudflare/workerd-<platform>/bin/workerd, or leave it empty to let Switchyard look for one."
                        ))),
                    }
                }
            }
        })
        .await
    }

    /// Stop the embedded sandbox, if running.
    pub async fn shutdown(&self) {
        self.stop_all_logs().await;
        if let Some(s) = self.sandbox.lock().await.take() {
            s.shutdown().await;
        }
        self.store.close().await;
    }

    /// A secret for `profile`: the sandbox's demo credentials for the sandbox profile, the
    /// keychain's entry otherwise.
    fn secret_for(&self, profile: &Profile, kind: SecretKind) -> Result<Option<Secret>, AppError> {
        if profile.sandbox {
            let link = self.sandbox_link.read().expect("sandbox link lock");
            if let Some(link) = link.as_ref() {
                let value = match kind {
                    SecretKind::DeployApiKey => &link.discovery.deploy_key,
                    SecretKind::CloudflareToken => &link.discovery.cloudflare_token,
                };
                return Ok(Some(Secret::new(value.clone())));
            }
        }
        let found = self.secrets.get(&profile.id, kind)?;
        if found.is_some() {
            self.check_key_destination(profile, kind)?;
        }
        Ok(found)
    }

    /// Hold `target` for this run (one change of a target at a time, across processes), or
    /// refuse with `Conflict` naming what holds it.
    pub(crate) fn hold_target(
        &self,
        profile: &Profile,
        target: target_lock::LockTarget<'_>,
        action: &str,
        run_id: &str,
    ) -> Result<target_lock::TargetGuard, AppError> {
        self.target_locks
            .acquire(profile, target, action, run_id, self.now_ms())
    }

    /// Run `action`, then record it in the audit log with its outcome and duration.
    async fn audited<T, F>(
        &self,
        profile_id: &str,
        action: &str,
        target: &str,
        params: serde_json::Value,
        work: F,
    ) -> Result<T, AppError>
    where
        F: std::future::Future<Output = Result<T, AppError>>,
    {
        let begun = self.audit_begin(profile_id, action, target, params).await;
        let result = work.await;
        let (outcome, message) = match &result {
            Ok(_) => ("ok".to_owned(), None),
            Err(e) => (format!("{:?}", e.code), Some(e.message.as_str())),
        };
        self.audit_end(begun, &outcome, message).await;
        result
    }

    /// Write the "started" entry of an action (see [`Ops::audited`]); give what it returns to
    /// [`Ops::audit_end`] when the action ends. An action cut off by a crash stays in the log,
    /// marked interrupted at the next start.
    pub(crate) async fn audit_begin(
        &self,
        profile_id: &str,
        action: &str,
        target: &str,
        params: serde_json::Value,
    ) -> Option<(i64, Instant)> {
        let started = Instant::now();
        let entry = AuditEntry {
            at_ms: self.now_ms(),
            actor: actor(),
            profile_id: profile_id.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            params,
            outcome: "started".to_owned(),
            message: None,
            duration_ms: 0,
        };
        match self.store.append_audit(&entry).await {
            Ok(seq) => Some((seq, started)),
            Err(e) => {
                tracing::error!(error = %e.message, action, "could not write the audit log");
                None
            }
        }
    }

    /// Complete an entry begun with [`Ops::audit_begin`]: its outcome, message and duration.
    pub(crate) async fn audit_end(
        &self,
        begun: Option<(i64, Instant)>,
        outcome: &str,
        message: Option<&str>,
    ) {
        if self.crashed.load(std::sync::atomic::Ordering::SeqCst) {
            // A simulated kill: a dead process writes nothing more.
            return;
        }
        let Some((seq, started)) = begun else {
            return;
        };
        let duration = started.elapsed().as_millis() as i64;
        if let Err(e) = self
            .store
            .finish_audit(seq, outcome, message, duration)
            .await
        {
            tracing::error!(error = %e.message, "could not write the audit log");
        }
    }

    /// The newest audit entries of a profile.
    pub async fn audit_log(
        &self,
        profile_id: &str,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, AppError> {
        self.store.audit_log(profile_id, limit).await
    }
}
