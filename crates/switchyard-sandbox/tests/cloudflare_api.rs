//! The Cloudflare API subset over real HTTP: envelope, auth, namespaces, scripts and their
//! content, bindings, settings and tags, and the error codes.

mod common;

use common::{json_of, script_ids, start, TestSandbox};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn assert_envelope_ok(v: &Value) {
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["errors"], json!([]));
    assert!(v["messages"].is_array());
    assert!(v.get("result").is_some());
}

fn assert_error(status: StatusCode, v: &Value, want_status: StatusCode, code: u64) {
    assert_eq!(status, want_status, "{v}");
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["errors"][0]["code"], code, "{v}");
    assert!(v["errors"][0]["message"].is_string());
    assert_eq!(v["messages"], json!([]));
    assert_eq!(v["result"], Value::Null);
}

fn upload_form(metadata: Value, module: &str, source: &str) -> Form {
    Form::new()
        .part(
            "metadata",
            Part::text(metadata.to_string())
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            module.to_owned(),
            Part::bytes(source.as_bytes().to_vec())
                .file_name(module.to_owned())
                .mime_str("application/javascript+module")
                .unwrap(),
        )
}

async fn upload(s: &TestSandbox, ns: &str, name: &str, form: Form) -> (StatusCode, Value) {
    let r = s
        .http
        .put(s.ns(ns, &format!("/scripts/{name}")))
        .bearer_auth(&s.d.cloudflare_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    json_of(r).await
}

#[tokio::test]
async fn auth_is_required_and_errors_are_envelopes() {
    let s = start(true, false).await;
    let url = s.cf("/workers/dispatch/namespaces");
    let (st, v) = json_of(s.http.get(&url).send().await.unwrap()).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 9106);
    let (st, v) = json_of(s.http.get(&url).bearer_auth("wrong").send().await.unwrap()).await;
    assert_error(st, &v, StatusCode::UNAUTHORIZED, 10000);
    // The legacy key pair with the same secret works; without the email it does not.
    let r = s
        .http
        .get(&url)
        .header("X-Auth-Email", "me@example.com")
        .header("X-Auth-Key", &s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert_envelope_ok(&json_of(r).await.1);
    let r = s
        .http
        .get(&url)
        .header("X-Auth-Key", &s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Another account.
    let other = format!(
        "{}/accounts/ffffffffffffffffffffffffffffffff/workers/dispatch/namespaces",
        s.d.cloudflare_api_url
    );
    let (st, v) = s.cf_get(&other).await;
    assert_error(st, &v, StatusCode::FORBIDDEN, 9109);
    // Unknown route and wrong method.
    let (st, v) = s.cf_get(&s.cf("/workers/nothing-here")).await;
    assert_error(st, &v, StatusCode::NOT_FOUND, 7003);
    let (st, v) = s
        .cf_call(Method::POST, &s.ns("dotdo-production", "/scripts/gateway"))
        .await;
    assert_error(st, &v, StatusCode::METHOD_NOT_ALLOWED, 7001);
}

#[tokio::test]
async fn token_verify_user_and_account_variants() {
    let s = start(false, false).await;
    let user = format!("{}/user/tokens/verify", s.d.cloudflare_api_url);
    let (st, v) = s.cf_get(&user).await;
    assert_eq!(st, StatusCode::OK);
    assert_envelope_ok(&v);
    assert_eq!(v["result"]["status"], "active");
    assert_eq!(v["result"]["id"].as_str().unwrap().len(), 32);
    assert_eq!(v["messages"][0]["code"], 10000);
    let (st, v) = s.cf_get(&s.cf("/tokens/verify")).await;
    assert_eq!(
        (st, &v["result"]["status"]),
        (StatusCode::OK, &json!("active"))
    );
    for url in [user.clone(), s.cf("/tokens/verify")] {
        let (st, v) = json_of(s.http.get(&url).bearer_auth("nope").send().await.unwrap()).await;
        assert_error(st, &v, StatusCode::UNAUTHORIZED, 1000);
        assert_eq!(v["errors"][0]["message"], "Invalid API Token");
    }
}

#[tokio::test]
async fn namespaces_list_create_get_update_delete() {
    let s = start(true, false).await;
    let list_url = s.cf("/workers/dispatch/namespaces");
    let (st, v) = s.cf_get(&list_url).await;
    assert_eq!(st, StatusCode::OK);
    assert_envelope_ok(&v);
    let names: Vec<&str> = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["namespace_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["dotdo-production", "dotdo-staging", "dotdo-development"]
    );
    let prod = &v["result"][0];
    for key in [
        "namespace_id",
        "created_on",
        "modified_on",
        "created_by",
        "modified_by",
        "script_count",
        "trusted_workers",
    ] {
        assert!(prod.get(key).is_some(), "{key}");
    }
    assert_eq!(prod["namespace_id"].as_str().unwrap().len(), 36);
    assert_eq!(prod["script_count"], 9);
    assert_eq!(prod["trusted_workers"], false);

    let post = |body: Value| {
        s.http
            .post(&list_url)
            .bearer_auth(&s.d.cloudflare_token)
            .json(&body)
            .send()
    };
    let (st, v) = json_of(post(json!({"name": "Customer-NS"})).await.unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["result"]["namespace_name"], "Customer-NS");
    assert_eq!(v["result"]["script_count"], 0);
    let id = v["result"]["namespace_id"].clone();
    let (st, v) = json_of(post(json!({"name": "Customer-NS"})).await.unwrap()).await;
    assert_error(st, &v, StatusCode::CONFLICT, 10040);
    let (st, v) = json_of(post(json!({"name": ""})).await.unwrap()).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10004);
    let (st, v) = json_of(post(json!({"name": 12})).await.unwrap()).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10001);
    let r = s
        .http
        .post(&list_url)
        .bearer_auth(&s.d.cloudflare_token)
        .body("{oops")
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(r).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10001);
    // No name: one is made up.
    let (st, v) = json_of(post(json!({})).await.unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(v["result"]["namespace_name"]
        .as_str()
        .unwrap()
        .starts_with("namespace-"));

    let (st, v) = s.cf_get(&s.ns("Customer-NS", "")).await;
    assert_eq!((st, &v["result"]["namespace_id"]), (StatusCode::OK, &id));
    let (st, v) = s.cf_get(&s.ns("missing", "")).await;
    assert_error(st, &v, StatusCode::NOT_FOUND, 10007);

    // PUT sets trusted_workers (the docs' form), PATCH leaves omitted fields alone, PUT renames.
    let (st, v) = s
        .cf_json(
            Method::PUT,
            &s.ns("Customer-NS", ""),
            &json!({"name": "Customer-NS", "trusted_workers": true}),
        )
        .await;
    assert_eq!(
        (st, &v["result"]["trusted_workers"]),
        (StatusCode::OK, &json!(true))
    );
    let r = s
        .http
        .patch(s.ns("Customer-NS", ""))
        .bearer_auth(&s.d.cloudflare_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await.1["result"]["trusted_workers"], true);
    let (st, v) = s
        .cf_json(
            Method::PATCH,
            &s.ns("Customer-NS", ""),
            &json!({"trusted_workers": "yes"}),
        )
        .await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10001);
    let (st, v) = s
        .cf_json(
            Method::PUT,
            &s.ns("Customer-NS", ""),
            &json!({"name": "renamed"}),
        )
        .await;
    assert_eq!(
        (
            st,
            &v["result"]["namespace_name"],
            &v["result"]["namespace_id"]
        ),
        (StatusCode::OK, &json!("renamed"), &id)
    );
    let (st, v) = s
        .cf_json(
            Method::PUT,
            &s.ns("renamed", ""),
            &json!({"name": "dotdo-staging"}),
        )
        .await;
    assert_error(st, &v, StatusCode::CONFLICT, 10040);
    let (st, v) = s
        .cf_json(Method::PATCH, &s.ns("ghost", ""), &json!({}))
        .await;
    assert_error(st, &v, StatusCode::NOT_FOUND, 10007);

    // Delete takes the scripts with it.
    let (st, v) = s.cf_call(Method::DELETE, &s.ns("dotdo-staging", "")).await;
    assert_eq!(st, StatusCode::OK);
    assert_envelope_ok(&v);
    assert_eq!(v["result"], Value::Null);
    let (st, _) = s.cf_get(&s.ns("dotdo-staging", "/scripts")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        s.health_status("staging", "gateway").await,
        StatusCode::NOT_FOUND
    );
    let (st, v) = s.cf_call(Method::DELETE, &s.ns("dotdo-staging", "")).await;
    assert_error(st, &v, StatusCode::NOT_FOUND, 10007);
}

