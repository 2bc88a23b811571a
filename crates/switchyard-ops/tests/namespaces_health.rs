//! Namespaces, workers, drift and health through the façade, against a real sandbox (real HTTP),
//! a real SQLite file and an in-memory keychain.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use switchyard_clients::{DeployApi, DeployRequest, HttpClient, HttpSettings};
use switchyard_core::{
    DeploymentMetadata, Environment, ErrorCode, Profile, Protection, SANDBOX_PROFILE_ID,
};
use switchyard_ops::{
    BindingKind, HealthBoard, HealthStatus, HealthTargetKind, NotificationGate, ServiceHealth,
    WorkerRevision, DEPLOY_API_TARGET, DISPATCHER_TARGET,
};
use switchyard_sandbox::{Fault, FaultTarget, LargeDataSpec};
use switchyard_secrets::{Secret, SecretKind};

mod support;
use support::{fixture, Fixture};

const SB: &str = SANDBOX_PROFILE_ID;
const START_MS: i64 = support::T0;

/// A user profile pointed at the sandbox, as a real one points at Cloudflare.
fn user_profile(f: &Fixture, id: &str, protection: Protection) -> Profile {
    let mut p = support::user_profile(f.sandbox.discovery(), id, id, Environment::Staging);
    p.protection = protection;
    p
}

async fn namespace_names(f: &Fixture) -> Vec<String> {
    f.ops
        .list_namespaces(SB)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect()
}

fn deploy_api(f: &Fixture) -> DeployApi {
    let d = f.sandbox.discovery();
    DeployApi::new(
        HttpClient::new(HttpSettings::default()).unwrap(),
        &d.deploy_api_url,
        Secret::new(d.deploy_key.clone()),
    )
}

fn deploy_request(
    service: &str,
    environment: Environment,
    version: Option<&str>,
    commit: &str,
) -> DeployRequest {
    let source =
        format!("export default {{ fetch() {{ return new Response(\"{service}\"); }} }};\n");
    DeployRequest {
        service: service.into(),
        environment,
        tier: None,
        version: version.map(str::to_owned),
        script: base64::engine::general_purpose::STANDARD.encode(source),
        bindings: BTreeMap::from([("DB_SERVICE".to_owned(), "db".to_owned())]),
        metadata: DeploymentMetadata {
            commit: commit.into(),
            branch: "main".into(),
            author: "ana@example.com".into(),
            version: None,
        },
    }
}

