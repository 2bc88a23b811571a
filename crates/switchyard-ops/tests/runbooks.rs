//! Runbook runs against a real sandbox (real HTTP), a real SQLite file and an in-memory keychain:
//! a rehearsal of "Service down – immediate rollback", gates, confirmations, read-only refusal,
//! crash safety between any two writes, the incident report.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use switchyard_core::{AppError, Environment, ErrorCode, Profile, Protection, SANDBOX_PROFILE_ID};
use switchyard_ops::{
    Ops, RehearsalFault, RunDetail, RunState, StepConfirmationKind, StepRunRequest,
};
use switchyard_runbooks::RunStepState;
use switchyard_sandbox::{Sandbox, SandboxConfig};
use switchyard_secrets::MemoryStore;

mod support;
use support::{fixture_with, Fixture, TestClock};

/// Every reading moves a second on, so the timeline has distinct times.
fn clock() -> Arc<TestClock> {
    TestClock::ticking(1_760_000_000_000, 1000)
}

async fn open(dir: &Path) -> Ops {
    support::open_ops(dir, clock()).await
}

async fn fixture() -> Fixture {
    fixture_with(clock()).await
}

fn inputs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn confirm(phrase: Option<String>) -> StepRunRequest {
    StepRunRequest {
        values: BTreeMap::new(),
        confirmation: phrase,
        basis: None,
    }
}

fn state(d: &RunDetail, i: usize) -> RunStepState {
    d.steps[i].state
}

/// A staging profile that does not need the network (for local commands, checks and notes).
async fn local_profile(ops: &Ops, protection: Protection) -> Profile {
    let mut p = Profile::for_environment("stg", "Staging", Environment::Staging);
    p.protection = protection;
    ops.save_profile(p).await.unwrap()
}

/// Deploy a small gateway bundle to production through the app (archiving it); its deployment id.
async fn deploy_bundle(ops: &Ops, dir: &Path, version: &str) -> String {
    let path = dir.join(format!("bundle-{version}.js"));
    std::fs::write(
        &path,
        format!("export default {{ async fetch() {{ return Response.json({{ status: \"ok\", build: \"{version}\" }}); }} }};\n"),
    )
    .unwrap();
    let request = switchyard_ops::PrepareDeploy {
        profile_id: SANDBOX_PROFILE_ID.into(),
        service: "gateway".into(),
        environment: Environment::Production,
        source: switchyard_ops::DeploySource::BundleFile {
            path: path.display().to_string(),
        },
        metadata: switchyard_ops::MetadataInput {
            commit: Some(format!(
                "{:0>40}",
                version.replace(['.', '-', 'v', 'r', 'b'], "")
            )),
            branch: Some("main".into()),
            author: Some("ops@example.com".into()),
            version: Some(version.into()),
        },
        bindings: None,
        run_id: None,
        direct: false,
    };
    let confirm = switchyard_ops::Confirmation {
        confirmed: true,
        typed: Some("gateway".into()),
        basis: None,
    };
    ops.deploy(request, confirm, |_| {})
        .await
        .unwrap_or_else(|e| panic!("deploying {version}: {e:?}"))
        .deployment
        .id
}

fn write_user_runbook(data_dir: &Path, stem: &str, text: &str) {
    let dir = data_dir.join("runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{stem}.md")), text).unwrap();
}

