//! Bindings edited in place: the service bindings (`services`) of a service folder's
//! `wrangler.jsonc`, added, renamed, pointed at another service or removed through a form —
//! with the file's comments, order and formatting kept (jsonc-parser's CST edits the file as
//! written; nothing is reformatted), each bound service checked in the profile's dispatch
//! namespace, and the change shown twice before it is saved: as the file's diff, and against
//! the bindings the deployed worker has.
//!
//! **Plan, then apply.** [`Ops::plan_bindings_edit`] reads the file, applies the edits to its
//! text in memory and says what would change; the plan carries the SHA-256 of the file it read.
//! [`Ops::apply_bindings_edit`] redoes the same edits on the file as it is now and refuses with
//! `Conflict` when it changed since the plan (the operator reviews the new plan); otherwise it
//! writes the file atomically (a temporary file in the same folder, renamed over it).
//!
//! **`src/index.ts`.** A template writes the `interface Env` of `src/index.ts` with one member per
//! service binding (`DB_SERVICE: Fetcher // the db service`, sorted by name). When that block is
//! exactly what the template wrote for the file's current bindings (and nothing else in the
//! interface names a `Fetcher`), it is rewritten for the new bindings; otherwise it is left as it
//! is and the result says so, with the members to add by hand.
//!
//! **Bindings change only on deploy** (the runbook's "Adding a service binding"): saving the file
//! changes nothing that runs. The result says so and names the service folder to redeploy.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use switchyard_core::{validate, AppError, ErrorCode, Profile};

use crate::namespaces::{local_bindings, BindingKind, BindingsDiff};
use crate::{BundleSide, CodeDiff, Ops};

/// Edits in one plan at most.
pub const MAX_BINDING_EDITS: usize = 64;
/// The largest wrangler config read (bytes): far more than any real one.
pub const MAX_WRANGLER_BYTES: usize = 1024 * 1024;
/// The largest `src/index.ts` whose `Env` interface is updated (bytes).
const MAX_INDEX_BYTES: usize = 4 * 1024 * 1024;

/// One service binding of a wrangler config, in the file's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ServiceBindingRow {
    /// The binding's name: a member of `env` in the worker (`DB_SERVICE`).
    pub binding: String,
    /// The service (worker) it calls.
    pub service: String,
    /// The named entrypoint (a `WorkerEntrypoint` class) it calls, if not the default export.
    pub entrypoint: Option<String>,
}

/// A service folder's bindings as its wrangler config has them now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct FolderBindings {
    /// The service folder.
    pub folder: String,
    /// The wrangler config read (`wrangler.jsonc`, else `wrangler.json`).
    pub file: String,
    /// SHA-256 of the file's bytes as read.
    pub sha256: String,
    /// The config's `name` (the worker the folder deploys as), when it has one.
    pub worker_name: Option<String>,
    /// The service bindings, in the file's order.
    pub bindings: Vec<ServiceBindingRow>,
    /// Plain-text variables (`vars`) by name: not edited here, listed so the form can refuse a
    /// binding named like one.
    pub vars: Vec<String>,
}

/// One change to the service bindings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum BindingEdit {
    /// A new binding, appended to `services`.
    #[serde(rename_all = "camelCase")]
    Add {
        binding: String,
        service: String,
        entrypoint: Option<String>,
    },
    /// The binding `from` renamed to `to` (same service).
    #[serde(rename_all = "camelCase")]
    Rename { from: String, to: String },
    /// The binding pointed at another service or entrypoint (`None`: the default export).
    #[serde(rename_all = "camelCase")]
    Retarget {
        binding: String,
        service: String,
        entrypoint: Option<String>,
    },
    /// The binding removed (with the comments on its line).
    #[serde(rename_all = "camelCase")]
    Remove { binding: String },
}

/// A plan or an apply: which folder, which edits. `base_sha256` is the plan's (apply only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BindingsEditRequest {
    pub profile_id: String,
    /// The service folder (or its wrangler.jsonc).
    pub folder: String,
    pub edits: Vec<BindingEdit>,
    /// The SHA-256 of the file the plan read; apply refuses when the file is no longer that.
    pub base_sha256: Option<String>,
}

/// Whether a bound service exists in the dispatch namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BoundServiceCheck {
    /// The bindings that call it.
    pub bindings: Vec<String>,
    pub service: String,
    /// `Some(false)`: no worker of that name in the namespace; `None`: not known (see `note`).
    pub exists: Option<bool>,
    pub note: Option<String>,
}