#[tokio::test]
async fn namespaces_are_listed_created_trusted_renamed_and_deleted_with_typed_confirmation() {
    let f = fixture().await;
    let list = f.ops.list_namespaces(SB).await.unwrap();
    let names: Vec<&str> = list.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        ["dotdo-development", "dotdo-production", "dotdo-staging"]
    );
    let staging = list.iter().find(|n| n.name == "dotdo-staging").unwrap();
    assert_eq!(staging.script_count, 8);
    assert!(staging.id.is_some() && staging.created_on.is_some());

    // Names are checked before anything is sent, and the message says what is wrong.
    let e = f
        .ops
        .create_namespace(SB, "dotdo preview")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("space"), "{}", e.message);
    let e = f
        .ops
        .create_namespace(SB, "dotdo/preview")
        .await
        .unwrap_err();
    assert!(e.message.contains('/'), "{}", e.message);
    let e = f.ops.create_namespace(SB, "").await.unwrap_err();
    assert!(e.message.contains("needs a name"), "{}", e.message);

    let created = f.ops.create_namespace(SB, "dotdo-preview").await.unwrap();
    assert_eq!(created.name, "dotdo-preview");
    assert!(!created.trusted_workers);
    assert_eq!(created.script_count, 0);

    let trusted = f.ops.set_trusted(SB, "dotdo-preview", true).await.unwrap();
    assert!(trusted.trusted_workers);
    let renamed = f
        .ops
        .rename_namespace(SB, "dotdo-preview", "dotdo-review")
        .await
        .unwrap();
    assert_eq!(renamed.name, "dotdo-review");
    assert!(renamed.trusted_workers, "renaming keeps trusted mode");
    let names = namespace_names(&f).await;
    assert!(names.contains(&"dotdo-review".to_owned()));
    assert!(!names.contains(&"dotdo-preview".to_owned()));
    let untrusted = f.ops.set_trusted(SB, "dotdo-review", false).await.unwrap();
    assert!(!untrusted.trusted_workers);

    // The plan counts what would go.
    let plan = f
        .ops
        .delete_namespace_plan(SB, "dotdo-staging")
        .await
        .unwrap();
    assert_eq!(plan.namespace, "dotdo-staging");
    assert_eq!(plan.script_count, 8);
    assert_eq!(plan.scripts.len(), 8);
    assert!(plan.scripts.contains(&"gateway".to_owned()));
    assert_eq!(plan.confirm_phrase, "dotdo-staging");
    assert_eq!(
        plan.action,
        "Delete namespace dotdo-staging and its 8 workers"
    );
    let workers = f.ops.list_workers(SB, "dotdo-staging").await.unwrap();
    assert_eq!(plan.script_count as usize, workers.len());

    // A wrong confirmation deletes nothing.
    for typed in ["dotdo-stagin", "DOTDO-STAGING", " dotdo-staging", ""] {
        let e = f
            .ops
            .delete_namespace(SB, "dotdo-staging", typed.to_owned(), None)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{typed:?}");
        assert!(e.message.contains("Nothing was deleted"), "{}", e.message);
    }
    assert!(namespace_names(&f)
        .await
        .contains(&"dotdo-staging".to_owned()));
    assert_eq!(
        f.ops.list_workers(SB, "dotdo-staging").await.unwrap().len(),
        8
    );

    // The delete is bound to the plan: a worker that goes (or comes) after the plan was shown
    // makes the confirmed delete refuse, and nothing is deleted.
    f.ops
        .delete_worker(SB, "dotdo-staging", "schedule", "schedule")
        .await
        .unwrap();
    let e = f
        .ops
        .delete_namespace(
            SB,
            "dotdo-staging",
            "dotdo-staging".to_owned(),
            Some(plan.script_count),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{}", e.message);
    assert!(
        e.message.contains("counted 8 worker(s)") && e.message.contains("holds 7 now"),
        "{}",
        e.message
    );
    assert_eq!(
        f.ops.list_workers(SB, "dotdo-staging").await.unwrap().len(),
        7
    );
    f.ops
        .delete_namespace(SB, "dotdo-staging", "dotdo-staging".to_owned(), Some(7))
        .await
        .unwrap();
    assert!(!namespace_names(&f)
        .await
        .contains(&"dotdo-staging".to_owned()));
    let e = f
        .ops
        .delete_namespace_plan(SB, "dotdo-staging")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);

    // Every mutation, refused or done, is in the audit log.
    let audit = f.ops.audit_log(SB, 100).await.unwrap();
    let deletes: Vec<&str> = audit
        .iter()
        .filter(|a| a.entry.action == "namespace.delete")
        .map(|a| a.entry.outcome.as_str())
        .collect();
    assert_eq!(deletes.len(), 6);
    assert_eq!(deletes.iter().filter(|o| **o == "ok").count(), 1);
    for action in ["namespace.create", "namespace.trust", "namespace.rename"] {
        assert!(
            audit.iter().any(|a| a.entry.action == action),
            "{action} audited"
        );
    }
}

