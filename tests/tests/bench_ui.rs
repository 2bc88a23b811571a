//! The window's side of `cargo xtask bench` (not a test: it asserts nothing about speed). Cold
//! start to the first render of cached data, PSS of the app and its WebKit processes, and the
//! 100,000-script namespace (first rows, all rows, then search per keystroke) — each next to the
//! same measurement of a minimal Tauri window built the same way (`bench/hello`). Writes JSON
//! to `SWITCHYARD_BENCH_UI_OUT`. Run by `cargo xtask bench` with the release binaries; ignored
//! by `cargo test`.
//!
//! Times come from the page itself: `window.__switchyardMarks` (ui/src/perf.ts) holds the
//! wall-clock time of the first render of real data, compared with the wall-clock time just
//! before the WebDriver session that launches the app was requested (the same for both windows).
//!
//! Row 9d (issue #13): a request's `console.log` → the line shown in the Logs area, tailing
//! `gateway` as an operator would, against the same line reaching a minimal `trace-v1` WebSocket
//! client of the tail API in the same run (see [`tail_to_window`]).
//!
//! `SWITCHYARD_BENCH_ONLY=tail` measures only that row (no cold starts, no hello-world window);
//! `SWITCHYARD_BENCH_ONLY=window` only rows 1, 2, 6b and 6c (no tail row); `start` only rows 1,
//! 1b, 2a and 2b.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use switchyard_tests::AppSession;

/// Launches of each window for the cold start.
const RUNS: usize = 5;
/// Of those, how many also measure memory and the 100,000-script namespace.
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

/// Which part of the window a process is, by its command name: `workerd` (the embedded local
/// sandbox's runtime, the platform's stand-in: not Switchyard's own memory), `web` (the WebKit
/// web process: page, JavaScript, DOM, styles), `webkit_other` (WebKit's network and other
/// helper processes), or `app` (the app's own process: Rust, the embedded sandbox, GTK).
fn process_group(comm: &str) -> &'static str {
    if comm.contains("workerd") {
        "workerd"
    } else if comm.starts_with("WebKitWebProces") {
        "web"
    } else if comm.starts_with("WebKit") {
        "webkit_other"
    } else {
        "app"
    }
}

const PROCESS_GROUPS: [&str; 4] = ["app", "web", "webkit_other", "workerd"];

