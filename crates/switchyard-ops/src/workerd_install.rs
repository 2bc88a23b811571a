//! Installing the pinned workerd from Settings, for an operator without `cargo xtask setup`: the
//! platform package (`@cloudflare/workerd-<platform>` at the version of the sandbox's lock file)
//! is streamed from the npm registry into a temporary file with progress, checked against the
//! sha512 the registry published for it (recorded in the committed lock file) **before** anything
//! is unpacked, and its one binary (`package/bin/workerd`) is extracted beside its destination,
//! run with `--version`, then renamed into the cache folder the sandbox looks in. Any failure —
//! a mismatched hash, a cut or oversized download, a disk error, a binary that does not run —
//! leaves nothing installed and says what failed and what to do. Nothing is downloaded unless
//! the operator asks: there is no silent fallback.
//!
//! Only the exact entry `package/bin/workerd` is read from the archive, and its path is never
//! used to name a file: an archive cannot write anywhere else (no path traversal).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha512};
use switchyard_core::{AppError, ErrorCode, SANDBOX_PROFILE_ID};
use switchyard_sandbox::runtime::locate;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use crate::{runtime_view, Ops, SandboxRuntime, WORKERD_PATH_SETTING};

mod download;
use download::*;

/// The npm registry used unless `SWITCHYARD_NPM_REGISTRY` (or npm's own `npm_config_registry`)
/// names another, e.g. a company mirror.
pub const DEFAULT_NPM_REGISTRY: &str = "https://registry.npmjs.org";
/// The largest download accepted (the pinned linux-64 tarball is about 50 MB).
pub const MAX_DOWNLOAD_BYTES: u64 = 256 * 1024 * 1024;
/// The largest binary accepted once unpacked (the pinned linux-64 binary is about 160 MB).
pub const MAX_BINARY_BYTES: u64 = 1024 * 1024 * 1024;
/// How long the sandbox's runtime gets to listen after an install before the result is told.
const RUNTIME_START_WAIT: Duration = Duration::from_secs(20);
/// Progress is reported at most once per this many bytes (and at the end).
const PROGRESS_EVERY_BYTES: u64 = 256 * 1024;

/// What to download and where its binary goes. [`WorkerdDownload::pinned`] is the sandbox's
/// pinned version for this machine; tests give their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerdDownload {
    /// `@cloudflare/workerd-linux-64`
    pub package: String,
    pub version: String,
    /// The tarball's URL.
    pub url: String,
    /// The hash the registry published for the tarball, in SRI form (`sha512-<base64>`).
    pub integrity: String,
    /// Where the binary is installed.
    pub destination: PathBuf,
    /// The path of the binary inside the tarball (`package/bin/workerd`).
    pub entry: String,
    pub max_download_bytes: u64,
    pub max_binary_bytes: u64,
}

/// The registry to download from: `SWITCHYARD_NPM_REGISTRY`, else `npm_config_registry` (npm's
/// own setting, so a mirror configured for npm is used here too), else registry.npmjs.org.
pub fn npm_registry() -> String {
    ["SWITCHYARD_NPM_REGISTRY", "npm_config_registry"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| DEFAULT_NPM_REGISTRY.to_owned())
        .trim()
        .trim_end_matches('/')
        .to_owned()
}

/// npm's tarball URL of a package: `<registry>/@scope/name/-/name-<version>.tgz`.
pub fn tarball_url(registry: &str, package: &str, version: &str) -> String {
    let bare = package.rsplit('/').next().unwrap_or(package);
    format!(
        "{}/{package}/-/{bare}-{version}.tgz",
        registry.trim_end_matches('/')
    )
}

