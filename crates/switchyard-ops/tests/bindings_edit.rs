//! Bindings edited in place, through the façade, against a real sandbox (real HTTP), a real
//! SQLite file, real files on disk and real child processes (npm + node build the sample service
//! folder before its redeploy): the file keeps its comments and order, a missing service is
//! flagged, a file changed since the plan is not overwritten, the added binding is in the deployed
//! worker after the redeploy, and the template's `Env` is updated only when it is the template's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use switchyard_core::{Environment, ErrorCode, SANDBOX_PROFILE_ID};
use switchyard_ops::bindings_edit::{BindingEdit, BindingsEditRequest};
use switchyard_ops::{
    Confirmation, DeploySettings, DeploySource, MetadataInput, NewService, PrepareDeploy,
};

mod support;
use support::{copy_dir, fixture_with, Fixture, TestClock};

const SB: &str = SANDBOX_PROFILE_ID;
/// The Local sandbox profile's dispatch namespace (its environment is production).
const NS: &str = "dotdo-production";

/// The shared fixture (a sandbox, the app on it), the clock a second ahead at each reading from
/// now, and verification that waits as long as a test may.
async fn fixture() -> Fixture {
    let f = fixture_with(TestClock::ticking(TestClock::real_now_ms(), 1_000)).await;
    f.ops
        .set_deploy_settings(DeploySettings {
            health_wait_ms: 1_500,
            health_poll_ms: 100,
            ..DeploySettings::default()
        })
        .await
        .unwrap();
    f
}

/// A copy of the sample service folder (`gateway`, three service bindings, comments).
fn sample_service(dir: &Path) -> PathBuf {
    let to = dir.join("workers").join("gateway");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sample-service"),
        &to,
    );
    to
}

fn request(folder: &Path, edits: Vec<BindingEdit>) -> BindingsEditRequest {
    BindingsEditRequest {
        profile_id: SB.into(),
        folder: folder.display().to_string(),
        edits,
        base_sha256: None,
    }
}

fn add(binding: &str, service: &str) -> BindingEdit {
    BindingEdit::Add {
        binding: binding.into(),
        service: service.into(),
        entrypoint: None,
    }
}

/// Plan then save, as the window does.
async fn plan_and_apply(f: &Fixture, folder: &Path, edits: Vec<BindingEdit>) {
    let mut req = request(folder, edits);
    let plan = f.ops.plan_bindings_edit(&req).await.unwrap();
    req.base_sha256 = Some(plan.base_sha256.clone());
    let applied = f.ops.apply_bindings_edit(&req).await.unwrap();
    assert_eq!(
        applied.sha256, plan.new_sha256,
        "what was saved is what was reviewed"
    );
}

fn wrangler(folder: &Path) -> String {
    std::fs::read_to_string(folder.join("wrangler.jsonc")).unwrap()
}

#[tokio::test]
async fn add_rename_and_remove_keep_the_files_comments_and_order() {
    let f = fixture().await;
    let folder = sample_service(f.dir.path());
    let original = wrangler(&folder);

    let before = f
        .ops
        .folder_bindings(&folder.display().to_string())
        .await
        .unwrap();
    let names: Vec<&str> = before.bindings.iter().map(|b| b.binding.as_str()).collect();
    assert_eq!(
        names,
        ["DB_SERVICE", "AUTH_SERVICE", "QUEUE_SERVICE"],
        "the file's order"
    );
    assert_eq!(before.worker_name.as_deref(), Some("gateway"));
    assert_eq!(before.vars, ["MODE"]);

    // Added: one new line after the last binding; every other byte as it was.
    plan_and_apply(&f, &folder, vec![add("EMAIL_SERVICE", "email")]).await;
    let added = wrangler(&folder);
    assert_eq!(
        added,
        original.replace(
            "// trailing comma on purpose\n",
            "// trailing comma on purpose\n    { \"binding\": \"EMAIL_SERVICE\", \"service\": \"email\" },\n"
        )
    );

    // Renamed and removed: only those entries change; the comments stay.
    plan_and_apply(
        &f,
        &folder,
        vec![
            BindingEdit::Rename {
                from: "DB_SERVICE".into(),
                to: "DATABASE".into(),
            },
            BindingEdit::Remove {
                binding: "AUTH_SERVICE".into(),
            },
        ],
    )
    .await;
    let edited = wrangler(&folder);
    assert_eq!(
        edited,
        added.replace("\"DB_SERVICE\"", "\"DATABASE\"").replace(
            "    { \"binding\": \"AUTH_SERVICE\", \"service\": \"auth\" },\n",
            ""
        )
    );
    for comment in [
        "// A service folder as the platform's monorepo has them (workers/<service>).",
        "/* Service bindings: sent with the deploy. */",
        "// trailing comma on purpose",
    ] {
        assert!(edited.contains(comment), "{comment} kept:\n{edited}");
    }
    let after = f
        .ops
        .folder_bindings(&folder.display().to_string())
        .await
        .unwrap();
    let names: Vec<&str> = after.bindings.iter().map(|b| b.binding.as_str()).collect();
    assert_eq!(names, ["DATABASE", "QUEUE_SERVICE", "EMAIL_SERVICE"]);

    // Each save is in the audit log.
    let audit = f.ops.audit_log(SB, 20).await.unwrap();
    let saves = audit
        .iter()
        .filter(|a| a.entry.action == "bindings.edit")
        .count();
    assert_eq!(saves, 2, "{audit:?}");
}

