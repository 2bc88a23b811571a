//! Timing of the incident timeline's page (issue #19, bench row 5e) at the bench's sizes, not run
//! by default: it seeds an app's data folder once (~1 minute) and keeps it.
//!
//! `cargo test --release -p switchyard-ops --test timeline_timing -- --ignored --nocapture --test-threads=1`
//! The seeded folder is kept in `SWITCHYARD_TIMING_DIR` (default `/tmp/switchyard-timing`) as
//! `timeline`, and a copy of it is opened, so a run costs seconds after the first. What is
//! seeded is what the bench's app holds when 5e is timed: 100,000 audit entries one every 30 s
//! (engine.rs `seeded_audit_entry`), 100,000 older deployments and 1,440 of the last 24 hours
//! (the sandbox's synced ones), and the health monitor's day (10 targets every 30 s, a 5-minute
//! outage every 4 hours). The cases are timed interleaved (A, B, A, B …),
//! `SWITCHYARD_TIMING_ROUNDS` times. `timeline_page` times the tab's pages through `Ops`;
//! `timeline_page_parts` each store call of a 24-hour page alone. A change is compared by
//! running the test binaries built before and after it in turns (one app per process: two
//! open in one process slowed both by ~30 %).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use switchyard_core::{
    Clock, Deployment, DeploymentMetadata, DeploymentStatus, Environment, SANDBOX_PROFILE_ID,
};
use switchyard_ops::{Ops, TimelineCursor, TimelineWindow};
use switchyard_secrets::MemoryStore;
use switchyard_store::{HealthSample, HealthState};

/// The time the data is seeded up to (the harness's "now").
const NOW: i64 = 1_780_000_000_000;
#[path = "support/seeded.rs"]
mod seeded;
#[path = "../../switchyard-store/tests/support/timing.rs"]
mod timing;
use seeded::SERVICES;
use timing::{interleaved, Run};

#[derive(Debug)]
struct Fixed;

impl Clock for Fixed {
    fn now_ms(&self) -> i64 {
        NOW
    }
}

fn dir() -> PathBuf {
    std::env::var_os("SWITCHYARD_TIMING_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/switchyard-timing"))
}

fn deployment(i: usize, at_ms: i64) -> Deployment {
    let env = [
        Environment::Production,
        Environment::Staging,
        Environment::Development,
    ][i % 3];
    Deployment {
        id: format!("deploy_seed_{i:07}"),
        service: SERVICES[i % 8].to_owned(),
        environment: env,
        tier: None,
        version: None,
        namespace: Some(format!("dotdo-{}", env.as_str())),
        status: if i.is_multiple_of(17) {
            DeploymentStatus::Failed
        } else {
            DeploymentStatus::Deployed
        },
        timestamp: chrono::DateTime::from_timestamp_millis(at_ms)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        url: None,
        version_tag: Some(format!("v1.{}.{}", i / 1000, i % 1000)),
        metadata: DeploymentMetadata {
            commit: format!("{:016x}", i as u64 * 2_654_435_761),
            branch: "main".into(),
            author: format!("author{:02}@example.com", i % 40),
            version: None,
        },
    }
}

