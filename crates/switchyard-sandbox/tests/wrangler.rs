//! Real wrangler against the sandbox (`CLOUDFLARE_API_BASE_URL`), unchanged. Needs a wrangler
//! binary, so it is ignored by default; run it with
//! `WRANGLER=/path/to/node_modules/.bin/wrangler cargo test -p switchyard-sandbox --test wrangler -- --ignored`.
//! Last run: wrangler 4.86.0.

mod common;

use std::time::Duration;

use common::start;
use reqwest::StatusCode;

async fn wrangler(s: &common::TestSandbox, dir: &std::path::Path, args: &[&str]) -> String {
    let bin = std::env::var("WRANGLER").expect("set WRANGLER to a wrangler binary");
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(bin)
            .args(args)
            .current_dir(dir)
            .env("CLOUDFLARE_API_BASE_URL", &s.d.cloudflare_api_url)
            .env("CLOUDFLARE_API_TOKEN", &s.d.cloudflare_token)
            .env("CLOUDFLARE_ACCOUNT_ID", &s.d.account_id)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("NO_COLOR", "1")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("wrangler timed out")
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "wrangler {args:?} failed:\n{text}");
    text
}

#[tokio::test]
#[ignore = "needs a wrangler binary in $WRANGLER"]
async fn wrangler_manages_namespaces_and_deploys_into_one() {
    let s = start(true, false).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/index.js"),
        "export default { async fetch() { return Response.json({ status: 'ok', service: 'queue' }); } };\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("wrangler.jsonc"),
        r#"{ "name": "queue", "main": "src/index.js", "compatibility_date": "2025-01-01",
            "vars": { "GREETING": "hi" }, "services": [{ "binding": "DB_SERVICE", "service": "db" }] }"#,
    )
    .unwrap();
    let p = dir.path();

    let out = wrangler(&s, p, &["dispatch-namespace", "list"]).await;
    assert!(
        out.contains("dotdo-production") && out.contains("dotdo-development"),
        "{out}"
    );
    let out = wrangler(&s, p, &["dispatch-namespace", "create", "customers"]).await;
    assert!(
        out.contains("Created dispatch namespace \"customers\" with ID"),
        "{out}"
    );
    let out = wrangler(&s, p, &["dispatch-namespace", "get", "customers"]).await;
    assert!(out.contains("namespace_name: 'customers'"), "{out}");
    let out = wrangler(
        &s,
        p,
        &["dispatch-namespace", "rename", "customers", "tenants"],
    )
    .await;
    assert!(
        out.contains("Renamed dispatch namespace \"customers\" to \"tenants\""),
        "{out}"
    );
    let out = wrangler(&s, p, &["dispatch-namespace", "delete", "tenants"]).await;
    assert!(
        out.contains("Deleted dispatch namespace \"tenants\""),
        "{out}"
    );
    let out = wrangler(&s, p, &["whoami"]).await;
    assert!(out.contains(&s.d.account_id), "{out}");

    assert_eq!(
        s.health_status("development", "queue").await,
        StatusCode::NOT_FOUND
    );
    let out = wrangler(
        &s,
        p,
        &["deploy", "--dispatch-namespace", "dotdo-development"],
    )
    .await;
    assert!(
        out.contains("Dispatch Namespace: dotdo-development"),
        "{out}"
    );
    assert!(
        out.contains("Current Version ID: ") && !out.contains("Current Version ID: null"),
        "{out}"
    );
    assert_eq!(
        s.health_status("development", "queue").await,
        StatusCode::OK
    );
    let (_, b) = s
        .cf_get(&s.ns("dotdo-development", "/scripts/queue/bindings"))
        .await;
    assert_eq!(b["result"].as_array().unwrap().len(), 2, "{b}");
}
