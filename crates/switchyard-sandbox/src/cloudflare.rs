//! The Cloudflare API subset under `/client/v4`: dispatch namespaces, the scripts in them, and
//! token verification. Every answer is Cloudflare's JSON envelope
//! (`success`, `errors`, `messages`, `result`[, `result_info`]) with Cloudflare's error codes.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

use crate::faults::{self, FailureStyle, FaultTarget};
use crate::server::{read_body_limited, AppState, BodyError, REQUEST_BODY_LIMIT};
use crate::store::{random_hex, ModuleUpload, NamespaceRow, ScriptRow, ScriptUpload, StoreError};

/// Largest script (sum of its modules) an upload may carry, as on the Workers Paid plan.
pub const SCRIPT_SIZE_LIMIT: usize = 10 * 1024 * 1024;
/// Most tags a script may carry.
pub const MAX_TAGS: usize = 8;
/// Longest script name (a DNS label).
pub const MAX_SCRIPT_NAME_LEN: usize = 63;

/// A Cloudflare API failure: HTTP status, error code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudflareError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl CloudflareError {
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        CloudflareError {
            status,
            code,
            message: message.into(),
        }
    }
    pub(crate) fn bad_body(detail: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            10001,
            format!("Invalid request body: {detail}"),
        )
    }
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 10021, message)
    }
    pub(crate) fn too_large(size: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            10027,
            format!(
                "Script is too large ({size} bytes); the limit is {SCRIPT_SIZE_LIMIT} bytes. \
                 (workers.api.error.script_too_large)"
            ),
        )
    }
    fn namespace_not_found(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            10007,
            format!(
                "Dispatch namespace \"{name}\" not found. (workers.api.error.namespace_not_found)"
            ),
        )
    }
    pub(crate) fn script_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            10007,
            "This Worker does not exist on your account. (workers.api.error.script_not_found)",
        )
    }
    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            10002,
            "Unexpected internal server error",
        )
    }
    pub(crate) fn from_store(e: StoreError, namespace: &str) -> Self {
        match e {
            StoreError::NamespaceNotFound => Self::namespace_not_found(namespace),
            StoreError::ScriptNotFound => Self::script_not_found(),
            StoreError::NamespaceExists => Self::new(
                StatusCode::CONFLICT,
                10040,
                format!("A dispatch namespace named \"{namespace}\" already exists."),
            ),
            StoreError::Database(e) => {
                tracing::error!(error = %e, "sandbox database error");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for CloudflareError {
    fn into_response(self) -> Response {
        envelope_error(self.status, self.code, &self.message)
    }
}

type CfResult = Result<Response, CloudflareError>;

/// A failure envelope.
pub fn envelope_error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        Json(json!({
            "success": false,
            "errors": [{"code": code, "message": message}],
            "messages": [],
            "result": null,
        })),
    )
        .into_response()
}

/// A success envelope around `result`.
pub fn envelope(result: Value) -> Response {
    Json(json!({"success": true, "errors": [], "messages": [], "result": result})).into_response()
}

pub fn router(state: AppState) -> Router<AppState> {
    let ns = "/accounts/{account_id}/workers/dispatch/namespaces";
    Router::new()
        .route("/user/tokens/verify", get(verify_user_token))
        .route("/accounts", get(list_accounts))
        .route("/memberships", get(list_memberships))
        .route("/user", get(get_user))
        .route(
            "/accounts/{account_id}/tokens/verify",
            get(verify_account_token),
        )
        .route(ns, get(list_namespaces).post(create_namespace))
        .route(
            &format!("{ns}/{{ns}}"),
            get(get_namespace)
                .put(put_namespace)
                .patch(patch_namespace)
                .delete(delete_namespace),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts"),
            get(list_scripts).delete(delete_scripts_by_tag),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts/{{script}}"),
            get(get_script).put(upload_script).delete(delete_script),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts/{{script}}/content"),
            get(get_content).put(put_content),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts/{{script}}/bindings"),
            get(get_bindings),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts/{{script}}/settings"),
            get(get_settings).patch(patch_settings),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts/{{script}}/tags"),
            get(get_tags).put(put_tags),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts/{{script}}/tags/{{tag}}"),
            put(add_tag).delete(delete_tag),
        )
        .merge(crate::tail::api_routes())
        .merge(crate::secrets::routes())
        .merge(crate::versions::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .layer(middleware::from_fn_with_state(state, cloudflare_faults))
}

async fn cloudflare_faults(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let fault = state.faults.get(&FaultTarget::CloudflareApi);
    match faults::apply(fault, FailureStyle::CloudflareEnvelope).await {
        Some(r) => r,
        None => next.run(req).await,
    }
}

/// Bearer token (or the legacy `X-Auth-Email` + `X-Auth-Key` pair holding the same secret), and
/// the account id in the path must be the sandbox's.
async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let token = &state.identity.cloudflare_token;
    let headers = req.headers();
    let bearer = bearer_token(headers);
    let legacy = headers.get("x-auth-key").and_then(|v| v.to_str().ok());
    let has_email = headers.contains_key("x-auth-email");
    let path = req.uri().path().to_owned();
    let is_verify = path.ends_with("/tokens/verify");
    let ok = match (bearer, legacy) {
        (Some(b), _) => b == token.as_str(),
        (None, Some(k)) if !path.starts_with("/user/") => has_email && k == token.as_str(),
        _ => false,
    };
    if !ok {
        if is_verify {
            return envelope_error(StatusCode::UNAUTHORIZED, 1000, "Invalid API Token");
        }
        if bearer.is_none() && legacy.is_none() {
            return envelope_error(
                StatusCode::BAD_REQUEST,
                9106,
                "Missing X-Auth-Key, X-Auth-Email or Authorization headers",
            );
        }
        return envelope_error(StatusCode::UNAUTHORIZED, 10000, "Authentication error");
    }
    let mut segments = path.split('/').skip_while(|s| *s != "accounts").skip(1);
    if path.starts_with("/accounts/") {
        if let Some(account) = segments.next() {
            if account != state.identity.account_id {
                return envelope_error(
                    StatusCode::FORBIDDEN,
                    9109,
                    "Unauthorized to access requested resource",
                );
            }
        }
    }
    next.run(req).await
}

pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

async fn no_route() -> Response {
    envelope_error(StatusCode::NOT_FOUND, 7003, "No route for the URI")
}

async fn method_not_allowed() -> Response {
    envelope_error(
        StatusCode::METHOD_NOT_ALLOWED,
        7001,
        "Method not allowed for this route",
    )
}

// ---- tokens -----------------------------------------------------------------------------------

async fn verify_user_token(State(state): State<AppState>) -> Response {
    token_verified(&state)
}

async fn verify_account_token(State(state): State<AppState>) -> Response {
    token_verified(&state)
}

fn token_verified(state: &AppState) -> Response {
    Json(json!({
        "success": true,
        "errors": [],
        "messages": [{"code": 10000, "message": "This API Token is valid and active", "type": null}],
        "result": {"id": state.identity.cloudflare_token_id, "status": "active"},
    }))
    .into_response()
}

// ---- account discovery (what wrangler calls when no account id is given) --------------------

fn account_json(state: &AppState) -> Value {
    json!({
        "id": state.identity.account_id,
        "name": "Switchyard Sandbox",
        "type": "standard",
        "settings": {"enforce_twofactor": false},
        "created_on": "2025-01-01T00:00:00.000Z",
    })
}

fn single_page(result: Value) -> Response {
    Json(json!({
        "success": true, "errors": [], "messages": [], "result": result,
        "result_info": {"page": 1, "per_page": 20, "count": 1, "total_count": 1, "total_pages": 1},
    }))
    .into_response()
}

async fn list_accounts(State(state): State<AppState>) -> Response {
    single_page(json!([account_json(&state)]))
}

/// The user the token belongs to (what `wrangler whoami` shows).
async fn get_user(State(state): State<AppState>) -> Response {
    envelope(json!({
        "id": state.identity.user_tag,
        "email": "operator@sandbox.local",
        "first_name": "Sandbox",
        "last_name": "Operator",
        "suspended": false,
        "two_factor_authentication_enabled": false,
    }))
}

async fn list_memberships(State(state): State<AppState>) -> Response {
    single_page(json!([{
        "id": state.identity.cloudflare_token_id,
        "status": "accepted",
        "account": account_json(&state),
        "roles": ["Administrator"],
    }]))
}

// ---- namespaces -------------------------------------------------------------------------------

pub fn namespace_json(n: &NamespaceRow) -> Value {
    json!({
        "namespace_id": n.namespace_id,
        "namespace_name": n.name,
        "created_on": n.created_on,
        "modified_on": n.modified_on,
        "created_by": n.created_by,
        "modified_by": n.modified_by,
        "script_count": n.script_count,
        "trusted_workers": n.trusted_workers,
    })
}

async fn list_namespaces(State(state): State<AppState>) -> CfResult {
    let rows = state
        .store
        .namespaces()
        .await
        .map_err(|e| CloudflareError::from_store(e, ""))?;
    Ok(envelope(Value::Array(
        rows.iter().map(namespace_json).collect(),
    )))
}

/// Parses a JSON object body; an empty body counts as `{}`.
pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, CloudflareError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(CloudflareError::bad_body("expected a JSON object")),
        Err(e) => Err(CloudflareError::bad_body(e)),
    }
}