fn kb_summary(samples: &[(u64, BTreeMap<String, u64>)]) -> Value {
    if samples.is_empty() {
        return json!({ "runs": 0 });
    }
    let median = |mut s: Vec<u64>| {
        s.sort_unstable();
        (s[(s.len() - 1) / 2], s[0], s[s.len() - 1])
    };
    let (median_kb, min_kb, max_kb) = median(samples.iter().map(|(kb, _)| *kb).collect());
    // Each sample split by group; the goal is judged on the window's own processes (all but workerd).
    let groups: Vec<BTreeMap<&str, u64>> = samples
        .iter()
        .map(|(_, by)| {
            let mut g: BTreeMap<&str, u64> = PROCESS_GROUPS.iter().map(|k| (*k, 0)).collect();
            for (comm, kb) in by {
                *g.entry(process_group(comm)).or_default() += kb;
            }
            g
        })
        .collect();
    let (own_kb, own_min_kb, own_max_kb) = median(
        samples
            .iter()
            .zip(&groups)
            .map(|((kb, _), g)| kb - g["workerd"])
            .collect(),
    );
    let by_group: BTreeMap<&str, u64> = PROCESS_GROUPS
        .iter()
        .map(|k| (*k, median(groups.iter().map(|g| g[k]).collect()).0))
        .collect();
    json!({
        "runs": samples.len(),
        "median_kb": median_kb,
        "min_kb": min_kb,
        "max_kb": max_kb,
        // App + WebKit processes, without workerd.
        "median_own_kb": own_kb,
        "min_own_kb": own_min_kb,
        "max_own_kb": own_max_kb,
        // Median of each group over the samples (app, web, webkit_other, workerd).
        "median_by_group_kb": by_group,
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
    if (/^[\d,]+ of [\d,]+ workers$/.test(t)) return t;
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

/// For the report's "where the time goes": a search's filter alone over 100,000 rows shaped like
/// the generated ones, in this page's JavaScript engine (haystacks lowercased once, then one
/// `includes` per worker: the steps the window took before the search moved to the workers'
/// listing in the app process, crates/switchyard-ops/src/worker_listing.rs, which takes the same
/// steps in Rust); the median of 9 runs, ms.
const FILTER_ONLY: &str = r#"
const rows = [];
for (let i = 1; i <= 100000; i++) {
  rows.push({ name: 'bench-worker-' + String(i).padStart(6, '0'),
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

/// Keystrokes whose every step changes how many of `bench-worker-000001`…`100000` match: type a
/// digit four times, then delete it four times (back to all of them).
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
    /// 10 s after leaving the 10,000-script namespace for Deployments (its memory released?).
    pss_left: Vec<(u64, BTreeMap<String, u64>)>,
    list_render: Vec<f64>,
    /// Click → every worker of the large namespace in the table.
    list_all: Vec<f64>,
    keystrokes: Vec<f64>,
    commits: Vec<f64>,
    filter_only: Vec<f64>,
    to_page: Vec<f64>,
    to_dcl: Vec<f64>,
    to_mark: Vec<f64>,
    /// The first screen's steps (see NAVIGATION), ms each, by position.
    steps: BTreeMap<usize, Vec<f64>>,
    /// Every mark of the page (ui/src/perf.ts), ms from the page's start, by name.
    page_marks: BTreeMap<String, Vec<f64>>,
    keystrokes_unseen: usize,
    /// Each keystroke as typed: the field's text, ms to React's commit and to the next frame.
    keystrokes_each: Vec<(String, f64, f64)>,
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
            "page_marks_from_page_start": self
                .page_marks
                .iter()
                .map(|(k, v)| (k.clone(), summary(v)["median_ms"].clone()))
                .collect::<serde_json::Map<_, _>>(),
            "search_filter_only": summary(&self.filter_only),
            "search_commit": summary(&self.commits),
            "pss_start": kb_summary(&self.pss_start),
            "pss_idle": kb_summary(&self.pss_idle),
            "pss_10k": kb_summary(&self.pss_10k),
            "pss_left": kb_summary(&self.pss_left),
            "list_render_10k": summary(&self.list_render),
            "list_all": summary(&self.list_all),
            "large_namespace_scripts": LARGE_NAMESPACE,
            "search_keystroke": summary(&self.keystrokes),
            "search_keystrokes_without_update": self.keystrokes_unseen,
            "search_keystrokes_each": self
                .keystrokes_each
                .iter()
                .map(|(text, commit, painted)| json!({ "text": text, "commit_ms": commit, "painted_ms": painted }))
                .collect::<Vec<_>>(),
        })
    }
}

/// Scripts in the benchmark's large namespace `dotdo-bench` (issue #19: ten times the 10,000 of
/// before).
const LARGE_NAMESPACE: usize = 100_000;

/// The large namespace in an open window: click → its first page of rows on screen, → all
/// [`LARGE_NAMESPACE`] loaded, then the keystrokes.
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
    let first = wait_mark(app, "workers-first-rows", Duration::from_secs(60)).await?;
    runs.list_render.push(first - clicked);
    let all = format!("workers-rows:{LARGE_NAMESPACE}");
    let rendered = wait_mark(app, &all, Duration::from_secs(120)).await?;
    runs.list_all.push(rendered - clicked);
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
            runs.keystrokes_each.push((text, commit, painted));
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
        let marks: BTreeMap<String, f64> = app
            .driver
            .execute("return window.__switchyardMarks || {};", vec![])
            .await?
            .convert()
            .context("the page's marks")?;
        for (name, at) in marks {
            runs.page_marks.entry(name).or_default().push(at - origin);
        }
        if run < DEEP_RUNS {
            runs.pss_start.push(pss_kb(app.driver_pid())?);
            tokio::time::sleep(IDLE).await;
            runs.pss_idle.push(pss_kb(app.driver_pid())?);
            if with_namespace {
                large_namespace(&app, &mut runs).await?;
                // Row 2d: back to the first screen; what the namespace held should be given back.
                app.go_to("Deployments").await?;
                tokio::time::sleep(IDLE).await;
                runs.pss_left.push(pss_kb(app.driver_pid())?);
            }
        }
        app.close().await?;
    }
    Ok(runs)
}

