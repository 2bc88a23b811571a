//! Staged rollouts through the façade against the real sandbox, whose dispatcher runs each
//! version in workerd and splits traffic between them: a good version reaches 100 %, a version
//! failing 30 % of its requests is rolled back by itself at the first gate, the operator's
//! commands, and a rollout cut off by a restart.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use switchyard_clients::{CloudflareApi, HttpClient, HttpSettings, WorkerVersionsApi};
use switchyard_core::{Clock, Environment, ErrorCode, SystemClock, SANDBOX_PROFILE_ID};
use switchyard_ops::{
    Confirmation, Ops, Rollout, RolloutCommand, RolloutPlan, RolloutRequest, RolloutSettings,
    RolloutState, StartRollout,
};
use switchyard_sandbox::Sandbox;
use switchyard_secrets::{MemoryStore, Secret};

mod support;
use support::start_sandbox;

const SB: &str = SANDBOX_PROFILE_ID;
const ENV: Environment = Environment::Staging;

const GOOD: &str = r#"export default {
  async fetch(request) {
    if (new URL(request.url).pathname.endsWith("/health")) return Response.json({ status: "ok" });
    return new Response("v2 good");
  }
};
"#;

/// Fails the 1st, 2nd, 11th, 12th… request: 30 % of them, whatever the timing.
const FLAKY: &str = r#"let n = 0;
export default {
  async fetch(request) {
    if (new URL(request.url).pathname.endsWith("/health")) return Response.json({ status: "ok" });
    n += 1;
    if (n % 10 < 3 && n % 10 > 0) throw new Error("flaky request " + n);
    return new Response("v2 flaky");
  }
};
"#;

struct Fixture {
    ops: Ops,
    sandbox: Sandbox,
    dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = start_sandbox(&dir.path().join("sandbox")).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ops = Ops::open(&dir.path().join("app"), Arc::new(MemoryStore::new()), clock)
        .await
        .unwrap();
    ops.attach_sandbox(sandbox.discovery().clone())
        .await
        .unwrap();
    Fixture { ops, sandbox, dir }
}

fn settings() -> RolloutSettings {
    RolloutSettings {
        steps: vec![10, 50, 100],
        dwell_seconds: 3,
        max_error_rate_pct: 5.0,
        min_requests: 3,
        probe_per_second: 40,
        probe_path: "/".into(),
        operator_checks: Vec::new(),
    }
}

fn request(f: &Fixture, code: &str, name: &str) -> RolloutRequest {
    let path = f.dir.path().join(name);
    std::fs::write(&path, code).unwrap();
    RolloutRequest {
        profile_id: SB.into(),
        service: "gateway".into(),
        environment: ENV,
        bundle_path: path.display().to_string(),
        settings: settings(),
    }
}

/// The split the sandbox's versions API says is active: (version id, percent) pairs.
async fn active_split(f: &Fixture) -> Vec<(String, f64)> {
    let d = f.sandbox.discovery();
    let http = HttpClient::new(HttpSettings::default()).unwrap();
    let cf = CloudflareApi::new(
        http,
        &d.cloudflare_api_url,
        &d.account_id,
        Secret::new(d.cloudflare_token.clone()),
    );
    let deployments = WorkerVersionsApi::new(cf)
        .list_deployments(&ENV.namespace(), "gateway")
        .await
        .unwrap();
    deployments[0]
        .versions
        .iter()
        .map(|v| (v.version_id.clone(), v.percentage))
        .collect()
}

