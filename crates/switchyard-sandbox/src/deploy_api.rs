//! The Deploy API under `/deploy-api`, exactly as `spec/deploy-api.md` says: one auth middleware
//! on every route, `POST /deploy`, `POST /rollback`, `GET /deployments`, `GET /health`, `GET /`.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use switchyard_core::{Environment, DEFAULT_SERVICES};

use crate::auth::{check_key, has_permission, KeyCheck, DEPLOY_PERMISSION};
use crate::cloudflare::store_script;
use crate::faults::{self, FailureStyle, FaultTarget};
use crate::http::{bearer_token, json_error, read_body_limited, BodyError, REQUEST_BODY_LIMIT};
use crate::state::AppState;
use crate::store::{
    format_time, random_hex, DeploymentRow, ModuleUpload, NewDeployment, ScriptUpload, StoreError,
};

/// The compatibility date the Deploy API uploads with.
pub const COMPATIBILITY_DATE: &str = "2025-01-01";
/// Default and largest `limit` of `GET /deployments`.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 100;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(info))
        .route("/health", get(health))
        .route("/deploy", post(deploy))
        .route("/rollback", post(rollback))
        .route("/deployments", get(list_deployments))
        .fallback(|| async { json_error(StatusCode::NOT_FOUND, "Not found") })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            require_deploy_key,
        ))
        .layer(middleware::from_fn_with_state(state, deploy_api_faults))
}

async fn deploy_api_faults(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match faults::apply(
        state.faults.get(&FaultTarget::DeployApi),
        FailureStyle::Platform,
    )
    .await
    {
        Some(r) => r,
        None => next.run(req).await,
    }
}

/// The published service's middleware: Bearer key, validated by the auth service, with
/// `deployments:create` — on every route, `/health` included.
async fn require_deploy_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(key) = bearer_token(req.headers()).map(str::to_owned) else {
        return json_error(StatusCode::UNAUTHORIZED, "Missing API key");
    };
    // The auth service is a separate service: when it is faulted, authentication fails.
    let auth_fault = state.faults.get(&FaultTarget::Auth);
    if faults::apply(auth_fault, FailureStyle::Platform)
        .await
        .is_some()
    {
        return json_error(StatusCode::UNAUTHORIZED, "Authentication failed");
    }
    match check_key(&state, &key).await {
        Ok(KeyCheck::Unknown) => json_error(StatusCode::UNAUTHORIZED, "Invalid API key"),
        Ok(KeyCheck::Valid(_, permissions)) if !has_permission(&permissions, DEPLOY_PERMISSION) => {
            json_error(
                StatusCode::FORBIDDEN,
                "Insufficient permissions - deploy permission required",
            )
        }
        Ok(KeyCheck::Valid(..)) => next.run(req).await,
        Err(e) => {
            tracing::error!(error = %e, "auth check failed");
            json_error(StatusCode::UNAUTHORIZED, "Authentication failed")
        }
    }
}

async fn info() -> Response {
    Json(json!({
        "service": "deploy",
        "version": "1.0.0",
        "endpoints": {
            "deploy": "POST /deploy",
            "rollback": "POST /rollback",
            "deployments": "GET /deployments",
            "health": "GET /health",
        },
    }))
    .into_response()
}

async fn health() -> Response {
    Json(json!({"status": "ok", "service": "deploy", "timestamp": format_time(Utc::now())}))
        .into_response()
}

/// `500 {"error": message}`: how the published service answers validation and upload errors.
fn failure(message: impl AsRef<str>) -> Response {
    json_error(StatusCode::INTERNAL_SERVER_ERROR, message.as_ref())
}

fn not_json(detail: impl std::fmt::Display) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"error": "Deployment failed", "message": detail.to_string()})),
    )
        .into_response()
}

fn internal(e: StoreError) -> Response {
    tracing::error!(error = %e, "deploy api database error");
    failure("Internal server error")
}

/// Parses the body as JSON whatever its Content-Type (as Hono's `c.req.json()` does). A body whose
/// only fault is raw line breaks (a `base64`-wrapped script pasted into a JSON string, as the
/// runbook's curl example does) is accepted: outside strings they are whitespace anyway.
async fn json_body(body: Body) -> Result<Value, Response> {
    let bytes = match read_body_limited(body, REQUEST_BODY_LIMIT).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return Err(failure(format!(
                "Request body is larger than {REQUEST_BODY_LIMIT} bytes"
            )))
        }
        Err(BodyError::Read) => return Err(not_json("could not read the request body")),
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => Ok(v),
        Err(first) => {
            let joined: Vec<u8> = bytes
                .iter()
                .copied()
                .filter(|b| *b != b'\n' && *b != b'\r')
                .collect();
            serde_json::from_slice::<Value>(&joined).map_err(|_| not_json(first))
        }
    }
}

