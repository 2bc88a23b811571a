//! Execution: the scripts of every dispatch namespace run in workerd, Cloudflare's open-source
//! Workers runtime, supervised by the sandbox. Rust owns the state; workerd only executes.
//!
//! workerd runs one router worker (`router.js`). The dispatcher forwards a request for a script to
//! it with the script's namespace, name and code id; the router loads that code through workerd's
//! Worker Loader (asking `/__sandbox/runtime/code` for the modules, bindings and secrets: see
//! `runtime_api`) and runs it. A new deploy has a new code id, so it answers from the next request
//! on without a restart. The loaded scripts' trace events (console output, exceptions, outcome)
//! come back to `/__sandbox/runtime/trace` and go to the tail sessions; their service bindings and
//! outgoing fetches come back through `/binding` and `/outbound`, so faults apply to them and
//! nothing leaves 127.0.0.1.
//!
//! Without a workerd binary the sandbox still serves every API, says so in `sandbox.json` and
//! `/__sandbox/runtime`, and the dispatcher answers 503 "not executed" instead of pretending.

pub mod locate;
mod package;
mod supervisor;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::watch;

pub use locate::{WorkerdBinary, WorkerdNotFound, WorkerdSource};
pub(crate) use package::CodePackage;

use crate::http::VerbatimBody;
use crate::store::{format_time, random_hex, sha256_hex, ScriptUpload, VersionRow};

/// The router worker's source.
const ROUTER_JS: &str = include_str!("router.js");
/// The compatibility date of the router (ctx.exports is on by default from 2025-11-17).
const ROUTER_COMPAT_DATE: &str = "2025-11-17";
/// The compatibility date of a script that names none.
const DEFAULT_COMPAT_DATE: &str = "2025-01-01";
/// Notices kept for `/__sandbox/runtime`.
const MAX_NOTICES: usize = 50;
/// How long a request waits for a restarting workerd before it is answered 503.
const WAIT_FOR_RUNTIME: Duration = Duration::from_secs(5);

/// What the runtime is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeState {
    /// No workerd was found: scripts are stored, not executed.
    Unavailable,
    Starting,
    Running,
    /// workerd exited or hung; it is being started again.
    Restarting,
    Stopped,
}

/// Something the operator should know about the runtime (a crash, a restart).
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeNotice {
    pub at: String,
    pub message: String,
}

/// The runtime's state, as `/__sandbox/runtime` and `sandbox.json` show it.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeStatus {
    /// Whether deployed scripts are executed (workerd found).
    pub executing: bool,
    pub state: RuntimeState,
    /// In words, for a window: what runs, or why nothing does.
    pub message: String,
    pub workerd: Option<WorkerdBinary>,
    pub workerd_version: Option<String>,
    pub pid: Option<u32>,
    pub restarts: u32,
    /// How many times workerd loaded a stored version's code from the sandbox (a version's
    /// first request, or after a restart; not the check at upload, which loads it already).
    pub code_loads: u64,
    pub since: String,
    pub notices: Vec<RuntimeNotice>,
}

pub(crate) struct RuntimeInner {
    status: Mutex<RuntimeStatus>,
    port: watch::Sender<Option<u16>>,
    token: String,
    pub(crate) http: reqwest::Client,
    /// Bundles being validated at upload, by code id: not stored anywhere until they pass.
    pending: Mutex<HashMap<String, CodePackage>>,
    /// Secrets put through the secrets API, by (namespace, script): in memory only, never on disk.
    secrets: Mutex<HashMap<(String, String), BTreeMap<String, String>>>,
    secrets_revision: std::sync::atomic::AtomicU64,
}

impl RuntimeInner {
    fn update(&self, f: impl FnOnce(&mut RuntimeStatus)) {
        let mut s = self.status.lock().expect("runtime status");
        f(&mut s);
    }

