//! Fault injection over HTTP (`/__sandbox/faults`) and through the Rust API, every mode on every
//! kind of target.

mod common;

use std::time::{Duration, Instant};

use common::{json_of, start, TestSandbox};
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_sandbox::{DownKind, Fault, FaultTarget};

/// A request that the given target answers, authenticated as it needs.
fn probe(s: &TestSandbox, target: &str) -> reqwest::RequestBuilder {
    match target {
        "deploy-api" => s
            .http
            .get(format!("{}/health", s.d.deploy_api_url))
            .bearer_auth(&s.d.deploy_key),
        "auth" => s.http.get(format!("{}/health", s.d.auth_url)),
        "cloudflare-api" => s
            .http
            .get(s.cf("/workers/dispatch/namespaces"))
            .bearer_auth(&s.d.cloudflare_token),
        "dispatcher" => s.http.get(format!("{}/health", s.d.dispatcher_url)),
        "service:gateway" => s.http.get(format!(
            "{}/services/production/gateway/health",
            s.d.base_url
        )),
        other => panic!("{other}"),
    }
}

const TARGETS: [&str; 5] = [
    "deploy-api",
    "auth",
    "cloudflare-api",
    "dispatcher",
    "service:gateway",
];

async fn set(s: &TestSandbox, target: &str, fault: Value) -> (StatusCode, Value) {
    let r = s
        .http
        .put(format!("{}/{target}", s.d.faults_url))
        .json(&fault)
        .send()
        .await
        .unwrap();
    json_of(r).await
}

async fn clear_all(s: &TestSandbox) {
    let r = s.http.delete(&s.d.faults_url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_mode_on_every_target() {
    let s = start(true, false).await;
    for target in TARGETS {
        assert_eq!(
            probe(&s, target).send().await.unwrap().status(),
            StatusCode::OK,
            "{target} healthy"
        );

        // down: 503
        assert_eq!(
            set(&s, target, json!({"mode": "down"})).await.0,
            StatusCode::OK
        );
        let r = probe(&s, target).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{target}");
        let body: Value = r.json().await.unwrap();
        if target == "cloudflare-api" {
            assert_eq!(body["success"], false);
        } else {
            assert!(body["error"].is_string());
        }

        // down, dropped connection: the client sees a connection error, not a response.
        set(&s, target, json!({"mode": "down", "how": "drop"})).await;
        let err = probe(&s, target).send().await;
        assert!(
            err.is_err(),
            "{target}: expected a connection error, got {:?}",
            err.map(|r| r.status())
        );

        // 500 with a body.
        set(
            &s,
            target,
            json!({"mode": "error", "status": 500, "body": "boom"}),
        )
        .await;
        let r = probe(&s, target).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.text().await.unwrap(), "boom");
        set(&s, target, json!({"mode": "error", "status": 502})).await;
        assert_eq!(
            probe(&s, target).send().await.unwrap().status(),
            StatusCode::BAD_GATEWAY
        );

        // latency: answers normally, later.
        set(&s, target, json!({"mode": "latency", "ms": 300})).await;
        let t = Instant::now();
        assert_eq!(
            probe(&s, target).send().await.unwrap().status(),
            StatusCode::OK
        );
        assert!(t.elapsed() >= Duration::from_millis(300), "{target}");

        // garbage: HTML, or bytes that are not JSON.
        set(&s, target, json!({"mode": "garbage"})).await;
        let r = probe(&s, target).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(r.text().await.unwrap().contains("<html>"));
        set(
            &s,
            target,
            json!({"mode": "garbage", "html": false, "status": 200}),
        )
        .await;
        let bytes = probe(&s, target)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(serde_json::from_slice::<Value>(&bytes).is_err());

        // flaky: 100 % always fails, 0 % never.
        set(&s, target, json!({"mode": "flaky", "percent": 100})).await;
        for _ in 0..5 {
            assert_eq!(
                probe(&s, target).send().await.unwrap().status(),
                StatusCode::SERVICE_UNAVAILABLE
            );
        }
        set(&s, target, json!({"mode": "flaky", "percent": 0})).await;
        for _ in 0..5 {
            assert_eq!(
                probe(&s, target).send().await.unwrap().status(),
                StatusCode::OK
            );
        }
        set(&s, target, json!({"mode": "flaky", "percent": 50})).await;
        let mut fails = 0;
        for _ in 0..60 {
            if probe(&s, target).send().await.unwrap().status() == StatusCode::SERVICE_UNAVAILABLE {
                fails += 1;
            }
        }
        assert!(
            fails > 0 && fails < 60,
            "{target}: {fails}/60 failed at 50 %"
        );

        // 429 with Retry-After.
        set(
            &s,
            target,
            json!({"mode": "rate_limited", "retry_after": 7}),
        )
        .await;
        let r = probe(&s, target).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "7");
        if target == "cloudflare-api" {
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["errors"][0]["code"], 971);
        }

        // Cleared: healthy again.
        let r = s
            .http
            .delete(format!("{}/{target}", s.d.faults_url))
            .send()
            .await
            .unwrap();
        assert_eq!(json_of(r).await.1, json!({"cleared": true}));
        assert_eq!(
            probe(&s, target).send().await.unwrap().status(),
            StatusCode::OK,
            "{target} cleared"
        );
    }
}

