//! Where a bundle comes from: a service folder of the monorepo (inspected, tested, built) or a
//! prebuilt bundle file with metadata typed by hand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio_util::sync::CancellationToken;

use switchyard_core::{AppError, DeploymentMetadata, ErrorCode};

use super::events::{DeployStepId, OutputStream, Progress};
use super::{cancelled, HashedBytes};
use crate::namespaces::{local_bindings, BindingKind};

mod syntax;
pub(crate) use syntax::syntax_check;

/// The longest a test or build script may run before it is stopped.
const SCRIPT_TIME_LIMIT: Duration = Duration::from_secs(15 * 60);

/// What to deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DeploySource {
    /// A service folder (`workers/<service>` with package.json and wrangler.jsonc): its test and
    /// build scripts run, then `dist/index.js` is deployed.
    #[serde(rename_all = "camelCase")]
    ServiceFolder { path: String },
    /// A prebuilt bundle file (ES module); metadata and bindings come from the request.
    #[serde(rename_all = "camelCase")]
    BundleFile { path: String },
}

/// Metadata typed by hand. For a service folder each field set here overrides what git and
/// package.json say; for a bundle file commit, branch and author are required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct MetadataInput {
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub author: Option<String>,
    /// Release label, e.g. `v1.2.0` (becomes the deployment's version tag).
    pub version: Option<String>,
}

/// Which package manager runs the folder's scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum PackageManager {
    Pnpm,
    Npm,
}

impl PackageManager {
    fn program(self) -> &'static str {
        match self {
            PackageManager::Pnpm => "pnpm",
            PackageManager::Npm => "npm",
        }
    }
}

/// Git metadata of a folder (empty with a note when it is not in a repository).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct GitInfo {
    pub commit: Option<String>,
    pub branch: Option<String>,
    /// `git config user.email` (as the runbook sends), else the last commit's author email.
    pub author: Option<String>,
    /// The working tree has uncommitted changes.
    pub dirty: bool,
    /// Why something is missing (not a repository, git not installed, detached HEAD …).
    pub note: Option<String>,
}

/// What a service folder holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ServiceFolderInfo {
    pub path: String,
    /// package.json `name`.
    pub package_name: Option<String>,
    /// package.json `version`.
    pub package_version: Option<String>,
    /// wrangler.jsonc `name`.
    pub worker_name: Option<String>,
    pub package_manager: PackageManager,
    /// Why that package manager, e.g. "pnpm-lock.yaml found but pnpm is not on PATH; using npm".
    pub package_manager_reason: String,
    /// The `test` script's command, if package.json has one.
    pub test_script: Option<String>,
    /// The `build` script's command, if package.json has one.
    pub build_script: Option<String>,
    /// Service bindings from wrangler.jsonc `services` (binding name → service).
    pub bindings: BTreeMap<String, String>,
    /// Notes about what is not sent (e.g. `vars`, which the Deploy API does not take).
    pub notes: Vec<String>,
    pub git: GitInfo,
}

/// The bundle that will be deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BundleInfo {
    /// The file it was read from (dist/index.js, the bundle file, or the archive).
    pub path: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub size_bytes: u64,
    pub sha256: String,
    /// `node --check` passed (false when Node is not on PATH: see `syntax_note`).
    pub syntax_checked: bool,
    pub syntax_note: String,
}

/// Whether `program` is an executable on PATH.
pub(crate) fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

fn folder_error(path: &Path, what: &str) -> AppError {
    AppError::invalid_input(format!(
        "{} {what}. Choose a service folder (workers/<service>) with package.json and wrangler.jsonc.",
        path.display()
    ))
}