#[tokio::test]
async fn read_only_profiles_refuse_every_mutation_and_tokens_are_required() {
    let f = fixture().await;
    f.ops
        .save_profile(user_profile(&f, "ops-readonly", Protection::ReadOnly))
        .await
        .unwrap();

    // No token yet: the message says where to add one.
    let e = f.ops.list_namespaces("ops-readonly").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidApiKey);
    assert!(
        e.message.contains("Add a Cloudflare API token in Settings"),
        "{}",
        e.message
    );

    let token = f.sandbox.discovery().cloudflare_token.clone();
    f.ops
        .set_secret(
            "ops-readonly",
            SecretKind::CloudflareToken,
            Secret::new(token),
        )
        .await
        .unwrap();
    // Reading works.
    assert_eq!(
        f.ops.list_namespaces("ops-readonly").await.unwrap().len(),
        3
    );
    assert!(!f
        .ops
        .list_workers("ops-readonly", "dotdo-production")
        .await
        .unwrap()
        .is_empty());

    let refusals = [
        f.ops
            .create_namespace("ops-readonly", "dotdo-x")
            .await
            .map(|_| ()),
        f.ops
            .set_trusted("ops-readonly", "dotdo-staging", true)
            .await
            .map(|_| ()),
        f.ops
            .rename_namespace("ops-readonly", "dotdo-staging", "dotdo-y")
            .await
            .map(|_| ()),
        f.ops
            .delete_namespace(
                "ops-readonly",
                "dotdo-staging",
                "dotdo-staging".into(),
                None,
            )
            .await,
        f.ops
            .delete_worker("ops-readonly", "dotdo-staging", "gateway", "gateway")
            .await,
        f.ops
            .delete_namespace_plan("ops-readonly", "dotdo-staging")
            .await
            .map(|_| ()),
    ];
    for r in refusals {
        let e = r.unwrap_err();
        assert_eq!(e.code, ErrorCode::ReadOnlyProfile);
        assert!(e.message.contains("read-only"), "{}", e.message);
        assert!(e.message.contains("Settings"), "{}", e.message);
        assert_eq!(e.runbook, None, "a profile setting, not an API permission");
    }
    // Nothing changed.
    let list = f.ops.list_namespaces(SB).await.unwrap();
    let staging = list.iter().find(|n| n.name == "dotdo-staging").unwrap();
    assert_eq!(staging.script_count, 8);
    assert!(!staging.trusted_workers);
    assert_eq!(list.len(), 3);
}

#[tokio::test]
async fn workers_are_listed_with_parsed_tags_and_detail() {
    let f = fixture().await;
    let workers = f.ops.list_workers(SB, "dotdo-production").await.unwrap();
    assert_eq!(workers.len(), 9, "eight services and gateway-v2");
    let gateway = workers.iter().find(|w| w.name == "gateway").unwrap();
    assert_eq!(gateway.service.as_deref(), Some("gateway"));
    assert_eq!(gateway.environment.as_deref(), Some("production"));
    assert_eq!(gateway.commit.as_ref().map(String::len), Some(40));
    assert!(gateway.branch.is_some());
    assert_eq!(gateway.version, None);
    assert!(gateway.tags.contains(&"service:gateway".to_owned()));
    assert!(gateway.created_on.is_some() && gateway.modified_on.is_some());
    let v2 = workers.iter().find(|w| w.name == "gateway-v2").unwrap();
    assert_eq!(v2.service.as_deref(), Some("gateway"));
    assert_eq!(v2.version.as_deref(), Some("v2"));

    let detail = f
        .ops
        .worker_detail(SB, "dotdo-production", "gateway")
        .await
        .unwrap();
    assert_eq!(&detail.row, gateway);
    let services: BTreeMap<&str, &str> = detail
        .bindings
        .iter()
        .filter(|b| b["type"] == "service")
        .map(|b| (b["name"].as_str().unwrap(), b["service"].as_str().unwrap()))
        .collect();
    assert_eq!(
        services,
        BTreeMap::from([("AUTH_SERVICE", "auth"), ("DB_SERVICE", "db")])
    );
    assert!(detail.settings.get("compatibility_date").is_some());

    let content = f
        .ops
        .worker_content(SB, "dotdo-production", "gateway")
        .await
        .unwrap();
    assert!(content.contains("export default"), "{content}");
    assert!(content.contains("gateway"));
    assert_eq!(detail.size_bytes as usize, content.len());

    let e = f
        .ops
        .worker_detail(SB, "dotdo-production", "nope")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);

    // A production worker is not deleted without its name typed: a click used to do it.
    for typed in ["", "gateway", "gateway-v"] {
        let e = f
            .ops
            .delete_worker(SB, "dotdo-production", "gateway-v2", typed)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.contains("Nothing was deleted"), "{}", e.message);
    }
    assert_eq!(
        f.ops
            .list_workers(SB, "dotdo-production")
            .await
            .unwrap()
            .len(),
        9
    );
    f.ops
        .delete_worker(SB, "dotdo-production", "gateway-v2", "gateway-v2")
        .await
        .unwrap();
    let workers = f.ops.list_workers(SB, "dotdo-production").await.unwrap();
    assert_eq!(workers.len(), 8);
    assert!(workers.iter().all(|w| w.name != "gateway-v2"));
}