async fn seed(ops: &Ops) {
    let store = ops.store();
    let n: i64 = 100_000;
    for i in 0..n {
        store
            .append_audit(&seeded::audit_entry(i, NOW - (n - i) * 30_000))
            .await
            .unwrap();
    }
    // 100,000 older deployments (one a minute, ending a day ago), then one a minute over the
    // last 24 hours.
    let day = 86_400_000;
    let mut batch = Vec::new();
    for i in 0..101_440_usize {
        let at = if i < 100_000 {
            NOW - day - (100_000 - i as i64) * 60_000
        } else {
            NOW - day + (i as i64 - 100_000) * 60_000
        };
        batch.push(deployment(i, at));
        if batch.len() == 5_000 || i + 1 == 101_440 {
            store
                .upsert_deployments(SANDBOX_PROFILE_ID, &batch, 0)
                .await
                .unwrap();
            batch.clear();
        }
    }
    let targets: Vec<String> = SERVICES
        .iter()
        .map(|s| s.to_string())
        .chain(["dispatcher".to_owned(), "deploy-api".to_owned()])
        .collect();
    let mut at = NOW - day + 30_000;
    while at < NOW - 30_000 {
        let since = at - (NOW - day);
        let k = (since - 2 * 3_600_000).div_euclid(4 * 3_600_000);
        let into = (since - 2 * 3_600_000).rem_euclid(4 * 3_600_000);
        let samples: Vec<HealthSample> = targets
            .iter()
            .enumerate()
            .map(|(i, target)| {
                let down = k >= 0 && i as i64 == k % targets.len() as i64 && into < 300_000;
                HealthSample {
                    target: target.clone(),
                    at_ms: at,
                    state: if down {
                        HealthState::Down
                    } else {
                        HealthState::Up
                    },
                    http_status: Some(if down { 503 } else { 200 }),
                    latency_ms: Some(5 + (at / 30_000) % 20),
                }
            })
            .collect();
        store
            .insert_health_samples(SANDBOX_PROFILE_ID, &samples)
            .await
            .unwrap();
        at += 30_000;
    }
}

/// The app on a copy of the seeded data folder (seeded once, then kept).
async fn seeded(name: &str) -> Ops {
    let kept = dir().join("timeline");
    if !kept.join(switchyard_store::DB_FILE).exists() {
        let fresh = dir().join("timeline.seeding");
        let _ = std::fs::remove_dir_all(&fresh);
        std::fs::create_dir_all(&fresh).unwrap();
        let t = Instant::now();
        let ops = Ops::open(&fresh, Arc::new(MemoryStore::new()), Arc::new(Fixed))
            .await
            .unwrap();
        seed(&ops).await;
        ops.store().close().await;
        drop(ops);
        std::fs::rename(&fresh, &kept).unwrap();
        eprintln!(
            "seeded the timeline's folder in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    let run = dir().join(name);
    let _ = std::fs::remove_dir_all(&run);
    std::fs::create_dir_all(&run).unwrap();
    for entry in std::fs::read_dir(&kept).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), run.join(entry.file_name())).unwrap();
        }
    }
    let ops = Ops::open(&run, Arc::new(MemoryStore::new()), Arc::new(Fixed))
        .await
        .unwrap();
    // The Local sandbox profile bound to a sandbox, as in the bench: its three keys are
    // redacted from every text (no server is asked anything here).
    let base = "http://127.0.0.1:9";
    let discovery: switchyard_sandbox::Discovery = serde_json::from_value(serde_json::json!({
        "base_url": base,
        "deploy_api_url": format!("{base}/deploy-api"),
        "cloudflare_api_url": format!("{base}/client/v4"),
        "auth_url": format!("{base}/auth"),
        "dispatcher_url": format!("{base}/dispatcher/production"),
        "dispatcher_url_template": format!("{base}/dispatcher/{{environment}}"),
        "service_url_template": format!("{base}/services/{{environment}}/{{service}}"),
        "faults_url": format!("{base}/__sandbox/faults"),
        "account_id": "0123456789abcdef0123456789abcdef",
        "deploy_key": "sk_timing_deploy_0123456789",
        "readonly_key": "sk_timing_readonly_0123456789",
        "deploy_user_id": "u1",
        "readonly_user_id": "u2",
        "cloudflare_token": "cf_timing_token_0123456789",
    }))
    .unwrap();
    ops.attach_sandbox(discovery).await.unwrap();
    ops
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "timing: seeds an app's data folder once (about a minute)"]
async fn timeline_page() {
    let ops = seeded("timeline.run").await;
    let rounds = std::env::var("SWITCHYARD_TIMING_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let window = |span: i64| TimelineWindow {
        profile_id: SANDBOX_PROFILE_ID.into(),
        since_ms: Some(NOW - span),
        until_ms: Some(NOW + 1),
        limit: Some(200),
        ..Default::default()
    };
    let day = window(86_400_000);
    let hour = window(3_600_000);
    let first = ops.timeline(&day).await.unwrap();
    eprintln!(
        "24 hours: {} items shown, {} earlier",
        first.items.len(),
        first.earlier
    );
    let earlier = TimelineWindow {
        before: first.items.first().map(|i| TimelineCursor {
            at_ms: i.at_ms,
            id: i.id.clone(),
        }),
        ..day.clone()
    };
    let ops = &ops;
    let (day, hour, earlier) = (&day, &hour, &earlier);
    let cases = [
        case("24 hours, newest 200", || ops.timeline(day)),
        case("24 hours, the 200 before", || ops.timeline(earlier)),
        case("last hour", || ops.timeline(hour)),
    ];
    let cases: Vec<_> = cases.iter().map(|(n, f)| (*n, f.as_ref())).collect();
    interleaved(rounds, &cases).await;
}