#[tokio::test]
async fn a_service_missing_from_the_namespace_is_flagged_and_the_deployed_difference_shown() {
    let f = fixture().await;
    let folder = sample_service(f.dir.path());
    let plan = f
        .ops
        .plan_bindings_edit(&request(
            &folder,
            vec![add("BILLING_SERVICE", "billing-nowhere")],
        ))
        .await
        .unwrap();
    assert_eq!(plan.namespace, NS);
    assert_eq!(plan.missing_services, ["billing-nowhere"]);
    let billing = plan
        .services
        .iter()
        .find(|s| s.service == "billing-nowhere")
        .unwrap();
    assert_eq!(billing.exists, Some(false));
    assert!(billing
        .note
        .as_deref()
        .unwrap()
        .contains("No worker named billing-nowhere"));
    let db = plan.services.iter().find(|s| s.service == "db").unwrap();
    assert_eq!(db.exists, Some(true), "the seeded db worker is found");

    // The file diff: one line added.
    assert_eq!((plan.file_diff.added, plan.file_diff.removed), (1, 0));
    assert!(plan
        .file_diff
        .hunks
        .iter()
        .flat_map(|h| &h.lines)
        .any(|l| l.text.contains("BILLING_SERVICE")));
    // Nothing written by a plan.
    assert!(!wrangler(&folder).contains("BILLING_SERVICE"));
    // The deployed gateway does not have it.
    let deployed = plan.deployed.expect("the seeded gateway's bindings");
    assert!(
        deployed
            .only_local
            .iter()
            .any(|b| b.name == "BILLING_SERVICE"),
        "{deployed:?}"
    );
}

#[tokio::test]
async fn a_file_changed_since_the_plan_is_not_overwritten() {
    let f = fixture().await;
    let folder = sample_service(f.dir.path());
    let mut req = request(&folder, vec![add("EMAIL_SERVICE", "email")]);
    let plan = f.ops.plan_bindings_edit(&req).await.unwrap();
    // Someone saves the file in an editor meanwhile.
    let theirs = wrangler(&folder).replace("\"strict\"", "\"lenient\"");
    std::fs::write(folder.join("wrangler.jsonc"), &theirs).unwrap();
    req.base_sha256 = Some(plan.base_sha256);
    let e = f.ops.apply_bindings_edit(&req).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(
        e.message.contains("changed since you reviewed"),
        "{}",
        e.message
    );
    assert_eq!(wrangler(&folder), theirs, "their save is kept");
    // Without the plan's hash nothing is saved either.
    req.base_sha256 = None;
    let e = f.ops.apply_bindings_edit(&req).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("baseSha256"), "{}", e.message);
    // The refusal is audited.
    let audit = f.ops.audit_log(SB, 20).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.entry.action == "bindings.edit" && a.entry.outcome == "Conflict"));
}

#[tokio::test]
async fn a_binding_added_in_the_form_is_in_the_deployed_worker_after_the_redeploy() {
    let f = fixture().await;
    let folder = sample_service(f.dir.path());
    let mut req = request(&folder, vec![add("EMAIL_SERVICE", "email")]);
    let plan = f.ops.plan_bindings_edit(&req).await.unwrap();
    req.base_sha256 = Some(plan.base_sha256);
    let applied = f.ops.apply_bindings_edit(&req).await.unwrap();
    assert!(applied.redeploy_needed);
    assert!(
        applied.message.contains("redeploy gateway"),
        "{}",
        applied.message
    );
    assert!(wrangler(&folder).contains("/* Service bindings: sent with the deploy. */"));

    // Not deployed yet: saving changed nothing that runs.
    let detail = f.ops.worker_detail(SB, NS, "gateway").await.unwrap();
    assert!(!detail.bindings.iter().any(|b| b["name"] == "EMAIL_SERVICE"));

    // The redeploy the result asks for: the folder, tested, built and deployed.
    f.ops
        .deploy(
            PrepareDeploy {
                profile_id: SB.into(),
                service: "gateway".into(),
                environment: Environment::Production,
                source: DeploySource::ServiceFolder {
                    path: folder.display().to_string(),
                },
                metadata: MetadataInput {
                    commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
                    branch: Some("main".into()),
                    author: Some("ops@example.com".into()),
                    version: None,
                },
                bindings: None,
                run_id: None,
                direct: false,
            },
            Confirmation {
                confirmed: true,
                typed: Some("gateway".into()),
                basis: None,
            },
            |_| {},
        )
        .await
        .unwrap_or_else(|e| panic!("the redeploy: {e:?}"));

    let detail = f.ops.worker_detail(SB, NS, "gateway").await.unwrap();
    let email = detail
        .bindings
        .iter()
        .find(|b| b["name"] == "EMAIL_SERVICE")
        .unwrap_or_else(|| panic!("EMAIL_SERVICE deployed: {:?}", detail.bindings));
    assert_eq!(email["type"], "service");
    assert_eq!(email["service"], "email");
    // And the folder now matches what is deployed.
    let diff = f
        .ops
        .compare_bindings_in_folder(SB, NS, "gateway", &folder)
        .await
        .unwrap();
    assert!(
        !diff.only_local.iter().any(|b| b.name == "EMAIL_SERVICE"),
        "{diff:?}"
    );
}