/// The window's listing: a page at a time with how many have arrived, every worker once, in
/// order; a failure mid-way says how many were listed before it.
#[tokio::test]
async fn a_large_namespace_streams_its_workers_page_by_page_with_progress() {
    let f = fixture().await;
    f.sandbox
        .generate_large_data(&LargeDataSpec {
            scripts: vec![("dotdo-bench".into(), 2_500)],
            deployments: 0,
        })
        .await
        .unwrap();
    let mut names = Vec::new();
    let mut progress = Vec::new();
    let count = f
        .ops
        .list_workers_by_page(SB, "dotdo-bench", |page| {
            progress.push(page.loaded);
            names.extend(page.rows.into_iter().map(|w| w.name));
        })
        .await
        .unwrap();
    assert_eq!(count, 2_500);
    assert_eq!(progress, [1_000, 2_000, 2_500]);
    let expected: Vec<String> = (1..=2_500)
        .map(|i| format!("bench-worker-{i:05}"))
        .collect();
    assert_eq!(names, expected, "every worker once, in order");

    let mut got = 0;
    let err = f
        .ops
        .list_workers_by_page(SB, "dotdo-bench", |page| {
            got = page.loaded;
            support::fail_with_500(&f.sandbox, FaultTarget::CloudflareApi);
        })
        .await
        .unwrap_err();
    assert_eq!(got, 1_000);
    assert!(
        err.message
            .contains("The 1000 workers listed before it are kept; retry to list them all."),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_namespace_of_ten_thousand_workers_lists_in_one_listing() {
    let f = fixture().await;
    f.sandbox
        .generate_large_data(&LargeDataSpec {
            scripts: vec![("dotdo-bench".into(), 10_000)],
            deployments: 0,
        })
        .await
        .unwrap();
    let workers = f.ops.list_workers(SB, "dotdo-bench").await.unwrap();
    assert_eq!(workers.len(), 10_000);
    assert_eq!(workers[0].name, "bench-worker-00001");
    assert_eq!(workers[9_999].name, "bench-worker-10000");
    assert!(workers[0].tags.contains(&"free-plan".to_owned()));
    assert_eq!(workers[0].service, None, "no deploy tags on bench workers");
    let bench = f
        .ops
        .list_namespaces(SB)
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.name == "dotdo-bench")
        .unwrap();
    assert_eq!(bench.script_count, 10_000);
}

#[tokio::test]
async fn drift_between_production_and_staging_follows_deploys_and_deletes() {
    let f = fixture().await;
    let before = f
        .ops
        .compare_namespaces(SB, "dotdo-production", "dotdo-staging")
        .await
        .unwrap();
    assert_eq!(before.left, "dotdo-production");
    assert_eq!(before.only_left, ["gateway-v2"]);
    assert!(before.only_right.is_empty());
    // Every seeded deployment has its own commit, so all eight services differ.
    assert_eq!(before.differing.len(), 8);
    assert_eq!(before.same, 0);

    // The same commit of queue to both: it stops differing.
    let api = deploy_api(&f);
    let commit = "abcdef1234567890abcdef1234567890abcdef12";
    for env in [Environment::Production, Environment::Staging] {
        api.deploy(&deploy_request("queue", env, None, commit))
            .await
            .unwrap();
    }
    // A versioned db only to staging.
    api.deploy(&deploy_request(
        "db",
        Environment::Staging,
        Some("v3"),
        "0123456789abcdef0123456789abcdef01234567",
    ))
    .await
    .unwrap();
    // And schedule removed from staging.
    f.ops
        .delete_worker(SB, "dotdo-staging", "schedule", "schedule")
        .await
        .unwrap();

    let after = f
        .ops
        .compare_namespaces(SB, "dotdo-production", "dotdo-staging")
        .await
        .unwrap();
    assert_eq!(after.only_left, ["gateway-v2", "schedule"]);
    assert_eq!(after.only_right, ["db-v3"]);
    assert_eq!(after.same, 1, "queue is the same commit in both");
    assert_eq!(after.differing.len(), 6);
    assert!(after.differing.iter().all(|d| d.name != "queue"));
    let gateway = after
        .differing
        .iter()
        .find(|d| d.name == "gateway")
        .unwrap();
    assert_ne!(gateway.left.commit, gateway.right.commit);

    // Swapped sides swap the answer.
    let swapped = f
        .ops
        .compare_namespaces(SB, "dotdo-staging", "dotdo-production")
        .await
        .unwrap();
    assert_eq!(swapped.only_left, ["db-v3"]);
    assert_eq!(swapped.only_right, ["gateway-v2", "schedule"]);
    let db_v3 = f
        .ops
        .list_workers(SB, "dotdo-staging")
        .await
        .unwrap()
        .into_iter()
        .find(|w| w.name == "db-v3")
        .unwrap();
    assert_eq!(
        WorkerRevision {
            version: db_v3.version.clone(),
            commit: db_v3.commit.clone()
        },
        WorkerRevision {
            version: Some("v3".into()),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into())
        }
    );

    let e = f
        .ops
        .compare_namespaces(SB, "dotdo-production", "dotdo-nowhere")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
}

