//! Versions and deployments of namespaced workers (Workers for Platforms versioning), over real
//! HTTP, with the versions really executing in workerd: a plain upload is a version deployed at
//! 100 %; a version uploaded on its own moves no traffic; a 10/90 split holds over 1,000
//! requests; `Cloudflare-Workers-Version-Overrides` pins a request and
//! `Cloudflare-Workers-Version-Key` keeps it on one version, and neither reaches the code; bad
//! deployments are refused with clear messages; deleting a script or a namespace removes its
//! versions.
//!
//! These need workerd: `cargo xtask setup` installs it (or set `SWITCHYARD_WORKERD`).

mod common;

use std::collections::HashMap;

use common::{json_of, live, module_form, TestSandbox};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};

const NS: &str = "dotdo-development";
const WORKER: &str = "gateway";

/// A worker that answers with its label and the request headers it received.
fn echo_worker(label: &str) -> String {
    format!(
        "export default {{\n  async fetch(request) {{\n    return Response.json({{ label: {label:?}, headers: Object.fromEntries(request.headers) }});\n  }},\n}};\n"
    )
}

fn script_url(s: &TestSandbox, ns: &str, script: &str, rest: &str) -> String {
    s.ns(ns, &format!("/scripts/{script}{rest}"))
}

async fn put_script(s: &TestSandbox, ns: &str, script: &str, source: &str) -> Value {
    let (st, v) = json_of(
        s.http
            .put(script_url(s, ns, script, ""))
            .bearer_auth(&s.d.cloudflare_token)
            .multipart(module_form(
                source,
                json!({"compatibility_date": "2025-01-01"}),
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["result"].clone()
}

async fn upload_version_raw(
    s: &TestSandbox,
    ns: &str,
    script: &str,
    source: &str,
    message: &str,
) -> (StatusCode, Value) {
    json_of(
        s.http
            .post(script_url(s, ns, script, "/versions"))
            .bearer_auth(&s.d.cloudflare_token)
            .multipart(module_form(
                source,
                json!({"annotations": {"workers/message": message}}),
            ))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn upload_version(s: &TestSandbox, ns: &str, script: &str, source: &str) -> String {
    let (st, v) = upload_version_raw(s, ns, script, source, "a version").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["result"]["id"].as_str().unwrap().to_owned()
}

async fn deploy_raw(s: &TestSandbox, ns: &str, script: &str, body: Value) -> (StatusCode, Value) {
    json_of(
        s.http
            .post(script_url(s, ns, script, "/deployments"))
            .bearer_auth(&s.d.cloudflare_token)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn deploy(s: &TestSandbox, ns: &str, script: &str, split: &[(&str, f64)]) -> Value {
    let versions: Vec<Value> = split
        .iter()
        .map(|(id, p)| json!({"version_id": id, "percentage": p}))
        .collect();
    let (st, v) = deploy_raw(
        s,
        ns,
        script,
        json!({"strategy": "percentage", "versions": versions}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["result"].clone()
}

async fn deployments(s: &TestSandbox, ns: &str, script: &str) -> Vec<Value> {
    let (st, v) = s.cf_get(&script_url(s, ns, script, "/deployments")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["result"]["deployments"].as_array().unwrap().clone()
}

async fn versions(s: &TestSandbox, ns: &str, script: &str) -> Vec<Value> {
    let (st, v) = s.cf_get(&script_url(s, ns, script, "/versions")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["result"]["items"].as_array().unwrap().clone()
}

/// One request to the development dispatcher's gateway with `headers`: (label, headers seen).
async fn call(s: &TestSandbox, headers: &[(&str, &str)]) -> (String, Value) {
    let mut req = s.http.get(format!(
        "{}/services/development/{WORKER}/echo",
        s.d.base_url
    ));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let (st, v) = json_of(r).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    (
        v["label"].as_str().unwrap().to_owned(),
        v["headers"].clone(),
    )
}

/// Two versions of the development gateway, labelled "A" (uploaded as the script) and "B"
/// (uploaded as a version only): their ids.
async fn two_versions(s: &TestSandbox) -> (String, String) {
    put_script(s, NS, WORKER, &echo_worker("A")).await;
    let a = deployments(s, NS, WORKER).await[0]["versions"][0]["version_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = upload_version(s, NS, WORKER, &echo_worker("B")).await;
    (a, b)
}

#[tokio::test]
async fn a_plain_upload_is_a_version_deployed_at_100_percent() {
    let s = live(true, false).await;
    let first = put_script(&s, NS, "fn", &echo_worker("first")).await;
    let vs = versions(&s, NS, "fn").await;
    assert_eq!(vs.len(), 1, "{vs:?}");
    assert_eq!(vs[0]["number"], 1);
    assert_eq!(vs[0]["annotations"]["workers/triggered_by"], "upload");
    let ds = deployments(&s, NS, "fn").await;
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0]["strategy"], "percentage");
    assert_eq!(
        ds[0]["versions"],
        json!([{"version_id": vs[0]["id"], "percentage": 100}])
    );
    assert_eq!(first["deployment_id"], ds[0]["id"]);

    // A second upload: a second version, and the newest deployment (listed first) serves it.
    put_script(&s, NS, "fn", &echo_worker("second")).await;
    let vs = versions(&s, NS, "fn").await;
    assert_eq!(vs.len(), 2);
    assert_eq!(vs[0]["number"], 2, "newest first");
    let ds = deployments(&s, NS, "fn").await;
    assert_eq!(ds.len(), 2);
    assert_eq!(ds[0]["versions"][0]["version_id"], vs[0]["id"]);
    assert_eq!(ds[0]["versions"][0]["percentage"], 100);
    let r = s
        .http
        .get(format!("{}/services/development/fn/x", s.d.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["x-sandbox-version"].to_str().unwrap(),
        vs[0]["id"].as_str().unwrap()
    );
    // The deployment in effect, so a caller sees when a new split serves.
    assert_eq!(
        r.headers()["x-sandbox-deployment"].to_str().unwrap(),
        ds[0]["id"].as_str().unwrap()
    );
    let (_, body) = json_of(r).await;
    assert_eq!(body["label"], "second");

    // One version in full: its resources, its settings.
    let (st, v) = s
        .cf_get(&script_url(
            &s,
            NS,
            "fn",
            &format!("/versions/{}", vs[1]["id"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["number"], 1);
    assert_eq!(
        v["result"]["resources"]["script_runtime"]["compatibility_date"],
        "2025-01-01"
    );
    assert_eq!(
        v["result"]["resources"]["script"]["etag"]
            .as_str()
            .unwrap()
            .len(),
        64
    );

    // A change of settings is a version of its own, deployed at 100 %.
    let r = s
        .http
        .patch(script_url(&s, NS, "fn", "/settings"))
        .bearer_auth(&s.d.cloudflare_token)
        .json(&json!({"bindings": [{"type": "plain_text", "name": "GREETING", "text": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let vs = versions(&s, NS, "fn").await;
    assert_eq!(vs.len(), 3);
    assert_eq!(
        vs[0]["annotations"]["workers/triggered_by"],
        "version_settings"
    );
    assert_eq!(
        deployments(&s, NS, "fn").await[0]["versions"][0]["version_id"],
        vs[0]["id"]
    );
    // Tags alone are not a version.
    let r = s
        .http
        .put(script_url(&s, NS, "fn", "/tags/pro-plan"))
        .bearer_auth(&s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(versions(&s, NS, "fn").await.len(), 3);
}

#[tokio::test]
async fn an_uploaded_version_moves_no_traffic_until_deployed() {
    let s = live(true, false).await;
    let (a, b) = two_versions(&s).await;
    let (st, v) = s
        .cf_get(&script_url(&s, NS, WORKER, &format!("/versions/{b}")))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["annotations"]["workers/message"], "a version");
    assert_eq!(
        v["result"]["annotations"]["workers/triggered_by"],
        "version_upload"
    );
    for _ in 0..10 {
        assert_eq!(call(&s, &[]).await.0, "A");
    }
    let d = deploy(&s, NS, WORKER, &[(&b, 100.0)]).await;
    assert_eq!(deployments(&s, NS, WORKER).await[0]["id"], d["id"]);
    for _ in 0..10 {
        assert_eq!(call(&s, &[]).await.0, "B");
    }
    // A rollback is a deployment of the stable version at 100 %.
    deploy(&s, NS, WORKER, &[(&a, 100.0)]).await;
    assert_eq!(call(&s, &[]).await.0, "A");
}

#[tokio::test]
async fn a_10_90_split_holds_over_1000_requests() {
    let s = live(true, false).await;
    let (a, b) = two_versions(&s).await;
    let d = deploy(&s, NS, WORKER, &[(&a, 10.0), (&b, 90.0)]).await;
    assert_eq!(
        d["versions"],
        json!([{"version_id": a, "percentage": 10}, {"version_id": b, "percentage": 90}])
    );
    let counts: HashMap<String, usize> = futures_util::stream::iter(0..1000)
        .map(|_| call(&s, &[]))
        .buffer_unordered(16)
        .fold(HashMap::new(), |mut m, (label, _)| async move {
            *m.entry(label).or_default() += 1;
            m
        })
        .await;
    eprintln!("10/90 split over 1,000 requests: {counts:?}");
    let on_a = counts.get("A").copied().unwrap_or(0);
    let on_b = counts.get("B").copied().unwrap_or(0);
    assert_eq!(on_a + on_b, 1000, "{counts:?}");
    assert!(
        (50..=150).contains(&on_a),
        "10 % ± 5 points expected on A, got {on_a} of 1000 ({counts:?})"
    );
}

#[tokio::test]
async fn the_override_header_pins_a_version_and_never_reaches_the_code() {
    let s = live(true, false).await;
    let (a, b) = two_versions(&s).await;
    // A at 0 %: reachable only by override.
    deploy(&s, NS, WORKER, &[(&a, 0.0), (&b, 100.0)]).await;
    let pin_a = format!("{WORKER}=\"{a}\"");
    for _ in 0..20 {
        let (label, headers) = call(&s, &[("Cloudflare-Workers-Version-Overrides", &pin_a)]).await;
        assert_eq!(label, "A");
        assert!(
            headers
                .get("cloudflare-workers-version-overrides")
                .is_none(),
            "the override reached the code: {headers}"
        );
        assert_eq!(call(&s, &[]).await.0, "B");
    }
    // Several members; the one naming this worker counts.
    let several = format!("other-worker=\"{b}\", {WORKER}=\"{a}\";p=1");
    assert_eq!(
        call(&s, &[("Cloudflare-Workers-Version-Overrides", &several)])
            .await
            .0,
        "A"
    );
    // An override naming another worker, or a version not in the deployment, is ignored.
    let other = format!("db=\"{a}\"");
    let (label, headers) = call(&s, &[("Cloudflare-Workers-Version-Overrides", &other)]).await;
    assert_eq!(label, "B");
    assert!(headers
        .get("cloudflare-workers-version-overrides")
        .is_none());
    let c = upload_version(&s, NS, WORKER, &echo_worker("C")).await;
    let pin_c = format!("{WORKER}=\"{c}\"");
    assert_eq!(
        call(&s, &[("Cloudflare-Workers-Version-Overrides", &pin_c)])
            .await
            .0,
        "B"
    );
}

#[tokio::test]
async fn the_version_key_is_sticky_and_never_reaches_the_code() {
    let s = live(true, false).await;
    let (a, b) = two_versions(&s).await;
    deploy(&s, NS, WORKER, &[(&a, 50.0), (&b, 50.0)]).await;
    let mut seen = HashMap::new();
    for k in 0..24 {
        let key = format!("user-{k}");
        let (first, headers) = call(&s, &[("Cloudflare-Workers-Version-Key", &key)]).await;
        assert!(
            headers.get("cloudflare-workers-version-key").is_none(),
            "the key reached the code: {headers}"
        );
        for _ in 0..5 {
            let (label, _) = call(&s, &[("Cloudflare-Workers-Version-Key", &key)]).await;
            assert_eq!(label, first, "key {key} moved between versions");
        }
        *seen.entry(first).or_insert(0) += 1;
    }
    assert_eq!(
        seen.len(),
        2,
        "24 keys at 50/50 all on one version: {seen:?}"
    );
}

#[tokio::test]
async fn bad_deployments_are_refused_with_clear_errors() {
    let s = live(true, false).await;
    let (a, b) = two_versions(&s).await;
    let c = upload_version(&s, NS, WORKER, &echo_worker("C")).await;
    put_script(&s, NS, "db", &echo_worker("db")).await;
    let of_db = upload_version(&s, NS, "db", &echo_worker("db2")).await;
    let refused = |body: Value, words: &'static [&'static str]| {
        let s = &s;
        async move {
            let (st, v) = deploy_raw(s, NS, WORKER, body).await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
            assert_eq!(v["success"], false);
            let message = v["errors"][0]["message"].as_str().unwrap().to_owned();
            assert!(v["errors"][0]["code"].is_u64());
            for w in words {
                assert!(message.contains(w), "{message:?} should say {w:?}");
            }
        }
    };
    refused(
        json!({"strategy": "percentage", "versions": [
            {"version_id": a, "percentage": 40}, {"version_id": b, "percentage": 30},
            {"version_id": c, "percentage": 30}]}),
        &["at most 2 versions", "names 3"],
    )
    .await;
    refused(
        json!({"strategy": "percentage", "versions": [
            {"version_id": a, "percentage": 10}, {"version_id": b, "percentage": 80}]}),
        &["add up to 100", "90", "10 + 80"],
    )
    .await;
    refused(
        json!({"strategy": "percentage", "versions": [
            {"version_id": "00000000-0000-4000-8000-000000000000", "percentage": 100}]}),
        &["00000000-0000-4000-8000-000000000000", "does not exist"],
    )
    .await;
    refused(
        json!({"strategy": "percentage", "versions": [
            {"version_id": a, "percentage": 50}, {"version_id": of_db, "percentage": 50}]}),
        &["belongs to worker \"db\"", "not to \"gateway\""],
    )
    .await;
    refused(
        json!({"strategy": "immediate", "versions": [{"version_id": a, "percentage": 100}]}),
        &["percentage"],
    )
    .await;
    refused(
        json!({"strategy": "percentage", "versions": []}),
        &["at least one"],
    )
    .await;
    refused(
        json!({"strategy": "percentage", "versions": [
            {"version_id": a, "percentage": 50}, {"version_id": a, "percentage": 50}]}),
        &["twice"],
    )
    .await;
    // Nothing changed: A still serves everything.
    assert_eq!(deployments(&s, NS, WORKER).await.len(), 2);
    assert_eq!(call(&s, &[]).await.0, "A");

    // A version of another worker cannot be read through this one; an unknown one is a 404.
    let (st, v) = s
        .cf_get(&script_url(&s, NS, WORKER, &format!("/versions/{of_db}")))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    // A version of a worker that does not exist: 404 saying to upload it first.
    let (st, v) = upload_version_raw(&s, NS, "nope", &echo_worker("x"), "m").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert!(v["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("upload it first"));
    // A version that cannot start is refused at upload, as a script is.
    let (st, v) = upload_version_raw(&s, NS, WORKER, "export default { fetch( {", "broken").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["errors"][0]["code"], 10021);
}

#[tokio::test]
async fn deleting_a_script_or_its_namespace_removes_its_versions() {
    let s = live(true, false).await;
    let create = |name: &'static str| {
        let s = &s;
        async move {
            let r = s
                .http
                .post(s.cf("/workers/dispatch/namespaces"))
                .bearer_auth(&s.d.cloudflare_token)
                .json(&json!({"name": name}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
        }
    };
    create("versions-test").await;
    put_script(&s, "versions-test", "w", &echo_worker("1")).await;
    let v2 = upload_version(&s, "versions-test", "w", &echo_worker("2")).await;
    let r = s
        .http
        .delete(script_url(&s, "versions-test", "w", ""))
        .bearer_auth(&s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, _) = s
        .cf_get(&script_url(
            &s,
            "versions-test",
            "w",
            &format!("/versions/{v2}"),
        ))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    put_script(&s, "versions-test", "w", &echo_worker("again")).await;
    let vs = versions(&s, "versions-test", "w").await;
    assert_eq!(vs.len(), 1, "the old versions went with the script: {vs:?}");
    assert_eq!(vs[0]["number"], 1);
    assert_eq!(deployments(&s, "versions-test", "w").await.len(), 1);
    let (st, v) = deploy_raw(
        &s,
        "versions-test",
        "w",
        json!({"strategy": "percentage", "versions": [{"version_id": v2, "percentage": 100}]}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    let v3 = upload_version(&s, "versions-test", "w", &echo_worker("3")).await;
    let r = s
        .http
        .delete(s.ns("versions-test", ""))
        .bearer_auth(&s.d.cloudflare_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    create("versions-test").await;
    put_script(&s, "versions-test", "w", &echo_worker("new")).await;
    let vs = versions(&s, "versions-test", "w").await;
    assert_eq!(vs.len(), 1);
    assert_ne!(vs[0]["id"], json!(v3));
    let (st, _) = s
        .cf_get(&script_url(
            &s,
            "versions-test",
            "w",
            &format!("/versions/{v3}"),
        ))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
