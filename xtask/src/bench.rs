//! `cargo xtask bench`: build the app and the hello-world window as the installer builds them
//! (the `dist` profile: link-time optimized) and the other binaries in release, start a sandbox
//! with generated data,
//! run the engine's benchmarks (crates/switchyard-ops/benches/engine.rs) and the window's
//! (tests/tests/bench_ui.rs) next to their baselines, bundle the .deb, and write
//! `target/bench/report.md` and `report.json`. Results are ratios against baselines measured in
//! the same run, because the machine is shared; nothing here asserts a speed.
//!
//! Every wait is bounded, and the only servers contacted are the ones started here on 127.0.0.1
//! (installing wrangler with npm is the one registry call).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::bench_report::{markdown, table_rows};
use crate::{root, setup, steps, xvfb};

/// The wrangler major version the namespace-list baseline installs.
const WRANGLER: &str = "wrangler@4";

/// The groups of the engine's rows `SWITCHYARD_BENCH_ONLY` can name (crates/switchyard-ops/
/// benches/engine.rs `wants`): `history` rows 5a–5b, `deploy` rows 7a–7c, `health` row 3,
/// `namespaces` rows 4a–4b, `workers` row 6a, `live` rows 9a–9c, `rollout` row 10.
const ENGINE_GROUPS: [&str; 7] = [
    "health",
    "namespaces",
    "history",
    "workers",
    "deploy",
    "live",
    "rollout",
];

/// `SWITCHYARD_BENCH_ONLY`: measure only some rows. `tail`: row 9d (a console.log → the line
/// shown in the window, against a minimal tail client), with no .deb, wrangler or engine stage
/// and no other window row. `window`: the window rows 1, 2, 6b and 6c (cold starts, memory, the
/// 10,000-script namespace) with no .deb, wrangler, engine or tail stage. `start`: rows 1, 1b, 2a
/// and 2b alone (the window rows without the large namespace). One or more of [`ENGINE_GROUPS`], comma-separated (e.g.
/// `history,deploy`): those engine rows alone, with no UI, app, .deb, wrangler or window stage.
/// Unset: every row.
fn only() -> Result<Option<String>> {
    match std::env::var("SWITCHYARD_BENCH_ONLY") {
        Err(_) => Ok(None),
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) if ["tail", "window", "start"].contains(&v.trim()) => Ok(Some(v.trim().into())),
        Ok(v) if v.split(',').all(|g| ENGINE_GROUPS.contains(&g.trim())) => Ok(Some(
            v.split(',').map(str::trim).collect::<Vec<_>>().join(","),
        )),
        Ok(v) => bail!(
            "SWITCHYARD_BENCH_ONLY={v}: use `tail` (row 9d), `window` (rows 1, 2, 6b, 6c), `start` (rows 1, 2a, 2b) or some of {} (comma-separated)",
            ENGINE_GROUPS.join(", ")
        ),
    }
}

/// A run of engine rows only (no window, so no UI or app build).
fn engine_only(only: Option<&str>) -> bool {
    only.is_some_and(|o| o != "tail" && o != "window" && o != "start")
}

fn target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// A child process (the sandbox) stopped when dropped.
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The executables the benchmarks run, found in cargo's build messages (the app and the
/// hello-world window: [`build_dist`]; the others: [`build_release`]).
#[derive(Debug, Default)]
struct Executables {
    app: Option<PathBuf>,
    hello: Option<PathBuf>,
    sandbox: Option<PathBuf>,
    engine_bench: Option<PathBuf>,
    ui_bench: Option<PathBuf>,
}

/// One `cargo build --release` for the sandbox, the engine benchmark and the window benchmark (a
/// test target of the e2e crate), so shared dependencies are built once with one set of
/// features. With `engine_only`, the sandbox and the engine benchmark alone.
fn build_release(engine_only: bool) -> Result<Executables> {
    let args: &[&str] = if engine_only {
        &[
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
            "--package",
            "switchyard-sandbox",
            "--package",
            "switchyard-ops",
            "--bins",
            "--bench",
            "engine",
        ]
    } else {
        &[
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
            "--package",
            "switchyard-sandbox",
            "--package",
            "switchyard-ops",
            "--package",
            "switchyard-tests",
            "--bins",
            "--bench",
            "engine",
            "--test",
            "bench_ui",
        ]
    };
    println!("\n==> cargo build --release (sandbox, benchmarks)");
    build_collecting(args)
}