pub(crate) async fn read_body(body: Body) -> Result<Bytes, CloudflareError> {
    read_body_limited(body, REQUEST_BODY_LIMIT)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => CloudflareError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                10027,
                "Request body is too large",
            ),
            BodyError::Read => CloudflareError::bad_body("could not read the request body"),
        })
}

fn optional_string(m: &Map<String, Value>, key: &str) -> Result<Option<String>, CloudflareError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(CloudflareError::bad_body(format!(
            "\"{key}\" must be a string"
        ))),
    }
}

fn optional_bool(m: &Map<String, Value>, key: &str) -> Result<Option<bool>, CloudflareError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(CloudflareError::bad_body(format!(
            "\"{key}\" must be a boolean"
        ))),
    }
}

fn check_namespace_name(name: &str) -> Result<(), CloudflareError> {
    if name.trim().is_empty() {
        return Err(CloudflareError::new(
            StatusCode::BAD_REQUEST,
            10004,
            "Dispatch namespace name must not be empty",
        ));
    }
    Ok(())
}

async fn create_namespace(State(state): State<AppState>, body: Body) -> CfResult {
    let m = json_object(&read_body(body).await?)?;
    let name = match optional_string(&m, "name")? {
        Some(n) => n,
        None => format!("namespace-{}", random_hex(4)),
    };
    check_namespace_name(&name)?;
    let row = state
        .store
        .create_namespace(&name, &state.identity.user_tag, chrono::Utc::now())
        .await
        .map_err(|e| CloudflareError::from_store(e, &name))?;
    Ok(envelope(namespace_json(&row)))
}