    pub(crate) fn set_running(&self, port: u16, pid: Option<u32>) {
        self.update(|s| {
            if s.state == RuntimeState::Restarting {
                s.restarts += 1;
            }
            s.state = RuntimeState::Running;
            s.pid = pid;
            s.since = format_time(Utc::now());
            s.message = "Deployed scripts run in workerd.".into();
        });
        self.port.send_replace(Some(port));
        tracing::info!(port, "workerd is running");
    }

    pub(crate) fn set_down(&self) {
        self.port.send_replace(None);
        self.update(|s| s.pid = None);
    }

    pub(crate) fn set_state(&self, state: RuntimeState) {
        self.update(|s| {
            s.state = state;
            s.since = format_time(Utc::now());
            if state == RuntimeState::Restarting {
                s.message =
                    "workerd is restarting: scripts are not answering until it is back.".into();
            }
        });
    }

    pub(crate) fn notice(&self, message: String) {
        tracing::warn!("{message}");
        self.update(|s| {
            s.notices.push(RuntimeNotice {
                at: format_time(Utc::now()),
                message,
            });
            if s.notices.len() > MAX_NOTICES {
                s.notices.remove(0);
            }
        });
    }
}

/// The execution side of the sandbox. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
    shutdown: Arc<watch::Sender<bool>>,
    /// The supervisor, once a workerd binary was given (at start, or later: [`Runtime::start_late`]).
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
    /// Where the generated config goes.
    runtime_dir: Arc<PathBuf>,
    /// Where the router reaches the sandbox.
    sandbox_port: u16,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

fn workerd_version(binary: &Path) -> Option<String> {
    let out = std::process::Command::new(binary)
        .arg("--version")
        .output()
        .ok()?;
    // It prints `workerd 2026-11-23`: the version is the date.
    out.status.success().then(|| {
        let text = String::from_utf8_lossy(&out.stdout);
        let text = text.trim();
        text.strip_prefix("workerd ").unwrap_or(text).to_owned()
    })
}

/// The text config of workerd: the router worker, its loader, and the sandbox as its only
/// outside service.
fn config_text(sandbox_port: u16, token: &str) -> String {
    format!(
        r#"using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "router", worker = .router),
    (name = "sandbox", external = (address = "127.0.0.1:{sandbox_port}", http = ())),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "router") ],
);

const router :Workerd.Worker = (
  modules = [ (name = "router.js", esModule = embed "router.js") ],
  compatibilityDate = "{ROUTER_COMPAT_DATE}",
  bindings = [
    (name = "LOADER", workerLoader = ()),
    (name = "CONTROL", service = "sandbox"),
    (name = "TOKEN", text = "{token}"),
  ],
  globalOutbound = "sandbox",
);
"#
    )
}