/// Read a service folder: package.json, wrangler.jsonc (comments and trailing commas allowed),
/// the package manager, and git metadata.
pub(crate) async fn inspect_folder(path: &Path) -> Result<ServiceFolderInfo, AppError> {
    if path.as_os_str().is_empty() {
        return Err(AppError::invalid_input(
            "Choose the service folder (the one with package.json and wrangler.jsonc), or paste its path.",
        ));
    }
    match tokio::fs::metadata(path).await {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(folder_error(path, "is a file, not a folder")),
        Err(_) => return Err(folder_error(path, "does not exist")),
    }
    let package_text = tokio::fs::read_to_string(path.join("package.json"))
        .await
        .map_err(|_| folder_error(path, "has no readable package.json"))?;
    let package: serde_json::Value = serde_json::from_str(&package_text).map_err(|e| {
        AppError::invalid_input(format!(
            "package.json in {} is not valid JSON ({e}); fix it and try again.",
            path.display()
        ))
    })?;
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
    let scripts = package.get("scripts");
    let test_script = text(scripts.and_then(|s| s.get("test")));
    let build_script = text(scripts.and_then(|s| s.get("build")));

    let mut wrangler = path.join("wrangler.jsonc");
    if !tokio::fs::try_exists(&wrangler).await.unwrap_or(false) {
        wrangler = path.join("wrangler.json");
    }
    let wrangler_text = tokio::fs::read_to_string(&wrangler)
        .await
        .map_err(|_| folder_error(path, "has no readable wrangler.jsonc"))?;
    let all_bindings = local_bindings(&wrangler_text)?;
    let mut bindings = BTreeMap::new();
    let mut vars = Vec::new();
    for b in all_bindings.into_values() {
        match b.kind {
            BindingKind::Service => {
                bindings.insert(b.name, b.value);
            }
            BindingKind::Var => vars.push(b.name),
        }
    }
    let mut notes = Vec::new();
    if !vars.is_empty() {
        notes.push(format!(
            "wrangler.jsonc vars ({}) are not sent: the Deploy API takes service bindings only.",
            vars.join(", ")
        ));
    }
    let worker_name =
        jsonc_parser::parse_to_serde_value(&wrangler_text, &jsonc_parser::ParseOptions::default())
            .ok()
            .flatten()
            .and_then(|v: serde_json::Value| text(v.get("name")));

    let lock = tokio::fs::try_exists(path.join("pnpm-lock.yaml"))
        .await
        .unwrap_or(false);
    let pnpm = on_path("pnpm").is_some();
    let (package_manager, package_manager_reason) = match (lock, pnpm) {
        (true, true) => (
            PackageManager::Pnpm,
            "pnpm-lock.yaml found and pnpm is on PATH: using pnpm".to_owned(),
        ),
        (true, false) => (
            PackageManager::Npm,
            "pnpm-lock.yaml found but pnpm is not on PATH: using npm".to_owned(),
        ),
        (false, _) => (
            PackageManager::Npm,
            "no pnpm-lock.yaml: using npm".to_owned(),
        ),
    };
    Ok(ServiceFolderInfo {
        path: path.display().to_string(),
        package_name: text(package.get("name")),
        package_version: text(package.get("version")),
        worker_name,
        package_manager,
        package_manager_reason,
        test_script,
        build_script,
        bindings,
        notes,
        git: git_info(path).await,
    })
}

async fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = tokio::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// Commit, branch and author of the repository `dir` is in (empty with a note otherwise).
pub(crate) async fn git_info(dir: &Path) -> GitInfo {
    if on_path("git").is_none() {
        return GitInfo {
            note: Some("git is not on PATH: enter commit, branch and author by hand.".into()),
            ..GitInfo::default()
        };
    }
    if git(dir, &["rev-parse", "--is-inside-work-tree"])
        .await
        .as_deref()
        != Some("true")
    {
        return GitInfo {
            note: Some(
                "The folder is not in a git repository: enter commit, branch and author by hand."
                    .into(),
            ),
            ..GitInfo::default()
        };
    }
    let commit = git(dir, &["rev-parse", "HEAD"]).await;
    let branch = git(dir, &["branch", "--show-current"]).await;
    let author = match git(dir, &["config", "user.email"]).await {
        Some(a) => Some(a),
        None => git(dir, &["log", "-1", "--format=%ae"]).await,
    };
    let dirty = git(dir, &["status", "--porcelain", "--", "."])
        .await
        .is_some();
    let mut notes = Vec::new();
    if commit.is_none() {
        notes.push("the repository has no commit yet");
    }
    if branch.is_none() && commit.is_some() {
        notes.push("HEAD is detached (no branch)");
    }
    if dirty {
        notes.push("the folder has uncommitted changes: the bundle may not match the commit");
    }
    GitInfo {
        commit,
        branch,
        author,
        dirty,
        note: (!notes.is_empty()).then(|| {
            let mut n = notes.join("; ");
            if let Some(first) = n.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            n + "."
        }),
    }
}

