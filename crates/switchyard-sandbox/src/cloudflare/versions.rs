//! Versions and deployments of the scripts in a dispatch namespace, as Cloudflare documents them
//! for Workers for Platforms (`…/dispatch/namespaces/{ns}/scripts/{script}/versions` and
//! `…/deployments`), and how the dispatcher picks the version that serves a request.
//!
//! Every upload of a script (`PUT …/scripts/{script}`, the Deploy API, a settings change) is a new
//! version deployed at 100 %. `POST …/versions` stores a version without moving traffic;
//! `POST …/deployments` splits the traffic between at most two versions by percentage. The newest
//! deployment is the active one. Per request, the dispatcher honours
//! `Cloudflare-Workers-Version-Overrides` (`<script>="<version id>"`, a structured-field
//! dictionary; the version must be in the active deployment, else it is ignored) and
//! `Cloudflare-Workers-Version-Key` (the same key always lands on the same version of a given
//! deployment), then a random draw by percentage; it strips both headers before the code runs.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::upload::{build_upload, read_upload_form, SCRIPT_SIZE_LIMIT};
use super::{json_object, read_body};
use crate::http::{envelope, json_error, CloudflareError};
use crate::state::AppState;
use crate::store::{
    random_uuid, NewScriptDeployment, ScriptDeploymentRow, ScriptRow, VersionRow, VersionShare,
    SANDBOX_AUTHOR,
};

/// The request header that pins a request to a version: `<script>="<version id>"`, …
pub const OVERRIDES_HEADER: &str = "cloudflare-workers-version-overrides";
/// The request header whose value keeps a client on one version of a deployment.
pub const KEY_HEADER: &str = "cloudflare-workers-version-key";
/// Most versions one deployment may split traffic between.
pub const MAX_DEPLOYMENT_VERSIONS: usize = 2;
/// Longest `workers/message` annotation, as on the platform.
pub const MAX_MESSAGE_LEN: usize = 100;
/// Longest `workers/tag` annotation, as on the platform.
pub const MAX_TAG_LEN: usize = 25;

type CfResult = Result<Response, CloudflareError>;

pub fn routes() -> Router<AppState> {
    let base = "/accounts/{account_id}/workers/dispatch/namespaces/{ns}/scripts/{script}";
    Router::new()
        .route(
            &format!("{base}/versions"),
            get(list_versions).post(upload_version),
        )
        .route(&format!("{base}/versions/{{version}}"), get(get_version))
        .route(
            &format!("{base}/deployments"),
            get(list_deployments).post(create_deployment),
        )
        .route(
            &format!("{base}/deployments/{{deployment}}"),
            get(get_deployment),
        )
}

fn bad(message: impl Into<String>) -> CloudflareError {
    CloudflareError::validation(message)
}

fn version_not_found(id: &str, script: &str) -> CloudflareError {
    CloudflareError::new(
        StatusCode::NOT_FOUND,
        10007,
        format!("Version \"{id}\" of worker \"{script}\" not found. (workers.api.error.version_not_found)"),
    )
}

async fn script_row(
    state: &AppState,
    ns: &str,
    script: &str,
) -> Result<ScriptRow, CloudflareError> {
    state
        .store
        .script(ns, script)
        .await
        .map_err(|e| CloudflareError::from_store(e, ns))
}

// ---- JSON shapes ------------------------------------------------------------------------------

/// Bindings as a version shows them: secret values are never sent back.
fn visible_bindings(settings: &Map<String, Value>) -> Value {
    let list = settings
        .get("bindings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Value::Array(
        list.into_iter()
            .map(|mut b| {
                if b["type"] == "secret_text" {
                    if let Value::Object(m) = &mut b {
                        m.remove("text");
                    }
                }
                b
            })
            .collect(),
    )
}

fn version_metadata(state: &AppState, v: &VersionRow) -> Value {
    json!({
        "author_email": SANDBOX_AUTHOR,
        "author_id": state.identity.user_tag,
        "created_on": v.created_on,
        "modified_on": v.created_on,
        "source": v.source,
        "hasPreview": false,
    })
}