// ---------------------------------------------------------------------------------------------
// 9d. A request's console.log → the line shown in the window, against a minimal tail client.

/// Requests sent to `gateway` (each logs its path, which holds a unique marker), and how far
/// apart: slower than a busy service, fast enough that lines arrive while others render.
const TAIL_LINES: usize = 100;
const TAIL_INTERVAL: Duration = Duration::from_millis(50);
/// How long after the last request a line may still arrive; later, it counts as missed.
const TAIL_GRACE: Duration = Duration::from_secs(10);
/// Requests before the measured ones (not counted): the pipeline is warm and shown to work.
const TAIL_WARMUP: usize = 3;

/// Wall-clock ms since the epoch: the clock the page's `Date.now()` reads.
fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or_default()
}

/// `host:port` and the path (with its query) of an `http://` or `ws://` URL.
fn split_url(url: &str) -> Result<(String, String)> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("ws://"))
        .with_context(|| format!("not a plain http:// or ws:// URL: {url}"))?;
    Ok(match rest.split_once('/') {
        Some((host, path)) => (host.to_owned(), format!("/{path}")),
        None => (rest.to_owned(), "/".to_owned()),
    })
}

/// A `Transfer-Encoding: chunked` body, decoded.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..end])
            .ok()
            .and_then(|l| usize::from_str_radix(l.split(';').next()?.trim(), 16).ok())
            .unwrap_or(0);
        let Some(chunk) = body.get(end + 2..end + 2 + size).filter(|_| size > 0) else {
            break;
        };
        out.extend_from_slice(chunk);
        body = body.get(end + 4 + size..).unwrap_or_default();
    }
    out
}

/// One HTTP/1.1 exchange on a fresh connection (`Connection: close`), bounded to 10 s: the
/// status and the body. (Not curl: a process per request would add its start to every sample.)
async fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (host, path) = split_url(url)?;
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(&host).await?;
        stream.set_nodelay(true)?;
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(body);
        stream.write_all(req.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        anyhow::Ok(answer)
    };
    let answer = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .with_context(|| format!("{method} {url}: no answer within 10 s"))??;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .with_context(|| format!("{method} {url}: not an HTTP answer"))?;
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("{method} {url}: no status in {head:.200}"))?;
    let raw = &answer[split + 4..];
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(raw)
    } else {
        raw.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// A client frame: FIN set, masked (as every client frame must be), payload under 126 bytes.
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    const KEY: [u8; 4] = [0x5a, 0x17, 0xc3, 0x08];
    let payload = &payload[..payload.len().min(125)];
    let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&KEY);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
    frame
}

/// The first whole frame in `buf`: FIN, opcode, payload (unmasked), and the bytes it took.
fn parse_frame(buf: &[u8]) -> Option<(bool, u8, Vec<u8>, usize)> {
    let (b0, b1) = (*buf.first()?, *buf.get(1)?);
    let (len, mut at) = match b1 & 0x7f {
        126 => (
            u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            usize::try_from(u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?)).ok()?,
            10,
        ),
        n => (usize::from(n), 2),
    };
    let mask: Option<[u8; 4]> = if b1 & 0x80 != 0 {
        let m = buf.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(m)
    } else {
        None
    };
    let mut payload = buf.get(at..at + len)?.to_vec();
    if let Some(m) = mask {
        payload
            .iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b ^= m[i % 4]);
    }
    Some((b0 & 0x80 != 0, b0 & 0x0f, payload, at + len))
}

