//! Live logs: tails of one or several services through the platform's tail API (the Local
//! sandbox's or a real account's, with the profile's Cloudflare token), as typed lines. A broken
//! tail reconnects with backoff and says so; every tail is ended on the platform when its session
//! stops, and [`Ops::stop_all_logs`] ends them all when the app exits.
//!
//! Every tail (these sessions and a staged rollout's gate) also feeds [`excerpts`]: the
//! invocations around each failure are kept in SQLite for the incident timeline.

mod excerpts;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchyard_clients::{CloudflareApi, TailInfo, TailSocket, TraceEvent};
use switchyard_core::{AppError, Profile, ServiceName};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Ops;
pub(crate) use excerpts::ExcerptCapture;
pub(crate) use excerpts::AROUND as LOG_EXCERPT_AROUND;

/// Most services one logs session tails.
pub const MAX_TAILED_SERVICES: usize = 16;
/// Longest a runbook step may capture logs for.
pub const MAX_CAPTURE_SECONDS: u32 = 300;
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// One line a worker's code logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LogMessage {
    /// `log`, `info`, `warn`, `error`, `debug`.
    pub level: String,
    /// The `console.*` arguments, joined by spaces (strings as they are, others as JSON).
    pub text: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: f64,
}

/// An uncaught exception.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LogException {
    pub name: String,
    pub message: String,
    pub stack: Option<String>,
}

/// One invocation of a worker: its request, outcome, logs and exceptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    /// The service tailed.
    pub service: String,
    /// The worker that ran (as the platform names it).
    pub script: String,
    pub namespace: Option<String>,
    /// `ok`, `exception`, `exceededCpu`, `canceled`…
    pub outcome: String,
    pub method: Option<String>,
    pub url: Option<String>,
    pub status: Option<u16>,
    /// When the invocation started, ms since the Unix epoch.
    pub timestamp_ms: f64,
    pub logs: Vec<LogMessage>,
    pub exceptions: Vec<LogException>,
}

impl LogLine {
    pub(crate) fn from_trace(service: &str, e: TraceEvent) -> LogLine {
        let request = e.event.as_ref().and_then(|ev| ev.request.clone());
        let status = e
            .event
            .as_ref()
            .and_then(|ev| ev.response.as_ref())
            .and_then(|r| r.status);
        let text_of = |message: &[serde_json::Value]| {
            message
                .iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        LogLine {
            service: service.to_owned(),
            script: e.script_name.clone().unwrap_or_else(|| service.to_owned()),
            namespace: e.dispatch_namespace.clone(),
            outcome: e.outcome.clone(),
            method: request.as_ref().map(|r| r.method.clone()),
            url: request.map(|r| r.url),
            status,
            timestamp_ms: e.event_timestamp.unwrap_or_default(),
            logs: e
                .logs
                .iter()
                .map(|l| LogMessage {
                    level: l.level.clone(),
                    text: text_of(&l.message),
                    timestamp_ms: l.timestamp,
                })
                .collect(),
            exceptions: e
                .exceptions
                .iter()
                .map(|x| LogException {
                    name: x.name.clone(),
                    message: x.message.clone(),
                    stack: x.stack.clone(),
                })
                .collect(),
        }
    }

    /// The line as text, for a runbook step's output and the incident report.
    pub fn to_text(&self) -> String {
        let time = chrono::DateTime::from_timestamp_millis(self.timestamp_ms as i64)
            .map(|t| t.format("%H:%M:%S%.3f").to_string())
            .unwrap_or_default();
        let mut out = format!(
            "{time} {} {} {} → {} ({})\n",
            self.script,
            self.method.as_deref().unwrap_or("-"),
            self.url.as_deref().unwrap_or("-"),
            self.status.map_or("-".to_owned(), |s| s.to_string()),
            self.outcome
        );
        for l in &self.logs {
            out.push_str(&format!("    [{}] {}\n", l.level, l.text));
        }
        for x in &self.exceptions {
            out.push_str(&format!("    ✖ {}: {}\n", x.name, x.message));
            if let Some(stack) = &x.stack {
                for frame in stack.lines().take(8) {
                    out.push_str(&format!("      {}\n", frame.trim()));
                }
            }
        }
        out
    }
}

/// What a logs session reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum LogsEvent {
    /// The tail of `service` is open.
    #[serde(rename_all = "camelCase")]
    Connected { service: String },
    /// An invocation of a tailed service.
    Line { line: LogLine },
    /// The tail broke; it is opened again after `retryInMs`.
    #[serde(rename_all = "camelCase")]
    Reconnecting {
        service: String,
        attempt: u32,
        reason: String,
        retry_in_ms: u32,
    },
    /// The tail of `service` ended and was deleted on the platform.
    Stopped { service: String },
}