/// The Version object (`GET …/versions/{id}`).
fn version_json(state: &AppState, v: &VersionRow) -> Value {
    let settings = v.settings();
    let get = |k: &str, d: Value| settings.get(k).cloned().unwrap_or(d);
    json!({
        "id": v.id,
        "number": v.number,
        "metadata": version_metadata(state, v),
        "annotations": v.annotations(),
        "resources": {
            "bindings": visible_bindings(&settings),
            "script": {
                "etag": v.etag,
                "handlers": ["fetch"],
                "named_handlers": [],
                "last_deployed_from": "api",
                "entry_point": v.main_module,
                "has_modules": v.has_modules,
            },
            "script_runtime": {
                "compatibility_date": get("compatibility_date", Value::Null),
                "compatibility_flags": get("compatibility_flags", json!([])),
                "usage_model": get("usage_model", json!("standard")),
                "limits": get("limits", json!({})),
            },
        },
    })
}

/// A version as a list shows it.
fn version_item_json(state: &AppState, v: &VersionRow) -> Value {
    json!({
        "id": v.id,
        "number": v.number,
        "metadata": version_metadata(state, v),
        "annotations": v.annotations(),
    })
}

fn deployment_json(d: &ScriptDeploymentRow) -> Value {
    json!({
        "id": d.id,
        "created_on": d.created_on,
        "source": d.source,
        "strategy": d.strategy,
        "author_email": d.author_email,
        "annotations": d.annotations(),
        "versions": d.versions().iter().map(|s| json!({
            "version_id": s.version_id,
            "percentage": percentage_json(s.percentage),
        })).collect::<Vec<_>>(),
    })
}

/// `100`, not `100.0`, when the percentage is whole.
fn percentage_json(p: f64) -> Value {
    if p.fract() == 0.0 && (0.0..=100.0).contains(&p) {
        json!(p as u64)
    } else {
        json!(p)
    }
}

// ---- versions ---------------------------------------------------------------------------------

/// `annotations` of an upload's metadata: `workers/message` and `workers/tag`, strings.
fn upload_annotations(
    metadata: Option<&Map<String, Value>>,
) -> Result<Map<String, Value>, CloudflareError> {
    let mut out = Map::new();
    let given = match metadata.and_then(|m| m.get("annotations")) {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(bad("metadata.annotations must be an object")),
    };
    for (key, limit) in [
        ("workers/message", MAX_MESSAGE_LEN),
        ("workers/tag", MAX_TAG_LEN),
    ] {
        match given.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.chars().count() <= limit => {
                out.insert(key.into(), json!(s));
            }
            Some(Value::String(_)) => {
                return Err(bad(format!(
                    "annotations[\"{key}\"] is too long: at most {limit} characters"
                )))
            }
            Some(_) => return Err(bad(format!("annotations[\"{key}\"] must be a string"))),
        }
    }
    out.insert("workers/triggered_by".into(), json!("version_upload"));
    Ok(out)
}

