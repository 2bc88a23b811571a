//! Secrets and tags of a namespaced worker, and the delete of the workers carrying a tag, through
//! the façade against a real sandbox (real HTTP, workerd executing the worker), a real SQLite
//! file and an in-memory keychain. A secret's value reaches the worker's `env` and nothing else:
//! not a file of the data folder, not the audit log, not an error message.
//!
//! These need workerd: `cargo xtask setup` installs it (or set `SWITCHYARD_WORKERD`).

use std::time::Duration;

use sha2::{Digest, Sha256};
use switchyard_clients::{CloudflareApi, HttpClient, HttpSettings};
use switchyard_core::{AuditFilter, ErrorCode, SANDBOX_PROFILE_ID};
use switchyard_secrets::Secret;

mod support;
use support::{fixture_with, Fixture, TestClock, T0};

const SB: &str = SANDBOX_PROFILE_ID;
const STAGING: &str = "dotdo-staging";

/// A fixture whose sandbox executes scripts (fails, saying how to fix it, without workerd).
async fn live() -> Fixture {
    let f = fixture_with(TestClock::ticking(T0, 1)).await;
    let status = f.sandbox.runtime_status();
    assert!(
        status.executing,
        "these tests need workerd: {}",
        status.message
    );
    assert!(
        f.sandbox.runtime_ready(Duration::from_secs(20)).await,
        "workerd did not start: {:?}",
        f.sandbox.runtime_status()
    );
    f
}

/// The sandbox's Cloudflare API as a platform client sees it (to upload test workers).
fn cloudflare(f: &Fixture) -> CloudflareApi {
    let d = f.sandbox.discovery();
    CloudflareApi::new(
        HttpClient::new(HttpSettings::default()).unwrap(),
        &d.cloudflare_api_url,
        &d.account_id,
        Secret::new(d.cloudflare_token.clone()),
    )
}

/// A worker that answers the length and SHA-256 of `env.MY_SECRET`, or `none`.
const SECRET_ECHO: &str = r#"export default {
  async fetch(request, env) {
    const v = env.MY_SECRET;
    if (typeof v !== "string") return new Response("none");
    const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(v));
    const hex = [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
    return new Response(v.length + ":" + hex);
  },
};
"#;

async fn upload(f: &Fixture, ns: &str, name: &str, source: &str, tags: &[&str]) {
    cloudflare(f)
        .upload_script(
            ns,
            name,
            "worker.mjs",
            source.as_bytes().to_vec(),
            &serde_json::json!({
                "main_module": "worker.mjs",
                "compatibility_date": "2025-01-01",
                "tags": tags,
            }),
        )
        .await
        .unwrap();
}

/// What the worker answers through the sandbox's dispatcher (staging).
async fn call(f: &Fixture, script: &str) -> String {
    let url = format!(
        "{}/services/staging/{script}/",
        f.sandbox.discovery().base_url
    );
    let r = reqwest::get(&url).await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    text
}

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// No file under the fixture's folders (the app's data folder and the sandbox's) holds `value`.
fn assert_on_no_disk(f: &Fixture, value: &str) {
    let all = files(f.dir.path());
    assert!(all.len() > 2, "{all:?}");
    for path in all {
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
            "the secret is in {}",
            path.display()
        );
    }
}

async fn audit_json(f: &Fixture) -> String {
    let page = f.ops.audit_entries(&AuditFilter::default()).await.unwrap();
    serde_json::to_string(&page).unwrap()
}

fn marker() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("s3cr3t-{nanos:x}-value")
}

