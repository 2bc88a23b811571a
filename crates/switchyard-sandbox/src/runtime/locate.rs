//! Where the workerd binary comes from, in order: the caller's choice (the app's setting),
//! `SWITCHYARD_WORKERD`, `MINIFLARE_WORKERD_PATH` (the convention of Cloudflare's own tools), the
//! cache folder `cargo xtask setup` installs the pinned version into, and an existing wrangler
//! install on `PATH`. Nothing is downloaded here: the app's Settings can install the pinned
//! platform package into the cache folder (`switchyard-ops`, from [`pinned_platform_package`]).

use std::path::{Path, PathBuf};

use serde::Serialize;

/// The pinned workerd npm package (`workerd/package.json` beside this crate's sources).
const PINNED_PACKAGE_JSON: &str = include_str!("../../workerd/package.json");

/// Its lock file: the integrity hash the registry published for every platform package.
const PINNED_PACKAGE_LOCK: &str = include_str!("../../workerd/package-lock.json");

/// The version of the `workerd` npm package the sandbox is pinned to, e.g. `1.20261123.1`.
pub fn pinned_version() -> String {
    serde_json::from_str::<serde_json::Value>(PINNED_PACKAGE_JSON)
        .ok()
        .and_then(|v| v["dependencies"]["workerd"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The npm package holding the binary for this machine (`@cloudflare/workerd-linux-64`…).
pub fn platform_package() -> Option<&'static str> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("workerd-linux-64"),
        ("linux", "aarch64") => Some("workerd-linux-arm64"),
        ("macos", "x86_64") => Some("workerd-darwin-64"),
        ("macos", "aarch64") => Some("workerd-darwin-arm64"),
        ("windows", "x86_64") => Some("workerd-windows-64"),
        _ => None,
    }
}

/// The platform package of the pinned version, as the lock file records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedPackage {
    /// The npm package name, e.g. `@cloudflare/workerd-linux-64`.
    pub name: String,
    pub version: String,
    /// The hash the registry published for its tarball, in SRI form (`sha512-<base64>`).
    pub integrity: String,
}

/// The pinned platform package for this machine, read from the committed lock file; `None` on
/// a platform workerd has no prebuilt binary for.
pub fn pinned_platform_package() -> Option<PinnedPackage> {
    let name = format!("@cloudflare/{}", platform_package()?);
    let lock: serde_json::Value = serde_json::from_str(PINNED_PACKAGE_LOCK).ok()?;
    let entry = &lock["packages"][format!("node_modules/{name}")];
    Some(PinnedPackage {
        version: entry["version"].as_str()?.to_owned(),
        integrity: entry["integrity"].as_str()?.to_owned(),
        name,
    })
}

/// The file name of the workerd binary (`workerd`, or `workerd.exe` on Windows).
pub fn binary_name() -> &'static str {
    if cfg!(windows) {
        "workerd.exe"
    } else {
        "workerd"
    }
}

/// `<node_modules>/@cloudflare/workerd-<platform>/bin/workerd`
fn in_node_modules(node_modules: &Path) -> Option<PathBuf> {
    Some(
        node_modules
            .join("@cloudflare")
            .join(platform_package()?)
            .join("bin")
            .join(binary_name()),
    )
}

/// The folder `cargo xtask setup` installs the pinned version into:
/// `$XDG_CACHE_HOME/switchyard/workerd/<version>` (or `~/.cache/…`).
pub fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(
        base.join("switchyard")
            .join("workerd")
            .join(pinned_version()),
    )
}

/// Where the pinned version's binary is in the cache folder (installed there or not):
/// `<cache_dir>/node_modules/@cloudflare/workerd-<platform>/bin/workerd`.
pub fn cache_binary() -> Option<PathBuf> {
    in_node_modules(&cache_dir()?.join("node_modules"))
}

/// Where a workerd binary was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerdSource {
    /// The path the caller chose (the app's setting, `--workerd`).
    Setting,
    /// `SWITCHYARD_WORKERD`
    SwitchyardEnv,
    /// `MINIFLARE_WORKERD_PATH`
    MiniflareEnv,
    /// The cache folder of the pinned version.
    Cache,
    /// The workerd that came with a wrangler on `PATH`.
    Wrangler,
}

