//! The bundle's syntax check (`node --check` as an ES module), and the passes remembered by
//! sha256 so the same bytes are not checked twice.

use super::*;

/// The folder of the data folder (beside the syntax check's scratch folder `tmp`) that remembers
/// which bundles passed `node --check`: one small file per bundle, named by its sha256.
pub(crate) const SYNTAX_CHECKS_DIR: &str = "syntax-checks";
/// At most this many passed bundles are remembered; past it, those used least recently go.
pub(super) const SYNTAX_CHECKS_KEPT: usize = 64;
/// What a remembered bundle's file holds. Anything else (a file cut short, edited by hand, of
/// another format) is not trusted: the bundle is checked again.
pub(super) const SYNTAX_PASSED: &str = "switchyard syntax check 1: node --check passed\n";

/// Check the bundle's syntax with `node --check` as an ES module, when Node is on PATH.
/// Returns (checked, note); a syntax error is an error quoting Node's message.
///
/// A bundle that passed once (the same bytes: its sha256) is not checked again: passes are
/// remembered in [`SYNTAX_CHECKS_DIR`] beside `scratch_dir`. A failure is never remembered, so
/// a broken bundle is refused every time.
pub(crate) async fn syntax_check(
    bytes: &HashedBytes,
    scratch_dir: &Path,
    token: &CancellationToken,
) -> Result<(bool, String), AppError> {
    let remembered = scratch_dir
        .parent()
        .unwrap_or(scratch_dir)
        .join(SYNTAX_CHECKS_DIR);
    check_with(
        on_path("node").as_deref(),
        bytes,
        scratch_dir,
        &remembered,
        token,
    )
    .await
}

/// [`syntax_check`] with `node` found by the caller (None: not installed), remembering passes in
/// `remembered`.
pub(super) async fn check_with(
    node: Option<&Path>,
    bytes: &HashedBytes,
    scratch_dir: &Path,
    remembered: &Path,
    token: &CancellationToken,
) -> Result<(bool, String), AppError> {
    let sha = bytes.sha256();
    if passed_before(remembered, sha).await {
        return Ok((
            true,
            "node --check passed (earlier, on these same bytes: not run again)".into(),
        ));
    }
    let Some(node) = node else {
        return Ok((
            false,
            "Node is not on PATH: the syntax was not checked.".into(),
        ));
    };
    let failed = |e: std::io::Error| {
        if switchyard_core::error::is_disk_full(&e) {
            AppError::disk_full(
                "Preparing the syntax check",
                &scratch_dir.display().to_string(),
            )
        } else {
            tracing::error!(error = %e, "preparing the syntax check");
            AppError::internal("Preparing the syntax check")
        }
    };
    tokio::fs::create_dir_all(scratch_dir)
        .await
        .map_err(failed)?;
    // A .mjs copy, so Node parses it as the ES module Cloudflare will run.
    let file = scratch_dir.join(format!("check-{}.mjs", &sha[..16]));
    if let Err(e) = tokio::fs::write(&file, &bytes[..]).await {
        // Nothing half-written stays behind.
        let _ = tokio::fs::remove_file(&file).await;
        return Err(failed(e));
    }
    let run = tokio::process::Command::new(node)
        .arg("--check")
        .arg(&file)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::select! {
        biased;
        _ = token.cancelled() => {
            let _ = tokio::fs::remove_file(&file).await;
            return Err(cancelled());
        }
        out = run => out,
    };
    let _ = tokio::fs::remove_file(&file).await;
    let out = out.map_err(|e| {
        tracing::warn!(error = %e, "node --check could not run");
        AppError::internal("Checking the bundle's syntax")
    })?;
    if out.status.success() {
        remember_pass(remembered, sha).await;
        return Ok((true, "node --check passed".into()));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr
        .lines()
        .find(|l| l.contains("Error"))
        .unwrap_or("a syntax error")
        .trim()
        .to_owned();
    Err(AppError::invalid_input(format!(
        "The bundle has a syntax error ({message}). Fix the source and rebuild."
    ))
    .with_runbook(switchyard_core::RunbookSection::Deployment500))
}

/// The bundle of this sha256 passed `node --check` before (its file holds exactly
/// [`SYNTAX_PASSED`]); a hit is marked as used now, so the least recently used go first.
pub(super) async fn passed_before(remembered: &Path, sha: &str) -> bool {
    let path = remembered.join(sha);
    match tokio::fs::read(&path).await {
        Ok(content) if content == SYNTAX_PASSED.as_bytes() => {
            let touched = tokio::task::spawn_blocking(move || {
                std::fs::File::options()
                    .append(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(std::time::SystemTime::now()))
            })
            .await;
            if let Ok(Err(e)) = touched {
                tracing::debug!(error = %e, "could not mark a remembered syntax check as used");
            }
            true
        }
        _ => false,
    }
}

/// Remember that the bundle of this sha256 passed (written whole, then renamed into place),
/// and forget the least recently used past [`SYNTAX_CHECKS_KEPT`]. Best effort: a bundle not
/// remembered is only checked again next time.
pub(super) async fn remember_pass(remembered: &Path, sha: &str) {
    let dir = remembered.to_path_buf();
    let sha = sha.to_owned();
    let done = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".{sha}.{}.tmp", std::process::id()));
        let written = std::fs::write(&tmp, SYNTAX_PASSED)
            .and_then(|()| std::fs::rename(&tmp, dir.join(&sha)));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written?;
        let mut entries = Vec::new();
        let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
        for e in std::fs::read_dir(&dir)?.flatten() {
            let Some(modified) = e.metadata().ok().and_then(|m| m.modified().ok()) else {
                continue;
            };
            if e.file_name().to_string_lossy().starts_with('.') {
                // A temporary file a stopped app left behind.
                if modified < hour_ago {
                    let _ = std::fs::remove_file(e.path());
                }
            } else {
                entries.push((modified, e.path()));
            }
        }
        if entries.len() > SYNTAX_CHECKS_KEPT {
            entries.sort();
            let excess = entries.len() - SYNTAX_CHECKS_KEPT;
            for (_, old) in entries.into_iter().take(excess) {
                let _ = std::fs::remove_file(old);
            }
        }
        Ok(())
    })
    .await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "could not remember a passed syntax check"),
        Err(e) => tracing::warn!(error = %e, "remembering a passed syntax check stopped"),
    }
}
