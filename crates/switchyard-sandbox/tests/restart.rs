//! Restarting the binary on the same data dir keeps every namespace, script and deployment, and
//! the same keys; `--empty` starts without demo data; the generator flags work.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{client, deploy_body, json_of};
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_sandbox::{read_discovery, Discovery, DISCOVERY_FILE};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard-sandbox");

struct Running {
    child: tokio::process::Child,
    d: Discovery,
}

async fn launch(data: &Path, extra: &[&str]) -> Running {
    let _ = std::fs::remove_file(data.join(DISCOVERY_FILE));
    let mut child = tokio::process::Command::new(BIN)
        .args(["--port", "0", "--data"])
        .arg(data)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // The discovery JSON comes first on stdout.
    let stdout = child.stdout.take().unwrap();
    let printed = tokio::time::timeout(Duration::from_secs(60), async move {
        use tokio::io::AsyncReadExt;
        let mut stdout = stdout;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = stdout.read(&mut chunk).await.unwrap();
            assert!(n > 0, "sandbox exited before printing its discovery");
            buf.extend_from_slice(&chunk[..n]);
            if let Ok(d) = serde_json::from_slice::<Discovery>(&buf) {
                return d;
            }
        }
    })
    .await
    .expect("sandbox did not start within 60 s");
    assert_eq!(
        read_discovery(data).unwrap(),
        printed,
        "printed and written discovery agree"
    );
    Running { child, d: printed }
}

async fn stop(mut r: Running) {
    let pid = r.child.id().unwrap();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(30), r.child.wait())
        .await
        .expect("no exit after SIGTERM")
        .unwrap();
    assert!(exit.success(), "graceful exit: {exit:?}");
}

/// Everything the platform holds, as the APIs show it.
async fn snapshot(d: &Discovery) -> Value {
    let http = client();
    let cf = |path: String| {
        http.get(format!(
            "{}/accounts/{}{path}",
            d.cloudflare_api_url, d.account_id
        ))
        .bearer_auth(&d.cloudflare_token)
        .send()
    };
    let (_, namespaces) = json_of(cf("/workers/dispatch/namespaces".into()).await.unwrap()).await;
    let mut scripts = serde_json::Map::new();
    for n in namespaces["result"].as_array().unwrap() {
        let name = n["namespace_name"].as_str().unwrap();
        let (_, list) = json_of(
            cf(format!("/workers/dispatch/namespaces/{name}/scripts"))
                .await
                .unwrap(),
        )
        .await;
        let mut contents = serde_json::Map::new();
        for sc in list["result"].as_array().unwrap() {
            let id = sc["script"]["id"].as_str().unwrap();
            let body = cf(format!(
                "/workers/dispatch/namespaces/{name}/scripts/{id}/content"
            ))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
            contents.insert(
                id.to_owned(),
                json!({"script": sc["script"], "content": body}),
            );
        }
        scripts.insert(name.to_owned(), Value::Object(contents));
    }
    let r = http
        .get(format!("{}/deployments?limit=100", d.deploy_api_url))
        .bearer_auth(&d.deploy_key)
        .send()
        .await
        .unwrap();
    let (_, deployments) = json_of(r).await;
    json!({"namespaces": namespaces["result"], "scripts": scripts, "deployments": deployments["deployments"]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_every_namespace_script_and_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let first = launch(dir.path(), &[]).await;
    let d = first.d.clone();
    let http = client();
    // Change things through every API.
    let r = http
        .post(format!("{}/deploy", d.deploy_api_url))
        .bearer_auth(&d.deploy_key)
        .json(&deploy_body("queue", "staging", "// queue v9", None))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .post(format!("{}/rollback", d.deploy_api_url))
        .bearer_auth(&d.deploy_key)
        .json(&json!({"service": "db", "environment": "production"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .post(format!(
            "{}/accounts/{}/workers/dispatch/namespaces",
            d.cloudflare_api_url, d.account_id
        ))
        .bearer_auth(&d.cloudflare_token)
        .json(&json!({"name": "customers"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .post(format!("{}/permissions", d.auth_url))
        .json(&json!({"userId": d.readonly_user_id, "resource": "deployments", "action": "create"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let before = snapshot(&d).await;
    assert_eq!(before["namespaces"].as_array().unwrap().len(), 4);
    stop(first).await;

    let second = launch(dir.path(), &[]).await;
    assert_eq!(second.d.account_id, d.account_id);
    assert_eq!(second.d.deploy_key, d.deploy_key);
    assert_eq!(second.d.cloudflare_token, d.cloudflare_token);
    let after = snapshot(&second.d).await;
    assert_eq!(before, after);
    // The granted permission survived too; the demo data was not seeded twice.
    let r = http
        .get(format!("{}/health", second.d.deploy_api_url))
        .bearer_auth(&second.d.readonly_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    stop(second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_start_and_generator_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(BIN)
            .args([
                "--port",
                "0",
                "--empty",
                "--generate-scripts",
                "dotdo-bench=500",
                "--generate-deployments",
                "700",
                "--generate-only",
                "--data",
            ])
            .arg(dir.path())
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let running = launch(dir.path(), &[]).await;
    let d = running.d.clone();
    let http = client();
    let r = http
        .get(format!(
            "{}/accounts/{}/workers/dispatch/namespaces",
            d.cloudflare_api_url, d.account_id
        ))
        .bearer_auth(&d.cloudflare_token)
        .send()
        .await
        .unwrap();
    let (_, v) = json_of(r).await;
    let names: Vec<(&str, u64)> = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["namespace_name"].as_str().unwrap(),
                n["script_count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("dotdo-bench", 500)],
        "--empty: no demo namespaces, even on the second start"
    );
    let r = http
        .get(format!("{}/deployments?limit=100", d.deploy_api_url))
        .bearer_auth(&d.deploy_key)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await.1["total"], 100);
    stop(running).await;

    let bad = tokio::process::Command::new(BIN)
        .args(["--data", "x", "--generate-scripts", "nocount"])
        .output()
        .await
        .unwrap();
    assert!(!bad.status.success());
}