impl WorkerdDownload {
    /// The sandbox's pinned platform package for this machine, from [`npm_registry`], checked
    /// against the integrity of the committed lock file, into the cache folder the sandbox looks
    /// in (`$XDG_CACHE_HOME/switchyard/workerd/<version>/node_modules/…/bin/workerd`).
    pub fn pinned() -> Result<WorkerdDownload, AppError> {
        let package = locate::pinned_platform_package().ok_or_else(|| {
            AppError::invalid_input(format!(
                "workerd publishes no prebuilt binary for this machine ({} on {}), so Switchyard cannot install it. Build workerd from source and choose the binary in Settings.",
                std::env::consts::OS,
                std::env::consts::ARCH
            ))
        })?;
        let destination = locate::cache_binary().ok_or_else(|| {
            AppError::invalid_input(
                "There is no cache folder to install workerd into: set HOME (or XDG_CACHE_HOME), then try again.",
            )
        })?;
        Ok(WorkerdDownload {
            url: tarball_url(&npm_registry(), &package.name, &package.version),
            entry: format!("package/bin/{}", locate::binary_name()),
            package: package.name,
            version: package.version,
            integrity: package.integrity,
            destination,
            max_download_bytes: MAX_DOWNLOAD_BYTES,
            max_binary_bytes: MAX_BINARY_BYTES,
        })
    }

    fn what(&self) -> String {
        format!("{} {}", self.package, self.version)
    }
}

/// Where an install is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "step", rename_all = "camelCase")]
pub enum WorkerdInstallEvent {
    /// Downloading: bytes received, of `total_bytes` when the registry said.
    #[serde(rename_all = "camelCase")]
    Download {
        #[cfg_attr(feature = "specta", specta(type = f64))]
        done_bytes: u64,
        #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
        total_bytes: Option<u64>,
    },
    /// Comparing the download with the published sha512.
    Verify,
    /// Unpacking the binary.
    Unpack,
    /// Running the binary with `--version`.
    Check,
    /// Starting the Local sandbox's runtime with it.
    StartRuntime,
}

/// A binary installed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledWorkerd {
    pub path: PathBuf,
    /// What `--version` printed, without `workerd ` (the runtime's date, e.g. `2026-11-23`).
    pub version: String,
}

fn failure(code: ErrorCode, message: String) -> AppError {
    // No runbook section covers installing workerd (the codes' defaults are about the platform).
    AppError {
        code,
        message,
        runbook: None,
    }
}

const TRY_AGAIN: &str =
    "Try again, or install it with `cargo xtask setup`, or choose a workerd binary in Settings.";

