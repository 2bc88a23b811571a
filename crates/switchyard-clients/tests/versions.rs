//! The versions client against a real sandbox on 127.0.0.1 whose versions really execute in
//! workerd: a plain upload is a 100 % deployment; a version uploaded through the client moves no
//! traffic until deployed; a 10/90 split holds over 1,000 requests; the override header pins a
//! version and the version key is sticky, and neither reaches the code; bad deployments come back
//! as clear `InvalidInput` errors.
//!
//! These need workerd: `cargo xtask setup` installs it (or set `SWITCHYARD_WORKERD`).

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use switchyard_clients::{
    CloudflareApi, HttpClient, HttpSettings, VersionSplit, WorkerVersionsApi,
};
use switchyard_core::{Environment, ErrorCode, Secret};
use switchyard_sandbox::{Sandbox, SandboxConfig};

const NS: &str = "dotdo-development";
const WORKER: &str = "gateway";

struct Fixture {
    sandbox: Sandbox,
    http: HttpClient,
    plain: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()))
        .await
        .unwrap();
    let status = sandbox.runtime_status();
    assert!(
        status.executing,
        "these tests need workerd: {}",
        status.message
    );
    assert!(
        sandbox.runtime_ready(Duration::from_secs(20)).await,
        "workerd did not start: {:?}",
        sandbox.runtime_status()
    );
    let http = HttpClient::new(HttpSettings {
        request_timeout: Duration::from_secs(30),
        ..HttpSettings::default()
    })
    .unwrap();
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Fixture {
        sandbox,
        http,
        plain,
        _dir: dir,
    }
}

impl Fixture {
    fn cloudflare(&self) -> CloudflareApi {
        let d = self.sandbox.discovery();
        CloudflareApi::new(
            self.http.clone(),
            &d.cloudflare_api_url,
            &d.account_id,
            Secret::new(d.cloudflare_token.clone()),
        )
    }

    fn versions(&self) -> WorkerVersionsApi {
        WorkerVersionsApi::new(self.cloudflare())
    }

    /// One request to the development gateway through the sandbox's dispatcher: (label, headers
    /// the code saw).
    async fn call(&self, headers: &[(&str, &str)]) -> (String, serde_json::Value) {
        let url = format!(
            "{}/echo",
            self.sandbox
                .discovery()
                .service_url(Environment::Development, WORKER)
        );
        let mut req = self.plain.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        let v: serde_json::Value = r.json().await.unwrap();
        (
            v["label"].as_str().unwrap().to_owned(),
            v["headers"].clone(),
        )
    }

    /// The development gateway as script "A" (a plain upload) plus version "B" (uploaded only).
    async fn two_versions(&self) -> (String, String) {
        self.cloudflare()
            .upload_script(
                NS,
                WORKER,
                "index.js",
                echo_worker("A").into_bytes(),
                &serde_json::json!({"main_module": "index.js", "compatibility_date": "2025-01-01"}),
            )
            .await
            .unwrap();
        let api = self.versions();
        let a = api.list_deployments(NS, WORKER).await.unwrap()[0].versions[0]
            .version_id
            .clone();
        let b = api
            .upload_version(
                NS,
                WORKER,
                "index.js",
                echo_worker("B").into_bytes(),
                &serde_json::json!({"compatibility_date": "2025-01-01"}),
                Some("canary B"),
            )
            .await
            .unwrap();
        (a, b)
    }
}

/// A worker that answers with its label and the request headers it received.
fn echo_worker(label: &str) -> String {
    format!(
        "export default {{\n  async fetch(request) {{\n    return Response.json({{ label: {label:?}, headers: Object.fromEntries(request.headers) }});\n  }},\n}};\n"
    )
}

#[tokio::test]
async fn a_plain_upload_yields_a_100_percent_deployment() {
    let f = fixture().await;
    let script = f
        .cloudflare()
        .upload_script(
            NS,
            "fn",
            "index.js",
            echo_worker("one").into_bytes(),
            &serde_json::json!({"main_module": "index.js"}),
        )
        .await
        .unwrap();
    let api = f.versions();
    let versions = api.list_versions(NS, "fn").await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].number, Some(1));
    let deployments = api.list_deployments(NS, "fn").await.unwrap();
    assert_eq!(deployments.len(), 1);
    assert_eq!(deployments[0].strategy.as_deref(), Some("percentage"));
    assert_eq!(
        deployments[0].versions,
        vec![VersionSplit::new(versions[0].id.clone(), 100.0)]
    );
    assert_eq!(
        script.extra.get("deployment_id").and_then(|v| v.as_str()),
        Some(deployments[0].id.as_str())
    );
    let one = api.get_version(NS, "fn", &versions[0].id).await.unwrap();
    assert_eq!(one.id, versions[0].id);
    assert!(one.resources.is_some());
}

#[tokio::test]
async fn versions_upload_list_get_and_deploy_through_the_client() {
    let f = fixture().await;
    let (a, b) = f.two_versions().await;
    let api = f.versions();
    let listed = api.list_versions(NS, WORKER).await.unwrap();
    assert_eq!(listed[0].id, b, "newest first");
    assert!(listed.iter().any(|v| v.id == a));
    let got = api.get_version(NS, WORKER, &b).await.unwrap();
    assert_eq!(got.message(), Some("canary B"));
    // Uploaded, not deployed: A still answers.
    for _ in 0..10 {
        assert_eq!(f.call(&[]).await.0, "A");
    }
    let d = api
        .create_deployment(
            NS,
            WORKER,
            &[VersionSplit::new(&b, 100.0)],
            Some("all on B"),
        )
        .await
        .unwrap();
    let listed = api.list_deployments(NS, WORKER).await.unwrap();
    assert_eq!(listed[0].id, d.id, "the active deployment first");
    assert_eq!(listed[0].versions, vec![VersionSplit::new(&b, 100.0)]);
    for _ in 0..10 {
        assert_eq!(f.call(&[]).await.0, "B");
    }
}

