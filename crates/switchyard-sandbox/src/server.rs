//! The one HTTP server, the top of the crate: the route table (one port, routed by path prefix
//! and Host) that mounts every API, the accept loop (so a fault can drop a connection) and
//! graceful shutdown. The state every handler shares is [`crate::state::AppState`].

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
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

use crate::http::{json_errors, DropConnection, REQUEST_BODY_LIMIT};
use crate::state::AppState;

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
