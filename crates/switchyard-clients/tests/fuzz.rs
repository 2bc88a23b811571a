//! Every response decoder under attack: a 127.0.0.1 server answers each call of the Deploy API,
//! auth and Cloudflare clients with an arbitrary status, content type and body (random bytes,
//! or JSON built from the real shapes, broken). No call panics or hangs; each ends `Ok` or with
//! an error that says something. `SWITCHYARD_FUZZ_CASES` sets the number of cases (64 in the
//! normal suite; `cargo xtask fuzz` runs many more, in release).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use proptest::prelude::*;
use switchyard_clients::{
    AuthApi, CloudflareApi, DeployApi, DeployRequest, DeploymentQuery, HttpClient, HttpSettings,
};
use switchyard_core::{AppError, DeploymentMetadata, Environment, Secret};

fn cases() -> u32 {
    std::env::var("SWITCHYARD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// What the server answers next.
#[derive(Clone, Debug)]
struct Answer {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

/// Pieces of the platform's JSON, for a shuffle to break.
const JSON: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"success\"",
    "true",
    "false",
    "null",
    "\"result\"",
    "\"errors\"",
    "\"messages\"",
    "\"code\"",
    "10007",
    "\"message\"",
    "\"deployments\"",
    "\"deployment\"",
    "\"id\"",
    "\"service\"",
    "\"environment\"",
    "\"production\"",
    "\"prod\"",
    "\"status\"",
    "\"deployed\"",
    "\"timestamp\"",
    "\"2025-01-01T00:00:00Z\"",
    "\"metadata\"",
    "\"commit\"",
    "\"é☃\"",
    "\"valid\"",
    "\"userId\"",
    "\"permissions\"",
    "\"namespace_name\"",
    "\"script\"",
    "\"tags\"",
    "\"commit:é\"",
    "\"version_tag\"",
    "-1",
    "1e999",
    "18446744073709551616",
    "\"\\ud800\"",
    "\"etag\"",
    "\"url\"",
    "\"result_info\"",
    "\"total_count\"",
    "\"page\"",
    "\"per_page\"",
    "0",
];

fn answers() -> impl Strategy<Value = Answer> {
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        prop::collection::vec(prop::sample::select(JSON), 0..60)
            .prop_map(|p| p.concat().into_bytes()),
    ];
    (
        prop::sample::select(vec![
            200u16, 201, 204, 301, 400, 401, 403, 404, 409, 413, 429, 500, 502, 503,
        ]),
        prop::sample::select(vec![
            "application/json",
            "text/html",
            "application/octet-stream",
            "",
        ]),
        body,
    )
        .prop_map(|(status, content_type, body)| Answer {
            status,
            content_type,
            body,
        })
}

async fn respond(answer: Arc<Mutex<Answer>>) -> Response {
    let a = answer.lock().unwrap().clone();
    let mut r = (StatusCode::from_u16(a.status).unwrap(), a.body).into_response();
    if !a.content_type.is_empty() {
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static(a.content_type));
    }
    // A long Retry-After must not make a client sleep: it gives up with a clear error.
    r.headers_mut()
        .insert("retry-after", HeaderValue::from_static("3600"));
    r
}

fn said_something(r: Result<impl std::fmt::Debug, AppError>) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        prop_assert!(
            !e.message.trim().is_empty(),
            "an error with no words: {e:?}"
        );
    }
    Ok(())
}

#[test]
fn every_client_survives_any_answer() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let answer = Arc::new(Mutex::new(Answer {
        status: 200,
        content_type: "application/json",
        body: b"{}".to_vec(),
    }));
    let base = rt.block_on(async {
        let a = answer.clone();
        let app = axum::Router::new().fallback(move || respond(a.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    });
    let http = HttpClient::new(HttpSettings {
        read_retries: 0,
        max_retry_after: Duration::from_millis(10),
        request_timeout: Duration::from_secs(5),
        ..HttpSettings::default()
    })
    .unwrap();
    let key = Secret::new("fuzz-key-value");
    let deploy = DeployApi::new(http.clone(), &base, key.clone());
    let auth = AuthApi::new(http.clone(), &base);
    let cf = CloudflareApi::new(
        http.clone(),
        &format!("{base}/client/v4"),
        "acc",
        key.clone(),
    );
    let request = DeployRequest {
        service: "gateway".into(),
        environment: Environment::Production,
        tier: None,
        version: None,
        script: "ZXhwb3J0IGRlZmF1bHQge30=".into(),
        bindings: Default::default(),
        metadata: DeploymentMetadata {
            commit: "abc".into(),
            branch: "main".into(),
            author: "a".into(),
            version: None,
        },
    };
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&answers(), |a| {
            *answer.lock().unwrap() = a;
            let started = Instant::now();
            rt.block_on(async {
                said_something(deploy.list(&DeploymentQuery::default()).await)?;
                said_something(deploy.deploy(&request).await)?;
                said_something(deploy.rollback("gateway", Environment::Production).await)?;
                said_something(deploy.health().await)?;
                said_something(auth.validate_key(&key).await)?;
                said_something(auth.permissions(&key, "user").await)?;
                said_something(cf.list_namespaces().await)?;
                said_something(cf.get_namespace("dotdo-production").await)?;
                said_something(cf.list_scripts("dotdo-production", &[]).await)?;
                said_something(cf.get_script("dotdo-production", "gateway").await)?;
                said_something(cf.script_content("dotdo-production", "gateway").await)?;
                said_something(cf.script_bindings("dotdo-production", "gateway").await)?;
                said_something(cf.script_settings("dotdo-production", "gateway").await)?;
                said_something(cf.verify_token().await)?;
                said_something(cf.create_tail("gateway").await)?;
                Ok::<(), TestCaseError>(())
            })?;
            prop_assert!(
                started.elapsed() < Duration::from_secs(10),
                "the calls took {:?}",
                started.elapsed()
            );
            Ok(())
        })
        .unwrap();
}
