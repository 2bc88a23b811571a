//! The secrets and tags of one worker in a dispatch namespace (wrangler has no
//! `secret put --dispatch-namespace`), and the delete of every worker carrying a tag.
//!
//! Secret values come in once (a [`Secret`], from the window's password field or pasted `.env`
//! lines), go out once (the body of Cloudflare's `PUT …/secrets`), and are never returned,
//! stored, logged or put in a message: replies, errors and audit entries carry names and line
//! numbers only.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use switchyard_core::{AppError, Environment, ErrorCode, Profile, Protection};
use switchyard_secrets::Secret;

use crate::namespaces::check_writable;
use crate::Ops;

/// Longest secret value Cloudflare accepts (5 KiB).
pub const MAX_SECRET_VALUE_BYTES: usize = 5 * 1024;
/// Most secrets one paste may set (Cloudflare allows 128 variables per worker).
pub const MAX_BULK_SECRETS: usize = 128;
/// Most tags a worker may carry.
pub const MAX_WORKER_TAGS: usize = 8;
/// How many worker names an audit entry of a delete by tag lists.
const AUDIT_NAMES: usize = 50;

/// The secrets (names only) and tags of a worker, as the "Secrets and tags" tab shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorkerSecrets {
    pub namespace: String,
    pub script: String,
    /// The secrets' names, sorted. Values are never read back (Cloudflare does not give them).
    pub names: Vec<String>,
    pub tags: Vec<String>,
    /// Changes here need the worker's name typed: the namespace is a production one or the
    /// profile is protected.
    pub confirm_typed: bool,
}

/// What deleting the workers that carry a tag would delete; the user types `confirm_phrase`
/// (the tag) and the engine deletes only if the namespace still holds exactly `scripts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TagDeletePlan {
    pub namespace: String,
    pub tag: String,
    /// Every worker carrying the tag, sorted.
    pub scripts: Vec<String>,
    pub script_count: u32,
    pub confirm_phrase: String,
    /// The destructive button's label, e.g. "Delete the 3 workers tagged beta from dotdo-staging".
    pub action: String,
}

/// One `NAME=value` line of a pasted `.env` text.
pub(crate) struct EnvEntry {
    pub line: usize,
    pub name: String,
    pub value: Secret,
}

impl std::fmt::Debug for EnvEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}=***", self.line, self.name)
    }
}

/// A secret's name as a worker's `env` can hold it: letters, digits and `_`, not starting with
/// a digit, at most 256 characters.
pub(crate) fn is_secret_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

fn check_secret_name(name: &str) -> Result<(), AppError> {
    if is_secret_name(name) {
        Ok(())
    } else {
        Err(AppError::invalid_input(format!(
            "\"{}\" is not a secret name: use letters, digits and _, not starting with a digit (for example API_TOKEN).",
            name.chars().take(64).collect::<String>()
        )))
    }
}

/// The value's own checks; messages never carry it.
fn check_secret_value(name: &str, value: &str, line: Option<usize>) -> Result<(), AppError> {
    let at = line.map_or_else(|| "T".to_owned(), |n| format!("Line {n}: t"));
    if value.is_empty() {
        return Err(AppError::invalid_input(format!(
            "{at}he value of {name} is empty; type or paste the value."
        )));
    }
    if value.len() > MAX_SECRET_VALUE_BYTES {
        return Err(AppError::invalid_input(format!(
            "{at}he value of {name} is {} bytes; Cloudflare takes at most {MAX_SECRET_VALUE_BYTES}.",
            value.len()
        )));
    }
    Ok(())
}

