//! `switchyard-sandbox` owns a faithful local imitation of the platform Switchyard drives: the
//! Deploy API, the Cloudflare Workers-for-Platforms API subset, the auth service, the dispatcher
//! and the services' `/health`, plus fault injection — one axum server on one 127.0.0.1 port, its
//! state in SQLite (WAL) in a data dir. It defines its own wire types and must not depend on any
//! Switchyard crate but `switchyard-core` (for the names of services and environments), so that a
//! test between the app's clients and this server catches a misreading of the contract instead of
//! sharing it. It never listens on anything but loopback.
//!
//! # URL scheme (one port, routed by path prefix)
//!
//! | what | URL |
//! |---|---|
//! | Deploy API (`https://deploy.do`) | `<base>/deploy-api` → `/deploy`, `/rollback`, `/deployments`, `/health`, `/` |
//! | Cloudflare API (`https://api.cloudflare.com/client/v4`) | `<base>/client/v4` |
//! | auth service (`https://auth.do`) | `<base>/auth` → `/apikeys/validate`, `/permissions`, `/permissions/<userId>`, `/health` |
//! | dispatcher of an environment | `<base>/dispatcher/<environment>`: `/health` is the dispatcher's own; `/api/<service>/…` and any path with a `Host: <service>.do` header are routed to a worker |
//! | a service (`https://<service>.do`) | `<base>/services/<environment>/<service>` (e.g. `/services/production/gateway/health`); versioned worker `gateway-v1`: `/services/production/v1.gateway/health` |
//! | by Host header | any request to `<base>` with `Host: gateway.do`, `v1.gateway.do`, `db.staging.do`, `api.do` … goes to that environment's dispatcher |
//! | fault injection | `<base>/__sandbox/faults` (see [`FaultBoard`]) |
//! | sandbox settings | `<base>/__sandbox/settings` (`{"true_rollback": bool}`) |
//!
//! The same URLs are in [`Discovery`], printed at start and written to `<data_dir>/sandbox.json`.
//!
//! | tail WebSocket | `<base>/__sandbox/tail/<id>` (created by `POST /client/v4/accounts/<a>/workers/scripts/<name>/tails`) |
//! | runtime status | `<base>/__sandbox/runtime` |
//! | rehearsals | `<base>/__sandbox/rehearsal` (a genuinely broken deploy to practise on) |
//!
//! Deployed scripts execute in workerd ([`runtime`]): the dispatcher's answers are the code's
//! answers, and tails carry the code's own console output and exceptions.

// Modules, from the bottom up: each module in this list uses only modules named before it (a
// test, `tests/module_graph.rs`, keeps the crate free of import loops).
//
// - `http`: the shared HTTP helpers (envelopes, JSON errors, body limits, bearer tokens).
// - `store` (SQLite), `identity`, `faults`, `runtime` (workerd), `tail` (sessions and events).
// - `state`: `AppState`, what every handler shares.
// - the APIs: `cloudflare` (`/client/v4`: namespaces, scripts, secrets, versions, tails), `auth`,
//   `deploy_api`, `seed`, `rehearsal`, `dispatcher`, `runtime_api`, `control` (`/__sandbox`).
// - `server`: the route table, the accept loop.
mod http;

mod faults;
mod identity;
pub mod runtime;
mod store;
mod tail;

mod state;

mod auth;
mod cloudflare;
mod control;
mod deploy_api;
mod dispatcher;
mod rehearsal;
mod runtime_api;
mod seed;

mod server;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use switchyard_core::Environment;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use cloudflare::{MAX_TAGS, SCRIPT_SIZE_LIMIT};
pub use faults::{
    DownKind, Fault, FaultBoard, FaultEntry, FaultTarget, UnknownFaultTarget, MAX_LATENCY_MS,
};
pub use identity::{DEPLOY_USER_ID, READONLY_USER_ID};
pub use runtime::locate::{locate as locate_workerd, pinned_version as pinned_workerd_version};
pub use runtime::{RuntimeNotice, RuntimeState, RuntimeStatus, WorkerdBinary, WorkerdSource};
pub use seed::broken_worker_source;
pub use seed::{LargeDataReport, LargeDataSpec};
pub use store::DATABASE_FILE;

/// The discovery file written in the data dir.
pub const DISCOVERY_FILE: &str = "sandbox.json";

/// How to start a sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Where the SQLite database and `sandbox.json` live (created when missing).
    pub data_dir: PathBuf,
    /// The 127.0.0.1 port to listen on; 0 picks a free one.
    pub port: u16,
    /// Seed demo data on the first start of this data dir.
    pub seed: bool,
    /// `POST /rollback` uploads the previous deployment's script again (instead of only marking).
    pub true_rollback: bool,
    /// The workerd binary to execute scripts with, when chosen (the app's setting); otherwise it
    /// is looked for (see [`runtime::locate`]).
    pub workerd: Option<PathBuf>,
}

