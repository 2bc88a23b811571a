//! The `/__sandbox/runtime` routes: the runtime's status, and the calls workerd's router makes
//! back into the sandbox — the code of a script (`/code`), its trace events (`/trace`, for the
//! tails), and its service bindings and outgoing fetches (`/binding`, `/outbound`, routed like the
//! dispatcher). Only the sandbox's own workerd may call back (it carries the runtime's token).

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::http::{header_str, json_error, read_body_limited};
use crate::runtime::CodePackage;
use crate::state::AppState;
use crate::store::StoreError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(status))
        .route("/code", get(code))
        .route("/trace", post(trace))
        .route("/binding", any(binding))
        .route("/outbound", any(outbound))
}

async fn status(State(state): State<AppState>) -> Response {
    Json(state.runtime.status()).into_response()
}

fn forbidden() -> Response {
    json_error(
        StatusCode::FORBIDDEN,
        "Only the sandbox's own runtime may call this",
    )
}

/// `GET /__sandbox/runtime/code?ns&script&code&version`: the package the router loads.
async fn code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !state.runtime.authorized(&headers) {
        return forbidden();
    }
    let (Some(ns), Some(script), Some(code)) = (q.get("ns"), q.get("script"), q.get("code")) else {
        return json_error(StatusCode::BAD_REQUEST, "ns, script and code are required");
    };
    if let Some(p) = state.runtime.pending_package(code) {
        return Json(p).into_response();
    }
    let Some(version) = q.get("version") else {
        return json_error(StatusCode::BAD_REQUEST, "version is required");
    };
    let row = match state.store.version(version).await {
        Ok(Some(r)) if &r.namespace == ns && &r.script == script => r,
        Ok(_) | Err(StoreError::ScriptNotFound | StoreError::NamespaceNotFound) => {
            return json_error(StatusCode::NOT_FOUND, "No such version of the script")
        }
        Err(e) => {
            tracing::error!(error = %e, "runtime code: database error");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error");
        }
    };
    if &state.runtime.code_id(&row) != code {
        return json_error(
            StatusCode::CONFLICT,
            "The script changed since this request was routed",
        );
    }
    state.runtime.count_code_load();
    let mut modules = Vec::new();
    for m in row.modules() {
        match state.store.blob(&m.hash).await {
            Ok(Some(bytes)) => modules.push((m.name, m.content_type, bytes)),
            _ => {
                return json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "A module's content is missing",
                )
            }
        }
    }
    let package = CodePackage::from_parts(
        &row.main_module,
        modules
            .iter()
            .map(|(n, c, b)| (n.as_str(), c.as_str(), b.as_slice())),
        &row.settings(),
        &state.runtime.secrets_of(ns, script),
    );
    match package {
        Ok(p) => Json(p).into_response(),
        Err(e) => json_error(StatusCode::UNPROCESSABLE_ENTITY, &e),
    }
}

/// `POST /__sandbox/runtime/trace`: trace events of a loaded script, for the tail sessions.
async fn trace(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    if !state.runtime.authorized(&headers) {
        return forbidden();
    }
    let bytes = match read_body_limited(body, 16 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return json_error(StatusCode::PAYLOAD_TOO_LARGE, "Trace too large"),
    };
    let Ok(batch) = serde_json::from_slice::<Value>(&bytes) else {
        return json_error(StatusCode::BAD_REQUEST, "Not JSON");
    };
    let ns = batch["props"]["ns"].as_str().unwrap_or_default().to_owned();
    let script = batch["props"]["script"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // The version id when the router knew it (every routed request), else the code id.
    let code = batch["props"]["version"]
        .as_str()
        .filter(|v| !v.is_empty())
        .or_else(|| batch["props"]["code"].as_str())
        .unwrap_or_default()
        .to_owned();
    for event in batch["events"].as_array().into_iter().flatten() {
        state.tails.publish(&ns, &script, &code, event.clone());
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `/__sandbox/runtime/binding`: a service binding call from one script to another of its
/// namespace; routed like the dispatcher (the target's faults apply).
async fn binding(State(state): State<AppState>, req: Request) -> Response {
    if !state.runtime.authorized(req.headers()) {
        return forbidden();
    }
    let (Some(ns), Some(script), Some(url)) = (
        header_str(req.headers(), "x-sw-ns").map(str::to_owned),
        header_str(req.headers(), "x-sw-script").map(str::to_owned),
        header_str(req.headers(), "x-sw-url").map(str::to_owned),
    ) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "x-sw-ns, x-sw-script and x-sw-url are required",
        );
    };
    crate::dispatcher::serve_binding(&state, &ns, &script, &url, req).await
}

/// `/__sandbox/runtime/outbound`: a `fetch()` of a user script. Platform hosts (`*.do`) go to the
/// dispatcher of the script's environment; anything else is refused: the sandbox makes no request
/// off 127.0.0.1.
async fn outbound(State(state): State<AppState>, req: Request) -> Response {
    if !state.runtime.authorized(req.headers()) {
        return forbidden();
    }
    let (Some(ns), Some(url)) = (
        header_str(req.headers(), "x-sw-ns").map(str::to_owned),
        header_str(req.headers(), "x-sw-url").map(str::to_owned),
    ) else {
        return json_error(StatusCode::BAD_REQUEST, "x-sw-ns and x-sw-url are required");
    };
    let script = header_str(req.headers(), "x-sw-script")
        .unwrap_or("")
        .to_owned();
    crate::dispatcher::serve_outbound(&state, &ns, &script, &url, req).await
}