/// Each store call of a 24-hour page, timed alone (as `collect_timeline` makes it).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "timing: seeds an app's data folder once (about a minute)"]
async fn timeline_page_parts() {
    use switchyard_core::AuditFilter;
    use switchyard_store::{DeploymentFilter, HistorySort, HistorySortKey};
    let ops = seeded("timeline.parts").await;
    let store = ops.store();
    let rounds = std::env::var("SWITCHYARD_TIMING_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let (from, to) = (NOW - 86_400_000, NOW + 1);
    let p = SANDBOX_PROFILE_ID;
    let audit = AuditFilter {
        profile_id: Some(p.into()),
        since_ms: Some(from),
        until_ms: Some(to),
        ..Default::default()
    };
    let page = store
        .query_audit_for_timeline(&AuditFilter {
            limit: Some(201),
            ..audit.clone()
        })
        .await
        .unwrap();
    let last = page.last().unwrap();
    let rest = AuditFilter {
        after: Some(switchyard_core::AuditCursor {
            at_ms: last.entry.at_ms,
            seq: last.seq,
        }),
        ..audit.clone()
    };
    let own = AuditFilter {
        action: Some("timeline.".into()),
        ..rest.clone()
    };
    let deployments = DeploymentFilter {
        since_ms: Some(from),
        until_ms: Some(to),
        limit: Some(201),
        sort: Some(HistorySort {
            key: HistorySortKey::Time,
            descending: true,
        }),
        ..Default::default()
    };
    let audit_page = AuditFilter {
        limit: Some(201),
        ..audit.clone()
    };
    let (audit_page, rest, own, deployments) = (&audit_page, &rest, &own, &deployments);
    let cases = [
        case("profile", || store.get_profile(p)),
        case("pins", || store.timeline_pins(p)),
        case("runs_in", || store.runs_in(p, from, to)),
        case("audit page (201)", || {
            store.query_audit_for_timeline(audit_page)
        }),
        case("audit rest count", || store.count_audit_up_to(rest, 10_000)),
        case("audit own count", || store.count_audit_up_to(own, 10_000)),
        case("deployments page (201)", || {
            store.query_deployments(p, deployments)
        }),
        case("deployments count", || {
            store.count_deployments_up_to(p, deployments, 10_201)
        }),
        case("health changes", || {
            store.health_changes(p, from - 86_400_000, from, to)
        }),
        case("notes", || {
            store.timeline_notes_from(p, from, to, 201, true)
        }),
        case("log excerpts", || {
            store.log_excerpts_from(p, from, to, None, 3, 201, true)
        }),
    ];
    let cases: Vec<_> = cases.iter().map(|(n, f)| (*n, f.as_ref())).collect();
    interleaved(rounds, &cases).await;
}

/// A timed case: `call` made and awaited, its result unwrapped.
fn case<'a, F, Fut, T, E>(name: &'a str, call: F) -> (&'a str, Box<dyn Fn() -> Run<'a> + 'a>)
where
    F: Fn() -> Fut + 'a,
    Fut: std::future::Future<Output = Result<T, E>> + 'a,
    E: std::fmt::Debug,
{
    (
        name,
        Box::new(move || -> Run<'a> {
            let f = call();
            Box::pin(async move {
                f.await.unwrap();
            })
        }),
    )
}