/// `POST …/versions`: a new version of an existing script, multipart like a script upload. It
/// does not move traffic.
async fn upload_version(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> CfResult {
    let previous = script_row(&state, &ns, &script).await.map_err(|e| {
        if e.code == 10007 && e.message.contains("script_not_found") {
            CloudflareError::new(
                StatusCode::NOT_FOUND,
                10007,
                format!(
                    "Worker \"{script}\" does not exist in {ns}: upload it first (PUT …/scripts/{script}), then upload versions of it. (workers.api.error.script_not_found)"
                ),
            )
        } else {
            e
        }
    })?;
    let strict = q.get("bindings_inherit").is_some_and(|v| v == "strict");
    let form = read_upload_form(&state, req).await?;
    let annotations = upload_annotations(form.metadata.as_ref())?;
    let upload = build_upload(form, Some(&previous), strict)?;
    let size: usize = upload.modules.iter().map(|m| m.content.len()).sum();
    if size > SCRIPT_SIZE_LIMIT {
        return Err(CloudflareError::too_large(size));
    }
    let version_id = random_uuid();
    if let Err(message) = state
        .runtime
        .validate(&ns, &script, &upload, &version_id)
        .await
    {
        return Err(bad(format!(
            "Uncaught error when starting the script: {message}"
        )));
    }
    let id = state
        .store
        .insert_version(
            &ns,
            &script,
            &upload,
            &annotations,
            chrono::Utc::now(),
            &version_id,
        )
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    let version = state
        .store
        .version(&id)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?
        .ok_or_else(|| version_not_found(&id, &script))?;
    let mut v = version_json(&state, &version);
    v["startup_time_ms"] = json!(1);
    Ok(envelope(v))
}

/// `GET …/versions?page&per_page`: newest first, as `{"items": […]}`.
async fn list_versions(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> CfResult {
    let number = |key: &str, default: usize, max: usize| -> Result<usize, CloudflareError> {
        match q.get(key) {
            None => Ok(default),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(CloudflareError::new(
                    StatusCode::BAD_REQUEST,
                    10004,
                    format!("Malformed URL parameter {key}: must be an integer from 1 to {max}"),
                )),
            },
        }
    };
    let page = number("page", 1, usize::MAX)?;
    let per_page = number("per_page", 100, 100)?;
    let rows = state
        .store
        .versions(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    let total = rows.len();
    let items: Vec<Value> = rows
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|v| version_item_json(&state, v))
        .collect();
    Ok(Json(json!({
        "success": true, "errors": [], "messages": [],
        "result": {"items": items},
        "result_info": {
            "page": page, "per_page": per_page, "count": items.len(),
            "total_count": total, "total_pages": total.div_ceil(per_page),
        },
    }))
    .into_response())
}

/// A version of `script`, or a clear error when it is unknown or another script's.
async fn version_of(
    state: &AppState,
    ns: &str,
    script: &str,
    id: &str,
) -> Result<VersionRow, CloudflareError> {
    match state.store.version(id).await {
        Ok(Some(v)) if v.namespace == ns && v.script == script => Ok(v),
        Ok(_) => Err(version_not_found(id, script)),
        Err(e) => Err(CloudflareError::from_store(e, ns)),
    }
}

async fn get_version(
    State(state): State<AppState>,
    Path((_account, ns, script, id)): Path<(String, String, String, String)>,
) -> CfResult {
    script_row(&state, &ns, &script).await?;
    let v = version_of(&state, &ns, &script, &id).await?;
    Ok(envelope(version_json(&state, &v)))
}

// ---- deployments ------------------------------------------------------------------------------

/// `GET …/deployments`: `{"deployments": […]}`, newest (the active one) first.
async fn list_deployments(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
) -> CfResult {
    let rows = state
        .store
        .script_deployments(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    Ok(envelope(
        json!({"deployments": rows.iter().map(deployment_json).collect::<Vec<_>>()}),
    ))
}

async fn get_deployment(
    State(state): State<AppState>,
    Path((_account, ns, script, id)): Path<(String, String, String, String)>,
) -> CfResult {
    let rows = state
        .store
        .script_deployments(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    rows.iter()
        .find(|d| d.id == id)
        .map(|d| envelope(deployment_json(d)))
        .ok_or_else(|| {
            CloudflareError::new(
                StatusCode::NOT_FOUND,
                10007,
                format!("Deployment \"{id}\" of worker \"{script}\" not found."),
            )
        })
}

/// The percentages as the error messages show them (`10 + 80`).
fn show(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

/// Checks a deployment body: strategy `percentage`, one or two distinct versions of this script,
/// percentages from 0 to 100 adding up to 100.
async fn parse_deployment(
    state: &AppState,
    ns: &str,
    script: &str,
    body: &Map<String, Value>,
) -> Result<NewScriptDeployment, CloudflareError> {
    match body.get("strategy") {
        Some(Value::String(s)) if s == "percentage" => {}
        Some(Value::String(s)) => {
            return Err(bad(format!(
                "Unknown deployment strategy \"{s}\": the only strategy is \"percentage\""
            )))
        }
        None | Some(Value::Null) => {
            return Err(bad(
                "A deployment needs \"strategy\": \"percentage\" and its \"versions\"",
            ))
        }
        Some(_) => return Err(bad("\"strategy\" must be the string \"percentage\"")),
    }
    let Some(Value::Array(items)) = body.get("versions") else {
        return Err(bad(
            "A deployment needs \"versions\": an array of {\"version_id\", \"percentage\"}",
        ));
    };
    if items.is_empty() {
        return Err(bad("A deployment needs at least one version"));
    }
    if items.len() > MAX_DEPLOYMENT_VERSIONS {
        return Err(bad(format!(
            "A deployment may split traffic between at most {MAX_DEPLOYMENT_VERSIONS} versions; this one names {}.",
            items.len()
        )));
    }
    let mut versions: Vec<VersionShare> = Vec::with_capacity(items.len());
    for item in items {
        let Some(id) = item.get("version_id").and_then(Value::as_str) else {
            return Err(bad(
                "Each version of a deployment needs a string \"version_id\"",
            ));
        };
        let Some(p) = item.get("percentage").and_then(Value::as_f64) else {
            return Err(bad(format!(
                "Version \"{id}\" needs a number \"percentage\" (0 to 100)"
            )));
        };
        if !(0.0..=100.0).contains(&p) {
            return Err(bad(format!(
                "The percentage of version \"{id}\" is {}: it must be from 0 to 100",
                show(p)
            )));
        }
        if versions.iter().any(|v| v.version_id == id) {
            return Err(bad(format!(
                "Version \"{id}\" is named twice in the deployment"
            )));
        }
        versions.push(VersionShare {
            version_id: id.to_owned(),
            percentage: p,
        });
    }
    let sum: f64 = versions.iter().map(|v| v.percentage).sum();
    if (sum - 100.0).abs() > 1e-6 {
        return Err(bad(format!(
            "The percentages of a deployment must add up to 100; these add up to {} ({}).",
            show((sum * 1000.0).round() / 1000.0),
            versions
                .iter()
                .map(|v| show(v.percentage))
                .collect::<Vec<_>>()
                .join(" + ")
        )));
    }
    for v in &versions {
        match state.store.version(&v.version_id).await {
            Ok(Some(row)) if row.namespace == ns && row.script == script => {}
            Ok(Some(row)) => {
                return Err(bad(format!(
                    "Version \"{}\" belongs to worker \"{}\" in {}, not to \"{script}\" in {ns}: a deployment can only use versions of its own worker.",
                    v.version_id, row.script, row.namespace
                )))
            }
            Ok(None) => {
                return Err(bad(format!(
                    "Version \"{}\" does not exist: list the versions of \"{script}\" to find its id.",
                    v.version_id
                )))
            }
            Err(e) => return Err(CloudflareError::from_store(e, ns)),
        }
    }
    let mut annotations = Map::new();
    match body.get("annotations") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => match m.get("workers/message") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.chars().count() <= MAX_MESSAGE_LEN => {
                annotations.insert("workers/message".into(), json!(s));
            }
            Some(Value::String(_)) => {
                return Err(bad(format!(
                    "annotations[\"workers/message\"] is too long: at most {MAX_MESSAGE_LEN} characters"
                )))
            }
            Some(_) => return Err(bad("annotations[\"workers/message\"] must be a string")),
        },
        Some(_) => return Err(bad("\"annotations\" must be an object")),
    }
    annotations.insert("workers/triggered_by".into(), json!("deployment"));
    Ok(NewScriptDeployment {
        source: "api".into(),
        strategy: "percentage".into(),
        versions,
        annotations,
        author_email: SANDBOX_AUTHOR.into(),
    })
}

/// `POST …/deployments`: the new active deployment of the script, from the next request on.
async fn create_deployment(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
    body: Body,
) -> CfResult {
    script_row(&state, &ns, &script).await?;
    let body = json_object(&read_body(body).await?)?;
    let d = parse_deployment(&state, &ns, &script, &body).await?;
    let row = state
        .store
        .insert_script_deployment(&ns, &script, &d, chrono::Utc::now())
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    Ok(envelope(deployment_json(&row)))
}

// ---- which version serves a request -----------------------------------------------------------

/// The members of a structured-field dictionary (RFC 8941) whose values are strings or tokens,
/// as `(key, value)`; parameters are ignored and a malformed member is skipped.
pub fn parse_dictionary(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars
            .peek()
            .is_some_and(|c| *c == ' ' || *c == '\t' || *c == ',')
        {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c == ';' {
                break;
            }
            key.push(c);
            chars.next();
        }
        let key = key.trim().to_ascii_lowercase();
        let mut val = None;
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                let mut s = String::new();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                s.push(n);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        c => s.push(c),
                    }
                }
                if closed {
                    val = Some(s);
                }
            } else {
                let mut s = String::new();
                while let Some(&c) = chars.peek() {
                    if c == ',' || c == ';' {
                        break;
                    }
                    s.push(c);
                    chars.next();
                }
                let s = s.trim().to_owned();
                if !s.is_empty() {
                    val = Some(s);
                }
            }
        }
        // Parameters (`;a=b`) up to the next member.
        while let Some(&c) = chars.peek() {
            if c == ',' {
                break;
            }
            chars.next();
        }
        if let Some(v) = val.filter(|_| !key.is_empty()) {
            out.push((key, v));
        }
    }
    out
}