fn disk_error(path: &Path, e: &std::io::Error) -> AppError {
    failure(
        ErrorCode::InvalidInput,
        format!(
            "Writing workerd to {} failed ({e}); nothing was installed. Free some disk space or fix the folder's permissions, then try again.",
            path.display()
        ),
    )
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

fn cancelled() -> AppError {
    failure(
        ErrorCode::Cancelled,
        "The workerd install was cancelled; nothing was installed.".into(),
    )
}

/// The sha512 digest of an SRI string (`sha512-<base64>`, possibly among other hashes).
fn sha512_of_integrity(integrity: &str) -> Result<Vec<u8>, AppError> {
    integrity
        .split_whitespace()
        .find_map(|h| h.strip_prefix("sha512-"))
        .and_then(|b64| {
            let b64 = b64.split('?').next().unwrap_or(b64);
            base64::engine::general_purpose::STANDARD.decode(b64).ok()
        })
        .filter(|d| d.len() == 64)
        .ok_or_else(|| {
            failure(
                ErrorCode::Internal,
                format!("The published hash to check workerd against is not a sha512 hash ({integrity:?}); nothing was downloaded. Install workerd with `cargo xtask setup`."),
            )
        })
}

/// Reads the verified tarball and writes its one binary into a temporary file of `dir`,
/// executable, closed (so it can be run).
fn unpack(
    tarball: &Path,
    dir: &Path,
    download: &WorkerdDownload,
) -> Result<tempfile::TempPath, AppError> {
    let unreadable = |e: std::io::Error| {
        failure(
            ErrorCode::InvalidResponse,
            format!(
                "The download of {} matches its published hash but cannot be unpacked ({e}); nothing was installed. Install workerd with `cargo xtask setup`.",
                download.what()
            ),
        )
    };
    let file = std::fs::File::open(tarball).map_err(|e| disk_error(tarball, &e))?;
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
    let mut archive = tar::Archive::new(gz);
    let wanted = Path::new(&download.entry);
    for entry in archive.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        if entry.path().map_err(unreadable)?.as_ref() != wanted {
            continue;
        }
        if !entry.header().entry_type().is_file() {
            return Err(failure(
                ErrorCode::InvalidResponse,
                format!(
                    "In the package {}, {} is not a regular file; nothing was installed. Install workerd with `cargo xtask setup`.",
                    download.what(),
                    download.entry
                ),
            ));
        }
        if entry.size() > download.max_binary_bytes {
            return Err(too_large(
                download,
                "The unpacked binary",
                download.max_binary_bytes,
            ));
        }
        let mut out = tempfile::Builder::new()
            .prefix(".workerd-")
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(|e| disk_error(dir, &e))?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut copied = 0u64;
        loop {
            let n = entry.read(&mut buf).map_err(unreadable)?;
            if n == 0 {
                break;
            }
            copied += n as u64;
            if copied > download.max_binary_bytes {
                return Err(too_large(
                    download,
                    "The unpacked binary",
                    download.max_binary_bytes,
                ));
            }
            out.as_file_mut()
                .write_all(&buf[..n])
                .map_err(|e| disk_error(dir, &e))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            out.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o755))
                .map_err(|e| disk_error(out.path(), &e))?;
        }
        out.as_file_mut()
            .flush()
            .and_then(|()| out.as_file().sync_all())
            .map_err(|e| disk_error(out.path(), &e))?;
        return Ok(out.into_temp_path());
    }
    Err(failure(
        ErrorCode::InvalidResponse,
        format!(
            "The package {} has no {}; nothing was installed. Install workerd with `cargo xtask setup`.",
            download.what(),
            download.entry
        ),
    ))
}

/// Runs `binary --version`; what it printed after `workerd `.
async fn check_version(binary: &Path, download: &WorkerdDownload) -> Result<String, AppError> {
    let does_not_run = |why: String| {
        failure(
            ErrorCode::InvalidResponse,
            format!(
                "The downloaded workerd ({}) does not run on this machine: `workerd --version` {why}. Nothing was installed. Install workerd with `cargo xtask setup`, or choose a workerd binary in Settings.",
                download.what()
            ),
        )
    };
    let mut attempt = 0;
    let output = loop {
        attempt += 1;
        let run = tokio::process::Command::new(binary)
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        match tokio::time::timeout(Duration::from_secs(30), run).await {
            Err(_) => return Err(does_not_run("did not finish within 30 s".into())),
            // "Text file busy": a process forked elsewhere in this app may still hold the file
            // open for an instant; try again.
            Ok(Err(e)) if e.raw_os_error() == Some(26) && attempt < 5 => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(Err(e)) => return Err(does_not_run(format!("could not be started ({e})"))),
            Ok(Ok(o)) => break o,
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr: String = stderr.trim().chars().take(300).collect();
        return Err(does_not_run(format!(
            "failed ({}): {stderr}",
            output.status
        )));
    }
    match stdout.strip_prefix("workerd ") {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => Err(does_not_run(format!(
            "printed {:?}, not a workerd version",
            stdout.chars().take(100).collect::<String>()
        ))),
    }
}

/// Creates `dir` and its missing parents; the ones it created, outermost first.
fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>, AppError> {
    let mut missing = Vec::new();
    let mut d = Some(dir);
    while let Some(p) = d.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        missing.push(p.to_path_buf());
        d = p.parent();
    }
    missing.reverse();
    std::fs::create_dir_all(dir).map_err(|e| disk_error(dir, &e))?;
    Ok(missing)
}