/// Parse `.env` lines: `NAME=value`, `export NAME=value`, values optionally in `"…"` (with `\n`,
/// `\"`, `\\`) or `'…'`; blank lines and `# comments` skipped. A refusal names the line, never
/// its content.
pub(crate) fn parse_env(text: &str) -> Result<Vec<EnvEntry>, AppError> {
    let mut out: Vec<EnvEntry> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, raw) in text.split('\n').enumerate() {
        let n = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err(AppError::invalid_input(format!(
                "Line {n} has no \"=\": write each secret as NAME=value (the line is not shown here; fix it in the text and try again). Nothing was set."
            )));
        };
        let name = name.trim();
        if !is_secret_name(name) {
            return Err(AppError::invalid_input(format!(
                "Line {n}: the name before \"=\" is not a secret name; use letters, digits and _, not starting with a digit. Nothing was set."
            )));
        }
        let value = unquote(value.trim()).ok_or_else(|| {
            AppError::invalid_input(format!(
                "Line {n}: the value of {name} opens a quote it does not close (values must fit on one line). Nothing was set."
            ))
        })?;
        check_secret_value(name, &value, Some(n))
            .map_err(|e| AppError::invalid_input(format!("{} Nothing was set.", e.message)))?;
        if let Some(first) = seen.insert(name.to_owned(), n) {
            return Err(AppError::invalid_input(format!(
                "Line {n}: {name} is set again (first on line {first}); keep one. Nothing was set."
            )));
        }
        out.push(EnvEntry {
            line: n,
            name: name.to_owned(),
            value: Secret::new(value),
        });
    }
    if out.is_empty() {
        return Err(AppError::invalid_input(
            "No NAME=value lines were found: paste lines like API_TOKEN=… (one secret a line).",
        ));
    }
    if out.len() > MAX_BULK_SECRETS {
        return Err(AppError::invalid_input(format!(
            "The text sets {} secrets; a worker holds at most {MAX_BULK_SECRETS}. Nothing was set.",
            out.len()
        )));
    }
    Ok(out)
}

/// A value without its quotes; `None` when a quote is opened and not closed.
fn unquote(v: &str) -> Option<String> {
    if let Some(rest) = v.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    // Anything after the closing quote must be a comment or nothing.
                    let tail = chars.as_str().trim_start();
                    return (tail.is_empty() || tail.starts_with('#')).then_some(out);
                }
                '\\' => match chars.next()? {
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    other => out.push(other),
                },
                c => out.push(c),
            }
        }
        None
    } else if let Some(rest) = v.strip_prefix('\'') {
        let (inner, tail) = rest.split_once('\'')?;
        let tail = tail.trim_start();
        (tail.is_empty() || tail.starts_with('#')).then(|| inner.to_owned())
    } else {
        // Unquoted: ` # comment` ends the value.
        let v = match v.find(" #") {
            Some(i) => &v[..i],
            None => v,
        };
        Some(v.trim_end().to_owned())
    }
}

/// Tags as the operator edited them: trimmed, empty ones dropped, duplicates once; refused
/// when there are more than 8 or one holds `,`, `&` or a control character.
pub(crate) fn clean_tags(tags: Vec<String>) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim().to_owned();
        if t.is_empty() || out.contains(&t) {
            continue;
        }
        check_tag(&t)?;
        out.push(t);
    }
    if out.len() > MAX_WORKER_TAGS {
        return Err(AppError::invalid_input(format!(
            "A worker carries at most {MAX_WORKER_TAGS} tags; these are {}. Remove some and save again.",
            out.len()
        )));
    }
    Ok(out)
}

fn check_tag(tag: &str) -> Result<(), AppError> {
    if tag.trim().is_empty() {
        return Err(AppError::invalid_input("The tag is empty: type one."));
    }
    if tag.contains(',') || tag.contains('&') || tag.chars().any(char::is_control) {
        return Err(AppError::invalid_input(format!(
            "The tag \"{}\" holds \",\", \"&\" or a control character, which Cloudflare's tag filter cannot carry; use letters, digits, \"-\" or \":\".",
            tag.chars().filter(|c| !c.is_control()).take(64).collect::<String>()
        )));
    }
    if tag.chars().count() > 256 {
        return Err(AppError::invalid_input(
            "The tag is longer than 256 characters; shorten it.",
        ));
    }
    Ok(())
}

/// Whether changes in `namespace` need the stronger confirmation: the profile is protected,
/// it is a production profile's own namespace, or the name says production.
pub(crate) fn production_namespace(profile: &Profile, namespace: &str) -> bool {
    profile.protection == Protection::Protected
        || (profile.environment == Environment::Production && namespace == profile.namespace)
        || namespace
            .split(['-', '_', '.'])
            .any(|w| w.eq_ignore_ascii_case("production") || w.eq_ignore_ascii_case("prod"))
}

/// On a production namespace, refuse unless `typed` is the worker's name.
fn check_typed(
    profile: &Profile,
    namespace: &str,
    script: &str,
    typed: Option<&str>,
) -> Result<(), AppError> {
    if production_namespace(profile, namespace) && typed != Some(script) {
        return Err(AppError::invalid_input(format!(
            "Nothing was changed: {namespace} is a production namespace, so changes to {script} need the worker's name, \"{script}\", typed exactly."
        )));
    }
    Ok(())
}

