//! The secrets of a namespace script (`…/dispatch/namespaces/{ns}/scripts/{script}/secrets`):
//! list names, put, get (name only), delete, bulk. Values are held in memory by the runtime and
//! reach the script's `env`; they are never written to disk and never sent back.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::Router;
use serde_json::{json, Value};

use super::ScriptPath;
use crate::http::{envelope, envelope_error, CloudflareError};
use crate::state::AppState;
use crate::store::StoreError;

/// Longest secret value accepted (Cloudflare: 5 KiB per secret).
pub const MAX_SECRET_BYTES: usize = 5 * 1024;

pub fn routes() -> Router<AppState> {
    let base = "/accounts/{account_id}/workers/dispatch/namespaces/{ns}/scripts/{script}";
    Router::new()
        .route(&format!("{base}/secrets"), get(list).put(put))
        .route(
            &format!("{base}/secrets/{{name}}"),
            get(get_one).delete(delete_one),
        )
        .route(&format!("{base}/secrets-bulk"), patch(bulk))
}

fn bad(message: &str) -> CloudflareError {
    CloudflareError::new(StatusCode::BAD_REQUEST, 10001, message)
}

async fn script_exists(state: &AppState, ns: &str, script: &str) -> Result<(), Response> {
    match state.store.script(ns, script).await {
        Ok(_) => Ok(()),
        Err(StoreError::NamespaceNotFound) => Err(envelope_error(
            StatusCode::NOT_FOUND,
            100119,
            &format!("Dispatch namespace \"{ns}\" was not found"),
        )),
        Err(StoreError::ScriptNotFound) => Err(envelope_error(
            StatusCode::NOT_FOUND,
            10007,
            "This Worker does not exist on your account. (workers.api.error.script_not_found)",
        )),
        Err(e) => {
            tracing::error!(error = %e, "secrets: database error");
            Err(envelope_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                10002,
                "Internal error",
            ))
        }
    }
}

/// A script a secrets route names, checked to exist before the handler runs.
struct Script {
    ns: String,
    script: String,
}

impl FromRequestParts<AppState> for Script {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ScriptPath { ns, script } = ScriptPath::of(parts)
            .await
            .map_err(IntoResponse::into_response)?;
        script_exists(state, &ns, &script).await?;
        Ok(Script { ns, script })
    }
}

/// The secret a `…/secrets/{name}` route names.
#[derive(serde::Deserialize)]
struct Secret {
    name: String,
}

fn secret_not_found(name: &str) -> Response {
    envelope_error(
        StatusCode::NOT_FOUND,
        10056,
        &format!("Secret \"{name}\" not found"),
    )
}

fn check_name(name: &str) -> Result<(), CloudflareError> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(bad(&format!(
            "Invalid secret name \"{}\": use letters, digits and underscores, not starting with a digit",
            name.chars().take(64).collect::<String>()
        )))
    }
}

/// A secret object as sent: `{name, text, type: "secret_text"}`; the value to store.
fn secret_value(v: &Value) -> Result<(String, String), CloudflareError> {
    let name = v["name"]
        .as_str()
        .ok_or_else(|| bad("A secret needs a string \"name\""))?;
    check_name(name)?;
    match v["type"].as_str() {
        None | Some("secret_text") => {}
        Some(other) => {
            return Err(bad(&format!(
                "Secret type \"{other}\" is not supported by the sandbox; use \"secret_text\""
            )))
        }
    }
    let text = v["text"]
        .as_str()
        .ok_or_else(|| bad("A secret_text needs a string \"text\""))?;
    if text.len() > MAX_SECRET_BYTES {
        return Err(bad(&format!(
            "The value of secret \"{name}\" is {} bytes; the limit is {MAX_SECRET_BYTES}",
            text.len()
        )));
    }
    Ok((name.to_owned(), text.to_owned()))
}

fn parse_body(body: &[u8]) -> Result<Value, CloudflareError> {
    serde_json::from_slice(body).map_err(|e| bad(&format!("Invalid request body: {e}")))
}

/// The script's secrets as the API lists them: names and types, never values.
fn listing(state: &AppState, ns: &str, script: &str) -> Response {
    let names: Vec<Value> = state
        .runtime
        .secret_names(ns, script)
        .into_iter()
        .map(|n| json!({"name": n, "type": "secret_text"}))
        .collect();
    envelope(Value::Array(names))
}

async fn list(State(state): State<AppState>, Script { ns, script }: Script) -> Response {
    listing(&state, &ns, &script)
}

async fn put(
    State(state): State<AppState>,
    Script { ns, script }: Script,
    body: axum::body::Bytes,
) -> Response {
    let (name, text) = match parse_body(&body).and_then(|v| secret_value(&v)) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    state.runtime.put_secret(&ns, &script, &name, &text);
    envelope(json!({"name": name, "type": "secret_text"}))
}

async fn get_one(
    State(state): State<AppState>,
    Script { ns, script }: Script,
    Path(Secret { name }): Path<Secret>,
) -> Response {
    if state.runtime.secret_names(&ns, &script).contains(&name) {
        envelope(json!({"name": name, "type": "secret_text"}))
    } else {
        secret_not_found(&name)
    }
}

async fn delete_one(
    State(state): State<AppState>,
    Script { ns, script }: Script,
    Path(Secret { name }): Path<Secret>,
) -> Response {
    if state.runtime.delete_secret(&ns, &script, &name) {
        envelope(Value::Null)
    } else {
        secret_not_found(&name)
    }
}

/// `PATCH …/secrets-bulk` with `{secrets: {NAME: {type, text} | null}}` (`null` deletes). Every
/// entry is checked before any is applied.
async fn bulk(
    State(state): State<AppState>,
    Script { ns, script }: Script,
    body: axum::body::Bytes,
) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let Some(secrets) = v["secrets"].as_object() else {
        return bad("Expected {\"secrets\": {NAME: secret | null}}").into_response();
    };
    let mut changes = Vec::new();
    for (name, s) in secrets {
        if let Err(e) = check_name(name) {
            return e.into_response();
        }
        if s.is_null() {
            changes.push((name.clone(), None));
        } else {
            let mut s = s.clone();
            s["name"] = Value::String(name.clone());
            match secret_value(&s) {
                Ok((_, text)) => changes.push((name.clone(), Some(text))),
                Err(e) => return e.into_response(),
            }
        }
    }
    for (name, text) in changes {
        match text {
            Some(t) => state.runtime.put_secret(&ns, &script, &name, &t),
            None => {
                state.runtime.delete_secret(&ns, &script, &name);
            }
        }
    }
    listing(&state, &ns, &script)
}