fn required_string<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, String> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(format!("{path} must not be empty")),
        None | Some(Value::Null) => Err(format!("{path} is required")),
        Some(_) => Err(format!("{path} must be a string")),
    }
}

fn optional_string<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{path} must be a string")),
    }
}

fn parse_service(obj: &Map<String, Value>) -> Result<String, String> {
    let s = required_string(obj, "service", "service")?;
    if DEFAULT_SERVICES.contains(&s) {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "Invalid service \"{s}\": must be one of {}",
            DEFAULT_SERVICES.join(", ")
        ))
    }
}

fn parse_environment(obj: &Map<String, Value>) -> Result<Environment, String> {
    let e = required_string(obj, "environment", "environment")?;
    e.parse::<Environment>().map_err(|_| {
        format!("Invalid environment \"{e}\": must be one of production, staging, development")
    })
}

/// The URL a deployment is served at.
pub fn service_url(service: &str, environment: Environment, version: Option<&str>) -> String {
    let host = match version {
        Some(v) => format!("{v}.{service}"),
        None => service.to_owned(),
    };
    match environment {
        Environment::Production => format!("https://{host}.do"),
        other => format!("https://{host}.{other}.do"),
    }
}

/// A validated deploy request.
pub struct DeployRequest {
    pub service: String,
    pub environment: Environment,
    pub tier: Option<String>,
    pub version: Option<String>,
    pub script: Vec<u8>,
    pub bindings: Map<String, Value>,
    pub metadata: Map<String, Value>,
    pub version_tag: String,
}

fn parse_deploy(v: &Value) -> Result<DeployRequest, String> {
    let obj = v.as_object().ok_or("Request body must be a JSON object")?;
    let service = parse_service(obj)?;
    let environment = parse_environment(obj)?;
    let tier = optional_string(obj, "tier", "tier")?;
    if let Some(t) = tier {
        if !["internal", "public", "tenant"].contains(&t) {
            return Err(format!(
                "Invalid tier \"{t}\": must be one of internal, public, tenant"
            ));
        }
    }
    let version = optional_string(obj, "version", "version")?.filter(|v| !v.is_empty());
    let script_b64 = required_string(obj, "script", "script")?;
    // atob() semantics: ASCII whitespace is ignored, padding is optional.
    let compact: String = script_b64
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let script = engine
        .decode(compact.as_bytes())
        .map_err(|e| format!("script is not valid base64: {e}"))?;
    if script.is_empty() {
        return Err("script must not be empty".into());
    }
    let bindings = match obj.get("bindings") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => {
            if let Some((k, _)) = m.iter().find(|(_, v)| !v.is_string()) {
                return Err(format!(
                    "bindings.{k} must be a string (the bound service's name)"
                ));
            }
            m.clone()
        }
        Some(_) => return Err("bindings must be an object of binding name to service name".into()),
    };
    let metadata = match obj.get("metadata") {
        Some(Value::Object(m)) => m,
        None | Some(Value::Null) => return Err("metadata is required".into()),
        Some(_) => return Err("metadata must be an object".into()),
    };
    let commit = required_string(metadata, "commit", "metadata.commit")?;
    required_string(metadata, "branch", "metadata.branch")?;
    required_string(metadata, "author", "metadata.author")?;
    let meta_version = optional_string(metadata, "version", "metadata.version")?;
    let version_tag = match meta_version {
        Some(v) if !v.is_empty() => v.to_owned(),
        _ => switchyard_core::short_commit(commit),
    };
    Ok(DeployRequest {
        service,
        environment,
        tier: tier.map(str::to_owned),
        version: version.map(str::to_owned),
        script,
        bindings,
        metadata: metadata.clone(),
        version_tag,
    })
}

/// The deployment object of the contract.
pub fn deployment_json(d: &DeploymentRow) -> Value {
    json!({
        "id": d.id,
        "service": d.service,
        "environment": d.environment,
        "tier": d.tier,
        "version": d.version,
        "namespace": d.namespace,
        "namespaceMode": d.namespace_mode,
        "status": d.status,
        "timestamp": d.timestamp,
        "url": d.url,
        "versionTag": d.version_tag,
        "metadata": serde_json::from_str::<Value>(&d.metadata).unwrap_or_else(|_| json!({})),
    })
}

/// A new deployment id: `deploy_<epoch-ms>_<8 hex>`.
pub fn deployment_id(at: DateTime<Utc>) -> String {
    format!("deploy_{}_{}", at.timestamp_millis(), random_hex(4))
}

