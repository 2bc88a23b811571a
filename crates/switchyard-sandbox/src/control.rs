//! The sandbox's own control API under `/__sandbox`: fault injection (set, clear, list) and
//! settings (true rollback on or off).
//! Loopback only, like everything else; it needs no key.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

use crate::faults::{Fault, FaultEntry, FaultTarget};
use crate::http::{json_error, read_body_limited};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/faults", get(list).post(set_entry).delete(clear_all))
        .route(
            "/faults/{target}",
            put(set_one).delete(clear_one).get(get_one),
        )
        .route(
            "/settings",
            get(settings).put(update_settings).patch(update_settings),
        )
        .nest("/runtime", crate::runtime_api::router())
        .nest("/rehearsal", crate::rehearsal::router())
        .merge(crate::cloudflare::tail_socket_routes())
        .fallback(|| async { json_error(StatusCode::NOT_FOUND, "Not found") })
}

fn settings_json(state: &AppState) -> Value {
    json!({"true_rollback": state.true_rollback.load(Ordering::Relaxed)})
}

async fn settings(State(state): State<AppState>) -> Response {
    Json(settings_json(&state)).into_response()
}

/// `PUT /settings` with `{"true_rollback": bool}`.
async fn update_settings(State(state): State<AppState>, body: Body) -> Response {
    let value = match read_json(body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(obj) = value.as_object() else {
        return json_error(StatusCode::BAD_REQUEST, "Expected a JSON object");
    };
    if let Some(k) = obj.keys().find(|k| *k != "true_rollback") {
        return json_error(StatusCode::BAD_REQUEST, &format!("Unknown setting \"{k}\""));
    }
    match obj.get("true_rollback") {
        None => {}
        Some(Value::Bool(on)) => state.true_rollback.store(*on, Ordering::Relaxed),
        Some(_) => return json_error(StatusCode::BAD_REQUEST, "true_rollback must be a boolean"),
    }
    Json(settings_json(&state)).into_response()
}

async fn list(State(state): State<AppState>) -> Response {
    Json(json!({"faults": state.faults.list()})).into_response()
}

async fn read_json(body: Body) -> Result<Value, Response> {
    let bytes = read_body_limited(body, 64 * 1024).await.map_err(|_| {
        json_error(
            StatusCode::BAD_REQUEST,
            "Request body is too large or unreadable",
        )
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| json_error(StatusCode::BAD_REQUEST, &format!("Invalid JSON body: {e}")))
}

fn apply(state: &AppState, target: FaultTarget, fault: Fault, until_deploy: bool) -> Response {
    let set = if until_deploy {
        state.faults.set_until_deploy(target.clone(), fault.clone())
    } else {
        state.faults.set(target.clone(), fault.clone())
    };
    match set {
        Ok(()) => Json(FaultEntry {
            target,
            fault,
            until_deploy,
        })
        .into_response(),
        Err(message) => json_error(StatusCode::BAD_REQUEST, &message),
    }
}

/// `POST /faults` with `{"target": "...", "fault": {"mode": ...}, "until_deploy": false}`.
async fn set_entry(State(state): State<AppState>, body: Body) -> Response {
    let value = match read_json(body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match serde_json::from_value::<FaultEntry>(value) {
        Ok(entry) => apply(&state, entry.target, entry.fault, entry.until_deploy),
        Err(e) => json_error(StatusCode::BAD_REQUEST, &format!("Invalid fault: {e}")),
    }
}

/// `PUT /faults/<target>` with the fault `{"mode": ...}`; `?until=deploy` makes it lift when the
/// service is next deployed or rolled back (a "bad deploy").
async fn set_one(
    State(state): State<AppState>,
    Path(target): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    body: Body,
) -> Response {
    let until_deploy = match query.get("until").map(String::as_str) {
        None => false,
        Some("deploy") => true,
        Some(other) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("Unknown until=\"{other}\": the only choice is until=deploy"),
            )
        }
    };
    let target = match target.parse::<FaultTarget>() {
        Ok(t) => t,
        Err(e) => return json_error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let value = match read_json(body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match serde_json::from_value::<Fault>(value) {
        Ok(fault) => apply(&state, target, fault, until_deploy),
        Err(e) => json_error(StatusCode::BAD_REQUEST, &format!("Invalid fault: {e}")),
    }
}

async fn get_one(State(state): State<AppState>, Path(target): Path<String>) -> Response {
    let target = match target.parse::<FaultTarget>() {
        Ok(t) => t,
        Err(e) => return json_error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match state.faults.entry(&target) {
        Some(entry) => Json(entry).into_response(),
        None => json_error(StatusCode::NOT_FOUND, "No fault set for this target"),
    }
}

async fn clear_one(State(state): State<AppState>, Path(target): Path<String>) -> Response {
    match target.parse::<FaultTarget>() {
        Ok(t) => Json(json!({"cleared": state.faults.clear(&t)})).into_response(),
        Err(e) => json_error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

async fn clear_all(State(state): State<AppState>) -> Response {
    let n = state.faults.list().len();
    state.faults.clear_all();
    Json(json!({"cleared": n})).into_response()
}