#[tokio::test]
async fn script_upload_get_content_bindings_settings_tags_delete() {
    let s = start(true, false).await;
    let source = "export default { fetch() { return new Response('ok') } }";
    let metadata = json!({
        "main_module": "worker.mjs",
        "compatibility_date": "2025-03-01",
        "compatibility_flags": ["nodejs_compat"],
        "tags": ["customer-123", "pro-plan"],
        "bindings": [{"type": "plain_text", "name": "GREETING", "text": "hi"},
                     {"type": "secret_text", "name": "TOKEN", "text": "s3cret"}],
    });
    let (st, v) = upload(
        &s,
        "dotdo-development",
        "customer-123",
        upload_form(metadata, "worker.mjs", source),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_envelope_ok(&v);
    let r = &v["result"];
    assert_eq!(r["id"], "customer-123");
    assert!(r["startup_time_ms"].is_u64());
    assert_eq!(r["deployment_id"].as_str().unwrap().len(), 36);
    assert_eq!(r["etag"].as_str().unwrap().len(), 64);
    assert_eq!(r["compatibility_date"], "2025-03-01");
    assert_eq!(r["has_modules"], true);
    let first_tag = r["tag"].clone();
    let first_created = r["created_on"].clone();

    let (st, got) = s
        .cf_get(&s.ns("dotdo-development", "/scripts/customer-123"))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(got["result"]["dispatch_namespace"], "dotdo-development");
    assert_eq!(got["result"]["script"]["id"], "customer-123");
    assert_eq!(
        got["result"]["script"]["tags"],
        json!(["customer-123", "pro-plan"])
    );

    let (st, body) = s.content("dotdo-development", "customer-123").await;
    assert_eq!((st, body.as_str()), (StatusCode::OK, source));

    let (_, b) = s
        .cf_get(&s.ns("dotdo-development", "/scripts/customer-123/bindings"))
        .await;
    assert_eq!(b["result"].as_array().unwrap().len(), 2);

    // Re-upload keeps tag and created_on, replaces bindings except the kept types.
    let (st, v) = upload(
        &s,
        "dotdo-development",
        "customer-123",
        upload_form(
            json!({"main_module": "w2.mjs", "keep_bindings": ["secret_text"], "bindings": []}),
            "w2.mjs",
            "// v2",
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["tag"], first_tag);
    assert_eq!(v["result"]["created_on"], first_created);
    let (_, b) = s
        .cf_get(&s.ns("dotdo-development", "/scripts/customer-123/bindings"))
        .await;
    assert_eq!(
        b["result"],
        json!([{"type": "secret_text", "name": "TOKEN", "text": "s3cret"}])
    );
    assert_eq!(
        s.content("dotdo-development", "customer-123").await.1,
        "// v2"
    );

    // Settings: get, patch as multipart `settings` part.
    let (st, set) = s
        .cf_get(&s.ns("dotdo-development", "/scripts/customer-123/settings"))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(set["result"]["usage_model"], "standard");
    let form = Form::new().part(
        "settings",
        Part::text(json!({"logpush": true, "tags": ["a"]}).to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    let r = s
        .http
        .patch(s.ns("dotdo-development", "/scripts/customer-123/settings"))
        .bearer_auth(&s.d.cloudflare_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (st, set) = json_of(r).await;
    assert_eq!(st, StatusCode::OK, "{set}");
    assert_eq!(set["result"]["logpush"], true);
    assert_eq!(set["result"]["tags"], json!(["a"]));

    // Tags: replace, add one, delete one, list.
    let tags_url = s.ns("dotdo-development", "/scripts/customer-123/tags");
    let r = s
        .http
        .put(&tags_url)
        .bearer_auth(&s.d.cloudflare_token)
        .json(&json!(["x", "y"]))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await.1["result"], json!(["x", "y"]));
    let r = s
        .http
        .put(format!("{tags_url}/z"))
        .bearer_auth(&s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await.1["result"], Value::Null);
    let r = s
        .http
        .delete(format!("{tags_url}/x"))
        .bearer_auth(&s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(s.cf_get(&tags_url).await.1["result"], json!(["y", "z"]));
    let (st, v) = s
        .cf_json(Method::PUT, &tags_url, &json!({"not": "an array"}))
        .await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10001);
    let nine: Vec<String> = (0..9).map(|i| format!("t{i}")).collect();
    let (st, v) = s.cf_json(Method::PUT, &tags_url, &nine).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 100103);

    // Delete.
    let (st, v) = s
        .cf_call(
            Method::DELETE,
            &s.ns("dotdo-development", "/scripts/customer-123"),
        )
        .await;
    assert_eq!((st, &v["result"]), (StatusCode::OK, &Value::Null));
    for path in ["", "/content", "/bindings", "/settings", "/tags"] {
        let (st, v) = s
            .cf_get(&s.ns("dotdo-development", &format!("/scripts/customer-123{path}")))
            .await;
        assert_error(st, &v, StatusCode::NOT_FOUND, 10007);
    }
    let (st, v) = s
        .cf_call(
            Method::DELETE,
            &s.ns("dotdo-development", "/scripts/customer-123"),
        )
        .await;
    assert_error(st, &v, StatusCode::NOT_FOUND, 10007);
}

#[tokio::test]
async fn put_content_replaces_modules_and_keeps_settings() {
    let s = start(true, false).await;
    let form = Form::new()
        .part(
            "metadata",
            Part::text(json!({"main_module": "index.mjs"}).to_string()),
        )
        .part(
            "index.mjs",
            Part::bytes(b"// replaced".to_vec())
                .file_name("index.mjs")
                .mime_str("application/javascript+module")
                .unwrap(),
        )
        .part(
            "util.mjs",
            Part::bytes(b"export const x = 1".to_vec())
                .file_name("util.mjs")
                .mime_str("application/javascript+module")
                .unwrap(),
        );
    let r = s
        .http
        .put(s.ns("dotdo-production", "/scripts/gateway/content"))
        .bearer_auth(&s.d.cloudflare_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(r).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, b) = s
        .cf_get(&s.ns("dotdo-production", "/scripts/gateway/bindings"))
        .await;
    assert!(!b["result"].as_array().unwrap().is_empty(), "bindings kept");
    // Two modules: the content comes back as multipart.
    let r = s
        .http
        .get(s.ns("dotdo-production", "/scripts/gateway/content"))
        .bearer_auth(&s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("multipart/form-data; boundary="));
    let body = r.text().await.unwrap();
    assert!(body.contains("// replaced") && body.contains("export const x = 1"));
}

#[tokio::test]
async fn upload_errors_have_cloudflare_codes() {
    let s = start(true, false).await;
    let ok_meta = json!({"main_module": "w.mjs"});
    // Invalid names.
    for bad in ["Upper", "-dash", "dot.name", &"a".repeat(64)] {
        let (st, v) = upload(
            &s,
            "dotdo-production",
            bad,
            upload_form(ok_meta.clone(), "w.mjs", "x"),
        )
        .await;
        assert_error(st, &v, StatusCode::BAD_REQUEST, 10016);
    }
    // Missing namespace.
    let (st, v) = upload(
        &s,
        "no-such-ns",
        "w",
        upload_form(ok_meta.clone(), "w.mjs", "x"),
    )
    .await;
    assert_error(st, &v, StatusCode::NOT_FOUND, 10007);
    // No metadata part, metadata not JSON, entry point naming nothing.
    let form = Form::new().part("w.mjs", Part::text("x").file_name("w.mjs"));
    let (st, v) = upload(&s, "dotdo-production", "w", form).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10021);
    let form = Form::new()
        .part("metadata", Part::text("{nope"))
        .part("w.mjs", Part::text("x").file_name("w.mjs"));
    let (st, v) = upload(&s, "dotdo-production", "w", form).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10021);
    let (st, v) = upload(
        &s,
        "dotdo-production",
        "w",
        upload_form(json!({"main_module": "other.mjs"}), "w.mjs", "x"),
    )
    .await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10006);
    let (st, v) = upload(
        &s,
        "dotdo-production",
        "w",
        upload_form(json!({}), "w.mjs", "x"),
    )
    .await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10021);
    let (st, v) = upload(
        &s,
        "dotdo-production",
        "w",
        upload_form(
            json!({"main_module": "w.mjs", "bindings": "nope"}),
            "w.mjs",
            "x",
        ),
    )
    .await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10021);
    let (st, v) = upload(
        &s,
        "dotdo-production",
        "w",
        upload_form(
            json!({"main_module": "w.mjs", "tags": ["a&b"]}),
            "w.mjs",
            "x",
        ),
    )
    .await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 100134);
    // Not multipart.
    let (st, v) = s
        .cf_json(
            Method::PUT,
            &s.ns("dotdo-production", "/scripts/w"),
            &json!({}),
        )
        .await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10001);
    // Too large.
    let big = "a".repeat(switchyard_sandbox::SCRIPT_SIZE_LIMIT + 1);
    let (st, v) = upload(
        &s,
        "dotdo-production",
        "w",
        upload_form(ok_meta.clone(), "w.mjs", &big),
    )
    .await;
    assert_error(st, &v, StatusCode::PAYLOAD_TOO_LARGE, 10027);
    // None of it was stored.
    let (st, _) = s.cf_get(&s.ns("dotdo-production", "/scripts/w")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The raw service-worker form is accepted.
    let r = s
        .http
        .put(s.ns("dotdo-production", "/scripts/w"))
        .bearer_auth(&s.d.cloudflare_token)
        .header("content-type", "application/javascript")
        .body("addEventListener('fetch', e => {})")
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(r).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["has_modules"], false);
}

