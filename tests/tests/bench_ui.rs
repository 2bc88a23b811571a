//! The window's side of `cargo xtask bench` (not a test: it asserts nothing about speed). Cold
//! start to the first render of cached data, PSS of the app and its WebKit processes, and the
//! 10,000-script namespace (list + first render, then search per keystroke) — each next to the
//! same measurement of a minimal Tauri window built the same way (`bench/hello`). Writes JSON
//! to `SWITCHYARD_BENCH_UI_OUT`. Run by `cargo xtask bench` with the release binaries; ignored
//! by `cargo test`.
//!
//! Times come from the page itself: `window.__switchyardMarks` (ui/src/perf.ts) holds the
//! wall-clock time of the first render of real data, compared with the wall-clock time just
//! before the WebDriver session that launches the app was requested (the same for both windows).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use switchyard_tests::AppSession;

/// Launches of each window for the cold start.
const RUNS: usize = 5;
/// Of those, how many also measure memory and the 10,000-script namespace.
const DEEP_RUNS: usize = 2;
/// How long the window idles before the "idle" memory sample.
const IDLE: Duration = Duration::from_secs(10);

fn env_path(name: &str) -> Result<PathBuf> {
    std::env::var_os(name)
        .map(PathBuf::from)
        .with_context(|| format!("{name} is not set: run `cargo xtask bench`"))
}

/// (pid, parent pid, command name) of every process.
fn processes() -> Vec<(u32, u32, String)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // pid (comm) state ppid …; comm may hold spaces and parentheses.
            let (head, rest) = stat.rsplit_once(')')?;
            let comm = head.split_once('(')?.1.to_owned();
            let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid, comm))
        })
        .collect()
}

