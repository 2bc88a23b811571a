//! A script's bindings, settings and tags.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header;
use serde_json::{json, Map, Value};

use super::upload::{check_bindings, check_tags, metadata_strings, SETTINGS_KEYS};
use super::{json_object, read_body, CfResult, NamedScript};
use crate::http::{envelope, CloudflareError};
use crate::state::AppState;
use crate::store::ScriptRow;

pub(super) async fn get_bindings(script: NamedScript) -> CfResult {
    Ok(envelope(
        script
            .row
            .settings()
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

pub(super) async fn get_settings(script: NamedScript) -> CfResult {
    Ok(envelope(settings_json(&script.row)))
}

/// `PATCH …/settings`: multipart with one `settings` part (JSON of any subset); a plain JSON body
/// is accepted too.
pub(super) async fn patch_settings(
    State(state): State<AppState>,
    script: NamedScript,
    req: Request,
) -> CfResult {
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
    let mut settings = script.row.settings();
    let mut tags = script.row.tags();
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
    let row = script.save(&state, &settings, &tags).await?;
    Ok(envelope(settings_json(&row)))
}

pub(super) async fn get_tags(script: NamedScript) -> CfResult {
    Ok(envelope(json!(script.row.tags())))
}

pub(super) async fn put_tags(
    State(state): State<AppState>,
    script: NamedScript,
    body: Body,
) -> CfResult {
    let body = read_body(body).await?;
    let tags: Vec<String> = serde_json::from_slice(&body)
        .map_err(|e| CloudflareError::bad_body(format!("expected a JSON array of strings: {e}")))?;
    check_tags(&tags)?;
    let row = script.save(&state, &script.row.settings(), &tags).await?;
    Ok(envelope(json!(row.tags())))
}

/// The tag a `…/tags/{tag}` route names.
#[derive(serde::Deserialize)]
pub(super) struct Tag {
    tag: String,
}

pub(super) async fn add_tag(
    State(state): State<AppState>,
    script: NamedScript,
    Path(Tag { tag }): Path<Tag>,
) -> CfResult {
    let mut tags = script.row.tags();
    if !tags.contains(&tag) {
        tags.push(tag);
    }
    check_tags(&tags)?;
    script.save(&state, &script.row.settings(), &tags).await?;
    Ok(envelope(Value::Null))
}

pub(super) async fn delete_tag(
    State(state): State<AppState>,
    script: NamedScript,
    Path(Tag { tag }): Path<Tag>,
) -> CfResult {
    let tags: Vec<String> = script
        .row
        .tags()
        .into_iter()
        .filter(|t| *t != tag)
        .collect();
    script.save(&state, &script.row.settings(), &tags).await?;
    Ok(envelope(Value::Null))
}