/// Removes the folders an install created (when empty), innermost first.
fn remove_created(created: &[PathBuf]) {
    for d in created.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// Downloads `download`, verifies it, installs its binary at `download.destination` and checks
/// that it runs. Reports progress through `progress`; stops (installing nothing) when `cancel`
/// fires during the download. On any error nothing is installed: an earlier file at the
/// destination is left as it was, and folders this created are removed.
pub async fn install(
    download: &WorkerdDownload,
    cancel: &CancellationToken,
    mut progress: impl FnMut(WorkerdInstallEvent) + Send,
) -> Result<InstalledWorkerd, AppError> {
    let expected = sha512_of_integrity(&download.integrity)?;
    let dir = download
        .destination
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .ok_or_else(|| {
            AppError::invalid_input(format!(
                "{} is not a file path to install workerd at.",
                download.destination.display()
            ))
        })?
        .to_path_buf();
    let created = create_dirs(&dir)?;
    let result = install_in(download, &dir, &expected, cancel, &mut progress).await;
    if result.is_err() {
        remove_created(&created);
    }
    result
}

async fn install_in(
    download: &WorkerdDownload,
    dir: &Path,
    expected: &[u8],
    cancel: &CancellationToken,
    progress: &mut (dyn FnMut(WorkerdInstallEvent) + Send),
) -> Result<InstalledWorkerd, AppError> {
    // Both temporary files are deleted when dropped, whatever happens.
    let tarball = tempfile::Builder::new()
        .prefix(".workerd-download-")
        .suffix(".tgz")
        .tempfile_in(dir)
        .map_err(|e| disk_error(dir, &e))?;
    let (std_file, tarball_path) = tarball.into_parts();
    let mut file = tokio::fs::File::from_std(std_file);
    let got = fetch(download, &mut file, &tarball_path, cancel, progress).await?;
    drop(file);

    progress(WorkerdInstallEvent::Verify);
    if got != expected {
        let b64 = base64::engine::general_purpose::STANDARD;
        return Err(failure(
            ErrorCode::InvalidResponse,
            format!(
                "The download's sha512 does not match the hash the registry published for {} (expected {}, got {}): it was corrupted or altered on the way. Nothing was installed. {TRY_AGAIN}",
                download.what(),
                b64.encode(expected),
                b64.encode(&got)
            ),
        ));
    }
    if cancel.is_cancelled() {
        return Err(cancelled());
    }

    progress(WorkerdInstallEvent::Unpack);
    let binary = {
        let (tarball_path, dir, download) = (
            tarball_path.to_path_buf(),
            dir.to_path_buf(),
            download.clone(),
        );
        tokio::task::spawn_blocking(move || unpack(&tarball_path, &dir, &download))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "unpacking workerd did not finish");
                AppError::internal("Unpacking workerd")
            })??
    };
    drop(tarball_path);

    progress(WorkerdInstallEvent::Check);
    let version = check_version(&binary, download).await?;
    binary
        .persist(&download.destination)
        .map_err(|e| disk_error(&download.destination, &e.error))?;
    tracing::info!(path = %download.destination.display(), %version, "workerd installed");
    Ok(InstalledWorkerd {
        path: download.destination.clone(),
        version,
    })
}

/// The install in progress, to cancel it. One at a time per process: the cache folder is the
/// user's, not one data folder's.
static RUNNING: Mutex<Option<CancellationToken>> = Mutex::new(None);

/// Clears the running install when the install ends, however it ends.
struct RunningInstall;

impl Drop for RunningInstall {
    fn drop(&mut self) {
        *RUNNING.lock().expect("workerd install lock") = None;
    }
}