/// Read the tail socket until it closes: each whole message's text, stamped with the wall-clock
/// time of the read that completed it, goes to `tx`. Pings are answered.
async fn read_frames(
    mut stream: tokio::net::TcpStream,
    mut buf: Vec<u8>,
    tx: tokio::sync::mpsc::UnboundedSender<(f64, String)>,
) -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut message = Vec::new();
    let mut at = epoch_ms();
    loop {
        while let Some((fin, opcode, payload, used)) = parse_frame(&buf) {
            buf.drain(..used);
            match opcode {
                0x8 => return Ok(()),
                0x9 => stream.write_all(&client_frame(0xA, &payload)).await?,
                0x0..=0x2 => {
                    message.extend_from_slice(&payload);
                    if fin {
                        let text = String::from_utf8_lossy(&message).into_owned();
                        message.clear();
                        if tx.send((at, text)).is_err() {
                            return Ok(());
                        }
                    }
                }
                _ => {}
            }
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        at = epoch_ms();
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A minimal client of the tail API, as a script would write one (no Switchyard code):
/// `POST …/workers/scripts/gateway/tails`, then the `trace-v1` WebSocket it names, sent
/// `{"debug":false}` as wrangler does.
struct MinimalTail {
    tails_url: String,
    id: String,
    auth: String,
    reader: tokio::task::JoinHandle<()>,
}

impl MinimalTail {
    async fn open(
        d: &Value,
        tx: tokio::sync::mpsc::UnboundedSender<(f64, String)>,
    ) -> Result<MinimalTail> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
        let tails_url = format!(
            "{}/accounts/{}/workers/scripts/gateway/tails",
            s("cloudflare_api_url"),
            s("account_id")
        );
        let auth = format!("Bearer {}", s("cloudflare_token"));
        let (status, body) = http(
            "POST",
            &tails_url,
            &[("Authorization", &auth)],
            "{\"filters\":[]}",
        )
        .await?;
        if status != 200 {
            bail!("POST {tails_url}: {status} {body:.300}");
        }
        let tail: Value = serde_json::from_str(&body).context("the tail API's answer")?;
        let id = tail["result"]["id"]
            .as_str()
            .context("the tail's id")?
            .to_owned();
        let (host, path) = split_url(tail["result"]["url"].as_str().context("the tail's URL")?)?;
        let mut stream = tokio::net::TcpStream::connect(&host).await?;
        stream.set_nodelay(true)?;
        stream
            .write_all(
                format!(
                    "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n\
                     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                     Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: trace-v1\r\n\r\n"
                )
                .as_bytes(),
            )
            .await?;
        // The handshake's answer, to its blank line; what follows is frames.
        let mut buf = Vec::new();
        let head_end = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    return anyhow::Ok(p);
                }
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    bail!("the tail socket closed during its handshake");
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        })
        .await
        .context("the tail socket's handshake took over 10 s")??;
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        if !head.starts_with("HTTP/1.1 101") {
            bail!("the tail socket was refused: {head:.300}");
        }
        buf.drain(..head_end + 4);
        stream
            .write_all(&client_frame(0x1, b"{\"debug\":false}"))
            .await?;
        let reader = tokio::spawn(async move {
            if let Err(e) = read_frames(stream, buf, tx).await {
                eprintln!("bench: the minimal tail client stopped reading: {e:#}");
            }
        });
        Ok(MinimalTail {
            tails_url,
            id,
            auth,
            reader,
        })
    }

    /// Stop reading and delete the tail on the platform.
    async fn close(self) {
        self.reader.abort();
        let url = format!("{}/{}", self.tails_url, self.id);
        if let Err(e) = http("DELETE", &url, &[("Authorization", &self.auth)], "").await {
            eprintln!("bench: deleting the minimal client's tail failed: {e:#}");
        }
    }
}

