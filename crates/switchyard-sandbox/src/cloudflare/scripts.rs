//! The scripts of a namespace: list (with tag filters and cursor paging), get, delete (one, or
//! by tag), upload, and their content.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::upload::{
    build_upload, check_script_name, optional_meta_string, previous_script, read_upload_form,
    store_script,
};
use super::{CfResult, NamedScript};
use crate::http::{envelope, header_str, CloudflareError};
use crate::state::AppState;
use crate::store::{random_hex, ScriptRow, ScriptUpload};

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

/// A scripts listing's query, its `tags` filter parsed (a malformed one is refused).
pub(super) struct TagQuery {
    filter: Vec<(String, bool)>,
    query: HashMap<String, String>,
}

impl FromRequestParts<AppState> for TagQuery {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let filter = parse_tag_filter(query.get("tags").map(String::as_str).unwrap_or(""))
            .map_err(IntoResponse::into_response)?;
        Ok(TagQuery { filter, query })
    }
}

fn matches_tags(row: &ScriptRow, filter: &[(String, bool)]) -> bool {
    let tags = row.tags();
    filter
        .iter()
        .all(|(t, allowed)| tags.contains(t) == *allowed)
}

pub(super) async fn list_scripts(
    State(state): State<AppState>,
    Path((_account, ns)): Path<(String, String)>,
    TagQuery { filter, query: q }: TagQuery,
) -> CfResult {
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
    let store_err = |e| CloudflareError::from_store(e, &ns);
    let Some(limit) = limit else {
        let rows = state.store.scripts(&ns).await.map_err(store_err)?;
        let matching = rows.iter().filter(|r| matches_tags(r, &filter));
        return Ok(envelope(Value::Array(
            matching.map(namespace_script_json).collect(),
        )));
    };
    // Cursor paging: the cursor is the name of the last script of the previous page. Without a
    // tag filter only the page (and one more, to know whether there is more) is read, so each
    // page of a 100,000-script namespace costs the same.
    let after = q
        .get("cursor")
        .filter(|c| !c.is_empty())
        .map(String::as_str);
    let rows = if filter.is_empty() {
        state.store.scripts_after(&ns, after, limit + 1).await
    } else {
        state.store.scripts(&ns).await
    }
    .map_err(store_err)?;
    let mut page: Vec<&ScriptRow> = rows
        .iter()
        .filter(|r| matches_tags(r, &filter))
        .filter(|r| after.is_none_or(|a| r.name.as_str() > a))
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

pub(super) async fn delete_scripts_by_tag(
    State(state): State<AppState>,
    Path((_account, ns)): Path<(String, String)>,
    TagQuery { filter, query: q }: TagQuery,
) -> CfResult {
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

pub(super) async fn get_script(script: NamedScript) -> CfResult {
    Ok(envelope(namespace_script_json(&script.row)))
}

pub(super) async fn delete_script(
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

fn upload_result(row: &ScriptRow) -> Value {
    let mut v = script_json(row);
    if let Value::Object(m) = &mut v {
        m.insert("startup_time_ms".into(), json!(1));
        m.insert("deployment_id".into(), json!(row.deployment_id));
    }
    v
}

pub(super) async fn upload_script(
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

pub(super) async fn get_content(
    State(state): State<AppState>,
    NamedScript { ns, row, .. }: NamedScript,
) -> CfResult {
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

/// `PUT …/content`: replaces the modules, keeping bindings and other settings.
pub(super) async fn put_content(
    State(state): State<AppState>,
    NamedScript {
        ns,
        name: script,
        row: previous,
    }: NamedScript,
    req: Request,
) -> CfResult {
    let main_header = header_str(req.headers(), "cf-worker-main-module-part").map(str::to_owned);
    let body_header = header_str(req.headers(), "cf-worker-body-part").map(str::to_owned);
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
