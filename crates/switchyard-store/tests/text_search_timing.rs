//! Timing of the text searches of issue #19 at the bench's sizes (not run by default: each
//! seeds a large store once, ~3 minutes for the history's million rows, and keeps it).
//!
//! `cargo test --release -p switchyard-store --test text_search_timing -- --ignored --nocapture`
//! The seeded files are kept in `SWITCHYARD_TIMING_DIR` (default `/tmp/switchyard-timing`) and a
//! copy of each is opened (and migrated), so a run costs seconds after the first. The searches
//! are the bench's (crates/switchyard-ops/benches/engine.rs, 5b "text search" — another text
//! with `SWITCHYARD_TIMING_TEXT` — and 5d "refused", whose "row 2,000" is row 1,800 of its 2,000
//! counted, and the every-entry page; on a log written in time order, and on one written as the
//! bench writes it: the app's entries first, then the 100,000 older ones, each out of time
//! order), with the calls `Ops::history` and `Ops::audit_entries` make around them. The cases
//! are timed interleaved (A, B, A, B …), `SWITCHYARD_TIMING_ROUNDS` times: the machine's load
//! drifts, so a variant is compared by adding it as another case (say, behind a temporary
//! switch in the store), never with a run made at another time.

use std::path::PathBuf;
use std::time::Instant;

use switchyard_core::{
    AuditCursor, AuditFilter, Deployment, DeploymentMetadata, DeploymentStatus, Environment,
};
use switchyard_store::{AuditEntry, DeploymentFilter, Store, COUNT_BOUND};

#[path = "support/timing.rs"]
mod timing;
use timing::{interleaved, Run};
/// The bench's audit entries (`switchyard-ops/benches/engine.rs` seeds with the same module).
#[path = "../../switchyard-ops/tests/support/seeded.rs"]
mod seeded;

const P: &str = "local-sandbox";
const SERVICES: [&str; 8] = [
    "gateway", "db", "auth", "schedule", "webhooks", "email", "mcp", "queue",
];

fn dir() -> PathBuf {
    std::env::var_os("SWITCHYARD_TIMING_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/switchyard-timing"))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The bench's seed (engine.rs `seed_history`): 8 services, 3 environments, 40 authors, one
/// row in 50 a hotfix, one a minute from 2024-01-01.
async fn seed_history(store: &Store, n: usize) {
    let authors: Vec<String> = (0..40)
        .map(|i| format!("author{i:02}@example.com"))
        .collect();
    let start = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .unwrap()
        .timestamp_millis();
    let mut batch = Vec::with_capacity(5000);
    for i in 0..n {
        let env = [
            Environment::Production,
            Environment::Staging,
            Environment::Development,
        ][i % 3];
        let at = chrono::DateTime::from_timestamp_millis(start + i as i64 * 60_000)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        batch.push(Deployment {
            id: format!("deploy_seed_{i:07}"),
            service: SERVICES[i % 8].to_owned(),
            environment: env,
            tier: None,
            version: None,
            namespace: Some(format!("dotdo-{}", env.as_str())),
            status: if i % 17 == 0 {
                DeploymentStatus::Failed
            } else {
                DeploymentStatus::Deployed
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
        if batch.len() == 5000 || i + 1 == n {
            store.upsert_deployments(P, &batch, 0).await.unwrap();
            batch.clear();
        }
    }
}

/// The bench's audit log (engine.rs `audit_rows`): one entry every 30 s, one in 20 refused.
async fn seed_audit(store: &Store, n: i64) {
    let now = 1_780_000_000_000;
    for i in 0..n {
        store
            .append_audit(&seeded::audit_entry(i, now - (n - i) * 30_000))
            .await
            .unwrap();
    }
}

/// A copy of the store seeded by `seed` under `name` (seeded once, then kept).
async fn seeded<F, Fut>(name: &str, seed: F) -> Store
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let kept = dir().join(name);
    if !kept.join(switchyard_store::DB_FILE).exists() {
        let fresh = dir().join(format!("{name}.seeding"));
        let _ = std::fs::remove_dir_all(&fresh);
        let t = Instant::now();
        let store = Store::open_in(&fresh).await.unwrap();
        seed(store.clone()).await;
        store.close().await;
        std::fs::rename(&fresh, &kept).unwrap();
        eprintln!("seeded {name} in {:.0} s", t.elapsed().as_secs_f64());
    }
    let run = dir().join(format!("{name}.run"));
    let _ = std::fs::remove_dir_all(&run);
    std::fs::create_dir_all(&run).unwrap();
    for entry in std::fs::read_dir(&kept).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), run.join(entry.file_name())).unwrap();
    }
    let size = std::fs::metadata(run.join(switchyard_store::DB_FILE))
        .unwrap()
        .len();
    eprintln!("{name}: {:.1} MiB", size as f64 / 1048576.0);
    Store::open(&run.join(switchyard_store::DB_FILE))
        .await
        .unwrap()
}

/// `Ops::history`'s calls for one page: the profile, the page with its bounded count, the sync
/// windows (no profile is stored here: its read is one primary-key step either way).
async fn history(store: &Store, filter: &DeploymentFilter) -> (usize, u64) {
    let offset = u64::from(filter.offset.unwrap_or(0));
    let at_most = offset + u64::from(filter.limit.unwrap_or(0)).max(COUNT_BOUND) + 1;
    let _ = store.get_profile(P).await;
    let (rows, counted) = store
        .query_deployments_counted(P, filter, at_most)
        .await
        .unwrap();
    let n = match counted {
        Some(n) => n,
        None => store
            .count_deployments_up_to(P, filter, at_most)
            .await
            .unwrap(),
    };
    let _ = store.sync_windows(P).await.unwrap();
    (rows.len(), n)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "timing: seeds a million rows once (minutes)"]
