//! The wrangler config's service bindings read and edited through jsonc-parser's CST (comments,
//! order and formatting kept), and the file's line diff.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use jsonc_parser::cst::{CstArray, CstInputValue, CstObject, CstRootNode};
use sha2::{Digest, Sha256};

use switchyard_core::AppError;

use super::*;

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The wrangler config of a folder (or the file itself), its text and its folder.
pub(super) struct ConfigFile {
    pub(super) folder: PathBuf,
    pub(super) file: PathBuf,
    pub(super) text: String,
    pub(super) sha256: String,
}

pub(super) async fn read_config(path: &str) -> Result<ConfigFile, AppError> {
    let path = Path::new(path.trim());
    if path.as_os_str().is_empty() {
        return Err(AppError::invalid_input(
            "Choose the service folder (the one with wrangler.jsonc), or paste its path.",
        ));
    }
    let meta = tokio::fs::metadata(path).await.map_err(|_| {
        AppError::invalid_input(format!(
            "{} does not exist. Choose a service folder that contains wrangler.jsonc.",
            path.display()
        ))
    })?;
    let (folder, file) = if meta.is_dir() {
        let jsonc = path.join("wrangler.jsonc");
        let file = if tokio::fs::try_exists(&jsonc).await.unwrap_or(false) {
            jsonc
        } else {
            path.join("wrangler.json")
        };
        (path.to_path_buf(), file)
    } else {
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        (folder, path.to_path_buf())
    };
    let bytes = tokio::fs::read(&file).await.map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::NotFound {
            "does not exist"
        } else {
            "cannot be read"
        };
        AppError::invalid_input(format!(
            "{} {what} ({e}). Choose a service folder that contains wrangler.jsonc.",
            file.display()
        ))
    })?;
    if bytes.len() > MAX_WRANGLER_BYTES {
        return Err(AppError::invalid_input(format!(
            "{} is {} bytes, more than the {} a wrangler config can be here. Choose the service folder's wrangler.jsonc.",
            file.display(),
            bytes.len(),
            MAX_WRANGLER_BYTES
        )));
    }
    let sha256 = sha256_hex(&bytes);
    let text = String::from_utf8(bytes).map_err(|_| {
        AppError::invalid_input(format!(
            "{} is not UTF-8 text; save it as UTF-8 and try again.",
            file.display()
        ))
    })?;
    Ok(ConfigFile {
        folder,
        file,
        text,
        sha256,
    })
}

/// A wrangler.jsonc's text as a CST (comments and formatting kept) and its root object.
pub(super) fn parse_cst(text: &str) -> Result<(CstRootNode, CstObject), AppError> {
    let root = CstRootNode::parse(text, &jsonc_parser::ParseOptions::default()).map_err(|e| {
        AppError::invalid_input(format!(
            "The wrangler.jsonc text could not be read: {e}. Fix it and try again."
        ))
    })?;
    let obj = root.object_value().ok_or_else(|| {
        AppError::invalid_input("The wrangler.jsonc text is not a JSON object ({ … }); fix it.")
    })?;
    Ok((root, obj))
}

/// The decoded string value of property `name` of `obj`, if it is a string.
pub(super) fn string_prop(obj: &CstObject, name: &str) -> Option<String> {
    let value = obj.get(name)?.value()?;
    value.as_string_lit()?.decoded_value().ok()
}

/// What a wrangler config says about bindings.
pub(super) struct ConfigBindings {
    /// The service bindings, in the file's order.
    pub(super) rows: Vec<ServiceBindingRow>,
    /// The names of its plain-text variables.
    pub(super) vars: Vec<String>,
    /// Its `name`.
    pub(super) worker_name: Option<String>,
}

