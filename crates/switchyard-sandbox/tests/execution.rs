//! Deployed scripts really run (workerd): what the dispatcher answers is what the code answers;
//! a throwing script is a 500 carrying the exception; a restore brings the old answer back; service
//! bindings, vars and secrets reach `env`; a tail WebSocket receives the code's own console output;
//! a bundle that cannot start is refused at upload; workerd killed is restarted.
//!
//! These need workerd: `cargo xtask setup` installs it (or set `SWITCHYARD_WORKERD`).

mod common;

use std::time::{Duration, Instant};

use common::{json_of, live, module_form, TestSandbox};
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

fn marker() -> String {
    format!("marker-{:016x}", rand_u64())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

fn throwing_worker(message: &str) -> String {
    format!(
        "export default {{\n  async fetch(request) {{\n    console.log(\"about to fail\");\n    throw new Error({message:?});\n  }},\n}};\n"
    )
}

async fn get(s: &TestSandbox, url: &str) -> (StatusCode, String) {
    let r = s.http.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// What the rehearsal panel lists (its bad deploys).
async fn rehearsal(s: &TestSandbox) -> (StatusCode, Value) {
    let url = format!("{}/__sandbox/rehearsal", s.d.base_url);
    json_of(s.http.get(url).send().await.unwrap()).await
}

fn health_url(s: &TestSandbox, env: &str, service: &str) -> String {
    format!("{}/services/{env}/{service}/health", s.d.base_url)
}

/// The service's health answers 200 from the code carrying `marker`.
async fn serves(s: &TestSandbox, env: &str, service: &str, marker: &str) {
    let (st, body) = get(s, &health_url(s, env, service)).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(body.contains(marker), "{body}");
}

/// Uploads a module script with `metadata` through the Cloudflare API.
async fn upload(
    s: &TestSandbox,
    ns: &str,
    name: &str,
    source: &str,
    metadata: Value,
) -> (StatusCode, Value) {
    let form = module_form(source, metadata);
    json_of(
        s.http
            .put(s.ns(ns, &format!("/scripts/{name}")))
            .bearer_auth(&s.d.cloudflare_token)
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_dispatcher_answers_what_the_deployed_code_answers() {
    let s = live(true, true).await;
    let first = marker();
    s.deploy("gateway", "production", &common::healthy_worker(&first))
        .await;
    // Within a second of the deploy (no restart): the new code answers.
    let started = Instant::now();
    serves(&s, "production", "gateway", &first).await;
    assert!(started.elapsed() < Duration::from_secs(1));

    // A bundle that throws: 500 carrying the exception.
    s.deploy("gateway", "production", &throwing_worker("kaboom in v2"))
        .await;
    let (st, body) = get(&s, &health_url(&s, "production", "gateway")).await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "Worker threw exception");
    assert!(
        v["message"].as_str().unwrap().contains("kaboom in v2"),
        "{v}"
    );

    // A (true) rollback uploads the previous script again: the marker is back.
    let (st, v) = s.rollback("gateway", "production").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    serves(&s, "production", "gateway", &first).await;

    // The other environments run their own code.
    let (st, body) = get(&s, &health_url(&s, "staging", "gateway")).await;
    assert_eq!(
        (st, body.contains(&first)),
        (StatusCode::OK, false),
        "{body}"
    );
}

/// A new version's first request runs in the isolate its check at upload started: workerd does
/// not load and compile the code a second time (for a 10 MiB bundle that was ~100 ms on the first
/// request after every deploy, which the app's health check after a deploy waited for). Through
/// the Deploy API and the Cloudflare API alike.
#[tokio::test]
async fn a_deploys_first_request_runs_the_code_its_upload_check_loaded() {
    let s = live(true, true).await;
    let first = marker();
    s.deploy("gateway", "production", &common::healthy_worker(&first))
        .await;
    let loads = s.sandbox.runtime_status().code_loads;
    for _ in 0..2 {
        serves(&s, "production", "gateway", &first).await;
    }
    assert_eq!(
        s.sandbox.runtime_status().code_loads,
        loads,
        "the deployed code was loaded again for its first requests"
    );

    let second = marker();
    let (st, v) = upload(
        &s,
        "dotdo-production",
        "gateway",
        &common::healthy_worker(&second),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    serves(&s, "production", "gateway", &second).await;
    assert_eq!(
        s.sandbox.runtime_status().code_loads,
        loads,
        "the uploaded code was loaded again for its first request"
    );
}

#[tokio::test]
async fn delete_a_script_or_its_namespace_and_it_stops_answering() {
    let s = live(true, false).await;
    let (st, _) = get(&s, &health_url(&s, "staging", "email")).await;
    assert_eq!(st, StatusCode::OK);
    let r = s
        .http
        .delete(s.ns("dotdo-staging", "/scripts/email"))
        .bearer_auth(&s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, body) = get(&s, &health_url(&s, "staging", "email")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("Service not deployed"), "{body}");

    let r = s
        .http
        .delete(s.ns("dotdo-staging", ""))
        .bearer_auth(&s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, _) = get(&s, &health_url(&s, "staging", "gateway")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bindings_vars_and_secrets_reach_env() {
    let s = live(true, false).await;
    let db_marker = marker();
    let db = format!(
        "export default {{ async fetch(request) {{ return new Response({db_marker:?} + ' ' + new URL(request.url).pathname); }} }};"
    );
    let (st, v) = upload(&s, "dotdo-staging", "db", &db, json!({"bindings": []})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let api = r#"export default {
  async fetch(request, env) {
    const db = await (await env.DB_SERVICE.fetch("https://db.do/rows")).text();
    return Response.json({ db, greeting: env.GREETING, config: env.CONFIG, secret: env.API_SECRET ?? null });
  },
};"#;
    let (st, v) = upload(
        &s,
        "dotdo-staging",
        "gateway",
        api,
        json!({"bindings": [
            {"type": "service", "name": "DB_SERVICE", "service": "db"},
            {"type": "plain_text", "name": "GREETING", "text": "hello"},
            {"type": "json", "name": "CONFIG", "json": {"retries": 3}},
        ]}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let url = format!("{}/services/staging/gateway/x", s.d.base_url);
    let (st, v) = json_of(s.http.get(&url).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["db"], format!("{db_marker} /rows"));
    assert_eq!(v["greeting"], "hello");
    assert_eq!(v["config"], json!({"retries": 3}));
    assert_eq!(v["secret"], Value::Null);

    // A secret set through the secrets API is in env from the next request; its value is never
    // sent back.
    let secret_value = marker();
    let (st, put) = s
        .cf_json(
            Method::PUT,
            &s.ns("dotdo-staging", "/scripts/gateway/secrets"),
            &json!({"name": "API_SECRET", "text": secret_value, "type": "secret_text"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{put}");
    assert!(!put.to_string().contains(&secret_value));
    let (_, v) = json_of(s.http.get(&url).send().await.unwrap()).await;
    assert_eq!(v["secret"], secret_value.as_str());
    let (st, list) = s
        .cf_get(&s.ns("dotdo-staging", "/scripts/gateway/secrets"))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        list["result"],
        json!([{"name": "API_SECRET", "type": "secret_text"}])
    );
    assert!(!list.to_string().contains(&secret_value));
    // Not on disk either.
    for entry in walk(s.dir.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes
                .windows(secret_value.len())
                .any(|w| w == secret_value.as_bytes()),
            "the secret is in {}",
            entry.display()
        );
    }
    // Deleted: gone from env.
    let r = s
        .http
        .delete(s.ns("dotdo-staging", "/scripts/gateway/secrets/API_SECRET"))
        .bearer_auth(&s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, v) = json_of(s.http.get(&url).send().await.unwrap()).await;
    assert_eq!(v["secret"], Value::Null);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn a_bundle_that_cannot_start_is_refused_at_upload_and_nothing_changes() {
    let s = live(true, false).await;
    let (_, before) = s.content("dotdo-production", "auth").await;
    for (source, expected) in [
        ("export default { fetch() { return new Response('x' }", "SyntaxError"),
        ("import x from './missing.js';\nexport default { fetch() { return new Response(x); } };", "missing.js"),
        ("throw new Error('top-level failure');\nexport default {};", "top-level failure"),
    ] {
        let (st, v) = upload(&s, "dotdo-production", "auth", source, json!({})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["success"], false);
        assert_eq!(v["errors"][0]["code"], 10021);
        let message = v["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
        // The Deploy API refuses it too, recording the failure, and the old script still runs.
        let (st, v) = s
            .deploy_raw(&common::deploy_body("auth", "production", source, None))
            .await;
        assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{v}");
        assert!(v.to_string().contains(expected), "{v}");
    }
    assert_eq!(s.content("dotdo-production", "auth").await.1, before);
    let (st, _) = get(&s, &health_url(&s, "production", "auth")).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn a_script_cannot_reach_off_loopback_but_reaches_the_platform() {
    let s = live(true, false).await;
    let source = r#"export default {
  async fetch(request) {
    const outside = await fetch("https://example.com/");
    const inside = await fetch("https://db.staging.do/health");
    return Response.json({ outside: outside.status, outsideBody: await outside.json(), inside: await inside.json() });
  },
};"#;
    let (st, v) = upload(&s, "dotdo-staging", "webhooks", source, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = json_of(
        s.http
            .get(format!("{}/services/staging/webhooks/", s.d.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["outside"], 502);
    assert!(v["outsideBody"]["message"]
        .as_str()
        .unwrap()
        .contains("example.com"));
    assert_eq!(v["inside"], json!({"status": "ok", "service": "db"}));
}

async fn open_tail(s: &TestSandbox, script: &str) -> (String, String) {
    let (st, v) = json_of(
        s.http
            .post(s.cf(&format!("/workers/scripts/{script}/tails")))
            .bearer_auth(&s.d.cloudflare_token)
            .json(&json!({"filters": []}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    (
        v["result"]["id"].as_str().unwrap().to_owned(),
        v["result"]["url"].as_str().unwrap().to_owned(),
    )
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a tail's WebSocket as Cloudflare's clients do (subprotocol `trace-v1`).
async fn connect(
    url: &str,
) -> (
    Socket,
    tokio_tungstenite::tungstenite::handshake::client::Response,
) {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "trace-v1".parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap()
}

#[tokio::test]
async fn a_tail_receives_the_codes_own_console_output_and_exceptions() {
    let s = live(true, false).await;
    let (id, url) = open_tail(&s, "gateway").await;
    let (mut ws, response) = connect(&url).await;
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "trace-v1",
        "the server speaks trace-v1"
    );
    ws.send(Message::text(r#"{"debug":false}"#)).await.unwrap();

    let path = format!("/api/fail?probe={}", marker());
    let (st, _) = get(
        &s,
        &format!("{}/services/production/gateway{path}", s.d.base_url),
    )
    .await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    let event = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["event"]["request"]["url"]
                        .as_str()
                        .is_some_and(|u| u.ends_with(&path))
                    {
                        return v;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the tail closed: {other:?}"),
            }
        }
    })
    .await
    .expect("the request's trace event arrives");
    assert_eq!(event["scriptName"], "gateway");
    assert_eq!(event["dispatchNamespace"], "dotdo-production");
    assert_eq!(event["outcome"], "exception");
    assert_eq!(event["event"]["request"]["method"], "GET");
    assert_eq!(
        event["event"]["request"]["url"],
        format!("https://gateway.do{path}")
    );
    let logs = event["logs"].to_string();
    assert!(logs.contains("GET /api/fail"), "{logs}");
    assert!(logs.contains("failing on purpose"), "{logs}");
    assert_eq!(event["logs"][1]["level"], "error");
    assert!(event["exceptions"][0]["message"]
        .as_str()
        .unwrap()
        .contains("failure requested at /api/fail"));

    // Deleting the tail closes its socket.
    let r = s
        .http
        .delete(s.cf(&format!("/workers/scripts/gateway/tails/{id}")))
        .bearer_auth(&s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the socket closes when its tail is deleted");
}

#[tokio::test]
async fn a_tail_redacts_secrets_and_unknown_workers_are_404() {
    let s = live(true, false).await;
    let (_, url) = open_tail(&s, "dispatcher-staging").await;
    let (mut ws, _) = connect(&url).await;
    let token = marker();
    let r = s
        .http
        .get(format!(
            "{}/services/staging/db/health?api_token={token}",
            s.d.base_url
        ))
        .bearer_auth(&token)
        .header("cookie", format!("session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(Ok(Message::Text(t))) = ws.next().await {
                return t.to_string();
            }
        }
    })
    .await
    .unwrap();
    assert!(!text.contains(&token), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["scriptName"], "db");
    assert_eq!(
        v["event"]["request"]["headers"]["authorization"],
        "REDACTED"
    );
    assert_eq!(v["event"]["request"]["headers"]["cookie"], "REDACTED");

    let (st, v) = json_of(
        s.http
            .post(s.cf("/workers/scripts/no-such-worker/tails"))
            .bearer_auth(&s.d.cloudflare_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["errors"][0]["code"], 10007);
}

#[tokio::test]
async fn workerd_killed_is_restarted_and_the_gap_is_said() {
    let s = live(true, false).await;
    let pid = s.sandbox.workerd_pid().expect("workerd runs");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = s.sandbox.runtime_status();
        if status.pid.is_some_and(|p| p != pid) && status.restarts >= 1 {
            assert!(
                status
                    .notices
                    .iter()
                    .any(|n| n.message.contains("workerd exited")),
                "{status:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "not restarted: {status:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (st, body) = get(&s, &health_url(&s, "production", "gateway")).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, v) = json_of(
        s.http
            .get(format!("{}/__sandbox/runtime", s.d.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["state"], "running");
    assert_eq!(v["restarts"], 1);
}

#[tokio::test]
async fn the_runtime_is_stopped_with_the_sandbox() {
    let s = live(false, false).await;
    let pid = s.sandbox.workerd_pid().expect("workerd runs");
    let TestSandbox { sandbox, dir, .. } = s;
    sandbox.shutdown().await;
    let alive = std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ");
    assert!(!alive, "workerd {pid} outlived its sandbox");
    drop(dir);
}

#[tokio::test]
async fn a_rehearsed_bad_deploy_is_broken_code_that_a_rollback_really_fixes() {
    // A sandbox that only marks rollbacks, as the published Deploy API does.
    let s = live(true, false).await;
    let (st, before) = get(&s, &health_url(&s, "production", "gateway")).await;
    assert_eq!(st, StatusCode::OK, "{before}");
    let r = s
        .http
        .post(format!("{}/__sandbox/rehearsal/bad-deploy", s.d.base_url))
        .json(&json!({"service": "gateway", "environment": "production"}))
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(r).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let broken_id = v["deployment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        v["deployment"]["metadata"]["author"],
        "rehearsal@switchyard.local"
    );
    assert!(v["deployment"]["versionTag"]
        .as_str()
        .unwrap()
        .ends_with("-broken"));

    // The code really fails: the runtime's own TypeError.
    let (st, body) = get(&s, &health_url(&s, "production", "gateway")).await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(body.contains("prepare"), "{body}");
    let (_, list) = s
        .deployments("?service=gateway&environment=production&limit=1")
        .await;
    assert_eq!(list["deployments"][0]["id"], broken_id.as_str());
    let (_, listed) = rehearsal(&s).await;
    assert_eq!(
        listed["bad_deploys"][0]["deployment_id"],
        broken_id.as_str()
    );

    // The Deploy API's rollback ends it with the previous code running again.
    let (st, v) = s.rollback("gateway", "production").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, after) = get(&s, &health_url(&s, "production", "gateway")).await;
    assert_eq!((st, after), (StatusCode::OK, before));
    let (_, listed) = rehearsal(&s).await;
    assert_eq!(listed["bad_deploys"], json!([]));

    // Cleared from the rehearsal panel instead: the same.
    s.http
        .post(format!("{}/__sandbox/rehearsal/bad-deploy", s.d.base_url))
        .json(&json!({"service": "db", "environment": "staging"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        s.health_status("staging", "db").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let r = s
        .http
        .delete(format!("{}/__sandbox/rehearsal", s.d.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(s.health_status("staging", "db").await, StatusCode::OK);
}
