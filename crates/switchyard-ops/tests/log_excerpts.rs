//! Log excerpts in the incident timeline, end to end: a real sandbox executing deployed code in
//! real workerd, a logs session tailing it over the trace-v1 WebSocket, a real SQLite file. A
//! worker that throws on one path is sent requests around that path; the timeline of that window
//! then holds the failure with the invocations before and after it, a run about another service
//! does not show it, the Markdown export carries it, and no key reaches the database file.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use switchyard_clients::{DeployApi, DeployRequest, HttpClient, HttpSettings};
use switchyard_core::{Clock, DeploymentMetadata, Environment, SystemClock, SANDBOX_PROFILE_ID};
use switchyard_ops::{
    LogsEvent, LogsRequest, Ops, Timeline, TimelineItem, TimelineKind, TimelineTone, TimelineWindow,
};
use switchyard_secrets::{MemoryStore, Secret};

mod support;
use support::start_sandbox;

const SB: &str = SANDBOX_PROFILE_ID;

/// Now on the wall clock: the tails' events carry real times.
fn wall_ms() -> i64 {
    SystemClock.now_ms()
}

/// Logs every request with its number; `/boom` logs what the caller sent in `x-debug` (a key,
/// by mistake, as real code does) and throws.
const WORKER: &str = r#"
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = url.searchParams.get("n");
    console.log(`request ${n} at ${url.pathname}`);
    if (url.pathname === "/boom") {
      console.log(`caller sent ${request.headers.get("x-debug")}`);
      console.log(`Authorization: Bearer ${request.headers.get("x-debug")}`);
      throw new Error(`boom at request ${n}`);
    }
    return new Response(`ok ${n}`);
  },
};
"#;

/// Waits (at most `secs`) for `check` to hold; whether it did.
async fn eventually<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn logs_of(t: &Timeline) -> Vec<&TimelineItem> {
    t.items
        .iter()
        .filter(|i| i.kind == TimelineKind::Log)
        .collect()
}

