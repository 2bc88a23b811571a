//! A virtual X display for running the real window without a screen.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub struct Xvfb {
    number: u32,
    child: Child,
}

impl Xvfb {
    /// Start Xvfb on the first free display number from :90.
    pub fn start() -> Result<Xvfb> {
        let number = (90..200)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .context("no free X display number between :90 and :199")?;
        let child = Command::new("Xvfb")
            .arg(format!(":{number}"))
            .args(["-screen", "0", "1440x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("could not start Xvfb (Debian package xvfb)")?;
        let mut display = Xvfb { number, child };
        // Ready when a client is served, not when the socket file appears: on a fresh machine
        // Xvfb compiles its keymap first, and an app started before that fails to open GTK
        // (CI lost the first end-to-end test that way, all three attempts).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = display.child.try_wait() {
                bail!("Xvfb exited ({status}) before display :{number} was ready");
            }
            let served = Command::new("xdpyinfo")
                .args(["-display", &display.name()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if served {
                return Ok(display);
            }
            if Instant::now() > deadline {
                bail!("Xvfb did not serve display :{number} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn name(&self) -> String {
        format!(":{}", self.number)
    }

    /// Wait until a top-level window titled `title` exists on this display.
    pub fn wait_for_window(&self, title: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let needle = format!("\"{title}\"");
        loop {
            let out = Command::new("xwininfo")
                .args(["-root", "-tree", "-display", &self.name()])
                .output()
                .context("could not run xwininfo (Debian package x11-utils)")?;
            if String::from_utf8_lossy(&out.stdout).contains(&needle) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("no window titled {title} appeared within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Save the whole screen as a PNG.
    pub fn screenshot(&self, path: &Path) -> Result<()> {
        let status = Command::new("import")
            .args(["-display", &self.name(), "-window", "root"])
            .arg(path)
            .status()
            .context("could not run import (Debian package imagemagick)")?;
        if !status.success() {
            bail!("taking the screenshot failed ({status})");
        }
        Ok(())
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