/// The app as the installer builds it (`tauri build -- --profile dist`, the .deb too when
/// `bundle`), and the hello-world window built the same way, so the window rows measure what an
/// operator installs against a baseline built alike. The .deb's size in bytes, or why not.
fn build_dist(bundle: bool) -> Result<(Executables, Option<Result<u64, String>>)> {
    let profile = window_profile()?;
    if bundle && profile != "dist" {
        bail!("SWITCHYARD_BENCH_PROFILE={profile} is for the window modes (`SWITCHYARD_BENCH_ONLY=window|start|tail`): the whole run measures the installer, built with the dist profile");
    }
    println!("\n==> tauri build -- --profile {profile} (the app for the window rows)");
    let deb = if bundle {
        Some(bundle_deb())
    } else {
        let cmd = crate::tauri_build_with(&["--no-bundle"], profile)?;
        steps::run_plain(cmd).context("building the app (`tauri build --no-bundle`)")?;
        None
    };
    if let Some(Err(e)) = &deb {
        bail!("building the app and its .deb (`tauri build`) failed: {e}");
    }
    println!("\n==> cargo build --profile {profile} (the hello-world window, built alike)");
    let mut found = build_collecting(&[
        "build",
        "--profile",
        profile,
        "--message-format=json-render-diagnostics",
        "--package",
        "switchyard-hello",
        "--bins",
    ])?;
    found.app = Some(target().join(profile).join("switchyard"));
    Ok((found, deb))
}

/// The profile the window rows' app and hello-world window are built with: `dist` (as installed),
/// or `release` when `SWITCHYARD_BENCH_PROFILE=release` — for trying a change to the page or the
/// shell without the ~7-minute link-time-optimized link each time. The README's table comes from
/// `dist`; the report says which profile measured.
fn window_profile() -> Result<&'static str> {
    match std::env::var("SWITCHYARD_BENCH_PROFILE").as_deref() {
        Err(_) | Ok("") | Ok("dist") => Ok("dist"),
        Ok("release") => Ok("release"),
        Ok(other) => bail!(
            "SWITCHYARD_BENCH_PROFILE={other}: use `dist` (the default, as installed) or `release` (faster to build, for trying changes)"
        ),
    }
}

/// Run `cargo args` (with JSON messages) and find the executables it built.
fn build_collecting(args: &[&str]) -> Result<Executables> {
    let mut cmd = steps::cargo(args);
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .context("could not start cargo")?;
    let mut found = Executables::default();
    let stdout = child.stdout.take().context("cargo's stdout")?;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(exe) = msg["executable"].as_str().map(PathBuf::from) else {
            continue;
        };
        let slot = match msg["target"]["name"].as_str().unwrap_or_default() {
            "switchyard" => &mut found.app,
            "switchyard-hello" => &mut found.hello,
            "switchyard-sandbox" => &mut found.sandbox,
            "engine" => &mut found.engine_bench,
            "bench_ui" => &mut found.ui_bench,
            _ => continue,
        };
        *slot = Some(exe);
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(found)
}

fn need(exe: &Option<PathBuf>, what: &str) -> Result<PathBuf> {
    exe.clone()
        .with_context(|| format!("the release build produced no {what}"))
}

/// The .deb from the Tauri bundler, as `cargo xtask bundle` makes it (`tauri build --bundles
/// deb -- --profile dist`, which also builds the app). Its size in bytes, or why not.
fn bundle_deb() -> Result<u64, String> {
    let dir = target().join("dist/bundle/deb");
    let _ = std::fs::remove_dir_all(&dir);
    let cmd = crate::tauri_build(&["--bundles", "deb"]).map_err(|e| format!("{e:#}"))?;
    steps::run_plain(cmd).map_err(|e| format!("{e:#}"))?;
    std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "deb"))
        .find_map(|e| e.metadata().ok().map(|m| m.len()))
        .ok_or_else(|| format!("the bundler left no .deb in {}", dir.display()))
}

/// wrangler from npm in `dir` (not the user's global packages), or why not.
fn install_wrangler(dir: &Path) -> Result<PathBuf, String> {
    let bin = dir.join("node_modules/.bin/wrangler");
    if bin.exists() {
        return Ok(bin);
    }
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut npm = steps::npm(
        dir,
        &["install", "--no-audit", "--no-fund", "--prefix", "."],
    );
    npm.arg(WRANGLER).stdout(Stdio::null());
    let status = match run_bounded(npm, Duration::from_secs(600)) {
        Ok(s) => s,
        Err(e) => return Err(format!("`npm install {WRANGLER}`: {e:#}")),
    };
    if status.success() && bin.exists() {
        Ok(bin)
    } else {
        Err(format!("`npm install {WRANGLER}` failed ({status})"))
    }
}