#[tokio::test]
async fn a_10_90_split_lands_within_5_points_over_1000_requests() {
    let f = fixture().await;
    let (a, b) = f.two_versions().await;
    f.versions()
        .create_deployment(
            NS,
            WORKER,
            &[VersionSplit::new(&a, 10.0), VersionSplit::new(&b, 90.0)],
            None,
        )
        .await
        .unwrap();
    let counts: HashMap<String, usize> = futures_util::stream::iter(0..1000)
        .map(|_| f.call(&[]))
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
    let share_a = on_a as f64 / 10.0;
    assert!(
        (share_a - 10.0).abs() <= 5.0,
        "A should get 10 % ± 5 points; it got {share_a} % ({counts:?})"
    );
}

#[tokio::test]
async fn the_override_pins_a_version_and_is_not_visible_to_the_worker() {
    let f = fixture().await;
    let (a, b) = f.two_versions().await;
    f.versions()
        .create_deployment(
            NS,
            WORKER,
            &[VersionSplit::new(&a, 0.0), VersionSplit::new(&b, 100.0)],
            None,
        )
        .await
        .unwrap();
    let pin = format!("{WORKER}=\"{a}\"");
    for _ in 0..20 {
        let (label, headers) = f
            .call(&[("Cloudflare-Workers-Version-Overrides", &pin)])
            .await;
        assert_eq!(label, "A", "the override names A");
        assert!(
            headers
                .get("cloudflare-workers-version-overrides")
                .is_none(),
            "the worker saw the override: {headers}"
        );
    }
    assert_eq!(f.call(&[]).await.0, "B");
}

#[tokio::test]
async fn the_version_key_is_sticky_and_stripped() {
    let f = fixture().await;
    let (a, b) = f.two_versions().await;
    f.versions()
        .create_deployment(
            NS,
            WORKER,
            &[VersionSplit::new(&a, 50.0), VersionSplit::new(&b, 50.0)],
            None,
        )
        .await
        .unwrap();
    let mut landed = HashMap::new();
    for k in 0..20 {
        let key = format!("session-{k}");
        let mut labels = Vec::new();
        for _ in 0..5 {
            let (label, headers) = f.call(&[("Cloudflare-Workers-Version-Key", &key)]).await;
            assert!(
                headers.get("cloudflare-workers-version-key").is_none(),
                "the worker saw the key: {headers}"
            );
            labels.push(label);
        }
        assert!(
            labels.iter().all(|l| *l == labels[0]),
            "key {key} moved: {labels:?}"
        );
        *landed.entry(labels[0].clone()).or_insert(0) += 1;
    }
    assert_eq!(
        landed.len(),
        2,
        "20 keys at 50/50 on one version: {landed:?}"
    );
}

#[tokio::test]
async fn bad_deployments_come_back_as_clear_errors() {
    let f = fixture().await;
    let (a, b) = f.two_versions().await;
    let api = f.versions();
    let c = api
        .upload_version(
            NS,
            WORKER,
            "index.js",
            echo_worker("C").into_bytes(),
            &serde_json::json!({}),
            None,
        )
        .await
        .unwrap();
    f.cloudflare()
        .upload_script(
            NS,
            "db",
            "index.js",
            echo_worker("db").into_bytes(),
            &serde_json::json!({"main_module": "index.js"}),
        )
        .await
        .unwrap();
    let of_db = api.list_versions(NS, "db").await.unwrap()[0].id.clone();

    let cases: Vec<(Vec<VersionSplit>, &[&str])> = vec![
        (
            vec![
                VersionSplit::new(&a, 40.0),
                VersionSplit::new(&b, 30.0),
                VersionSplit::new(&c, 30.0),
            ],
            &["at most 2 versions"],
        ),
        (
            vec![VersionSplit::new(&a, 10.0), VersionSplit::new(&b, 80.0)],
            &["add up to 100", "10 + 80"],
        ),
        (
            vec![VersionSplit::new(
                "00000000-0000-4000-8000-000000000000",
                100.0,
            )],
            &["does not exist"],
        ),
        (
            vec![VersionSplit::new(&a, 50.0), VersionSplit::new(&of_db, 50.0)],
            &["belongs to worker \"db\""],
        ),
    ];
    for (split, words) in cases {
        let e = api
            .create_deployment(NS, WORKER, &split, None)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{e:?}");
        for w in words {
            assert!(e.message.contains(w), "{:?} should say {w:?}", e.message);
        }
        assert!(
            e.message
                .starts_with("Deploying versions of worker gateway"),
            "{}",
            e.message
        );
    }
    // An unknown version, read: NotFound.
    let e = api
        .get_version(NS, WORKER, "00000000-0000-4000-8000-000000000000")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound, "{e:?}");
    // A version of a worker that does not exist.
    let e = api
        .upload_version(
            NS,
            "nope",
            "index.js",
            echo_worker("x").into_bytes(),
            &serde_json::json!({}),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound, "{e:?}");
    assert!(e.message.contains("upload it first"), "{}", e.message);
    // Nothing was deployed by the refused requests.
    assert_eq!(api.list_deployments(NS, WORKER).await.unwrap().len(), 2);
}