async fn get_namespace(
    State(state): State<AppState>,
    Path((_account, ns)): Path<(String, String)>,
) -> CfResult {
    match state.store.namespace(&ns).await {
        Ok(Some(row)) => Ok(envelope(namespace_json(&row))),
        Ok(None) => Err(CloudflareError::namespace_not_found(&ns)),
        Err(e) => Err(CloudflareError::from_store(e, &ns)),
    }
}

async fn put_namespace(
    state: State<AppState>,
    path: Path<(String, String)>,
    body: Body,
) -> CfResult {
    update_namespace(state, path, body).await
}

async fn patch_namespace(
    state: State<AppState>,
    path: Path<(String, String)>,
    body: Body,
) -> CfResult {
    update_namespace(state, path, body).await
}

/// PUT and PATCH: `name` renames, `trusted_workers` sets trusted mode; omitted fields stay.
async fn update_namespace(
    State(state): State<AppState>,
    Path((_account, ns)): Path<(String, String)>,
    body: Body,
) -> CfResult {
    let m = json_object(&read_body(body).await?)?;
    let new_name = optional_string(&m, "name")?;
    let trusted = optional_bool(&m, "trusted_workers")?;
    if let Some(n) = &new_name {
        check_namespace_name(n)?;
    }
    let row = state
        .store
        .update_namespace(&ns, new_name.as_deref(), trusted, &state.identity.user_tag)
        .await
        .map_err(|e| match e {
            StoreError::NamespaceExists => {
                CloudflareError::from_store(e, new_name.as_deref().unwrap_or(&ns))
            }
            e => CloudflareError::from_store(e, &ns),
        })?;
    Ok(envelope(namespace_json(&row)))
}

async fn delete_namespace(
    State(state): State<AppState>,
    Path((_account, ns)): Path<(String, String)>,
) -> CfResult {
    state
        .store
        .delete_namespace(&ns)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    state.runtime.forget_secrets(&ns, None);
    Ok(envelope(Value::Null))
}

// ---- scripts ----------------------------------------------------------------------------------

/// The Script object of a stored script.
pub fn script_json(row: &ScriptRow) -> Value {
    let settings = row.settings();
    let get = |k: &str, default: Value| settings.get(k).cloned().unwrap_or(default);
    json!({
        "id": row.name,
        "tag": row.tag,
        "etag": row.etag,
        "created_on": row.created_on,
        "modified_on": row.modified_on,
        "compatibility_date": get("compatibility_date", Value::Null),
        "compatibility_flags": get("compatibility_flags", json!([])),
        "usage_model": get("usage_model", json!("standard")),
        "handlers": ["fetch"],
        "named_handlers": [],
        "has_assets": false,
        "has_modules": row.has_modules,
        "logpush": get("logpush", json!(false)),
        "observability": get("observability", Value::Null),
        "placement": get("placement", json!({})),
        "tail_consumers": get("tail_consumers", Value::Null),
        "last_deployed_from": "api",
        "migration_tag": Value::Null,
        "tags": row.tags(),
        "entry_point": row.main_module,
    })
}

fn namespace_script_json(row: &ScriptRow) -> Value {
    json!({
        "created_on": row.created_on,
        "modified_on": row.modified_on,
        "dispatch_namespace": row.namespace,
        "script": script_json(row),
    })
}

