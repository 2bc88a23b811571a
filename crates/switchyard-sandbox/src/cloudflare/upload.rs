//! Script uploads: the multipart form (or a raw service-worker body), its metadata, bindings
//! (inherited ones resolved), tags and name checked as Cloudflare does, and the upload stored —
//! after the runtime started the script — for the scripts API, versions and the Deploy API.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, StatusCode};
use serde_json::{json, Map, Value};

use super::read_body;
use crate::http::{CloudflareError, REQUEST_BODY_LIMIT};
use crate::state::AppState;
use crate::store::{random_uuid, ModuleUpload, ScriptRow, ScriptUpload, StoreError};

/// Largest script (sum of its modules) an upload may carry, as on the Workers Paid plan.
pub const SCRIPT_SIZE_LIMIT: usize = 10 * 1024 * 1024;
/// Most tags a script may carry.
pub const MAX_TAGS: usize = 8;
/// Longest script name (a DNS label).
pub const MAX_SCRIPT_NAME_LEN: usize = 63;

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
    pub(crate) parts: Vec<ModuleUpload>,
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

pub(super) fn metadata_strings(
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

pub(super) fn check_bindings(bindings: &Value) -> Result<(), CloudflareError> {
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
pub(super) const SETTINGS_KEYS: [&str; 9] = [
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

pub(super) fn optional_meta_string(
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
    let version_id = random_uuid();
    if let Err(message) = state
        .runtime
        .validate(namespace, name, upload, &version_id)
        .await
    {
        return Err(CloudflareError::validation(format!(
            "Uncaught error when starting the script: {message}"
        )));
    }
    state
        .store
        .put_script(namespace, name, upload, chrono::Utc::now(), &version_id)
        .await
        .map_err(|e| CloudflareError::from_store(e, namespace))
}

pub(super) async fn previous_script(
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
    fn tags_are_limited() {
        let nine: Vec<String> = (0..9).map(|i| format!("t{i}")).collect();
        assert_eq!(check_tags(&nine).unwrap_err().code, 100103);
        assert_eq!(check_tags(&["a,b".into()]).unwrap_err().code, 100134);
    }
}