/// Stop a child and everything it started (npm runs the script in a shell of its own).
async fn stop(child: &mut tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = child.id() {
        // The child leads its own process group: signal the whole group.
        crate::process::signal_group(pid, crate::process::Stop::Term);
    }
    let _ = child.kill().await;
}

/// Run `<package manager> run <script>` in `dir`, streaming its output line by line as events,
/// stopping it on cancel. Non-zero exit → an error naming the script and its exit code.
pub(crate) async fn run_script(
    dir: &Path,
    manager: PackageManager,
    script: &str,
    step: DeployStepId,
    progress: &Progress<'_>,
    token: &CancellationToken,
) -> Result<String, AppError> {
    let program = manager.program();
    let mut cmd = tokio::process::Command::new(program);
    cmd.arg("run")
        .arg(script)
        .current_dir(dir)
        // No watch mode, no colours: test runners behave as in CI.
        .env("CI", "true")
        .env("FORCE_COLOR", "0")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd.spawn().map_err(|e| {
        AppError::invalid_input(format!(
            "Could not start `{program} run {script}` in {}: {e}. Is {program} installed and on PATH?",
            dir.display()
        ))
    })?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(OutputStream, String)>();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                if tx.send((OutputStream::Stdout, l)).is_err() {
                    break;
                }
            }
        });
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                if tx.send((OutputStream::Stderr, l)).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let deadline = tokio::time::sleep(SCRIPT_TIME_LIMIT);
    tokio::pin!(deadline);
    let mut streams_open = true;
    let status = loop {
        tokio::select! {
            biased;
            _ = token.cancelled() => {
                stop(&mut child).await;
                return Err(cancelled());
            }
            _ = &mut deadline => {
                stop(&mut child).await;
                return Err(AppError::new(
                    ErrorCode::Timeout,
                    format!("`{program} run {script}` ran longer than {} minutes and was stopped.", SCRIPT_TIME_LIMIT.as_secs() / 60),
                ));
            }
            line = rx.recv(), if streams_open => match line {
                Some((stream, l)) => progress.line(step, stream, l),
                None => streams_open = false,
            },
            status = child.wait(), if !streams_open => break status,
        }
    };
    let status = status.map_err(|e| {
        tracing::error!(error = %e, "waiting for a script failed");
        AppError::internal("Running the script")
    })?;
    if status.success() {
        Ok(format!("`{program} run {script}` passed"))
    } else {
        let code = status
            .code()
            .map(|c| format!("exit code {c}"))
            .unwrap_or_else(|| "stopped by a signal".into());
        Err(AppError::invalid_input(format!(
            "`{program} run {script}` failed ({code}). Read its output above, fix the problem, and prepare the deploy again."
        )))
    }
}

/// Read a bundle of at most `limit` bytes (reads `limit + 1` to tell that it is larger).
/// Returns the bytes (empty when too large) and the file's size.
pub(crate) async fn read_bundle(path: &Path, limit: u64) -> Result<(Vec<u8>, u64), AppError> {
    let meta = tokio::fs::metadata(path).await.map_err(|e| {
        AppError::invalid_input(format!(
            "The bundle {} cannot be read ({e}). Check the path; for a service folder, check that the build writes dist/index.js.",
            path.display()
        ))
    })?;
    if !meta.is_file() {
        return Err(AppError::invalid_input(format!(
            "{} is not a file: choose the bundle (a .js ES module).",
            path.display()
        )));
    }
    if meta.len() == 0 {
        return Err(AppError::invalid_input(format!(
            "The bundle {} is empty: rebuild it.",
            path.display()
        )));
    }
    if meta.len() > limit {
        return Ok((Vec::new(), meta.len()));
    }
    let file = tokio::fs::File::open(path).await.map_err(|e| {
        AppError::invalid_input(format!(
            "The bundle {} cannot be read ({e}).",
            path.display()
        ))
    })?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| {
            AppError::invalid_input(format!(
                "The bundle {} cannot be read ({e}).",
                path.display()
            ))
        })?;
    let size = bytes.len() as u64;
    if size > limit {
        return Ok((Vec::new(), size));
    }
    Ok((bytes, size))
}

