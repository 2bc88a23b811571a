//! Cloudflare's tail API: `POST/GET/DELETE /accounts/{a}/workers/scripts/{name}/tails` under
//! `/client/v4`, and the WebSocket it hands out (subprotocol `trace-v1`), which pushes one JSON
//! trace event per invocation — the events workerd's tail handler produced for the script, with
//! the request's secrets redacted (the sessions and events are [`crate::tail`]'s).
//!
//! What can be tailed: a service's worker by name, `dispatcher` and `dispatcher-<environment>`.
//! Anything else is 404 / 10007.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::Router;
use serde_json::{json, Value};
use switchyard_core::Environment;
use tokio::sync::{broadcast, watch};

use crate::http::{envelope, envelope_error, json_error};
use crate::state::AppState;
use crate::store::format_time;
use crate::tail::{covers, passes, TailEvent};

fn tail_json(base_url: &str, id: &str, expires_at: chrono::DateTime<chrono::Utc>) -> Value {
    let ws = base_url.replacen("http://", "ws://", 1);
    json!({"id": id, "url": format!("{ws}/__sandbox/tail/{id}"), "expires_at": format_time(expires_at)})
}

/// Whether `name` can be tailed: a dispatcher name, or a script in some namespace.
async fn tailable(state: &AppState, name: &str) -> Result<bool, Response> {
    if name == "dispatcher"
        || name
            .strip_prefix("dispatcher-")
            .is_some_and(|e| e.parse::<Environment>().is_ok())
    {
        return Ok(true);
    }
    state.store.script_exists_anywhere(name).await.map_err(|e| {
        tracing::error!(error = %e, "tail: database error");
        envelope_error(StatusCode::INTERNAL_SERVER_ERROR, 10002, "Internal error")
    })
}

fn no_such_worker() -> Response {
    envelope_error(
        StatusCode::NOT_FOUND,
        10007,
        "This Worker does not exist on your account. (workers.api.error.script_not_found)",
    )
}

/// The Cloudflare API routes (mounted under `/client/v4`, behind its token check).
pub fn api_routes() -> Router<AppState> {
    let base = "/accounts/{account_id}/workers/scripts/{script}/tails";
    Router::new()
        .route(base, get(list_tails).post(create_tail))
        .route(&format!("{base}/{{id}}"), delete(delete_tail))
}

async fn create_tail(
    State(state): State<AppState>,
    Path((_account, script)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    match tailable(&state, &script).await {
        Ok(true) => {}
        Ok(false) => return no_such_worker(),
        Err(r) => return r,
    }
    // wrangler sends {"filters":[…]}; an empty body means no filter.
    let filters = if body.iter().all(u8::is_ascii_whitespace) {
        Vec::new()
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => v["filters"].as_array().cloned().unwrap_or_default(),
            Err(e) => {
                return envelope_error(
                    StatusCode::BAD_REQUEST,
                    10001,
                    &format!("Invalid request body: {e}"),
                )
            }
        }
    };
    let (id, expires_at) = state.tails.create(&script, filters);
    envelope(tail_json(&state.base_url, &id, expires_at))
}

async fn list_tails(
    State(state): State<AppState>,
    Path((_account, script)): Path<(String, String)>,
) -> Response {
    match tailable(&state, &script).await {
        Ok(true) => {}
        Ok(false) => return no_such_worker(),
        Err(r) => return r,
    }
    let list: Vec<Value> = state
        .tails
        .list(&script)
        .into_iter()
        .map(|(id, expires_at)| tail_json(&state.base_url, &id, expires_at))
        .collect();
    envelope(Value::Array(list))
}

async fn delete_tail(
    State(state): State<AppState>,
    Path((_account, script, id)): Path<(String, String, String)>,
) -> Response {
    if state.tails.remove(&script, &id) {
        envelope(Value::Null)
    } else {
        envelope_error(
            StatusCode::NOT_FOUND,
            10057,
            "Tail not found: it was deleted or has expired",
        )
    }
}

/// The WebSocket route, outside `/client/v4` (its id is the credential, as on the platform).
pub fn socket_routes() -> Router<AppState> {
    Router::new().route("/tail/{id}", get(open_socket))
}

async fn open_socket(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    let Some((script, filters, closed)) = state.tails.session(&id) else {
        return json_error(
            StatusCode::NOT_FOUND,
            "Tail not found: it was deleted or has expired",
        );
    };
    let rx = state.tails.subscribe();
    ws.protocols(["trace-v1"])
        .on_upgrade(move |socket| stream(socket, script, filters, rx, closed))
        .into_response()
}

async fn stream(
    mut socket: WebSocket,
    script: String,
    mut filters: Vec<Value>,
    mut rx: broadcast::Receiver<Arc<TailEvent>>,
    mut closed: watch::Receiver<bool>,
) {
    let mut ping = tokio::time::interval(Duration::from_secs(30));
    ping.tick().await;
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Ok(e) => {
                    if !covers(&script, &e.namespace, &e.script) || !passes(&filters, &e.event) {
                        continue;
                    }
                    if socket.send(Message::Text(e.event.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "a tail reader fell behind; events were dropped");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                // wrangler sends {"debug":false} on open; a client may also send filters.
                Some(Ok(Message::Text(t))) => {
                    if let Ok(v) = serde_json::from_str::<Value>(&t) {
                        if let Some(f) = v["filters"].as_array() {
                            filters = f.clone();
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = closed.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}