#[tokio::test]
async fn a_faulted_auth_service_fails_deploy_api_authentication() {
    let s = start(true, false).await;
    set(&s, "auth", json!({"mode": "down"})).await;
    let (st, v) = json_of(probe(&s, "deploy-api").send().await.unwrap()).await;
    assert_eq!(
        (st, v),
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "Authentication failed"})
        )
    );
    clear_all(&s).await;
    assert_eq!(
        probe(&s, "deploy-api").send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_faulted_cloudflare_api_fails_deploys_and_records_them() {
    let s = start(true, false).await;
    set(&s, "cloudflare-api", json!({"mode": "down"})).await;
    let (st, v) = s
        .deploy_raw(&common::deploy_body("db", "staging", "// new", None))
        .await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(v["error"].as_str().unwrap().contains("503"), "{v}");
    let (_, list) = s
        .deployments("?service=db&environment=staging&limit=1")
        .await;
    assert_eq!(list["deployments"][0]["status"], "failed");
    clear_all(&s).await;
    assert_ne!(s.content("dotdo-staging", "db").await.1, "// new");
    let (st, _) = s
        .deploy_raw(&common::deploy_body("db", "staging", "// new", None))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(s.content("dotdo-staging", "db").await.1, "// new");
}

#[tokio::test]
async fn service_and_dispatcher_faults_scope_by_environment() {
    let s = start(true, false).await;
    set(&s, "service:db@staging", json!({"mode": "error"})).await;
    assert_eq!(
        s.health_status("staging", "db").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(s.health_status("production", "db").await, StatusCode::OK);
    assert_eq!(s.health_status("staging", "gateway").await, StatusCode::OK);
    // A dispatcher fault takes every service of its environment down with it.
    set(&s, "dispatcher@production", json!({"mode": "down"})).await;
    for service in ["gateway", "db", "auth"] {
        assert_eq!(
            s.health_status("production", service).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(s.health_status("staging", "gateway").await, StatusCode::OK);
    // The service health also fails by Host routing.
    let r = s
        .http
        .get(format!("{}/health", s.d.base_url))
        .header("Host", "db.staging.do")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn faults_are_listed_cleared_and_validated() {
    let s = start(false, false).await;
    let r = s
        .http
        .post(&s.d.faults_url)
        .json(&json!({"target": "auth", "fault": {"mode": "latency", "ms": 5}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    set(&s, "service:mcp", json!({"mode": "down"})).await;
    let (st, v) = json_of(s.http.get(&s.d.faults_url).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v["faults"],
        json!([
            {"target": "auth", "fault": {"mode": "latency", "ms": 5}},
            {"target": "service:mcp", "fault": {"mode": "down", "how": "unavailable"}},
        ])
    );
    let (st, v) = json_of(
        s.http
            .get(format!("{}/auth", s.d.faults_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &v["fault"]["mode"]),
        (StatusCode::OK, &json!("latency"))
    );
    let (st, _) = json_of(
        s.http
            .get(format!("{}/deploy-api", s.d.faults_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Bad targets and bad faults are 400s.
    for (target, fault) in [
        ("nowhere", json!({"mode": "down"})),
        ("service:Bad", json!({"mode": "down"})),
        ("auth", json!({"mode": "explode"})),
        ("auth", json!({"mode": "latency"})),
        ("auth", json!({"mode": "latency", "ms": -1})),
        ("auth", json!({"mode": "latency", "ms": 99999999999u64})),
        ("auth", json!({"mode": "flaky", "percent": 101})),
        ("auth", json!({"mode": "error", "status": 99})),
        ("auth", json!("down")),
    ] {
        let (st, v) = set(&s, target, fault.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{target} {fault}");
        assert!(v["error"].is_string());
    }
    let r = s.http.post(&s.d.faults_url).body("{").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The failed sets changed nothing.
    assert_eq!(s.sandbox.faults().list().len(), 2);

    let r = s
        .http
        .delete(format!("{}/deploy-api", s.d.faults_url))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await.1, json!({"cleared": false}));
    let r = s.http.delete(&s.d.faults_url).send().await.unwrap();
    assert_eq!(json_of(r).await.1, json!({"cleared": 2}));
    assert!(s.sandbox.faults().list().is_empty());
}

#[tokio::test]
async fn the_rust_api_and_the_http_api_share_one_board() {
    let s = start(true, false).await;
    s.sandbox
        .faults()
        .set(
            FaultTarget::DeployApi,
            Fault::Down {
                how: DownKind::Unavailable,
            },
        )
        .unwrap();
    assert_eq!(
        probe(&s, "deploy-api").send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (_, v) = json_of(s.http.get(&s.d.faults_url).send().await.unwrap()).await;
    assert_eq!(v["faults"][0]["target"], "deploy-api");
    assert!(s
        .sandbox
        .faults()
        .set(FaultTarget::Auth, Fault::Flaky { percent: 200 })
        .is_err());
    set(&s, "service:gateway", json!({"mode": "rate_limited"})).await;
    assert_eq!(
        s.sandbox.faults().get(&"service:gateway".parse().unwrap()),
        Some(Fault::RateLimited { retry_after: 30 })
    );
    s.sandbox.faults().clear_all();
    assert_eq!(
        probe(&s, "deploy-api").send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_bad_deploy_fault_lifts_when_the_service_is_rolled_back_or_redeployed() {
    let s = start(true, false).await;
    let r = s
        .http
        .put(format!(
            "{}/service:gateway@production?until=deploy",
            s.d.faults_url
        ))
        .json(&json!({"mode": "error", "status": 500}))
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(r).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["until_deploy"], true);
    // db's ordinary fault stays through gateway's rollback.
    set(&s, "service:db", json!({"mode": "error", "status": 503})).await;
    assert_eq!(
        s.health_status("production", "gateway").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );

    // A deploy of another service or environment does not lift it.
    s.deploy("gateway", "staging", "// staging").await;
    assert_eq!(
        s.health_status("production", "gateway").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );

    // Rolling gateway back in production does.
    let (st, v) = s.rollback("gateway", "production").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        s.health_status("production", "gateway").await,
        StatusCode::OK
    );
    assert_eq!(
        s.health_status("production", "db").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "an ordinary fault is not lifted by a deploy"
    );

    // So does a deploy (an environment-less one lifts on a deploy anywhere); only services
    // take it.
    set(&s, "service:gateway", json!({"mode": "down"})).await;
    let r = s
        .http
        .put(format!("{}/service:gateway?until=deploy", s.d.faults_url))
        .json(&json!({"mode": "down"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.deploy("gateway", "production", &common::healthy_worker("fixed"))
        .await;
    assert_eq!(
        s.health_status("production", "gateway").await,
        StatusCode::OK
    );
    let r = s
        .http
        .put(format!("{}/dispatcher?until=deploy", s.d.faults_url))
        .json(&json!({"mode": "down"}))
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(r).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["error"].as_str().unwrap().contains("services only"),
        "{v}"
    );
    let r = s
        .http
        .put(format!("{}/service:gateway?until=tomorrow", s.d.faults_url))
        .json(&json!({"mode": "down"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