#[tokio::test]
async fn the_templates_env_interface_is_updated_and_a_hand_edited_one_is_left() {
    let f = fixture().await;
    let folder = f.dir.path().join("workers").join("billing");
    std::fs::create_dir_all(folder.parent().unwrap()).unwrap();
    f.ops
        .create_service(NewService {
            profile_id: SB.into(),
            template_id: "domain".into(),
            service: "billing".into(),
            environment: Environment::Production,
            folder: folder.display().to_string(),
            bindings: BTreeMap::from([("DB_SERVICE".to_owned(), "db".to_owned())]),
            description: None,
        })
        .await
        .unwrap();
    let index = |folder: &Path| std::fs::read_to_string(folder.join("src/index.ts")).unwrap();
    let written = index(&folder);
    assert!(written.contains("interface Env {\n  DB_SERVICE: Fetcher // the db service\n}\n"));

    // The template's block: updated with the new binding, in the template's order and form.
    let mut req = request(&folder, vec![add("AUTH_SERVICE", "auth")]);
    let plan = f.ops.plan_bindings_edit(&req).await.unwrap();
    assert!(plan.env_interface.updated, "{}", plan.env_interface.note);
    req.base_sha256 = Some(plan.base_sha256);
    let applied = f.ops.apply_bindings_edit(&req).await.unwrap();
    assert!(applied.env_interface.updated);
    assert_eq!(
        index(&folder),
        written.replace(
            "interface Env {\n  DB_SERVICE: Fetcher // the db service\n}\n",
            "interface Env {\n  AUTH_SERVICE: Fetcher // the auth service\n  DB_SERVICE: Fetcher // the db service\n}\n"
        )
    );

    // Edited by hand: left as it is, and the result says so with what to add.
    let hand = index(&folder).replace(
        "  DB_SERVICE: Fetcher // the db service\n",
        "  DB_SERVICE: Service<DbService> // typed RPC\n",
    );
    std::fs::write(folder.join("src/index.ts"), &hand).unwrap();
    let mut req = request(&folder, vec![add("QUEUE_SERVICE", "queue")]);
    let plan = f.ops.plan_bindings_edit(&req).await.unwrap();
    assert!(!plan.env_interface.updated);
    req.base_sha256 = Some(plan.base_sha256);
    let applied = f.ops.apply_bindings_edit(&req).await.unwrap();
    assert!(!applied.env_interface.updated);
    assert!(
        applied.env_interface.note.contains("left as it is"),
        "{}",
        applied.env_interface.note
    );
    assert!(
        applied
            .env_interface
            .note
            .contains("QUEUE_SERVICE: Fetcher"),
        "{}",
        applied.env_interface.note
    );
    assert_eq!(index(&folder), hand, "a hand-edited Env is not touched");
    assert!(
        wrangler(&folder).contains("\"QUEUE_SERVICE\""),
        "the wrangler.jsonc is still saved"
    );
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let f = fixture().await;
    let folder = sample_service(f.dir.path());
    let e = f
        .ops
        .plan_bindings_edit(&request(&folder, vec![add("db-service", "db")]))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(
        e.message.starts_with("request.edits[0].binding:"),
        "{}",
        e.message
    );
    let e = f
        .ops
        .plan_bindings_edit(&request(
            &f.dir.path().join("nowhere"),
            vec![add("A", "db")],
        ))
        .await
        .unwrap_err();
    assert!(e.message.contains("does not exist"), "{}", e.message);
    std::fs::write(folder.join("wrangler.jsonc"), "{ \"services\": [ oops").unwrap();
    let e = f
        .ops
        .plan_bindings_edit(&request(&folder, vec![add("A", "db")]))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("wrangler.jsonc"), "{}", e.message);
}