/// What the Deploy API uploads for a deployment: one ES module, its bindings and tags.
pub fn deploy_upload(
    worker: &str,
    service: &str,
    environment: &str,
    version: Option<&str>,
    script: Vec<u8>,
    bindings: &Map<String, Value>,
    metadata: &Map<String, Value>,
) -> ScriptUpload {
    let main = format!("{worker}.mjs");
    let meta = |k: &str| metadata.get(k).and_then(Value::as_str).unwrap_or("");
    let mut tags = vec![
        format!("service:{service}"),
        format!("env:{environment}"),
        format!("commit:{}", meta("commit")),
        format!("branch:{}", meta("branch")),
    ];
    if let Some(v) = version {
        tags.push(format!("version:{v}"));
    }
    let cf_bindings: Vec<Value> = bindings
        .iter()
        .map(|(name, target)| json!({"type": "service", "name": name, "service": target}))
        .collect();
    let mut settings = Map::new();
    settings.insert("bindings".into(), Value::Array(cf_bindings));
    settings.insert("compatibility_date".into(), json!(COMPATIBILITY_DATE));
    settings.insert("compatibility_flags".into(), json!([]));
    settings.insert("usage_model".into(), json!("standard"));
    ScriptUpload {
        modules: vec![ModuleUpload {
            name: main.clone(),
            content_type: "application/javascript+module".into(),
            content: script,
        }],
        main_module: main,
        has_modules: true,
        settings,
        tags,
    }
}

async fn deploy(State(state): State<AppState>, body: Body) -> Response {
    let value = match json_body(body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let req = match parse_deploy(&value) {
        Ok(r) => r,
        Err(message) => return failure(message),
    };
    match deploy_request(&state, req).await {
        Ok(row) => Json(json!({
            "success": true,
            "deployment": deployment_json(&row),
            "message": "Deployment successful",
        }))
        .into_response(),
        Err(r) => r,
    }
}

/// Uploads a deploy request's script through the Cloudflare API and records the deployment
/// (`failed` when the upload is refused). The recorded deployment, or the error response.
pub async fn deploy_request(
    state: &AppState,
    req: DeployRequest,
) -> Result<DeploymentRow, Response> {
    let environment = req.environment.as_str();
    let namespace = req.environment.namespace();
    let worker = match &req.version {
        Some(v) => format!("{}-{v}", req.service),
        None => req.service.clone(),
    };
    let upload = deploy_upload(
        &worker,
        &req.service,
        environment,
        req.version.as_deref(),
        req.script,
        &req.bindings,
        &req.metadata,
    );
    let script_hash = match state.store.put_blob(&upload.modules[0].content).await {
        Ok(h) => h,
        Err(e) => return Err(internal(e)),
    };
    let uploaded = upload_via_cloudflare(state, &namespace, &worker, &upload).await;
    let now = Utc::now();
    let record = NewDeployment {
        id: deployment_id(now),
        service: req.service.clone(),
        environment: environment.to_owned(),
        tier: req.tier.clone(),
        version: req.version.clone(),
        namespace: namespace.clone(),
        namespace_mode: "environment".into(),
        worker,
        status: if uploaded.is_ok() {
            "deployed"
        } else {
            "failed"
        }
        .into(),
        timestamp: now,
        url: service_url(&req.service, req.environment, req.version.as_deref()),
        version_tag: req.version_tag,
        metadata: Value::Object(req.metadata),
        bindings: Value::Object(req.bindings),
        script_hash: Some(script_hash),
    };
    if let Err(e) = state.store.insert_deployment(&record).await {
        return Err(internal(e));
    }
    if let Err(message) = uploaded {
        return Err(failure(message));
    }
    let row = match state.store.deployment(&record.id).await {
        Ok(row) => row,
        Err(e) => return Err(internal(e)),
    };
    // A rehearsed "bad deploy" of this service is over: the new deploy replaced it.
    state
        .faults
        .lift_after_deploy(&req.service, req.environment);
    state
        .rehearsals
        .deployed_over(&req.service, req.environment);
    row.ok_or_else(|| failure("Deployment recorded but not found"))
}

async fn rollback(State(state): State<AppState>, body: Body) -> Response {
    let value = match json_body(body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(obj) = value.as_object() else {
        return failure("Request body must be a JSON object");
    };
    let (service, environment) = match (parse_service(obj), parse_environment(obj)) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(m), _) | (_, Err(m)) => return failure(m),
    };
    let _one_at_a_time = state.rollback_lock.lock().await;
    let newest = match state
        .store
        .newest_deployed(&service, environment.as_str())
        .await
    {
        Ok(rows) => rows,
        Err(e) => return internal(e),
    };
    let [current, previous] = newest.as_slice() else {
        return json_error(StatusCode::BAD_REQUEST, "No previous deployment found");
    };
    // A rehearsed bad deploy is rolled back for real, so the rehearsal can end (the published
    // service only marks, and so does the sandbox unless true rollback is on).
    let rehearsed = state.rehearsals.take_for_rollback(&service, environment);
    if rehearsed
        || state
            .true_rollback
            .load(std::sync::atomic::Ordering::Relaxed)
    {
        if let Err(message) = redeploy(&state, previous).await {
            return failure(message);
        }
    }
    if let Err(e) = state
        .store
        .set_deployment_status(&current.id, "rolled_back")
        .await
    {
        return internal(e);
    }
    // A rehearsed "bad deploy" of this service is over: it was rolled back.
    state.faults.lift_after_deploy(&service, environment);
    Json(json!({
        "success": true,
        "deployment": deployment_json(previous),
        "message": "Rollback successful",
    }))
    .into_response()
}