#[tokio::test]
async fn a_secret_put_reaches_env_and_nowhere_else_and_delete_removes_it() {
    let f = live().await;
    upload(&f, STAGING, "webhooks", SECRET_ECHO, &["team:vault"]).await;
    assert_eq!(call(&f, "webhooks").await, "none");

    let value = marker();
    let name = f
        .ops
        .put_worker_secret(
            SB,
            STAGING,
            "webhooks",
            "MY_SECRET",
            Secret::new(value.clone()),
            None,
        )
        .await
        .unwrap();
    assert_eq!(name, "MY_SECRET");

    // The worker sees it: same length, same SHA-256.
    let expected = format!("{}:{}", value.len(), hex::encode(Sha256::digest(&value)));
    assert_eq!(call(&f, "webhooks").await, expected);

    // Listed by name only.
    let listed = f.ops.worker_secrets(SB, STAGING, "webhooks").await.unwrap();
    assert_eq!(listed.names, ["MY_SECRET"]);
    assert_eq!(listed.tags, ["team:vault"]);
    assert!(!listed.confirm_typed);
    assert!(!serde_json::to_string(&listed).unwrap().contains(&value));

    // The audit log names it, without the value; no file of ours holds it.
    let audit = audit_json(&f).await;
    assert!(audit.contains("worker.secret.put"), "{audit}");
    assert!(audit.contains("MY_SECRET"), "{audit}");
    assert!(!audit.contains(&value), "{audit}");
    assert_on_no_disk(&f, &value);

    // Deleted: gone from env and from the list.
    f.ops
        .delete_worker_secret(SB, STAGING, "webhooks", "MY_SECRET", None)
        .await
        .unwrap();
    assert_eq!(call(&f, "webhooks").await, "none");
    let listed = f.ops.worker_secrets(SB, STAGING, "webhooks").await.unwrap();
    assert!(listed.names.is_empty(), "{:?}", listed.names);
    assert!(audit_json(&f).await.contains("worker.secret.delete"));

    // Deleting it again says it is not there.
    let e = f
        .ops
        .delete_worker_secret(SB, STAGING, "webhooks", "MY_SECRET", None)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound, "{}", e.message);
    assert_on_no_disk(&f, &value);
    f.ops.shutdown().await;
}

