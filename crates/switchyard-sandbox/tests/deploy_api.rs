//! The Deploy API over real HTTP: auth on every route, deploy, rollback (marking and true),
//! deployments, health, and every bad request the contract names.

mod common;

use common::{b64, deploy_body, json_of, start};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn every_route_requires_a_key_with_deploy_permission() {
    let s = start(false, false).await;
    let base = &s.d.deploy_api_url;
    for (method, path) in [
        ("GET", "/health"),
        ("GET", "/"),
        ("GET", "/deployments"),
        ("POST", "/deploy"),
        ("POST", "/rollback"),
        ("GET", "/nope"),
    ] {
        let url = format!("{base}{path}");
        let req = |key: Option<&str>| {
            let r = s.http.request(method.parse().unwrap(), &url);
            match key {
                Some(k) => r.bearer_auth(k),
                None => r,
            }
        };
        let (st, v) = json_of(req(None).send().await.unwrap()).await;
        assert_eq!(
            (st, v),
            (
                StatusCode::UNAUTHORIZED,
                json!({"error": "Missing API key"})
            ),
            "{path}"
        );
        let (st, v) = json_of(req(Some("sk_not_a_key")).send().await.unwrap()).await;
        assert_eq!(
            (st, v),
            (
                StatusCode::UNAUTHORIZED,
                json!({"error": "Invalid API key"})
            ),
            "{path}"
        );
        let (st, v) = json_of(req(Some(&s.d.readonly_key)).send().await.unwrap()).await;
        assert_eq!(
            (st, v),
            (
                StatusCode::FORBIDDEN,
                json!({"error": "Insufficient permissions - deploy permission required"})
            ),
            "{path}"
        );
    }
    // A non-Bearer scheme is no key at all.
    let r = s
        .http
        .get(format!("{base}/health"))
        .header("Authorization", format!("Basic {}", s.d.deploy_key))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await.1, json!({"error": "Missing API key"}));
}

#[tokio::test]
async fn health_and_info_answer_with_a_valid_key() {
    let s = start(false, false).await;
    let (st, v) = s.deploy_api(Method::GET, "/health").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["service"], "deploy");
    assert!(chrono::DateTime::parse_from_rfc3339(v["timestamp"].as_str().unwrap()).is_ok());
    let (st, v) = s.deploy_api(Method::GET, "/").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["service"], "deploy");
    assert_eq!(v["version"], "1.0.0");
    assert!(v["endpoints"].is_object());
}