/// `tags=a:yes,b:no`: which tags a script must have and which it must not.
fn parse_tag_filter(raw: &str) -> Result<Vec<(String, bool)>, CloudflareError> {
    let mut out = Vec::new();
    for item in raw.split(',').filter(|s| !s.is_empty()) {
        let (tag, allowed) = match item.rsplit_once(':') {
            Some((t, "yes")) => (t, true),
            Some((t, "no")) => (t, false),
            _ => (item, true),
        };
        if tag.is_empty() {
            return Err(CloudflareError::new(
                StatusCode::BAD_REQUEST,
                10004,
                format!("Malformed URL parameter tags: \"{item}\""),
            ));
        }
        out.push((tag.to_owned(), allowed));
    }
    Ok(out)
}

fn matches_tags(row: &ScriptRow, filter: &[(String, bool)]) -> bool {
    let tags = row.tags();
    filter
        .iter()
        .all(|(t, allowed)| tags.contains(t) == *allowed)
}

async fn list_scripts(
    State(state): State<AppState>,
    Path((_account, ns)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> CfResult {
    let filter = parse_tag_filter(q.get("tags").map(String::as_str).unwrap_or(""))?;
    let limit = match q.get("limit") {
        None => None,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => Some(n),
            _ => {
                return Err(CloudflareError::new(
                    StatusCode::BAD_REQUEST,
                    10004,
                    "Malformed URL parameter limit: must be an integer from 1 to 1000",
                ))
            }
        },
    };
    let rows = state
        .store
        .scripts(&ns)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    let matching = rows.iter().filter(|r| matches_tags(r, &filter));
    let Some(limit) = limit else {
        return Ok(envelope(Value::Array(
            matching.map(namespace_script_json).collect(),
        )));
    };
    // Cursor paging: the cursor is the name of the last script of the previous page.
    let after = q.get("cursor").filter(|c| !c.is_empty());
    let mut page: Vec<&ScriptRow> = matching
        .filter(|r| after.is_none_or(|a| r.name.as_str() > a.as_str()))
        .take(limit + 1)
        .collect();
    let more = page.len() > limit;
    page.truncate(limit);
    let cursor = if more {
        page.last().map(|r| r.name.clone()).unwrap_or_default()
    } else {
        String::new()
    };
    Ok(Json(json!({
        "success": true, "errors": [], "messages": [],
        "result": page.iter().map(|r| namespace_script_json(r)).collect::<Vec<_>>(),
        "result_info": {"cursor": cursor, "count": page.len(), "per_page": limit},
    }))
    .into_response())
}

async fn delete_scripts_by_tag(
    State(state): State<AppState>,
    Path((_account, ns)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> CfResult {
    let filter = parse_tag_filter(q.get("tags").map(String::as_str).unwrap_or(""))?;
    if filter.is_empty() {
        return Err(CloudflareError::new(
            StatusCode::BAD_REQUEST,
            10003,
            "Missing required URL parameter tags",
        ));
    }
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let rows = state
        .store
        .scripts(&ns)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    let matching: Vec<&ScriptRow> = rows.iter().filter(|r| matches_tags(r, &filter)).collect();
    let mut deleted = Vec::new();
    for row in matching.iter().take(limit) {
        state
            .store
            .delete_script(&ns, &row.name)
            .await
            .map_err(|e| CloudflareError::from_store(e, &ns))?;
        state.runtime.forget_secrets(&ns, Some(&row.name));
        deleted.push(json!({"id": row.tag}));
    }
    Ok(envelope(json!({
        "deleted": deleted,
        "deleted_count": deleted.len(),
        "has_more": matching.len() > limit,
    })))
}

async fn get_script(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
) -> CfResult {
    let row = state
        .store
        .script(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    Ok(envelope(namespace_script_json(&row)))
}

async fn delete_script(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
) -> CfResult {
    state
        .store
        .delete_script(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    state.runtime.forget_secrets(&ns, Some(&script));
    Ok(envelope(Value::Null))
}

/// Script names as the spec's pattern says: `^[a-z0-9_][a-z0-9-_]*$`, at most 63 characters.
pub fn check_script_name(name: &str) -> Result<(), CloudflareError> {
    let valid_first = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let valid_rest = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid_first || !valid_rest || name.len() > MAX_SCRIPT_NAME_LEN {
        return Err(CloudflareError::new(
            StatusCode::BAD_REQUEST,
            10016,
            format!(
                "Worker name \"{name}\" is invalid: use lowercase letters, digits, '-' and '_' \
                 (not starting with '-'), at most {MAX_SCRIPT_NAME_LEN} characters."
            ),
        ));
    }
    Ok(())
}

pub fn check_tags(tags: &[String]) -> Result<(), CloudflareError> {
    if tags.len() > MAX_TAGS {
        return Err(CloudflareError::new(
            StatusCode::BAD_REQUEST,
            100103,
            format!(
                "A script may have at most {MAX_TAGS} tags; got {}.",
                tags.len()
            ),
        ));
    }
    for t in tags {
        if t.is_empty() || t.contains(',') || t.contains('&') {
            return Err(CloudflareError::new(
                StatusCode::BAD_REQUEST,
                100134,
                format!("Tag \"{t}\" has invalid characters (empty, ',' or '&')."),
            ));
        }
        if t.len() > 256 {
            return Err(CloudflareError::new(
                StatusCode::BAD_REQUEST,
                100102,
                "Tag is too long.",
            ));
        }
    }
    Ok(())
}

/// The form of an upload: its metadata part and its module parts.
pub(crate) struct UploadForm {
    pub(crate) metadata: Option<Map<String, Value>>,
    parts: Vec<ModuleUpload>,
}

/// Reads a multipart upload (or a raw service-worker body), enforcing the script size limit.
pub(crate) async fn read_upload_form(
    state: &AppState,
    req: Request,
) -> Result<UploadForm, CloudflareError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/javascript")
        || content_type.starts_with("text/javascript")
    {
        let body = read_body(req.into_body()).await?;
        if body.len() > SCRIPT_SIZE_LIMIT {
            return Err(CloudflareError::too_large(body.len()));
        }
        let mut metadata = Map::new();
        metadata.insert("body_part".into(), json!("script"));
        return Ok(UploadForm {
            metadata: Some(metadata),
            parts: vec![ModuleUpload {
                name: "script".into(),
                content_type: "application/javascript".into(),
                content: body.to_vec(),
            }],
        });
    }
    if !content_type.starts_with("multipart/form-data") {
        return Err(CloudflareError::new(
            StatusCode::BAD_REQUEST,
            10001,
            "Unsupported or unexpected Content Type: send multipart/form-data with a metadata part",
        ));
    }
    let mut multipart = Multipart::from_request(req, state)
        .await
        .map_err(|e| CloudflareError::bad_body(e.body_text()))?;
    let mut form = UploadForm {
        metadata: None,
        parts: Vec::new(),
    };
    let mut total = 0usize;
    let mut too_large = false;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(CloudflareError::too_large(REQUEST_BODY_LIMIT))
            }
            Err(e) => return Err(CloudflareError::bad_body(e.body_text())),
        };
        let name = field.name().unwrap_or("").to_owned();
        let part_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(CloudflareError::too_large(REQUEST_BODY_LIMIT))
            }
            Err(e) => return Err(CloudflareError::bad_body(e.body_text())),
        };
        if name == "metadata" {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(m)) => form.metadata = Some(m),
                Ok(_) => {
                    return Err(CloudflareError::validation(
                        "metadata must be a JSON object",
                    ))
                }
                Err(e) => {
                    return Err(CloudflareError::validation(format!(
                        "metadata is not valid JSON: {e}"
                    )))
                }
            }
            continue;
        }
        total += bytes.len();
        if total > SCRIPT_SIZE_LIMIT {
            too_large = true; // keep reading so the client gets the answer, not a reset
            continue;
        }
        form.parts.push(ModuleUpload {
            name,
            content_type: part_type,
            content: bytes.to_vec(),
        });
    }
    if too_large {
        return Err(CloudflareError::too_large(total));
    }
    Ok(form)
}