#[tokio::test]
async fn production_changes_need_the_workers_name_typed() {
    let f = fixture_with(TestClock::ticking(T0, 1)).await;
    let ns = "dotdo-production";
    let listed = f.ops.worker_secrets(SB, ns, "gateway").await.unwrap();
    assert!(listed.confirm_typed);
    let value = marker();
    let e = f
        .ops
        .put_worker_secret(
            SB,
            ns,
            "gateway",
            "API_TOKEN",
            Secret::new(value.clone()),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("\"gateway\""), "{}", e.message);
    assert!(!e.message.contains(&value));
    assert!(f
        .ops
        .worker_secrets(SB, ns, "gateway")
        .await
        .unwrap()
        .names
        .is_empty());
    f.ops
        .put_worker_secret(
            SB,
            ns,
            "gateway",
            "API_TOKEN",
            Secret::new(value.clone()),
            Some("gateway"),
        )
        .await
        .unwrap();
    let e = f
        .ops
        .delete_worker_secret(SB, ns, "gateway", "API_TOKEN", Some("gatewa"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    f.ops
        .delete_worker_secret(SB, ns, "gateway", "API_TOKEN", Some("gateway"))
        .await
        .unwrap();
    let e = f
        .ops
        .set_worker_tags(SB, ns, "gateway", vec!["x".into()], None)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(!audit_json(&f).await.contains(&value));
    f.ops.shutdown().await;
}

#[tokio::test]
async fn bulk_set_names_a_malformed_line_without_its_value_and_sets_nothing() {
    let f = live().await;
    upload(&f, STAGING, "email", SECRET_ECHO, &[]).await;
    let hidden = marker();
    let text = format!("# pasted\nFIRST=one\n{hidden}\nMY_SECRET=two\n");
    let e = f
        .ops
        .bulk_set_worker_secrets(SB, STAGING, "email", Secret::new(text), None)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("Line 3"), "{}", e.message);
    assert!(!e.message.contains(&hidden), "{}", e.message);
    assert!(f
        .ops
        .worker_secrets(SB, STAGING, "email")
        .await
        .unwrap()
        .names
        .is_empty());

    let value = marker();
    let text = format!("FIRST=one\nexport MY_SECRET=\"{value}\"\n\nTHIRD='3' # c\n");
    let set = f
        .ops
        .bulk_set_worker_secrets(SB, STAGING, "email", Secret::new(text), None)
        .await
        .unwrap();
    assert_eq!(set, ["FIRST", "MY_SECRET", "THIRD"]);
    let listed = f.ops.worker_secrets(SB, STAGING, "email").await.unwrap();
    assert_eq!(listed.names, ["FIRST", "MY_SECRET", "THIRD"]);
    let expected = format!("{}:{}", value.len(), hex::encode(Sha256::digest(&value)));
    assert_eq!(call(&f, "email").await, expected);

    let audit = audit_json(&f).await;
    assert!(audit.contains("worker.secret.bulk"), "{audit}");
    assert!(audit.contains("Line 3"), "{audit}");
    assert!(
        !audit.contains(&hidden) && !audit.contains(&value),
        "{audit}"
    );
    assert_on_no_disk(&f, &value);
    assert_on_no_disk(&f, &hidden);
    f.ops.shutdown().await;
}

#[tokio::test]
async fn tags_round_trip_and_are_bounded() {
    let f = fixture_with(TestClock::ticking(T0, 1)).await;
    let before = f.ops.worker_secrets(SB, STAGING, "db").await.unwrap().tags;
    assert!(before.iter().any(|t| t == "service:db"), "{before:?}");
    let mut wanted = before.clone();
    wanted.push("cohort:beta".into());
    let now = f
        .ops
        .set_worker_tags(SB, STAGING, "db", wanted.clone(), None)
        .await
        .unwrap();
    assert_eq!(now, wanted);
    assert_eq!(
        f.ops.worker_secrets(SB, STAGING, "db").await.unwrap().tags,
        wanted
    );
    let row = f
        .ops
        .list_workers(SB, STAGING)
        .await
        .unwrap()
        .into_iter()
        .find(|w| w.name == "db")
        .unwrap();
    assert_eq!(row.tags, wanted);

    let e = f
        .ops
        .set_worker_tags(
            SB,
            STAGING,
            "db",
            (0..9).map(|i| format!("t{i}")).collect(),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("at most 8"), "{}", e.message);
    let e = f
        .ops
        .set_worker_tags(SB, STAGING, "db", vec!["a,b".into()], None)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(
        f.ops.worker_secrets(SB, STAGING, "db").await.unwrap().tags,
        wanted
    );
    assert!(audit_json(&f).await.contains("worker.tags.set"));
    f.ops.shutdown().await;
}

#[tokio::test]
async fn delete_by_tag_deletes_exactly_the_previewed_workers_and_refuses_a_changed_list() {
    let f = fixture_with(TestClock::ticking(T0, 1)).await;
    let source = "export default { fetch() { return new Response('ok'); } };\n";
    for name in ["cohort-a", "cohort-b", "cohort-c"] {
        upload(&f, STAGING, name, source, &["cohort-7", "other"]).await;
    }
    upload(&f, STAGING, "cohort-keep", source, &["cohort-70"]).await;

    let plan = f
        .ops
        .tag_delete_plan(SB, STAGING, "cohort-7")
        .await
        .unwrap();
    assert_eq!(plan.scripts, ["cohort-a", "cohort-b", "cohort-c"]);
    assert_eq!(plan.script_count, 3);
    assert_eq!(plan.confirm_phrase, "cohort-7");
    assert_eq!(
        plan.action,
        "Delete the 3 workers tagged cohort-7 from dotdo-staging"
    );

    // A worker tagged after the preview: refused, nothing deleted.
    upload(&f, STAGING, "cohort-d", source, &["cohort-7"]).await;
    let e = f
        .ops
        .delete_workers_by_tag(SB, STAGING, "cohort-7", "cohort-7", plan.scripts.clone())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{}", e.message);
    assert!(e.message.contains("cohort-d"), "{}", e.message);
    let names = |rows: Vec<switchyard_ops::WorkerRow>| -> Vec<String> {
        rows.into_iter().map(|w| w.name).collect()
    };
    let all = names(f.ops.list_workers(SB, STAGING).await.unwrap());
    for n in [
        "cohort-a",
        "cohort-b",
        "cohort-c",
        "cohort-d",
        "cohort-keep",
    ] {
        assert!(all.iter().any(|x| x == n), "{n} is gone: {all:?}");
    }

    // The confirmation must be the tag, typed exactly.
    let plan = f
        .ops
        .tag_delete_plan(SB, STAGING, "cohort-7")
        .await
        .unwrap();
    assert_eq!(plan.script_count, 4);
    let e = f
        .ops
        .delete_workers_by_tag(SB, STAGING, "cohort-7", "cohort", plan.scripts.clone())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);

    let deleted = f
        .ops
        .delete_workers_by_tag(SB, STAGING, "cohort-7", "cohort-7", plan.scripts.clone())
        .await
        .unwrap();
    assert_eq!(deleted, ["cohort-a", "cohort-b", "cohort-c", "cohort-d"]);
    let all = names(f.ops.list_workers(SB, STAGING).await.unwrap());
    assert!(!all
        .iter()
        .any(|x| x.starts_with("cohort-") && x != "cohort-keep"));
    assert!(all.iter().any(|x| x == "cohort-keep"), "{all:?}");
    assert!(all.iter().any(|x| x == "gateway"), "{all:?}");

    let audit = audit_json(&f).await;
    assert!(audit.contains("worker.delete_by_tag"), "{audit}");
    f.ops.shutdown().await;
}