/// Installed in the page before any request: when a text holding a marker (`prefix` + digits)
/// first enters the Logs table — `dom`, the mutation (React committed the row) — and just after
/// the next frame — `painted`, the window shows it (as `markAfterPaint` in ui/src/perf.ts) —
/// and, for where the time goes, when the IPC message carrying it reached the page (`ipc`: the
/// callback Tauri runs for a Channel message, wrapped where `__TAURI_INTERNALS__.callbacks`
/// keeps it). Wall-clock `Date.now()`, the clock the benchmark stamps its requests with.
const WATCH_LINES: &str = r#"
const [prefix] = arguments;
if (window.__syTail) window.__syTail.observer.disconnect();
const seen = { dom: {}, painted: {}, ipc: {}, ipcHooked: false, followLost: null, observer: null };
window.__syTail = seen;
const pattern = new RegExp(prefix + '\\d+', 'g');
const markers = (text) => (text.includes(prefix) ? text.match(pattern) || [] : []);
const table = 'table[aria-label="Log lines"]';
const inTable = (n) => {
  const e = n.nodeType === 1 ? n : n.parentElement;
  return !!e && (!!e.closest(table) || !!e.querySelector(table));
};
seen.observer = new MutationObserver((records) => {
  const now = Date.now();
  const fresh = [];
  for (const r of records) {
    const nodes = r.type === 'characterData' ? [r.target] : r.addedNodes;
    for (const n of nodes) {
      // The table stopped following the newest line (its "Jump to the newest" button appeared).
      if (!seen.followLost && n.nodeType === 1 && (n.textContent || '').includes('Jump to the newest')) {
        seen.followLost = now;
      }
      for (const m of markers(n.textContent || '')) {
        if (!(m in seen.dom) && inTable(n)) { seen.dom[m] = now; fresh.push(m); }
      }
    }
  }
  if (fresh.length > 0) {
    requestAnimationFrame(() => setTimeout(() => {
      const painted = Date.now();
      for (const m of fresh) seen.painted[m] = painted;
    }, 0));
  }
});
seen.observer.observe(document.body, { subtree: true, childList: true, characterData: true });
const callbacks = window.__TAURI_INTERNALS__ && window.__TAURI_INTERNALS__.callbacks;
if (callbacks && typeof callbacks.get === 'function' && !callbacks.__syTailHooked) {
  const get = callbacks.get.bind(callbacks);
  callbacks.get = (id) => {
    const cb = get(id);
    if (!cb) return cb;
    return (data) => {
      const now = Date.now();
      let text = '';
      try { text = typeof data === 'string' ? data : JSON.stringify(data); } catch (e) {}
      for (const m of markers(text)) if (!(m in seen.ipc)) seen.ipc[m] = now;
      return cb(data);
    };
  };
  callbacks.__syTailHooked = true;
}
seen.ipcHooked = !!(callbacks && callbacks.__syTailHooked);
return seen.ipcHooked;
"#;

/// The Logs table at the end, to tell a line never shown from a line never received: when it
/// stopped following the newest line (epoch ms, or null), whether "Jump to the newest" is
/// offered, what the buffer says it holds, and the scroll box (top, height, content height).
const VIEW_STATE: &str = r#"
const s = window.__syTail || {};
const box = document.querySelector('[aria-label="Log lines, newest at the bottom"]');
const buffer = Array.from(document.querySelectorAll('p')).map((p) => p.textContent || '')
  .find((t) => /the buffer keeps|filters hide the rest/.test(t)) || '';
const jump = Array.from(document.querySelectorAll('button'))
  .some((b) => (b.textContent || '').includes('Jump to the newest'));
return { follow_lost_at: s.followLost || null, jump_to_newest_offered: jump, buffer,
         scroll: box ? [box.scrollTop, box.clientHeight, box.scrollHeight] : null };
"#;

/// What [`WATCH_LINES`] recorded so far: marker → epoch ms, for `dom`, `painted` and `ipc`.
async fn watched(app: &AppSession) -> Result<[BTreeMap<String, f64>; 3]> {
    let v = app
        .driver
        .execute(
            "const s = window.__syTail || {}; return [s.dom || {}, s.painted || {}, s.ipc || {}];",
            vec![],
        )
        .await?;
    let v: Vec<BTreeMap<String, f64>> = v.convert().context("the page's line times")?;
    let mut it = v.into_iter();
    let mut next = || it.next().unwrap_or_default();
    Ok([next(), next(), next()])
}

/// Every marker in the texts the minimal client received, with when it first arrived.
fn client_arrivals(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(f64, String)>,
    prefix: &str,
    into: &mut BTreeMap<String, f64>,
) {
    while let Ok((at, text)) = rx.try_recv() {
        let mut rest = text.as_str();
        while let Some(i) = rest.find(prefix) {
            let after = &rest[i + prefix.len()..];
            let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 {
                into.entry(format!("{prefix}{}", &after[..digits]))
                    .or_insert(at);
            }
            rest = after;
        }
    }
}

