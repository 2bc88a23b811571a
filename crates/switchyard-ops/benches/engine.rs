//! The engine's side of `cargo xtask bench`, against a running sandbox (its folder is
//! `SWITCHYARD_BENCH_SANDBOX`, with `sandbox.json`), each measured next to what an operator would
//! use instead, on the same sandbox in the same run: the runbook's sequential curl loop, curl,
//! wrangler. Writes one JSON object per row to `SWITCHYARD_BENCH_OUT`.
//!
//! A small harness rather than criterion: every row needs the per-run wall time of a whole
//! operation (and p50/p99 of many queries), measured next to an external process; criterion
//! reports per-sample means of an in-process closure, which fits neither.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use switchyard_clients::{DeployApi, DeployRequest, HttpClient, HttpSettings};
use switchyard_core::{DeploymentMetadata, Environment, SystemClock, SANDBOX_PROFILE_ID};
use switchyard_ops::{Confirmation, DeploySource, MetadataInput, Ops, PrepareDeploy};
use switchyard_sandbox::Discovery;
use switchyard_secrets::{MemoryStore, Secret};
use switchyard_store::DeploymentFilter;

const SERVICES: [&str; 8] = [
    "gateway", "db", "auth", "schedule", "webhooks", "email", "mcp", "queue",
];