/// What becomes of `src/index.ts`'s `interface Env`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct EnvInterfaceUpdate {
    /// The block is the template's and is (or was) rewritten for the new bindings.
    pub updated: bool,
    /// In words: what was done, or why not and what to do.
    pub note: String,
    /// The members the new bindings need, as the template writes them (`DB_SERVICE: Fetcher`).
    pub members: Vec<String>,
}

/// What an edit of the bindings would do; nothing is written yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BindingsEditPlan {
    pub folder: String,
    pub file: String,
    /// The SHA-256 of the file read: give it back to apply.
    pub base_sha256: String,
    /// The file's new text, and its SHA-256.
    pub new_text: String,
    pub new_sha256: String,
    /// The file's diff (old: the file now; new: after the edit).
    pub file_diff: CodeDiff,
    /// The service bindings after the edit, in the file's order.
    pub bindings: Vec<ServiceBindingRow>,
    /// The profile's dispatch namespace, where services and the worker are looked up.
    pub namespace: String,
    /// The worker the folder deploys as (the config's `name`).
    pub worker: String,
    /// Each bound service after the edit, looked up in `namespace`.
    pub services: Vec<BoundServiceCheck>,
    /// The services not found in `namespace` (their calls would fail once deployed).
    pub missing_services: Vec<String>,
    /// The edited file against the deployed worker's bindings; `None` when not known.
    pub deployed: Option<BindingsDiff>,
    /// Why `deployed` is missing, or what it means.
    pub deployed_note: String,
    pub env_interface: EnvInterfaceUpdate,
    /// Things the operator should know (e.g. what the Deploy API does not send).
    pub notes: Vec<String>,
}

/// What saving the bindings did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BindingsEditApplied {
    pub folder: String,
    pub file: String,
    /// The file's SHA-256 now.
    pub sha256: String,
    pub bindings: Vec<ServiceBindingRow>,
    pub env_interface: EnvInterfaceUpdate,
    /// Always true: bindings change only when the service is deployed again.
    pub redeploy_needed: bool,
    /// The worker to redeploy (the config's `name`), for the deploy form.
    pub worker: String,
    /// In words: what was saved and what to do next.
    pub message: String,
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// A binding name or an entrypoint: a JavaScript identifier of letters, digits and '_'.
fn check_identifier(field: &str, value: &str, what: &str, example: &str) -> Result<(), AppError> {
    let ok = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && value.len() <= 64
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        return Ok(());
    }
    Err(AppError::invalid_input(format!(
        "{field}: {} is not {what} — use letters, digits and '_', starting with a letter (at most 64), for example {example}.",
        validate::shown(value)
    )))
}

fn check_binding(field: &str, value: &str) -> Result<(), AppError> {
    check_identifier(field, value, "a binding name", "DB_SERVICE")
}

fn check_entrypoint(field: &str, value: Option<&str>) -> Result<(), AppError> {
    validate::opt(value, |e| {
        check_identifier(field, e, "an entrypoint (a class name)", "DbService")
    })
}

/// Every field of every edit, named (`edits[2].service`).
pub fn check_edits(field: &str, edits: &[BindingEdit]) -> Result<(), AppError> {
    if edits.is_empty() {
        return Err(AppError::invalid_input(format!(
            "{field}: there is nothing to change — add, rename or remove a binding first."
        )));
    }
    validate::count(field, edits.len(), MAX_BINDING_EDITS)?;
    for (i, e) in edits.iter().enumerate() {
        let at = |m: &str| format!("{field}[{i}].{m}");
        match e {
            BindingEdit::Add {
                binding,
                service,
                entrypoint,
            }
            | BindingEdit::Retarget {
                binding,
                service,
                entrypoint,
            } => {
                check_binding(&at("binding"), binding)?;
                validate::script(&at("service"), service)?;
                check_entrypoint(&at("entrypoint"), entrypoint.as_deref())?;
            }
            BindingEdit::Rename { from, to } => {
                // The old name is matched as written in the file: bounded, not judged.
                validate::line(&at("from"), from, validate::LABEL_MAX)?;
                check_binding(&at("to"), to)?;
            }
            BindingEdit::Remove { binding } => {
                validate::line(&at("binding"), binding, validate::LABEL_MAX)?;
            }
        }
    }
    Ok(())
}

