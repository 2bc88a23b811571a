//! Deploy, rollback, archive and export against a real sandbox (real HTTP), a real SQLite file
//! and real child processes (npm + node run the sample service folder's scripts).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use switchyard_core::{
    Environment, ErrorCode, Profile, Protection, RunbookSection, SANDBOX_PROFILE_ID,
};
use switchyard_ops::{
    BundleRef, CheckState, CompareRequest, Confirmation, ConfirmationKind, DeployEvent,
    DeploySettings, DeploySource, DeployStepId, DiffLineKind, DirectDeployRequest, MetadataInput,
    Ops, PackageManager, PreflightCheckId, PrepareDeploy, RestoreRequest, RollbackRequest,
    StepState,
};
use switchyard_sandbox::{Fault, FaultTarget, Sandbox, SandboxConfig};
use switchyard_secrets::{MemoryStore, Secret, SecretKind, SecretStore};
use switchyard_store::DeploymentFilter;

mod support;
use support::{copy_dir, TestClock};

const SB: &str = SANDBOX_PROFILE_ID;

struct Fixture {
    ops: Ops,
    sandbox: Option<Sandbox>,
    keychain: Arc<MemoryStore>,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn sandbox(&self) -> &Sandbox {
        self.sandbox.as_ref().unwrap()
    }
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::new(dir.path().join("sandbox")))
        .await
        .unwrap();
    // Starts at the real time (the sandbox stamps records with it) and moves 1 s every time it
    // is read, so records made in one test sort by time.
    let clock = TestClock::ticking(TestClock::real_now_ms(), 1_000);
    let keychain = Arc::new(MemoryStore::new());
    let ops = Ops::open(&dir.path().join("app"), keychain.clone(), clock)
        .await
        .unwrap();
    ops.attach_sandbox(sandbox.discovery().clone())
        .await
        .unwrap();
    // Short verification waits: tests must be fast.
    ops.set_deploy_settings(DeploySettings {
        health_wait_ms: 1_500,
        health_poll_ms: 100,
        ..DeploySettings::default()
    })
    .await
    .unwrap();
    Fixture {
        ops,
        sandbox: Some(sandbox),
        keychain,
        dir,
    }
}

/// Events collected by a test.
#[derive(Default)]
struct Events(Mutex<Vec<DeployEvent>>);
impl Events {
    fn sink(&self) -> impl Fn(DeployEvent) + Send + Sync + '_ {
        move |e| self.0.lock().unwrap().push(e)
    }
    fn step_states(&self, step: DeployStepId) -> Vec<StepState> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                DeployEvent::Step(s) if s.step == step => Some(s.state),
                _ => None,
            })
            .collect()
    }
    fn lines(&self, step: DeployStepId) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                DeployEvent::Output(o) if o.step == step => Some(o.line.clone()),
                _ => None,
            })
            .collect()
    }
}

/// A copy of the sample service folder (outside any git repository).
fn sample_service(dir: &Path) -> PathBuf {
    let to = dir.join("workers").join("gateway");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sample-service"),
        &to,
    );
    to
}

/// A valid ES-module worker whose text carries `tag`, padded to about `pad` bytes.
fn bundle_file(dir: &Path, tag: &str, pad: usize) -> (PathBuf, Vec<u8>) {
    let mut text = format!(
        "// bundle {tag}\nexport default {{ async fetch() {{ return Response.json({{ status: \"ok\", build: \"{tag}\" }}); }} }};\n"
    );
    while text.len() < pad {
        text.push_str("// padding padding padding padding padding padding padding padding\n");
    }
    let path = dir.join(format!("bundle-{tag}.js"));
    std::fs::write(&path, &text).unwrap();
    (path, text.into_bytes())
}

fn metadata(version: &str) -> MetadataInput {
    MetadataInput {
        commit: Some(format!("{:0>40}", version.replace('.', ""))),
        branch: Some("main".into()),
        author: Some("ops@example.com".into()),
        version: Some(version.into()),
    }
}

fn bundle_request(service: &str, env: Environment, path: &Path, version: &str) -> PrepareDeploy {
    PrepareDeploy {
        profile_id: SB.into(),
        service: service.into(),
        environment: env,
        source: DeploySource::BundleFile {
            path: path.display().to_string(),
        },
        metadata: metadata(version),
        bindings: Some([("DB_SERVICE".to_owned(), "db".to_owned())].into()),
        run_id: None,
        direct: false,
    }
}

async fn deploy_bundle(
    f: &Fixture,
    service: &str,
    env: Environment,
    tag: &str,
    pad: usize,
) -> (String, Vec<u8>) {
    let (path, bytes) = bundle_file(f.dir.path(), tag, pad);
    let confirm = Confirmation {
        confirmed: true,
        typed: Some(service.into()),
        basis: None,
    };
    let out = f
        .ops
        .deploy(bundle_request(service, env, &path, tag), confirm, |_| {})
        .await
        .unwrap_or_else(|e| panic!("deploying {tag}: {e:?}"));
    (out.deployment.id, bytes)
}