fn metadata_strings(
    m: &Map<String, Value>,
    key: &str,
) -> Result<Option<Vec<String>>, CloudflareError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    CloudflareError::validation(format!(
                        "metadata.{key} must be an array of strings"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(CloudflareError::validation(format!(
            "metadata.{key} must be an array of strings"
        ))),
    }
}

fn check_bindings(bindings: &Value) -> Result<(), CloudflareError> {
    let Value::Array(items) = bindings else {
        return Err(CloudflareError::validation(
            "metadata.bindings must be an array",
        ));
    };
    for b in items {
        let ok = b.get("name").is_some_and(Value::is_string)
            && b.get("type").is_some_and(Value::is_string);
        if !ok {
            return Err(CloudflareError::validation(
                "each binding in metadata.bindings needs a string \"name\" and \"type\"",
            ));
        }
    }
    Ok(())
}

/// Replaces each `{"type": "inherit", "name", "old_name"?}` binding with the previous version's
/// binding of that (old) name; one that cannot be found fails under `bindings_inherit=strict`
/// and is dropped otherwise.
fn resolve_inherited(
    bindings: &mut Value,
    previous: Option<&ScriptRow>,
    strict: bool,
) -> Result<(), CloudflareError> {
    let Value::Array(list) = bindings else {
        return Ok(());
    };
    let previous_bindings: Vec<Value> = previous
        .and_then(|p| {
            p.settings()
                .get("bindings")
                .and_then(Value::as_array)
                .cloned()
        })
        .unwrap_or_default();
    let mut resolved = Vec::with_capacity(list.len());
    for b in list.drain(..) {
        if b.get("type").and_then(Value::as_str) != Some("inherit") {
            resolved.push(b);
            continue;
        }
        let name = b
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let from = b
            .get("old_name")
            .and_then(Value::as_str)
            .unwrap_or(&name)
            .to_owned();
        let found = previous_bindings
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(from.as_str()));
        match found {
            Some(p) => {
                let mut p = p.clone();
                p["name"] = json!(name);
                resolved.push(p);
            }
            None if strict => {
                return Err(CloudflareError::validation(format!(
                "Binding \"{name}\" inherits \"{from}\", which the previous version does not have."
            )))
            }
            None => {}
        }
    }
    *list = resolved;
    Ok(())
}