/// Which services to tail, under which profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LogsRequest {
    pub profile_id: String,
    pub services: Vec<String>,
}

struct Session {
    cancel: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// The logs sessions open in this process.
#[derive(Default)]
pub(crate) struct LogSessions {
    next: AtomicU32,
    live: Mutex<HashMap<u32, Session>>,
    /// The rings of recent invocations and the excerpt writer, shared by every tail.
    excerpts: Arc<excerpts::Excerpts>,
}

/// Reads one service's tail until cancelled, reopening it when it breaks.
async fn follow(
    api: CloudflareApi,
    service: String,
    namespace: String,
    mut tail: TailInfo,
    on_event: Arc<dyn Fn(LogsEvent) + Send + Sync>,
    capture: ExcerptCapture,
    mut cancel: watch::Receiver<bool>,
) {
    let mut attempt = 0u32;
    let mut socket: Option<TailSocket> = None;
    loop {
        if *cancel.borrow() {
            break;
        }
        let reason = match socket.as_mut() {
            None => match TailSocket::connect(&tail).await {
                Ok(s) => {
                    socket = Some(s);
                    attempt = 0;
                    on_event(LogsEvent::Connected {
                        service: service.clone(),
                    });
                    continue;
                }
                Err(e) => e.message,
            },
            Some(s) => {
                let next = tokio::select! {
                    n = s.next_event() => n,
                    _ = cancel.changed() => break,
                };
                match next {
                    Some(Ok(event)) => {
                        let from_elsewhere = event
                            .dispatch_namespace
                            .as_deref()
                            .is_some_and(|ns| ns != namespace);
                        if !from_elsewhere {
                            let line = LogLine::from_trace(&service, event);
                            capture.observe(&line);
                            on_event(LogsEvent::Line { line });
                        }
                        continue;
                    }
                    Some(Err(e)) => e.message,
                    None => "the platform closed the tail".to_owned(),
                }
            }
        };
        if let Some(s) = socket.take() {
            s.close().await;
        }
        attempt += 1;
        let wait = (BACKOFF_FIRST * 2u32.saturating_pow(attempt.min(6) - 1)).min(BACKOFF_MAX);
        on_event(LogsEvent::Reconnecting {
            service: service.clone(),
            attempt,
            reason,
            retry_in_ms: wait.as_millis() as u32,
        });
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = cancel.changed() => break,
        }
        // The old tail may be gone with the connection: ask for a new one.
        let _ = api.delete_tail(&service, &tail.id).await;
        match api.create_tail(&service).await {
            Ok(t) => tail = t,
            Err(e) => tracing::warn!(service, error = %e.message, "reopening a tail failed"),
        }
    }
    if let Some(s) = socket.take() {
        s.close().await;
    }
    if let Err(e) = api.delete_tail(&service, &tail.id).await {
        tracing::debug!(service, error = %e.message, "ending a tail");
    }
    on_event(LogsEvent::Stopped { service });
}

impl Ops {
    /// Checks a logs request and opens a tail per service (so a refusal — no token, an unknown
    /// worker — is an error here); the profile's client and the tails.
    async fn open_tails(
        &self,
        request: &LogsRequest,
    ) -> Result<(CloudflareApi, Profile, Vec<(String, TailInfo)>), AppError> {
        if request.services.is_empty() {
            return Err(AppError::invalid_input(
                "services: choose at least one service to tail.",
            ));
        }
        if request.services.len() > MAX_TAILED_SERVICES {
            return Err(AppError::invalid_input(format!(
                "services: at most {MAX_TAILED_SERVICES} services can be tailed at once; {} were asked for.",
                request.services.len()
            )));
        }
        for s in &request.services {
            ServiceName::parse(s)?;
        }
        let profile = self.for_profile(&request.profile_id).await?;
        let api = profile.cloudflare()?;
        let mut tails: Vec<(String, TailInfo)> = Vec::new();
        for service in &request.services {
            match api.create_tail(service).await {
                Ok(t) => tails.push((service.clone(), t)),
                Err(e) => {
                    for (s, t) in &tails {
                        let _ = api.delete_tail(s, &t.id).await;
                    }
                    return Err(e);
                }
            }
        }
        Ok((api, Profile::clone(&profile), tails))
    }