#[tokio::test]
async fn bindings_of_a_wrangler_jsonc_are_compared_with_the_deployed_worker() {
    let f = fixture().await;
    let wrangler = r#"
    // wrangler.jsonc of the gateway
    {
      "name": "gateway",
      "main": "src/index.ts", /* built by esbuild */
      "services": [
        { "binding": "DB_SERVICE", "service": "db" },
        // auth moved to a new worker
        { "binding": "AUTH_SERVICE", "service": "auth-v2", },
        { "binding": "QUEUE_SERVICE", "service": "queue" },
      ],
      "vars": {
        "LOG_LEVEL": "debug", // not deployed yet
      },
    }
    "#;
    let diff = f
        .ops
        .compare_bindings(SB, "dotdo-production", "gateway", wrangler.to_owned())
        .await
        .unwrap();
    assert_eq!(diff.same, 1, "DB_SERVICE");
    let only_local: Vec<(&str, BindingKind)> = diff
        .only_local
        .iter()
        .map(|b| (b.name.as_str(), b.kind))
        .collect();
    assert_eq!(
        only_local,
        [
            ("LOG_LEVEL", BindingKind::Var),
            ("QUEUE_SERVICE", BindingKind::Service)
        ]
    );
    assert!(diff.only_deployed.is_empty());
    assert_eq!(diff.differing.len(), 1);
    assert_eq!(diff.differing[0].name, "AUTH_SERVICE");
    assert_eq!(diff.differing[0].local.value, "auth-v2");
    assert_eq!(diff.differing[0].deployed.value, "auth");

    // db has no bindings: everything of a file with none is the same (nothing).
    let none = f
        .ops
        .compare_bindings(SB, "dotdo-production", "db", "{ /* empty */ }".into())
        .await
        .unwrap();
    assert_eq!(none.same, 0);
    assert!(none.only_local.is_empty() && none.only_deployed.is_empty());

    // What the file lacks shows as deployed only.
    let partial = f
        .ops
        .compare_bindings(
            SB,
            "dotdo-production",
            "gateway",
            r#"{ "services": [ { "binding": "DB_SERVICE", "service": "db", }, ], }"#.into(),
        )
        .await
        .unwrap();
    assert_eq!(partial.only_deployed.len(), 1);
    assert_eq!(partial.only_deployed[0].name, "AUTH_SERVICE");

    let e = f
        .ops
        .compare_bindings(
            SB,
            "dotdo-production",
            "gateway",
            "{ \"services\": [".into(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("wrangler.jsonc"), "{}", e.message);
}

#[tokio::test]
async fn bindings_compare_reads_the_wrangler_config_of_a_local_folder() {
    let f = fixture().await;
    let folder = f.dir.path().join("workers").join("gateway");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("wrangler.jsonc"),
        r#"{ "services": [ { "binding": "DB_SERVICE", "service": "db" }, ], }"#,
    )
    .unwrap();
    let diff = f
        .ops
        .compare_bindings_in_folder(SB, "dotdo-production", "gateway", &folder)
        .await
        .unwrap();
    assert_eq!(diff.same, 1);
    assert_eq!(diff.only_deployed.len(), 1, "AUTH_SERVICE is deployed only");

    // The file itself works too.
    let same = f
        .ops
        .compare_bindings_in_folder(
            SB,
            "dotdo-production",
            "gateway",
            &folder.join("wrangler.jsonc"),
        )
        .await
        .unwrap();
    assert_eq!(same.same, 1);

    // A folder without a config names the file it looked for.
    let empty = f.dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = f
        .ops
        .compare_bindings_in_folder(SB, "dotdo-production", "gateway", &empty)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("wrangler.json"), "{}", e.message);
    assert!(e.message.contains("does not exist"), "{}", e.message);
}