/// What Settings offers to install when no workerd is found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorkerdInstallOffer {
    /// `@cloudflare/workerd-linux-64`
    pub package: String,
    pub version: String,
    /// Where it is downloaded from.
    pub url: String,
    /// Where the binary is installed.
    pub destination: String,
    /// The download's size as the registry declares it.
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub download_bytes: Option<u64>,
    /// Why the size is not known, when it is not (e.g. the registry cannot be reached).
    pub size_unknown: Option<String>,
}

/// A finished install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorkerdInstalled {
    pub path: String,
    /// What the binary says its version is (`2026-11-23`).
    pub version: String,
    /// The Local sandbox executes deployed scripts with it now.
    pub in_use: bool,
    /// In words: what was installed, and whether the Local sandbox uses it now or from the next
    /// start of Switchyard.
    pub message: String,
    /// The Local sandbox's runtime after the install (None: no sandbox runs in this process).
    pub runtime: Option<SandboxRuntime>,
}

impl Ops {
    /// What installing the pinned workerd would download and where it would go, with the
    /// download's size from the registry (asked with a HEAD request, a few seconds at most).
    pub async fn workerd_install_offer(&self) -> Result<WorkerdInstallOffer, AppError> {
        let d = WorkerdDownload::pinned()?;
        let head = match http_client(Some(Duration::from_secs(8))) {
            Ok(c) => c.head(&d.url).send().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.message),
        };
        let (download_bytes, size_unknown) = match head {
            Ok(r) if r.status().is_success() => match declared_length(&r) {
                Some(n) => (Some(n), None),
                None => (None, Some("the registry did not say".to_owned())),
            },
            Ok(r) => (None, Some(format!("the registry answered {}", r.status()))),
            Err(e) => (
                None,
                Some(format!("the registry could not be reached: {e}")),
            ),
        };
        Ok(WorkerdInstallOffer {
            package: d.package,
            version: d.version,
            url: d.url,
            destination: d.destination.display().to_string(),
            download_bytes,
            size_unknown,
        })
    }

    /// Install the pinned workerd (see [`WorkerdDownload::pinned`]), then let the Local sandbox
    /// use it: when no workerd executes its scripts yet, its runtime is started now.
    pub async fn install_workerd(
        &self,
        progress: impl FnMut(WorkerdInstallEvent) + Send,
    ) -> Result<WorkerdInstalled, AppError> {
        let download = WorkerdDownload::pinned()?;
        self.install_workerd_from(download, progress).await
    }

    /// [`Ops::install_workerd`] of a given download (tests serve their own). Audited.
    pub async fn install_workerd_from(
        &self,
        download: WorkerdDownload,
        mut progress: impl FnMut(WorkerdInstallEvent) + Send,
    ) -> Result<WorkerdInstalled, AppError> {
        let token = {
            let mut running = RUNNING.lock().expect("workerd install lock");
            if running.is_some() {
                return Err(failure(
                    ErrorCode::Conflict,
                    "workerd is already being installed: wait for that install to finish, or cancel it.".into(),
                ));
            }
            let token = CancellationToken::new();
            *running = Some(token.clone());
            token
        };
        let _running = RunningInstall;
        let params = serde_json::json!({
            "package": download.package,
            "version": download.version,
            "url": download.url,
            "destination": download.destination,
        });
        let target = download.what();
        self.audited(
            SANDBOX_PROFILE_ID,
            "sandbox.workerd_install",
            &target,
            params,
            async {
                let installed = install(&download, &token, &mut progress).await?;
                progress(WorkerdInstallEvent::StartRuntime);
                Ok(self.use_installed_workerd(installed).await)
            },
        )
        .await
    }

    /// Cancel the workerd download in progress; whether one was.
    pub fn cancel_workerd_install(&self) -> bool {
        match RUNNING.lock().expect("workerd install lock").as_ref() {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }

    /// Starts the Local sandbox's runtime if nothing executes its scripts yet (it looks for
    /// workerd again, in its usual order), waits a little for it, and says what happened.
    async fn use_installed_workerd(&self, installed: InstalledWorkerd) -> WorkerdInstalled {
        let setting = self
            .store
            .setting(WORKERD_PATH_SETTING)
            .await
            .ok()
            .flatten();
        let started = {
            let mut guard = self.sandbox.lock().await;
            guard.as_mut().map(|sandbox| {
                if let Err(e) = sandbox.start_runtime(setting.as_deref().map(Path::new)) {
                    tracing::error!(error = %format!("{e:#}"), "starting the sandbox's runtime after the install");
                }
                sandbox.runtime()
            })
        };
        let path = installed.path.display().to_string();
        let v = &installed.version;
        let Some(runtime) = started else {
            return WorkerdInstalled {
                message: format!("workerd {v} is installed at {path}. The Local sandbox is not running in this window; it uses this workerd from the next start of Switchyard."),
                path,
                version: installed.version,
                in_use: false,
                runtime: None,
            };
        };
        let mut status = runtime.status();
        let ours = status
            .workerd
            .as_ref()
            .is_some_and(|w| w.path == installed.path);
        if ours && status.executing {
            runtime.ready(RUNTIME_START_WAIT).await;
            status = runtime.status();
        }
        let running = status.state == switchyard_sandbox::RuntimeState::Running;
        let message = if ours && running {
            format!("workerd {v} is installed at {path}. The Local sandbox runs deployed scripts with it now.")
        } else if ours {
            format!("workerd {v} is installed at {path}. The Local sandbox started it, but it is not answering yet: {} Health shows its state.", status.message)
        } else if status.executing {
            let other = status
                .workerd
                .as_ref()
                .map(|w| w.path.display().to_string())
                .unwrap_or_default();
            let next = locate::locate(setting.as_deref().map(Path::new))
                .is_ok_and(|b| b.path == installed.path);
            if next {
                format!("workerd {v} is installed at {path}. The Local sandbox keeps running {other} until Switchyard restarts, and uses this one from the next start.")
            } else {
                format!("workerd {v} is installed at {path}, but the Local sandbox runs {other}, which comes first in the order Switchyard looks for workerd (Settings, SWITCHYARD_WORKERD, MINIFLARE_WORKERD_PATH, this cache, wrangler).")
            }
        } else {
            format!(
                "workerd {v} is installed at {path}, but the Local sandbox does not find it: {}",
                status.message
            )
        };
        WorkerdInstalled {
            path,
            version: installed.version,
            in_use: ours && status.executing,
            message,
            runtime: Some(runtime_view(status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tarball_url_is_npms_layout() {
        assert_eq!(
            tarball_url("https://registry.npmjs.org/", "@cloudflare/workerd-linux-64", "1.20261123.1"),
            "https://registry.npmjs.org/@cloudflare/workerd-linux-64/-/workerd-linux-64-1.20261123.1.tgz"
        );
    }

    #[test]
    fn an_integrity_string_gives_its_sha512() {
        let digest = Sha512::digest(b"abc").to_vec();
        let sri = format!(
            "sha1-xyz sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(&digest)
        );
        assert_eq!(sha512_of_integrity(&sri).unwrap(), digest);
        assert!(sha512_of_integrity("sha1-AAAA").is_err());
        assert!(sha512_of_integrity("sha512-notbase64!").is_err());
    }

    #[test]
    fn the_pinned_download_checks_the_lock_files_hash() {
        let Ok(d) = WorkerdDownload::pinned() else {
            return; // an unsupported platform, or no home folder
        };
        let pinned = locate::pinned_platform_package().unwrap();
        assert_eq!(d.integrity, pinned.integrity);
        assert_eq!(d.version, switchyard_sandbox::pinned_workerd_version());
        assert!(d.url.ends_with(&format!("-{}.tgz", d.version)), "{}", d.url);
        assert_eq!(Some(d.destination), locate::cache_binary());
        assert!(sha512_of_integrity(&d.integrity).is_ok());
    }
}