#[tokio::test]
async fn deploy_uploads_into_the_environment_namespace_and_records_it() {
    let s = start(true, false).await;
    let script = "export default { fetch() { return new Response('hi') } }";
    let v = s.deploy("mcp", "staging", script).await;
    assert_eq!(v["success"], true);
    assert_eq!(v["message"], "Deployment successful");
    let d = &v["deployment"];
    let id = d["id"].as_str().unwrap();
    let parts: Vec<&str> = id.split('_').collect();
    assert_eq!(parts[0], "deploy");
    assert!(parts[1].parse::<u64>().is_ok());
    assert!(parts[2].len() == 8 && parts[2].chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(d["service"], "mcp");
    assert_eq!(d["environment"], "staging");
    assert_eq!(d["tier"], Value::Null);
    assert_eq!(d["version"], Value::Null);
    assert_eq!(d["namespace"], "dotdo-staging");
    assert_eq!(d["namespaceMode"], "environment");
    assert_eq!(d["status"], "deployed");
    assert_eq!(d["url"], "https://mcp.staging.do");
    assert_eq!(d["versionTag"], "v1.0.0");
    assert_eq!(d["metadata"]["author"], "test@example.com");
    assert!(chrono::DateTime::parse_from_rfc3339(d["timestamp"].as_str().unwrap()).is_ok());

    // The script is in the namespace as an ES module with the documented tags.
    let (st, body) = s.content("dotdo-staging", "mcp").await;
    assert_eq!((st, body.as_str()), (StatusCode::OK, script));
    let (_, got) = s.cf_get(&s.ns("dotdo-staging", "/scripts/mcp")).await;
    assert_eq!(got["result"]["script"]["entry_point"], "mcp.mjs");
    assert_eq!(got["result"]["script"]["compatibility_date"], "2025-01-01");
    let tags = got["result"]["script"]["tags"].as_array().unwrap();
    for t in [
        "service:mcp",
        "env:staging",
        "commit:0123456789abcdef0123456789abcdef01234567",
        "branch:main",
    ] {
        assert!(tags.contains(&json!(t)), "{t} in {tags:?}");
    }
    let (_, b) = s
        .cf_get(&s.ns("dotdo-staging", "/scripts/mcp/bindings"))
        .await;
    assert!(b["result"]
        .as_array()
        .unwrap()
        .contains(&json!({"type": "service", "name": "DB_SERVICE", "service": "db"})));

    // Newest first, recorded.
    let (_, list) = s
        .deployments("?service=mcp&environment=staging&limit=1")
        .await;
    assert_eq!(list["deployments"][0]["id"], id);
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn versioned_deploy_uses_service_dash_version_and_commit_as_tag() {
    let s = start(true, false).await;
    let mut body = deploy_body(
        "gateway",
        "production",
        &common::healthy_worker("gateway v3"),
        Some("v3"),
    );
    body["metadata"].as_object_mut().unwrap().remove("version");
    let (st, v) = s.deploy_raw(&body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["deployment"]["version"], "v3");
    assert_eq!(v["deployment"]["url"], "https://v3.gateway.do");
    assert_eq!(v["deployment"]["versionTag"], "0123456");
    assert_eq!(
        s.content("dotdo-production", "gateway-v3").await.0,
        StatusCode::OK
    );
    let url = format!("{}/services/production/v3.gateway/health", s.d.base_url);
    assert_eq!(
        s.http.get(url).send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_deploy_requests_get_the_contract_errors() {
    let s = start(true, false).await;
    let url = format!("{}/deploy", s.d.deploy_api_url);
    let post_raw = |body: Vec<u8>| {
        s.http
            .post(&url)
            .bearer_auth(&s.d.deploy_key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    // Not JSON at all.
    let (st, v) = json_of(post_raw(b"{not json".to_vec()).await.unwrap()).await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(v["error"], "Deployment failed");
    assert!(v["message"].is_string());
    let (st, v) = json_of(post_raw(Vec::new()).await.unwrap()).await;
    assert_eq!(
        (st, &v["error"]),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!("Deployment failed")
        )
    );

    let good = deploy_body("gateway", "production", "export default {}", None);
    let cases: Vec<(Value, &str)> = vec![
        (json!([1, 2]), "JSON object"),
        (
            {
                let mut v = good.clone();
                v["service"] = json!("billing");
                v
            },
            "Invalid service",
        ),
        (
            {
                let mut v = good.clone();
                v["service"] = json!(7);
                v
            },
            "service must be a string",
        ),
        (
            {
                let mut v = good.clone();
                v.as_object_mut().unwrap().remove("service");
                v
            },
            "service is required",
        ),
        (
            {
                let mut v = good.clone();
                v["environment"] = json!("prod");
                v
            },
            "Invalid environment",
        ),
        (
            {
                let mut v = good.clone();
                v["script"] = json!("");
                v
            },
            "script must not be empty",
        ),
        (
            {
                let mut v = good.clone();
                v["script"] = json!("%%%not base64%%%");
                v
            },
            "base64",
        ),
        (
            {
                let mut v = good.clone();
                v["script"] = json!(["a"]);
                v
            },
            "script must be a string",
        ),
        (
            {
                let mut v = good.clone();
                v["bindings"] = json!("db");
                v
            },
            "bindings must be an object",
        ),
        (
            {
                let mut v = good.clone();
                v["bindings"] = json!({"DB": 1});
                v
            },
            "bindings.DB",
        ),
        (
            {
                let mut v = good.clone();
                v.as_object_mut().unwrap().remove("metadata");
                v
            },
            "metadata is required",
        ),
        (
            {
                let mut v = good.clone();
                v["metadata"]["commit"] = json!("");
                v
            },
            "metadata.commit must not be empty",
        ),
        (
            {
                let mut v = good.clone();
                v["metadata"]["branch"] = json!(null);
                v
            },
            "metadata.branch is required",
        ),
        (
            {
                let mut v = good.clone();
                v["metadata"]["author"] = json!(false);
                v
            },
            "metadata.author must be a string",
        ),
        (
            {
                let mut v = good.clone();
                v["tier"] = json!("gold");
                v
            },
            "Invalid tier",
        ),
    ];
    for (body, expected) in cases {
        let (st, v) = s.deploy_raw(&body).await;
        assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        let msg = v["error"].as_str().unwrap_or_default();
        assert!(msg.contains(expected), "{expected:?} not in {v}");
        assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
    }

    // An invalid worker name is Cloudflare's upload error, and the deployment is recorded failed.
    let (st, v) = s
        .deploy_raw(&deploy_body("db", "production", "x", Some("v1.0")))
        .await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(v["error"].as_str().unwrap().contains("10016"), "{v}");
    let (_, list) = s
        .deployments("?service=db&environment=production&limit=1")
        .await;
    assert_eq!(list["deployments"][0]["status"], "failed");
    assert_eq!(list["deployments"][0]["version"], "v1.0");

    // Oversize script: Cloudflare's 10027, no panic, no hang.
    let big = "a".repeat(switchyard_sandbox::SCRIPT_SIZE_LIMIT + 1);
    let (st, v) = s
        .deploy_raw(&deploy_body("queue", "staging", &big, None))
        .await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(v["error"].as_str().unwrap().contains("10027"), "{v}");

    // Nothing of the failures reached the namespace.
    assert_eq!(
        s.content("dotdo-production", "db-v1.0").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn deploy_to_a_deleted_namespace_fails_and_is_recorded() {
    let s = start(false, false).await;
    let (st, v) = s
        .deploy_raw(&deploy_body("auth", "development", "x", None))
        .await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        v["error"].as_str().unwrap().contains("dotdo-development"),
        "{v}"
    );
    let (_, list) = s.deployments("?service=auth").await;
    assert_eq!(list["deployments"][0]["status"], "failed");
}

#[tokio::test]
async fn deployments_filter_limit_and_order() {
    let s = start(true, false).await;
    let (st, all) = s.deployments("").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(all["success"], true);
    let list = all["deployments"].as_array().unwrap();
    assert_eq!(all["total"].as_u64().unwrap() as usize, list.len());
    assert!(list.len() <= 50 && list.len() > 10);
    let times: Vec<&str> = list
        .iter()
        .map(|d| d["timestamp"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let (_, f) = s
        .deployments("?service=db&environment=staging&limit=100")
        .await;
    let f = f["deployments"].as_array().unwrap();
    assert!(!f.is_empty());
    assert!(f
        .iter()
        .all(|d| d["service"] == "db" && d["environment"] == "staging"));
    let (_, one) = s.deployments("?limit=1").await;
    assert_eq!(one["total"], 1);
    let (_, max) = s.deployments("?limit=100").await;
    assert!(max["total"].as_u64().unwrap() >= all["total"].as_u64().unwrap());

    for bad in ["0", "101", "1000000000000000000000", "-1", "ten", "1.5"] {
        let (st, v) = s.deployments(&format!("?limit={bad}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
        assert!(v["error"].as_str().unwrap().contains("limit"), "{v}");
    }
    let (st, v) = s.deployments("?service=nothing").await;
    assert_eq!((st, v["total"].as_u64()), (StatusCode::OK, Some(0)));
}

#[tokio::test]
async fn marking_rollback_returns_previous_and_keeps_serving_the_newest() {
    let s = start(false, false).await;
    let created = s
        .http
        .post(format!(
            "{}/client/v4/accounts/{}/workers/dispatch/namespaces",
            s.d.base_url, s.d.account_id
        ))
        .bearer_auth(&s.d.cloudflare_token)
        .json(&json!({"name": "dotdo-production"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);

    let (st, v) = s.rollback("gateway", "production").await;
    assert_eq!(
        (st, v),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "No previous deployment found"})
        )
    );
    let good = s
        .deploy(
            "gateway",
            "production",
            &common::healthy_worker("gateway v1"),
        )
        .await;
    let (st, _) = s.rollback("gateway", "production").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "one deployment is not enough");

    let bad_source = switchyard_sandbox::broken_worker_source("gateway", "v2");
    let bad = s.deploy("gateway", "production", &bad_source).await;
    assert_eq!(
        s.health_status("production", "gateway").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );

    let (st, v) = s.rollback("gateway", "production").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["success"], true);
    assert_eq!(v["message"], "Rollback successful");
    assert_eq!(v["deployment"]["id"], good["deployment"]["id"]);
    assert_eq!(v["deployment"]["status"], "deployed");

    let (_, list) = s.deployments("?service=gateway&limit=5").await;
    assert_eq!(list["deployments"][0]["id"], bad["deployment"]["id"]);
    assert_eq!(list["deployments"][0]["status"], "rolled_back");
    // As the published service: the old script is NOT uploaded again.
    assert_eq!(s.content("dotdo-production", "gateway").await.1, bad_source);
    assert_eq!(
        s.health_status("production", "gateway").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    // Only one deployed record is left.
    assert_eq!(
        s.rollback("gateway", "production").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn true_rollback_serves_the_previous_script_again() {
    let s = start(true, true).await;
    let good_source = common::healthy_worker("good db");
    let good = s.deploy("db", "production", &good_source).await;
    let bad_source = switchyard_sandbox::broken_worker_source("db", "v2");
    s.deploy("db", "production", &bad_source).await;
    assert_eq!(
        s.health_status("production", "db").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(s.content("dotdo-production", "db").await.1, bad_source);

    let (st, v) = s.rollback("db", "production").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["deployment"]["id"], good["deployment"]["id"]);
    assert_eq!(s.content("dotdo-production", "db").await.1, good_source);
    assert_eq!(s.health_status("production", "db").await, StatusCode::OK);
    // Staging is untouched.
    assert_eq!(s.health_status("staging", "db").await, StatusCode::OK);
}

#[tokio::test]
async fn bad_rollback_requests_get_errors() {
    let s = start(true, false).await;
    let url = format!("{}/rollback", s.d.deploy_api_url);
    let r = s
        .http
        .post(&url)
        .bearer_auth(&s.d.deploy_key)
        .body("nope")
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(r).await;
    assert_eq!(
        (st, &v["error"]),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!("Deployment failed")
        )
    );
    for body in [
        json!({"service": "zzz", "environment": "production"}),
        json!({"service": "db"}),
        json!({"service": 1, "environment": "staging"}),
    ] {
        let r = s
            .http
            .post(&url)
            .bearer_auth(&s.d.deploy_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let (st, v) = json_of(r).await;
        assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert!(v["error"].is_string());
    }
}

#[tokio::test]
async fn body_is_json_whatever_the_content_type_and_wrapped_base64_is_accepted() {
    let s = start(true, false).await;
    // `base64` wraps at 76 columns; the runbook pastes that into a JSON string.
    let script = "export default { async fetch() { return new Response('a long enough body to wrap the base64 output') } }";
    let encoded = b64(script);
    let wrapped: String = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(wrapped.contains('\n'));
    let body = format!(
        "{{\"service\": \"email\", \"environment\": \"production\", \"script\": \"{wrapped}\", \"metadata\": {{\"commit\": \"abc1234def\", \"branch\": \"main\", \"author\": \"a@b.c\"}}}}"
    );
    let r = s
        .http
        .post(format!("{}/deploy", s.d.deploy_api_url))
        .bearer_auth(&s.d.deploy_key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(r).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(s.content("dotdo-production", "email").await.1, script);
}

#[tokio::test]
async fn true_rollback_can_be_switched_while_running() {
    let s = start(false, false).await;
    s.create_namespace("dotdo-staging").await;
    let settings = format!("{}/__sandbox/settings", s.d.base_url);
    let (st, v) = json_of(s.http.get(&settings).send().await.unwrap()).await;
    assert_eq!((st, v), (StatusCode::OK, json!({"true_rollback": false})));
    let (st, v) = json_of(
        s.http
            .put(&settings)
            .json(&json!({"true_rollback": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((st, v), (StatusCode::OK, json!({"true_rollback": true})));
    assert!(s.sandbox.true_rollback());
    for bad in [
        json!({"true_rollback": "yes"}),
        json!({"other": 1}),
        json!([]),
    ] {
        let r = s.http.put(&settings).json(&bad).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    s.deploy("auth", "staging", "// one").await;
    s.deploy("auth", "staging", "// two").await;
    s.deploy("auth", "staging", "// three").await;
    assert_eq!(s.rollback("auth", "staging").await.0, StatusCode::OK);
    assert_eq!(s.content("dotdo-staging", "auth").await.1, "// two");
    s.sandbox.set_true_rollback(false);
    assert_eq!(
        s.rollback("auth", "staging").await.1["deployment"]["metadata"]["version"],
        "v1.0.0"
    );
    assert_eq!(
        s.content("dotdo-staging", "auth").await.1,
        "// two",
        "marking only"
    );
    let (_, list) = s.deployments("?service=auth").await;
    let statuses: Vec<&str> = list["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["rolled_back", "rolled_back", "deployed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deploys_and_reads_all_succeed() {
    let s = std::sync::Arc::new(start(true, false).await);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let service = switchyard_core::DEFAULT_SERVICES[i % 8];
            let env = ["production", "staging"][i % 2];
            let (st, v) = s
                .deploy_raw(&deploy_body(service, env, &format!("// build {i}"), None))
                .await;
            assert_eq!(st, StatusCode::OK, "{v}");
            let (st, v) = s.deployments(&format!("?service={service}&limit=5")).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            let (st, _) = s.cf_get(&s.ns(&format!("dotdo-{env}"), "/scripts")).await;
            assert_eq!(st, StatusCode::OK);
        }));
    }
    for t in tasks {
        tokio::time::timeout(std::time::Duration::from_secs(60), t)
            .await
            .unwrap()
            .unwrap();
    }
    let (_, v) = s.deployments("?limit=100").await;
    let new = v["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["metadata"]["author"] == "test@example.com")
        .count();
    assert_eq!(new, 24);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rollbacks_each_step_back_once() {
    let s = std::sync::Arc::new(start(false, true).await);
    s.create_namespace("dotdo-production").await;
    for i in 0..5 {
        s.deploy("webhooks", "production", &format!("// v{i}"))
            .await;
    }
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.rollback("webhooks", "production").await })
        })
        .collect();
    let mut returned = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (st, v) = tokio::time::timeout(std::time::Duration::from_secs(60), t)
            .await
            .unwrap()
            .unwrap();
        match st {
            StatusCode::OK => returned.push(v["deployment"]["id"].as_str().unwrap().to_owned()),
            StatusCode::BAD_REQUEST => refused += 1,
            other => panic!("{other}: {v}"),
        }
    }
    // Five deployments allow four rollbacks; each returns a different previous deployment.
    assert_eq!((returned.len(), refused), (4, 2));
    returned.sort();
    returned.dedup();
    assert_eq!(returned.len(), 4);
    assert_eq!(s.content("dotdo-production", "webhooks").await.1, "// v0");
}