/// Wait (bounded) until the stored rollout satisfies `ok`.
async fn wait_for(f: &Fixture, what: &str, ok: impl Fn(&Rollout) -> bool) -> Rollout {
    for _ in 0..600 {
        if let Some(r) = f.ops.rollouts(SB).await.unwrap().into_iter().next() {
            if ok(&r) {
                return r;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "timed out waiting for {what}: {:#?}",
        f.ops.rollouts(SB).await.unwrap().first()
    );
}

/// The start of `req` as the operator confirms it after reading `plan`.
fn confirmed(req: RolloutRequest, plan: RolloutPlan) -> StartRollout {
    StartRollout {
        request: req,
        bundle_sha256: plan.bundle_sha256,
        confirmation: Confirmation {
            confirmed: true,
            typed: None,
            basis: Some(plan.basis),
        },
    }
}

async fn start(f: &Fixture, req: RolloutRequest) -> Result<Rollout, switchyard_core::AppError> {
    let plan = f.ops.rollout_plan(&req).await?;
    f.ops.start_rollout(confirmed(req, plan), |_| {}).await
}

/// Run the rollout of `req` to its end while `operator` watches and steers it.
async fn run_with(f: &Fixture, req: RolloutRequest, operator: impl Future<Output = ()>) -> Rollout {
    let (ended, ()) = tokio::join!(start(f, req), operator);
    ended.expect("the rollout ends")
}

/// The operator's command; the rollout after it.
async fn command(f: &Fixture, id: &str, command: RolloutCommand) -> Rollout {
    f.ops.control_rollout(id, command).await.unwrap()
}

/// Wait for the new version to be up at 0 %, then begin the steps.
async fn begin(f: &Fixture) -> Rollout {
    let r = wait_for(f, "the version at 0 %", |r| {
        r.state == RolloutState::Testing
    })
    .await;
    command(f, &r.id, RolloutCommand::Begin).await;
    r
}

#[tokio::test]
async fn a_good_version_is_tested_pinned_then_reaches_100_percent_step_by_step() {
    let f = fixture().await;
    let before = active_split(&f).await;
    assert_eq!(before.len(), 1, "{before:?}");
    let stable = before[0].0.clone();
    let req = request(&f, GOOD, "good.mjs");
    let plan = f.ops.rollout_plan(&req).await.unwrap();
    assert_eq!(plan.stable.version_id, stable);

    let operator = async {
        let r = wait_for(&f, "the version at 0 %", |r| {
            r.state == RolloutState::Testing
        })
        .await;
        assert_eq!(
            active_split(&f).await,
            vec![(r.new_version_id.clone(), 0.0), (stable.clone(), 100.0)]
        );
        // Pinned: every answer comes from the new version although it has 0 % of the traffic.
        let t = f.ops.test_rollout_version(&r.id, "/", 5).await.unwrap();
        assert!(
            t.answers
                .iter()
                .all(|a| a.status == Some(200) && a.body == "v2 good"),
            "{t:#?}"
        );
        command(&f, &r.id, RolloutCommand::Begin).await;
        wait_for(&f, "the first step", |r| r.percent == 10).await;
    };
    let r = run_with(&f, req, operator).await;
    assert_eq!(r.state, RolloutState::Completed, "{r:#?}");
    assert_eq!(r.percent, 100);
    assert_eq!(
        active_split(&f).await,
        vec![(r.new_version_id.clone(), 100.0)]
    );
    let steps: Vec<&str> = r.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        steps.iter().filter(|k| **k == "step").count(),
        3,
        "{steps:?}"
    );
    assert_eq!(
        steps.iter().filter(|k| **k == "gate").count(),
        3,
        "{steps:?}"
    );
    // Every step and gate is in the audit log.
    let audit = f.ops.audit_log(SB, 200).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|a| (a.entry.action.as_str(), a.entry.outcome.as_str()))
        .collect();
    for expected in [
        ("rollout.start", "ok"),
        ("rollout.step", "ok"),
        ("rollout.gate", "ok"),
        ("rollout.complete", "ok"),
    ] {
        assert!(actions.contains(&expected), "{expected:?} in {actions:?}");
    }
}

#[tokio::test]
async fn a_version_failing_30_percent_is_rolled_back_at_the_first_gate_by_itself() {
    let f = fixture().await;
    let stable = active_split(&f).await[0].0.clone();
    let req = request(&f, FLAKY, "flaky.mjs");
    let operator = async {
        begin(&f).await;
    };
    let r = run_with(&f, req, operator).await;
    assert_eq!(r.state, RolloutState::RolledBack, "{r:#?}");
    let gate = r.gate.clone().unwrap();
    assert_eq!(gate.passed, Some(false));
    assert_eq!(gate.percent, 10, "at the first gate: {gate:#?}");
    assert!(gate.error_rate_pct.unwrap() > 5.0, "{gate:#?}");
    let reason = r.reason.clone().unwrap();
    assert!(reason.contains("error rate"), "{reason}");
    assert_eq!(active_split(&f).await, vec![(stable, 100.0)]);
    let audit = f.ops.audit_log(SB, 200).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.entry.action == "rollout.gate" && a.entry.outcome == "failed"));
    assert!(audit
        .iter()
        .any(|a| a.entry.action == "rollout.rollback" && a.entry.outcome == "ok"));
}