/// Run `cmd` and wait at most `limit`, killing it past that.
fn run_bounded(mut cmd: Command, limit: Duration) -> Result<std::process::ExitStatus> {
    let mut child = cmd.spawn().context("could not start the command")?;
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("still running after {limit:?}: stopped");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The sandbox binary on a fresh folder with 100,000 deployments and a 100,000-script namespace;
/// waits (at most 5 minutes) until it says it serves, which it does once that data is written
/// (its discovery file comes first: a row measured before then would race the writing, and a
/// sync would find part of the history).
fn start_sandbox(bin: &Path, dir: &Path) -> Result<Stopped> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let log_path = dir.with_extension("log");
    let log = std::fs::File::create(&log_path)?;
    let child = Command::new(bin)
        .args(["--port", "0", "--data"])
        .arg(dir)
        .args([
            "--generate-deployments",
            "100000",
            "--generate-scripts",
            "dotdo-bench=100000",
        ])
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let mut sandbox = Stopped(child);
    let deadline = Instant::now() + Duration::from_secs(300);
    let started = Instant::now();
    while !std::fs::read_to_string(&log_path).is_ok_and(|log| log.contains("serving on")) {
        if let Some(status) = sandbox.0.try_wait()? {
            bail!("the sandbox exited ({status}); see {}", log_path.display());
        }
        if Instant::now() > deadline {
            bail!(
                "the sandbox did not start within 5 minutes; see {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "bench: the sandbox wrote its data and serves ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(sandbox)
}

fn machine() -> Value {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0 / 1024.0);
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_default();
    json!({
        "date": shell_out("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        "cores": cores,
        "cpu": cpu,
        "memory_gib": mem_gib,
        "os": os,
        "load_average_start": load_average(),
        "rustc": shell_out("rustc", &["--version"]),
        "webkit2gtk": shell_out("dpkg-query", &["-W", "-f", "${Version}", "libwebkit2gtk-4.1-0"]),
    })
}

fn shell_out(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A stage's time, kept for the report.
fn timed<T>(stages: &mut Vec<(String, f64)>, name: &str, f: impl FnOnce() -> T) -> T {
    println!("\nbench: {name}…");
    let t = Instant::now();
    let out = f();
    stages.push((name.to_owned(), t.elapsed().as_secs_f64()));
    out
}

pub fn bench() -> Result<ExitCode> {
    let started = Instant::now();
    let only = only()?;
    let root = root();
    let out = target().join("bench");
    std::fs::create_dir_all(&out)?;
    let machine = machine();
    let mut stages = Vec::new();

    let engine_only = engine_only(only.as_deref());
    timed(&mut stages, "installing what is missing", || {
        setup::ensure_all(&root)
    })?;
    let mut exes = timed(&mut stages, "building the release binaries", || {
        build_release(engine_only)
    })?;
    let sandbox_bin = need(&exes.sandbox, "sandbox binary")?;
    let engine_bench = need(&exes.engine_bench, "engine benchmark")?;
    let everything = only.is_none();
    let deb = if engine_only {
        None
    } else {
        let profile = window_profile()?;
        let stage = if everything {
            format!("building the app and the hello-world window ({profile} profile), and the .deb")
        } else {
            format!("building the app and the hello-world window ({profile} profile)")
        };
        let (dist, deb) = timed(&mut stages, &stage, || build_dist(everything))?;
        exes.app = dist.app;
        exes.hello = dist.hello;
        deb
    };
    let wrangler = everything.then(|| {
        timed(&mut stages, "installing wrangler with npm", || {
            install_wrangler(&out.join("wrangler"))
        })
    });
    if let Some(Err(e)) = &wrangler {
        println!("bench: wrangler row skipped: {e}");
    }

    let load_before_runs = load_average();
    let engine_out = out.join("engine.json");
    let _ = std::fs::remove_file(&engine_out);
    let engine = if !everything && !engine_only {
        Ok(Vec::new())
    } else {
        timed(
            &mut stages,
            "engine benchmarks against a sandbox with 100,000 deployments and 100,000 scripts",
            || {
                let sandbox = start_sandbox(&sandbox_bin, &out.join("sandbox"))?;
                let mut cmd = Command::new(&engine_bench);
                match &only {
                    Some(groups) => cmd.env("SWITCHYARD_BENCH_ONLY", groups),
                    None => cmd.env_remove("SWITCHYARD_BENCH_ONLY"),
                };
                cmd.env("SWITCHYARD_BENCH_SANDBOX", out.join("sandbox"))
                    .env("SWITCHYARD_BENCH_OUT", &engine_out)
                    .env("SWITCHYARD_BENCH_CRITERION", out.join("criterion"))
                    .env("SWITCHYARD_BENCH_WRANGLER_HOME", out.join("wrangler-home"));
                if let Some(Ok(bin)) = &wrangler {
                    cmd.env("SWITCHYARD_BENCH_WRANGLER", bin);
                }
                let status = run_bounded(cmd, Duration::from_secs(900));
                drop(sandbox);
                match status {
                    Ok(s) if s.success() => Ok(serde_json::from_slice::<Vec<Value>>(
                        &std::fs::read(&engine_out)?,
                    )?),
                    Ok(s) => bail!("the engine benchmark failed ({s})"),
                    Err(e) => Err(e),
                }
            },
        )
    };
    let engine = engine.unwrap_or_else(|e| {
        println!("bench: engine rows not measured: {e:#}");
        vec![json!({"id": "engine", "what": "3–5, 7. Engine benchmarks", "skipped": format!("{e:#}")})]
    });

    let ui_out = out.join("ui.json");
    let _ = std::fs::remove_file(&ui_out);
    let ui_stage = if everything {
        "window benchmarks under Xvfb (cold start, memory, 100,000 scripts, console.log → line shown)"
    } else if only.as_deref() == Some("window") {
        "window benchmarks under Xvfb: cold start, memory, 100,000 scripts, only"
    } else if only.as_deref() == Some("start") {
        "window benchmarks under Xvfb: cold start and memory, only"
    } else {
        "window benchmark under Xvfb: console.log → line shown, only"
    };
    let ui = if engine_only {
        Ok(json!({ "only": only, "not_run": true }))
    } else {
        timed(&mut stages, ui_stage, || -> Result<Value> {
            let app = need(&exes.app, "app binary (switchyard)")?;
            let hello = need(&exes.hello, "hello-world window (switchyard-hello)")?;
            let ui_bench = need(&exes.ui_bench, "window benchmark")?;
            let display = xvfb::Xvfb::start()?;
            let mut cmd = Command::new(&ui_bench);
            cmd.args(["--ignored", "--nocapture", "--test-threads", "1"])
                .current_dir(root.join("tests"))
                .env("DISPLAY", display.name())
                .env("SWITCHYARD_APP", &app)
                .env("SWITCHYARD_HELLO", &hello)
                .env("SWITCHYARD_SANDBOX_BIN", &sandbox_bin)
                .env("SWITCHYARD_BENCH_UI_OUT", &ui_out);
            match &only {
                Some(rows) => cmd.env("SWITCHYARD_BENCH_ONLY", rows),
                None => cmd.env_remove("SWITCHYARD_BENCH_ONLY"),
            };
            let cmd = setup::in_keyring_session_at(cmd, &out.join("keyring"));
            let status = run_bounded(cmd, Duration::from_secs(600))?;
            if !status.success() {
                bail!("the window benchmark failed ({status})");
            }
            Ok(serde_json::from_slice(&std::fs::read(&ui_out)?)?)
        })
    };
    let ui = ui.unwrap_or_else(|e| {
        println!("bench: window rows not measured: {e:#}");
        json!({ "error": format!("{e:#}") })
    });

    let wall = started.elapsed();
    let rows = table_rows(&engine, &ui, deb.as_ref(), wrangler.as_ref());
    let md = markdown(
        &machine,
        &load_before_runs,
        &rows,
        &stages,
        wall,
        only.as_deref(),
    );
    std::fs::write(out.join("report.md"), &md)?;
    std::fs::write(
        out.join("report.json"),
        serde_json::to_vec_pretty(&json!({
            "machine": machine,
            "load_average_before_runs": load_before_runs,
            "load_average_end": load_average(),
            "stages_seconds": stages.iter().map(|(n, s)| json!({"stage": n, "seconds": s})).collect::<Vec<_>>(),
            "wall_seconds": wall.as_secs_f64(),
            "rows": rows.iter().map(|r| json!({
                "benchmark": r[0], "switchyard": r[1], "baseline": r[2], "ratio": r[3], "goal": r[4], "met": r[5],
            })).collect::<Vec<_>>(),
            "engine": engine,
            "window": ui,
            "only": only,
            "deb_bytes": deb.as_ref().and_then(|d| d.as_ref().ok()),
            "deb_error": deb.as_ref().and_then(|d| d.as_ref().err()),
            "wrangler_error": wrangler.as_ref().and_then(|w| w.as_ref().err()),
        }))?,
    )?;
    println!("\n{md}");
    println!(
        "bench: wrote {} and report.json in {:.1} min",
        out.join("report.md").display(),
        wall.as_secs_f64() / 60.0
    );
    Ok(ExitCode::SUCCESS)
}