/// Check a request's fields (the shell calls it first; the engine again).
pub fn check_request(field: &str, req: &BindingsEditRequest) -> Result<(), AppError> {
    validate::profile_id(&format!("{field}.profileId"), &req.profile_id)?;
    validate::path(&format!("{field}.folder"), &req.folder)?;
    check_edits(&format!("{field}.edits"), &req.edits)?;
    validate::opt(req.base_sha256.as_deref(), |s| {
        validate::sha256(&format!("{field}.baseSha256"), s)
    })
}

// ---------------------------------------------------------------------------------------------
// Reading.

mod env;
mod jsonc;

use env::*;
use jsonc::*;

/// A configuration file with the edits applied: its bindings before and after, the text to
/// write, and the worker it deploys (its `name`, or the folder's).
struct Edited {
    old_rows: Vec<ServiceBindingRow>,
    new_text: String,
    rows: Vec<ServiceBindingRow>,
    worker: String,
}

fn edited(cfg: &ConfigFile, edits: &[BindingEdit]) -> Result<Edited, AppError> {
    let ConfigBindings {
        rows: old_rows,
        worker_name,
        ..
    } = read_rows(&cfg.text)?;
    let new_text = edit_text(&cfg.text, edits)?;
    let ConfigBindings { rows, .. } = read_rows(&new_text)?;
    Ok(Edited {
        old_rows,
        new_text,
        rows,
        worker: worker_name.unwrap_or_else(|| file_name_of(&cfg.folder)),
    })
}

impl Ops {
    /// A service folder's bindings as its wrangler config has them now, with the file's SHA-256.
    pub async fn folder_bindings(&self, folder: &str) -> Result<FolderBindings, AppError> {
        validate::path("folder", folder)?;
        let cfg = read_config(folder).await?;
        let ConfigBindings {
            rows: bindings,
            vars,
            worker_name,
        } = read_rows(&cfg.text)
            .map_err(|e| AppError::new(e.code, format!("{}: {}", cfg.file.display(), e.message)))?;
        Ok(FolderBindings {
            folder: cfg.folder.display().to_string(),
            file: cfg.file.display().to_string(),
            sha256: cfg.sha256,
            worker_name,
            bindings,
            vars,
        })
    }

    /// What the edits would do (nothing is written): the file's new text and diff, each bound
    /// service looked up in the profile's dispatch namespace, the difference with what the
    /// deployed worker has, and what becomes of `src/index.ts`'s `Env`.
    pub async fn plan_bindings_edit(
        &self,
        req: &BindingsEditRequest,
    ) -> Result<BindingsEditPlan, AppError> {
        check_request("request", req)?;
        let profile = self.store.get_profile(&req.profile_id).await?;
        let cfg = read_config(&req.folder).await?;
        let Edited {
            old_rows,
            new_text,
            rows,
            worker,
        } = edited(&cfg, &req.edits)?;
        let file_name = file_name(&cfg.file);
        let namespace = profile.namespace.clone();

        let services = self.check_services(&profile, &namespace, &rows).await;
        let missing_services = services
            .iter()
            .filter(|s| s.exists == Some(false))
            .map(|s| s.service.clone())
            .collect();
        let (deployed, deployed_note) = match self
            .compare_bindings(&profile.id, &namespace, &worker, new_text.clone())
            .await
        {
            Ok(d) => {
                let note = if d.only_local.is_empty()
                    && d.only_deployed.is_empty()
                    && d.differing.is_empty()
                {
                    format!("After the change the file's bindings match what {worker} in {namespace} has.")
                } else {
                    format!("What {worker} in {namespace} has now against the edited file: the next deploy of the folder brings the difference.")
                };
                (Some(d), note)
            }
            Err(e) if e.code == ErrorCode::NotFound => (
                None,
                format!("Nothing is deployed as {worker} in {namespace}: every binding is new on its first deploy."),
            ),
            Err(e) => (
                None,
                format!("The deployed bindings of {worker} could not be read: {}", e.message),
            ),
        };
        let (env_interface, _) = plan_env(&cfg.folder, &old_rows, &rows).await;
        let mut notes = Vec::new();
        if rows.iter().any(|r| r.entrypoint.is_some()) {
            notes.push("An entrypoint is kept in wrangler.jsonc (wrangler uses it), but the Deploy API sends each binding as binding → service only.".to_owned());
        }
        Ok(BindingsEditPlan {
            folder: cfg.folder.display().to_string(),
            file: cfg.file.display().to_string(),
            base_sha256: cfg.sha256,
            new_sha256: sha256_hex(new_text.as_bytes()),
            file_diff: text_diff(&file_name, &cfg.text, &new_text),
            new_text,
            bindings: rows,
            namespace,
            worker,
            services,
            missing_services,
            deployed,
            deployed_note,
            env_interface,
            notes,
        })
    }

