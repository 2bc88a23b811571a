//! The one HTTP server: shared state, the route table (one port, routed by path prefix and Host),
//! the accept loop (so a fault can drop a connection) and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::faults::{DropConnection, FaultBoard};
use crate::identity::Identity;
use crate::store::Store;

/// Largest request body any route reads (the Free plan's account request-body limit).
pub const REQUEST_BODY_LIMIT: usize = 100 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub faults: FaultBoard,
    pub identity: Arc<Identity>,
    /// `POST /rollback` uploads the previous script again; switchable while running.
    pub true_rollback: Arc<std::sync::atomic::AtomicBool>,
    pub base_url: Arc<String>,
    /// Rollbacks run one at a time: find the two newest, (re)upload, mark — never interleaved.
    pub rollback_lock: Arc<tokio::sync::Mutex<()>>,
    /// workerd, which executes the scripts (or the reason it cannot).
    pub runtime: crate::runtime::Runtime,
    /// Open tails and the trace events they read.
    pub tails: crate::tail::TailHub,
    /// Bad deploys made by a rehearsal, not yet rolled back.
    pub rehearsals: crate::rehearsal::Rehearsals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    Read,
}

/// Reads a whole body, failing (without panicking or hanging) past `limit` bytes.
pub async fn read_body_limited(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    match axum::body::to_bytes(body, limit).await {
        Ok(b) => Ok(b),
        Err(e) => {
            let too_large = is_length_limit(&e);
            Err(if too_large {
                BodyError::TooLarge
            } else {
                BodyError::Read
            })
        }
    }
}

/// Whether a body error is the length limit being exceeded (anywhere in its source chain).
fn is_length_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if err.to_string().contains("length limit exceeded") {
            return true;
        }
        current = err.source();
    }
    false
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .nest("/deploy-api", crate::deploy_api::router(state.clone()))
        .nest("/client/v4", crate::cloudflare::router(state.clone()))
        .nest("/auth", crate::auth::router(state.clone()))
        .nest("/__sandbox", crate::control::router())
        .merge(crate::dispatcher::router())
        .fallback(crate::dispatcher::by_host_or_not_found)
        .layer(axum::middleware::from_fn(json_errors))
        .layer(DefaultBodyLimit::max(REQUEST_BODY_LIMIT))
        .with_state(state)
}

async fn index(State(state): State<AppState>, req: Request) -> Response {
    if crate::dispatcher::host_is_platform(req.headers()) {
        return crate::dispatcher::by_host_or_not_found(State(state), req).await;
    }
    let base = state.base_url.as_str();
    Json(json!({
        "service": "switchyard-sandbox",
        "deploy_api_url": format!("{base}/deploy-api"),
        "cloudflare_api_url": format!("{base}/client/v4"),
        "auth_url": format!("{base}/auth"),
        "dispatcher_url_template": format!("{base}/dispatcher/{{environment}}"),
        "service_url_template": format!("{base}/services/{{environment}}/{{service}}"),
        "faults_url": format!("{base}/__sandbox/faults"),
    }))
    .into_response()
}

/// Marks a response whose body must reach the client as it is (a fault's body, a crashing
/// worker's text), even when it is an error that is not JSON.
#[derive(Debug, Clone, Copy)]
pub struct VerbatimBody;

/// Every error the sandbox answers is JSON: an error from the framework itself (a path that is
/// not UTF-8, a bad query string…) is rewritten as the API's own error shape — a Cloudflare
/// envelope under `/client/v4`, `{"error": …}` elsewhere.
async fn json_errors(req: Request, next: axum::middleware::Next) -> Response {
    let cloudflare = req.uri().path().starts_with("/client/v4");
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let verbatim = response.extensions().get::<VerbatimBody>().is_some()
        || response.extensions().get::<DropConnection>().is_some();
    if !(status.is_client_error() || status.is_server_error()) || is_json || verbatim {
        return response;
    }
    let text = match read_body_limited(response.into_body(), 64 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        text
    };
    if cloudflare {
        let code = match status {
            StatusCode::NOT_FOUND => 7003,
            StatusCode::METHOD_NOT_ALLOWED => 7001,
            StatusCode::PAYLOAD_TOO_LARGE => 10027,
            s if s.is_client_error() => 10004,
            _ => 10002,
        };
        crate::cloudflare::envelope_error(status, code, &message)
    } else {
        json_error(status, &message)
    }
}

/// A plain JSON error `{"error": message}` with `status`.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// The connection settings of every accepted connection: HTTP/1.1, keep-alive, upgrades.
static HTTP1: std::sync::LazyLock<hyper_util::server::conn::auto::Builder<TokioExecutor>> =
    std::sync::LazyLock::new(|| {
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder.http1().keep_alive(true);
        builder.http1_only()
    });

/// Binds nothing itself: serves `router` on `listener` until `shutdown` turns true, then lets
/// open connections finish (at most `grace`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, _peer): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let router = router.clone();
            async move {
                let response = match router
                    .oneshot(without_trailing_slash(req.map(Body::new)))
                    .await
                {
                    Ok(r) => r,
                    Err(never) => match never {},
                };
                if response.extensions().get::<DropConnection>().is_some() {
                    return Err(ConnectionDropped);
                }
                Ok(response)
            }
        });
        // HTTP/1.1 with upgrades: tail WebSockets upgrade their connection.
        let conn = HTTP1.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {grace:?}; closing them");
    }
}

/// `/deploy-api/` routes as `/deploy-api`: a trailing slash never changes what answers.
fn without_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let path_and_query = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = path_and_query.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

/// The error a request service returns to make hyper close the connection without answering.
#[derive(Debug)]
struct ConnectionDropped;

impl std::fmt::Display for ConnectionDropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a sandbox fault")
    }
}

impl std::error::Error for ConnectionDropped {}
