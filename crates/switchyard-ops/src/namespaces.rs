//! Dispatch namespaces and their workers: list, create, trust, rename, delete (typed
//! confirmation), the workers of a namespace with their deploy tags, one worker's detail, and
//! drift: between two namespaces, and between a wrangler.jsonc and what is deployed.

use std::collections::BTreeMap;

use serde::Serialize;
use switchyard_clients::{Namespace, NamespaceScript, NamespaceUpdate};
use switchyard_core::{AppError, ErrorCode, Profile, Protection};

use crate::Ops;

mod bindings;
pub(crate) use bindings::local_bindings;
use bindings::*;

/// How many worker names a delete plan lists.
const PLAN_SCRIPT_NAMES: usize = 20;

/// A dispatch namespace as the Namespaces table shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSummary {
    pub name: String,
    pub id: Option<String>,
    pub script_count: u32,
    pub trusted_workers: bool,
    /// ISO 8601, as Cloudflare writes it.
    pub created_on: Option<String>,
    pub modified_on: Option<String>,
}

impl From<Namespace> for NamespaceSummary {
    fn from(n: Namespace) -> Self {
        NamespaceSummary {
            name: n.namespace_name,
            id: n.namespace_id,
            script_count: n.script_count.unwrap_or(0).min(u64::from(u32::MAX)) as u32,
            trusted_workers: n.trusted_workers.unwrap_or(false),
            created_on: n.created_on,
            modified_on: n.modified_on,
        }
    }
}

/// What deleting a namespace would remove; the user must type `confirm_phrase` to go ahead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DeletePlan {
    pub namespace: String,
    pub script_count: u32,
    /// The first worker names (at most 20), sorted.
    pub scripts: Vec<String>,
    /// What the user must type, exactly: the namespace's name.
    pub confirm_phrase: String,
    /// The destructive button's label, e.g. "Delete namespace dotdo-staging and its 8 workers".
    pub action: String,
}

/// One worker of a namespace, with what its deploy tags say
/// (`service:x env:y commit:z branch:b version:v`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorkerRow {
    pub name: String,
    pub tags: Vec<String>,
    pub service: Option<String>,
    pub environment: Option<String>,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub version: Option<String>,
    pub created_on: Option<String>,
    pub modified_on: Option<String>,
}

impl WorkerRow {
    pub(crate) fn from_script(s: NamespaceScript) -> WorkerRow {
        let tags = s.script.tags.unwrap_or_default();
        let tag = |key: &str| {
            tags.iter()
                .filter_map(|t| t.split_once(':'))
                .find(|(k, v)| *k == key && !v.is_empty())
                .map(|(_, v)| v.to_owned())
        };
        WorkerRow {
            service: tag("service"),
            environment: tag("env"),
            commit: tag("commit"),
            branch: tag("branch"),
            version: tag("version"),
            name: s.script.id,
            created_on: s.created_on.or(s.script.created_on),
            modified_on: s.modified_on.or(s.script.modified_on),
            tags,
        }
    }

    fn revision(&self) -> WorkerRevision {
        WorkerRevision {
            version: self.version.clone(),
            commit: self.commit.clone(),
        }
    }
}

/// One page of a namespace's workers, as it arrived ([`Ops::list_workers_by_page`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorkerPage {
    /// This page's workers, sorted by name.
    pub rows: Vec<WorkerRow>,
    /// How many workers have arrived so far, this page's included.
    pub loaded: u32,
}

/// One worker in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorkerDetail {
    pub row: WorkerRow,
    /// The bindings as Cloudflare lists them (`{type, name, …}`).
    #[cfg_attr(feature = "specta", specta(type = Vec<specta_typescript::Unknown>))]
    pub bindings: Vec<serde_json::Value>,
    /// The script settings as Cloudflare returns them.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Unknown))]
    pub settings: serde_json::Value,
    /// Size of the script's content in bytes.
    pub size_bytes: u32,
}

/// Which build of a worker a namespace runs, as its tags say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorkerRevision {
    pub version: Option<String>,
    pub commit: Option<String>,
}

/// A worker present in both namespaces with different builds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DriftEntry {
    pub name: String,
    pub left: WorkerRevision,
    pub right: WorkerRevision,
}

/// How two namespaces differ, worker by worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub left: String,
    pub right: String,
    pub only_left: Vec<String>,
    pub only_right: Vec<String>,
    pub differing: Vec<DriftEntry>,
    pub same: u32,
}

/// The kind of a binding the comparison understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum BindingKind {
    /// A service binding (`services` in wrangler; `type: service` deployed).
    Service,
    /// A plain-text variable (`vars` in wrangler; `type: plain_text` deployed).
    Var,
}