#[tokio::test]
async fn the_operator_pauses_and_aborts_and_a_restart_leaves_it_interrupted() {
    let f = fixture().await;
    let stable = active_split(&f).await[0].0.clone();
    let mut req = request(&f, GOOD, "good.mjs");
    req.settings.dwell_seconds = 600;
    let operator = async {
        let r = wait_for(&f, "the version at 0 %", |r| {
            r.state == RolloutState::Testing
        })
        .await;
        // Pausing at 0 % is refused, and says so.
        let refused = command(&f, &r.id, RolloutCommand::Pause).await;
        assert_eq!(refused.state, RolloutState::Testing);
        command(&f, &r.id, RolloutCommand::Begin).await;
        wait_for(&f, "10 %", |r| r.percent == 10).await;
        command(&f, &r.id, RolloutCommand::Pause).await;
        let paused = wait_for(&f, "paused", |r| r.state == RolloutState::Paused).await;
        assert_eq!(active_split(&f).await.len(), 2, "the split is held");
        assert!(paused
            .reason
            .unwrap()
            .contains("Paused by the operator at 10 %"));
        // History knows versions: the split serving gateway now, largest share first.
        let live = f.ops.live_splits(SB, ENV).await.unwrap();
        let gateway = live.iter().find(|s| s.service == "gateway").unwrap();
        let shares: Vec<f64> = gateway.versions.iter().map(|v| v.percentage).collect();
        assert_eq!(shares, vec![90.0, 10.0], "{gateway:?}");
        assert_eq!(gateway.versions[1].version_id, r.new_version_id);
        assert!(gateway.versions[1]
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("Staged rollout")));
        command(&f, &r.id, RolloutCommand::Advance).await;
        wait_for(&f, "50 %", |r| r.percent == 50).await;
        command(&f, &r.id, RolloutCommand::Abort).await;
    };
    let r = run_with(&f, req, operator).await;
    assert_eq!(r.state, RolloutState::Aborted);
    assert_eq!(active_split(&f).await, vec![(stable.clone(), 100.0)]);

    // A rollout whose driver is gone (the app stopped) is interrupted, and can be aborted.
    let mut req = request(&f, GOOD, "good2.mjs");
    req.settings.dwell_seconds = 600;
    let cut = tokio::time::timeout(Duration::from_secs(60), async {
        let run = start(&f, req);
        tokio::pin!(run);
        loop {
            tokio::select! {
                _ = &mut run => panic!("the rollout ended"),
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    if let Some(r) = f.ops.rollouts(SB).await.unwrap().into_iter().next() {
                        if r.state == RolloutState::Testing && !r.id.is_empty() { return r.id; }
                    }
                }
            }
        }
    })
    .await
    .unwrap();
    // The driving future was dropped, as when the app is closed.
    let r = f.ops.rollout(&cut).await.unwrap();
    assert_eq!(r.state, RolloutState::Interrupted);
    assert!(r.reason.unwrap().contains("The app stopped"));
    let e = f
        .ops
        .control_rollout(&cut, RolloutCommand::Advance)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let r = command(&f, &cut, RolloutCommand::Abort).await;
    assert_eq!(r.state, RolloutState::Aborted);
    assert_eq!(active_split(&f).await, vec![(stable, 100.0)]);
}

#[tokio::test]
async fn bad_settings_and_a_changed_bundle_are_refused_before_anything_moves() {
    let f = fixture().await;
    let before = active_split(&f).await;
    let mut req = request(&f, GOOD, "good.mjs");
    req.settings.steps = vec![10, 50];
    let e = f.ops.rollout_plan(&req).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.starts_with("steps:"), "{}", e.message);

    let req = request(&f, GOOD, "good.mjs");
    let plan = f.ops.rollout_plan(&req).await.unwrap();
    std::fs::write(&req.bundle_path, FLAKY).unwrap();
    let e = f
        .ops
        .start_rollout(confirmed(req, plan), |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.message.contains("bundle file changed"), "{}", e.message);
    assert_eq!(active_split(&f).await, before, "nothing moved");
}

#[tokio::test]
async fn the_operators_checks_hold_each_passing_gate_until_confirmed() {
    let f = fixture().await;
    let mut req = request(&f, GOOD, "good.mjs");
    req.settings.steps = vec![25, 100];
    req.settings.operator_checks = vec!["The orders dashboard shows no new errors".into()];
    let operator = async {
        let r = begin(&f).await;
        // The first gate passes its measures, then holds for the operator.
        let held = wait_for(&f, "the checks asked", |r| r.awaiting_checks).await;
        assert_eq!(held.state, RolloutState::Paused);
        assert_eq!(held.percent, 25);
        assert!(held
            .reason
            .as_deref()
            .unwrap()
            .contains("The orders dashboard shows no new errors"));
        command(&f, &r.id, RolloutCommand::Advance).await;
        wait_for(&f, "100 %", |r| r.percent == 100).await;
        // And again at the last gate.
        wait_for(&f, "the checks asked at 100 %", |r| r.awaiting_checks).await;
        command(&f, &r.id, RolloutCommand::Advance).await;
    };
    let r = run_with(&f, req, operator).await;
    assert_eq!(r.state, RolloutState::Completed, "{r:#?}");
    let audit = f.ops.audit_log(SB, 200).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.entry.action == "rollout.checks")
            .count(),
        2
    );
}