/// Creates (or truncates) `path` for writing, readable by its owner only on Unix.
pub(crate) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f = create_private(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

impl Runtime {
    /// Finds workerd and starts supervising it (or records why it cannot run). `runtime_dir`
    /// receives the generated config; `sandbox_port` is where the router reaches the sandbox.
    pub(crate) fn start(
        workerd: Result<WorkerdBinary, WorkerdNotFound>,
        runtime_dir: &Path,
        sandbox_port: u16,
    ) -> anyhow::Result<Runtime> {
        let token = random_hex(24);
        let (port_tx, _) = watch::channel(None);
        let (shutdown_tx, _) = watch::channel(false);
        let now = format_time(Utc::now());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        let status = match &workerd {
            Ok(b) => RuntimeStatus {
                executing: true,
                state: RuntimeState::Starting,
                message: "workerd is starting.".into(),
                workerd: Some(b.clone()),
                workerd_version: workerd_version(&b.path),
                pid: None,
                restarts: 0,
                code_loads: 0,
                since: now,
                notices: Vec::new(),
            },
            Err(e) => RuntimeStatus {
                executing: false,
                state: RuntimeState::Unavailable,
                message: e.to_string(),
                workerd: None,
                workerd_version: None,
                pid: None,
                restarts: 0,
                code_loads: 0,
                since: now,
                notices: Vec::new(),
            },
        };
        let inner = Arc::new(RuntimeInner {
            status: Mutex::new(status),
            port: port_tx,
            token: token.clone(),
            http,
            pending: Mutex::default(),
            secrets: Mutex::default(),
            secrets_revision: std::sync::atomic::AtomicU64::new(0),
        });
        let runtime = Runtime {
            inner,
            shutdown: Arc::new(shutdown_tx),
            task: Arc::default(),
            runtime_dir: Arc::new(runtime_dir.to_path_buf()),
            sandbox_port,
        };
        match workerd {
            Ok(binary) => {
                let mut task = runtime.task.lock().expect("runtime task");
                *task = Some(runtime.supervise(binary)?);
            }
            Err(_) => tracing::warn!("{}", runtime.status().message),
        }
        Ok(runtime)
    }

    /// Writes the config and starts supervising `binary`.
    fn supervise(&self, binary: WorkerdBinary) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let dir = self.runtime_dir.as_path();
        std::fs::create_dir_all(dir)?;
        write_private(&dir.join("router.js"), ROUTER_JS)?;
        let config = dir.join("config.capnp");
        write_private(&config, &config_text(self.sandbox_port, &self.inner.token))?;
        Ok(tokio::spawn(supervisor::supervise(
            self.inner.clone(),
            binary,
            config,
            self.shutdown.subscribe(),
        )))
    }

    /// Starts executing scripts with `binary` when nothing executes them yet (no workerd was found
    /// at start, and one was installed or chosen since): from the next request on, without
    /// restarting the sandbox. `false` when workerd already runs (nothing is changed then).
    pub(crate) fn start_late(&self, binary: WorkerdBinary) -> anyhow::Result<bool> {
        let mut task = self.task.lock().expect("runtime task");
        if task.is_some() || self.status().executing {
            return Ok(false);
        }
        if *self.shutdown.borrow() {
            anyhow::bail!("the sandbox is stopping");
        }
        let version = workerd_version(&binary.path);
        let path = binary.path.display().to_string();
        let before = self.status();
        // Said before the supervisor runs, so its "running" is never overwritten by "starting".
        self.inner.update(|s| {
            s.executing = true;
            s.state = RuntimeState::Starting;
            s.message = "workerd is starting.".into();
            s.workerd = Some(binary.clone());
            s.workerd_version = version;
            s.since = format_time(Utc::now());
        });
        match self.supervise(binary) {
            Ok(handle) => *task = Some(handle),
            Err(e) => {
                self.inner.update(|s| *s = before);
                return Err(e);
            }
        }
        self.inner.notice(format!(
            "workerd was found after the sandbox started ({path}): deployed scripts are executed from now on"
        ));
        Ok(true)
    }

    /// Records why workerd still cannot be used (looked for again, still not found).
    pub(crate) fn still_not_found(&self, why: &WorkerdNotFound) {
        self.inner.update(|s| {
            if !s.executing {
                s.message = why.to_string();
            }
        });
    }

    pub fn status(&self) -> RuntimeStatus {
        self.inner.status.lock().expect("runtime status").clone()
    }

    /// Waits until workerd is listening (or `timeout` passes); its port.
    pub async fn ready(&self, timeout: Duration) -> Option<u16> {
        if !self.status().executing {
            return None;
        }
        let mut rx = self.inner.port.subscribe();
        let waited = tokio::time::timeout(timeout, rx.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(port)) => *port,
            _ => None,
        }
    }

    /// Stops workerd and waits for it to exit.
    pub async fn shutdown(&self) {
        // `send_replace`: the flag is kept even with no supervisor listening (a late start checks it).
        self.shutdown.send_replace(true);
        let task = self.task.lock().expect("runtime task").take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    /// Signals workerd to stop without waiting (the sandbox is being dropped).
    pub fn stop_soon(&self) {
        self.shutdown.send_replace(true);
    }

    pub(crate) fn secrets_of(&self, ns: &str, script: &str) -> BTreeMap<String, String> {
        self.inner
            .secrets
            .lock()
            .expect("secrets")
            .get(&(ns.to_owned(), script.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// The names of a script's secrets (never their values).
    pub fn secret_names(&self, ns: &str, script: &str) -> Vec<String> {
        self.secrets_of(ns, script).into_keys().collect()
    }

    pub fn put_secret(&self, ns: &str, script: &str, name: &str, value: &str) {
        self.inner
            .secrets
            .lock()
            .expect("secrets")
            .entry((ns.to_owned(), script.to_owned()))
            .or_default()
            .insert(name.to_owned(), value.to_owned());
        self.inner
            .secrets_revision
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the secret existed.
    pub fn delete_secret(&self, ns: &str, script: &str, name: &str) -> bool {
        let removed = self
            .inner
            .secrets
            .lock()
            .expect("secrets")
            .get_mut(&(ns.to_owned(), script.to_owned()))
            .is_some_and(|m| m.remove(name).is_some());
        self.inner
            .secrets_revision
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        removed
    }

    /// Forgets the secrets of a deleted script (or of every script of a deleted namespace).
    pub fn forget_secrets(&self, ns: &str, script: Option<&str>) {
        self.inner
            .secrets
            .lock()
            .expect("secrets")
            .retain(|(n, s), _| !(n == ns && script.is_none_or(|x| x == s)));
    }

    /// The id the loader caches a version's code under: it changes with the version, the code,
    /// the settings (bindings) and the secrets, so each version is a worker of its own in workerd.
    pub(crate) fn code_id(&self, version: &VersionRow) -> String {
        self.code_id_of(&version.id, &version.etag, &version.settings)
    }

    /// The code id of a version from its id, etag and settings JSON (and the secrets' revision).
    fn code_id_of(&self, version_id: &str, etag: &str, settings: &str) -> String {
        let revision = self
            .inner
            .secrets_revision
            .load(std::sync::atomic::Ordering::Relaxed);
        let id = sha256_hex(format!("{version_id}|{etag}|{settings}|{revision}").as_bytes());
        id[..24].to_owned()
    }

    /// Counts a load of a stored version's code by workerd (`code_loads` in the status).
    pub(crate) fn count_code_load(&self) {
        self.inner.update(|s| s.code_loads += 1);
    }

    /// Checks a bundle the way the platform does at upload: workerd compiles it and runs its
    /// top-level code. `Ok` when it starts (or when nothing can execute it: then the status says
    /// scripts are not executed); `Err` with the runtime's own message when it does not.
    ///
    /// The check loads the code under the code id it will be served with as version
    /// `version_id`, so once stored, its first request runs in the isolate the check started
    /// instead of loading and compiling the bundle a second time.
    pub async fn validate(
        &self,
        ns: &str,
        script: &str,
        upload: &ScriptUpload,
        version_id: &str,
    ) -> Result<(), String> {
        let Some(port) = self.ready(WAIT_FOR_RUNTIME).await else {
            return Ok(());
        };
        let package = match CodePackage::from_parts(
            &upload.main_module,
            upload.modules.iter().map(|m| {
                (
                    m.name.as_str(),
                    m.content_type.as_str(),
                    m.content.as_slice(),
                )
            }),
            &upload.settings,
            &self.secrets_of(ns, script),
        ) {
            Ok(p) => p,
            Err(e) => return Err(e),
        };
        let (etag, settings) = crate::store::upload_etag(upload);
        let code = self.code_id_of(version_id, &etag, &settings);
        self.inner
            .pending
            .lock()
            .expect("pending")
            .insert(code.clone(), package);
        let result = self
            .inner
            .http
            .get(format!("http://127.0.0.1:{port}/__sw_validate"))
            .header("x-sw-ns", ns)
            .header("x-sw-script", script)
            .header("x-sw-code", &code)
            .header("x-sw-version", version_id)
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        self.inner.pending.lock().expect("pending").remove(&code);
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "validating a bundle: workerd did not answer");
                return Err(format!(
                    "The runtime could not check the script (workerd did not answer: {e}); try again."
                ));
            }
        };
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if body["valid"] == true {
            Ok(())
        } else {
            Err(body["error"]
                .as_str()
                .unwrap_or("The script failed to start")
                .to_owned())
        }
    }

    /// Runs `req` in `version` of a script of namespace `ns`; the script sees `url`.
    pub async fn invoke(
        &self,
        ns: &str,
        version: &VersionRow,
        url: &str,
        req: Request,
    ) -> Response {
        let status = self.status();
        if !status.executing {
            return not_executed(&status.message);
        }
        let Some(port) = self.ready(WAIT_FOR_RUNTIME).await else {
            let status = self.status();
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "error": "Runtime unavailable",
                    "message": status.message,
                    "notices": status.notices.iter().rev().take(3).collect::<Vec<_>>(),
                })),
            )
                .into_response();
        };
        let (parts, body) = req.into_parts();
        let path_and_query = reqwest::Url::parse(url)
            .ok()
            .map(|u| {
                let mut p = u.path().to_owned();
                if let Some(q) = u.query() {
                    p.push('?');
                    p.push_str(q);
                }
                p
            })
            .unwrap_or_else(|| "/".into());
        let mut out = self.inner.http.request(
            parts.method.clone(),
            format!("http://127.0.0.1:{port}{path_and_query}"),
        );
        for (name, value) in &parts.headers {
            if is_hop_by_hop(name) || name == header::HOST || name.as_str().starts_with("x-sw-") {
                continue;
            }
            out = out.header(name, value);
        }
        out = out
            .header("x-sw-ns", ns)
            .header("x-sw-script", &version.script)
            .header("x-sw-code", self.code_id(version))
            .header("x-sw-version", &version.id)
            .header("x-sw-url", url);
        if parts.method != axum::http::Method::GET && parts.method != axum::http::Method::HEAD {
            out = out.body(reqwest::Body::wrap_stream(body.into_data_stream()));
        }
        match out.send().await {
            Ok(r) => {
                let status = r.status();
                let mut response = Response::builder().status(status);
                let exception = r.headers().contains_key("x-sandbox-exception");
                for (name, value) in r.headers() {
                    if !is_hop_by_hop(name) {
                        response = response.header(name, value);
                    }
                }
                let mut response = response
                    .body(Body::from_stream(r.bytes_stream()))
                    .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response());
                // The script's own answer goes out as it is, errors included.
                response.extensions_mut().insert(VerbatimBody);
                if exception {
                    tracing::debug!(ns, script = %version.script, "script threw");
                }
                response
            }
            Err(e) => {
                tracing::warn!(error = %e, "workerd did not answer a request");
                (
                    StatusCode::BAD_GATEWAY,
                    Json(json!({
                        "error": "Runtime unavailable",
                        "message": format!("workerd did not answer: {e}"),
                    })),
                )
                    .into_response()
            }
        }
    }

    /// A bundle being validated at upload, by its code id.
    pub(crate) fn pending_package(&self, code: &str) -> Option<CodePackage> {
        self.inner
            .pending
            .lock()
            .expect("pending")
            .get(code)
            .cloned()
    }

    /// Whether a request comes from the sandbox's own workerd (it carries the runtime's token).
    pub(crate) fn authorized(&self, headers: &HeaderMap) -> bool {
        headers
            .get("x-sw-token")
            .is_some_and(|v| v.as_bytes() == self.inner.token.as_bytes())
    }
}

fn not_executed(message: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"error": "Not executed", "message": message})),
    )
        .into_response()
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "content-length"
    )
}
