//! Switchyard's task runner. `cargo xtask <task>`:
//!
//! - `run`      install what is missing, build the UI and the app, open the window (headless:
//!   start Xvfb, open it there, save a screenshot and print its path)
//! - `test`     install what is missing and run every check; ends with `N passed, N failed`
//! - `e2e`      only the end-to-end suite (real window under Xvfb, driven over WebDriver)
//! - `bindings` regenerate `ui/src/ipc/bindings.ts` from the Rust IPC surface
//! - `bundle`   build a `.deb` of the app
//! - `bench`    measure the app against its baselines (hello-world window, curl, wrangler) and
//!   write `target/bench/report.md`
//! - `fuzz`     the property tests of every parser of untrusted input, long (release; the
//!   number of cases per property is the argument, 20000 by default)
//! - `setup`    only install what is missing
//!
//! It must not depend on any other Switchyard crate: it drives them through cargo.

mod bench;
mod bench_report;
mod setup;
mod steps;
mod xvfb;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::steps::{Outcome, Tally};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    let result = match task {
        "run" => run(rest),
        "test" => test(rest),
        "e2e" => e2e_only(),
        "bindings" => bindings(),
        "bundle" => bundle(),
        "bench" => bench::bench(),
        "fuzz" => fuzz(rest),
        "setup" => setup::ensure_all(&root()).map(|_| ExitCode::SUCCESS),
        "help" | "--help" | "-h" => {
            println!("{}", HELP);
            Ok(ExitCode::SUCCESS)
        }
        other => {
            eprintln!("unknown task `{other}`\n\n{HELP}");
            Ok(ExitCode::from(2))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

const HELP: &str = "usage: cargo xtask <task>

  run        install what is missing, build the UI and the app, open the window
             (no display: starts Xvfb, opens the app there, prints a screenshot path)
  test       install what is missing and run everything: rustfmt, clippy, cargo tests,
             UI typecheck + lint + Vitest, bindings freshness, end-to-end suite
  e2e        only the end-to-end suite
  bindings   regenerate ui/src/ipc/bindings.ts from the Rust IPC surface
  bundle     build a .deb of the app (target/dist/bundle/deb/)
  bench      measure against the baselines; writes target/bench/report.md (about 20 minutes)
  fuzz [N]   the parsers of untrusted input (runbooks, wrangler.jsonc, profile imports, every
             API response) against N generated inputs each (default 20000), in release
  setup      only install what is missing (Debian packages, npm packages, tauri-driver)";

/// The workspace root (xtask lives in `<root>/xtask`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

fn ui_dir() -> PathBuf {
    root().join("ui")
}

/// Path of the debug build of the app.
pub fn app_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    target.join("debug").join("switchyard")
}

fn build_ui() -> Result<()> {
    steps::run_plain(steps::npm(&ui_dir(), &["run", "build"]))
}

fn build_app() -> Result<()> {
    steps::run_plain(steps::cargo(&[
        "build",
        "--package",
        "switchyard-desktop",
        "--package",
        "switchyard-sandbox",
    ]))
}

fn run(args: &[String]) -> Result<ExitCode> {
    let root = root();
    setup::ensure_all(&root)?;
    build_ui()?;
    build_app()?;
    let app = app_binary();
    let has_display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
    if has_display && !args.iter().any(|a| a == "--headless") {
        println!("Opening Switchyard ({})", app.display());
        let status = std::process::Command::new(&app).status()?;
        return Ok(if status.success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    println!("No display found: starting a virtual one (Xvfb) to prove the app runs.");
    let display = xvfb::Xvfb::start()?;
    let out_dir = root.join("target").join("run");
    std::fs::create_dir_all(&out_dir)?;
    let shot = out_dir.join("switchyard.png");
    let mut child = std::process::Command::new(&app)
        .env("DISPLAY", display.name())
        .spawn()?;
    let shown = display.wait_for_window("Switchyard", std::time::Duration::from_secs(60));
    let screenshot = shown.and_then(|_| {
        // Let the UI paint its first screen before the picture is taken.
        std::thread::sleep(std::time::Duration::from_secs(4));
        display.screenshot(&shot)
    });
    let exited = child.try_wait()?;
    let _ = child.kill();
    let _ = child.wait();
    if let Some(status) = exited {
        bail!("Switchyard exited early ({status}); run it with SWITCHYARD_LOG=debug to see why");
    }
    screenshot?;
    println!(
        "Switchyard opened on the virtual display {}.",
        display.name()
    );
    println!("Screenshot of the window: {}", shot.display());
    println!("(On a machine with a display, `cargo xtask run` opens the window itself.)");
    Ok(ExitCode::SUCCESS)
}

/// The property tests of every parser of untrusted input, with many more cases than the normal
/// suite runs (64): `cargo xtask fuzz [cases]`.
fn fuzz(args: &[String]) -> Result<ExitCode> {
    let cases: u32 = match args.first() {
        None => 20_000,
        Some(n) => n.parse().map_err(|_| {
            anyhow::anyhow!("`cargo xtask fuzz {n}`: the number of cases must be a whole number")
        })?,
    };
    let runs: [&[&str]; 4] = [
        &[
            "test",
            "--release",
            "-p",
            "switchyard-runbooks",
            "--test",
            "fuzz",
        ],
        &[
            "test",
            "--release",
            "-p",
            "switchyard-clients",
            "--test",
            "fuzz",
        ],
        &[
            "test",
            "--release",
            "-p",
            "switchyard-ops",
            "--test",
            "fuzz",
        ],
        &[
            "test",
            "--release",
            "-p",
            "switchyard-ops",
            "--lib",
            "the_wrangler_reader_never_panics",
        ],
    ];
    for args in runs {
        let mut cmd = steps::cargo(args);
        cmd.env("SWITCHYARD_FUZZ_CASES", cases.to_string());
        println!("{cases} cases: cargo {}", args.join(" "));
        steps::run_plain(cmd)?;
    }
    println!("fuzz: every property held for {cases} cases each");
    Ok(ExitCode::SUCCESS)
}

fn bindings() -> Result<ExitCode> {
    let mut cmd = steps::cargo(&[
        "test",
        "--package",
        "switchyard-desktop",
        "--test",
        "bindings",
    ]);
    cmd.env("SWITCHYARD_WRITE_BINDINGS", "1");
    steps::run_plain(cmd)?;
    println!("wrote ui/src/ipc/bindings.ts");
    // One name per IPC type for the UI's code (ui/src/ipc/types.ts, see ui/scripts/ipc-types.mjs).
    let mut types = std::process::Command::new("node");
    types
        .arg("scripts/ipc-types.mjs")
        .current_dir(root().join("ui"));
    steps::run_plain(types)?;
    Ok(ExitCode::SUCCESS)
}

fn bundle() -> Result<ExitCode> {
    setup::ensure_all(&root())?;
    bundle_deb()?;
    println!(
        "The .deb is in {}",
        root().join("target/dist/bundle/deb").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The Tauri CLI (an npm package of the UI) builds the UI, the app and the .deb.
fn bundle_deb() -> Result<()> {
    steps::run_plain(tauri_build(&["--bundles", "deb"])?)
}

/// `tauri build <args> -- --profile dist`: the UI, then the app as it is installed (Cargo.toml's
/// `dist` profile: link-time optimized, a smaller binary and .deb), into `target/dist/`. It runs
/// from src-tauri, where the CLI finds tauri.conf.json.
pub(crate) fn tauri_build(args: &[&str]) -> Result<std::process::Command> {
    tauri_build_with(args, "dist")
}

/// [`tauri_build`] with another Cargo profile (the bench's `SWITCHYARD_BENCH_PROFILE=release`).
pub(crate) fn tauri_build_with(args: &[&str], profile: &str) -> Result<std::process::Command> {
    let cli = ui_dir().join("node_modules/.bin/tauri");
    if !cli.exists() {
        bail!(
            "the Tauri CLI is missing ({}): run `cargo xtask setup`",
            cli.display()
        );
    }
    let mut cmd = std::process::Command::new(cli);
    cmd.arg("build")
        .args(args)
        .args(["--", "--profile", profile])
        .current_dir(root().join("src-tauri"));
    Ok(cmd)
}

fn e2e_only() -> Result<ExitCode> {
    let root = root();
    setup::ensure_all(&root)?;
    build_ui()?;
    let mut tally = Tally::default();
    e2e(&mut tally)?;
    println!("{}", tally.summary());
    Ok(tally.exit_code())
}

/// The end-to-end suite: build the app once, then run the WebDriver scenarios on a virtual display.
fn e2e(tally: &mut Tally) -> Result<()> {
    if let Err(e) = build_app() {
        tally.record(
            "build the app for end-to-end tests",
            Outcome::failed_step(e),
        );
        return Ok(());
    }
    let display = xvfb::Xvfb::start()?;
    // Every e2e* test target of the tests package, one scenario at a time, in a D-Bus session
    // with a real (throwaway) keychain.
    let mut cmd = steps::cargo(&[
        "test",
        "--package",
        "switchyard-tests",
        "--test",
        "e2e*",
        "--no-fail-fast",
        "--",
        "--ignored",
        "--test-threads=1",
    ]);
    cmd.env("DISPLAY", display.name())
        .env("SWITCHYARD_APP", app_binary());
    tally.record(
        "end-to-end suite",
        steps::run_counted(setup::in_keyring_session(cmd)),
    );
    Ok(())
}

fn test(args: &[String]) -> Result<ExitCode> {
    let skip_e2e = args.iter().any(|a| a == "--no-e2e");
    let root = root();
    setup::ensure_all(&root)?;
    let ui = ui_dir();
    let mut tally = Tally::default();

    // The app embeds ui/dist at compile time, so the UI is built before any Rust step.
    if let Err(e) = build_ui() {
        tally.record("UI build", Outcome::failed_step(e));
    }
    tally.record(
        "rustfmt",
        steps::run_step(steps::cargo(&["fmt", "--all", "--", "--check"])),
    );
    tally.record(
        "clippy",
        steps::run_step(steps::cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])),
    );
    // Unit and integration tests of every crate; the bindings freshness test is among them
    // (src-tauri/tests/bindings.rs). The end-to-end tests are #[ignore]d here and run below.
    // Test threads get 8 MiB of stack: a runbook rehearsal that deploys (a deep chain of async
    // calls) needs between 1 and 2 MiB in a debug build, and once overflowed the default 2 MiB.
    let mut cargo_test = steps::cargo(&["test", "--workspace", "--no-fail-fast"]);
    cargo_test.env("RUST_MIN_STACK", "8388608");
    tally.record(
        "cargo test",
        steps::run_counted(setup::in_keyring_session(cargo_test)),
    );
    tally.record(
        "UI typecheck",
        steps::run_step(steps::npm(&ui, &["run", "typecheck"])),
    );
    tally.record(
        "UI lint",
        steps::run_step(steps::npm(&ui, &["run", "lint"])),
    );
    tally.record(
        "UI tests (Vitest)",
        steps::run_counted(steps::npm(&ui, &["test"])),
    );
    if skip_e2e {
        println!("(end-to-end suite skipped: --no-e2e)");
    } else {
        e2e(&mut tally)?;
    }
    tally.print_failures();
    println!("{}", tally.summary());
    Ok(tally.exit_code())
}
