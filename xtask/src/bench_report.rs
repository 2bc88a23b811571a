//! The table of `cargo xtask bench`: one row per measurement, from the engine's JSON rows
//! (crates/switchyard-ops/benches/engine.rs) and the window's (tests/tests/bench_ui.rs).

use std::time::Duration;

use serde_json::Value;

/// Benchmark, Switchyard, baseline, ratio, goal, met.
pub type Row = [String; 6];

fn f(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0} ms")
    } else if x >= 10.0 {
        format!("{x:.1} ms")
    } else {
        format!("{x:.2} ms")
    }
}

/// "median (min–max)" of a timing summary.
pub fn ms_cell(v: &Value) -> String {
    match (f(v, "median_ms"), f(v, "min_ms"), f(v, "max_ms")) {
        (Some(m), Some(lo), Some(hi)) => format!("{} ({}–{})", ms(m), ms(lo), ms(hi)),
        _ => "—".into(),
    }
}

fn p50_p99(v: &Value) -> String {
    match (f(v, "median_ms"), f(v, "p99_ms"), v["runs"].as_u64()) {
        (Some(m), Some(p), Some(n)) => format!("p50 {}, p99 {} ({n} samples)", ms(m), ms(p)),
        _ => "—".into(),
    }
}

fn mib_cell(v: &Value) -> String {
    match (f(v, "median_kb"), f(v, "min_kb"), f(v, "max_kb")) {
        (Some(m), Some(lo), Some(hi)) => format!(
            "{:.0} MiB ({:.0}–{:.0})",
            m / 1024.0,
            lo / 1024.0,
            hi / 1024.0
        ),
        _ => "—".into(),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn ratio_cell(r: Option<f64>) -> String {
    r.map(|x| format!("{x:.2}×")).unwrap_or_else(|| "—".into())
}

fn met(ok: Option<bool>) -> String {
    match ok {
        Some(true) => "yes".into(),
        Some(false) => "**no**".into(),
        None => "—".into(),
    }
}

fn row(what: &str, app: String, base: String, ratio: String, goal: &str, ok: Option<bool>) -> Row {
    [what.to_owned(), app, base, ratio, goal.to_owned(), met(ok)]
}

fn window_rows_before(ui: &Value, rows: &mut Vec<Row>) {
    let (app, hello) = (&ui["app"], &ui["hello"]);
    if !app.is_object() {
        let why = ui["error"].as_str().unwrap_or("unknown");
        rows.push(row(
            "1, 2, 6b, 6c. Window benchmarks",
            format!("not measured: {why}"),
            "—".into(),
            "—".into(),
            "",
            None,
        ));
        return;
    }
    let cold = ratio(
        f(&app["cold_start"], "median_ms"),
        f(&hello["cold_start"], "median_ms"),
    );
    rows.push(row(
        "1. Cold start: launch → cached history on screen (Xvfb)",
        ms_cell(&app["cold_start"]),
        format!("hello-world window: {}", ms_cell(&hello["cold_start"])),
        ratio_cell(cold),
        "≤ 1.5×",
        cold.map(|r| r <= 1.5),
    ));
    let parts = |w: &Value| {
        let p = &w["cold_start_parts"];
        let m = |k: &str| f(&p[k], "median_ms").map(ms).unwrap_or_else(|| "—".into());
        let steps = w["first_screen_steps"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        format!(
                            "{} {}",
                            s["step"].as_str().unwrap_or("?"),
                            f(&s["ms"], "median_ms")
                                .map(ms)
                                .unwrap_or_else(|| "—".into())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|s| !s.is_empty())
            .map(|s| format!("; in the page: {s}"))
            .unwrap_or_default();
        format!(
            "launch → page load starts {}, → DOMContentLoaded {}, → first data rendered {}{steps}",
            m("launch_to_page_start"),
            m("page_start_to_dom_content_loaded"),
            m("dom_content_loaded_to_mark")
        )
    };
    rows.push(row(
        "1b. Cold start, where the time goes (medians, from the page's navigation timing)",
        parts(app),
        format!("hello-world: {}", parts(hello)),
        "—".into(),
        "",
        None,
    ));
    let pss = |key: &str| ratio(f(&app[key], "median_kb"), f(&hello[key], "median_kb"));
    rows.push(row(
        "2a. Memory (PSS, app + WebKit processes) right after start",
        mib_cell(&app["pss_start"]),
        format!("hello-world: {}", mib_cell(&hello["pss_start"])),
        ratio_cell(pss("pss_start")),
        "informational",
        None,
    ));
    let idle = pss("pss_idle");
    rows.push(row(
        "2b. Memory (PSS) after 10 s idle",
        mib_cell(&app["pss_idle"]),
        format!("hello-world: {}", mib_cell(&hello["pss_idle"])),
        ratio_cell(idle),
        "≤ 1.3×",
        idle.map(|r| r <= 1.3),
    ));
    rows.push(row(
        "2c. Memory (PSS) after opening the 10,000-script namespace",
        mib_cell(&app["pss_10k"]),
        format!("hello-world idle: {}", mib_cell(&hello["pss_idle"])),
        ratio_cell(ratio(
            f(&app["pss_10k"], "median_kb"),
            f(&hello["pss_idle"], "median_kb"),
        )),
        "informational",
        None,
    ));
}

fn window_rows_after(ui: &Value, rows: &mut Vec<Row>) {
    let app = &ui["app"];
    if !app.is_object() {
        return;
    }
    let list = f(&app["list_render_10k"], "median_ms");
    rows.push(row(
        "6b. 10,000-script namespace: click → list fetched and first rows rendered in the window",
        ms_cell(&app["list_render_10k"]),
        "—".into(),
        "—".into(),
        "≤ 1 s",
        list.map(|m| m <= 1000.0),
    ));
    let unseen = app["search_keystrokes_without_update"]
        .as_u64()
        .unwrap_or(0);
    let mut cell = format!(
        "to the next frame: {}; to React's commit: {}; the filter alone ≈ {}",
        p50_p99(&app["search_keystroke"]),
        p50_p99(&app["search_commit"]),
        f(&app["search_filter_only"], "median_ms")
            .map(ms)
            .unwrap_or_else(|| "—".into()),
    );
    if unseen > 0 {
        cell.push_str(&format!("; {unseen} keystrokes never updated the count"));
    }
    rows.push(row(
        "6c. Search in 10,000 scripts, per keystroke (input event → count and table updated, next frame)",
        cell,
        "—".into(),
        "—".into(),
        "≤ 50 ms (p99)",
        f(&app["search_keystroke"], "p99_ms").map(|p| p <= 50.0 && unseen == 0),
    ));
}

/// The engine's rows, as the benchmark wrote them: each has `what`, `app` (a timing summary),
/// optionally `baseline_name` + `baseline`, `ratio`, `goal`, `met`, and text overrides.
fn engine_rows(engine: &[Value], rows: &mut Vec<Row>) {
    for r in engine {
        let what = r["what"].as_str().unwrap_or_default();
        if let Some(why) = r["skipped"].as_str() {
            rows.push(row(
                what,
                format!("skipped: {why}"),
                "—".into(),
                "—".into(),
                r["goal"].as_str().unwrap_or(""),
                None,
            ));
            continue;
        }
        let app = match r["app_text"].as_str() {
            Some(t) => t.to_owned(),
            None if r["percentiles"].as_bool() == Some(true) => p50_p99(&r["app"]),
            None => ms_cell(&r["app"]),
        };
        let base = match (r["baseline_name"].as_str(), r["baseline_text"].as_str()) {
            (Some(name), Some(text)) => format!("{name}: {text}"),
            (Some(name), None) => format!("{name}: {}", ms_cell(&r["baseline"])),
            (None, _) => "—".into(),
        };
        let ratio = match r["ratio_text"].as_str() {
            Some(t) => t.to_owned(),
            None => ratio_cell(r["ratio"].as_f64()),
        };
        rows.push(row(
            what,
            app,
            base,
            ratio,
            r["goal"].as_str().unwrap_or_default(),
            r["met"].as_bool(),
        ));
    }
}

/// Every row of the report, in the order.
pub fn table_rows(
    engine: &[Value],
    ui: &Value,
    deb: &Result<u64, String>,
    wrangler: &Result<std::path::PathBuf, String>,
) -> Vec<Row> {
    let mut rows = Vec::new();
    window_rows_before(ui, &mut rows);
    engine_rows(engine, &mut rows);
    if let Err(why) = wrangler {
        if !engine.iter().any(|r| r["id"] == "namespace-list-wrangler") {
            rows.push(row(
                "4b. Namespace list: engine vs `wrangler dispatch-namespace list`",
                format!("skipped: {why}"),
                "—".into(),
                "—".into(),
                "≥ 20× faster",
                None,
            ));
        }
    }
    window_rows_after(ui, &mut rows);
    let (cell, ok) = match deb {
        Ok(bytes) => {
            let mib = *bytes as f64 / 1024.0 / 1024.0;
            (format!("{mib:.1} MiB"), Some(mib <= 15.0))
        }
        Err(e) => (format!("not built: {e}"), None),
    };
    rows.push(row(
        "8. Installer: .deb from the Tauri bundler",
        cell,
        "—".into(),
        "—".into(),
        "≤ 15 MiB",
        ok,
    ));
    rows
}

pub fn markdown(
    machine: &Value,
    load_before_runs: &str,
    rows: &[Row],
    stages: &[(String, f64)],
    wall: Duration,
) -> String {
    let s = |k: &str| machine[k].as_str().unwrap_or_default().to_owned();
    let mut md = String::from("# Switchyard benchmarks\n\n");
    md.push_str(&format!(
        "{} · {} cores ({}) · {:.1} GiB · {} · {} · WebKitGTK {}  \n",
        s("date"),
        machine["cores"],
        s("cpu"),
        machine["memory_gib"].as_f64().unwrap_or(0.0),
        s("os"),
        s("rustc"),
        s("webkit2gtk"),
    ));
    md.push_str(&format!(
        "Load average (1, 5, 15 min) at the start {}, when the measurements began {}. Whole run {:.1} min.\n\n",
        s("load_average_start"),
        load_before_runs,
        wall.as_secs_f64() / 60.0
    ));
    md.push_str(
        "Median (min–max) of several runs, or p50/p99 of many samples; ratios are Switchyard ÷ \
         baseline, both measured in this run on this machine.\n\n",
    );
    md.push_str("| Benchmark | Switchyard | Baseline | Ratio | Goal | Met |\n");
    md.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .map(|c| c.replace('|', "\\|").replace('\n', " "))
            .collect();
        md.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    md.push_str("\nStages: ");
    md.push_str(
        &stages
            .iter()
            .map(|(n, secs)| format!("{n} {secs:.0} s"))
            .collect::<Vec<_>>()
            .join(" · "),
    );
    md.push('\n');
    md
}
