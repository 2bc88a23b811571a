//! The template's `interface Env` in `src/index.ts`, kept in step with the bindings, and the
//! atomic write of a file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use switchyard_core::AppError;

use super::*;

/// A member line as the template writes it: `DB_SERVICE: Fetcher // the db service`.
pub(super) fn member_line(binding: &str, service: &str) -> String {
    format!("{binding}: Fetcher // the {service} service")
}

/// The members the template writes for `rows` (sorted by binding, as it does).
pub(super) fn members_for(rows: &[ServiceBindingRow]) -> Vec<String> {
    let sorted: BTreeMap<&str, &str> = rows
        .iter()
        .map(|r| (r.binding.as_str(), r.service.as_str()))
        .collect();
    sorted.into_iter().map(|(b, s)| member_line(b, s)).collect()
}

/// `index_ts` with its `interface Env` rewritten from `old` to `new`, when the block is exactly
/// the template's for `old`; else why not.
pub(super) fn update_env(
    index_ts: &str,
    old: &[ServiceBindingRow],
    new: &[ServiceBindingRow],
) -> Result<String, String> {
    let lines: Vec<&str> = index_ts.split_inclusive('\n').collect();
    let opens: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim() == "interface Env {")
        .map(|(i, _)| i)
        .collect();
    let [open] = opens[..] else {
        return Err(if opens.is_empty() {
            "src/index.ts has no `interface Env {` line as the template writes it".to_owned()
        } else {
            "src/index.ts has more than one `interface Env {`".to_owned()
        });
    };
    let Some(close) = (open + 1..lines.len()).find(|&i| lines[i].trim() == "}") else {
        return Err("src/index.ts's `interface Env` has no closing `}` line".to_owned());
    };
    let expected = members_for(old);
    let body = &lines[open + 1..close];
    let n = expected.len();
    let matches = body.len() >= n
        && body[..n]
            .iter()
            .zip(&expected)
            .all(|(line, want)| line.trim() == want && line.starts_with(char::is_whitespace));
    if !matches {
        return Err(
            "src/index.ts's `interface Env` members are not the ones the template wrote for the current bindings (changed by hand?)".to_owned(),
        );
    }
    if body[n..].iter().any(|l| l.contains("Fetcher")) {
        return Err(
            "src/index.ts's `interface Env` has other `Fetcher` members besides the template's"
                .to_owned(),
        );
    }
    let indent: String = match body.first() {
        Some(l) if n > 0 => l.chars().take_while(|c| *c == ' ' || *c == '\t').collect(),
        _ => "  ".to_owned(),
    };
    let newline = if lines[open].ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut out = String::with_capacity(index_ts.len() + 128);
    for l in &lines[..=open] {
        out.push_str(l);
    }
    for m in members_for(new) {
        out.push_str(&indent);
        out.push_str(&m);
        out.push_str(newline);
    }
    for l in &lines[open + 1 + n..] {
        out.push_str(l);
    }
    Ok(out)
}

/// What to do with `folder/src/index.ts`: its new text when the template's block is updated.
pub(super) async fn plan_env(
    folder: &Path,
    old: &[ServiceBindingRow],
    new: &[ServiceBindingRow],
) -> (EnvInterfaceUpdate, Option<(PathBuf, String)>) {
    let members: Vec<String> = members_for(new);
    let path = folder.join("src").join("index.ts");
    let text = match tokio::fs::metadata(&path).await {
        Ok(m) if m.len() as usize > MAX_INDEX_BYTES => None,
        Ok(_) => tokio::fs::read_to_string(&path).await.ok(),
        Err(_) => {
            return (
                EnvInterfaceUpdate {
                    updated: false,
                    note: "The folder has no src/index.ts: no Env interface to update.".to_owned(),
                    members,
                },
                None,
            )
        }
    };
    let Some(text) = text else {
        return (
            EnvInterfaceUpdate {
                updated: false,
                note: "src/index.ts could not be read as text: its Env interface is left as it is; update it by hand.".to_owned(),
                members,
            },
            None,
        );
    };
    let same_members = members_for(old) == members;
    match update_env(&text, old, new) {
        Ok(_) if same_members => (
            EnvInterfaceUpdate {
                updated: false,
                note: "src/index.ts's Env interface already lists these bindings: it is left as it is.".to_owned(),
                members,
            },
            None,
        ),
        Ok(updated) => (
            EnvInterfaceUpdate {
                updated: true,
                note: "src/index.ts's Env interface is the one the template wrote: it is updated with the bindings.".to_owned(),
                members,
            },
            Some((path, updated)),
        ),
        Err(why) => {
            let note = if same_members {
                format!("{why}; the binding names and services do not change, so it needs nothing.")
            } else {
                format!(
                    "{why}: it is left as it is. Update it by hand so that it lists: {}.",
                    if members.is_empty() {
                        "no service bindings".to_owned()
                    } else {
                        members
                            .iter()
                            .map(|m| m.split(" //").next().unwrap_or(m))
                            .collect::<Vec<_>>()
                            .join("; ")
                    }
                )
            };
            (
                EnvInterfaceUpdate {
                    updated: false,
                    note,
                    members,
                },
                None,
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// Write `text` to `path` atomically: a temporary file in the same folder, renamed over it
/// (the file's permissions kept).
pub(super) fn write_atomic(path: &Path, text: &str) -> Result<(), AppError> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = |e: std::io::Error| {
        if switchyard_core::error::is_disk_full(&e) {
            return AppError::disk_full(
                &format!("Saving {}", path.display()),
                &dir.display().to_string(),
            );
        }
        AppError::invalid_input(format!(
            "{} could not be written ({e}). Check that the folder is writable and try again; the file was not changed.",
            path.display()
        ))
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".switchyard-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(text.as_bytes()).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The façade.
