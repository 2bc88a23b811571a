//! Install what a fresh Debian/Ubuntu machine is missing: Debian packages, the UI's npm
//! packages, and tauri-driver. Idempotent: a second run installs nothing.

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
    // End-to-end tests: WebKitWebDriver.
    "webkit2gtk-driver",
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