impl SandboxConfig {
    /// A random port, demo data on first start, marking rollback (as the published service).
    pub fn new(data_dir: impl Into<PathBuf>) -> SandboxConfig {
        SandboxConfig {
            data_dir: data_dir.into(),
            port: 0,
            seed: true,
            true_rollback: false,
            workerd: None,
        }
    }
}

/// Everything a client needs to reach a running sandbox. Holds the sandbox's own demo keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// `http://127.0.0.1:<port>`
    pub base_url: String,
    /// `<base>/deploy-api`: answers `/deploy`, `/rollback`, `/deployments`, `/health`.
    pub deploy_api_url: String,
    /// `<base>/client/v4`: use as `CLOUDFLARE_API_BASE_URL`.
    pub cloudflare_api_url: String,
    /// `<base>/auth`
    pub auth_url: String,
    /// The production dispatcher: `<base>/dispatcher/production`.
    pub dispatcher_url: String,
    /// `<base>/dispatcher/{environment}`
    pub dispatcher_url_template: String,
    /// `<base>/services/{environment}/{service}`; `{service}` may be `v1.gateway` for a versioned worker.
    pub service_url_template: String,
    /// `<base>/__sandbox/faults`
    pub faults_url: String,
    /// The Cloudflare account id (32 hex).
    pub account_id: String,
    /// A Deploy API key with `deployments:create`.
    pub deploy_key: String,
    /// A valid Deploy API key without `deployments:create`.
    pub readonly_key: String,
    /// The user of `deploy_key` and of `readonly_key`.
    pub deploy_user_id: String,
    pub readonly_user_id: String,
    /// The Cloudflare API token the sandbox accepts.
    pub cloudflare_token: String,
    /// `<base>/__sandbox/runtime`: whether scripts execute, and the runtime's notices.
    #[serde(default)]
    pub runtime_url: String,
    /// Whether deployed scripts execute (workerd found), and why not when they do not: as at
    /// start, or since the runtime was started late ([`Sandbox::start_runtime`]).
    #[serde(default)]
    pub execution: Execution,
}

/// Whether the sandbox executes deployed scripts, as `sandbox.json` says it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    /// `true` when scripts run in workerd; `false`: stored, not executed.
    pub executing: bool,
    /// In words: what runs them, or why nothing does and how to fix it.
    pub message: String,
    /// The workerd binary, when one was found.
    pub workerd: Option<PathBuf>,
}

impl Discovery {
    fn new(base_url: String, identity: &identity::Identity) -> Discovery {
        Discovery {
            deploy_api_url: format!("{base_url}/deploy-api"),
            cloudflare_api_url: format!("{base_url}/client/v4"),
            auth_url: format!("{base_url}/auth"),
            dispatcher_url: format!("{base_url}/dispatcher/production"),
            dispatcher_url_template: format!("{base_url}/dispatcher/{{environment}}"),
            service_url_template: format!("{base_url}/services/{{environment}}/{{service}}"),
            faults_url: format!("{base_url}/__sandbox/faults"),
            account_id: identity.account_id.clone(),
            deploy_key: identity.deploy_key.clone(),
            readonly_key: identity.readonly_key.clone(),
            deploy_user_id: DEPLOY_USER_ID.into(),
            readonly_user_id: READONLY_USER_ID.into(),
            cloudflare_token: identity.cloudflare_token.clone(),
            runtime_url: format!("{base_url}/__sandbox/runtime"),
            execution: Execution::default(),
            base_url,
        }
    }

    /// The URL of `service` (or `v1.gateway`) in `environment`.
    pub fn service_url(&self, environment: Environment, service: &str) -> String {
        self.service_url_template
            .replace("{environment}", environment.as_str())
            .replace("{service}", service)
    }

    /// The dispatcher of `environment`.
    pub fn dispatcher_url_for(&self, environment: Environment) -> String {
        self.dispatcher_url_template
            .replace("{environment}", environment.as_str())
    }
}