    /// Starts tailing the services of `request`; events go to `on_event` until
    /// [`Ops::stop_logs`]. The session's id.
    pub async fn start_logs(
        &self,
        request: LogsRequest,
        on_event: impl Fn(LogsEvent) + Send + Sync + 'static,
    ) -> Result<u32, AppError> {
        let (api, profile, tails) = self.open_tails(&request).await?;
        let capture = self.excerpt_capture(&profile).await;
        let namespace = profile.namespace.clone();
        let on_event: Arc<dyn Fn(LogsEvent) + Send + Sync> = Arc::new(on_event);
        let (cancel, rx) = watch::channel(false);
        let tasks = tails
            .into_iter()
            .map(|(service, tail)| {
                tokio::spawn(follow(
                    api.clone(),
                    service,
                    namespace.clone(),
                    tail,
                    on_event.clone(),
                    capture.clone(),
                    rx.clone(),
                ))
            })
            .collect();
        let id = self.logs.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.logs
            .live
            .lock()
            .expect("log sessions")
            .insert(id, Session { cancel, tasks });
        Ok(id)
    }

    /// Stops a logs session and ends its tails on the platform (waits up to 5 s for that).
    pub async fn stop_logs(&self, session: u32) -> Result<(), AppError> {
        let s = self
            .logs
            .live
            .lock()
            .expect("log sessions")
            .remove(&session);
        let Some(s) = s else {
            return Ok(());
        };
        let _ = s.cancel.send(true);
        for t in s.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        Ok(())
    }

    /// Stops every logs session (the window is closing): no tail stays open on the platform.
    pub async fn stop_all_logs(&self) {
        let ids: Vec<u32> = self
            .logs
            .live
            .lock()
            .expect("log sessions")
            .keys()
            .copied()
            .collect();
        for id in ids {
            let _ = self.stop_logs(id).await;
        }
    }

    /// What a tail of `profile` needs to keep excerpts around failures (its keys, to redact
    /// them before anything is written).
    pub(crate) async fn excerpt_capture(&self, profile: &Profile) -> ExcerptCapture {
        let secrets = self.redaction_secrets(profile).await;
        self.logs
            .excerpts
            .capture(&self.store, &profile.id, secrets)
    }

    /// How many log lines were not kept in excerpts because the writer fell behind the tails
    /// (since the app started).
    pub fn log_excerpt_lines_dropped(&self) -> u64 {
        self.logs.excerpts.dropped()
    }

    /// How many logs sessions are open.
    pub fn open_log_sessions(&self) -> usize {
        self.logs.live.lock().expect("log sessions").len()
    }

    /// Tails `services` for `seconds` and returns what arrived (a runbook step's capture).
    pub async fn capture_logs(
        &self,
        profile_id: &str,
        services: &[String],
        seconds: u32,
    ) -> Result<Vec<LogLine>, AppError> {
        if seconds == 0 || seconds > MAX_CAPTURE_SECONDS {
            return Err(AppError::invalid_input(format!(
                "seconds: capture logs for 1 to {MAX_CAPTURE_SECONDS} seconds, not {seconds}."
            )));
        }
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let id = self
            .start_logs(
                LogsRequest {
                    profile_id: profile_id.to_owned(),
                    services: services.to_vec(),
                },
                move |e| {
                    if let LogsEvent::Line { line } = e {
                        sink.lock().expect("captured lines").push(line);
                    }
                },
            )
            .await?;
        tokio::time::sleep(Duration::from_secs(u64::from(seconds))).await;
        self.stop_logs(id).await?;
        let mut out = std::mem::take(&mut *lines.lock().expect("captured lines"));
        out.sort_by(|a, b| a.timestamp_ms.total_cmp(&b.timestamp_ms));
        Ok(out)
    }
}