#[tokio::test]
async fn script_list_filters_by_tag_and_pages_with_a_cursor() {
    let s = start(true, false).await;
    let (st, v) = s.cf_get(&s.ns("dotdo-production", "/scripts")).await;
    assert_eq!(st, StatusCode::OK);
    assert_envelope_ok(&v);
    let all = v["result"].as_array().unwrap();
    assert_eq!(all.len(), 9);
    assert!(all
        .iter()
        .all(|x| x["script"]["id"].is_string() && x["dispatch_namespace"] == "dotdo-production"));

    let (_, v) = s
        .cf_get(&s.ns("dotdo-production", "/scripts?tags=service:gateway:yes"))
        .await;
    let ids = script_ids(&v);
    assert_eq!(ids, ["gateway", "gateway-v2"]);
    let (_, v) = s
        .cf_get(&s.ns(
            "dotdo-production",
            "/scripts?tags=service:gateway:yes,version:v2:no",
        ))
        .await;
    assert_eq!(v["result"].as_array().unwrap().len(), 1);

    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let (st, v) = s
            .cf_get(&s.ns(
                "dotdo-production",
                &format!("/scripts?limit=4&cursor={cursor}"),
            ))
            .await;
        assert_eq!(st, StatusCode::OK);
        for x in v["result"].as_array().unwrap() {
            seen.push(x["script"]["id"].as_str().unwrap().to_owned());
        }
        cursor = v["result_info"]["cursor"].as_str().unwrap().to_owned();
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 9);
    for bad in ["0", "1001", "x", "99999999999999999999999"] {
        let (st, v) = s
            .cf_get(&s.ns("dotdo-production", &format!("/scripts?limit={bad}")))
            .await;
        assert_error(st, &v, StatusCode::BAD_REQUEST, 10004);
    }
    let (st, v) = s.cf_get(&s.ns("nope", "/scripts")).await;
    assert_error(st, &v, StatusCode::NOT_FOUND, 10007);

    // Bulk delete by tag.
    let (st, v) = s
        .cf_call(
            Method::DELETE,
            &s.ns("dotdo-production", "/scripts?tags=service:gateway:yes"),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["deleted_count"], 2);
    assert_eq!(v["result"]["has_more"], false);
    let (_, v) = s.cf_get(&s.ns("dotdo-production", "")).await;
    assert_eq!(v["result"]["script_count"], 7);
}

