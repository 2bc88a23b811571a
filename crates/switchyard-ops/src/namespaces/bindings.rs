//! Bindings compared: a wrangler.jsonc's (read from a folder or the file) and a deployed
//! worker's, by name.

use super::*;

/// Parse a wrangler.jsonc's top-level `services` and `vars` into bindings by name.
pub(crate) fn local_bindings(text: &str) -> Result<BTreeMap<String, Binding>, AppError> {
    let doc: serde_json::Value =
        jsonc_parser::parse_to_serde_value(text, &jsonc_parser::ParseOptions::default())
            .map_err(|e| {
                AppError::invalid_input(format!(
                    "The wrangler.jsonc text could not be read: {e}. Fix it (or paste the whole file) and compare again."
                ))
            })?;
    let Some(doc) = doc.as_object() else {
        return Err(AppError::invalid_input(
            "The wrangler.jsonc text is not a JSON object ({ … }); paste the whole file.",
        ));
    };
    let mut out = BTreeMap::new();
    if let Some(services) = doc.get("services") {
        let list = services.as_array().ok_or_else(|| {
            AppError::invalid_input(
                "\"services\" in wrangler.jsonc must be a list of { \"binding\": …, \"service\": … }.",
            )
        })?;
        for (i, s) in list.iter().enumerate() {
            let field = |k: &str| s.get(k).and_then(serde_json::Value::as_str);
            match (field("binding"), field("service")) {
                (Some(name), Some(service)) => {
                    out.insert(
                        name.to_owned(),
                        Binding {
                            name: name.to_owned(),
                            kind: BindingKind::Service,
                            value: service.to_owned(),
                        },
                    );
                }
                _ => {
                    return Err(AppError::invalid_input(format!(
                        "Service binding {} in wrangler.jsonc needs a \"binding\" name and a \"service\".",
                        i + 1
                    )))
                }
            }
        }
    }
    if let Some(vars) = doc.get("vars") {
        let map = vars.as_object().ok_or_else(|| {
            AppError::invalid_input("\"vars\" in wrangler.jsonc must be an object of NAME: value.")
        })?;
        for (name, v) in map {
            let value = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.insert(
                name.clone(),
                Binding {
                    name: name.clone(),
                    kind: BindingKind::Var,
                    value,
                },
            );
        }
    }
    Ok(out)
}

/// The deployed bindings of the kinds compared (service, plain_text), by name.
pub(super) fn deployed_bindings(bindings: &[serde_json::Value]) -> BTreeMap<String, Binding> {
    let mut out = BTreeMap::new();
    for b in bindings {
        let field = |k: &str| b.get(k).and_then(serde_json::Value::as_str);
        let (Some(name), Some(kind)) = (field("name"), field("type")) else {
            continue;
        };
        let binding = match kind {
            "service" => field("service").map(|s| (BindingKind::Service, s)),
            "plain_text" => field("text").map(|t| (BindingKind::Var, t)),
            _ => None,
        };
        if let Some((kind, value)) = binding {
            out.insert(
                name.to_owned(),
                Binding {
                    name: name.to_owned(),
                    kind,
                    value: value.to_owned(),
                },
            );
        }
    }
    out
}

pub(super) fn diff_bindings(
    local: BTreeMap<String, Binding>,
    mut deployed: BTreeMap<String, Binding>,
) -> BindingsDiff {
    let mut diff = BindingsDiff {
        only_local: Vec::new(),
        only_deployed: Vec::new(),
        differing: Vec::new(),
        same: 0,
    };
    for (name, l) in local {
        match deployed.remove(&name) {
            None => diff.only_local.push(l),
            Some(d) if d == l => diff.same += 1,
            Some(d) => diff.differing.push(BindingChange {
                name,
                local: l,
                deployed: d,
            }),
        }
    }
    diff.only_deployed = deployed.into_values().collect();
    diff
}
/// The text of the wrangler config at `path` (a service folder or the file itself).
pub(crate) async fn read_wrangler_config(path: &std::path::Path) -> Result<String, AppError> {
    if path.as_os_str().is_empty() {
        return Err(AppError::invalid_input(
            "Choose the service folder (the one with wrangler.jsonc), or paste its path.",
        ));
    }
    let file = if tokio::fs::metadata(path)
        .await
        .map(|m| m.is_dir())
        .unwrap_or(false)
    {
        let jsonc = path.join("wrangler.jsonc");
        if tokio::fs::try_exists(&jsonc).await.unwrap_or(false) {
            jsonc
        } else {
            path.join("wrangler.json")
        }
    } else {
        path.to_path_buf()
    };
    tokio::fs::read_to_string(&file).await.map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::NotFound {
            "does not exist"
        } else {
            "cannot be read"
        };
        AppError::invalid_input(format!(
            "{} {what} ({e}). Choose a service folder that contains wrangler.jsonc.",
            file.display()
        ))
    })
}