/// A workerd binary to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkerdBinary {
    pub path: PathBuf,
    pub source: WorkerdSource,
}

/// Why no workerd could be used: every place looked at, with what was wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerdNotFound {
    pub searched: Vec<String>,
}

impl std::fmt::Display for WorkerdNotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "workerd (Cloudflare's Workers runtime) was not found, so deployed scripts are stored but not executed. Looked at: {}. Install it from Switchyard's Settings (Local sandbox runtime) or with `cargo xtask setup`, or set SWITCHYARD_WORKERD to a workerd binary.",
            self.searched.join("; ")
        )
    }
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

/// The workerd bundled with a `wrangler` found on `PATH` (npm's layouts: hoisted beside
/// wrangler, or nested under it or under miniflare).
fn from_wrangler() -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    let wrangler = std::env::split_paths(&paths)
        .map(|d| d.join("wrangler"))
        .find(|p| p.exists())?;
    // node_modules/.bin/wrangler → node_modules/wrangler/bin/wrangler.js
    let real = std::fs::canonicalize(&wrangler).ok()?;
    let package = real.parent()?.parent()?;
    let candidates = [
        package.parent().and_then(in_node_modules),
        in_node_modules(&package.join("node_modules")),
        in_node_modules(&package.join("node_modules/miniflare/node_modules")),
        package
            .parent()
            .and_then(|nm| in_node_modules(&nm.join("miniflare/node_modules"))),
    ];
    candidates.into_iter().flatten().find(|p| is_executable(p))
}

/// Finds workerd, in the order of the module's documentation.
pub fn locate(setting: Option<&Path>) -> Result<WorkerdBinary, WorkerdNotFound> {
    let mut searched = Vec::new();
    let mut explicit = |path: PathBuf, source: WorkerdSource, what: &str| {
        if is_executable(&path) {
            Some(WorkerdBinary { path, source })
        } else {
            searched.push(format!(
                "{what} {} (not an executable file)",
                path.display()
            ));
            None
        }
    };
    if let Some(p) = setting {
        if let Some(b) = explicit(p.to_path_buf(), WorkerdSource::Setting, "the setting") {
            return Ok(b);
        }
    }
    for (var, source) in [
        ("SWITCHYARD_WORKERD", WorkerdSource::SwitchyardEnv),
        ("MINIFLARE_WORKERD_PATH", WorkerdSource::MiniflareEnv),
    ] {
        if let Some(p) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            if let Some(b) = explicit(PathBuf::from(p), source, var) {
                return Ok(b);
            }
        }
    }
    match cache_binary() {
        Some(p) if is_executable(&p) => {
            return Ok(WorkerdBinary {
                path: p,
                source: WorkerdSource::Cache,
            })
        }
        Some(p) => searched.push(format!("the cache {} (not installed)", p.display())),
        None => searched.push("the cache (no home folder, or an unsupported platform)".into()),
    }
    match from_wrangler() {
        Some(path) => Ok(WorkerdBinary {
            path,
            source: WorkerdSource::Wrangler,
        }),
        None => {
            searched.push("a wrangler install on PATH (none with workerd)".into());
            Err(WorkerdNotFound { searched })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_version_is_read_from_the_package_file() {
        let v = pinned_version();
        assert!(
            v.split('.').count() == 3 && v.split('.').all(|p| p.parse::<u64>().is_ok()),
            "{v:?}"
        );
    }

    #[test]
    fn the_lock_file_pins_this_platforms_package_at_the_pinned_version() {
        let Some(p) = pinned_platform_package() else {
            assert!(
                platform_package().is_none(),
                "the lock has no entry for this platform"
            );
            return;
        };
        assert_eq!(p.version, pinned_version());
        assert!(p.name.starts_with("@cloudflare/workerd-"), "{p:?}");
        assert!(p.integrity.starts_with("sha512-"), "{p:?}");
    }

    #[test]
    fn a_setting_that_is_not_a_binary_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope/workerd");
        // The setting is looked at first; whatever is found after it, the miss is reported.
        match locate(Some(&missing)) {
            Ok(b) => assert_ne!(b.source, WorkerdSource::Setting),
            Err(e) => assert!(e.to_string().contains("nope/workerd"), "{e}"),
        }
    }
}