#[tokio::test]
async fn large_data_generator_fills_a_namespace() {
    let s = start(false, false).await;
    let report = s
        .sandbox
        .generate_large_data(&switchyard_sandbox::LargeDataSpec {
            scripts: vec![("dotdo-bench".into(), 1200)],
            deployments: 3000,
        })
        .await
        .unwrap();
    assert_eq!(
        (report.scripts_written, report.deployments_written),
        (1200, 3000)
    );
    let (_, v) = s.cf_get(&s.ns("dotdo-bench", "")).await;
    assert_eq!(v["result"]["script_count"], 1200);
    let (_, v) = s.cf_get(&s.ns("dotdo-bench", "/scripts?limit=1000")).await;
    assert_eq!(v["result"].as_array().unwrap().len(), 1000);
    assert!(!v["result_info"]["cursor"].as_str().unwrap().is_empty());
    let (_, v) = s.deployments("?limit=100").await;
    assert_eq!(v["total"], 100);
}

#[tokio::test]
async fn inherit_bindings_resolve_from_the_previous_version() {
    let s = start(true, false).await;
    let meta = json!({"main_module": "w.mjs", "bindings": [{"type": "plain_text", "name": "A", "text": "1"}, {"type": "kv_namespace", "name": "KV", "namespace_id": "abc"}]});
    assert_eq!(
        upload(
            &s,
            "dotdo-development",
            "inh",
            upload_form(meta, "w.mjs", "export default {};")
        )
        .await
        .0,
        StatusCode::OK
    );
    let url = s.ns(
        "dotdo-development",
        "/scripts/inh?bindings_inherit=strict&excludeScript=true",
    );
    let put = |meta: Value| {
        s.http
            .put(&url)
            .bearer_auth(&s.d.cloudflare_token)
            .multipart(upload_form(
                meta,
                "w.mjs",
                "export default { fetch() { return new Response('y'); } };",
            ))
            .send()
    };
    let (st, v) = json_of(put(json!({"main_module": "w.mjs", "bindings": [{"type": "inherit", "name": "KV"}, {"type": "inherit", "name": "B", "old_name": "A"}]})).await.unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, b) = s
        .cf_get(&s.ns("dotdo-development", "/scripts/inh/bindings"))
        .await;
    assert_eq!(
        b["result"],
        json!([{"type": "kv_namespace", "name": "KV", "namespace_id": "abc"}, {"type": "plain_text", "name": "B", "text": "1"}])
    );
    let (st, v) = json_of(
        put(json!({"main_module": "w.mjs", "bindings": [{"type": "inherit", "name": "GONE"}]}))
            .await
            .unwrap(),
    )
    .await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10021);
}