/// Timings of one measured thing, in milliseconds.
fn stats(samples: &[f64]) -> Value {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let pct = |p: f64| s[((s.len() as f64 - 1.0) * p).round() as usize];
    json!({
        "runs": s.len(),
        "median_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "min_ms": s[0],
        "max_ms": s[s.len() - 1],
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn time_async<F, Fut, T>(runs: usize, mut f: F) -> Vec<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let _ = f().await;
        out.push(ms(t.elapsed()));
    }
    out
}

/// Wall time of a shell command, `runs` times (it must succeed).
fn time_shell(runs: usize, script: &str, env: &[(&str, &str)]) -> Result<Vec<f64>, String> {
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let o = Command::new("bash")
            .args(["-c", script])
            .envs(env.iter().copied())
            .output()
            .map_err(|e| format!("bash: {e}"))?;
        let elapsed = ms(t.elapsed());
        if !o.status.success() {
            return Err(format!(
                "`{script}` failed: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ));
        }
        out.push(elapsed);
    }
    Ok(out)
}

struct Report {
    rows: Vec<Value>,
}

impl Report {
    fn row(
        &mut self,
        id: &str,
        what: &str,
        app: Value,
        baseline: Option<(&str, Value)>,
        goal: &str,
    ) {
        let ratio = baseline
            .as_ref()
            .and_then(|(_, b)| Some(app["median_ms"].as_f64()? / b["median_ms"].as_f64()?));
        let row = json!({
            "id": id,
            "what": what,
            "app": app,
            "baseline_name": baseline.as_ref().map(|(n, _)| *n),
            "baseline": baseline.map(|(_, b)| b),
            "ratio": ratio,
            "goal": goal,
        });
        eprintln!("bench: {row}");
        self.rows.push(row);
    }

    fn skipped(&mut self, id: &str, what: &str, why: &str) {
        eprintln!("bench: {id} skipped: {why}");
        self.rows
            .push(json!({ "id": id, "what": what, "skipped": why }));
    }
}

async fn put_fault(http: &reqwest::Client, d: &Discovery, target: &str, fault: Value) {
    let r = http
        .put(format!("{}/{target}", d.faults_url))
        .json(&fault)
        .send()
        .await
        .expect("the sandbox's fault API answers");
    assert!(r.status().is_success(), "fault {target}: {}", r.status());
}

async fn open_ops(dir: &Path, d: &Discovery) -> Ops {
    let ops = Ops::open(dir, Arc::new(MemoryStore::new()), Arc::new(SystemClock))
        .await
        .expect("the bench's store opens");
    ops.attach_sandbox(d.clone())
        .await
        .expect("the bench attaches to the sandbox");
    ops
}

/// `n` synthetic older deployment records in the cache of `ops` (8 services, 3 environments,
/// 40 authors, one in 50 a hotfix), as months of syncing would leave there.
async fn seed_history(ops: &Ops, n: usize) {
    let authors: Vec<String> = (0..40)
        .map(|i| format!("author{i:02}@example.com"))
        .collect();
    let start = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .expect("a date")
        .timestamp_millis();
    let mut batch = Vec::with_capacity(5000);
    for i in 0..n {
        let env = [
            Environment::Production,
            Environment::Staging,
            Environment::Development,
        ][i % 3];
        let at = chrono::DateTime::from_timestamp_millis(start + i as i64 * 60_000)
            .expect("a time")
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        batch.push(switchyard_core::Deployment {
            id: format!("deploy_seed_{i:07}"),
            service: SERVICES[i % 8].to_owned(),
            environment: env,
            tier: None,
            version: None,
            namespace: Some(format!("dotdo-{}", env.as_str())),
            status: if i % 17 == 0 {
                switchyard_core::DeploymentStatus::Failed
            } else {
                switchyard_core::DeploymentStatus::Deployed
            },
            timestamp: at,
            url: None,
            version_tag: Some(format!("v1.{}.{}", i / 1000, i % 1000)),
            metadata: DeploymentMetadata {
                commit: format!("{:016x}", i as u64 * 2_654_435_761),
                branch: if i % 50 == 0 {
                    "hotfix/orders".into()
                } else {
                    "main".into()
                },
                author: authors[i % authors.len()].clone(),
                version: None,
            },
        });
        if batch.len() == 5000 {
            ops.store()
                .upsert_deployments(SANDBOX_PROFILE_ID, &batch, 0)
                .await
                .expect("the seed is stored");
            batch.clear();
        }
    }
    if !batch.is_empty() {
        ops.store()
            .upsert_deployments(SANDBOX_PROFILE_ID, &batch, 0)
            .await
            .expect("the seed is stored");
    }
}

#[tokio::main]
async fn main() {
    let sandbox_dir = PathBuf::from(std::env::var_os("SWITCHYARD_BENCH_SANDBOX").expect(
        "SWITCHYARD_BENCH_SANDBOX: the folder of a running sandbox (cargo xtask bench sets it)",
    ));
    let out =
        PathBuf::from(std::env::var_os("SWITCHYARD_BENCH_OUT").expect("SWITCHYARD_BENCH_OUT"));
    let wrangler = std::env::var("SWITCHYARD_BENCH_WRANGLER").ok();
    let d = switchyard_sandbox::read_discovery(&sandbox_dir).expect("sandbox.json");
    let work = tempfile::tempdir().expect("a temp folder");
    let ops = open_ops(&work.path().join("app"), &d).await;
    let http = reqwest::Client::new();
    let mut report = Report { rows: Vec::new() };

    // 3. Health sweep: 8 services at 200 ms each, the engine's concurrent check against the
    // runbook's sequential curl loop over the same URLs.
    for s in SERVICES {
        put_fault(
            &http,
            &d,
            &format!("service:{s}"),
            json!({"mode": "latency", "ms": 200}),
        )
        .await;
    }
    let urls: Vec<String> = SERVICES
        .iter()
        .map(|s| {
            format!(
                "{}/health",
                d.service_url_template
                    .replace("{environment}", "production")
                    .replace("{service}", s)
            )
        })
        .collect();
    let app = time_async(7, || ops.check_health(SANDBOX_PROFILE_ID, 5_000)).await;
    let loop_script = format!(
        "for url in {}; do curl -s -o /dev/null -w '%{{http_code}}' \"$url\" >/dev/null; done",
        urls.join(" ")
    );
    match time_shell(5, &loop_script, &[]) {
        Ok(base) => report.row(
            "health-sweep",
            "Health sweep, 8 services at 200 ms injected latency",
            stats(&app),
            Some(("runbook's sequential curl loop", stats(&base))),
            "≤ 1.25× the slowest single check (250 ms)",
        ),
        Err(e) => report.skipped("health-sweep", "Health sweep", &e),
    }
    let _ = http.delete(&d.faults_url).send().await;

    // 4. Namespace listing: the engine's call, curl, and wrangler when installed.
    let app = time_async(20, || ops.list_namespaces(SANDBOX_PROFILE_ID)).await;
    let curl_script = format!(
        "curl -sf -H \"Authorization: Bearer $CF_TOKEN\" {}/accounts/{}/workers/dispatch/namespaces >/dev/null",
        d.cloudflare_api_url, d.account_id
    );
    let env = [("CF_TOKEN", d.cloudflare_token.as_str())];
    match time_shell(20, &curl_script, &env) {
        Ok(base) => report.row(
            "namespace-list-curl",
            "Namespace list: engine vs curl",
            stats(&app),
            Some(("curl", stats(&base))),
            "informational",
        ),
        Err(e) => report.skipped("namespace-list-curl", "Namespace list vs curl", &e),
    }
    match &wrangler {
        Some(bin) => {
            let script = format!("{bin} dispatch-namespace list >/dev/null");
            let env = [
                ("CLOUDFLARE_API_BASE_URL", d.cloudflare_api_url.as_str()),
                ("CLOUDFLARE_API_TOKEN", d.cloudflare_token.as_str()),
                ("CLOUDFLARE_ACCOUNT_ID", d.account_id.as_str()),
                ("WRANGLER_SEND_METRICS", "false"),
                ("CI", "true"),
            ];
            match time_shell(5, &script, &env) {
                Ok(base) => report.row(
                    "namespace-list-wrangler",
                    "Namespace list: engine vs `wrangler dispatch-namespace list`",
                    stats(&app),
                    Some(("wrangler", stats(&base))),
                    "≥ 20× faster than wrangler (ratio ≤ 0.05)",
                ),
                Err(e) => {
                    report.skipped("namespace-list-wrangler", "Namespace list vs wrangler", &e)
                }
            }
        }
        None => report.skipped(
            "namespace-list-wrangler",
            "Namespace list vs wrangler",
            "wrangler could not be installed with npm on this machine",
        ),
    }

    // 5. History: a full sync of every window, then filtered queries over the cache.
    let mut syncs = Vec::new();
    let mut synced_records = 0;
    let mut synced_ops = None;
    for i in 0..3 {
        let fresh = open_ops(&work.path().join(format!("sync{i}")), &d).await;
        let t = Instant::now();
        let r = fresh
            .sync_history(SANDBOX_PROFILE_ID, |_| {})
            .await
            .expect("the sync works");
        syncs.push(ms(t.elapsed()));
        eprintln!("bench: sync {i}: {} windows, {} new", r.windows, r.inserted);
        synced_records = r.inserted + r.updated;
        synced_ops = Some(fresh);
    }
    let synced = synced_ops.expect("three syncs ran");
    // The Deploy API serves a window of history per query; the cache keeps everything ever
    // synced. 100,000 older records, as a cache fills over months, go straight into the store.
    seed_history(&synced, 100_000).await;
    let cached = synced
        .history(
            SANDBOX_PROFILE_ID,
            &DeploymentFilter {
                limit: Some(1_000_000),
                ..Default::default()
            },
        )
        .await
        .expect("the cache reads")
        .deployments
        .len();
    report.row(
        "history-sync",
        &format!("Full history sync, every window of the Deploy API ({synced_records} records)"),
        stats(&syncs),
        None,
        "informational",
    );
    let queries: [(&str, DeploymentFilter); 3] = [
        (
            "service + environment",
            DeploymentFilter {
                service: Some("gateway".into()),
                environment: Some(Environment::Production),
                limit: Some(1000),
                ..Default::default()
            },
        ),
        (
            "author",
            DeploymentFilter {
                author: Some("author07@example.com".into()),
                limit: Some(1000),
                ..Default::default()
            },
        ),
        (
            "text search",
            DeploymentFilter {
                text: Some("hotfix".into()),
                limit: Some(1000),
                ..Default::default()
            },
        ),
    ];
    for (name, filter) in queries {
        let t = time_async(200, || synced.history(SANDBOX_PROFILE_ID, &filter)).await;
        report.row(
            &format!("history-query-{}", name.replace([' ', '+'], "-")),
            &format!("History query ({name}) over {cached} cached records"),
            stats(&t),
            None,
            "p99 ≤ 5 ms",
        );
    }

    // 6. The large namespace, engine side: listing 10,000 scripts.
    let app = time_async(5, || ops.list_workers(SANDBOX_PROFILE_ID, "dotdo-bench")).await;
    report.row(
        "workers-10k-list",
        "List a 10,000-script namespace (engine call)",
        stats(&app),
        None,
        "list + render ≤ 1 s (render measured in the window)",
    );

    // 7. Deploy overhead: a 10 MiB bundle, the app's whole deploy and its upload alone, against
    // curl posting the same JSON body to the same sandbox.
    let bundle = work.path().join("bundle.js");
    let mut text = String::from("export default { fetch() { return new Response('ok'); } };\n");
    while text.len() + 80 < 10 * 1024 * 1024 {
        text.push_str("// padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&bundle, &text).expect("the bundle is written");
    let request = DeployRequest {
        service: "email".into(),
        environment: Environment::Staging,
        tier: None,
        version: None,
        script: base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
        bindings: BTreeMap::new(),
        metadata: DeploymentMetadata {
            commit: "0123456789abcdef".into(),
            branch: "bench".into(),
            author: "bench".into(),
            version: Some("bench".into()),
        },
    };
    let body_path = work.path().join("body.json");
    std::fs::write(&body_path, serde_json::to_vec(&request).expect("json")).expect("body written");
    let client = DeployApi::new(
        HttpClient::new(HttpSettings::default()).expect("client"),
        &d.deploy_api_url,
        Secret::new(d.deploy_key.clone()),
    );
    let upload = time_async(5, || client.deploy(&request)).await;
    let curl_deploy = format!(
        "curl -sf -X POST -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' --data-binary @{} {}/deploy >/dev/null",
        body_path.display(),
        d.deploy_api_url
    );
    let env = [("KEY", d.deploy_key.as_str())];
    let mut whole = Vec::new();
    for i in 0..5 {
        let t = Instant::now();
        ops.deploy(
            PrepareDeploy {
                profile_id: SANDBOX_PROFILE_ID.into(),
                service: "email".into(),
                environment: Environment::Staging,
                source: DeploySource::BundleFile {
                    path: bundle.display().to_string(),
                },
                metadata: MetadataInput {
                    commit: Some("0123456789abcdef".into()),
                    branch: Some("bench".into()),
                    author: Some("bench".into()),
                    version: Some(format!("bench-{i}")),
                },
                bindings: None,
                run_id: None,
            },
            Confirmation {
                confirmed: true,
                typed: Some("email".into()),
            },
            |_| {},
        )
        .await
        .expect("the app's deploy works");
        whole.push(ms(t.elapsed()));
    }
    match time_shell(5, &curl_deploy, &env) {
        Ok(base) => {
            report.row(
                "deploy-10mib-upload",
                "Deploy a 10 MiB bundle: the engine's upload vs curl, same JSON body",
                stats(&upload),
                Some(("curl", stats(&base))),
                "≤ 1.2× curl",
            );
            report.row(
                "deploy-10mib-whole",
                "Deploy a 10 MiB bundle: the app's whole deploy (preflight, plan, archive, upload, verify) vs curl",
                stats(&whole),
                Some(("curl", stats(&base))),
                "informational",
            );
        }
        Err(e) => report.skipped("deploy-10mib", "Deploy 10 MiB", &e),
    }

    std::fs::write(&out, serde_json::to_vec_pretty(&report.rows).expect("json"))
        .expect("the results are written");
    ops.shutdown().await;
}