fn window(since: i64, until: i64) -> TimelineWindow {
    TimelineWindow {
        profile_id: SB.into(),
        run_id: None,
        since_ms: Some(since),
        until_ms: Some(until),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_in_the_logs_is_in_the_timeline_with_the_requests_around_it_and_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(&dir.path().join("sandbox")).await;
    let d = sandbox.discovery().clone();
    let app = dir.path().join("app");
    let ops = Ops::open(&app, Arc::new(MemoryStore::new()), Arc::new(SystemClock))
        .await
        .unwrap();
    ops.attach_sandbox(d.clone()).await.unwrap();
    assert!(
        sandbox.runtime_status().executing,
        "this test needs workerd (cargo xtask setup installs it): {:?}",
        sandbox.runtime_status().message
    );
    assert!(
        sandbox.runtime_ready(Duration::from_secs(30)).await,
        "workerd starts"
    );

    // The code that fails on one path, deployed to the profile's namespace.
    let api = DeployApi::new(
        HttpClient::new(HttpSettings::default()).unwrap(),
        &d.deploy_api_url,
        Secret::new(d.deploy_key.clone()),
    );
    api.deploy(&DeployRequest {
        service: "gateway".into(),
        environment: Environment::Production,
        tier: None,
        version: None,
        script: base64::engine::general_purpose::STANDARD.encode(WORKER),
        bindings: BTreeMap::new(),
        metadata: DeploymentMetadata {
            commit: "e1e2e3e4".into(),
            branch: "main".into(),
            author: "ana@example.com".into(),
            version: None,
        },
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let base = d.service_url(Environment::Production, "gateway");
    let deployed = eventually(10, || async {
        let r = http.get(format!("{base}/?n=0")).send().await;
        match r {
            Ok(r) => r.text().await.is_ok_and(|t| t == "ok 0"),
            Err(_) => false,
        }
    })
    .await;
    assert!(deployed, "the new code answers");

    // The Logs area's session: a tail of gateway.
    let events = Arc::new(Mutex::new(Vec::<LogsEvent>::new()));
    let sink = events.clone();
    let session = ops
        .start_logs(
            LogsRequest {
                profile_id: SB.into(),
                services: vec!["gateway".into()],
            },
            move |e| sink.lock().unwrap().push(e),
        )
        .await
        .unwrap();
    let connected = eventually(10, || async {
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, LogsEvent::Connected { .. }))
    })
    .await;
    assert!(connected, "{:?}", events.lock().unwrap());

    let since = wall_ms() - 1_000;
    // Requests 1–8 pass, 9 throws, 10–16 pass: one at a time, so the tail sees them in order.
    for n in 1..=16 {
        let path = if n == 9 { "/boom" } else { "/" };
        let r = http
            .get(format!("{base}{path}?n={n}"))
            .header("x-debug", d.deploy_key.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().is_server_error(), n == 9, "request {n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_seen = eventually(10, || async {
        events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, LogsEvent::Line { .. }))
            .count()
            >= 16
    })
    .await;
    assert!(all_seen, "{:#?}", events.lock().unwrap());

    // The excerpt is written off the stream: wait until its five lines after are in.
    let until = wall_ms() + 60_000;
    let deadline = Instant::now() + Duration::from_secs(10);
    let t = loop {
        let t = ops.timeline(&window(since, until)).await.unwrap();
        let written = logs_of(&t).first().is_some_and(|i| i.log_lines.len() == 11);
        if written || Instant::now() > deadline {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let logs = logs_of(&t);
    assert_eq!(logs.len(), 1, "one failure: {logs:#?}");
    let item = logs[0];
    assert!(item.id.starts_with("log:"), "{}", item.id);
    assert!(item.title.contains("boom at request 9"), "{}", item.title);
    assert!(item.title.contains("/boom"), "{}", item.title);
    assert_eq!(item.outcome.as_deref(), Some("exception"));
    assert_eq!(item.tone, TimelineTone::Error);
    let numbers: Vec<String> = item
        .log_lines
        .iter()
        .map(|l| {
            let at = l.text.find("request ").expect("each line is a request");
            l.text[at..].split_whitespace().nth(1).unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        numbers,
        ["4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14"],
        "five before, the failure, five after"
    );
    let focus: Vec<_> = item.log_lines.iter().filter(|l| l.focus).collect();
    assert_eq!(focus.len(), 1);
    assert!(focus[0].failed && focus[0].text.contains("✖ Error: boom at request 9"));
    assert!(item.log_lines.iter().filter(|l| l.failed).count() == 1);
    // The key the code logged is not shown, in either form.
    assert!(
        focus[0].text.contains("caller sent ***"),
        "{}",
        focus[0].text
    );
    assert!(
        focus[0].text.contains("Authorization: Bearer ***"),
        "{}",
        focus[0].text
    );
    let shown = serde_json::to_string(&t).unwrap();
    assert!(!shown.contains(&d.deploy_key), "no key in the timeline");

    // Pinnable, and in the Markdown export (pinned first) with the failure marked.
    ops.pin_timeline_item(SB, &item.id, true).await.unwrap();
    let t = ops.timeline(&window(since, until)).await.unwrap();
    assert_eq!(t.pinned, std::slice::from_ref(&item.id));
    let md = ops.timeline_markdown(&window(since, until)).await.unwrap();
    let pinned_part = &md[md.find("## Pinned").unwrap()..md.find("## Timeline").unwrap()];
    assert!(pinned_part.contains("**logs**"), "{md}");
    assert!(pinned_part.contains("boom at request 9"), "{md}");
    assert!(md.contains("▶ "), "{md}");
    assert!(md.contains("request 14 at /"), "{md}");
    assert!(!md.contains(&d.deploy_key), "{md}");

    // A run about another service does not show gateway's failure; a run about gateway does.
    std::fs::create_dir_all(app.join("runbooks")).unwrap();
    std::fs::write(
        app.join("runbooks/look.md"),
        "---\ninputs: service\n---\n\n# Look at a service\n\nLook.\n\n## Look {#look}\n\n- [ ] Looked\n",
    )
    .unwrap();
    for (service, shows) in [("db", false), ("gateway", true)] {
        let run = ops
            .start_run(
                SB,
                "user/look",
                BTreeMap::from([("service".to_owned(), service.to_owned())]),
                false,
            )
            .await
            .unwrap();
        let t = ops
            .timeline(&TimelineWindow {
                profile_id: String::new(),
                run_id: Some(run.summary.id.clone()),
                since_ms: None,
                until_ms: None,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            logs_of(&t).len(),
            usize::from(shows),
            "run about {service}: {:#?}",
            logs_of(&t)
        );
        ops.abandon_run(&run.summary.id, "done looking")
            .await
            .unwrap();
    }

    // Nothing secret reached the database file (nor its write-ahead log), though the excerpt did.
    ops.stop_logs(session).await.unwrap();
    let mut bytes = Vec::new();
    for name in ["switchyard.db", "switchyard.db-wal"] {
        if let Ok(b) = std::fs::read(app.join(name)) {
            bytes.extend(b);
        }
    }
    let has = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(has("boom at request 9"), "the excerpt is in the file read");
    for secret in [&d.deploy_key, &d.cloudflare_token, &d.readonly_key] {
        assert!(!has(secret), "a key is in the database file");
    }
    assert_eq!(ops.log_excerpt_lines_dropped(), 0);
}

/// Fails the 1st, 2nd, 11th, 12th… request of the new version.
const FLAKY: &str = r#"let n = 0;
export default {
  async fetch(request) {
    if (new URL(request.url).pathname.endsWith("/health")) return Response.json({ status: "ok" });
    n += 1;
    console.log("serving " + n);
    if (n % 10 < 3 && n % 10 > 0) throw new Error("flaky request " + n);
    return new Response("v2 flaky");
  }
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staged_rollouts_gate_keeps_the_failures_its_tail_sees() {
    use switchyard_ops::{
        Confirmation, RolloutCommand, RolloutRequest, RolloutSettings, RolloutState, StartRollout,
    };
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(&dir.path().join("sandbox")).await;
    assert!(
        sandbox.runtime_status().executing,
        "this test needs workerd"
    );
    let ops = Ops::open(
        &dir.path().join("app"),
        Arc::new(MemoryStore::new()),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    ops.attach_sandbox(sandbox.discovery().clone())
        .await
        .unwrap();
    let since = wall_ms() - 1_000;
    let bundle = dir.path().join("flaky.mjs");
    std::fs::write(&bundle, FLAKY).unwrap();
    let req = RolloutRequest {
        profile_id: SB.into(),
        service: "gateway".into(),
        environment: Environment::Staging,
        bundle_path: bundle.display().to_string(),
        settings: RolloutSettings {
            steps: vec![10, 50, 100],
            dwell_seconds: 3,
            max_error_rate_pct: 5.0,
            min_requests: 3,
            probe_per_second: 40,
            probe_path: "/".into(),
            operator_checks: Vec::new(),
        },
    };
    let plan = ops.rollout_plan(&req).await.unwrap();
    let start = ops.start_rollout(
        StartRollout {
            request: req,
            bundle_sha256: plan.bundle_sha256,
            confirmation: Confirmation {
                confirmed: true,
                typed: None,
                basis: Some(plan.basis),
            },
        },
        |_| {},
    );
    let operator = async {
        for _ in 0..600 {
            if let Some(r) = ops.rollouts(SB).await.unwrap().into_iter().next() {
                if r.state == RolloutState::Testing {
                    ops.control_rollout(&r.id, RolloutCommand::Begin)
                        .await
                        .unwrap();
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the rollout never reached its test at 0 %");
    };
    let (ended, ()) = tokio::join!(start, operator);
    assert_eq!(ended.unwrap().state, RolloutState::RolledBack);

    // No logs session was open: the gate's own tail kept the failures, with what surrounds them.
    assert_eq!(ops.open_log_sessions(), 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let t = loop {
        let t = ops
            .timeline(&window(since, wall_ms() + 60_000))
            .await
            .unwrap();
        let found = logs_of(&t)
            .iter()
            .any(|i| i.title.contains("flaky request") && i.log_lines.len() > 1);
        if found || Instant::now() > deadline {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let flaky: Vec<_> = logs_of(&t)
        .into_iter()
        .filter(|i| i.title.contains("flaky request"))
        .collect();
    assert!(!flaky.is_empty(), "{:#?}", logs_of(&t));
    let item = flaky[0];
    assert!(item.title.starts_with("gateway"), "{}", item.title);
    let focus = item.log_lines.iter().find(|l| l.focus).unwrap();
    assert!(
        focus.text.contains("✖ Error: flaky request"),
        "{}",
        focus.text
    );
    assert!(
        item.log_lines.iter().any(|l| !l.failed),
        "requests that passed surround it: {:#?}",
        item.log_lines
    );
}
