//! A script's bindings, settings and tags.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header;
use serde_json::{json, Map, Value};

use super::upload::{check_bindings, check_tags, metadata_strings, SETTINGS_KEYS};
use super::{json_object, read_body, save_tags, script_row, CfResult};
use crate::http::{envelope, CloudflareError};
use crate::state::AppState;
use crate::store::ScriptRow;

pub(super) async fn get_bindings(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
) -> CfResult {
    let row = script_row(&state, &ns, &script).await?;
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

pub(super) async fn get_settings(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
) -> CfResult {
    let row = script_row(&state, &ns, &script).await?;
    Ok(envelope(settings_json(&row)))
}

/// `PATCH …/settings`: multipart with one `settings` part (JSON of any subset); a plain JSON body
/// is accepted too.
pub(super) async fn patch_settings(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
    req: Request,
) -> CfResult {
    let row = script_row(&state, &ns, &script).await?;
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

pub(super) async fn get_tags(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
) -> CfResult {
    let row = script_row(&state, &ns, &script).await?;
    Ok(envelope(json!(row.tags())))
}

pub(super) async fn put_tags(
    State(state): State<AppState>,
    Path((_account, ns, script)): Path<(String, String, String)>,
    body: Body,
) -> CfResult {
    let row = script_row(&state, &ns, &script).await?;
    let body = read_body(body).await?;
    let tags: Vec<String> = serde_json::from_slice(&body)
        .map_err(|e| CloudflareError::bad_body(format!("expected a JSON array of strings: {e}")))?;
    check_tags(&tags)?;
    let row = save_tags(&state, &ns, &script, &row, &tags).await?;
    Ok(envelope(json!(row.tags())))
}

pub(super) async fn add_tag(
    State(state): State<AppState>,
    Path((_account, ns, script, tag)): Path<(String, String, String, String)>,
) -> CfResult {
    let row = script_row(&state, &ns, &script).await?;
    let mut tags = row.tags();
    if !tags.contains(&tag) {
        tags.push(tag);
    }
    check_tags(&tags)?;
    save_tags(&state, &ns, &script, &row, &tags).await?;
    Ok(envelope(Value::Null))
}

pub(super) async fn delete_tag(
    State(state): State<AppState>,
    Path((_account, ns, script, tag)): Path<(String, String, String, String)>,
) -> CfResult {
    let row = script_row(&state, &ns, &script).await?;
    let tags: Vec<String> = row.tags().into_iter().filter(|t| *t != tag).collect();
    save_tags(&state, &ns, &script, &row, &tags).await?;
    Ok(envelope(Value::Null))
}