#[tokio::test]
async fn account_discovery_calls_answer_paged_lists() {
    let s = start(false, false).await;
    let (st, v) = s.cf_get(&format!("{}/user", s.d.cloudflare_api_url)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(v["result"]["email"].is_string());
    for path in ["/accounts", "/memberships"] {
        let (st, v) = s.cf_get(&format!("{}{path}", s.d.cloudflare_api_url)).await;
        assert_eq!(st, StatusCode::OK);
        assert_envelope_ok(&v);
        assert_eq!(v["result_info"]["total_count"], 1);
        let id = if path == "/accounts" {
            &v["result"][0]["id"]
        } else {
            &v["result"][0]["account"]["id"]
        };
        assert_eq!(id, &json!(s.d.account_id));
    }
}

#[tokio::test]
async fn framework_errors_are_envelopes_too() {
    let s = start(true, false).await;
    // A path segment that is not UTF-8.
    let (st, v) = s.cf_get(&s.ns("%FF", "")).await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10004);
    let (st, v) = s
        .cf_get(&s.ns("dotdo-production", "/scripts/%FF%FE/content"))
        .await;
    assert_error(st, &v, StatusCode::BAD_REQUEST, 10004);
    // Elsewhere the platform's own shape.
    let r = s
        .http
        .get(format!("{}/dispatcher/%FF/health", s.d.base_url))
        .send()
        .await
        .unwrap();
    let (st, v) = json_of(r).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["error"].is_string());
}

