//! Install what a fresh Debian/Ubuntu machine is missing: Debian packages, the UI's npm
//! packages, workerd (the pinned npm package, into the user's cache folder) and tauri-driver.
//! Idempotent: a second run installs nothing.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::steps;

/// Debian packages the build, the app and the test suite need.
pub const DEBIAN_PACKAGES: &[&str] = &[
    // Building Tauri 2 on Linux.
    "build-essential",
    "pkg-config",
    "libwebkit2gtk-4.1-dev",
    "libsoup-3.0-dev",
    "librsvg2-dev",
    "libayatana-appindicator3-dev",
    "libdbus-1-dev",
    // A virtual display, screenshots, and finding the window on it.
    "xvfb",
    "x11-utils",
    "imagemagick",
    "fonts-dejavu-core",
    // End-to-end tests: WebKitWebDriver, and xdotool to answer the system's save dialog (an
    // export's file is chosen there; WebDriver cannot reach a native window).
    "webkit2gtk-driver",
    "xdotool",
    // Keychain tests: a real Secret Service in a private D-Bus session.
    "dbus",
    "gnome-keyring",
    "libsecret-tools",
    // The runbook's curl examples run as written against the sandbox.
    "curl",
    "jq",
];

pub fn ensure_all(root: &Path) -> Result<()> {
    ensure_debian_packages()?;
    ensure_npm_packages(&root.join("ui"))?;
    ensure_workerd(root)?;
    ensure_tauri_driver()?;
    Ok(())
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn ensure_debian_packages() -> Result<()> {
    if Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_err()
    {
        println!(
            "xtask: this is not a Debian/Ubuntu system; install the equivalents of: {}",
            DEBIAN_PACKAGES.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = DEBIAN_PACKAGES
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let line = format!(
        "apt-get update && apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let sudo_ok = !is_root
        && Command::new("sudo")
            .args(["-n", "true"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
    if !is_root && !sudo_ok {
        bail!(
            "these Debian packages are missing: {}\nInstall them with:\n  sudo sh -c '{line}'\nthen run the command again.",
            missing.join(" ")
        );
    }
    println!("xtask: installing Debian packages: {}", missing.join(" "));
    let mut cmd = if is_root {
        Command::new("sh")
    } else {
        let mut c = Command::new("sudo");
        c.arg("sh");
        c
    };
    cmd.args(["-c", &line])
        .env("DEBIAN_FRONTEND", "noninteractive");
    steps::run_plain(cmd).with_context(|| format!("installing Debian packages failed; try: {line}"))
}

fn ensure_npm_packages(ui: &Path) -> Result<()> {
    let lock = ui.join("package-lock.json");
    let installed = ui.join("node_modules").join(".package-lock.json");
    let fresh = match (std::fs::metadata(&lock), std::fs::metadata(&installed)) {
        (Ok(l), Ok(i)) => match (l.modified(), i.modified()) {
            (Ok(lm), Ok(im)) => im >= lm,
            _ => false,
        },
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    if Command::new("npm").arg("--version").output().is_err() {
        bail!("npm is missing: install Node.js 20 or newer (with npm), then run the command again");
    }
    steps::run_plain(steps::npm(ui, &["ci", "--no-audit", "--no-fund"]))
}

/// The folder holding the pinned workerd package (`package.json` and its lock).
fn workerd_package_dir(root: &Path) -> std::path::PathBuf {
    root.join("crates/switchyard-sandbox/workerd")
}

/// The pinned version of the `workerd` npm package.
fn workerd_version(root: &Path) -> Result<String> {
    let path = workerd_package_dir(root).join("package.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let marker = "\"workerd\": \"";
    let start = text
        .find(marker)
        .with_context(|| format!("{} names no workerd version", path.display()))?
        + marker.len();
    let len = text[start..]
        .find('"')
        .with_context(|| format!("{} is cut short", path.display()))?;
    Ok(text[start..start + len].to_owned())
}

/// Where the sandbox looks for the pinned workerd (it computes the same path):
/// `$XDG_CACHE_HOME/switchyard/workerd/<version>`, or `~/.cache/…`.
pub fn workerd_cache_dir(root: &Path) -> Result<std::path::PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .context("neither XDG_CACHE_HOME nor HOME is set: no cache folder for workerd")?;
    Ok(base
        .join("switchyard")
        .join("workerd")
        .join(workerd_version(root)?))
}

/// The workerd binary inside an installed cache folder (x86-64 and arm64 Linux and macOS).
pub fn workerd_binary(cache: &Path) -> Option<std::path::PathBuf> {
    let package = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "workerd-linux-64",
        ("linux", "aarch64") => "workerd-linux-arm64",
        ("macos", "x86_64") => "workerd-darwin-64",
        ("macos", "aarch64") => "workerd-darwin-arm64",
        _ => return None,
    };
    Some(
        cache
            .join("node_modules/@cloudflare")
            .join(package)
            .join("bin/workerd"),
    )
}

/// Installs the pinned workerd with `npm ci` from the committed lock file, which checks every
/// package against the registry's published integrity hash. Skipped when `SWITCHYARD_WORKERD`
/// names a binary, or when the cache already holds one that runs.
fn ensure_workerd(root: &Path) -> Result<()> {
    if std::env::var_os("SWITCHYARD_WORKERD").is_some_and(|p| Path::new(&p).is_file()) {
        return Ok(());
    }
    let cache = workerd_cache_dir(root)?;
    let Some(binary) = workerd_binary(&cache) else {
        println!("xtask: no prebuilt workerd for this platform; the sandbox will store scripts without executing them");
        return Ok(());
    };
    let runs = || {
        Command::new(&binary)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if runs() {
        return Ok(());
    }
    println!("xtask: installing workerd into {}", cache.display());
    std::fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(workerd_package_dir(root).join(file), cache.join(file))
            .with_context(|| format!("copying {file} into {}", cache.display()))?;
    }
    // The package's install script only re-checks the binary; `--version` below does that.
    steps::run_plain(steps::npm(
        &cache,
        &["ci", "--ignore-scripts", "--no-audit", "--no-fund"],
    ))
    .context("installing workerd with npm failed")?;
    if !runs() {
        bail!(
            "workerd was installed into {} but `{} --version` fails",
            cache.display(),
            binary.display()
        );
    }
    Ok(())
}

/// `tauri-driver` on PATH or in cargo's bin folder.
pub fn tauri_driver_path() -> Option<std::path::PathBuf> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .map(|d| d.join("bin").join("tauri-driver"));
    if let Some(p) = cargo_bin.filter(|p| p.exists()) {
        return Some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("tauri-driver"))
            .find(|p| p.exists())
    })
}

fn ensure_tauri_driver() -> Result<()> {
    if tauri_driver_path().is_some() {
        return Ok(());
    }
    steps::run_plain(steps::cargo(&[
        "install",
        "tauri-driver",
        "--version",
        "^2",
        "--locked",
    ]))
}

/// Wrap `cmd` so it runs in a private D-Bus session with an unlocked gnome-keyring, which the
/// keychain tests talk to. The keyring lives in a throwaway folder, never the user's own.
pub fn in_keyring_session(cmd: Command) -> Command {
    in_keyring_session_at(cmd, &crate::root().join("target").join("test-keyring"))
}

/// [`in_keyring_session`] with the throwaway keyring in `keyring_home` (emptied first).
pub fn in_keyring_session_at(cmd: Command, keyring_home: &std::path::Path) -> Command {
    let has = |bin: &str| {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(bin).exists()))
    };
    if !has("dbus-run-session") || !has("gnome-keyring-daemon") {
        return cmd;
    }
    let _ = std::fs::remove_dir_all(keyring_home);
    let _ = std::fs::create_dir_all(keyring_home);
    let mut wrapped = Command::new("dbus-run-session");
    wrapped
        .args([
            "--",
            "sh",
            "-c",
            // The password only unlocks this throwaway test keyring.
            "printf test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec \"$@\"",
            "sh",
        ])
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env("XDG_DATA_HOME", keyring_home);
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    wrapped
}