/// Settings keys an upload's metadata may set, kept as the script's settings.
const SETTINGS_KEYS: [&str; 9] = [
    "bindings",
    "compatibility_date",
    "compatibility_flags",
    "usage_model",
    "logpush",
    "observability",
    "placement",
    "tail_consumers",
    "limits",
];

/// Turns a parsed upload into what the store keeps, validating it as Cloudflare does.
pub(crate) fn build_upload(
    form: UploadForm,
    previous: Option<&ScriptRow>,
    strict_inherit: bool,
) -> Result<ScriptUpload, CloudflareError> {
    let metadata = form.metadata.ok_or_else(|| {
        CloudflareError::validation("No metadata part: a script upload needs a \"metadata\" part")
    })?;
    let main_module = optional_meta_string(&metadata, "main_module")?;
    let body_part = optional_meta_string(&metadata, "body_part")?;
    let (entry, has_modules) = match (main_module, body_part) {
        (Some(m), None) => (m, true),
        (None, Some(b)) => (b, false),
        (Some(_), Some(_)) => {
            return Err(CloudflareError::validation(
                "metadata may set main_module or body_part, not both",
            ))
        }
        (None, None) => {
            return Err(CloudflareError::validation(
                "metadata must name the entry point with main_module (ES modules) or body_part",
            ))
        }
    };
    if !form.parts.iter().any(|p| p.name == entry) {
        return Err(CloudflareError::new(
            StatusCode::BAD_REQUEST,
            10006,
            format!("No such module \"{entry}\": the entry point must name an uploaded part"),
        ));
    }
    let tags = metadata_strings(&metadata, "tags")?.unwrap_or_default();
    check_tags(&tags)?;
    let keep = metadata_strings(&metadata, "keep_bindings")?.unwrap_or_default();
    let mut settings = Map::new();
    for key in SETTINGS_KEYS {
        if let Some(v) = metadata.get(key) {
            settings.insert(key.to_owned(), v.clone());
        }
    }
    let mut bindings = settings.remove("bindings").unwrap_or_else(|| json!([]));
    check_bindings(&bindings)?;
    resolve_inherited(&mut bindings, previous, strict_inherit)?;
    if let (Some(prev), Value::Array(list)) = (previous, &mut bindings) {
        if !keep.is_empty() {
            let prev_bindings = prev
                .settings()
                .get("bindings")
                .cloned()
                .unwrap_or_else(|| json!([]));
            for b in prev_bindings.as_array().into_iter().flatten() {
                let kind = b.get("type").and_then(Value::as_str).unwrap_or("");
                let name = b.get("name").and_then(Value::as_str).unwrap_or("");
                let already = list
                    .iter()
                    .any(|x| x.get("name").and_then(Value::as_str) == Some(name));
                if keep.iter().any(|k| k == kind) && !already {
                    list.push(b.clone());
                }
            }
        }
    }
    settings.insert("bindings".into(), bindings);
    settings
        .entry("usage_model")
        .or_insert_with(|| json!("standard"));
    Ok(ScriptUpload {
        modules: form.parts,
        main_module: entry,
        has_modules,
        settings,
        tags,
    })
}

fn optional_meta_string(
    m: &Map<String, Value>,
    key: &str,
) -> Result<Option<String>, CloudflareError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(CloudflareError::validation(format!(
            "metadata.{key} must be a string"
        ))),
    }
}