#[tokio::test]
async fn service_down_rehearsal_rolls_back_and_reports_every_step() {
    let f = fixture().await;
    let ops = &f.ops;
    let run = ops
        .start_run(
            SANDBOX_PROFILE_ID,
            "emergency-service-down",
            inputs(&[("service", "gateway")]),
            true,
        )
        .await
        .unwrap();
    let id = run.summary.id.clone();
    assert!(run.summary.rehearsal);
    assert_eq!(run.steps.len(), 6);
    assert_eq!(run.summary.current_step, Some(0));
    // The rollback waits for the first check; the steps after the gate are locked.
    assert!(run.steps[1]
        .blocker_message
        .as_deref()
        .unwrap()
        .contains("runs only if step 1"));

    // A bad deploy: gateway answers 500 until it is rolled back.
    let faults = ops
        .inject_fault(
            SANDBOX_PROFILE_ID,
            RehearsalFault::BadDeploy {
                service: "gateway".into(),
            },
            Some(&id),
        )
        .await
        .unwrap();
    assert_eq!(faults.len(), 1);
    assert_eq!(faults[0].target, "bad-deploy:gateway");
    assert!(
        faults[0].description.contains("until it is rolled back"),
        "{}",
        faults[0].description
    );

    let streamed = Mutex::new(String::new());
    let d = ops
        .run_step(&id, 0, StepRunRequest::default(), |o| {
            streamed.lock().unwrap().push_str(&o.text)
        })
        .await
        .unwrap();
    assert_eq!(state(&d, 0), RunStepState::Failed, "{:#?}", d.steps[0]);
    assert!(
        d.steps[0].output.contains("gateway") && d.steps[0].output.contains("DOWN"),
        "{}",
        d.steps[0].output
    );
    assert_eq!(streamed.lock().unwrap().as_str(), d.steps[0].output);
    assert_eq!(d.steps[1].blocker, None, "the rollback is needed now");

    // Notifying the team is locked behind the gate.
    let e = ops
        .run_step(
            &id,
            4,
            StepRunRequest {
                values: inputs(&[("text", "posted")]),
                confirmation: None,
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.message.contains("is a gate"), "{}", e.message);

    // The rollback changes production: it needs the service's name typed.
    let plan = ops.step_plan(&id, 1, BTreeMap::new()).await.unwrap();
    assert!(plan.mutates);
    assert_eq!(
        plan.confirmation.kind,
        StepConfirmationKind::TypeName,
        "{plan:#?}"
    );
    let phrase = plan.confirmation.phrase.clone().unwrap();
    let e = ops
        .run_step(&id, 1, confirm(None), |_| {})
        .await
        .unwrap_err();
    assert!(e.message.contains("needs confirmation"), "{}", e.message);
    let e = ops
        .run_step(&id, 1, confirm(Some("gatewya".into())), |_| {})
        .await
        .unwrap_err();
    assert!(e.message.contains("exactly"), "{}", e.message);
    assert_eq!(
        ops.run_detail(&id).await.unwrap().steps[1].attempts,
        0,
        "refusals change nothing"
    );

    // The rollback itself ends the bad deploy: the previous release runs again.
    let d = ops
        .run_step(&id, 1, confirm(Some(phrase)), |_| {})
        .await
        .unwrap();
    assert_eq!(state(&d, 1), RunStepState::Passed, "{:#?}", d.steps[1]);
    assert!(
        ops.sandbox_faults(SANDBOX_PROFILE_ID)
            .await
            .unwrap()
            .is_empty(),
        "the rollback ended the bad deploy"
    );
    assert_eq!(
        d.steps[1]
            .params
            .iter()
            .find(|p| p.name == "service")
            .unwrap()
            .value,
        "gateway"
    );

    // Health is green: the gate passes, the redeploy is not needed, the rest unlocks.
    let d = ops
        .run_step(&id, 2, StepRunRequest::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(state(&d, 2), RunStepState::Passed, "{}", d.steps[2].output);
    assert_eq!(state(&d, 3), RunStepState::Skipped);
    assert!(d.steps[3].skipped_by_condition);
    assert!(d.steps[3]
        .skip_reason
        .as_deref()
        .unwrap()
        .contains("runs only if it failed"));
    assert_eq!(d.steps[4].blocker, None);

    let d = ops
        .run_step(
            &id,
            4,
            StepRunRequest {
                values: inputs(&[("text", "Posted in #incidents")]),
                confirmation: None,
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(state(&d, 4), RunStepState::Passed);
    // The last step: two checks, then done.
    let e = ops.finish_run(&id).await.unwrap_err();
    assert!(e.message.contains("step 6 still to do"), "{}", e.message);
    ops.set_check(&id, 5, 0, true).await.unwrap();
    let d = ops.set_check(&id, 5, 1, true).await.unwrap();
    assert_eq!(state(&d, 5), RunStepState::Passed);
    ops.add_run_note(
        &id,
        None,
        &format!(
            "Root cause: bad config. Key seen in a log: {}",
            f.sandbox.discovery().deploy_key
        ),
    )
    .await
    .unwrap();
    let d = ops.finish_run(&id).await.unwrap();
    assert_eq!(d.summary.state, RunState::Finished);
    assert!(
        ops.add_run_note(&id, None, "late note").await.is_ok(),
        "notes stay possible"
    );
    assert_eq!(
        ops.skip_step(&id, 5, "x").await.unwrap_err().code,
        ErrorCode::Conflict
    );

    let report = ops.incident_report(&id).await.unwrap();
    for needle in [
        "# Incident report: Service down – immediate rollback",
        "**REHEARSAL**",
        "| Profile | Local sandbox (production) |",
        "| Status | finished |",
        "service = `gateway`",
        "## Timeline (UTC)",
        "2025-10-09 ",
        "Rehearsal fault injected: gateway runs a broken release (v1.2.0-broken, deployed by the rehearsal) until it is rolled back or deployed again.",
        "### 1. Identify the affected service — failed",
        "- Action: `health target=services service=gateway`",
        "failed: 1 down: gateway",
        "### 2. Roll back immediately",
        "- Action: `rollback service=gateway environment=production`",
        "### 3. Verify the service is restored — passed",
        "### 4. Still down: redeploy an archived version — skipped (not needed)",
        "- Skipped: Not needed: step 3",
        "- [x] Logs of the failing deployment read",
        "## Notes",
        "Posted in #incidents",
        "Root cause: bad config",
        "Run finished.",
    ] {
        assert!(
            report.contains(needle),
            "the report lacks {needle:?}:\n{report}"
        );
    }
    assert!(
        !report.contains(&f.sandbox.discovery().deploy_key),
        "secrets are redacted:\n{report}"
    );

    // The run is listed with its progress.
    let runs = ops.runs(Some(SANDBOX_PROFILE_ID)).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].progress.total, 6);
    assert_eq!(runs[0].current_step, None);
}

#[tokio::test]
async fn deploy_api_down_rehearsal_reaches_the_direct_path() {
    let f = fixture().await;
    let ops = &f.ops;
    // Two deploys through the app, so their bundles are archived.
    let v1 = deploy_bundle(ops, f.dir.path(), "v1.0.0-rb").await;
    deploy_bundle(ops, f.dir.path(), "v2.0.0-rb").await;
    let run = ops
        .start_run(
            SANDBOX_PROFILE_ID,
            "emergency-deploy-api-down",
            inputs(&[("service", "gateway")]),
            true,
        )
        .await
        .unwrap();
    let id = run.summary.id;
    ops.inject_fault(SANDBOX_PROFILE_ID, RehearsalFault::DeployApiDown, Some(&id))
        .await
        .unwrap();
    let d = ops
        .run_step(&id, 0, StepRunRequest::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(state(&d, 0), RunStepState::Failed, "{}", d.steps[0].output);
    // The direct-to-namespace path is open (the logs step is not a gate).
    assert_eq!(d.steps[2].blocker, None);
    assert_eq!(
        d.runbook.steps[2].action.as_ref().unwrap().action.name(),
        "direct-deploy"
    );
    assert_eq!(
        d.runbook.steps[2].action.as_ref().unwrap().asks[0].param,
        "version"
    );
    // Without a version it cannot run, and says so.
    let e = ops
        .run_step(&id, 2, StepRunRequest::default(), |_| {})
        .await
        .unwrap_err();
    assert!(e.message.contains("needs a version"), "{}", e.message);
    // The archived version 1 goes straight to the namespace, confirmed, and is recorded as a
    // manual deployment.
    let values = inputs(&[("version", &v1)]);
    let plan = ops.step_plan(&id, 2, values.clone()).await.unwrap();
    assert!(plan.mutates);
    assert_ne!(plan.confirmation.kind, StepConfirmationKind::None);
    let e = ops
        .run_step(
            &id,
            2,
            StepRunRequest {
                values: values.clone(),
                confirmation: Some("nope".into()),
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    let d = ops
        .run_step(
            &id,
            2,
            StepRunRequest {
                values,
                confirmation: plan.confirmation.phrase.clone(),
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(state(&d, 2), RunStepState::Passed, "{:#?}", d.steps[2]);
    assert!(
        d.steps[2].output.contains("manual deployment"),
        "{}",
        d.steps[2].output
    );
    let audit = ops.audit_log(SANDBOX_PROFILE_ID, 50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.entry.action.contains("direct") && a.entry.outcome == "ok"),
        "{:#?}",
        audit
            .iter()
            .map(|a| (&a.entry.action, &a.entry.outcome))
            .collect::<Vec<_>>()
    );
    ops.clear_fault(SANDBOX_PROFILE_ID, None, Some(&id))
        .await
        .unwrap();
    assert!(ops
        .sandbox_faults(SANDBOX_PROFILE_ID)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn redeploy_finds_the_archived_version_by_its_label() {
    let f = fixture().await;
    let ops = &f.ops;
    deploy_bundle(ops, f.dir.path(), "v1.0.0-rb").await;
    deploy_bundle(ops, f.dir.path(), "v2.0.0-rb").await;
    write_user_runbook(
        &f.dir.path().join("app"),
        "redeploy",
        "---\ninputs: service\n---\n# Redeploy\n\n## Redeploy {#redeploy}\n\n```switchyard redeploy service=$service version=?\n```\n",
    );
    let run = ops
        .start_run(
            SANDBOX_PROFILE_ID,
            "user/redeploy",
            inputs(&[("service", "gateway")]),
            false,
        )
        .await
        .unwrap();
    let id = run.summary.id;
    let values = inputs(&[("version", "v1.0.0-rb")]);
    let e = ops
        .step_plan(&id, 0, inputs(&[("version", "v9.9.9")]))
        .await
        .unwrap_err();
    assert!(
        e.message.contains("no archived version \"v9.9.9\""),
        "{}",
        e.message
    );
    let plan = ops.step_plan(&id, 0, values.clone()).await.unwrap();
    assert_eq!(
        plan.confirmation.kind,
        StepConfirmationKind::TypeName,
        "production: {plan:#?}"
    );
    let d = ops
        .run_step(
            &id,
            0,
            StepRunRequest {
                values,
                confirmation: Some("gateway".into()),
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(state(&d, 0), RunStepState::Passed, "{:#?}", d.steps[0]);
    assert!(
        d.steps[0].output.contains("v1.0.0-rb"),
        "{}",
        d.steps[0].output
    );
}

#[tokio::test]
async fn faults_and_rehearsals_are_for_the_sandbox_only() {
    let f = fixture().await;
    local_profile(&f.ops, Protection::Normal).await;
    let e = f
        .ops
        .inject_fault("stg", RehearsalFault::DispatcherDown, None)
        .await
        .unwrap_err();
    assert!(e.message.contains("Local sandbox only"), "{}", e.message);
    let e = f
        .ops
        .start_run("stg", "monitoring", BTreeMap::new(), true)
        .await
        .unwrap_err();
    assert!(
        e.message
            .contains("Rehearsals run on the Local sandbox only"),
        "{}",
        e.message
    );
    // Database unhealthy and latency faults are accepted and listed in words.
    f.ops
        .inject_fault(SANDBOX_PROFILE_ID, RehearsalFault::DatabaseUnhealthy, None)
        .await
        .unwrap();
    let list = f
        .ops
        .inject_fault(
            SANDBOX_PROFILE_ID,
            RehearsalFault::Latency {
                target: "dispatcher".into(),
                ms: 50,
            },
            None,
        )
        .await
        .unwrap();
    let words: Vec<&str> = list.iter().map(|f| f.description.as_str()).collect();
    assert!(words.contains(&"db answers HTTP 503"), "{words:?}");
    assert!(
        words.contains(&"dispatcher answers after 50 ms"),
        "{words:?}"
    );
    let board = f.ops.check_health(SANDBOX_PROFILE_ID, 5_000).await.unwrap();
    let db = board.results.iter().find(|r| r.name == "db").unwrap();
    assert_eq!(db.state, switchyard_ops::HealthStatus::Down);
}

#[tokio::test]
async fn read_only_actions_run_against_the_sandbox() {
    let f = fixture().await;
    let ops = &f.ops;
    let run = ops
        .start_run(SANDBOX_PROFILE_ID, "monitoring", BTreeMap::new(), false)
        .await
        .unwrap();
    let id = run.summary.id;
    let d = ops
        .run_step(&id, 0, StepRunRequest::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(state(&d, 0), RunStepState::Passed, "{}", d.steps[0].output);
    assert!(
        d.steps[0].output.contains("8/8 up"),
        "{}",
        d.steps[0].output
    );
    // The dispatcher and the Deploy API are checked each (the step named both checked one).
    let d = ops
        .run_step(&id, 1, StepRunRequest::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(state(&d, 1), RunStepState::Passed, "{}", d.steps[1].output);
    assert!(
        d.steps[1].output.contains("dispatcher"),
        "{}",
        d.steps[1].output
    );
    let d = ops
        .run_step(&id, 2, StepRunRequest::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(state(&d, 2), RunStepState::Passed, "{}", d.steps[2].output);
    assert!(
        d.steps[2].output.contains("deploy-api"),
        "{}",
        d.steps[2].output
    );
    let d = ops
        .run_step(&id, 3, StepRunRequest::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(state(&d, 3), RunStepState::Passed, "{}", d.steps[3].output);
    assert!(
        d.steps[3].output.contains("deploy_"),
        "{}",
        d.steps[3].output
    );
    let d = ops
        .run_step(&id, 4, StepRunRequest::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(state(&d, 4), RunStepState::Passed, "{}", d.steps[4].output);
    assert!(
        d.steps[4].output.contains("failed"),
        "{}",
        d.steps[4].output
    );

    let run = ops
        .start_run(
            SANDBOX_PROFILE_ID,
            "managing-namespaces",
            BTreeMap::new(),
            false,
        )
        .await
        .unwrap();
    let id = run.summary.id;
    let d = ops
        .run_step(&id, 0, StepRunRequest::default(), |_| {})
        .await
        .unwrap();
    assert!(
        d.steps[0].output.contains("dotdo-production"),
        "{}",
        d.steps[0].output
    );
    let d = ops
        .run_step(
            &id,
            1,
            StepRunRequest {
                values: inputs(&[("namespace", "dotdo-nowhere")]),
                confirmation: None,
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(state(&d, 1), RunStepState::Failed);
    assert!(d.steps[1]
        .error
        .as_deref()
        .unwrap()
        .contains("does not exist"));
    // Creating a namespace on a production profile needs the name typed.
    let plan = ops
        .step_plan(&id, 2, inputs(&[("namespace", "dotdo-rehearsal")]))
        .await
        .unwrap();
    assert_eq!(plan.confirmation.kind, StepConfirmationKind::TypeName);
    assert_eq!(plan.confirmation.phrase.as_deref(), Some("dotdo-rehearsal"));
    let d = ops
        .run_step(
            &id,
            2,
            StepRunRequest {
                values: inputs(&[("namespace", "dotdo-rehearsal")]),
                confirmation: Some("dotdo-rehearsal".into()),
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(state(&d, 2), RunStepState::Passed, "{}", d.steps[2].output);
    let d = ops
        .run_step(
            &id,
            3,
            StepRunRequest {
                values: inputs(&[("namespace", "dotdo-production")]),
                confirmation: None,
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert!(
        d.steps[3].output.contains("gateway"),
        "{}",
        d.steps[3].output
    );

    let run = ops
        .start_run(
            SANDBOX_PROFILE_ID,
            "issue-invalid-api-key",
            BTreeMap::new(),
            false,
        )
        .await
        .unwrap();
    let d = ops
        .run_step(&run.summary.id, 0, StepRunRequest::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(state(&d, 0), RunStepState::Passed, "{}", d.steps[0].output);
    assert_eq!(
        state(&d, 1),
        RunStepState::Skipped,
        "the new key is not needed"
    );

    let run = ops
        .start_run(
            SANDBOX_PROFILE_ID,
            "issue-insufficient-permissions",
            BTreeMap::new(),
            false,
        )
        .await
        .unwrap();
    let d = ops
        .run_step(&run.summary.id, 0, StepRunRequest::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(state(&d, 0), RunStepState::Passed, "{}", d.steps[0].output);
    assert!(
        d.steps[0].output.contains("deployments:create"),
        "{}",
        d.steps[0].output
    );
}

const COMMANDS: &str = "# Local commands\n\n## Say hello {#hello}\n\n```switchyard command folder=? timeout=5\necho hello from the runbook\n```\n\n## Sleep {#sleep}\n\n```switchyard command folder=? timeout=1\nsleep 5\n```\n";

#[tokio::test]
async fn commands_need_the_exact_command_confirmed_and_respect_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("app");
    let ops = open(&data).await;
    local_profile(&ops, Protection::Normal).await;
    write_user_runbook(&data, "commands", COMMANDS);
    let run = ops
        .start_run("stg", "user/commands", BTreeMap::new(), false)
        .await
        .unwrap();
    let id = run.summary.id;
    let folder = dir.path().display().to_string();
    let values = inputs(&[("folder", &folder)]);

    let plan = ops.step_plan(&id, 0, values.clone()).await.unwrap();
    assert_eq!(plan.command.as_deref(), Some("echo hello from the runbook"));
    assert_eq!(plan.folder.as_deref(), Some(folder.as_str()));
    assert_eq!(plan.confirmation.kind, StepConfirmationKind::Confirm);
    assert_eq!(
        plan.confirmation.phrase.as_deref(),
        Some("echo hello from the runbook")
    );

    let wrong = StepRunRequest {
        values: values.clone(),
        confirmation: Some("echo goodbye".into()),
        basis: None,
    };
    let e = ops.run_step(&id, 0, wrong, |_| {}).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(
        e.message.contains("not the one this step runs"),
        "{}",
        e.message
    );
    assert_eq!(ops.run_detail(&id).await.unwrap().steps[0].attempts, 0);

    // A folder typed in the window, neither chosen with Browse… nor inside a project folder: the
    // command does not run there, and the step says what to do.
    let typed = StepRunRequest {
        values: values.clone(),
        confirmation: plan.confirmation.phrase.clone(),
        basis: None,
    };
    let d = ops.run_step(&id, 0, typed, |_| {}).await.unwrap();
    assert_eq!(state(&d, 0), RunStepState::Failed);
    let why = d.steps[0].error.clone().unwrap_or_default();
    assert!(why.contains("was not chosen with Browse…"), "{why}");
    assert!(why.contains("Settings → Deploys"), "{why}");
    assert!(!d.steps[0].output.contains("hello from the runbook"));
    // Listed as a project folder (the shell adds one from the chooser), it runs.
    ops.add_project_folder(dir.path()).await.unwrap();

    let lines = Mutex::new(Vec::new());
    let ok = StepRunRequest {
        values: values.clone(),
        confirmation: plan.confirmation.phrase.clone(),
        basis: None,
    };
    let d = ops
        .run_step(&id, 0, ok, |o| lines.lock().unwrap().push(o.text))
        .await
        .unwrap();
    assert_eq!(state(&d, 0), RunStepState::Passed, "{}", d.steps[0].output);
    assert!(d.steps[0].output.contains("hello from the runbook"));
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l == "hello from the runbook\n"),
        "streamed line by line"
    );

    // Bounded by its timeout, and its processes are killed.
    let started = std::time::Instant::now();
    let d = ops
        .run_step(
            &id,
            1,
            StepRunRequest {
                values: values.clone(),
                confirmation: Some("sleep 5".into()),
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(state(&d, 1), RunStepState::Failed);
    assert!(
        d.steps[1].error.as_deref().unwrap().contains("within 1 s"),
        "{:?}",
        d.steps[1].error
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(4));

    // A folder that does not exist fails the step with a clear message.
    let d = ops
        .run_step(
            &id,
            0,
            StepRunRequest {
                values: inputs(&[("folder", "/no/such/folder")]),
                confirmation: Some("echo hello from the runbook".into()),
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert!(d.steps[0]
        .error
        .as_deref()
        .unwrap()
        .contains("does not exist"));
    // The typed folder refused, the run in the listed one, and this one.
    assert_eq!(d.steps[0].attempts, 3);

    // Read-only profiles never run commands.
    let mut p = ops.profile("stg").await.unwrap();
    p.protection = Protection::ReadOnly;
    ops.save_profile(p).await.unwrap();
    let plan = ops.step_plan(&id, 0, values.clone()).await.unwrap();
    assert_eq!(plan.confirmation.kind, StepConfirmationKind::Blocked);
    let e = ops
        .run_step(
            &id,
            0,
            StepRunRequest {
                values,
                confirmation: Some("echo hello from the runbook".into()),
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ReadOnlyProfile);
    assert!(e.message.contains("read-only"), "{}", e.message);
}

#[tokio::test]
async fn a_broken_user_runbook_is_reported_and_hides_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("app");
    let ops = open(&data).await;
    write_user_runbook(
        &data,
        "broken",
        "# Broken\n\n## One\n\n```switchyard reboot\n```\n",
    );
    write_user_runbook(&data, "commands", COMMANDS);
    let catalog = ops.runbook_catalog().await.unwrap();
    assert_eq!(
        catalog.runbooks.len(),
        switchyard_runbooks::BUILTIN_RUNBOOKS.len() + 1
    );
    assert_eq!(catalog.problems.len(), 1);
    assert_eq!(catalog.problems[0].errors[0].line, 5);
    assert!(catalog.problems[0].file.ends_with("broken.md"));
    local_profile(&ops, Protection::Normal).await;
    let e = ops
        .start_run("stg", "user/broken", BTreeMap::new(), false)
        .await
        .unwrap_err();
    assert!(e.message.contains("line 5"), "{}", e.message);
    let e = ops
        .start_run("stg", "rolling-back", BTreeMap::new(), false)
        .await
        .unwrap_err();
    assert!(
        e.message.contains("give a service for \"service\""),
        "{}",
        e.message
    );
    let e = ops
        .start_run(
            "stg",
            "rolling-back",
            inputs(&[("service", "Bad Name")]),
            false,
        )
        .await
        .unwrap_err();
    assert!(
        e.message.contains("not a valid service name"),
        "{}",
        e.message
    );
}

// ---------------------------------------------------------------------------------------------
// Crash safety: the same run driven to its end with a crash after every possible write.

const CRASHY: &str = "# Crashy\n\nEvery kind of step.\n\n## Print {#print}\n\n- [ ] Output read\n\n```switchyard command folder=? timeout=10\nprintf 'one\\ntwo\\nthree\\n'\n```\n\n## Look {#look gate}\n\n- [ ] Looked\n- [ ] Looked again\n\n## Only if print failed {#fix when=print:failed}\n\n- [ ] Fixed\n\n## Write it down\n\n```switchyard note prompt=\"What happened?\"\n```\n\n## Optional\n\nRead this if you like.\n\n## Last\n\nDone.\n";

/// Take the run (or start it) and do the next thing it needs, until it is finished.
async fn drive(ops: &Ops, folder: &str) -> Result<String, AppError> {
    // As if chosen with Browse… (the shell remembers what the chooser answered).
    ops.remember_chosen_path(std::path::Path::new(folder), true);
    let id = match ops.runs(Some("stg")).await?.first() {
        Some(r) => r.id.clone(),
        None => {
            ops.start_run("stg", "user/crashy", BTreeMap::new(), false)
                .await?
                .summary
                .id
        }
    };
    for _ in 0..40 {
        let d = ops.run_detail(&id).await?;
        if d.summary.state == RunState::Finished {
            return Ok(id);
        }
        assert!(
            d.steps.iter().all(|s| s.state != RunStepState::Running),
            "nothing runs after a crash"
        );
        let Some(i) = d
            .steps
            .iter()
            .position(|s| !matches!(s.state, RunStepState::Passed | RunStepState::Skipped))
        else {
            ops.finish_run(&id).await?;
            continue;
        };
        let step = &d.steps[i];
        match i {
            0 if step.outcome != Some(switchyard_runbooks::StepOutcome::Passed) => {
                let values = inputs(&[("folder", folder)]);
                ops.run_step(
                    &id,
                    0,
                    StepRunRequest {
                        values,
                        confirmation: Some("printf 'one\\ntwo\\nthree\\n'".into()),
                        basis: None,
                    },
                    |_| {},
                )
                .await?;
            }
            0 | 1 => {
                let c = step
                    .checks
                    .iter()
                    .position(|c| !c.checked)
                    .expect("an unticked check");
                ops.set_check(&id, i as u32, c as u32, true).await?;
            }
            3 => {
                ops.run_step(
                    &id,
                    3,
                    StepRunRequest {
                        values: inputs(&[("text", "all good")]),
                        confirmation: None,
                        basis: None,
                    },
                    |_| {},
                )
                .await?;
            }
            4 => {
                ops.skip_step(&id, 4, "not needed tonight").await?;
            }
            5 => {
                ops.complete_step(&id, 5).await?;
            }
            other => panic!("step {other} should not need anything: {step:#?}"),
        }
    }
    panic!("the run did not finish");
}

#[tokio::test]
async fn a_run_survives_a_crash_between_any_two_writes() {
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().display().to_string();
    // Uninterrupted, for reference.
    let reference = {
        let data = root.path().join("reference");
        let ops = open(&data).await;
        local_profile(&ops, Protection::Normal).await;
        write_user_runbook(&data, "crashy", CRASHY);
        let id = drive(&ops, &folder).await.unwrap();
        ops.run_detail(&id).await.unwrap()
    };
    let want: Vec<RunStepState> = reference.steps.iter().map(|s| s.state).collect();
    assert_eq!(
        want,
        [
            RunStepState::Passed,
            RunStepState::Passed,
            RunStepState::Skipped,
            RunStepState::Passed,
            RunStepState::Skipped,
            RunStepState::Passed
        ]
    );

    let mut interrupted_seen = false;
    let mut partial_seen = false;
    let mut crashes = 0;
    for budget in 0.. {
        let data = root.path().join(format!("crash-{budget}"));
        let crashed = {
            let ops = open(&data).await;
            local_profile(&ops, Protection::Normal).await;
            write_user_runbook(&data, "crashy", CRASHY);
            ops.simulate_crash_after_writes(Some(budget));
            let r = drive(&ops, &folder).await;
            ops.shutdown().await;
            r.is_err()
        };
        if !crashed {
            break;
        }
        crashes += 1;
        // "Restart": a new Ops on the same data folder.
        let ops = open(&data).await;
        if let Some(run) = ops.runs(Some("stg")).await.unwrap().first() {
            let d = ops.run_detail(&run.id).await.unwrap();
            for s in &d.steps {
                assert_ne!(s.state, RunStepState::Running, "budget {budget}");
                if s.state == RunStepState::Interrupted {
                    interrupted_seen = true;
                    if s.index == 0 {
                        partial_seen |= !s.output.is_empty();
                    }
                    assert!(
                        s.index != 0 || s.output.is_empty() || s.output.starts_with("$ printf"),
                        "partial output is kept: {:?}",
                        s.output
                    );
                    assert!(d.events.iter().any(|e| e.kind == "step.interrupted"));
                    let report = ops.incident_report(&run.id).await.unwrap();
                    assert!(report.contains("— interrupted"), "{report}");
                }
            }
        }
        let id = drive(&ops, &folder)
            .await
            .unwrap_or_else(|e| panic!("budget {budget}: resuming failed: {e:?}"));
        let d = ops.run_detail(&id).await.unwrap();
        let got: Vec<RunStepState> = d.steps.iter().map(|s| s.state).collect();
        assert_eq!(got, want, "budget {budget}");
        assert!(d.steps[1].checks.iter().all(|c| c.checked));
        assert_eq!(
            d.steps[4].skip_reason.as_deref(),
            Some("not needed tonight")
        );
        assert!(
            d.steps[0].output.contains("three"),
            "budget {budget}: {}",
            d.steps[0].output
        );
        ops.shutdown().await;
    }
    assert!(
        crashes >= 15,
        "a crash was simulated after each of the {crashes} writes"
    );
    assert!(
        interrupted_seen,
        "a crash during the command left it interrupted"
    );
    assert!(
        partial_seen,
        "an interrupted command keeps the output it had"
    );
}

#[tokio::test]
async fn several_runs_stay_open_and_steps_follow_their_rules() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("app");
    let ops = open(&data).await;
    local_profile(&ops, Protection::Normal).await;
    write_user_runbook(&data, "crashy", CRASHY);
    let a = ops
        .start_run("stg", "user/crashy", BTreeMap::new(), false)
        .await
        .unwrap()
        .summary
        .id;
    let b = ops
        .start_run("stg", "user/crashy", BTreeMap::new(), false)
        .await
        .unwrap()
        .summary
        .id;
    assert_ne!(a, b);
    assert_eq!(ops.runs(None).await.unwrap().len(), 2);

    // The gate (step 2) locks later steps.
    let e = ops.complete_step(&a, 5).await.unwrap_err();
    assert!(e.message.contains("is a gate"), "{}", e.message);
    // A gate with nothing destructive after it may be skipped with a reason (on run b); the
    // steps after it open.
    let d = ops
        .skip_step(&b, 1, "looked at the dashboard instead")
        .await
        .unwrap();
    assert_eq!(state(&d, 1), RunStepState::Skipped);
    assert_eq!(d.steps[5].blocker, None);
    // A gate in front of a step that changes things may not.
    let deploy = ops
        .start_run(
            "stg",
            "deploy-service",
            inputs(&[("service", "gateway"), ("folder", "/tmp")]),
            false,
        )
        .await
        .unwrap()
        .summary
        .id;
    let e = ops.skip_step(&deploy, 0, "no time").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(
        e.message.contains("is a gate in front of step 2")
            && e.message.contains("cannot be skipped"),
        "{}",
        e.message
    );
    let e = ops.skip_step(&a, 4, "  ").await.unwrap_err();
    assert!(e.message.contains("Say why"), "{}", e.message);
    let e = ops.complete_step(&a, 0).await.unwrap_err();
    assert!(e.message.contains("has an action"), "{}", e.message);
    // Ticking every check of the gate passes it; unticking takes it back.
    ops.set_check(&a, 1, 0, true).await.unwrap();
    let d = ops.set_check(&a, 1, 1, true).await.unwrap();
    assert_eq!(state(&d, 1), RunStepState::Passed);
    assert_eq!(d.steps[5].blocker, None);
    let d = ops.set_check(&a, 1, 1, false).await.unwrap();
    assert_eq!(state(&d, 1), RunStepState::Pending);
    assert!(d.steps[5].blocker.is_some());
    // The other run is untouched; abandoning it needs a reason and keeps it browsable.
    assert!(ops.abandon_run(&b, "").await.is_err());
    let d = ops.abandon_run(&b, "Started by mistake").await.unwrap();
    assert_eq!(d.summary.state, RunState::Abandoned);
    assert_eq!(d.end_reason.as_deref(), Some("Started by mistake"));
    assert!(ops
        .incident_report(&b)
        .await
        .unwrap()
        .contains("abandoned — Started by mistake"));
    let e = ops.set_check(&b, 0, 0, true).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let e = ops.run_detail("run_nope").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
}

const LOGS_RUNBOOK: &str = "# Read the logs\n\n## Tail gateway {#tail}\n\n```switchyard logs service=gateway seconds=3\n```\n";

#[tokio::test]
async fn a_logs_step_captures_what_the_code_logged_into_the_output_and_the_report() {
    let f = fixture().await;
    write_user_runbook(f.ops.data_dir(), "logs", LOGS_RUNBOOK);
    let run = f
        .ops
        .start_run(SANDBOX_PROFILE_ID, "user/logs", BTreeMap::new(), false)
        .await
        .unwrap();
    let id = run.summary.id.clone();
    let plan = f.ops.step_plan(&id, 0, BTreeMap::new()).await.unwrap();
    assert!(!plan.mutates);
    assert!(plan.summary.contains("gateway"), "{}", plan.summary);
    let url = f
        .sandbox
        .discovery()
        .service_url(Environment::Production, "gateway")
        + "/api/fail";
    let traffic = async {
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        reqwest::get(&url).await.unwrap();
    };
    let (d, ()) = tokio::join!(
        f.ops.run_step(&id, 0, StepRunRequest::default(), |_| {}),
        traffic
    );
    let d = d.unwrap();
    assert_eq!(state(&d, 0), RunStepState::Passed, "{}", d.steps[0].output);
    let out = &d.steps[0].output;
    assert!(out.contains("GET https://gateway.do/api/fail"), "{out}");
    assert!(out.contains("[error] gateway: failing on purpose"), "{out}");
    assert!(out.contains("failure requested at /api/fail"), "{out}");
    assert!(
        out.contains("1 request of gateway in 3 s; 1 failed."),
        "{out}"
    );
    let report = f.ops.incident_report(&id).await.unwrap();
    assert!(report.contains("failing on purpose"), "{report}");
    assert_eq!(f.ops.open_log_sessions(), 0, "the step's tail is closed");
}

const WORKERS_RUNBOOK: &str = "# Workers\n\n## List them {#list}\n\n```switchyard namespace-scripts namespace=dotdo-staging\n```\n";

/// A commit tag is whatever the platform holds: a worker tagged by another tool with a non-ASCII
/// commit must list, not panic the step (it sliced bytes).
#[tokio::test]
async fn a_non_ascii_commit_tag_is_shown_not_a_panic() {
    let f = fixture().await;
    let d = f.sandbox.discovery();
    let metadata = serde_json::json!({
        "main_module": "w.mjs",
        "tags": ["service:webhooks", "env:staging", "commit:äöüßéèêë-hotfix"],
    });
    let form = reqwest::multipart::Form::new()
        .part(
            "metadata",
            reqwest::multipart::Part::text(metadata.to_string())
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            "w.mjs",
            reqwest::multipart::Part::text(
                "export default { fetch() { return new Response('ok'); } };",
            )
            .file_name("w.mjs")
            .mime_str("application/javascript+module")
            .unwrap(),
        );
    let r = reqwest::Client::new()
        .put(format!(
            "{}/accounts/{}/workers/dispatch/namespaces/dotdo-staging/scripts/webhooks",
            d.cloudflare_api_url, d.account_id
        ))
        .bearer_auth(&d.cloudflare_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    write_user_runbook(f.ops.data_dir(), "workers", WORKERS_RUNBOOK);
    let run = f
        .ops
        .start_run(SANDBOX_PROFILE_ID, "user/workers", BTreeMap::new(), false)
        .await
        .unwrap();
    let d = f
        .ops
        .run_step(&run.summary.id, 0, StepRunRequest::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(state(&d, 0), RunStepState::Passed, "{}", d.steps[0].output);
    assert!(
        d.steps[0].output.contains("äöüßéèê"),
        "{}",
        d.steps[0].output
    );
}

/// A second app on the same data folder used to open it too, and mark the first one's running
/// step "interrupted" (offering to re-run it). Now the folder is one process's at a time.
#[tokio::test]
async fn a_second_app_on_the_same_data_folder_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("app");
    let first = open(&data).await;
    local_profile(&first, Protection::Normal).await;
    let run = first
        .start_run("stg", "monitoring", BTreeMap::new(), false)
        .await
        .unwrap();
    let e = Ops::open(
        &data,
        Arc::new(MemoryStore::new()),
        Arc::new(switchyard_core::SystemClock),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(
        e.message.contains(&data.display().to_string()),
        "{}",
        e.message
    );
    assert!(
        e.message
            .contains(&format!("process {}", std::process::id())),
        "{}",
        e.message
    );
    assert!(e.message.contains("SWITCHYARD_DATA_DIR"), "{}", e.message);
    // The first app's run is untouched; once it is closed, the folder opens again.
    assert_eq!(
        first
            .run_detail(&run.summary.id)
            .await
            .unwrap()
            .summary
            .state,
        switchyard_ops::RunState::Running
    );
    first.shutdown().await;
    drop(first);
    let again = open(&data).await;
    assert!(again.run_detail(&run.summary.id).await.is_ok());
}

/// The value the walk gives a `?` parameter or a run input of `kind`.
fn walk_value(kind: switchyard_runbooks::ValueKind, folder: &Path, namespace: &str) -> String {
    use switchyard_runbooks::ValueKind as K;
    match kind {
        K::Service => "gateway".into(),
        K::Environment => "production".into(),
        K::Namespace => namespace.into(),
        K::Version => "v-walk".into(),
        K::Folder => folder.display().to_string(),
        K::User => "ops@example.com".into(),
        K::Text => "walked by the test".into(),
    }
}

/// Walk run `run_id` to its end the way an operator does in the window, with the window's own
/// commands only: run every action (answering what a step asks and confirming its plan; shell
/// commands run in an empty folder, so they fail as a missing project would), tick manual
/// checks, skip with a reason what cannot be planned and the long logs captures, then finish. Returns the run's end; panics on a dead end (nothing to do, and the run
/// cannot be finished).
async fn walk(ops: &Ops, run_id: &str, folder: &Path, namespace: &str) -> RunDetail {
    use switchyard_runbooks::StepAction as A;
    for _ in 0..80 {
        let d = ops.run_detail(run_id).await.unwrap();
        let next = d.steps.iter().find(|s| {
            s.blocker.is_none()
                && matches!(s.state, RunStepState::Pending | RunStepState::Interrupted)
        });
        let Some(step) = next else {
            return ops.finish_run(run_id).await.unwrap_or_else(|e| {
                panic!(
                    "dead end in {}: nothing can be done and the run cannot be finished: {}\n{:#?}",
                    d.summary.runbook_id,
                    e.message,
                    d.steps
                        .iter()
                        .map(|s| (s.index, &s.title, s.state, &s.blocker_message))
                        .collect::<Vec<_>>()
                )
            });
        };
        let i = step.index;
        let rb = &d.runbook.steps[i as usize];
        match &rb.action {
            Some(block) if matches!(block.action, A::Logs { .. }) => {
                ops.skip_step(
                    run_id,
                    i,
                    "not run by the walk (it reads logs for many seconds)",
                )
                .await
                .unwrap();
            }
            Some(block) => {
                let values: BTreeMap<String, String> = block
                    .asks
                    .iter()
                    .map(|a| (a.param.clone(), walk_value(a.kind, folder, namespace)))
                    .collect();
                let plan = match ops.step_plan(run_id, i, values.clone()).await {
                    Ok(p) => p,
                    Err(e) => {
                        // A plan that cannot be made (no archived version…) is what an
                        // operator would read, then skip with its reason.
                        ops.skip_step(run_id, i, &format!("cannot run: {}", e.message))
                            .await
                            .unwrap();
                        continue;
                    }
                };
                let confirmation = match plan.confirmation.kind {
                    StepConfirmationKind::Blocked => None,
                    _ => plan.confirmation.phrase.clone(),
                };
                let request = StepRunRequest {
                    values,
                    confirmation,
                    basis: plan.basis.clone(),
                };
                if let Err(e) = ops.run_step(run_id, i, request, |_| {}).await {
                    ops.skip_step(run_id, i, &format!("refused: {}", e.message))
                        .await
                        .unwrap();
                }
            }
            None if !rb.checks.is_empty() => {
                for c in 0..rb.checks.len() as u32 {
                    ops.set_check(run_id, i, c, true).await.unwrap();
                }
            }
            None => {
                ops.complete_step(run_id, i).await.unwrap();
            }
        }
        // Manual checks of a step with an action: ticked once its action ran.
        let d = ops.run_detail(run_id).await.unwrap();
        let s = &d.steps[i as usize];
        if s.state == RunStepState::Pending && !s.checks.is_empty() {
            for c in 0..s.checks.len() as u32 {
                ops.set_check(run_id, i, c, true).await.unwrap();
            }
        }
    }
    panic!("the walk of {run_id} did not end in 80 moves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_builtin_runbook_reaches_an_end_under_every_rehearsal_fault() {
    let faults: Vec<Option<RehearsalFault>> = vec![
        None,
        Some(RehearsalFault::ServiceDown {
            service: "gateway".into(),
        }),
        Some(RehearsalFault::BadDeploy {
            service: "gateway".into(),
        }),
        Some(RehearsalFault::ServiceErrors {
            service: "gateway".into(),
            status: 500,
        }),
        Some(RehearsalFault::DeployApiDown),
        Some(RehearsalFault::DispatcherDown),
        Some(RehearsalFault::DatabaseUnhealthy),
    ];
    let walks = faults.into_iter().map(|fault| async move {
        let f = fixture().await;
        let ops = &f.ops;
        let folder = f.dir.path().join("service");
        std::fs::create_dir_all(&folder).unwrap();
        ops.remember_chosen_path(&folder, true);
        // Verification waits as long as a test may.
        ops.set_deploy_settings(switchyard_ops::DeploySettings {
            health_wait_ms: 1_000,
            health_poll_ms: 100,
            ..ops.deploy_settings().await.unwrap()
        })
        .await
        .unwrap();
        // An archived version to restore or upload directly.
        deploy_bundle(ops, f.dir.path(), "v-walk").await;
        let namespace = ops
            .store()
            .get_profile(SANDBOX_PROFILE_ID)
            .await
            .unwrap()
            .namespace;
        let catalog = ops.runbook_catalog().await.unwrap();
        let mut ends = Vec::new();
        for runbook in &catalog.runbooks {
            if let Some(fault) = &fault {
                ops.clear_fault(SANDBOX_PROFILE_ID, None, None)
                    .await
                    .unwrap();
                ops.inject_fault(SANDBOX_PROFILE_ID, fault.clone(), None)
                    .await
                    .unwrap();
            }
            let inputs: BTreeMap<String, String> = runbook
                .inputs
                .iter()
                .map(|i| {
                    let v = i
                        .default
                        .clone()
                        .unwrap_or_else(|| walk_value(i.kind, &folder, &namespace));
                    (i.name.clone(), v)
                })
                .collect();
            let run = ops
                .start_run(SANDBOX_PROFILE_ID, &runbook.id, inputs, fault.is_some())
                .await
                .unwrap_or_else(|e| panic!("starting {}: {}", runbook.id, e.message));
            let started = std::time::Instant::now();
            let end = walk(ops, &run.summary.id, &folder, &namespace).await;
            eprintln!(
                "{fault:?} {}: {:?} in {} ms",
                runbook.id,
                end.summary.state,
                started.elapsed().as_millis()
            );
            assert!(
                matches!(end.summary.state, RunState::Finished | RunState::Escalated),
                "{} under {fault:?} ended {:?}",
                runbook.id,
                end.summary.state
            );
            ends.push((runbook.id.clone(), end.summary.state, end.end_reason));
        }
        (fault, ends)
    });
    let results = futures_util::future::join_all(walks).await;
    let find = |fault: &Option<RehearsalFault>, id: &str| {
        results
            .iter()
            .find(|(f, _)| f == fault)
            .and_then(|(_, ends)| ends.iter().find(|(r, _, _)| r == id))
            .cloned()
            .unwrap()
    };
    // Every built-in was walked under every fault.
    for (_, ends) in &results {
        assert_eq!(ends.len(), switchyard_runbooks::builtin_runbooks().0.len());
    }
    // The database rehearsal reaches its escalation and ends escalated, saying why.
    let (_, state, why) = find(
        &Some(RehearsalFault::DatabaseUnhealthy),
        "emergency-database-connection-lost",
    );
    assert_eq!(state, RunState::Escalated);
    assert!(why.unwrap().contains("Verify the db service"));
    // With nothing wrong, it ends finished: the escalation was skipped by its condition.
    let (_, state, _) = find(&None, "emergency-database-connection-lost");
    assert_eq!(state, RunState::Finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_incident_report_says_what_happened_elsewhere_during_the_run() {
    // The real clock: the sandbox stamps deployments with it.
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::new(dir.path().join("sandbox")))
        .await
        .unwrap();
    let ops = Ops::open(
        &dir.path().join("app"),
        Arc::new(MemoryStore::new()),
        Arc::new(switchyard_core::SystemClock),
    )
    .await
    .unwrap();
    ops.attach_sandbox(sandbox.discovery().clone())
        .await
        .unwrap();
    // Before the run: gateway is up (the health history knows its state).
    ops.check_health(SANDBOX_PROFILE_ID, 5_000).await.unwrap();
    let run = ops
        .start_run(
            SANDBOX_PROFILE_ID,
            "emergency-service-down",
            inputs(&[("service", "gateway")]),
            true,
        )
        .await
        .unwrap();
    let id = run.summary.id.clone();
    // The run's own step (its health check) is in its timeline, not in "Meanwhile".
    ops.run_step(&id, 0, confirm(None), |_| {}).await.unwrap();
    // Elsewhere, while the run is open: someone deploys from the Deploy area, and gateway goes
    // down on Health.
    let deployed = deploy_bundle(&ops, dir.path(), "v-meanwhile").await;
    ops.inject_fault(
        SANDBOX_PROFILE_ID,
        RehearsalFault::ServiceDown {
            service: "gateway".into(),
        },
        None,
    )
    .await
    .unwrap();
    ops.check_health(SANDBOX_PROFILE_ID, 5_000).await.unwrap();

    let report = ops.incident_report(&id).await.unwrap();
    let (_, meanwhile) = report
        .split_once("## Meanwhile, elsewhere in Switchyard (UTC)")
        .expect("the report has a Meanwhile section");
    assert!(
        meanwhile.contains("`deploy.apply` gateway/production — ok"),
        "{meanwhile}"
    );
    assert!(
        meanwhile.contains(&format!("deployment {deployed} of gateway v-meanwhile")),
        "{meanwhile}"
    );
    assert!(
        meanwhile.contains("health — gateway went down (503)"),
        "{meanwhile}"
    );
    assert!(
        !meanwhile.contains("runbook."),
        "the run's own actions stay out: {meanwhile}"
    );
    let times: Vec<&str> = meanwhile
        .lines()
        .filter(|l| l.starts_with("- "))
        .filter_map(|l| l.get(2..25))
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "oldest first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_step_runs_with_a_minimal_environment_and_the_sandboxs_credentials() {
    let f = fixture().await;
    write_user_runbook(
        &f.dir.path().join("app"),
        "env",
        "# Env\n\nShow the environment.\n\n## Show {#show}\n\n```switchyard command folder=? timeout=10\nenv\n```\n",
    );
    let run = f
        .ops
        .start_run(SANDBOX_PROFILE_ID, "user/env", BTreeMap::new(), false)
        .await
        .unwrap();
    f.ops.remember_chosen_path(f.dir.path(), true);
    let values = inputs(&[("folder", &f.dir.path().display().to_string())]);
    let plan = f
        .ops
        .step_plan(&run.summary.id, 0, values.clone())
        .await
        .unwrap();
    let d = f
        .ops
        .run_step(
            &run.summary.id,
            0,
            StepRunRequest {
                values,
                confirmation: plan.confirmation.phrase.clone(),
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    let out = &d.steps[0].output;
    let discovery = f.sandbox.discovery();
    assert!(
        out.contains(&format!(
            "CLOUDFLARE_API_BASE_URL={}",
            discovery.cloudflare_api_url
        )),
        "{out}"
    );
    assert!(out.contains(&format!("CLOUDFLARE_ACCOUNT_ID={}", discovery.account_id)));
    assert!(out.contains("PATH="), "programs are still found: {out}");
    // The demo token reaches the command, but the step's output never shows or stores it.
    assert!(out.contains("CLOUDFLARE_API_TOKEN=***"), "{out}");
    assert!(!out.contains(&discovery.cloudflare_token), "{out}");
    // Nothing else of the app's environment (cargo's own variables stand in for any token the
    // app was started with).
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .filter(|k| {
            k.chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
        })
        .collect();
    assert!(!names.iter().any(|k| k.starts_with("CARGO")), "{names:?}");
    assert!(
        !names
            .iter()
            .any(|k| k.contains("TOKEN") && *k != "CLOUDFLARE_API_TOKEN"),
        "{names:?}"
    );
}

#[tokio::test]
async fn a_step_or_check_number_from_far_out_of_range_is_a_clear_error_not_a_crash() {
    let f = fixture().await;
    let run = f
        .ops
        .start_run(SANDBOX_PROFILE_ID, "monitoring", BTreeMap::new(), false)
        .await
        .unwrap();
    let id = run.summary.id;
    for e in [
        f.ops.skip_step(&id, u32::MAX, "why").await.unwrap_err(),
        f.ops.complete_step(&id, u32::MAX).await.unwrap_err(),
        f.ops.set_check(&id, 0, u32::MAX, true).await.unwrap_err(),
        f.ops
            .add_run_note(&id, Some(u32::MAX), "a note")
            .await
            .unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::InvalidInput, "{e:?}");
        assert!(e.message.contains("4294967296"), "{}", e.message);
    }
}