/// One binding: its name, kind and target (the service, or the variable's text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    pub name: String,
    pub kind: BindingKind,
    pub value: String,
}

/// A binding both sides have, with different kinds or targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BindingChange {
    pub name: String,
    pub local: Binding,
    pub deployed: Binding,
}

/// How a local wrangler.jsonc's bindings differ from the deployed worker's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BindingsDiff {
    pub only_local: Vec<Binding>,
    pub only_deployed: Vec<Binding>,
    pub differing: Vec<BindingChange>,
    pub same: u32,
}

/// Refuse a namespace name that Cloudflare or a URL path would trip over, saying what is wrong.
fn check_namespace_name(name: &str) -> Result<(), AppError> {
    if name.is_empty() {
        return Err(AppError::invalid_input(
            "The namespace needs a name: type one, for example dotdo-staging.",
        ));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(AppError::invalid_input(format!(
            "The namespace name \"{name}\" contains a space or line break; use dashes instead, for example dotdo-staging."
        )));
    }
    if name.contains('/') {
        return Err(AppError::invalid_input(format!(
            "The namespace name \"{name}\" contains \"/\", which cannot be part of a namespace name; use dashes instead."
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid_input(
            "The namespace name contains a control character; retype it.",
        ));
    }
    Ok(())
}

/// Refuse a mutation on a read-only profile, saying why and what to do.
pub(crate) fn check_writable(profile: &Profile, what: &str) -> Result<(), AppError> {
    if profile.protection == Protection::ReadOnly {
        // The profile's own setting, not the platform's permissions.
        return Err(AppError::read_only(&profile.name, what));
    }
    Ok(())
}

fn diff_namespaces(left: &str, right: &str, l: Vec<WorkerRow>, r: Vec<WorkerRow>) -> Drift {
    let mut right_rows: BTreeMap<String, WorkerRow> =
        r.into_iter().map(|w| (w.name.clone(), w)).collect();
    let left_rows: BTreeMap<String, WorkerRow> =
        l.into_iter().map(|w| (w.name.clone(), w)).collect();
    let mut drift = Drift {
        left: left.to_owned(),
        right: right.to_owned(),
        only_left: Vec::new(),
        only_right: Vec::new(),
        differing: Vec::new(),
        same: 0,
    };
    for (name, lw) in left_rows {
        match right_rows.remove(&name) {
            None => drift.only_left.push(name),
            Some(rw) if lw.revision() == rw.revision() => drift.same += 1,
            Some(rw) => drift.differing.push(DriftEntry {
                name,
                left: lw.revision(),
                right: rw.revision(),
            }),
        }
    }
    drift.only_right = right_rows.into_keys().collect();
    drift
}

impl Ops {
    /// Hold namespace `name` for `action` (one change of a namespace and its workers at a time).
    pub(crate) fn hold_namespace(
        &self,
        profile: &Profile,
        name: &str,
        action: &str,
    ) -> Result<crate::target_lock::TargetGuard, AppError> {
        self.hold_target(
            profile,
            crate::target_lock::LockTarget::Namespace { name },
            action,
            "",
        )
    }

    /// Every dispatch namespace of the profile's account, sorted by name.
    pub async fn list_namespaces(
        &self,
        profile_id: &str,
    ) -> Result<Vec<NamespaceSummary>, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let api = profile.cloudflare()?;
        let mut list: Vec<NamespaceSummary> = api
            .list_namespaces()
            .await?
            .into_iter()
            .map(NamespaceSummary::from)
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    /// Create a namespace named `name`.
    pub async fn create_namespace(
        &self,
        profile_id: &str,
        name: &str,
    ) -> Result<NamespaceSummary, AppError> {
        let params = serde_json::json!({ "name": name });
        self.audited(profile_id, "namespace.create", name, params, async {
            let profile = self.for_profile(profile_id).await?;
            check_writable(&profile, "creating a namespace")?;
            check_namespace_name(name)?;
            let _held = self.hold_namespace(&profile, name, "creating the namespace")?;
            let api = profile.cloudflare()?;
            Ok(api.create_namespace(name).await?.into())
        })
        .await
    }

    /// Turn trusted mode of `name` on or off (PATCH; the name stays).
    pub async fn set_trusted(
        &self,
        profile_id: &str,
        name: &str,
        trusted: bool,
    ) -> Result<NamespaceSummary, AppError> {
        let params = serde_json::json!({ "trusted": trusted });
        self.audited(profile_id, "namespace.trust", name, params, async {
            let profile = self.for_profile(profile_id).await?;
            check_writable(&profile, "changing trusted mode")?;
            let _held = self.hold_namespace(&profile, name, "a change of trusted mode")?;
            let api = profile.cloudflare()?;
            let update = NamespaceUpdate {
                name: None,
                trusted_workers: Some(trusted),
            };
            Ok(api.update_namespace(name, &update).await?.into())
        })
        .await
    }

    /// Rename `old` to `new` (PUT with both fields, keeping trusted mode as it is).
    pub async fn rename_namespace(
        &self,
        profile_id: &str,
        old: &str,
        new: &str,
    ) -> Result<NamespaceSummary, AppError> {
        let params = serde_json::json!({ "from": old, "to": new });
        self.audited(profile_id, "namespace.rename", old, params, async {
            let profile = self.for_profile(profile_id).await?;
            check_writable(&profile, "renaming a namespace")?;
            check_namespace_name(new)?;
            if old == new {
                return Err(AppError::invalid_input(format!(
                    "The new name is the same as the old one (\"{old}\"); type a different name."
                )));
            }
            let _held = self.hold_namespace(&profile, old, "renaming the namespace")?;
            let _held_new =
                self.hold_namespace(&profile, new, "renaming a namespace to this name")?;
            let api = profile.cloudflare()?;
            let current = api.get_namespace(old).await?;
            let trusted = current.trusted_workers.unwrap_or(false);
            Ok(api.put_namespace(old, new, trusted).await?.into())
        })
        .await
    }

    /// What deleting `name` would remove, and the phrase the user must type.
    pub async fn delete_namespace_plan(
        &self,
        profile_id: &str,
        name: &str,
    ) -> Result<DeletePlan, AppError> {
        let profile = self.for_profile(profile_id).await?;
        check_writable(&profile, "deleting a namespace")?;
        let api = profile.cloudflare()?;
        // Read the namespace first, so a missing one says "not found" rather than "0 workers".
        api.get_namespace(name).await?;
        let mut names: Vec<String> = api
            .list_scripts(name, &[])
            .await?
            .into_iter()
            .map(|s| s.script.id)
            .collect();
        names.sort();
        let script_count = names.len().min(u32::MAX as usize) as u32;
        names.truncate(PLAN_SCRIPT_NAMES);
        let action = match script_count {
            0 => format!("Delete namespace {name} (it has no workers)"),
            1 => format!("Delete namespace {name} and its 1 worker"),
            n => format!("Delete namespace {name} and its {n} workers"),
        };
        Ok(DeletePlan {
            namespace: name.to_owned(),
            script_count,
            scripts: names,
            confirm_phrase: name.to_owned(),
            action,
        })
    }

    /// Delete `name` and every worker in it, only when `typed_confirmation` is exactly its name
    /// and, when `planned_script_count` is given (the window always gives its plan's), the
    /// namespace still holds that many workers: the operator confirmed what the plan counted.
    pub async fn delete_namespace(
        &self,
        profile_id: &str,
        name: &str,
        typed_confirmation: String,
        planned_script_count: Option<u32>,
    ) -> Result<(), AppError> {
        let params = serde_json::json!({ "plannedScriptCount": planned_script_count });
        self.audited(profile_id, "namespace.delete", name, params, async {
            let profile = self.for_profile(profile_id).await?;
            check_writable(&profile, "deleting a namespace")?;
            if typed_confirmation != name {
                return Err(AppError::invalid_input(format!(
                    "Nothing was deleted: the confirmation must be the namespace's name, \"{name}\", typed exactly."
                )));
            }
            let _held = self.hold_namespace(&profile, name, "deleting the namespace")?;
            let api = profile.cloudflare()?;
            if let Some(planned) = planned_script_count {
                let now = api.list_scripts(name, &[]).await?.len();
                if now != planned as usize {
                    return Err(AppError::new(
                        ErrorCode::Conflict,
                        format!(
                            "Nothing was deleted: the plan you confirmed counted {planned} worker(s) in {name}, but it holds {now} now. Workers came or went in between: look at the new plan and confirm again."
                        ),
                    ));
                }
            }
            api.delete_namespace(name).await
        })
        .await
    }

    /// Every worker of `namespace` with its parsed tags, sorted by name. One listing, no
    /// per-worker calls, so it stays fast for namespaces of many thousand workers.
    pub async fn list_workers(
        &self,
        profile_id: &str,
        namespace: &str,
    ) -> Result<Vec<WorkerRow>, AppError> {
        let mut rows: Vec<WorkerRow> = Vec::new();
        self.list_workers_by_page(profile_id, namespace, |page| rows.extend(page.rows))
            .await?;
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows)
    }

    /// The workers of `namespace` handed to `on_page` one page at a time, as Cloudflare
    /// answers them (1,000 a page), so the first can be on screen while the rest arrive; each
    /// page sorted by name. Answers how many were listed. On an error the pages already handed
    /// over stay valid: the error says how many had arrived.
    pub async fn list_workers_by_page(
        &self,
        profile_id: &str,
        namespace: &str,
        mut on_page: impl FnMut(WorkerPage),
    ) -> Result<u32, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let api = profile.cloudflare()?;
        let mut loaded: u32 = 0;
        let listed = api
            .list_scripts_by_page(namespace, &[], |page| {
                let mut rows: Vec<WorkerRow> =
                    page.into_iter().map(WorkerRow::from_script).collect();
                rows.sort_by(|a, b| a.name.cmp(&b.name));
                loaded = loaded.saturating_add(rows.len().min(u32::MAX as usize) as u32);
                on_page(WorkerPage { rows, loaded });
            })
            .await;
        match listed {
            Ok(()) => Ok(loaded),
            Err(e) if loaded > 0 => Err(AppError {
                message: format!(
                    "{} The {loaded} workers listed before it are kept; retry to list them all.",
                    e.message
                ),
                ..e
            }),
            Err(e) => Err(e),
        }
    }

    /// One worker: its row, bindings, settings and size.
    pub async fn worker_detail(
        &self,
        profile_id: &str,
        namespace: &str,
        script: &str,
    ) -> Result<WorkerDetail, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let api = profile.cloudflare()?;
        let (info, bindings, settings, content) = tokio::try_join!(
            api.get_script(namespace, script),
            api.script_bindings(namespace, script),
            api.script_settings(namespace, script),
            api.script_content(namespace, script),
        )?;
        Ok(WorkerDetail {
            row: WorkerRow::from_script(info),
            bindings,
            settings,
            size_bytes: content.len().min(u32::MAX as usize) as u32,
        })
    }

    /// A worker's source as text (invalid UTF-8 shown as �).
    pub async fn worker_content(
        &self,
        profile_id: &str,
        namespace: &str,
        script: &str,
    ) -> Result<String, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let api = profile.cloudflare()?;
        let bytes = api.script_content(namespace, script).await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Delete one worker from `namespace`.
    /// Deletes one worker. Like a namespace, it needs its name typed exactly: the engine checks
    /// it (the window is not trusted with it), whatever the profile.
    pub async fn delete_worker(
        &self,
        profile_id: &str,
        namespace: &str,
        script: &str,
        typed_confirmation: &str,
    ) -> Result<(), AppError> {
        let target = format!("{namespace}/{script}");
        let params = serde_json::json!({ "namespace": namespace, "script": script });
        self.audited(profile_id, "worker.delete", &target, params, async {
            let profile = self.for_profile(profile_id).await?;
            check_writable(&profile, "deleting a worker")?;
            if typed_confirmation != script {
                return Err(AppError::invalid_input(format!(
                    "Nothing was deleted: the confirmation must be the worker's name, \"{script}\", typed exactly."
                )));
            }
            let _held = self.hold_namespace(&profile, namespace, &format!("deleting worker {script}"))?;
            let api = profile.cloudflare()?;
            api.delete_script(namespace, script).await
        })
        .await
    }

    /// Which workers are only in `left`, only in `right`, or in both with a different build
    /// (by their `version:` and `commit:` tags).
    pub async fn compare_namespaces(
        &self,
        profile_id: &str,
        left: &str,
        right: &str,
    ) -> Result<Drift, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let api = profile.cloudflare()?;
        let (l, r) = tokio::try_join!(api.list_scripts(left, &[]), api.list_scripts(right, &[]))?;
        let rows = |list: Vec<NamespaceScript>| -> Vec<WorkerRow> {
            list.into_iter().map(WorkerRow::from_script).collect()
        };
        Ok(diff_namespaces(left, right, rows(l), rows(r)))
    }

    /// Compare the `services` and `vars` of a wrangler.jsonc (comments and trailing commas
    /// allowed) with the deployed worker's service and plain-text bindings.
    pub async fn compare_bindings(
        &self,
        profile_id: &str,
        namespace: &str,
        script: &str,
        wrangler_jsonc_text: String,
    ) -> Result<BindingsDiff, AppError> {
        let local = local_bindings(&wrangler_jsonc_text)?;
        let profile = self.for_profile(profile_id).await?;
        let api = profile.cloudflare()?;
        let deployed = api.script_bindings(namespace, script).await?;
        Ok(diff_bindings(local, deployed_bindings(&deployed)))
    }

    /// [`Ops::compare_bindings`] with the wrangler config of a local service folder: `path` is
    /// the folder (its `wrangler.jsonc`, else `wrangler.json`, is read) or the file itself.
    pub async fn compare_bindings_in_folder(
        &self,
        profile_id: &str,
        namespace: &str,
        script: &str,
        path: &std::path::Path,
    ) -> Result<BindingsDiff, AppError> {
        let text = read_wrangler_config(path).await?;
        self.compare_bindings(profile_id, namespace, script, text)
            .await
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    fn fuzz_cases() -> u32 {
        std::env::var("SWITCHYARD_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64)
    }

    /// Pieces of a wrangler.jsonc, for a shuffle to break.
    const JSONC: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"services\"",
        "\"vars\"",
        "\"binding\"",
        "\"service\"",
        "\"DB_SERVICE\"",
        "\"db\"",
        "// comment\n",
        "/* block */",
        "/* open",
        "1e999",
        "-0",
        "null",
        "true",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\"é\"",
        " ",
        "\n",
        "'single'",
        "0x10",
        "[[[[[[[[",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: fuzz_cases(), failure_persistence: None, ..ProptestConfig::default() })]

        /// The wrangler.jsonc reader (deploy from a folder, compare bindings) never panics on
        /// arbitrary or broken text, and an error names the file.
        #[test]
        fn the_wrangler_reader_never_panics(
            text in prop_oneof![
                any::<String>(),
                prop::collection::vec(prop::sample::select(JSONC), 0..80).prop_map(|p| p.concat()),
            ]
        ) {
            let started = std::time::Instant::now();
            if let Err(e) = local_bindings(&text) {
                prop_assert!(e.message.contains("wrangler.jsonc"), "{}", e.message);
            }
            prop_assert!(started.elapsed() < std::time::Duration::from_secs(2));
        }
    }

    use super::*;

    #[test]
    fn names_with_spaces_or_slashes_are_refused_with_the_reason() {
        assert!(check_namespace_name("dotdo-preview").is_ok());
        assert!(check_namespace_name("")
            .unwrap_err()
            .message
            .contains("needs a name"));
        assert!(check_namespace_name("a b")
            .unwrap_err()
            .message
            .contains("space"));
        assert!(check_namespace_name("a/b")
            .unwrap_err()
            .message
            .contains("\"/\""));
    }

    #[test]
    fn jsonc_with_comments_and_trailing_commas_is_read() {
        let text = r#"{
            // the gateway
            "name": "gateway",
            "services": [
                { "binding": "DB_SERVICE", "service": "db" }, /* db */
                { "binding": "AUTH_SERVICE", "service": "auth", },
            ],
            "vars": { "MODE": "strict", "RETRIES": 3, },
        }"#;
        let b = local_bindings(text).unwrap();
        assert_eq!(b.len(), 4);
        assert_eq!(b["DB_SERVICE"].value, "db");
        assert_eq!(b["RETRIES"].kind, BindingKind::Var);
        assert_eq!(b["RETRIES"].value, "3");
        let e = local_bindings("{ \"services\": [ { \"binding\": 1 } ] }").unwrap_err();
        assert!(e.message.contains("Service binding 1"), "{}", e.message);
        let e = local_bindings("{ oops").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
    }

    #[test]
    fn bindings_diff_sorts_each_name_into_one_bucket() {
        let local = local_bindings(
            r#"{"services":[{"binding":"A","service":"a"},{"binding":"B","service":"b2"}],"vars":{"L":"x"}}"#,
        )
        .unwrap();
        let deployed = deployed_bindings(&[
            serde_json::json!({"type":"service","name":"A","service":"a"}),
            serde_json::json!({"type":"service","name":"B","service":"b"}),
            serde_json::json!({"type":"plain_text","name":"D","text":"y"}),
            serde_json::json!({"type":"kv_namespace","name":"KV","namespace_id":"x"}),
        ]);
        let d = diff_bindings(local, deployed);
        assert_eq!(d.same, 1);
        assert_eq!(
            d.only_local
                .iter()
                .map(|b| b.name.as_str())
                .collect::<Vec<_>>(),
            ["L"]
        );
        assert_eq!(
            d.only_deployed
                .iter()
                .map(|b| b.name.as_str())
                .collect::<Vec<_>>(),
            ["D"]
        );
        assert_eq!(d.differing.len(), 1);
        assert_eq!(d.differing[0].deployed.value, "b");
    }
}
