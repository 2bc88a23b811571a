//! The Cloudflare API subset under `/client/v4`: accounts and token verification, dispatch
//! namespaces, the scripts in them (upload, content, settings, tags), their secrets, versions and
//! deployments, and tails. Every answer is Cloudflare's JSON envelope
//! (`success`, `errors`, `messages`, `result`[, `result_info`]) with Cloudflare's error codes.
//!
//! This file mounts the routes behind the token check and the Cloudflare API's faults, and holds
//! what the submodules share: the errors of a namespace or script, and reading a JSON body.

mod accounts;
mod namespaces;
mod scripts;
mod secrets;
mod settings;
mod tails;
mod upload;
mod versions;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use serde_json::{Map, Value};

use crate::faults::{self, FailureStyle, FaultTarget};
use crate::http::{
    bearer_token, envelope_error, read_body_limited, BodyError, CloudflareError, REQUEST_BODY_LIMIT,
};
use crate::state::AppState;
use crate::store::StoreError;

pub use tails::socket_routes as tail_socket_routes;
pub use upload::{store_script, MAX_TAGS, SCRIPT_SIZE_LIMIT};
pub use versions::route_version;

type CfResult = Result<Response, CloudflareError>;

/// The errors of a namespace or a script, as Cloudflare words them.
impl CloudflareError {
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

pub fn router(state: AppState) -> Router<AppState> {
    let ns = "/accounts/{account_id}/workers/dispatch/namespaces";
    Router::new()
        .route("/user/tokens/verify", get(accounts::verify_user_token))
        .route("/accounts", get(accounts::list_accounts))
        .route("/memberships", get(accounts::list_memberships))
        .route("/user", get(accounts::get_user))
        .route(
            "/accounts/{account_id}/tokens/verify",
            get(accounts::verify_account_token),
        )
        .route(
            ns,
            get(namespaces::list_namespaces).post(namespaces::create_namespace),
        )
        .route(
            &format!("{ns}/{{ns}}"),
            get(namespaces::get_namespace)
                .put(namespaces::put_namespace)
                .patch(namespaces::patch_namespace)
                .delete(namespaces::delete_namespace),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts"),
            get(scripts::list_scripts).delete(scripts::delete_scripts_by_tag),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts/{{script}}"),
            get(scripts::get_script)
                .put(scripts::upload_script)
                .delete(scripts::delete_script),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts/{{script}}/content"),
            get(scripts::get_content).put(scripts::put_content),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts/{{script}}/bindings"),
            get(settings::get_bindings),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts/{{script}}/settings"),
            get(settings::get_settings).patch(settings::patch_settings),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts/{{script}}/tags"),
            get(settings::get_tags).put(settings::put_tags),
        )
        .route(
            &format!("{ns}/{{ns}}/scripts/{{script}}/tags/{{tag}}"),
            put(settings::add_tag).delete(settings::delete_tag),
        )
        .merge(tails::api_routes())
        .merge(secrets::routes())
        .merge(versions::routes())
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

/// The namespace and script a route's path names (`…/namespaces/{ns}/scripts/{script}…`).
#[derive(serde::Deserialize)]
pub(super) struct ScriptPath {
    pub(super) ns: String,
    pub(super) script: String,
}

impl ScriptPath {
    pub(super) async fn of(parts: &mut Parts) -> Result<Self, PathRejection> {
        let Path(names) = Path::<ScriptPath>::from_request_parts(parts, &()).await?;
        Ok(names)
    }
}

/// The script a route's path names (`…/namespaces/{ns}/scripts/{script}…`), looked up before
/// the handler runs: a missing namespace or script is refused with Cloudflare's error.
pub(super) struct NamedScript {
    pub(super) ns: String,
    pub(super) name: String,
    pub(super) row: crate::store::ScriptRow,
}

impl FromRequestParts<AppState> for NamedScript {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        // A path that does not decode is refused as the framework refuses it (made an envelope
        // on the way out, like every framework error).
        let ScriptPath { ns, script } = ScriptPath::of(parts)
            .await
            .map_err(IntoResponse::into_response)?;
        let row = script_row(state, &ns, &script)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(NamedScript {
            ns,
            name: script,
            row,
        })
    }
}

/// The script `script` of namespace `ns`, or the Cloudflare error for a missing namespace or
/// script.
pub(super) async fn script_row(
    state: &AppState,
    ns: &str,
    script: &str,
) -> Result<crate::store::ScriptRow, CloudflareError> {
    state
        .store
        .script(ns, script)
        .await
        .map_err(|e| CloudflareError::from_store(e, ns))
}

impl NamedScript {
    /// Stores the script's settings and tags (its modules unchanged); the script after.
    pub(super) async fn save(
        &self,
        state: &AppState,
        settings: &Map<String, Value>,
        tags: &[String],
    ) -> Result<crate::store::ScriptRow, CloudflareError> {
        state
            .store
            .update_script_settings(&self.ns, &self.name, settings, tags)
            .await
            .map_err(|e| CloudflareError::from_store(e, &self.ns))
    }
}
