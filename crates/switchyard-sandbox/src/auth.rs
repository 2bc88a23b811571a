//! The auth service under `/auth`: API key validation, permissions, health. Also the check the
//! Deploy API's middleware makes (in-process, as the published service calls auth.do).

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::faults::{self, FailureStyle, FaultTarget};
use crate::http::{bearer_token, json_error, read_body_limited};
use crate::state::AppState;
use crate::store::{format_time, PermissionRow, StoreError, UserRow};

/// The permission the Deploy API requires.
pub const DEPLOY_PERMISSION: (&str, &str) = ("deployments", "create");

/// The auth service's answer about a key.
pub enum KeyCheck {
    Valid(UserRow, Vec<PermissionRow>),
    Unknown,
}

pub async fn check_key(state: &AppState, key: &str) -> Result<KeyCheck, StoreError> {
    let Some(user) = state.store.user_by_key(key).await? else {
        return Ok(KeyCheck::Unknown);
    };
    let permissions = state.store.permissions(&user.id).await?;
    Ok(KeyCheck::Valid(user, permissions))
}

pub fn has_permission(permissions: &[PermissionRow], (resource, action): (&str, &str)) -> bool {
    permissions
        .iter()
        .any(|p| p.resource == resource && p.action == action)
}

fn permissions_json(permissions: &[PermissionRow]) -> Value {
    Value::Array(
        permissions
            .iter()
            .map(|p| json!({"resource": p.resource, "action": p.action, "grantedAt": p.granted_at}))
            .collect(),
    )
}

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(info))
        .route("/health", get(health))
        .route("/apikeys/validate", get(validate))
        .route("/permissions", post(grant))
        .route("/permissions/{user_id}", get(list_permissions))
        .fallback(|| async { json_error(StatusCode::NOT_FOUND, "Not found") })
        .layer(middleware::from_fn_with_state(state, auth_faults))
}

async fn auth_faults(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match faults::apply(state.faults.get(&FaultTarget::Auth), FailureStyle::Platform).await {
        Some(r) => r,
        None => next.run(req).await,
    }
}

async fn info() -> Response {
    Json(json!({
        "service": "auth",
        "version": "1.0.0",
        "endpoints": {
            "validate": "GET /apikeys/validate",
            "grant": "POST /permissions",
            "permissions": "GET /permissions/:userId",
            "health": "GET /health",
        },
    }))
    .into_response()
}

async fn health() -> Response {
    Json(json!({"status": "ok", "service": "auth", "timestamp": format_time(chrono::Utc::now())}))
        .into_response()
}

fn internal(e: StoreError) -> Response {
    tracing::error!(error = %e, "auth service database error");
    json_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
}

async fn validate(State(state): State<AppState>, req: Request) -> Response {
    let Some(key) = bearer_token(req.headers()) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"valid": false, "error": "Missing API key"})),
        )
            .into_response();
    };
    match check_key(&state, key).await {
        Ok(KeyCheck::Valid(user, permissions)) => Json(json!({
            "valid": true,
            "userId": user.id,
            "user": {"id": user.id, "email": user.email, "name": user.name},
            "permissions": permissions_json(&permissions),
        }))
        .into_response(),
        Ok(KeyCheck::Unknown) => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"valid": false, "error": "Invalid API key"})),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

async fn grant(State(state): State<AppState>, body: Body) -> Response {
    let Ok(bytes) = read_body_limited(body, 64 * 1024).await else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "Request body is too large or unreadable",
        );
    };
    let parsed: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) => return json_error(StatusCode::BAD_REQUEST, "Invalid JSON body"),
    };
    let field = |k: &str| {
        parsed
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (Some(user_id), Some(resource), Some(action)) =
        (field("userId"), field("resource"), field("action"))
    else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "userId, resource and action are required non-empty strings",
        );
    };
    match state.store.user(user_id).await {
        Ok(Some(_)) => {}
        Ok(None) => return json_error(StatusCode::NOT_FOUND, "User not found"),
        Err(e) => return internal(e),
    }
    if let Err(e) = state
        .store
        .grant_permission(user_id, resource, action)
        .await
    {
        return internal(e);
    }
    Json(json!({
        "success": true,
        "permission": {"userId": user_id, "resource": resource, "action": action},
    }))
    .into_response()
}

async fn list_permissions(State(state): State<AppState>, Path(user_id): Path<String>) -> Response {
    match state.store.user(&user_id).await {
        Ok(Some(_)) => {}
        Ok(None) => return json_error(StatusCode::NOT_FOUND, "User not found"),
        Err(e) => return internal(e),
    }
    match state.store.permissions(&user_id).await {
        Ok(p) => {
            Json(json!({"userId": user_id, "permissions": permissions_json(&p)})).into_response()
        }
        Err(e) => internal(e),
    }
}