/// Open the Logs area, tick `gateway`, and wait for its tail to say "Connected".
async fn start_window_tail(app: &AppSession) -> Result<()> {
    app.go_to("Logs").await?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let box_ = app.by_role("checkbox", "gateway").await?;
        if box_.is_selected().await.unwrap_or(false) {
            break;
        }
        app.click(&box_).await?;
        if Instant::now() > deadline {
            bail!("the Logs area's gateway box never showed ticked");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    app.wait_for_text("Connected", Duration::from_secs(30))
        .await
        .context("the window's tail of gateway never said Connected")?;
    Ok(())
}

/// One launch of the app (fresh data folder, its embedded sandbox seeded): the Logs area tails
/// `gateway` as an operator would, a minimal tail client does the same, then `TAIL_LINES`
/// requests `TAIL_INTERVAL` apart each log a unique marker; per line, shown in the window − sent
/// and received by the minimal client − sent. A line not seen within `TAIL_GRACE` after the last
/// request is a miss. `{"skipped": …}` when the sandbox does not execute scripts (no workerd).
async fn tail_to_window(app_bin: &Path) -> Result<Value> {
    let data = tempfile::tempdir()?;
    let app = AppSession::start_app(app_bin, data.path()).await?;
    let result = tail_in(&app).await;
    let closed = app.close().await;
    let v = result?;
    closed?;
    Ok(v)
}

async fn tail_in(app: &AppSession) -> Result<Value> {
    // The embedded sandbox's discovery file: its URLs, demo keys and whether scripts run.
    let deadline = Instant::now() + Duration::from_secs(60);
    let d = loop {
        match app.sandbox_discovery() {
            Ok(d) if d["cloudflare_api_url"].is_string() => break d,
            Ok(_) | Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(d) => bail!("the sandbox's discovery file lacks the tail API: {d}"),
            Err(e) => return Err(e.context("the app's sandbox never wrote its discovery file")),
        }
    };
    if d["execution"]["executing"].as_bool() != Some(true) {
        let why = d["execution"]["message"].as_str().unwrap_or("").trim();
        let skipped = if why.is_empty() {
            "no workerd".to_owned()
        } else {
            format!("no workerd: {why}")
        };
        return Ok(json!({ "skipped": skipped }));
    }
    let dispatcher = d["dispatcher_url"]
        .as_str()
        .context("the sandbox's dispatcher URL")?
        .to_owned();
    // Unique to this run: a line of another run is never taken for one of these.
    let prefix = format!("sy-tail-{:x}-", (epoch_ms() as u64) % 0xff_ffff);
    let marker = |i: usize| format!("{prefix}{i:03}");
    // The seeded gateway logs `GET <path> (gateway <version>)` for every request (and warns
    // "no route for <path>"): the marker is the path, through the production dispatcher.
    let url = |i: usize| format!("{dispatcher}/api/gateway/{}", marker(i));

    let hooked = app
        .driver
        .execute(WATCH_LINES, vec![json!(prefix)])
        .await?
        .json()
        .as_bool()
        .unwrap_or(false);
    start_window_tail(app).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = MinimalTail::open(&d, tx).await?;
    let outcome = measure_tail(app, &mut rx, &prefix, &marker, &url).await;
    client.close().await;
    let (sent, statuses) = outcome?;

    let mut received = BTreeMap::new();
    client_arrivals(&mut rx, &prefix, &mut received);
    let [dom, painted, ipc] = watched(app).await?;
    let mut view = app.driver.execute(VIEW_STATE, vec![]).await?.json().clone();
    // The measured lines already in the DOM when the table stopped following.
    if let Some(lost) = view["follow_lost_at"].as_f64() {
        let before = (0..sent.len())
            .filter(|i| dom.get(&marker(*i)).is_some_and(|t| *t <= lost))
            .count();
        view["lines_shown_before_follow_lost"] = json!(before);
    }
    let _ = app.screenshot("bench-tail-logs").await;
    let (mut shown, mut in_dom, mut to_ipc, mut client_ms) = (vec![], vec![], vec![], vec![]);
    let (mut missed_window, mut missed_client) = (vec![], vec![]);
    for (i, t) in sent.iter().enumerate() {
        let m = marker(i);
        match painted.get(&m) {
            Some(p) => shown.push(p - t),
            None => missed_window.push(m.clone()),
        }
        if let Some(p) = dom.get(&m) {
            in_dom.push(p - t);
        }
        if let Some(p) = ipc.get(&m) {
            to_ipc.push(p - t);
        }
        match received.get(&m) {
            Some(p) => client_ms.push(p - t),
            None => missed_client.push(m),
        }
    }
    Ok(json!({
        "lines": sent.len(),
        "interval_ms": TAIL_INTERVAL.as_millis() as u64,
        "statuses": statuses,
        "window_shown": summary(&shown),
        "window_dom": summary(&in_dom),
        "window_ipc": if hooked { summary(&to_ipc) } else { json!({ "runs": 0 }) },
        "minimal_client": summary(&client_ms),
        "window_missed": missed_window,
        "client_missed": missed_client,
        "view": view,
    }))
}

/// The warm-up, then the measured requests: their send times (epoch ms, by index) and the
/// statuses they got (status → count).
async fn measure_tail(
    app: &AppSession,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(f64, String)>,
    prefix: &str,
    marker: &dyn Fn(usize) -> String,
    url: &dyn Fn(usize) -> String,
) -> Result<(Vec<f64>, BTreeMap<String, usize>)> {
    // Warm-up (indexes from 900): both tails see them, the window shows them.
    let warm: Vec<usize> = (900..900 + TAIL_WARMUP).collect();
    for i in &warm {
        let (status, body) = http("GET", &url(*i), &[], "").await?;
        if status >= 500 {
            bail!("gateway answered {status} through the dispatcher: {body:.300}");
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut received = BTreeMap::new();
    loop {
        let [_, painted, _] = watched(app).await?;
        client_arrivals(rx, prefix, &mut received);
        let all = |m: &BTreeMap<String, f64>| warm.iter().all(|i| m.contains_key(&marker(*i)));
        if all(&painted) && all(&received) {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "the warm-up lines did not all arrive within 30 s: the window showed {}, the minimal client received {} of {TAIL_WARMUP}",
                warm.iter().filter(|i| painted.contains_key(&marker(**i))).count(),
                warm.iter().filter(|i| received.contains_key(&marker(**i))).count(),
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The measured requests, paced from one start (a slow answer does not shift the others).
    let start = tokio::time::Instant::now();
    let mut sent = Vec::with_capacity(TAIL_LINES);
    let mut statuses = BTreeMap::new();
    for i in 0..TAIL_LINES {
        tokio::time::sleep_until(start + TAIL_INTERVAL * i as u32).await;
        sent.push(epoch_ms());
        let status = match http("GET", &url(i), &[], "").await {
            Ok((status, _)) => status.to_string(),
            Err(e) => format!("error: {e:#}"),
        };
        *statuses.entry(status).or_default() += 1;
    }
    // Bounded: every line shown, or the grace period over.
    let deadline = Instant::now() + TAIL_GRACE;
    loop {
        let [_, painted, _] = watched(app).await?;
        if (0..TAIL_LINES).all(|i| painted.contains_key(&marker(i))) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok((sent, statuses))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by `cargo xtask bench`"]
async fn window_benchmarks() -> Result<()> {
    let app_bin = env_path("SWITCHYARD_APP")?;
    let out = env_path("SWITCHYARD_BENCH_UI_OUT")?;
    let only = std::env::var("SWITCHYARD_BENCH_ONLY")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let mut report = serde_json::Map::new();
    match only.as_deref() {
        None | Some("window") | Some("start") => {
            let with_namespace = only.as_deref() != Some("start");
            let (app, hello) = cold_start_memory_and_10k(&app_bin, with_namespace).await?;
            report.insert("app".into(), app);
            report.insert("hello".into(), hello);
        }
        Some("tail") => {
            report.insert("only".into(), json!("tail"));
        }
        Some(other) => {
            bail!("SWITCHYARD_BENCH_ONLY={other}: the window benchmark knows only `tail`, `window` and `start`")
        }
    }
    if let Some(rows @ ("window" | "start")) = only.as_deref() {
        report.insert("only".into(), json!(rows));
        std::fs::write(&out, serde_json::to_vec_pretty(&Value::Object(report))?)?;
        return Ok(());
    }
    // 9d: its own launch, on a fresh data folder. A failure here leaves the other rows standing.
    let tail = tail_to_window(&app_bin)
        .await
        .unwrap_or_else(|e| json!({ "error": format!("{e:#}") }));
    eprintln!("bench: console.log → line in the window {tail}");
    report.insert("tail".into(), tail);
    std::fs::write(&out, serde_json::to_vec_pretty(&Value::Object(report))?)?;
    Ok(())
}

/// Rows 1, 2, 6b and 6c: the cold starts, memory and the 10,000-script namespace of both
/// windows; the app's JSON and the hello-world window's. Without `with_namespace`
/// (`SWITCHYARD_BENCH_ONLY=start`), rows 1 and 2a/2b alone.
async fn cold_start_memory_and_10k(app_bin: &Path, with_namespace: bool) -> Result<(Value, Value)> {
    let hello = env_path("SWITCHYARD_HELLO")?;
    let sandbox_bin = env_path("SWITCHYARD_SANDBOX_BIN")?;
    // The app's data folder, its embedded sandbox holding a 100,000-script namespace.
    let data = tempfile::tempdir()?;
    let status = Command::new(&sandbox_bin)
        .args(["--port", "0", "--data"])
        .arg(data.path().join("sandbox"))
        .arg("--generate-scripts")
        .arg(format!("dotdo-bench={LARGE_NAMESPACE}"))
        .arg("--generate-only")
        .status()?;
    if !status.success() {
        bail!("preparing the sandbox failed ({status})");
    }
    // A first start syncs the history, so the measured starts open on cached data.
    let app = AppSession::start_app(app_bin, data.path()).await?;
    app.go_to("Deployments").await?;
    app.click_button("Sync history").await?;
    app.wait_for_text("Synced", Duration::from_secs(120))
        .await?;
    app.close().await?;

    // Row 1c: the app's first screen saved as a static page, shown by the hello-world window.
    let page_dir = tempfile::tempdir()?;
    save_first_screen(app_bin, data.path(), &page_dir.path().join("page")).await?;

    let hello_dir = tempfile::tempdir()?;
    let hello_runs = window_runs(&hello, hello_dir.path(), "history-rows", false).await?;
    eprintln!("bench: hello-world window {}", hello_runs.json());
    let page = window_runs(&hello, page_dir.path(), "history-rows", false).await?;
    eprintln!("bench: the first screen as a static page {}", page.json());
    let app = window_runs(app_bin, data.path(), "history-rows", with_namespace).await?;
    eprintln!("bench: Switchyard window {}", app.json());
    let mut hello = hello_runs.json();
    hello["static_first_screen"] = page.json();
    Ok((app.json(), hello))
}

/// The first screen's page as the app shows it with its rows (scripts left out), and each of
/// its stylesheets' rules: `[html, [[path, css], …]]`.
const FIRST_SCREEN: &str = r#"
const sheets = [];
for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
  sheets.push([new URL(link.href).pathname, Array.from(link.sheet.cssRules, r => r.cssText).join('\n')]);
}
const page = document.documentElement.cloneNode(true);
page.querySelectorAll('script, link[rel="modulepreload"]').forEach(e => e.remove());
return ['<!doctype html>\n' + page.outerHTML, sheets];
"#;

/// The mark the hello-world page sets, for the saved page: once the frame showing it is painted.
const PAINTED_MARK: &str = "<script>requestAnimationFrame(() => { setTimeout(() => { \
window.__switchyardMarks = { 'history-rows': performance.timeOrigin + performance.now() }; \
}, 0); });</script>";

/// Launch the app on `data`, wait for its rows, and save its first screen into `page` as a
/// static page the hello-world window shows (bench/hello/src/main.rs): its HTML without
/// scripts, with the mark script, and its stylesheets at their paths.
async fn save_first_screen(app_bin: &Path, data: &Path, page: &Path) -> Result<()> {
    let app = AppSession::start_app(app_bin, data).await?;
    wait_mark(&app, "history-rows", Duration::from_secs(60)).await?;
    let (html, sheets): (String, Vec<(String, String)>) = app
        .driver
        .execute(FIRST_SCREEN, vec![])
        .await?
        .convert()
        .context("the first screen's page")?;
    app.close().await?;
    let at = html
        .rfind("</body>")
        .context("the first screen's page has no </body>")?;
    std::fs::create_dir_all(page)?;
    std::fs::write(
        page.join("index.html"),
        format!("{}{PAINTED_MARK}{}", &html[..at], &html[at..]),
    )?;
    for (path, css) in sheets {
        let file = page.join(path.trim_start_matches('/'));
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(file, css)?;
    }
    Ok(())
}