/// True rollback: uploads the stored script of `previous` again, as its worker.
pub async fn redeploy(state: &AppState, previous: &DeploymentRow) -> Result<(), String> {
    let hash = previous
        .script_hash
        .as_deref()
        .ok_or_else(|| format!("No stored script for deployment {}", previous.id))?;
    let script = match state.store.blob(hash).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(format!("No stored script for deployment {}", previous.id)),
        Err(e) => {
            tracing::error!(error = %e, "reading stored script failed");
            return Err("Internal server error".into());
        }
    };
    let as_map = |s: &str| match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let upload = deploy_upload(
        &previous.worker,
        &previous.service,
        &previous.environment,
        previous.version.as_deref(),
        script,
        &as_map(&previous.bindings),
        &as_map(&previous.metadata),
    );
    upload_via_cloudflare(state, &previous.namespace, &previous.worker, &upload).await
}

/// The upload the published service makes with `PUT …/scripts/{worker}`: it goes through the
/// Cloudflare API, so a fault set on `cloudflare-api` fails (or slows) it too.
async fn upload_via_cloudflare(
    state: &AppState,
    namespace: &str,
    worker: &str,
    upload: &ScriptUpload,
) -> Result<(), String> {
    let fault = state.faults.get(&FaultTarget::CloudflareApi);
    if let Some(r) = faults::apply(fault, FailureStyle::CloudflareEnvelope).await {
        return Err(format!(
            "Failed to upload script: Cloudflare API answered HTTP {}",
            r.status().as_u16()
        ));
    }
    store_script(state, namespace, worker, upload)
        .await
        .map(|_| ())
        .map_err(|e| format!("Failed to upload script: {} (code {})", e.message, e.code))
}

async fn list_deployments(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let limit = match q.get("limit").map(|l| l.trim()).filter(|l| !l.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    &format!("Invalid limit \"{l}\": must be an integer from 1 to {MAX_LIMIT}"),
                )
            }
        },
    };
    let service = q
        .get("service")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    let environment = q
        .get("environment")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    match state.store.deployments(service, environment, limit).await {
        Ok(rows) => Json(json!({
            "success": true,
            "deployments": rows.iter().map(deployment_json).collect::<Vec<_>>(),
            "total": rows.len(),
        }))
        .into_response(),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_contract() {
        assert_eq!(
            service_url("gateway", Environment::Production, None),
            "https://gateway.do"
        );
        assert_eq!(
            service_url("db", Environment::Staging, None),
            "https://db.staging.do"
        );
        assert_eq!(
            service_url("gateway", Environment::Production, Some("v2")),
            "https://v2.gateway.do"
        );
    }

    #[test]
    fn ids_have_the_documented_shape() {
        let id = deployment_id(Utc::now());
        let parts: Vec<&str> = id.split('_').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "deploy");
        assert!(parts[1].parse::<i64>().is_ok());
        assert_eq!(parts[2].len(), 8);
    }

    #[test]
    fn validation_names_the_field() {
        let base = json!({"service":"gateway","environment":"production","script":"YQ==",
            "metadata":{"commit":"abcdef12345","branch":"main","author":"a@b"}});
        assert!(parse_deploy(&base).is_ok());
        let mut v = base.clone();
        v["service"] = json!("nope");
        assert!(parse_deploy(&v).err().unwrap().contains("Invalid service"));
        let mut v = base.clone();
        v["script"] = json!("!!!");
        assert!(parse_deploy(&v).err().unwrap().contains("base64"));
        let mut v = base.clone();
        v["metadata"]["author"] = json!(3);
        assert!(parse_deploy(&v).err().unwrap().contains("metadata.author"));
        let mut v = base;
        v["script"] = json!("YQ\n==");
        assert_eq!(parse_deploy(&v).unwrap().version_tag, "abcdef1");
    }
}