/// Proportional set size (kB) of the window: every descendant of tauri-driver but the drivers
/// themselves, i.e. the app and its WebKit web and network processes. PSS shares each shared
/// page out among the processes mapping it, where RSS would count it once per process. Also
/// returns the kB per command name (where the memory is).
fn pss_kb(driver_pid: u32) -> Result<(u64, BTreeMap<String, u64>)> {
    let all = processes();
    let mut tree = vec![driver_pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            all.iter()
                .filter(|(_, pp, _)| *pp == parent)
                .map(|(p, _, _)| *p),
        );
        i += 1;
    }
    let mut total = 0;
    let mut by_name = BTreeMap::new();
    for (pid, _, comm) in all.iter().filter(|(p, _, _)| tree.contains(p)) {
        if *pid == driver_pid || comm.contains("WebKitWebDrive") || comm.contains("tauri-driver") {
            continue;
        }
        let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        let kb = rollup
            .lines()
            .find_map(|l| l.strip_prefix("Pss:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
        total += kb;
        *by_name.entry(comm.clone()).or_default() += kb;
    }
    if by_name.is_empty() {
        bail!("no window process found under tauri-driver (pid {driver_pid})");
    }
    Ok((total, by_name))
}

/// Wait for the mark `name` (ms since the epoch) the page sets when it first shows its data.
async fn wait_mark(app: &AppSession, name: &str, timeout: Duration) -> Result<f64> {
    let deadline = Instant::now() + timeout;
    loop {
        let v = app
            .driver
            .execute(
                "const m = window.__switchyardMarks; return m && m[arguments[0]] ? m[arguments[0]] : null;",
                vec![json!(name)],
            )
            .await?;
        if let Some(ms) = v.json().as_f64() {
            return Ok(ms);
        }
        if Instant::now() > deadline {
            bail!("the page never set the mark {name:?} within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn summary(samples: &[f64]) -> Value {
    if samples.is_empty() {
        return json!({ "runs": 0 });
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let pct = |p: f64| s[((s.len() as f64 - 1.0) * p).round() as usize];
    json!({ "runs": s.len(), "median_ms": pct(0.5), "p99_ms": pct(0.99), "min_ms": s[0], "max_ms": s[s.len() - 1] })
}

fn kb_summary(samples: &[(u64, BTreeMap<String, u64>)]) -> Value {
    if samples.is_empty() {
        return json!({ "runs": 0 });
    }
    let mut s: Vec<u64> = samples.iter().map(|(kb, _)| *kb).collect();
    s.sort_unstable();
    json!({
        "runs": s.len(),
        "median_kb": s[(s.len() - 1) / 2],
        "min_kb": s[0],
        "max_kb": s[s.len() - 1],
        // The split of the last sample by process name.
        "by_process_kb": samples.last().map(|(_, by)| by.clone()),
    })
}

/// One keystroke into the workers' search (the field's value set as typing does, with its input
/// event), timed in the page: `[commit, painted]`, ms from the event to the DOM mutation that
/// changed the "N of M workers" line (React committed the filtered table), and to just after
/// the next frame. `[-1, -1]` when the line did not change within 5 s.
const KEYSTROKE: &str = r#"
const [text, done] = [arguments[0], arguments[arguments.length - 1]];
const input = Array.from(document.querySelectorAll('input')).find(i => {
  const l = i.labels && i.labels[0];
  return l && l.textContent.trim().startsWith('Search workers');
});
if (!input) { done([-2, -2]); return; }
const count = () => {
  for (const e of document.querySelectorAll('p')) {
    const t = e.textContent || '';
    if (/^\d+ of \d+ workers$/.test(t)) return t;
  }
  return '';
};
const before = count();
let finished = false;
const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
const observer = new MutationObserver(() => {
  if (finished || count() === before) return;
  finished = true;
  observer.disconnect();
  const commit = performance.now() - t0;
  requestAnimationFrame(() => setTimeout(() => done([commit, performance.now() - t0]), 0));
});
observer.observe(document.body, { subtree: true, childList: true, characterData: true });
setTimeout(() => { if (!finished) { finished = true; observer.disconnect(); done([-1, -1]); } }, 5000);
const t0 = performance.now();
setter.call(input, text);
input.dispatchEvent(new Event('input', { bubbles: true }));
"#;

/// For the report's "where the time goes": the search's filter alone (the same steps as
/// `WorkerSearch.filter` in ui/src/features/namespaces/workerRows.ts: haystacks lowercased once,
/// then one `includes` per worker) over 10,000 rows shaped like the generated ones, in this
/// page's JavaScript engine; the median of 9 runs, ms.
const FILTER_ONLY: &str = r#"
const rows = [];
for (let i = 0; i < 10000; i++) {
  rows.push({ name: 'bench-worker-' + String(i).padStart(5, '0'),
              tags: ['customer-' + (i % 500), i % 10 === 0 ? 'pro-plan' : 'free-plan'] });
}
const haystacks = rows.map((w) => [w.name, ...w.tags].join('\n').toLowerCase());
const filter = (needle) => {
  const found = [];
  for (let i = 0; i < rows.length; i++) if (haystacks[i].includes(needle)) found.push(rows[i]);
  return found;
};
const times = [];
for (let k = 0; k < 9; k++) {
  const t0 = performance.now();
  filter(['9', '99', '999'][k % 3]);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
return times[4];
"#;

/// Where a cold start's time went, from the page's navigation timing: `launch → page load
/// starts` (process start, app setup, webview creation), `→ DOMContentLoaded` (the page and its
/// scripts loaded and run), `→ the mark` (first render with data); and the page's own marks on
/// the way (ui/src/perf.ts; epoch ms, or -1 when absent, as for the hello-world window).
const NAVIGATION: &str = r#"
const n = performance.getEntriesByType('navigation')[0];
const m = window.__switchyardMarks || {};
const at = (k) => (k in m ? m[k] : -1);
return [performance.timeOrigin, n ? n.domContentLoadedEventEnd : 0,
        at('script-start'), at('app-info-asked'), at('app-info-received'),
        at('history-asked'), at('history-received')];
"#;

/// The steps between the marks NAVIGATION returns, in order.
const FIRST_SCREEN_STEPS: [&str; 6] = [
    "page start → script runs",
    "→ app info asked",
    "→ app info received",
    "→ history asked",
    "→ history received",
    "→ rows shown",
];

/// Keystrokes whose every step changes how many of `bench-worker-00000`…`09999` match: type a
/// digit four times, then delete it four times (back to all 10,000).
fn keystroke_texts() -> Vec<String> {
    let mut texts = Vec::new();
    for digit in ['9', '7'] {
        for n in (1..=4).chain((0..=3).rev()) {
            texts.push(std::iter::repeat_n(digit, n).collect());
        }
    }
    texts
}

#[derive(Default)]
struct WindowRuns {
    cold: Vec<f64>,
    pss_start: Vec<(u64, BTreeMap<String, u64>)>,
    pss_idle: Vec<(u64, BTreeMap<String, u64>)>,
    pss_10k: Vec<(u64, BTreeMap<String, u64>)>,
    list_render: Vec<f64>,
    keystrokes: Vec<f64>,
    commits: Vec<f64>,
    filter_only: Vec<f64>,
    to_page: Vec<f64>,
    to_dcl: Vec<f64>,
    to_mark: Vec<f64>,
    /// The first screen's steps (see NAVIGATION), ms each, by position.
    steps: BTreeMap<usize, Vec<f64>>,
    keystrokes_unseen: usize,
}

impl WindowRuns {
    fn json(&self) -> Value {
        json!({
            "cold_start": summary(&self.cold),
            "cold_start_parts": {
                "launch_to_page_start": summary(&self.to_page),
                "page_start_to_dom_content_loaded": summary(&self.to_dcl),
                "dom_content_loaded_to_mark": summary(&self.to_mark),
            },
            "first_screen_steps": FIRST_SCREEN_STEPS
                .iter()
                .enumerate()
                .filter_map(|(i, name)| self.steps.get(&i).map(|t| json!({ "step": name, "ms": summary(t) })))
                .collect::<Vec<_>>(),
            "search_filter_only": summary(&self.filter_only),
            "search_commit": summary(&self.commits),
            "pss_start": kb_summary(&self.pss_start),
            "pss_idle": kb_summary(&self.pss_idle),
            "pss_10k": kb_summary(&self.pss_10k),
            "list_render_10k": summary(&self.list_render),
            "search_keystroke": summary(&self.keystrokes),
            "search_keystrokes_without_update": self.keystrokes_unseen,
        })
    }
}

/// The large namespace in an open window: click → 10,000 rows on screen, then the keystrokes.
async fn large_namespace(app: &AppSession, runs: &mut WindowRuns) -> Result<()> {
    app.go_to("Namespaces").await?;
    let button = app.by_role("button", "Open dotdo-bench").await?;
    let clicked = app
        .driver
        .execute(
            "const t = performance.timeOrigin + performance.now(); arguments[0].click(); return t;",
            vec![button.to_json()?],
        )
        .await?
        .json()
        .as_f64()
        .context("the click's time")?;
    let rendered = wait_mark(app, "workers-rows:10000", Duration::from_secs(60)).await?;
    runs.list_render.push(rendered - clicked);
    tokio::time::sleep(Duration::from_secs(2)).await;
    runs.pss_10k.push(pss_kb(app.driver_pid())?);
    for text in keystroke_texts() {
        let ret = app
            .driver
            .execute_async(KEYSTROKE, vec![json!(text)])
            .await?;
        let times: Vec<f64> = ret.convert().context("a keystroke's times")?;
        let (commit, painted) = (times[0], times[1]);
        if commit == -2.0 {
            bail!("the workers' search field is not on the page");
        }
        if commit < 0.0 {
            runs.keystrokes_unseen += 1;
        } else {
            runs.commits.push(commit);
            runs.keystrokes.push(painted);
        }
    }
    let filter_only = app.driver.execute(FILTER_ONLY, vec![]).await?;
    runs.filter_only
        .push(filter_only.json().as_f64().context("the filter's time")?);
    Ok(())
}

/// Launch `bin` `RUNS` times on `data`; time each to `mark`, and on the first `DEEP_RUNS`
/// sample memory (and open the large namespace when `with_namespace`).
async fn window_runs(
    bin: &Path,
    data: &Path,
    mark: &str,
    with_namespace: bool,
) -> Result<WindowRuns> {
    let mut runs = WindowRuns::default();
    for run in 0..RUNS {
        let app = AppSession::start_app(bin, data).await?;
        let shown = wait_mark(&app, mark, Duration::from_secs(60)).await?;
        runs.cold.push(shown - app.launched_ms);
        let nav: Vec<f64> = app
            .driver
            .execute(NAVIGATION, vec![])
            .await?
            .convert()
            .context("the navigation timing")?;
        let (origin, dcl) = (nav[0], nav[1]);
        runs.to_page.push(origin - app.launched_ms);
        runs.to_dcl.push(dcl);
        runs.to_mark.push(shown - origin - dcl);
        // The first screen's steps, each from the one before (page start → script start → app
        // info asked → received → history asked → received → rows shown).
        if nav.len() == 7 && nav[2..].iter().all(|t| *t > 0.0) {
            let mut prev = origin;
            for (i, t) in nav[2..].iter().chain(std::iter::once(&shown)).enumerate() {
                runs.steps.entry(i).or_default().push(t - prev);
                prev = *t;
            }
        }
        if run < DEEP_RUNS {
            runs.pss_start.push(pss_kb(app.driver_pid())?);
            tokio::time::sleep(IDLE).await;
            runs.pss_idle.push(pss_kb(app.driver_pid())?);
            if with_namespace {
                large_namespace(&app, &mut runs).await?;
            }
        }
        app.close().await?;
    }
    Ok(runs)
}

#[tokio::test]
#[ignore = "a benchmark: run by `cargo xtask bench`"]
async fn window_benchmarks() -> Result<()> {
    let app_bin = env_path("SWITCHYARD_APP")?;
    let hello = env_path("SWITCHYARD_HELLO")?;
    let sandbox_bin = env_path("SWITCHYARD_SANDBOX_BIN")?;
    let out = env_path("SWITCHYARD_BENCH_UI_OUT")?;

    // The app's data folder, its embedded sandbox holding a 10,000-script namespace.
    let data = tempfile::tempdir()?;
    let status = Command::new(&sandbox_bin)
        .args(["--port", "0", "--data"])
        .arg(data.path().join("sandbox"))
        .args(["--generate-scripts", "dotdo-bench=10000", "--generate-only"])
        .status()?;
    if !status.success() {
        bail!("preparing the sandbox failed ({status})");
    }
    // A first start syncs the history, so the measured starts open on cached data.
    let app = AppSession::start_app(&app_bin, data.path()).await?;
    app.go_to("Deployments").await?;
    app.click_button("Sync history").await?;
    app.wait_for_text("Synced", Duration::from_secs(120))
        .await?;
    app.close().await?;

    let hello_dir = tempfile::tempdir()?;
    let hello = window_runs(&hello, hello_dir.path(), "history-rows", false).await?;
    eprintln!("bench: hello-world window {}", hello.json());
    let app = window_runs(&app_bin, data.path(), "history-rows", true).await?;
    eprintln!("bench: Switchyard window {}", app.json());
    std::fs::write(
        &out,
        serde_json::to_vec_pretty(&json!({ "app": app.json(), "hello": hello.json() }))?,
    )?;
    Ok(())
}
