//! Rehearsals that need more than a fault: a **bad deploy** deploys a genuinely broken release of
//! a service through the Deploy API (its `/health` throws a TypeError in workerd), recorded as a
//! deployment by `rehearsal@switchyard.local`. Its rollback (`POST /deploy-api/rollback`) uploads
//! the previous script again even when the sandbox only marks rollbacks, so the rehearsal can be
//! finished; a deploy over it ends it too; clearing it here restores the previous script.
//!
//! `POST /__sandbox/rehearsal/bad-deploy` `{"service", "environment"}`, `GET /__sandbox/rehearsal`,
//! `DELETE /__sandbox/rehearsal/bad-deploy/{service}/{environment}`, `DELETE /__sandbox/rehearsal`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use switchyard_core::Environment;

use crate::deploy_api::{deploy_request, deployment_json, DeployRequest};
use crate::http::json_error;
use crate::state::{AppState, BadDeploy};
use crate::store::{format_time, random_hex};

/// The author of a rehearsal's deployments.
pub const REHEARSAL_AUTHOR: &str = "rehearsal@switchyard.local";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list).delete(clear_all))
        .route("/bad-deploy", post(bad_deploy))
        .route("/bad-deploy/{service}/{environment}", delete(clear_one))
}

fn list_json(state: &AppState) -> Value {
    let mut items: Vec<Value> = state
        .rehearsals
        .list()
        .into_iter()
        .map(|(service, env, b)| {
            json!({
                "service": service,
                "environment": env.as_str(),
                "deployment_id": b.deployment_id,
                "version_tag": b.version_tag,
                "since": b.since,
            })
        })
        .collect();
    items.sort_by_key(|v| v["since"].as_str().unwrap_or_default().to_owned());
    json!({ "bad_deploys": items })
}

async fn list(State(state): State<AppState>) -> Response {
    Json(list_json(&state)).into_response()
}

/// Deploys a broken release of a service that has a deployment to fall back to.
async fn bad_deploy(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "Expected {\"service\": …, \"environment\": …}",
        );
    };
    let Some(service) = v["service"].as_str().map(str::to_owned) else {
        return json_error(StatusCode::BAD_REQUEST, "\"service\" is required");
    };
    let environment = match v["environment"]
        .as_str()
        .unwrap_or("production")
        .parse::<Environment>()
    {
        Ok(e) => e,
        Err(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "\"environment\" must be production, staging or development",
            )
        }
    };
    let current = match state
        .store
        .newest_deployed(&service, environment.as_str())
        .await
    {
        Ok(rows) => rows.into_iter().next(),
        Err(e) => {
            tracing::error!(error = %e, "rehearsal: database error");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error");
        }
    };
    let Some(current) = current else {
        return json_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "{service} has no deployment in {} to fall back to: deploy it once first",
                environment.as_str()
            ),
        );
    };
    let version_tag = format!("{}-broken", current.version_tag);
    let bindings = serde_json::from_str::<Value>(&current.bindings)
        .ok()
        .and_then(|b| b.as_object().cloned())
        .unwrap_or_default();
    let mut metadata = Map::new();
    metadata.insert(
        "commit".into(),
        json!(format!("{}{}", random_hex(4), random_hex(16))),
    );
    metadata.insert("branch".into(), json!("rehearsal"));
    metadata.insert("author".into(), json!(REHEARSAL_AUTHOR));
    metadata.insert("version".into(), json!(version_tag));
    let request = DeployRequest {
        service: service.clone(),
        environment,
        tier: None,
        version: None,
        script: crate::seed::broken_worker_source(&service, &version_tag).into_bytes(),
        bindings,
        metadata,
        version_tag: version_tag.clone(),
    };
    let row = match deploy_request(&state, request).await {
        Ok(row) => row,
        Err(r) => return r,
    };
    state.rehearsals.insert(
        service,
        environment,
        BadDeploy {
            deployment_id: row.id.clone(),
            version_tag,
            since: format_time(chrono::Utc::now()),
        },
    );
    Json(json!({"deployment": deployment_json(&row), "replaced": deployment_json(&current)}))
        .into_response()
}

/// Ends a bad deploy: the previous script is uploaded again and the broken deployment is marked
/// rolled back, as a true rollback would.
async fn end(state: &AppState, service: &str, environment: Environment) -> Result<(), Response> {
    let rows = state
        .store
        .newest_deployed(service, environment.as_str())
        .await
        .map_err(|_| json_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error"))?;
    if let [current, previous] = rows.as_slice() {
        crate::deploy_api::redeploy(state, previous)
            .await
            .map_err(|m| json_error(StatusCode::INTERNAL_SERVER_ERROR, &m))?;
        state
            .store
            .set_deployment_status(&current.id, "rolled_back")
            .await
            .map_err(|_| json_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error"))?;
    }
    Ok(())
}

async fn clear_one(
    State(state): State<AppState>,
    Path((service, environment)): Path<(String, String)>,
) -> Response {
    let Ok(environment) = environment.parse::<Environment>() else {
        return json_error(StatusCode::NOT_FOUND, "No such environment");
    };
    if !state.rehearsals.take_for_rollback(&service, environment) {
        return json_error(
            StatusCode::NOT_FOUND,
            "No rehearsed bad deploy of that service",
        );
    }
    match end(&state, &service, environment).await {
        Ok(()) => Json(list_json(&state)).into_response(),
        Err(r) => r,
    }
}

async fn clear_all(State(state): State<AppState>) -> Response {
    let keys: Vec<(String, Environment)> = state.rehearsals.drain();
    for (service, environment) in keys {
        if let Err(r) = end(&state, &service, environment).await {
            return r;
        }
    }
    Json(list_json(&state)).into_response()
}