/// A running sandbox. Dropping it stops the server too; [`Sandbox::shutdown`] waits for it.
pub struct Sandbox {
    discovery: Discovery,
    faults: FaultBoard,
    store: store::Store,
    identity: Arc<identity::Identity>,
    true_rollback: Arc<AtomicBool>,
    runtime: runtime::Runtime,
    /// Where `sandbox.json` is written.
    data_dir: PathBuf,
    shutdown_tx: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.discovery.base_url)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Opens the data dir (migrating, seeding on first start when asked), binds 127.0.0.1 only,
    /// writes `sandbox.json` and starts serving.
    pub async fn start(config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let store = store::Store::open(&config.data_dir)
            .await
            .with_context(|| {
                format!(
                    "opening the sandbox database in {}",
                    config.data_dir.display()
                )
            })?;
        let identity = Arc::new(identity::Identity::load_or_create(&store).await?);
        if store.setting("initialized").await?.is_none() {
            if config.seed {
                seed::seed(&store, &identity.user_tag)
                    .await
                    .context("seeding demo data")?;
            }
            store
                .set_setting("initialized", &store::format_time(chrono::Utc::now()))
                .await?;
        }
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", config.port))?;
        let port = listener.local_addr()?.port();
        let base_url = format!("http://127.0.0.1:{port}");
        let workerd = runtime::locate::locate(config.workerd.as_deref());
        let runtime = runtime::Runtime::start(workerd, &config.data_dir.join("runtime"), port)?;
        let mut discovery = Discovery::new(base_url.clone(), &identity);
        let status = runtime.status();
        discovery.execution = Execution {
            executing: status.executing,
            message: status.message.clone(),
            workerd: status.workerd.map(|w| w.path),
        };
        write_discovery(&config.data_dir, &discovery)?;
        let faults = FaultBoard::new();
        let true_rollback = Arc::new(AtomicBool::new(config.true_rollback));
        let state = state::AppState {
            store: store.clone(),
            faults: faults.clone(),
            identity: identity.clone(),
            true_rollback: true_rollback.clone(),
            base_url: Arc::new(base_url),
            rollback_lock: Arc::default(),
            runtime: runtime.clone(),
            tails: tail::TailHub::default(),
            rehearsals: state::Rehearsals::default(),
        };
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let app = server::router(state);
        let task = tokio::spawn(server::serve(
            listener,
            app,
            shutdown_rx,
            Duration::from_secs(5),
        ));
        tracing::info!(base_url = %discovery.base_url, "sandbox listening");
        Ok(Sandbox {
            discovery,
            faults,
            store,
            identity,
            true_rollback,
            runtime,
            data_dir: config.data_dir.clone(),
            shutdown_tx,
            task: Some(task),
        })
    }

    /// Looks for workerd again — `workerd` (the app's setting) first, then as at start — and when
    /// no workerd executes scripts yet and one is found now, starts it: deployed scripts execute
    /// from the next request on, without restarting the sandbox. Nothing changes when workerd
    /// already runs. `sandbox.json` says the new state. Returns the runtime's state after.
    pub fn start_runtime(&mut self, workerd: Option<&Path>) -> anyhow::Result<RuntimeStatus> {
        if self.runtime.status().executing {
            return Ok(self.runtime.status());
        }
        match runtime::locate::locate(workerd) {
            Ok(binary) => {
                self.runtime.start_late(binary)?;
            }
            Err(not_found) => self.runtime.still_not_found(&not_found),
        }
        let status = self.runtime.status();
        self.discovery.execution = Execution {
            executing: status.executing,
            message: status.message.clone(),
            workerd: status.workerd.as_ref().map(|w| w.path.clone()),
        };
        write_discovery(&self.data_dir, &self.discovery)?;
        Ok(status)
    }

    /// The runtime, to wait for it or read its state without holding the sandbox.
    pub fn runtime(&self) -> runtime::Runtime {
        self.runtime.clone()
    }

    /// The runtime's state now: executing or not, restarts, notices.
    pub fn runtime_status(&self) -> RuntimeStatus {
        self.runtime.status()
    }

    /// Waits (at most `timeout`) until workerd listens; whether it does.
    pub async fn runtime_ready(&self, timeout: Duration) -> bool {
        self.runtime.ready(timeout).await.is_some()
    }

    /// The process id of the running workerd (tests kill it to see it come back).
    pub fn workerd_pid(&self) -> Option<u32> {
        self.runtime.status().pid
    }

    pub fn discovery(&self) -> &Discovery {
        &self.discovery
    }

    /// Fault injection, the same board `/__sandbox/faults` edits.
    pub fn faults(&self) -> &FaultBoard {
        &self.faults
    }

    /// Whether `POST /rollback` uploads the previous script again (see [`SandboxConfig`]).
    pub fn true_rollback(&self) -> bool {
        self.true_rollback.load(Ordering::Relaxed)
    }

    /// Turns true rollback on or off while running (also `PUT /__sandbox/settings`).
    pub fn set_true_rollback(&self, on: bool) {
        self.true_rollback.store(on, Ordering::Relaxed);
    }

    /// Adds large data (for benchmarks) to the running sandbox.
    pub async fn generate_large_data(
        &self,
        spec: &LargeDataSpec,
    ) -> anyhow::Result<LargeDataReport> {
        Ok(seed::generate_large_data(&self.store, &self.identity.user_tag, spec).await?)
    }

    /// Stops accepting, lets open requests finish (up to 5 s), closes the database.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.runtime.shutdown().await;
        self.store.close().await;
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
        self.runtime.stop_soon();
    }
}

/// Writes `sandbox.json` (owner-only on Unix: it holds the demo keys), atomically.
fn write_discovery(data_dir: &Path, discovery: &Discovery) -> anyhow::Result<()> {
    let path = data_dir.join(DISCOVERY_FILE);
    let tmp = data_dir.join(format!("{DISCOVERY_FILE}.tmp"));
    let json = serde_json::to_vec_pretty(discovery)?;
    {
        use std::io::Write;
        let mut f =
            runtime::create_private(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(&json)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Reads the `sandbox.json` a sandbox wrote in `data_dir`.
pub fn read_discovery(data_dir: &Path) -> anyhow::Result<Discovery> {
    let path = data_dir.join(DISCOVERY_FILE);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(serde_json::from_slice(&bytes)?)
}