/// The service bindings of a wrangler config in the file's order (vars too, by name).
pub(super) fn read_rows(text: &str) -> Result<ConfigBindings, AppError> {
    // The reader the deploy and the compare use: the same errors for the same file.
    let all = local_bindings(text)?;
    let (_, obj) = parse_cst(text)?;
    let mut rows = Vec::new();
    if let Some(arr) = services_array(&obj)? {
        for el in arr.elements() {
            let Some(o) = el.as_object() else {
                continue;
            };
            if let (Some(binding), Some(service)) =
                (string_prop(&o, "binding"), string_prop(&o, "service"))
            {
                let entrypoint = string_prop(&o, "entrypoint");
                rows.push(ServiceBindingRow {
                    binding,
                    service,
                    entrypoint,
                });
            }
        }
    }
    let vars = all
        .into_values()
        .filter(|b| b.kind == BindingKind::Var)
        .map(|b| b.name)
        .collect();
    Ok(ConfigBindings {
        rows,
        vars,
        worker_name: string_prop(&obj, "name"),
    })
}

/// The `services` array of the root object (`None` when there is no `services`).
pub(super) fn services_array(obj: &CstObject) -> Result<Option<CstArray>, AppError> {
    match obj.get("services") {
        None => Ok(None),
        Some(prop) => prop.array_value().map(Some).ok_or_else(|| {
            AppError::invalid_input(
                "\"services\" in wrangler.jsonc must be a list of { \"binding\": …, \"service\": … }; fix it and try again.",
            )
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Editing the text.

/// The element of `services` whose `binding` is `name`.
pub(super) fn find_binding(arr: &CstArray, name: &str) -> Option<CstObject> {
    arr.elements()
        .into_iter()
        .filter_map(|el| el.as_object())
        .find(|o| string_prop(o, "binding").as_deref() == Some(name))
}

/// Put a freshly inserted binding on one line (`{ "binding": "X", "service": "y" }`), as the
/// template and the runbook write them, when the element before it is on one line too.
pub(super) fn one_line(obj: &CstObject) {
    for child in obj.children() {
        if let Some(nl) = child.as_newline() {
            nl.remove();
        } else if let Some(ws) = child.as_whitespace() {
            ws.set_value(" ".into());
        }
    }
    // No trailing comma inside a one-line object (the file's style may add one).
    let children = obj.children();
    let last_comma = children
        .iter()
        .rev()
        .find(|c| !c.is_whitespace() && !c.is_newline() && c.token_char() != Some('}'));
    if let Some(c) = last_comma.filter(|c| c.is_comma()) {
        c.clone().remove();
    }
}

pub(super) fn binding_value(
    binding: &str,
    service: &str,
    entrypoint: Option<&str>,
) -> CstInputValue {
    let mut props = vec![
        (
            "binding".to_owned(),
            CstInputValue::String(binding.to_owned()),
        ),
        (
            "service".to_owned(),
            CstInputValue::String(service.to_owned()),
        ),
    ];
    if let Some(e) = entrypoint {
        props.push(("entrypoint".to_owned(), CstInputValue::String(e.to_owned())));
    }
    CstInputValue::Object(props)
}

pub(super) fn not_bound(name: &str, i: usize) -> AppError {
    AppError::invalid_input(format!(
        "edits[{i}]: wrangler.jsonc has no service binding named {}; reload the bindings and try again.",
        validate::shown(name)
    ))
}

pub(super) fn already_bound(name: &str, i: usize) -> AppError {
    AppError::invalid_input(format!(
        "edits[{i}]: wrangler.jsonc already has a binding named {}; choose another name, or rename or remove that one first.",
        validate::shown(name)
    ))
}

/// `text` with `edits` applied, in order, keeping everything else as written.
pub(super) fn edit_text(text: &str, edits: &[BindingEdit]) -> Result<String, AppError> {
    check_edits("edits", edits)?;
    let ConfigBindings { rows, vars, .. } = read_rows(text)?;
    let mut names: BTreeSet<String> = rows.iter().map(|r| r.binding.clone()).collect();
    let vars: BTreeSet<String> = vars.into_iter().collect();
    let (root, obj) = parse_cst(text)?;
    let taken = |names: &BTreeSet<String>, name: &str| names.contains(name) || vars.contains(name);
    for (i, edit) in edits.iter().enumerate() {
        match edit {
            BindingEdit::Add {
                binding,
                service,
                entrypoint,
            } => {
                if taken(&names, binding) {
                    return Err(already_bound(binding, i));
                }
                let arr = match services_array(&obj)? {
                    Some(arr) => arr,
                    None => obj.array_value_or_set("services"),
                };
                // One line unless the binding before it spans several.
                let single = arr
                    .elements()
                    .last()
                    .is_none_or(|prev| !prev.to_string().contains('\n'));
                let node = arr.append(binding_value(binding, service, entrypoint.as_deref()));
                if let Some(obj) = node.as_object().filter(|_| single) {
                    one_line(&obj);
                }
                names.insert(binding.clone());
            }
            BindingEdit::Rename { from, to } => {
                let arr = services_array(&obj)?.ok_or_else(|| not_bound(from, i))?;
                let el = find_binding(&arr, from).ok_or_else(|| not_bound(from, i))?;
                if from != to && taken(&names, to) {
                    return Err(already_bound(to, i));
                }
                let value = el.get("binding").and_then(|p| p.value());
                let lit = value
                    .and_then(|v| v.as_string_lit())
                    .ok_or_else(|| not_bound(from, i))?;
                lit.replace_with(CstInputValue::String(to.clone()));
                names.remove(from);
                names.insert(to.clone());
            }
            BindingEdit::Retarget {
                binding,
                service,
                entrypoint,
            } => {
                let arr = services_array(&obj)?.ok_or_else(|| not_bound(binding, i))?;
                let el = find_binding(&arr, binding).ok_or_else(|| not_bound(binding, i))?;
                // Adding an entrypoint spreads the object over lines: keep a one-line one so.
                let single = !el.to_string().contains('\n');
                if string_prop(&el, "service").as_deref() != Some(service.as_str()) {
                    match el.get("service") {
                        Some(p) => p.set_value(CstInputValue::String(service.clone())),
                        None => {
                            el.append("service", CstInputValue::String(service.clone()));
                        }
                    }
                }
                let current = string_prop(&el, "entrypoint");
                match (entrypoint, el.get("entrypoint")) {
                    (Some(e), Some(p)) if current.as_deref() != Some(e.as_str()) => {
                        p.set_value(CstInputValue::String(e.clone()))
                    }
                    (Some(_), Some(_)) => {}
                    (Some(e), None) => {
                        el.append("entrypoint", CstInputValue::String(e.clone()));
                    }
                    (None, Some(p)) => p.remove(),
                    (None, None) => {}
                }
                if single {
                    one_line(&el);
                }
            }
            BindingEdit::Remove { binding } => {
                let arr = services_array(&obj)?.ok_or_else(|| not_bound(binding, i))?;
                let el = find_binding(&arr, binding).ok_or_else(|| not_bound(binding, i))?;
                el.remove();
                names.remove(binding);
            }
        }
    }
    let out = root.to_string();
    // The edited text must read back as the bindings asked for (never write a broken file).
    read_rows(&out).map_err(|e| {
        tracing::error!(error = %e.message, "an edited wrangler.jsonc did not read back");
        AppError::internal("Editing wrangler.jsonc")
    })?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The file diff.

pub(super) fn side(source: &str, text: &str) -> BundleSide {
    let lines = text.lines().count() as u64;
    BundleSide {
        source: source.to_owned(),
        available: true,
        absent: false,
        reason: None,
        size_bytes: Some(text.len() as u64),
        sha256: Some(sha256_hex(text.as_bytes())),
        lines: Some(lines),
    }
}

/// The unified diff of two texts, in the shape the deploy's code diff has.
pub(super) fn text_diff(file_name: &str, old: &str, new: &str) -> CodeDiff {
    let mut out = CodeDiff {
        left: side(&format!("{file_name} now"), old),
        right: side(&format!("{file_name} after the change"), new),
        identical: old == new,
        added: 0,
        removed: 0,
        hunks: Vec::new(),
        truncated: None,
        binary: false,
    };
    if out.identical {
        return out;
    }
    crate::deploy::fill_hunks(&mut out, old, new);
    out
}

// ---------------------------------------------------------------------------------------------
// src/index.ts's `interface Env`.
