//! What the router loads for a script: its modules (typed by content type), compatibility date
//! and flags, its `env` (plain-text, JSON and secret bindings, and the secrets) and its service
//! bindings.

use std::collections::BTreeMap;

use base64::Engine;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::DEFAULT_COMPAT_DATE;

/// What the router loads for a script: modules, compatibility, env and service bindings.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CodePackage {
    main_module: String,
    modules: Map<String, Value>,
    compatibility_date: String,
    compatibility_flags: Vec<String>,
    env: Map<String, Value>,
    services: Map<String, Value>,
}

impl CodePackage {
    pub(crate) fn from_parts<'a>(
        main_module: &str,
        modules: impl Iterator<Item = (&'a str, &'a str, &'a [u8])>,
        settings: &Map<String, Value>,
        secrets: &BTreeMap<String, String>,
    ) -> Result<CodePackage, String> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut out = Map::new();
        for (name, content_type, bytes) in modules {
            let text = || {
                String::from_utf8(bytes.to_vec())
                    .map_err(|_| format!("Module \"{name}\" ({content_type}) is not valid UTF-8"))
            };
            let ct = content_type.split(';').next().unwrap_or("").trim();
            let module = match ct {
                "application/javascript+module" | "text/javascript+module" => {
                    json!({"js": text()?})
                }
                "application/javascript" | "text/javascript"
                    if name.ends_with(".mjs") || name == main_module =>
                {
                    json!({"js": text()?})
                }
                "application/javascript"
                | "text/javascript"
                | "application/javascript+commonjs" => {
                    json!({"cjs": text()?})
                }
                "application/json" => {
                    let v: Value = serde_json::from_slice(bytes)
                        .map_err(|e| format!("Module \"{name}\" is not valid JSON: {e}"))?;
                    json!({"json": v})
                }
                "application/wasm" => json!({"wasm_b64": b64.encode(bytes)}),
                "text/plain" => json!({"text": text()?}),
                _ => json!({"data_b64": b64.encode(bytes)}),
            };
            out.insert(name.to_owned(), module);
        }
        if !out.contains_key(main_module) {
            return Err(format!(
                "The main module \"{main_module}\" is not among the uploaded parts"
            ));
        }
        let mut env = Map::new();
        let mut services = Map::new();
        for b in settings
            .get("bindings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(kind)) = (b["name"].as_str(), b["type"].as_str()) else {
                continue;
            };
            match kind {
                "plain_text" | "secret_text" => {
                    if let Some(t) = b["text"].as_str() {
                        env.insert(name.into(), Value::String(t.into()));
                    }
                }
                "json" => {
                    env.insert(name.into(), b["json"].clone());
                }
                "service" => {
                    if let Some(s) = b["service"].as_str() {
                        services.insert(name.into(), Value::String(s.into()));
                    }
                }
                _ => {}
            }
        }
        for (name, value) in secrets {
            env.insert(name.clone(), Value::String(value.clone()));
        }
        let compatibility_date = settings
            .get("compatibility_date")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .unwrap_or(DEFAULT_COMPAT_DATE)
            .to_owned();
        let compatibility_flags = settings
            .get("compatibility_flags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok(CodePackage {
            main_module: main_module.to_owned(),
            modules: out,
            compatibility_date,
            compatibility_flags,
            env,
            services,
        })
    }
}