async fn served_script(f: &Fixture, env: Environment, service: &str) -> Vec<u8> {
    let d = f.sandbox().discovery();
    reqwest::Client::new()
        .get(format!(
            "{}/accounts/{}/workers/dispatch/namespaces/{}/scripts/{service}/content",
            d.cloudflare_api_url,
            d.account_id,
            env.namespace()
        ))
        .bearer_auth(&d.cloudflare_token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn deploys_a_service_folder_streaming_test_and_build_output() {
    let f = fixture().await;
    let folder = sample_service(f.dir.path());
    let events = Events::default();
    let prepared = f
        .ops
        .prepare_deploy(
            PrepareDeploy {
                profile_id: SB.into(),
                service: "gateway".into(),
                environment: Environment::Staging,
                source: DeploySource::ServiceFolder {
                    path: folder.display().to_string(),
                },
                // Not a git repository: commit, branch and author are typed by hand.
                metadata: MetadataInput {
                    commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
                    branch: Some("main".into()),
                    author: Some("ops@example.com".into()),
                    version: None,
                },
                bindings: None,
                run_id: Some("run-folder".into()),
                direct: false,
            },
            events.sink(),
        )
        .await
        .unwrap();
    let info = prepared.folder.as_ref().unwrap();
    assert_eq!(info.package_manager, PackageManager::Npm);
    assert!(info.package_manager_reason.contains("npm"));
    assert!(info
        .git
        .note
        .as_deref()
        .unwrap()
        .contains("not in a git repository"));
    assert_eq!(info.bindings.len(), 3, "{:?}", info.bindings);
    assert!(info.notes.iter().any(|n| n.contains("MODE")));
    assert_eq!(
        prepared.metadata.version.as_deref(),
        Some("v1.4.0"),
        "from package.json"
    );
    assert!(events
        .lines(DeployStepId::Test)
        .iter()
        .any(|l| l.contains("2 tests passed")));
    assert!(events
        .lines(DeployStepId::Test)
        .iter()
        .any(|l| l.contains("(stderr) all good")));
    assert!(events
        .lines(DeployStepId::Build)
        .iter()
        .any(|l| l.contains("built dist/index.js")));
    assert_eq!(
        events.step_states(DeployStepId::Build),
        [StepState::Running, StepState::Passed]
    );
    assert!(
        prepared.bundle.syntax_checked,
        "{}",
        prepared.bundle.syntax_note
    );
    assert!(prepared
        .checks
        .iter()
        .all(|c| c.state == CheckState::Passed));

    // The plan: the seeded staging gateway (not deployed by the app) vs the folder's build.
    let plan = &prepared.plan;
    let current = plan.current.as_ref().unwrap();
    assert!(current.deployment_id.is_some());
    assert!(
        current.sha256.is_some(),
        "read from the namespace via Cloudflare"
    );
    assert!(plan.bindings.known);
    assert_eq!(plan.bindings.unchanged, 2);
    assert_eq!(plan.bindings.added[0].name, "QUEUE_SERVICE");
    assert_eq!(plan.confirmation.kind, ConfirmationKind::None);
    assert_eq!(plan.action, "Deploy gateway v1.4.0 to staging");

    let out = f
        .ops
        .apply_deploy("run-folder", Confirmation::default(), events.sink())
        .await
        .unwrap();
    assert!(
        out.verification.record_seen && out.verification.health_ok,
        "{:?}",
        out.verification
    );
    assert_eq!(out.deployment.version_tag.as_deref(), Some("v1.4.0"));
    let built = std::fs::read(folder.join("dist/index.js")).unwrap();
    assert_eq!(
        served_script(&f, Environment::Staging, "gateway").await,
        built
    );
    assert!(out.bundle.available);
    assert_eq!(out.bundle.size_bytes as usize, built.len());
    assert!(f
        .dir
        .path()
        .join("app/bundles")
        .join(&out.bundle.sha256)
        .is_file());

    let history = f
        .ops
        .history(
            SB,
            &DeploymentFilter {
                service: Some("gateway".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(history.deployments[0].id, out.deployment.id);
    let archived = f
        .ops
        .archived_bundle(SB, &out.deployment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(archived.sha256, out.bundle.sha256);
    assert_eq!(
        archived.bindings.get("QUEUE_SERVICE").map(String::as_str),
        Some("queue")
    );
    let audit = f.ops.audit_log(SB, 50).await.unwrap();
    for action in ["deploy.prepare", "deploy.apply"] {
        let e = audit.iter().find(|a| a.entry.action == action).unwrap();
        assert_eq!(e.entry.outcome, "ok");
    }
    // An applied run is gone.
    assert_eq!(
        f.ops
            .apply_deploy("run-folder", Confirmation::default(), |_| {})
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn plan_confirmation_follows_environment_and_protection() {
    let f = fixture().await;
    let (path, _) = bundle_file(f.dir.path(), "v9.0.0", 0);

    // Production: the service name must be typed; a bare "yes" is refused server-side.
    let prepared = f
        .ops
        .prepare_deploy(
            bundle_request("email", Environment::Production, &path, "v9.0.0"),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(prepared.plan.confirmation.kind, ConfirmationKind::TypeName);
    assert_eq!(prepared.plan.confirmation.phrase.as_deref(), Some("email"));
    let before = f
        .ops
        .history(SB, &DeploymentFilter::default())
        .await
        .unwrap()
        .deployments
        .len();
    let e = f
        .ops
        .apply_deploy(
            &prepared.run_id,
            Confirmation {
                confirmed: true,
                typed: Some("emial".into()),
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("\"email\""), "{}", e.message);
    let after = f
        .ops
        .history(SB, &DeploymentFilter::default())
        .await
        .unwrap()
        .deployments
        .len();
    assert_eq!(before, after, "nothing deployed");
    // The prepared deploy survives the refusal and goes through with the name typed.
    let out = f
        .ops
        .apply_deploy(
            &prepared.run_id,
            Confirmation {
                confirmed: false,
                typed: Some("email".into()),
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(out.deployment.environment, Environment::Production);

    // Protected profile: staging needs a confirm.
    let mut profile = f.ops.profile(SB).await.unwrap();
    profile.protection = Protection::Protected;
    f.ops
        .store()
        .save_profile(&profile, f.ops.now_ms())
        .await
        .unwrap();
    let prepared = f
        .ops
        .prepare_deploy(
            bundle_request("email", Environment::Staging, &path, "v9.0.0"),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(prepared.plan.confirmation.kind, ConfirmationKind::Confirm);
    let e = f
        .ops
        .apply_deploy(&prepared.run_id, Confirmation::default(), |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(f.ops.discard_deploy(&prepared.run_id));

    // Read-only: blocked at preflight, with the reason.
    profile.protection = Protection::ReadOnly;
    f.ops
        .store()
        .save_profile(&profile, f.ops.now_ms())
        .await
        .unwrap();
    let events = Events::default();
    let e = f
        .ops
        .prepare_deploy(
            bundle_request("email", Environment::Staging, &path, "v9.0.0"),
            events.sink(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ReadOnlyProfile);
    assert!(e.message.contains("read-only"), "{}", e.message);
    let checks = events.0.lock().unwrap().iter().find_map(|e| match e {
        DeployEvent::Preflight(p) => Some(p.checks.clone()),
        _ => None,
    });
    let checks = checks.unwrap();
    let writable = checks
        .iter()
        .find(|c| c.id == PreflightCheckId::ProfileWritable)
        .unwrap();
    assert_eq!(writable.state, CheckState::Failed);
    // The other checks are still reported individually.
    assert!(checks
        .iter()
        .any(|c| c.id == PreflightCheckId::Permission && c.state == CheckState::Passed));
}

#[tokio::test]
async fn a_key_without_deploy_permission_stops_at_preflight_with_the_403_guidance() {
    let f = fixture().await;
    let d = f.sandbox().discovery().clone();
    let sandbox_profile = f.ops.profile(SB).await.unwrap();
    let limited = Profile {
        id: "limited".into(),
        name: "Limited key".into(),
        sandbox: false,
        ..sandbox_profile
    };
    f.ops.save_profile(limited).await.unwrap();
    f.keychain
        .set(
            "limited",
            SecretKind::DeployApiKey,
            &Secret::new(d.readonly_key.clone()),
        )
        .unwrap();
    let (path, _) = bundle_file(f.dir.path(), "v1.0.0", 0);
    let events = Events::default();
    let mut request = bundle_request("gateway", Environment::Staging, &path, "v1.0.0");
    request.profile_id = "limited".into();
    let e = f
        .ops
        .prepare_deploy(request, events.sink())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InsufficientPermissions);
    assert_eq!(
        e.runbook.as_deref(),
        Some(RunbookSection::InsufficientPermissions.heading())
    );
    assert!(e.message.contains("deployments:create"), "{}", e.message);
    assert_eq!(
        events.step_states(DeployStepId::Preflight).last(),
        Some(&StepState::Failed)
    );
    assert!(
        events.step_states(DeployStepId::Upload).is_empty(),
        "never uploaded"
    );
}

#[tokio::test]
async fn a_bundle_file_keeps_the_current_bindings_and_a_removal_is_warned_about() {
    let f = fixture().await;
    // The seeded staging email runs with service bindings (read from Cloudflare).
    let (path, _) = bundle_file(f.dir.path(), "e1", 0);
    let mut request = bundle_request("email", Environment::Staging, &path, "e1");
    request.bindings = None;
    let prepared = f.ops.prepare_deploy(request, |_| {}).await.unwrap();
    let current = prepared.plan.current.as_ref().unwrap();
    let kept = current.bindings.clone().unwrap();
    assert!(!kept.is_empty(), "the seeded email has bindings");
    assert_eq!(prepared.bindings, kept, "a bundle file keeps what runs now");
    assert_eq!(prepared.plan.next.bindings.as_ref(), Some(&kept));
    assert!(prepared.plan.bindings.removed.is_empty());
    assert!(
        prepared
            .plan
            .warnings
            .iter()
            .any(|w| w.contains("keeps those of what runs now")),
        "{:?}",
        prepared.plan.warnings
    );
    // Applied, the bindings are sent and archived with the bundle.
    let out = f
        .ops
        .apply_deploy(&prepared.run_id, Confirmation::default(), |_| {})
        .await
        .unwrap();
    let archived = f
        .ops
        .archived_bundle(SB, &out.deployment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(archived.bindings, kept);

    // Bindings given that drop one of those: the plan says what stops working.
    let (path, _) = bundle_file(f.dir.path(), "e2", 0);
    let mut request = bundle_request("email", Environment::Staging, &path, "e2");
    let (dropped, _) = kept.iter().next().unwrap();
    let mut fewer = kept.clone();
    fewer.remove(dropped.as_str());
    request.bindings = Some(fewer);
    let prepared = f.ops.prepare_deploy(request, |_| {}).await.unwrap();
    assert_eq!(prepared.plan.bindings.removed.len(), 1);
    assert!(
        prepared
            .plan
            .warnings
            .iter()
            .any(|w| w.contains("removes the service binding") && w.contains(dropped.as_str())),
        "{:?}",
        prepared.plan.warnings
    );
}

/// The window asks for several version lists (and the history) at once after a deploy; each
/// caches what the Deploy API returned. None may fail because another is writing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn version_lists_asked_for_at_once_all_answer() {
    let f = fixture().await;
    let ops = Arc::new(f.ops);
    let mut handles = Vec::new();
    for i in 0..24 {
        let ops = ops.clone();
        handles.push(tokio::spawn(async move {
            let service = ["gateway", "db", "auth", "mcp"][i % 4];
            ops.versions(SB, service, Environment::Production)
                .await
                .map(|_| ())
                .map_err(|e| e.message)
        }));
    }
    let mut failures = Vec::new();
    for h in handles {
        if let Err(e) = h.await.unwrap() {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        failures.first()
    );
}

#[tokio::test]
async fn a_bundle_over_the_size_limit_is_refused_at_preflight() {
    let f = fixture().await;
    f.ops
        .set_deploy_settings(DeploySettings {
            bundle_size_limit_bytes: 1_000,
            ..f.ops.deploy_settings().await.unwrap()
        })
        .await
        .unwrap();
    let (path, _) = bundle_file(f.dir.path(), "big", 5_000);
    let e = f
        .ops
        .prepare_deploy(
            bundle_request("gateway", Environment::Staging, &path, "v1"),
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BundleTooLarge);
    assert!(e.message.contains("1000"), "{}", e.message);
}

#[tokio::test]
async fn a_failed_health_check_is_reported_and_the_deployment_still_recorded() {
    let f = fixture().await;
    support::fail_with_500(
        f.sandbox(),
        FaultTarget::Service("db".into(), Some(Environment::Staging)),
    );
    let (path, _) = bundle_file(f.dir.path(), "v2.0.0", 0);
    let events = Events::default();
    let e = f
        .ops
        .deploy(
            bundle_request("db", Environment::Staging, &path, "v2.0.0"),
            Confirmation::default(),
            events.sink(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ServerError);
    assert_eq!(
        e.runbook.as_deref(),
        Some(RunbookSection::DeployedCrashes.heading())
    );
    assert!(e.message.contains("health check failed"), "{}", e.message);
    assert_eq!(
        events.step_states(DeployStepId::VerifyRecord).last(),
        Some(&StepState::Passed)
    );
    assert_eq!(
        events.step_states(DeployStepId::VerifyHealth).last(),
        Some(&StepState::Failed)
    );
    // Recorded: in the history cache, the archive and the audit log.
    let history = f
        .ops
        .history(
            SB,
            &DeploymentFilter {
                service: Some("db".into()),
                environment: Some(Environment::Staging),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let newest = &history.deployments[0];
    assert_eq!(newest.version_tag.as_deref(), Some("v2.0.0"));
    assert!(e.message.contains(&newest.id));
    assert!(f
        .ops
        .archived_bundle(SB, &newest.id)
        .await
        .unwrap()
        .is_some());
    let audit = f.ops.audit_log(SB, 10).await.unwrap();
    let apply = audit
        .iter()
        .find(|a| a.entry.action == "deploy.apply")
        .unwrap();
    assert_eq!(apply.entry.outcome, "ServerError");
}

#[tokio::test]
async fn cancelling_before_the_upload_leaves_no_deployment() {
    let f = fixture().await;
    let folder = sample_service(f.dir.path());
    // A test script that would run for a minute.
    std::fs::write(
        folder.join("package.json"),
        r#"{"name":"slow","version":"1.0.0","scripts":{"test":"node -e \"console.log('waiting'); setTimeout(() => {}, 60000)\"","build":"node scripts/build.mjs"}}"#,
    )
    .unwrap();
    let count = || async {
        f.ops
            .history(
                SB,
                &DeploymentFilter {
                    service: Some("gateway".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .deployments
            .len()
    };
    let before = count().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let started = std::time::Instant::now();
    let prepare = f.ops.prepare_deploy(
        PrepareDeploy {
            profile_id: SB.into(),
            service: "gateway".into(),
            environment: Environment::Staging,
            source: DeploySource::ServiceFolder {
                path: folder.display().to_string(),
            },
            metadata: metadata("v1.0.0"),
            bindings: None,
            run_id: Some("run-cancel".into()),
            direct: false,
        },
        move |e| {
            if let DeployEvent::Output(o) = e {
                let _ = tx.send(o.line);
            }
        },
    );
    let cancel = async {
        // The test script is running once it says so.
        while !rx.recv().await.unwrap().contains("waiting") {}
        f.ops.cancel_deploy("run-cancel").unwrap();
    };
    let (result, ()) = tokio::join!(prepare, cancel);
    assert_eq!(result.unwrap_err().code, ErrorCode::Cancelled);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the script was stopped"
    );
    assert_eq!(count().await, before, "nothing deployed");
    assert_eq!(
        f.ops.cancel_deploy("run-cancel").unwrap_err().code,
        ErrorCode::NotFound
    );
    let audit = f.ops.audit_log(SB, 5).await.unwrap();
    assert_eq!(audit[0].entry.outcome, "Cancelled");
}

#[tokio::test]
async fn retention_never_removes_what_is_deployed_and_explains_pruned_versions() {
    let f = fixture().await;
    f.ops
        .set_deploy_settings(DeploySettings {
            max_archive_bytes: 1024 * 1024,
            ..f.ops.deploy_settings().await.unwrap()
        })
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 1..=5 {
        let (id, _) = deploy_bundle(
            &f,
            "schedule",
            Environment::Staging,
            &format!("r{i}"),
            300 * 1024,
        )
        .await;
        ids.push(id);
    }
    let archived = f.ops.archived_bundles(SB).await.unwrap();
    let available = |id: &str| {
        archived
            .iter()
            .find(|b| b.deployment_id == id)
            .unwrap()
            .available
    };
    assert!(available(&ids[4]), "the current bundle is kept");
    assert!(
        !available(&ids[0]) && !available(&ids[1]),
        "the oldest went to stay under 1 MiB"
    );
    let versions = f
        .ops
        .versions(SB, "schedule", Environment::Staging)
        .await
        .unwrap();
    let row = |id: &str| {
        versions
            .rows
            .iter()
            .find(|r| r.deployment.id == id)
            .unwrap()
            .clone()
    };
    assert!(row(&ids[4]).current && !row(&ids[4]).restorable);
    assert!(row(&ids[3]).restorable, "{:?}", row(&ids[3]).why_not);
    assert!(row(&ids[0]).why_not.unwrap().contains("retention"));
    let seeded = versions.rows.iter().find(|r| r.bundle.is_none()).unwrap();
    assert!(seeded
        .why_not
        .as_deref()
        .unwrap()
        .contains("outside Switchyard"));

    // One-step rollback makes r4 current; then keep only 1 per service: r4 (current) and r5
    // (newest deployed by the app) both stay.
    f.ops
        .rollback(
            RollbackRequest {
                profile_id: SB.into(),
                service: "schedule".into(),
                environment: Environment::Staging,
                reason: "r5 misbehaves".into(),
                confirmation: Confirmation::default(),
                run_id: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    let report = f
        .ops
        .set_deploy_settings(DeploySettings {
            keep_per_service: 1,
            ..f.ops.deploy_settings().await.unwrap()
        })
        .await
        .unwrap();
    assert!(report.pruned.len() <= 1);
    let archived = f.ops.archived_bundles(SB).await.unwrap();
    let available = |id: &str| {
        archived
            .iter()
            .find(|b| b.deployment_id == id)
            .unwrap()
            .available
    };
    assert!(
        available(&ids[3]),
        "the current (rolled back to) bundle is never pruned"
    );
    assert!(available(&ids[4]));
    assert!(!available(&ids[2]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_one_step_marks_and_pins() {
    let f = fixture().await;
    let plan = f
        .ops
        .rollback_plan(SB, "gateway", Environment::Staging)
        .await
        .unwrap();
    let current = plan.current.clone().unwrap();
    let previous = plan.becomes_current.clone().unwrap();
    assert!(plan.blocked_reason.is_none());
    assert!(plan.warnings[0].contains("does not upload"));
    assert!(
        !plan.previous_bundle_archived,
        "seeded versions were not deployed by the app"
    );

    let request = RollbackRequest {
        profile_id: SB.into(),
        service: "gateway".into(),
        environment: Environment::Staging,
        reason: " ".into(),
        confirmation: Confirmation::default(),
        run_id: None,
    };
    assert_eq!(
        f.ops
            .rollback(request.clone(), |_| {})
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidInput
    );
    let out = f
        .ops
        .rollback(
            RollbackRequest {
                reason: "bad release".into(),
                ..request
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(out.deployment.id, previous.id);
    assert_eq!(out.rolled_back_id.as_deref(), Some(current.id.as_str()));
    assert!(out.verification.health_ok);
    assert_eq!(out.pin.reason, "bad release");
    let versions = f
        .ops
        .versions(SB, "gateway", Environment::Staging)
        .await
        .unwrap();
    assert_eq!(versions.pin.as_ref().unwrap().deployment_id, previous.id);
    let rolled = versions
        .rows
        .iter()
        .find(|r| r.deployment.id == current.id)
        .unwrap();
    assert_eq!(
        rolled.deployment.status,
        switchyard_core::DeploymentStatus::RolledBack
    );
    assert!(
        versions
            .rows
            .iter()
            .find(|r| r.deployment.id == previous.id)
            .unwrap()
            .pinned
    );
    let audit = f.ops.audit_log(SB, 5).await.unwrap();
    let entry = audit
        .iter()
        .find(|a| a.entry.action == "deploy.rollback" && a.entry.outcome == "ok")
        .unwrap();
    assert_eq!(entry.entry.params["reason"], "bad release");

    // Production rollback needs the name typed.
    let plan = f
        .ops
        .rollback_plan(SB, "db", Environment::Production)
        .await
        .unwrap();
    assert_eq!(plan.confirmation.kind, ConfirmationKind::TypeName);
}

/// The version labels of the `deployed` records of a service, newest first.
async fn deployed_ids(f: &Fixture, service: &str, env: Environment) -> Vec<String> {
    f.ops
        .versions(SB, service, env)
        .await
        .unwrap()
        .rows
        .into_iter()
        .filter(|r| r.deployment.status == switchyard_core::DeploymentStatus::Deployed)
        .map(|r| r.deployment.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_submitted_rollback_steps_back_once() {
    let f = fixture().await;
    let plan = f
        .ops
        .rollback_plan(SB, "gateway", Environment::Staging)
        .await
        .unwrap();
    let before = deployed_ids(&f, "gateway", Environment::Staging).await;
    assert!(
        before.len() >= 3,
        "the seed has versions to step back through"
    );
    let request = RollbackRequest {
        profile_id: SB.into(),
        service: "gateway".into(),
        environment: Environment::Staging,
        reason: "bad release".into(),
        confirmation: Confirmation {
            confirmed: true,
            typed: None,
            basis: Some(plan.basis.clone()),
        },
        run_id: None,
    };
    // Two clicks at once: one runs, the other is refused with what is running.
    let (a, b) = tokio::join!(
        f.ops.rollback(request.clone(), |_| {}),
        f.ops.rollback(request.clone(), |_| {})
    );
    let (ok, refused): (Vec<_>, Vec<_>) = [a, b].into_iter().partition(|r| r.is_ok());
    assert_eq!(ok.len(), 1, "exactly one of the two rollbacks runs");
    let e = refused.into_iter().next().unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{}", e.message);
    assert!(
        e.message.starts_with("Nothing was changed"),
        "{}",
        e.message
    );
    let after = deployed_ids(&f, "gateway", Environment::Staging).await;
    assert_eq!(after, before[1..].to_vec(), "one version back, not two");

    // The same confirmation again, later (a retry, a second submit): the plan it was made
    // against is gone, so it is refused and says what is current now.
    let e = f.ops.rollback(request, |_| {}).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{}", e.message);
    assert!(
        e.message.contains("the plan you confirmed"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains(&before[1]),
        "names what is current now: {}",
        e.message
    );
    assert_eq!(
        deployed_ids(&f, "gateway", Environment::Staging).await,
        after
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_or_deploy_confirmed_against_an_old_plan_is_refused() {
    let f = fixture().await;
    let (v1, _) = deploy_bundle(&f, "mcp", Environment::Staging, "v1", 0).await;
    let (_v2, b2) = deploy_bundle(&f, "mcp", Environment::Staging, "v2", 0).await;
    let plan = f.ops.restore_plan(SB, &v1).await.unwrap();
    let restore = RestoreRequest {
        profile_id: SB.into(),
        deployment_id: v1.clone(),
        reason: "v2 is broken".into(),
        confirmation: Confirmation {
            confirmed: true,
            typed: None,
            basis: Some(plan.basis.clone()),
        },
        run_id: None,
    };
    // Someone deploys v3 while the plan is on screen.
    let (v3, b3) = deploy_bundle(&f, "mcp", Environment::Staging, "v3", 0).await;
    let e = f
        .ops
        .restore_version(restore.clone(), |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{}", e.message);
    assert!(
        e.message.contains(&v3),
        "names the new current version: {}",
        e.message
    );
    assert_eq!(
        served_script(&f, Environment::Staging, "mcp").await,
        b3,
        "nothing changed"
    );
    assert_ne!(b2, b3);

    // A prepared deploy is bound to the plan it showed, without the caller sending anything.
    let (path, _) = bundle_file(f.dir.path(), "v4", 0);
    let prepared = f
        .ops
        .prepare_deploy(
            bundle_request("mcp", Environment::Staging, &path, "v4"),
            |_| {},
        )
        .await
        .unwrap();
    let (v5, b5) = deploy_bundle(&f, "mcp", Environment::Staging, "v5", 0).await;
    let e = f
        .ops
        .apply_deploy(
            &prepared.run_id,
            Confirmation {
                confirmed: true,
                ..Confirmation::default()
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{}", e.message);
    assert!(e.message.contains(&v5), "{}", e.message);
    assert_eq!(served_script(&f, Environment::Staging, "mcp").await, b5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolls_back_two_versions_to_an_archived_bundle_and_the_namespace_serves_it() {
    let f = fixture().await;
    let (v1, b1) = deploy_bundle(&f, "mcp", Environment::Staging, "v1", 0).await;
    let (_v2, _) = deploy_bundle(&f, "mcp", Environment::Staging, "v2", 0).await;
    let (v3, b3) = deploy_bundle(&f, "mcp", Environment::Staging, "v3", 0).await;
    assert_eq!(served_script(&f, Environment::Staging, "mcp").await, b3);

    let plan = f.ops.restore_plan(SB, &v1).await.unwrap();
    assert_eq!(
        plan.current.as_ref().unwrap().deployment_id.as_deref(),
        Some(v3.as_str())
    );
    assert_eq!(plan.next.version_label.as_deref(), Some("v1"));
    assert_eq!(plan.kind, switchyard_store::BundleUseKind::Rollback);

    let out = f
        .ops
        .restore_version(
            RestoreRequest {
                profile_id: SB.into(),
                deployment_id: v1.clone(),
                reason: "v2 and v3 corrupt data".into(),
                confirmation: Confirmation::default(),
                run_id: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(
        served_script(&f, Environment::Staging, "mcp").await,
        b1,
        "the old script is served again"
    );
    assert!(out
        .deployment
        .metadata
        .version
        .as_deref()
        .unwrap()
        .contains(&format!("rollback to {v1}")));
    assert!(out.verification.health_ok);
    let pin = out.pin.unwrap();
    assert_eq!(pin.deployment_id, out.deployment.id);

    // The next deploy warns about the pin, needs a confirm, and removes the pin.
    let (path, _) = bundle_file(f.dir.path(), "v4", 0);
    let prepared = f
        .ops
        .prepare_deploy(
            bundle_request("mcp", Environment::Staging, &path, "v4"),
            |_| {},
        )
        .await
        .unwrap();
    assert!(prepared.plan.pin.is_some());
    assert!(
        prepared.plan.warnings[0].contains("pinned"),
        "{:?}",
        prepared.plan.warnings
    );
    assert_eq!(prepared.plan.confirmation.kind, ConfirmationKind::Confirm);
    let out = f
        .ops
        .apply_deploy(
            &prepared.run_id,
            Confirmation {
                confirmed: true,
                typed: None,
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert!(out.pin_cleared);
    assert!(f
        .ops
        .versions(SB, "mcp", Environment::Staging)
        .await
        .unwrap()
        .pin
        .is_none());
}

#[tokio::test]
async fn direct_deploy_uploads_an_archived_bundle_and_records_it_as_manual() {
    let f = fixture().await;
    let (v1, b1) = deploy_bundle(&f, "queue", Environment::Staging, "q1", 0).await;
    deploy_bundle(&f, "queue", Environment::Staging, "q2", 0).await;
    // The Deploy API is down: go straight to the namespace.
    f.sandbox()
        .faults()
        .set(
            FaultTarget::DeployApi,
            Fault::Down {
                how: Default::default(),
            },
        )
        .unwrap();
    let plan = f.ops.direct_deploy_plan(SB, &v1, None).await.unwrap();
    assert_eq!(plan.confirmation.kind, ConfirmationKind::Confirm);
    let request = DirectDeployRequest {
        profile_id: SB.into(),
        deployment_id: v1.clone(),
        environment: None,
        reason: "deploy API down, q2 broken".into(),
        confirmation: Confirmation::default(),
        run_id: None,
    };
    assert_eq!(
        f.ops
            .direct_deploy(request.clone(), |_| {})
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidInput
    );
    let out = f
        .ops
        .direct_deploy(
            DirectDeployRequest {
                confirmation: Confirmation {
                    confirmed: true,
                    typed: None,
                    basis: None,
                },
                ..request
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(served_script(&f, Environment::Staging, "queue").await, b1);
    assert!(out.record.id.starts_with("manual_"));
    assert!(out.tags.contains(&"manual:switchyard".to_owned()));
    let history = f
        .ops
        .history(
            SB,
            &DeploymentFilter {
                service: Some("queue".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(history.deployments[0].id, out.record.id);
    let audit = f.ops.audit_log(SB, 5).await.unwrap();
    let entry = audit
        .iter()
        .find(|a| a.entry.action == "deploy.direct" && a.entry.outcome == "ok")
        .unwrap();
    assert_eq!(entry.entry.params["manual"], true);
}

#[tokio::test]
async fn sandbox_gone_mid_deploy_is_a_clear_unreachable_error_and_history_stays() {
    let mut f = fixture().await;
    f.ops.sync_history(SB, |_| {}).await.unwrap();
    let before = f
        .ops
        .history(SB, &DeploymentFilter::default())
        .await
        .unwrap();
    let (path, _) = bundle_file(f.dir.path(), "v5", 0);
    let prepared = f
        .ops
        .prepare_deploy(
            bundle_request("auth", Environment::Staging, &path, "v5"),
            |_| {},
        )
        .await
        .unwrap();
    f.sandbox.take().unwrap().shutdown().await;
    let e = f
        .ops
        .apply_deploy(&prepared.run_id, Confirmation::default(), |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unreachable, "{e:?}");
    assert!(e.message.contains("cannot connect"), "{}", e.message);
    let after = f
        .ops
        .history(SB, &DeploymentFilter::default())
        .await
        .unwrap();
    assert_eq!(before.deployments, after.deployments);
}

#[tokio::test]
async fn exports_filtered_history_as_csv_and_json_with_bundle_hashes() {
    let f = fixture().await;
    f.ops.sync_history(SB, |_| {}).await.unwrap();
    let (id, bytes) = deploy_bundle(&f, "webhooks", Environment::Staging, "w1", 0).await;
    let filter = DeploymentFilter {
        service: Some("webhooks".into()),
        ..Default::default()
    };
    let rows = f.ops.history(SB, &filter).await.unwrap().deployments;
    let csv = f.ops.export_history_csv(SB, &filter).await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), rows.len() + 1);
    assert!(lines[0].starts_with("id,service,environment,status,versionTag"));
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    assert!(
        lines[1].starts_with(&id) && lines[1].contains(&sha),
        "{}",
        lines[1]
    );
    let json: serde_json::Value =
        serde_json::from_str(&f.ops.export_history_json(SB, &filter).await.unwrap()).unwrap();
    let items = json.as_array().unwrap();
    assert_eq!(items.len(), rows.len());
    assert_eq!(items[0]["bundle"]["sha256"], sha.as_str());
    assert!(items[1]["bundle"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_cut_off_at_any_step_is_reconciled_at_the_next_start() {
    // Where the app dies, and what the next start must find.
    let cases = [
        ("archived", "not_deployed"),
        ("uploading", "unknown"),
        ("sent", "completed"),
        ("uploaded", "completed"),
        ("recorded", "completed"),
    ];
    for (point, expected) in cases {
        let f = fixture().await;
        let before = served_script(&f, Environment::Staging, "mcp").await;
        let (path, bytes) = bundle_file(f.dir.path(), &format!("crash-{point}"), 0);
        f.ops.simulate_deploy_crash_at(Some(point));
        let e = f
            .ops
            .deploy(
                bundle_request("mcp", Environment::Staging, &path, &format!("v-{point}")),
                Confirmation::default(),
                |_| {},
            )
            .await
            .unwrap_err();
        assert!(
            e.message.contains("Simulated crash"),
            "{point}: {}",
            e.message
        );

        // The app is started again on the same data folder.
        let Fixture {
            ops,
            sandbox,
            keychain,
            dir,
        } = f;
        drop(ops);
        let ops = Ops::open(
            &dir.path().join("app"),
            keychain.clone(),
            TestClock::ticking(TestClock::real_now_ms(), 1_000),
        )
        .await
        .unwrap();
        ops.attach_sandbox(sandbox.as_ref().unwrap().discovery().clone())
            .await
            .unwrap();
        let f = Fixture {
            ops,
            sandbox,
            keychain,
            dir,
        };
        // The action cut off is in the audit log, said to be interrupted.
        let audit = f.ops.audit_log(SB, 20).await.unwrap();
        let apply = audit
            .iter()
            .find(|a| a.entry.action == "deploy.apply")
            .unwrap();
        assert_eq!(apply.entry.outcome, "interrupted", "{point}");

        let found = f.ops.reconcile_deploys().await.unwrap();
        assert_eq!(found.len(), 1, "{point}: {found:?}");
        let d = &found[0];
        assert_eq!(d.resolution, expected, "{point}: {}", d.detail);
        assert_eq!(
            (d.service.as_str(), d.environment),
            ("mcp", Environment::Staging)
        );
        let served = served_script(&f, Environment::Staging, "mcp").await;
        match expected {
            "not_deployed" => {
                assert!(d.detail.contains("nothing was deployed"), "{}", d.detail);
                assert_eq!(served, before, "nothing reached the namespace");
            }
            "unknown" => assert!(d.detail.contains("unknown"), "{}", d.detail),
            _ => {
                assert_eq!(served, bytes, "{point}: the namespace runs it");
                let id = d.deployment_id.clone().unwrap();
                assert!(d.detail.contains(&id), "{}", d.detail);
                // The history and the archive were completed: it can be restored later, and
                // retention keeps the bundle of what runs even at one version per service.
                let history = f
                    .ops
                    .versions(SB, "mcp", Environment::Staging)
                    .await
                    .unwrap();
                let row = history.rows.iter().find(|r| r.deployment.id == id).unwrap();
                assert!(row.current, "{point}");
                f.ops
                    .set_deploy_settings(DeploySettings {
                        keep_per_service: 1,
                        ..f.ops.deploy_settings().await.unwrap()
                    })
                    .await
                    .unwrap();
                let bundle = f.ops.archived_bundle(SB, &id).await.unwrap().unwrap();
                assert!(
                    bundle.available,
                    "{point}: the live deployment's bundle is kept"
                );
            }
        }
        // Shown until dismissed, and reconciled once.
        assert_eq!(f.ops.interrupted_deploys(SB).await.unwrap().len(), 1);
        assert!(f.ops.reconcile_deploys().await.unwrap().is_empty());
        assert!(f.ops.dismiss_interrupted_deploy(&d.run_id).await.unwrap());
        assert!(f.ops.interrupted_deploys(SB).await.unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_code_ships_directly_to_the_namespace_while_the_deploy_api_is_down() {
    let f = fixture().await;
    f.ops
        .inject_fault(SB, switchyard_ops::RehearsalFault::DeployApiDown, None)
        .await
        .unwrap();
    let (path, bytes) = bundle_file(f.dir.path(), "hotfix", 0);
    // Through the Deploy API it cannot go.
    let e = f
        .ops
        .deploy(
            bundle_request("mcp", Environment::Staging, &path, "v-hotfix"),
            Confirmation {
                confirmed: true,
                ..Confirmation::default()
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert_ne!(e.code, ErrorCode::Internal, "{}", e.message);

    // Directly: the same preflight and plan, which says it bypasses the Deploy API and asks for
    // a confirmation even in staging.
    let prepared = f
        .ops
        .prepare_deploy(
            PrepareDeploy {
                direct: true,
                ..bundle_request("mcp", Environment::Staging, &path, "v-hotfix")
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(prepared.plan.kind, switchyard_store::BundleUseKind::Direct);
    // The history cache is empty and the Deploy API is down: the plan shows what the namespace
    // runs (its worker), not "nothing deployed".
    let current = prepared
        .plan
        .current
        .clone()
        .expect("what runs now is shown");
    assert!(
        current.sha256.is_some() && current.version_label.is_some(),
        "{current:?}"
    );
    assert!(prepared.plan.warnings[0].contains("bypasses the Deploy API"));
    assert_eq!(prepared.plan.confirmation.kind, ConfirmationKind::Confirm);
    assert!(
        prepared.plan.action.contains("straight to"),
        "{}",
        prepared.plan.action
    );
    assert!(prepared
        .checks
        .iter()
        .any(|c| c.id == PreflightCheckId::CloudflareToken));
    let e = f
        .ops
        .apply_deploy(&prepared.run_id, Confirmation::default(), |_| {})
        .await
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::InvalidInput,
        "unconfirmed: {}",
        e.message
    );
    let out = f
        .ops
        .apply_deploy(
            &prepared.run_id,
            Confirmation {
                confirmed: true,
                ..Confirmation::default()
            },
            |_| {},
        )
        .await
        .unwrap();
    assert!(
        out.deployment.id.starts_with("manual_"),
        "{}",
        out.deployment.id
    );
    assert_eq!(
        out.deployment.version_tag.as_deref(),
        Some("v-hotfix (manual)")
    );
    assert!(
        out.verification.health_ok,
        "{}",
        out.verification.health_detail
    );
    assert_eq!(served_script(&f, Environment::Staging, "mcp").await, bytes);
    assert!(out.bundle.available, "archived first");

    // When the Deploy API answers again, the history shows it beside the API's records.
    f.ops.clear_fault(SB, None, None).await.unwrap();
    f.ops.sync_history(SB, |_| {}).await.unwrap();
    let versions = f
        .ops
        .versions(SB, "mcp", Environment::Staging)
        .await
        .unwrap();
    assert!(versions
        .rows
        .iter()
        .any(|r| r.deployment.id == out.deployment.id));
    assert!(versions.rows.len() > 1, "the API's records are there too");
    let audit = f.ops.audit_log(SB, 20).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.entry.action == "deploy.direct" && a.entry.outcome == "ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_deploys_to_production_exactly_what_runs_in_staging() {
    let f = fixture().await;
    let (staged, bytes) = deploy_bundle(&f, "mcp", Environment::Staging, "v-stage", 0).await;
    let plan = f
        .ops
        .promote_plan(SB, "mcp", Environment::Staging, Environment::Production)
        .await
        .unwrap();
    assert!(
        plan.warnings[0].contains(&format!("exactly the bundle {staged}")),
        "{:?}",
        plan.warnings
    );
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("the soak time is 30 min")),
        "just deployed to staging: {:?}",
        plan.warnings
    );
    assert_eq!(
        plan.next.sha256.as_deref(),
        Some(sha256_hex(&bytes).as_str())
    );
    assert_eq!(plan.confirmation.kind, ConfirmationKind::TypeName);
    let request = switchyard_ops::PromoteRequest {
        profile_id: SB.into(),
        service: "mcp".into(),
        from: Environment::Staging,
        to: Environment::Production,
        confirmation: Confirmation {
            confirmed: true,
            typed: Some("mcp".into()),
            basis: Some(plan.basis.clone()),
        },
        run_id: None,
    };
    let out = f.ops.promote(request.clone(), |_| {}).await.unwrap();
    assert_eq!(out.deployment.environment, Environment::Production);
    assert_eq!(out.bundle.sha256, sha256_hex(&bytes), "the same bytes");
    assert_eq!(
        served_script(&f, Environment::Production, "mcp").await,
        bytes
    );
    assert!(
        out.verification.health_ok,
        "{}",
        out.verification.health_detail
    );
    assert_eq!(out.deployment.metadata.version.as_deref(), Some("v-stage"));
    // Submitted again with the same plan: refused, production moved since.
    let e = f.ops.promote(request, |_| {}).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{}", e.message);
    let audit = f.ops.audit_log(SB, 20).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.entry.action == "deploy.promote" && a.entry.outcome == "ok"));

    // What Switchyard never archived cannot be promoted byte for byte.
    let e = f
        .ops
        .promote_plan(SB, "gateway", Environment::Staging, Environment::Production)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert!(
        e.message.contains("not in Switchyard's archive"),
        "{}",
        e.message
    );
}

/// Lowercase hex sha256, as the archive names bundles.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_during_a_deploy_is_said_and_leaves_nothing_behind() {
    // A small tmpfs holds the app's data folder (root only: mounting needs it).
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|u| u.split_whitespace().next() == Some("0"))
        })
        .unwrap_or(false);
    if !root {
        eprintln!("SKIPPED: the full-disk archive test mounts a tmpfs and needs root; run it as root to check this guarantee");
        return;
    }
    let outer = tempfile::tempdir().unwrap();
    let mnt = outer.path().join("small");
    std::fs::create_dir_all(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        mounted,
        "root could not mount a tmpfs for the full-disk test"
    );
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _unmount = Unmount(mnt.clone());

    let sandbox = Sandbox::start(SandboxConfig::new(outer.path().join("sandbox")))
        .await
        .unwrap();
    let ops = Ops::open(
        &mnt.join("app"),
        Arc::new(MemoryStore::new()),
        Arc::new(switchyard_core::SystemClock),
    )
    .await
    .unwrap();
    ops.attach_sandbox(sandbox.discovery().clone())
        .await
        .unwrap();
    // A 4 MiB bundle does not fit on a 3 MiB disk.
    let (path, _) = bundle_file(outer.path(), "big", 4 * 1024 * 1024);
    let e = ops
        .deploy(
            bundle_request("mcp", Environment::Staging, &path, "v-big"),
            Confirmation {
                confirmed: true,
                ..Confirmation::default()
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DiskFull, "{}", e.message);
    assert!(
        e.message.contains("is full") && e.message.contains("nothing was saved"),
        "{}",
        e.message
    );
    // Neither the syntax check's copy nor the archive keeps a partial file.
    for folder in ["tmp", "bundles"] {
        let leftovers: Vec<_> = std::fs::read_dir(mnt.join("app").join(folder))
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(
            leftovers.is_empty(),
            "nothing half-written stays in {folder}: {leftovers:?}"
        );
    }
    drop(ops);
}

#[tokio::test]
async fn the_plan_diffs_the_code_against_what_runs_now_and_any_two_archived_versions() {
    let f = fixture().await;
    let staging = Environment::Staging;
    let running = BundleRef::Running {
        service: "gateway".into(),
        environment: staging,
    };
    let compare = |left: BundleRef, right: BundleRef| {
        let ops = &f.ops;
        async move {
            ops.compare_bundles(&CompareRequest {
                profile_id: SB.into(),
                left,
                right,
            })
            .await
            .unwrap()
        }
    };

    // Planned, not deployed: its bytes against the seeded worker, fetched from the namespace.
    let (path_a, bytes_a) = bundle_file(f.dir.path(), "a", 0);
    let prepared = f
        .ops
        .prepare_deploy(bundle_request("gateway", staging, &path_a, "a"), |_| {})
        .await
        .unwrap();
    let sha_a = prepared.plan.next.sha256.clone().unwrap();
    let d = compare(
        running.clone(),
        BundleRef::Bundle {
            sha256: sha_a.clone(),
        },
    )
    .await;
    assert!(!d.identical);
    assert!(d.left.available, "{:?}", d.left);
    assert!(
        d.left.source.contains("the worker gateway in"),
        "{}",
        d.left.source
    );
    assert_eq!(d.right.source, "the bundle planned");
    assert_eq!(d.right.size_bytes, Some(bytes_a.len() as u64));
    let added: Vec<&str> = d
        .hunks
        .iter()
        .flat_map(|h| &h.lines)
        .filter(|l| l.kind == DiffLineKind::Added)
        .map(|l| l.text.as_str())
        .collect();
    assert!(added.contains(&"// bundle a"), "{added:?}");
    assert!(d.removed > 0);
    f.ops.discard_deploy(&prepared.run_id);

    // Deployed from here: what runs now comes from the archive and is the same bytes.
    deploy_bundle(&f, "gateway", staging, "a", 0).await;
    let d = compare(
        running.clone(),
        BundleRef::Bundle {
            sha256: sha_a.clone(),
        },
    )
    .await;
    assert!(d.identical, "{d:?}");
    assert!(
        d.left.source.contains("from the archive"),
        "{}",
        d.left.source
    );
    assert!(d.hunks.is_empty());

    // Any two archived versions: exactly the line that differs.
    let (_, bytes_b) = deploy_bundle(&f, "gateway", staging, "b", 0).await;
    let d = compare(
        BundleRef::Bundle { sha256: sha_a },
        BundleRef::Bundle {
            sha256: sha256_hex(&bytes_b),
        },
    )
    .await;
    assert_eq!((d.added, d.removed), (2, 2), "{d:?}");
    let changed: Vec<(DiffLineKind, &str)> = d
        .hunks
        .iter()
        .flat_map(|h| &h.lines)
        .filter(|l| l.kind != DiffLineKind::Context)
        .map(|l| (l.kind, l.text.as_str()))
        .collect();
    assert!(changed.contains(&(DiffLineKind::Removed, "// bundle a")));
    assert!(changed.contains(&(DiffLineKind::Added, "// bundle b")));

    // Nothing runs yet: all of the code is new, and said so.
    let d = compare(
        BundleRef::Running {
            service: "brand-new".into(),
            environment: staging,
        },
        BundleRef::Bundle {
            sha256: sha256_hex(&bytes_b),
        },
    )
    .await;
    assert!(d.left.absent, "{:?}", d.left);
    assert_eq!(
        d.added as usize,
        bytes_b.iter().filter(|b| **b == b'\n').count()
    );

    // A bundle nobody has is unavailable, not empty; a malformed hash is refused by name.
    let d = compare(
        running.clone(),
        BundleRef::Bundle {
            sha256: "0".repeat(64),
        },
    )
    .await;
    assert!(!d.right.available);
    assert!(d
        .right
        .reason
        .as_deref()
        .unwrap()
        .contains("not in this machine's archive"));
    let e = f
        .ops
        .compare_bundles(&CompareRequest {
            profile_id: SB.into(),
            left: running,
            right: BundleRef::Bundle {
                sha256: "../etc/passwd".into(),
            },
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.starts_with("sha256:"), "{}", e.message);
}

#[tokio::test]
async fn a_version_deployed_elsewhere_is_fetched_from_the_platform_with_its_provenance() {
    let f = fixture().await;
    let prod = Environment::Production;
    // The seeded history: deployed by "CI", never from this machine.
    let list = f.ops.versions(SB, "gateway", prod).await.unwrap();
    let current = list
        .rows
        .iter()
        .find(|r| r.current)
        .expect("a current version");
    assert!(current.bundle.is_none(), "{current:?}");
    assert!(current.fetchable, "{current:?}");

    let archived = f
        .ops
        .fetch_platform_bundle(SB, "gateway", prod, &current.deployment.id)
        .await
        .unwrap();
    assert!(archived.available);
    // Byte for byte what the namespace serves.
    let served = served_script(&f, prod, "gateway").await;
    assert_eq!(archived.sha256, sha256_hex(&served));
    assert_eq!(archived.size_bytes as usize, served.len());
    // Now it is in the versions table with its bundle, and comparable like any other.
    let list = f.ops.versions(SB, "gateway", prod).await.unwrap();
    let row = list.rows.iter().find(|r| r.current).unwrap();
    assert_eq!(
        row.bundle.as_ref().map(|b| b.sha256.clone()),
        Some(archived.sha256.clone())
    );
    assert!(!row.fetchable);
    let d = f
        .ops
        .compare_bundles(&CompareRequest {
            profile_id: SB.into(),
            left: BundleRef::Running {
                service: "gateway".into(),
                environment: prod,
            },
            right: BundleRef::Bundle {
                sha256: archived.sha256.clone(),
            },
        })
        .await
        .unwrap();
    assert!(d.identical, "{d:?}");
    assert!(f
        .ops
        .audit_log(SB, 50)
        .await
        .unwrap()
        .iter()
        .any(|a| a.entry.action == "deploy.fetch_bundle" && a.entry.outcome == "ok"));

    // An older, unversioned deployment was overwritten in the namespace: said, not faked.
    if let Some(old) = list
        .rows
        .iter()
        .find(|r| !r.current && r.deployment.version.is_none() && r.bundle.is_none())
    {
        assert!(!old.fetchable);
        let e = f
            .ops
            .fetch_platform_bundle(SB, "gateway", prod, &old.deployment.id)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Conflict);
        assert!(e.message.contains("overwritten"), "{}", e.message);
    }
}
