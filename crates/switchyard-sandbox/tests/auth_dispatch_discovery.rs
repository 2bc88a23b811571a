//! The auth service, the dispatcher's routing rules, services' health, and the discovery file.

mod common;

use common::{json_of, start};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn auth_validates_keys_and_grants_permissions() {
    let s = start(false, false).await;
    let a = &s.d.auth_url;
    let (st, v) = json_of(s.http.get(format!("{a}/health")).send().await.unwrap()).await;
    assert_eq!(
        (st, &v["status"], &v["service"]),
        (StatusCode::OK, &json!("ok"), &json!("auth"))
    );
    assert!(v["timestamp"].is_string());

    let validate = format!("{a}/apikeys/validate");
    let (st, v) = json_of(
        s.http
            .get(&validate)
            .bearer_auth(&s.d.deploy_key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["valid"], true);
    assert_eq!(v["userId"], s.d.deploy_user_id);
    assert!(v["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["resource"] == "deployments" && p["action"] == "create"));
    let (st, v) = json_of(
        s.http
            .get(&validate)
            .bearer_auth(&s.d.readonly_key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &v["userId"]),
        (StatusCode::OK, &json!(s.d.readonly_user_id))
    );
    assert!(!v["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["action"] == "create"));
    let (st, v) = json_of(
        s.http
            .get(&validate)
            .bearer_auth("sk_bogus")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &v["error"]),
        (StatusCode::UNAUTHORIZED, &json!("Invalid API key"))
    );
    let (st, _) = json_of(s.http.get(&validate).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // The runbook's fix for "Insufficient permissions": grant, verify, and the key now deploys.
    let health = format!("{}/health", s.d.deploy_api_url);
    assert_eq!(
        s.http
            .get(&health)
            .bearer_auth(&s.d.readonly_key)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let grant =
        json!({"userId": s.d.readonly_user_id, "resource": "deployments", "action": "create"});
    let (st, v) = json_of(
        s.http
            .post(format!("{a}/permissions"))
            .json(&grant)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, &v["success"]), (StatusCode::OK, &json!(true)));
    let (st, v) = json_of(
        s.http
            .get(format!("{a}/permissions/{}", s.d.readonly_user_id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(v["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["resource"] == "deployments" && p["action"] == "create"));
    assert_eq!(
        s.http
            .get(&health)
            .bearer_auth(&s.d.readonly_key)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // Bad requests.
    let (st, _) = json_of(
        s.http
            .post(format!("{a}/permissions"))
            .body("{bad")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = json_of(
        s.http
            .post(format!("{a}/permissions"))
            .json(&json!({"userId": 5, "resource": "x", "action": "y"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, v) = json_of(
        s.http
            .post(format!("{a}/permissions"))
            .json(&json!({"userId": "ghost", "resource": "x", "action": "y"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &v["error"]),
        (StatusCode::NOT_FOUND, &json!("User not found"))
    );
    let (st, _) = json_of(
        s.http
            .get(format!("{a}/permissions/ghost"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dispatcher_routes_by_host_and_path_as_the_contract_says() {
    let s = start(true, false).await;
    let prod = s.d.dispatcher_url.clone();
    let get_host = |url: String, host: &'static str| s.http.get(url).header("Host", host).send();

    let (st, v) = json_of(s.http.get(format!("{prod}/health")).send().await.unwrap()).await;
    assert_eq!(
        (st, &v["status"], &v["service"]),
        (StatusCode::OK, &json!("ok"), &json!("dispatcher"))
    );

    for (host, service) in [
        ("gateway.do", "gateway"),
        ("db.do", "db"),
        ("do", "gateway"),
        ("api.do", "gateway"),
        ("queue.do:443", "queue"),
    ] {
        let r = get_host(format!("{prod}/health"), host).await.unwrap();
        let worker = r.headers()["x-sandbox-worker"].to_str().unwrap().to_owned();
        let (st, v) = json_of(r).await;
        assert_eq!(
            (st, v),
            (StatusCode::OK, json!({"status": "ok", "service": service})),
            "{host}"
        );
        assert_eq!(worker, service);
    }
    let r = get_host(format!("{prod}/health"), "v2.gateway.do")
        .await
        .unwrap();
    assert_eq!(r.headers()["x-sandbox-worker"], "gateway-v2");
    let (st, v) = json_of(
        s.http
            .get(format!("{prod}/api/email/health"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, &v["service"]), (StatusCode::OK, &json!("email")));

    // Unknown service, known but not deployed (versioned, extra, or in another namespace).
    let (st, v) = json_of(
        get_host(format!("{prod}/health"), "billing.do")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &v["error"]),
        (StatusCode::NOT_FOUND, &json!("Service not found"))
    );
    assert!(v["available_services"]
        .as_array()
        .unwrap()
        .contains(&json!("workflows")));
    let (st, v) = json_of(s.http.get(format!("{prod}/anything")).send().await.unwrap()).await;
    assert_eq!(
        (st, &v["error"]),
        (StatusCode::NOT_FOUND, &json!("Service not found"))
    );
    let (st, v) = json_of(
        get_host(format!("{prod}/health"), "v9.gateway.do")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        v,
        json!({"error": "Service not deployed", "message": "Worker \"gateway-v9\" not found in production namespace", "hint": "Service may not be deployed yet. Deploy via Deploy API."})
    );
    let (st, v) = json_of(
        s.http
            .get(format!("{prod}/api/agent/health"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &v["error"]),
        (StatusCode::NOT_FOUND, &json!("Service not deployed"))
    );
    let dev =
        s.d.dispatcher_url_for(switchyard_core::Environment::Development);
    let (st, v) = json_of(
        s.http
            .get(format!("{dev}/api/email/health"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        v["message"],
        "Worker \"email\" not found in development namespace"
    );
    let (st, _) = json_of(
        s.http
            .get(format!("{}/dispatcher/prod/health", s.d.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Host routing at the root picks the environment from the hostname.
    let (st, v) = json_of(
        get_host(format!("{}/health", s.d.base_url), "db.staging.do")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, &v["service"]), (StatusCode::OK, &json!("db")));
    let (st, _) = json_of(
        get_host(format!("{}/health", s.d.base_url), "email.development.do")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Service URLs from the discovery template.
    let url =
        s.d.service_url(switchyard_core::Environment::Staging, "webhooks");
    let (st, v) = json_of(s.http.get(format!("{url}/health")).send().await.unwrap()).await;
    assert_eq!(
        (st, v),
        (
            StatusCode::OK,
            json!({"status": "ok", "service": "webhooks"})
        )
    );
    let (st, v) = json_of(s.http.get(format!("{url}/")).send().await.unwrap()).await;
    assert_eq!((st, &v["worker"]), (StatusCode::OK, &json!("webhooks")));
    assert_eq!(
        s.http
            .get(format!("{url}/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn health_follows_deploys_and_deletes() {
    let s = start(false, false).await;
    s.create_namespace("dotdo-production").await;
    assert_eq!(
        s.health_status("production", "schedule").await,
        StatusCode::NOT_FOUND
    );
    s.deploy(
        "schedule",
        "production",
        &common::healthy_worker("schedule"),
    )
    .await;
    assert_eq!(
        s.health_status("production", "schedule").await,
        StatusCode::OK
    );
    assert_eq!(
        s.health_status("staging", "schedule").await,
        StatusCode::NOT_FOUND
    );
    let r = s
        .http
        .delete(s.ns("dotdo-production", "/scripts/schedule"))
        .bearer_auth(&s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s.health_status("production", "schedule").await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn discovery_is_written_and_matches_the_running_sandbox() {
    let s = start(true, false).await;
    let file = switchyard_sandbox::read_discovery(s.dir.path()).unwrap();
    assert_eq!(&file, s.sandbox.discovery());
    assert!(file.base_url.starts_with("http://127.0.0.1:"));
    assert_eq!(
        file.cloudflare_api_url,
        format!("{}/client/v4", file.base_url)
    );
    assert_eq!(file.account_id.len(), 32);
    assert!(file.deploy_key.starts_with("sk_") && file.readonly_key.starts_with("sk_"));
    assert_ne!(file.deploy_key, file.readonly_key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.dir.path().join("sandbox.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "discovery holds keys: owner-only");
    }
    let (st, v) = json_of(
        s.http
            .get(format!("{}/", file.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &v["service_url_template"]),
        (StatusCode::OK, &json!(file.service_url_template))
    );
    let (st, _) = json_of(
        s.http
            .get(format!("{}/elsewhere", file.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn listens_on_loopback_only_and_shuts_down() {
    let s = start(false, false).await;
    let port: u16 = s.d.base_url.rsplit(':').next().unwrap().parse().unwrap();
    let base = s.d.base_url.clone();
    s.sandbox.shutdown().await;
    let r = common::client().get(format!("{base}/")).send().await;
    assert!(r.is_err(), "nothing listens after shutdown");
    // The port is free again (it was bound on 127.0.0.1).
    let again = std::net::TcpListener::bind(("127.0.0.1", port));
    assert!(again.is_ok());
}

#[tokio::test]
async fn a_taken_port_is_an_error_not_a_panic() {
    let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let err = switchyard_sandbox::Sandbox::start(switchyard_sandbox::SandboxConfig {
        port,
        ..switchyard_sandbox::SandboxConfig::new(dir.path())
    })
    .await
    .unwrap_err();
    assert!(
        format!("{err:#}").contains(&format!("127.0.0.1:{port}")),
        "{err:#}"
    );
}

#[tokio::test]
async fn info_routes_and_unknown_paths_answer_json() {
    let s = start(true, false).await;
    let (st, v) = json_of(
        s.http
            .get(format!("{}/", s.d.auth_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, &v["service"]), (StatusCode::OK, &json!("auth")));
    let (st, v) = json_of(
        s.http
            .get(format!("{}/nope", s.d.auth_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, v),
        (StatusCode::NOT_FOUND, json!({"error": "Not found"}))
    );
    let r = s
        .http
        .get(format!("{}/nope", s.d.deploy_api_url))
        .bearer_auth(&s.d.deploy_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(r).await,
        (StatusCode::NOT_FOUND, json!({"error": "Not found"}))
    );
    let (st, v) = s.deploy_api(Method::DELETE, "/health").await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    assert!(v["error"].is_string());
    let (st, _) = json_of(
        s.http
            .get(format!("{}/__sandbox/nope", s.d.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Bulk delete by tag needs the tags parameter.
    let (st, v) = s
        .cf_call(Method::DELETE, &s.ns("dotdo-production", "/scripts"))
        .await;
    assert_eq!(
        (st, &v["errors"][0]["code"]),
        (StatusCode::BAD_REQUEST, &json!(10003))
    );
    // Settings accept a plain JSON patch too, and check bindings.
    let url = s.ns("dotdo-production", "/scripts/db/settings");
    let r = s
        .http
        .patch(&url)
        .bearer_auth(&s.d.cloudflare_token)
        .json(&json!({"compatibility_date": "2025-06-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(r).await.1["result"]["compatibility_date"],
        "2025-06-01"
    );
    let (st, v) = s
        .cf_json(Method::PATCH, &url, &json!({"bindings": [{"nope": 1}]}))
        .await;
    assert_eq!(
        (st, &v["errors"][0]["code"]),
        (StatusCode::BAD_REQUEST, &json!(10021))
    );
}