/// Uploads a script into a namespace, as `PUT …/scripts/{name}` does; shared with the Deploy API.
pub async fn store_script(
    state: &AppState,
    namespace: &str,
    name: &str,
    upload: &ScriptUpload,
) -> Result<ScriptRow, CloudflareError> {
    check_script_name(name)?;
    check_tags(&upload.tags)?;
    let size: usize = upload.modules.iter().map(|m| m.content.len()).sum();
    if size > SCRIPT_SIZE_LIMIT {
        return Err(CloudflareError::too_large(size));
    }
    match state.store.namespace(namespace).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(CloudflareError::namespace_not_found(namespace)),
        Err(e) => return Err(CloudflareError::from_store(e, namespace)),
    }
    // The runtime compiles the script and runs its top-level code before anything is stored,
    // as the platform does: a script that cannot start is refused with the runtime's own words.
    if let Err(message) = state.runtime.validate(namespace, name, upload).await {
        return Err(CloudflareError::validation(format!(
            "Uncaught error when starting the script: {message}"
        )));
    }
    state
        .store
        .put_script(namespace, name, upload, chrono::Utc::now())
        .await
        .map_err(|e| CloudflareError::from_store(e, namespace))
}

async fn previous_script(
    state: &AppState,
    ns: &str,
    name: &str,
) -> Result<Option<ScriptRow>, CloudflareError> {
    match state.store.script(ns, name).await {
        Ok(r) => Ok(Some(r)),
        Err(StoreError::ScriptNotFound) => Ok(None),
        Err(e) => Err(CloudflareError::from_store(e, ns)),
    }
}

fn upload_result(row: &ScriptRow) -> Value {
    let mut v = script_json(row);
    if let Value::Object(m) = &mut v {
        m.insert("startup_time_ms".into(), json!(1));
        m.insert("deployment_id".into(), json!(row.deployment_id));
    }
    v
}

async fn upload_script(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> CfResult {
    check_script_name(&script)?;
    let strict = q.get("bindings_inherit").is_some_and(|v| v == "strict");
    let form = read_upload_form(&state, req).await?;
    let previous = previous_script(&state, &ns, &script).await?;
    let upload = build_upload(form, previous.as_ref(), strict)?;
    let row = store_script(&state, &ns, &script, &upload).await?;
    Ok(envelope(upload_result(&row)))
}

async fn get_content(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
) -> CfResult {
    let row = state
        .store
        .script(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    let modules = row.modules();
    let mut contents = Vec::with_capacity(modules.len());
    for m in &modules {
        let bytes = state
            .store
            .blob(&m.hash)
            .await
            .map_err(|e| CloudflareError::from_store(e, &ns))?
            .ok_or_else(CloudflareError::internal)?;
        contents.push(bytes);
    }
    if modules.len() == 1 {
        let m = &modules[0];
        return Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, m.content_type.clone())],
            contents.remove(0),
        )
            .into_response());
    }
    let boundary = format!("sandbox{}", random_hex(12));
    let mut body = Vec::new();
    for (m, bytes) in modules.iter().zip(contents) {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{0}\"; filename=\"{0}\"\r\nContent-Type: {1}\r\n\r\n",
                m.name, m.content_type
            )
            .as_bytes(),
        );
        body.extend_from_slice(&bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    let entry = header::HeaderName::from_static("cf-entrypoint");
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, ct), (entry, row.main_module.clone())],
        body,
    )
        .into_response())
}