fn target<'a>(board: &'a HealthBoard, name: &str) -> &'a ServiceHealth {
    board
        .results
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no {name} on the board"))
}

#[tokio::test]
async fn health_board_counts_services_and_reports_changes() {
    let f = fixture().await;
    let board = f.ops.check_health(SB, 5_000).await.unwrap();
    assert_eq!(board.checked_at_ms, START_MS);
    assert_eq!(board.results.len(), 8 + 2);
    assert_eq!(board.summary.text, "8/8 services healthy");
    assert_eq!((board.summary.healthy, board.summary.total), (8, 8));
    for r in &board.results {
        assert!(
            !r.changed,
            "nothing to change from on the first check: {r:?}"
        );
    }
    let deploy = target(&board, DEPLOY_API_TARGET);
    assert_eq!(deploy.kind, HealthTargetKind::DeployApi);
    assert_eq!(deploy.state, HealthStatus::UpNeedsKey);
    assert_eq!(deploy.http_status, Some(401));
    let dispatcher = target(&board, DISPATCHER_TARGET);
    assert_eq!(dispatcher.kind, HealthTargetKind::Dispatcher);
    assert_eq!(dispatcher.state, HealthStatus::Up);
    assert_eq!(target(&board, "db").state, HealthStatus::Up);

    // db crashes.
    support::fail_with_500(&f.sandbox, FaultTarget::Service("db".into(), None));
    f.clock.advance(30_000);
    let board = f.ops.check_health(SB, 5_000).await.unwrap();
    let db = target(&board, "db");
    assert_eq!(db.state, HealthStatus::Down);
    assert_eq!(db.http_status, Some(500));
    assert_eq!(db.runbook.as_deref(), Some("Service Deployed but Crashes"));
    assert!(db.changed);
    assert_eq!(db.previous_state, Some(HealthStatus::Up));
    assert_eq!(db.last_change_ms, Some(START_MS + 30_000));
    assert_eq!(board.summary.text, "7/8 services healthy");
    let changed: Vec<&str> = board.changes().map(|r| r.name.as_str()).collect();
    assert_eq!(changed, ["db"]);

    // The check raised one notification and recorded it.
    assert_eq!(board.notifications.len(), 1);
    assert_eq!(board.notifications[0].title, "db is down");
    let audit = f.ops.audit_log(SB, 20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.entry.action == "health.notify" && a.entry.target == "db"),
        "the notification is in the audit log"
    );
    let mut gate = NotificationGate::new(300);
    let notes = gate.notifications(&board, board.checked_at_ms);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].title, "db is down");

    // Still down: no change.
    f.clock.advance(30_000);
    let board = f.ops.check_health(SB, 5_000).await.unwrap();
    let db = target(&board, "db");
    assert_eq!(db.state, HealthStatus::Down);
    assert!(!db.changed);
    assert_eq!(db.last_change_ms, Some(START_MS + 30_000));
    assert_eq!(board.changes().count(), 0);
    assert_eq!(board.summary.text, "7/8 services healthy");

    // Fixed.
    f.sandbox
        .faults()
        .clear(&FaultTarget::Service("db".into(), None));
    f.clock.advance(30_000);
    let board = f.ops.check_health(SB, 5_000).await.unwrap();
    let db = target(&board, "db");
    assert_eq!(db.state, HealthStatus::Up);
    assert!(db.changed);
    assert_eq!(db.previous_state, Some(HealthStatus::Down));
    assert_eq!(board.summary.text, "8/8 services healthy");
    // The recovery is told at once (down and up are limited separately)…
    assert_eq!(board.notifications.len(), 1);
    assert_eq!(board.notifications[0].title, "db is up again");
    let notes = gate.notifications(&board, board.checked_at_ms);
    assert_eq!(notes[0].title, "db is up again");
    // …but a second recovery within the interval is held back.
    assert!(gate
        .notifications(&board, board.checked_at_ms + 1)
        .is_empty());

    // History: one point per check, the down ones marked.
    let history = f.ops.health_history(SB, "db", 0).await.unwrap();
    let ups: Vec<bool> = history.iter().map(|p| p.up).collect();
    assert_eq!(ups, [true, false, false, true]);
    assert!(history.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    assert!(history.iter().all(|p| p.samples == 1));
}