/// Merge git/package metadata with what was typed (typed wins; empty typed values are ignored).
pub(crate) fn merge_metadata(
    typed: &MetadataInput,
    git: Option<&GitInfo>,
    package_version: Option<&str>,
) -> DeploymentMetadata {
    let pick = |typed: &Option<String>, found: Option<&String>| {
        typed
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .or_else(|| found.cloned())
            .unwrap_or_default()
    };
    let version = typed
        .version
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .or_else(|| package_version.map(|v| format!("v{}", v.trim_start_matches('v'))));
    DeploymentMetadata {
        commit: pick(&typed.commit, git.and_then(|g| g.commit.as_ref())),
        branch: pick(&typed.branch, git.and_then(|g| g.branch.as_ref())),
        author: pick(&typed.author, git.and_then(|g| g.author.as_ref())),
        version,
    }
}

#[cfg(test)]
mod tests {
    use super::syntax::*;
    use super::*;
    use crate::deploy::sha256_hex;

    /// [`check_with`] on bytes hashed here, as the deploy hashes them once read.
    async fn check(
        node: Option<&Path>,
        bytes: &[u8],
        scratch: &Path,
        kept: &Path,
        token: &CancellationToken,
    ) -> Result<(bool, String), AppError> {
        check_with(
            node,
            &HashedBytes::new(bytes.to_vec()),
            scratch,
            kept,
            token,
        )
        .await
    }