fn header_string(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `PUT …/content`: replaces the modules, keeping bindings and other settings.
async fn put_content(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
    req: Request,
) -> CfResult {
    let main_header = header_string(req.headers(), "cf-worker-main-module-part");
    let body_header = header_string(req.headers(), "cf-worker-body-part");
    let previous = state
        .store
        .script(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    let mut form = read_upload_form(&state, req).await?;
    let mut metadata = form.metadata.take().unwrap_or_default();
    if let Some(m) = main_header {
        metadata.insert("main_module".into(), json!(m));
    }
    if let Some(b) = body_header {
        metadata.insert("body_part".into(), json!(b));
    }
    let (entry, has_modules) = match (
        optional_meta_string(&metadata, "main_module")?,
        optional_meta_string(&metadata, "body_part")?,
    ) {
        (Some(m), _) => (m, true),
        (None, Some(b)) => (b, false),
        (None, None) => (previous.main_module.clone(), previous.has_modules),
    };
    if !form.parts.iter().any(|p| p.name == entry) {
        return Err(CloudflareError::new(
            StatusCode::BAD_REQUEST,
            10006,
            format!("No such module \"{entry}\": the entry point must name an uploaded part"),
        ));
    }
    let upload = ScriptUpload {
        modules: form.parts,
        main_module: entry,
        has_modules,
        settings: previous.settings(),
        tags: previous.tags(),
    };
    let row = store_script(&state, &ns, &script, &upload).await?;
    Ok(envelope(script_json(&row)))
}

async fn get_bindings(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
) -> CfResult {
    let row = state
        .store
        .script(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    Ok(envelope(
        row.settings()
            .get("bindings")
            .cloned()
            .unwrap_or_else(|| json!([])),
    ))
}

fn settings_json(row: &ScriptRow) -> Value {
    let s = row.settings();
    let get = |k: &str, d: Value| s.get(k).cloned().unwrap_or(d);
    json!({
        "bindings": get("bindings", json!([])),
        "compatibility_date": get("compatibility_date", Value::Null),
        "compatibility_flags": get("compatibility_flags", json!([])),
        "limits": get("limits", json!({})),
        "logpush": get("logpush", json!(false)),
        "observability": get("observability", Value::Null),
        "placement": get("placement", json!({})),
        "tags": row.tags(),
        "tail_consumers": get("tail_consumers", Value::Null),
        "usage_model": get("usage_model", json!("standard")),
    })
}

async fn get_settings(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
) -> CfResult {
    let row = state
        .store
        .script(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    Ok(envelope(settings_json(&row)))
}

/// `PATCH …/settings`: multipart with one `settings` part (JSON of any subset); a plain JSON body
/// is accepted too.
async fn patch_settings(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
    req: Request,
) -> CfResult {
    let row = state
        .store
        .script(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let patch = if is_multipart {
        let mut multipart = Multipart::from_request(req, &state)
            .await
            .map_err(|e| CloudflareError::bad_body(e.body_text()))?;
        let mut found = None;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| CloudflareError::bad_body(e.body_text()))?
        {
            let name = field.name().unwrap_or("").to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| CloudflareError::bad_body(e.body_text()))?;
            if name == "settings" {
                found = Some(json_object(&bytes)?);
            }
        }
        found.ok_or_else(|| CloudflareError::validation("No settings part"))?
    } else {
        json_object(&read_body(req.into_body()).await?)?
    };
    let mut settings = row.settings();
    let mut tags = row.tags();
    for (k, v) in patch {
        if k == "tags" {
            tags = metadata_strings(&Map::from_iter([("tags".to_owned(), v)]), "tags")?
                .unwrap_or_default();
            check_tags(&tags)?;
        } else if SETTINGS_KEYS.contains(&k.as_str()) {
            if k == "bindings" {
                check_bindings(&v)?;
            }
            settings.insert(k, v);
        }
    }
    let row = state
        .store
        .update_script_settings(&ns, &script, &settings, &tags)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    Ok(envelope(settings_json(&row)))
}

async fn get_tags(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
) -> CfResult {
    let row = state
        .store
        .script(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    Ok(envelope(json!(row.tags())))
}

async fn put_tags(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
    body: Body,
) -> CfResult {
    let row = state
        .store
        .script(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    let body = read_body(body).await?;
    let tags: Vec<String> = serde_json::from_slice(&body)
        .map_err(|e| CloudflareError::bad_body(format!("expected a JSON array of strings: {e}")))?;
    check_tags(&tags)?;
    let row = state
        .store
        .update_script_settings(&ns, &script, &row.settings(), &tags)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    Ok(envelope(json!(row.tags())))
}

async fn add_tag(
    State(state): State<AppState>,
    Path((_account, ns, script, tag)): Path<(String, String, String, String)>,
) -> CfResult {
    let row = state
        .store
        .script(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    let mut tags = row.tags();
    if !tags.contains(&tag) {
        tags.push(tag);
    }
    check_tags(&tags)?;
    state
        .store
        .update_script_settings(&ns, &script, &row.settings(), &tags)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    Ok(envelope(Value::Null))
}

async fn delete_tag(
    State(state): State<AppState>,
    Path((_account, ns, script, tag)): Path<(String, String, String, String)>,
) -> CfResult {
    let row = state
        .store
        .script(&ns, &script)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    let tags: Vec<String> = row.tags().into_iter().filter(|t| *t != tag).collect();
    state
        .store
        .update_script_settings(&ns, &script, &row.settings(), &tags)
        .await
        .map_err(|e| CloudflareError::from_store(e, &ns))?;
    Ok(envelope(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_names_follow_the_spec_pattern() {
        for ok in ["gateway", "gateway-v2", "_x", "0abc", "a_b-c"] {
            assert!(check_script_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "Gateway", "a.b", "a b", &"a".repeat(64)] {
            assert_eq!(check_script_name(bad).unwrap_err().code, 10016, "{bad}");
        }
    }

    #[test]
    fn tag_filters_parse_yes_and_no() {
        let f = parse_tag_filter("a:yes,b:no,service:gateway").unwrap();
        assert_eq!(
            f,
            vec![
                ("a".into(), true),
                ("b".into(), false),
                ("service:gateway".into(), true)
            ]
        );
        assert!(parse_tag_filter(":yes").is_err());
    }

    #[test]
    fn tags_are_limited() {
        let nine: Vec<String> = (0..9).map(|i| format!("t{i}")).collect();
        assert_eq!(check_tags(&nine).unwrap_err().code, 100103);
        assert_eq!(check_tags(&["a,b".into()]).unwrap_err().code, 100134);
    }
}