/// Where a version key falls in 0..100, the same for the same key every time.
pub fn key_bucket(key: &str) -> f64 {
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 1_000_000) as f64 / 10_000.0
}

/// The version whose share of the deployment covers `point` (0..100).
fn pick(shares: &[VersionShare], point: f64) -> Option<&VersionShare> {
    let mut cumulative = 0.0;
    for s in shares {
        cumulative += s.percentage;
        if point < cumulative {
            return Some(s);
        }
    }
    shares.iter().rev().find(|s| s.percentage > 0.0)
}

/// Removes the version headers of a request (they never reach the code); what they said.
pub fn take_version_headers(headers: &mut HeaderMap) -> (Vec<(String, String)>, Option<String>) {
    let overrides: Vec<(String, String)> = headers
        .get_all(OVERRIDES_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_dictionary)
        .collect();
    let key = headers
        .get(KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    headers.remove(OVERRIDES_HEADER);
    headers.remove(KEY_HEADER);
    (overrides, key)
}

/// The version of `script` that serves a request with `headers` (the version headers are taken
/// out of them): an override naming a version of the active deployment, else the version the key
/// hashes to, else a random draw by percentage.
/// Where the dispatcher sends a request: the version chosen, under the deployment in effect.
pub struct Routed {
    pub version: VersionRow,
    pub deployment_id: String,
}

pub async fn route_version(
    state: &AppState,
    ns: &str,
    script: &str,
    headers: &mut HeaderMap,
) -> Result<Routed, Response> {
    let (overrides, key) = take_version_headers(headers);
    let internal = || json_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
    let deployment = match state.store.active_deployment(ns, script).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            return Err(json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("Worker \"{script}\" has no deployment: deploy a version of it"),
            ))
        }
        Err(e) => {
            tracing::error!(error = %e, "dispatcher: reading the deployment");
            return Err(internal());
        }
    };
    let shares = deployment.versions();
    let pinned = overrides
        .iter()
        .filter(|(k, _)| k == script)
        .find_map(|(_, id)| shares.iter().find(|s| &s.version_id == id));
    let chosen = match (pinned, key) {
        (Some(s), _) => Some(s),
        (None, Some(k)) => pick(&shares, key_bucket(&k)),
        (None, None) => pick(&shares, rand::random::<f64>() * 100.0),
    };
    let Some(chosen) = chosen else {
        return Err(json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("Worker \"{script}\" has no version with traffic"),
        ));
    };
    match state.store.version(&chosen.version_id).await {
        Ok(Some(version)) => Ok(Routed {
            version,
            deployment_id: deployment.id.clone(),
        }),
        Ok(None) => Err(json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("The deployed version of worker \"{script}\" is missing"),
        )),
        Err(e) => {
            tracing::error!(error = %e, "dispatcher: reading a version");
            Err(internal())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(id: &str, p: f64) -> VersionShare {
        VersionShare {
            version_id: id.into(),
            percentage: p,
        }
    }

    #[test]
    fn dictionaries_parse_strings_tokens_and_parameters() {
        assert_eq!(
            parse_dictionary(r#"my-worker="dc8dcd28-271b-4367-9840-6c244f84cb40""#),
            vec![(
                "my-worker".into(),
                "dc8dcd28-271b-4367-9840-6c244f84cb40".into()
            )]
        );
        assert_eq!(
            parse_dictionary(r#"a="1";p=2, b=tok , c="x\"y", d, e="unclosed"#),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "tok".into()),
                ("c".into(), "x\"y".into()),
            ]
        );
        assert!(parse_dictionary("").is_empty());
    }

    #[test]
    fn keys_hash_to_a_fixed_bucket_and_shares_cover_it() {
        assert_eq!(key_bucket("user-1"), key_bucket("user-1"));
        assert!((0.0..100.0).contains(&key_bucket("user-2")));
        let shares = [share("a", 10.0), share("b", 90.0)];
        assert_eq!(pick(&shares, 5.0).unwrap().version_id, "a");
        assert_eq!(pick(&shares, 10.0).unwrap().version_id, "b");
        assert_eq!(pick(&shares, 99.99).unwrap().version_id, "b");
        let zero = [share("a", 0.0), share("b", 100.0)];
        assert_eq!(pick(&zero, 0.0).unwrap().version_id, "b");
    }
}
