//! Dispatch namespaces: list, create, get, rename or set trusted mode, delete.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::{json_object, read_body, CfResult};
use crate::http::{envelope, CloudflareError};
use crate::state::AppState;
use crate::store::{random_hex, NamespaceRow, StoreError};

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

pub(super) async fn list_namespaces(State(state): State<AppState>) -> CfResult {
    let rows = state
        .store
        .namespaces()
        .await
        .map_err(|e| CloudflareError::from_store(e, ""))?;
    Ok(envelope(Value::Array(
        rows.iter().map(namespace_json).collect(),
    )))
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

pub(super) async fn create_namespace(State(state): State<AppState>, body: Body) -> CfResult {
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

pub(super) async fn get_namespace(
    State(state): State<AppState>,
    Path((_account, ns)): Path<(String, String)>,
) -> CfResult {
    match state.store.namespace(&ns).await {
        Ok(Some(row)) => Ok(envelope(namespace_json(&row))),
        Ok(None) => Err(CloudflareError::namespace_not_found(&ns)),
        Err(e) => Err(CloudflareError::from_store(e, &ns)),
    }
}

pub(super) async fn put_namespace(
    state: State<AppState>,
    path: Path<(String, String)>,
    body: Body,
) -> CfResult {
    update_namespace(state, path, body).await
}

pub(super) async fn patch_namespace(
    state: State<AppState>,
    path: Path<(String, String)>,
    body: Body,
) -> CfResult {
    update_namespace(state, path, body).await
}

/// PUT and PATCH: `name` renames, `trusted_workers` sets trusted mode; omitted fields stay.
pub(super) async fn update_namespace(
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

pub(super) async fn delete_namespace(
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