/// "A, B and 3 more" for a message.
fn some_names(names: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut s = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    s
}

impl Ops {
    /// The secret names and tags of a worker, and whether changing them needs its name typed.
    pub async fn worker_secrets(
        &self,
        profile_id: &str,
        namespace: &str,
        script: &str,
    ) -> Result<WorkerSecrets, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let api = profile.cloudflare()?;
        let (mut names, tags) = tokio::try_join!(
            api.list_secret_names(namespace, script),
            api.script_tags(namespace, script),
        )?;
        names.sort();
        Ok(WorkerSecrets {
            namespace: namespace.to_owned(),
            script: script.to_owned(),
            names,
            tags,
            confirm_typed: production_namespace(&profile, namespace),
        })
    }

    /// Set (add or replace) the secret `name` of a worker to `value`. Only the name is
    /// returned, logged and audited.
    pub async fn put_worker_secret(
        &self,
        profile_id: &str,
        namespace: &str,
        script: &str,
        name: &str,
        value: Secret,
        typed_confirmation: Option<&str>,
    ) -> Result<String, AppError> {
        let target = format!("{namespace}/{script}");
        let params = serde_json::json!({ "namespace": namespace, "script": script, "name": name });
        self.audited(profile_id, "worker.secret.put", &target, params, async {
            let profile = self.for_profile(profile_id).await?;
            check_writable(&profile, "setting a worker's secret")?;
            check_secret_name(name)?;
            check_secret_value(name, value.expose(), None)?;
            check_typed(&profile, namespace, script, typed_confirmation)?;
            let _held = self.hold_namespace(
                &profile,
                namespace,
                &format!("setting a secret of {script}"),
            )?;
            let api = profile.cloudflare()?;
            api.put_secret(namespace, script, name, &value).await?;
            Ok(name.to_owned())
        })
        .await
    }

    /// Delete the secret `name` of a worker.
    pub async fn delete_worker_secret(
        &self,
        profile_id: &str,
        namespace: &str,
        script: &str,
        name: &str,
        typed_confirmation: Option<&str>,
    ) -> Result<(), AppError> {
        let target = format!("{namespace}/{script}");
        let params = serde_json::json!({ "namespace": namespace, "script": script, "name": name });
        self.audited(profile_id, "worker.secret.delete", &target, params, async {
            let profile = self.for_profile(profile_id).await?;
            check_writable(&profile, "deleting a worker's secret")?;
            check_secret_name(name)?;
            check_typed(&profile, namespace, script, typed_confirmation)?;
            let _held = self.hold_namespace(
                &profile,
                namespace,
                &format!("deleting a secret of {script}"),
            )?;
            let api = profile.cloudflare()?;
            api.delete_secret(namespace, script, name).await
        })
        .await
    }

    /// Set several secrets of a worker from `.env` lines (`NAME=value`), parsed here; all lines
    /// are checked before any is sent. Returns the names set, in the text's order.
    pub async fn bulk_set_worker_secrets(
        &self,
        profile_id: &str,
        namespace: &str,
        script: &str,
        env_text: Secret,
        typed_confirmation: Option<&str>,
    ) -> Result<Vec<String>, AppError> {
        let target = format!("{namespace}/{script}");
        let parsed = parse_env(env_text.expose());
        drop(env_text);
        let names: Vec<String> = parsed
            .as_ref()
            .map(|e| e.iter().map(|x| x.name.clone()).collect())
            .unwrap_or_default();
        let params =
            serde_json::json!({ "namespace": namespace, "script": script, "names": names });
        self.audited(profile_id, "worker.secret.bulk", &target, params, async {
            let profile = self.for_profile(profile_id).await?;
            check_writable(&profile, "setting a worker's secrets")?;
            let entries = parsed?;
            check_typed(&profile, namespace, script, typed_confirmation)?;
            let _held =
                self.hold_namespace(&profile, namespace, &format!("setting secrets of {script}"))?;
            let api = profile.cloudflare()?;
            let mut done: Vec<String> = Vec::new();
            for (i, e) in entries.iter().enumerate() {
                if let Err(err) = api.put_secret(namespace, script, &e.name, &e.value).await {
                    let left: Vec<String> =
                        entries[i + 1..].iter().map(|x| x.name.clone()).collect();
                    let set = if done.is_empty() {
                        "No secret was set".to_owned()
                    } else {
                        format!("Set {}", some_names(&done))
                    };
                    let rest = if left.is_empty() {
                        String::new()
                    } else {
                        format!(" Not attempted: {}.", some_names(&left))
                    };
                    return Err(AppError::new(
                        err.code,
                        format!(
                            "{set}; {} (line {}) failed: {}{rest}",
                            e.name, e.line, err.message
                        ),
                    ));
                }
                done.push(e.name.clone());
            }
            Ok(done)
        })
        .await
    }

    /// Replace every tag of a worker; returns the tags now.
    pub async fn set_worker_tags(
        &self,
        profile_id: &str,
        namespace: &str,
        script: &str,
        tags: Vec<String>,
        typed_confirmation: Option<&str>,
    ) -> Result<Vec<String>, AppError> {
        let target = format!("{namespace}/{script}");
        let params = serde_json::json!({ "namespace": namespace, "script": script, "tags": tags });
        self.audited(profile_id, "worker.tags.set", &target, params, async {
            let profile = self.for_profile(profile_id).await?;
            check_writable(&profile, "changing a worker's tags")?;
            let tags = clean_tags(tags)?;
            check_typed(&profile, namespace, script, typed_confirmation)?;
            let _held = self.hold_namespace(
                &profile,
                namespace,
                &format!("changing the tags of {script}"),
            )?;
            let api = profile.cloudflare()?;
            api.put_script_tags(namespace, script, &tags).await
        })
        .await
    }

    /// The workers of `namespace` that carry `tag` exactly, sorted (Cloudflare's tag filter,
    /// checked again against each worker's tags).
    async fn workers_tagged(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        namespace: &str,
        tag: &str,
    ) -> Result<Vec<String>, AppError> {
        let api = profile.cloudflare()?;
        let mut names: Vec<String> = api
            .list_scripts(namespace, &[format!("{tag}:yes")])
            .await?
            .into_iter()
            .filter(|s| {
                s.script
                    .tags
                    .as_ref()
                    .is_some_and(|t| t.iter().any(|x| x == tag))
            })
            .map(|s| s.script.id)
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// What deleting the workers tagged `tag` would delete: every one, counted.
    pub async fn tag_delete_plan(
        &self,
        profile_id: &str,
        namespace: &str,
        tag: &str,
    ) -> Result<TagDeletePlan, AppError> {
        let profile = self.for_profile(profile_id).await?;
        check_writable(&profile, "deleting workers")?;
        check_tag(tag)?;
        let scripts = self.workers_tagged(&profile, namespace, tag).await?;
        let count = scripts.len();
        let action = match count {
            0 => format!("No worker in {namespace} carries the tag {tag}"),
            1 => format!("Delete the 1 worker tagged {tag} from {namespace}"),
            n => format!("Delete the {n} workers tagged {tag} from {namespace}"),
        };
        Ok(TagDeletePlan {
            namespace: namespace.to_owned(),
            tag: tag.to_owned(),
            script_count: count.min(u32::MAX as usize) as u32,
            scripts,
            confirm_phrase: tag.to_owned(),
            action,
        })
    }

    /// Delete the workers tagged `tag`, only when `typed_confirmation` is the tag and the
    /// workers carrying it now are exactly `previewed` (the plan's list): the operator confirmed
    /// those names, so a worker tagged since (or one gone) refuses it. Returns the names deleted.
    pub async fn delete_workers_by_tag(
        &self,
        profile_id: &str,
        namespace: &str,
        tag: &str,
        typed_confirmation: &str,
        previewed: Vec<String>,
    ) -> Result<Vec<String>, AppError> {
        let previewed: BTreeSet<String> = previewed.into_iter().collect();
        let target = format!("{namespace}#{tag}");
        let shown: Vec<&String> = previewed.iter().take(AUDIT_NAMES).collect();
        let params = serde_json::json!({
            "namespace": namespace,
            "tag": tag,
            "previewedCount": previewed.len(),
            "previewed": shown,
        });
        self.audited(profile_id, "worker.delete_by_tag", &target, params, async {
            let profile = self.for_profile(profile_id).await?;
            check_writable(&profile, "deleting workers")?;
            check_tag(tag)?;
            if typed_confirmation != tag {
                return Err(AppError::invalid_input(format!(
                    "Nothing was deleted: the confirmation must be the tag, \"{tag}\", typed exactly."
                )));
            }
            if previewed.is_empty() {
                return Err(AppError::invalid_input(format!(
                    "Nothing was deleted: the preview listed no worker tagged {tag}."
                )));
            }
            let _held = self.hold_namespace(
                &profile,
                namespace,
                &format!("deleting the workers tagged {tag}"),
            )?;
            let now: BTreeSet<String> = self
                .workers_tagged(&profile, namespace, tag)
                .await?
                .into_iter()
                .collect();
            if now != previewed {
                let added: Vec<String> = now.difference(&previewed).cloned().collect();
                let gone: Vec<String> = previewed.difference(&now).cloned().collect();
                let mut what = Vec::new();
                if !added.is_empty() {
                    what.push(format!("tagged since: {}", some_names(&added)));
                }
                if !gone.is_empty() {
                    what.push(format!("no longer there or tagged: {}", some_names(&gone)));
                }
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    format!(
                        "Nothing was deleted: the workers tagged {tag} in {namespace} changed since the preview ({}). Look at the new preview and confirm again.",
                        what.join("; ")
                    ),
                ));
            }
            let api = profile.cloudflare()?;
            let names: Vec<String> = previewed.into_iter().collect();
            let mut deleted = Vec::new();
            for (i, script) in names.iter().enumerate() {
                if let Err(err) = api.delete_script(namespace, script).await {
                    let left = &names[i + 1..];
                    let done = if deleted.is_empty() {
                        "No worker was deleted".to_owned()
                    } else {
                        format!("Deleted {}", some_names(&deleted))
                    };
                    let rest = if left.is_empty() {
                        String::new()
                    } else {
                        format!(" Not attempted: {}.", some_names(left))
                    };
                    return Err(AppError::new(
                        err.code,
                        format!("{done}; deleting {script} failed: {}{rest}", err.message),
                    ));
                }
                deleted.push(script.clone());
            }
            Ok(deleted)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        parse_env(text)
            .unwrap()
            .into_iter()
            .map(|e| format!("{}={}", e.name, e.value.expose()))
            .collect()
    }

    #[test]
    fn env_lines_are_read_with_quotes_comments_and_export() {
        let text = "# comment\n\nexport A=1\r\nB = two words # note\nC=\"x\\ny\" # c\nD='it s'\nE=\"a=b\"\n";
        let got = names(text);
        assert_eq!(got, ["A=1", "B=two words", "C=x\ny", "D=it s", "E=a=b"]);
    }

    #[test]
    fn a_bad_line_is_named_by_number_and_its_value_never_shown() {
        let value = "sk_live_VERYSECRET";
        for (text, line, says) in [
            (format!("A=1\n{value}\n"), 2, "no \"="),
            (format!("A=1\n\n9X={value}\n"), 3, "not a secret name"),
            (format!("A=\"{value}\n"), 1, "quote"),
            (format!("A=1\nA={value}\n"), 2, "first on line 1"),
            ("A=\n".to_owned(), 1, "empty"),
            (format!("A={}\n", value.repeat(400)), 1, "bytes"),
        ] {
            let e = parse_env(&text).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidInput);
            assert!(e.message.contains(&format!("Line {line}")), "{}", e.message);
            assert!(e.message.contains(says), "{}", e.message);
            assert!(!e.message.contains(value), "{}", e.message);
        }
        assert!(parse_env("\n# only\n").is_err());
        let debug = format!("{:?}", parse_env(&format!("A={value}")).unwrap());
        assert!(!debug.contains(value), "{debug}");
    }

    #[test]
    fn tags_are_trimmed_deduplicated_and_bounded() {
        let t = clean_tags(vec![" a ".into(), "a".into(), "".into(), "b:c".into()]).unwrap();
        assert_eq!(t, ["a", "b:c"]);
        assert!(clean_tags(vec!["a,b".into()]).is_err());
        assert!(clean_tags((0..9).map(|i| format!("t{i}")).collect()).is_err());
    }

    #[test]
    fn production_namespaces_are_recognized() {
        let mut p = Profile::for_environment("s", "s", Environment::Staging);
        p.protection = Protection::Normal;
        assert!(production_namespace(&p, "dotdo-production"));
        assert!(!production_namespace(&p, "dotdo-staging"));
        p.protection = Protection::Protected;
        assert!(production_namespace(&p, "dotdo-staging"));
    }
}