/// The script routes look their namespace and script up before anything else: each refuses a
/// missing one with the API's code (the secrets API words a missing namespace its own way), a
/// secret or tag is named by its path, and a secret's value never comes back.
#[tokio::test]
async fn script_routes_refuse_a_missing_namespace_or_script_and_name_their_secret_or_tag() {
    let s = start(true, false).await;
    let secrets = s.ns("dotdo-staging", "/scripts/gateway/secrets");
    for (url, status, code) in [
        (s.ns("ghost", "/scripts/gateway/secrets"), 404, 100119),
        (s.ns("dotdo-staging", "/scripts/ghost/secrets"), 404, 10007),
        (format!("{secrets}/NOT_SET"), 404, 10056),
        (s.ns("ghost", "/scripts/gateway/settings"), 404, 10007),
        (s.ns("dotdo-staging", "/scripts/ghost/tags"), 404, 10007),
    ] {
        let (st, v) = s.cf_get(&url).await;
        assert_error(st, &v, StatusCode::from_u16(status).unwrap(), code);
    }
    let (st, v) = s
        .cf_call(Method::DELETE, &format!("{secrets}/NOT_SET"))
        .await;
    assert_error(st, &v, StatusCode::NOT_FOUND, 10056);

    let body = json!({"name": "API_SECRET", "text": "s3cret-value", "type": "secret_text"});
    let (st, v) = s.cf_json(Method::PUT, &secrets, &body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = s.cf_get(&format!("{secrets}/API_SECRET")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["result"],
        json!({"name": "API_SECRET", "type": "secret_text"})
    );
    let (_, v) = s.cf_get(&secrets).await;
    assert_eq!(
        v["result"],
        json!([{"name": "API_SECRET", "type": "secret_text"}])
    );
    let (st, v) = s
        .cf_call(Method::DELETE, &format!("{secrets}/API_SECRET"))
        .await;
    assert_eq!((st, &v["result"]), (StatusCode::OK, &Value::Null), "{v}");
    assert_eq!(s.cf_get(&secrets).await.1["result"], json!([]));

    let tags = s.ns("dotdo-staging", "/scripts/gateway/tags");
    let (_, before) = s.cf_get(&tags).await;
    let (st, v) = s
        .cf_call(Method::PUT, &format!("{tags}/team:payments"))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v) = s.cf_get(&tags).await;
    let mut expected = before["result"].as_array().unwrap().clone();
    expected.push(json!("team:payments"));
    assert_eq!(v["result"], Value::Array(expected));
    let (st, v) = s
        .cf_call(Method::DELETE, &format!("{tags}/team:payments"))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(s.cf_get(&tags).await.1["result"], before["result"]);
}