#[tokio::test]
async fn old_samples_are_compacted_into_buckets_that_history_merges() {
    let f = fixture().await;
    // Three checks 30 s apart, all within one 5-minute bucket.
    for _ in 0..3 {
        f.ops.check_health(SB, 5_000).await.unwrap();
        f.clock.advance(30_000);
    }
    // Two days later, the first samples are folded into a 5-minute bucket.
    f.clock.advance(2 * 24 * 3_600_000);
    let board = f.ops.check_health(SB, 5_000).await.unwrap();
    assert!(
        !target(&board, "gateway").changed,
        "the previous sample is past the raw window"
    );
    let raw = f
        .ops
        .store()
        .health_samples(SB, "gateway", 0)
        .await
        .unwrap();
    assert_eq!(raw.len(), 1, "only the newest sample stays raw");
    let history = f.ops.health_history(SB, "gateway", 0).await.unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0].samples, 3);
    assert!(history[0].up);
    assert_eq!(history[1].at_ms, board.checked_at_ms);
    // `since` cuts off older points.
    let recent = f
        .ops
        .health_history(SB, "gateway", board.checked_at_ms)
        .await
        .unwrap();
    assert_eq!(recent.len(), 1);

    // Thirty days on, the buckets are gone too.
    f.clock.advance(31 * 24 * 3_600_000);
    f.ops.check_health(SB, 5_000).await.unwrap();
    let history = f.ops.health_history(SB, "gateway", 0).await.unwrap();
    assert!(!history.is_empty());
    assert!(history.iter().all(|p| p.at_ms > START_MS + 24 * 3_600_000));
}

#[tokio::test]
async fn logs_tail_the_code_of_the_profiles_namespace_and_end_their_tails() {
    use switchyard_ops::{LogsEvent, LogsRequest};
    let f = fixture().await;
    let events = Arc::new(std::sync::Mutex::new(Vec::<LogsEvent>::new()));
    let sink = events.clone();
    let session = f
        .ops
        .start_logs(
            LogsRequest {
                profile_id: SB.into(),
                services: vec!["gateway".into()],
            },
            move |e| sink.lock().unwrap().push(e),
        )
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let d = f.sandbox.discovery().clone();
    let connected = wait_until(&events, |e| matches!(e, LogsEvent::Connected { .. })).await;
    assert!(connected, "{:?}", events.lock().unwrap());
    // The staging gateway is another namespace: not this profile's (production) logs.
    for url in [
        d.service_url(Environment::Staging, "gateway") + "/api/fail",
        d.service_url(Environment::Production, "gateway") + "/api/fail",
    ] {
        http.get(url).send().await.unwrap();
    }
    let got = wait_until(
        &events,
        |e| matches!(e, LogsEvent::Line { line } if line.outcome == "exception"),
    )
    .await;
    assert!(got, "{:?}", events.lock().unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let lines: Vec<_> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            LogsEvent::Line { line } => Some(line.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let line = &lines[0];
    assert_eq!(line.namespace.as_deref(), Some("dotdo-production"));
    assert_eq!(line.url.as_deref(), Some("https://gateway.do/api/fail"));
    assert!(line
        .logs
        .iter()
        .any(|l| l.level == "error" && l.text.contains("failing on purpose")));
    assert!(line.exceptions[0].message.contains("failure requested"));
    assert!(line.to_text().contains("✖ Error"), "{}", line.to_text());

    // Stopping ends the tail on the platform too.
    f.ops.stop_logs(session).await.unwrap();
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, LogsEvent::Stopped { .. })));
    let tails: serde_json::Value = http
        .get(format!(
            "{}/accounts/{}/workers/scripts/gateway/tails",
            d.cloudflare_api_url, d.account_id
        ))
        .bearer_auth(&d.cloudflare_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tails["result"], serde_json::json!([]), "no tail left open");
    assert_eq!(f.ops.open_log_sessions(), 0);

    // Bad input is refused before anything is opened.
    let e = f
        .ops
        .start_logs(
            LogsRequest {
                profile_id: SB.into(),
                services: vec![],
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    let e = f
        .ops
        .start_logs(
            LogsRequest {
                profile_id: SB.into(),
                services: vec!["Not A Service".into()],
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "{}", e.message);

    // A runbook step's capture: what the code logged during the window.
    let ops = &f.ops;
    let db = ["db".to_owned()];
    let capture = ops.capture_logs(SB, &db, 2);
    let hit = async {
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        http.get(d.service_url(Environment::Production, "db") + "/health")
            .send()
            .await
            .unwrap();
    };
    let (lines, ()) = tokio::join!(capture, hit);
    let lines = lines.unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.logs.iter().any(|m| m.text.contains("GET /health"))),
        "{lines:#?}"
    );
}