    /// Save the edits: refused with `Conflict` when the file is no longer the one planned
    /// (`base_sha256`); written atomically; `src/index.ts`'s `Env` updated when it is the
    /// template's; recorded in the audit log. Nothing is deployed: the result says to redeploy.
    pub async fn apply_bindings_edit(
        &self,
        req: &BindingsEditRequest,
    ) -> Result<BindingsEditApplied, AppError> {
        check_request("request", req)?;
        let Some(base) = req.base_sha256.clone() else {
            return Err(AppError::invalid_input(
                "request.baseSha256: it is missing — review the changes first (the plan gives it), then save.",
            ));
        };
        let params = serde_json::json!({
            "folder": req.folder,
            "edits": req.edits,
            "baseSha256": base,
        });
        let target = req.folder.clone();
        self.audited(&req.profile_id, "bindings.edit", &target, params, async {
            // The profile must exist (the audit entry names it).
            self.store.get_profile(&req.profile_id).await?;
            let cfg = read_config(&req.folder).await?;
            if !cfg.sha256.eq_ignore_ascii_case(&base) {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    format!(
                        "{} changed since you reviewed the changes (someone or something saved it). Nothing was written: review the changes again.",
                        cfg.file.display()
                    ),
                ));
            }
            let Edited {
                old_rows,
                new_text,
                rows,
                worker,
            } = edited(&cfg, &req.edits)?;
            let (env_interface, env_write) = plan_env(&cfg.folder, &old_rows, &rows).await;
            write_atomic(&cfg.file, &new_text)?;
            let mut env_interface = env_interface;
            if let Some((path, text)) = env_write {
                if let Err(e) = write_atomic(&path, &text) {
                    env_interface.updated = false;
                    env_interface.note = format!(
                        "wrangler.jsonc was saved, but src/index.ts's Env interface could not be: {}",
                        e.message
                    );
                }
            }
            let message = format!(
                "Saved {}. Bindings change only when the service is deployed: redeploy {worker} from this folder for the change to take effect.",
                file_name(&cfg.file)
            );
            Ok(BindingsEditApplied {
                folder: cfg.folder.display().to_string(),
                file: cfg.file.display().to_string(),
                sha256: sha256_hex(new_text.as_bytes()),
                bindings: rows,
                env_interface,
                redeploy_needed: true,
                worker,
                message,
            })
        })
        .await
    }

    /// Each distinct bound service looked up in `namespace`.
    async fn check_services(
        &self,
        profile: &Profile,
        namespace: &str,
        rows: &[ServiceBindingRow],
    ) -> Vec<BoundServiceCheck> {
        let mut by_service: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in rows {
            by_service
                .entry(r.service.clone())
                .or_default()
                .push(r.binding.clone());
        }
        // The profile's Cloudflare client (its token named when missing), from its context.
        let api = match self.for_profile(&profile.id).await {
            Ok(context) => context.cloudflare(),
            Err(e) => Err(e),
        };
        let mut out = Vec::new();
        for (service, bindings) in by_service {
            let (exists, note) = match &api {
                Err(e) => (None, Some(format!("Not checked: {}", e.message))),
                Ok(api) => match api.get_script(namespace, &service).await {
                    Ok(_) => (Some(true), None),
                    Err(e) if e.code == ErrorCode::NotFound => (
                        Some(false),
                        Some(format!(
                            "No worker named {service} in {namespace}: calls through this binding fail until it is deployed there."
                        )),
                    ),
                    Err(e) => (None, Some(format!("Not checked: {}", e.message))),
                },
            };
            out.push(BoundServiceCheck {
                bindings,
                service,
                exists,
                note,
            });
        }
        out
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "wrangler.jsonc".to_owned())
}

fn file_name_of(folder: &Path) -> String {
    folder
        .canonicalize()
        .ok()
        .as_deref()
        .unwrap_or(folder)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