    /// A stand-in for `node` that counts its runs in `runs` and refuses a file holding `BROKEN`
    /// the way Node does.
    fn counting_node(dir: &Path) -> (PathBuf, PathBuf) {
        let runs = dir.join("runs");
        let node = dir.join("node");
        std::fs::write(
            &node,
            format!(
                "#!/bin/sh\necho run >> '{}'\nif grep -q BROKEN \"$2\"; then echo 'SyntaxError: Unexpected identifier' >&2; exit 1; fi\nexit 0\n",
                runs.display()
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&node, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        (node, runs)
    }

    fn runs(file: &Path) -> usize {
        std::fs::read_to_string(file).map_or(0, |t| t.lines().count())
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_bundle_checked_once_is_not_checked_again_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let (node, count) = counting_node(dir.path());
        let (scratch, kept) = (dir.path().join("data/tmp"), dir.path().join("data/checks"));
        let token = CancellationToken::new();
        let bundle = b"export default { fetch() { return new Response('ok'); } };\n";

        let first = check(Some(&node), bundle, &scratch, &kept, &token)
            .await
            .unwrap();
        assert_eq!(first, (true, "node --check passed".into()));
        assert_eq!(runs(&count), 1);

        // The same bytes again: passed, and Node is not run.
        let (checked, note) = check(Some(&node), bundle, &scratch, &kept, &token)
            .await
            .unwrap();
        assert!(checked);
        assert!(note.contains("not run again"), "{note}");
        assert_eq!(runs(&count), 1, "node ran again for the same bundle");
        // Even with Node gone.
        let (checked, _) = check(None, bundle, &scratch, &kept, &token).await.unwrap();
        assert!(checked);

        // One byte changed: checked again.
        let changed = b"export default { fetch() { return new Response('ok!'); } };\n";
        let (checked, note) = check(Some(&node), changed, &scratch, &kept, &token)
            .await
            .unwrap();
        assert!(checked, "{note}");
        assert_eq!(note, "node --check passed");
        assert_eq!(runs(&count), 2);
        // A changed bundle without Node is said to be unchecked.
        let (checked, note) = check(None, b"export {};\n", &scratch, &kept, &token)
            .await
            .unwrap();
        assert!(!checked);
        assert!(note.contains("not checked"), "{note}");
        // No copy of a bundle stays in the scratch folder.
        assert_eq!(std::fs::read_dir(&scratch).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_broken_bundle_is_refused_every_time_and_never_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let (node, count) = counting_node(dir.path());
        let (scratch, kept) = (dir.path().join("data/tmp"), dir.path().join("data/checks"));
        let token = CancellationToken::new();
        let broken = b"export default { BROKEN fetch( };\n";
        for attempt in 1..=2 {
            let e = check(Some(&node), broken, &scratch, &kept, &token)
                .await
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidInput);
            assert!(
                e.message.contains("SyntaxError: Unexpected identifier"),
                "{}",
                e.message
            );
            assert_eq!(runs(&count), attempt, "a failed check is checked again");
        }
        // Without Node, it is not passed either: it is said to be unchecked.
        let (checked, _) = check(None, broken, &scratch, &kept, &token).await.unwrap();
        assert!(!checked);
        assert!(!kept.join(sha256_hex(broken)).exists());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_remembered_pass_that_is_not_whole_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let (node, count) = counting_node(dir.path());
        let (scratch, kept) = (dir.path().join("data/tmp"), dir.path().join("data/checks"));
        let token = CancellationToken::new();
        let bundle = b"export {};\n";
        std::fs::create_dir_all(&kept).unwrap();
        std::fs::write(kept.join(sha256_hex(bundle)), "switchyard syntax").unwrap();
        let (checked, note) = check(Some(&node), bundle, &scratch, &kept, &token)
            .await
            .unwrap();
        assert_eq!((checked, note.as_str()), (true, "node --check passed"));
        assert_eq!(runs(&count), 1);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_remembered_passes_are_bounded_and_the_least_recently_used_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let (node, count) = counting_node(dir.path());
        let (scratch, kept) = (dir.path().join("data/tmp"), dir.path().join("data/checks"));
        let token = CancellationToken::new();
        let bundle = |i: usize| format!("export const n = {i};\n").into_bytes();
        for i in 0..SYNTAX_CHECKS_KEPT + 8 {
            check(Some(&node), &bundle(i), &scratch, &kept, &token)
                .await
                .unwrap();
            if i > 0 {
                // The first bundle is deployed again and again: it stays.
                check(Some(&node), &bundle(0), &scratch, &kept, &token)
                    .await
                    .unwrap();
            }
        }
        assert_eq!(runs(&count), SYNTAX_CHECKS_KEPT + 8);
        assert_eq!(
            std::fs::read_dir(&kept).unwrap().count(),
            SYNTAX_CHECKS_KEPT
        );
        check(Some(&node), &bundle(0), &scratch, &kept, &token)
            .await
            .unwrap();
        let last = SYNTAX_CHECKS_KEPT + 7;
        check(Some(&node), &bundle(last), &scratch, &kept, &token)
            .await
            .unwrap();
        assert_eq!(
            runs(&count),
            SYNTAX_CHECKS_KEPT + 8,
            "recent ones are remembered"
        );
        check(Some(&node), &bundle(1), &scratch, &kept, &token)
            .await
            .unwrap();
        assert_eq!(
            runs(&count),
            SYNTAX_CHECKS_KEPT + 9,
            "the oldest was forgotten"
        );
    }

    #[test]
    fn typed_metadata_wins_and_package_version_becomes_a_tag() {
        let git = GitInfo {
            commit: Some("abc".into()),
            branch: Some("main".into()),
            author: Some("a@b".into()),
            ..GitInfo::default()
        };
        let typed = MetadataInput {
            branch: Some("  ".into()),
            author: Some("ops@x".into()),
            ..MetadataInput::default()
        };
        let m = merge_metadata(&typed, Some(&git), Some("1.2.3"));
        assert_eq!(m.commit, "abc");
        assert_eq!(m.branch, "main", "blank typed values do not override");
        assert_eq!(m.author, "ops@x");
        assert_eq!(m.version.as_deref(), Some("v1.2.3"));
        assert_eq!(merge_metadata(&typed, None, None).commit, "");
    }
}