/// Waits (at most 10 s) until an event matches.
async fn wait_until(
    events: &std::sync::Mutex<Vec<switchyard_ops::LogsEvent>>,
    pred: impl Fn(&switchyard_ops::LogsEvent) -> bool,
) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if events.lock().unwrap().iter().any(&pred) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn a_service_failing_soon_after_a_deployment_names_that_deployment() {
    let f = fixture().await;
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    f.clock.set(real_now);
    let board = f.ops.check_health(SB, 5_000).await.unwrap();
    assert!(board.results.iter().all(|r| r.suspect.is_none()));
    let db_down = board
        .results
        .iter()
        .find(|r| r.name == "db")
        .map(|r| r.state);
    assert_eq!(db_down, Some(HealthStatus::Up));

    // A deploy made outside the app (CI, a colleague) breaks gateway.
    let broken = "export default { async fetch() { throw new Error('config missing'); } };";
    let mut request = deploy_request("gateway", Environment::Production, None, "abc1234def5678");
    request.script = base64::engine::general_purpose::STANDARD.encode(broken);
    request.metadata.version = Some("v9.9.9".into());
    request.metadata.author = "chen@example.com".into();
    let deployed = deploy_api(&f).deploy(&request).await.unwrap();
    // Its database stays up but goes down by a fault, long after its last deployment.
    f.sandbox
        .faults()
        .set(
            FaultTarget::Service("db".into(), None),
            Fault::Down {
                how: Default::default(),
            },
        )
        .unwrap();

    f.clock.advance(120_000);
    let board = f.ops.check_health(SB, 5_000).await.unwrap();
    let gateway = board.results.iter().find(|r| r.name == "gateway").unwrap();
    assert_eq!(gateway.state, HealthStatus::Down);
    let suspect = gateway.suspect.as_ref().expect("the deployment is named");
    assert_eq!(suspect.deployment_id, deployed.deployment.id);
    assert_eq!(suspect.version_tag.as_deref(), Some("v9.9.9"));
    assert_eq!(suspect.commit, "abc1234");
    assert_eq!(suspect.author, "chen@example.com");
    assert!(suspect.minutes_after <= 3, "{suspect:?}");
    let note = board
        .notifications
        .iter()
        .find(|n| n.target == "gateway")
        .expect("gateway's change is notified");
    assert!(
        note.body
            .contains("v9.9.9 (commit abc1234, by chen@example.com)"),
        "{}",
        note.body
    );
    let db = board.results.iter().find(|r| r.name == "db").unwrap();
    assert_eq!(db.state, HealthStatus::Down);
    assert_eq!(db.suspect, None, "db's last deployment is days old");

    // Still failing later: the same deployment is named (it began failing right after it).
    f.clock.advance(30 * 60_000);
    let board = f.ops.check_health(SB, 5_000).await.unwrap();
    let gateway = board.results.iter().find(|r| r.name == "gateway").unwrap();
    assert_eq!(
        gateway.suspect.as_ref().map(|s| s.deployment_id.as_str()),
        Some(deployed.deployment.id.as_str())
    );

    // A window set shorter than the gap names nothing for a fresh failure.
    f.ops.set_correlation_window_minutes(1).await.unwrap();
    assert_eq!(f.ops.correlation_window_minutes().await, 1);
    assert_eq!(
        f.ops
            .set_correlation_window_minutes(0)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidInput
    );
}