async fn history_text_search() {
    let rows = env_usize("SWITCHYARD_TIMING_HISTORY_ROWS", 1_000_000);
    let store = seeded(&format!("history-{rows}"), |s| async move {
        seed_history(&s, rows).await
    })
    .await;
    let text = std::env::var("SWITCHYARD_TIMING_TEXT").unwrap_or_else(|_| "hotfix".into());
    let page = |offset: u32| DeploymentFilter {
        text: Some(text.clone()),
        limit: Some(200),
        offset: Some(offset),
        ..Default::default()
    };
    let (first, deep) = (page(0), page(2000));
    eprintln!(
        "first page {:?}, page at 2000 {:?}",
        history(&store, &first).await,
        history(&store, &deep).await
    );
    let rounds = env_usize("SWITCHYARD_TIMING_ROUNDS", 1000);
    let a = || -> Run<'_> {
        Box::pin(async {
            history(&store, &first).await;
        })
    };
    let b = || -> Run<'_> {
        Box::pin(async {
            history(&store, &deep).await;
        })
    };
    let whole = DeploymentFilter {
        text: Some(text.clone()),
        ..Default::default()
    };
    eprintln!(
        "{text:?}: exactly {} match",
        store.count_deployments(P, &whole).await.unwrap()
    );
    let c = || -> Run<'_> {
        Box::pin(async {
            store.count_deployments(P, &whole).await.unwrap();
        })
    };
    interleaved(
        rounds,
        &[
            ("first page", &a),
            ("page at row 2,000", &b),
            ("\"count exactly\"", &c),
        ],
    )
    .await;
}

/// The bench's audit log as the bench really writes it (engine.rs: `audit_rows` runs after the
/// app's own entries, written at "now"): `first` entries at now, then the `n` of [`seed_audit`],
/// older than them, so each is written out of time order.
async fn seed_audit_after_now(store: &Store, first: i64, n: i64) {
    let now = 1_780_000_000_000;
    for i in 0..first {
        let entry = AuditEntry {
            at_ms: now + i * 1_000,
            actor: "ana".into(),
            profile_id: P.to_owned(),
            action: "history.sync".into(),
            target: SERVICES[(i % 8) as usize].to_owned(),
            params: serde_json::json!({ "window": i }),
            outcome: "ok".into(),
            message: None,
            duration_ms: 250,
        };
        store.append_audit(&entry).await.unwrap();
    }
    seed_audit(store, n).await;
}

/// 5d on one log: the text's first page, its page at row 2,000 (keyset), the every-entry page,
/// the action family "deploy.".
async fn audit_cases(name: &str, store: &Store) {
    let page = |offset: u32| AuditFilter {
        text: Some("refused".into()),
        limit: Some(200),
        offset: Some(offset),
        ..Default::default()
    };
    let first = page(0);
    let (_, total, _) = store.audit_page_counted(&first, COUNT_BOUND).await.unwrap();
    let deep_at = 2000.min(total.saturating_sub(200) as u32);
    let (before, _, _) = store
        .audit_page_counted(
            &AuditFilter {
                limit: Some(1),
                offset: Some(deep_at - 1),
                ..page(0)
            },
            COUNT_BOUND,
        )
        .await
        .unwrap();
    let deep = AuditFilter {
        after: before.first().map(|e| AuditCursor {
            at_ms: e.entry.at_ms,
            seq: e.seq,
        }),
        ..page(deep_at)
    };
    let every = AuditFilter {
        limit: Some(200),
        ..Default::default()
    };
    let (rows, n, exact) = store.audit_page_counted(&deep, COUNT_BOUND).await.unwrap();
    eprintln!(
        "{name}: {total} counted first; page at {deep_at}: {} rows, count {n} (exact {exact})",
        rows.len()
    );
    let rounds = env_usize("SWITCHYARD_TIMING_ROUNDS", 1000);
    let a = || -> Run<'_> {
        Box::pin(async {
            store.audit_page_counted(&first, COUNT_BOUND).await.unwrap();
            store.audit_actions().await.unwrap();
        })
    };
    let b = || -> Run<'_> {
        Box::pin(async {
            store.audit_page_counted(&deep, COUNT_BOUND).await.unwrap();
            store.audit_actions().await.unwrap();
        })
    };
    let c = || -> Run<'_> {
        Box::pin(async {
            store.audit_page_counted(&every, COUNT_BOUND).await.unwrap();
            store.audit_actions().await.unwrap();
        })
    };
    let action = AuditFilter {
        action: Some("deploy.".into()),
        limit: Some(200),
        ..Default::default()
    };
    let d = || -> Run<'_> {
        Box::pin(async {
            store
                .audit_page_counted(&action, COUNT_BOUND)
                .await
                .unwrap();
            store.audit_actions().await.unwrap();
        })
    };
    eprintln!("{name}:");
    interleaved(
        rounds,
        &[
            ("text first page", &a),
            ("text page at row 2,000 (keyset)", &b),
            ("every entry", &c),
            ("action deploy.", &d),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "timing: seeds 100,000 audit entries once"]
async fn audit_text_search() {
    let n = env_usize("SWITCHYARD_TIMING_AUDIT_ROWS", 100_000) as i64;
    let first = env_usize("SWITCHYARD_TIMING_AUDIT_FIRST", 300) as i64;
    let in_order = seeded(&format!("audit-v2-{n}"), |s| async move {
        seed_audit(&s, n).await
    })
    .await;
    let bench = seeded(&format!("audit-v2-{first}-then-{n}"), |s| async move {
        seed_audit_after_now(&s, first, n).await
    })
    .await;
    audit_cases("in time order", &in_order).await;
    audit_cases("as the bench writes it", &bench).await;
}
