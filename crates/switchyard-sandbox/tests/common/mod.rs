//! Shared by the integration tests: a sandbox on a random 127.0.0.1 port in a temp dir, and a
//! bounded HTTP client.
#![allow(dead_code)]

use std::time::Duration;

use base64::Engine;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_sandbox::{Discovery, Sandbox, SandboxConfig};
use tempfile::TempDir;

pub struct TestSandbox {
    pub sandbox: Sandbox,
    pub d: Discovery,
    pub http: reqwest::Client,
    pub dir: TempDir,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

pub async fn start(seed: bool, true_rollback: bool) -> TestSandbox {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig {
        data_dir: dir.path().to_owned(),
        port: 0,
        seed,
        true_rollback,
        workerd: None,
    })
    .await
    .unwrap();
    let d = sandbox.discovery().clone();
    TestSandbox {
        sandbox,
        d,
        http: client(),
        dir,
    }
}

/// A sandbox whose runtime is up (fails, saying how to fix it, when workerd is missing).
pub async fn live(seed: bool, true_rollback: bool) -> TestSandbox {
    let s = start(seed, true_rollback).await;
    let status = s.sandbox.runtime_status();
    assert!(
        status.executing,
        "these tests need workerd: {} ",
        status.message
    );
    assert!(
        s.sandbox.runtime_ready(Duration::from_secs(20)).await,
        "workerd did not start: {:?}",
        s.sandbox.runtime_status()
    );
    s
}

/// A module worker's upload form: `metadata` (its `main_module` set) and `source` as `index.js`.
pub fn module_form(source: &str, metadata: Value) -> Form {
    let mut metadata = metadata;
    metadata["main_module"] = json!("index.js");
    Form::new()
        .part(
            "metadata",
            Part::text(metadata.to_string())
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            "index.js",
            Part::text(source.to_owned())
                .file_name("index.js")
                .mime_str("application/javascript+module")
                .unwrap(),
        )
}

/// The script names of a namespace's scripts listing (`result[].script.id`).
pub fn script_ids(listing: &Value) -> Vec<&str> {
    listing["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["script"]["id"].as_str().unwrap())
        .collect()
}

pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

pub fn deploy_body(service: &str, env: &str, script: &str, version: Option<&str>) -> Value {
    let mut v = json!({
        "service": service,
        "environment": env,
        "script": b64(script),
        "bindings": {"DB_SERVICE": "db", "AUTH_SERVICE": "auth"},
        "metadata": {"commit": "0123456789abcdef0123456789abcdef01234567", "branch": "main",
                     "author": "test@example.com", "version": "v1.0.0"},
    });
    if let Some(ver) = version {
        v["version"] = json!(ver);
    }
    v
}

pub async fn json_of(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, v)
}

impl TestSandbox {
    /// `<cloudflare_api_url>/accounts/<id><path>`
    pub fn cf(&self, path: &str) -> String {
        format!(
            "{}/accounts/{}{}",
            self.d.cloudflare_api_url, self.d.account_id, path
        )
    }

    pub fn ns(&self, ns: &str, rest: &str) -> String {
        self.cf(&format!("/workers/dispatch/namespaces/{ns}{rest}"))
    }

    pub async fn cf_get(&self, url: &str) -> (StatusCode, Value) {
        json_of(
            self.http
                .get(url)
                .bearer_auth(&self.d.cloudflare_token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A Cloudflare API call without a body; its status and JSON answer.
    pub async fn cf_call(&self, method: reqwest::Method, url: &str) -> (StatusCode, Value) {
        let r = self.http.request(method, url);
        json_of(
            r.bearer_auth(&self.d.cloudflare_token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A Cloudflare API call with a JSON body; its status and JSON answer.
    pub async fn cf_json(
        &self,
        method: reqwest::Method,
        url: &str,
        body: &impl serde::Serialize,
    ) -> (StatusCode, Value) {
        let r = self.http.request(method, url).json(body);
        json_of(
            r.bearer_auth(&self.d.cloudflare_token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A Deploy API call with the deploy key, without a body; its status and JSON answer.
    pub async fn deploy_api(&self, method: reqwest::Method, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .request(method, format!("{}{path}", self.d.deploy_api_url));
        json_of(r.bearer_auth(&self.d.deploy_key).send().await.unwrap()).await
    }

    /// Creates the dispatch namespace `name` through the Cloudflare API.
    pub async fn create_namespace(&self, name: &str) {
        let url = self.cf("/workers/dispatch/namespaces");
        let (st, v) = self
            .cf_json(reqwest::Method::POST, &url, &json!({"name": name}))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }

    pub async fn deploy_raw(&self, body: &Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/deploy", self.d.deploy_api_url))
            .bearer_auth(&self.d.deploy_key)
            .json(body)
            .send()
            .await
            .unwrap();
        json_of(r).await
    }

    pub async fn deploy(&self, service: &str, env: &str, script: &str) -> Value {
        let (status, v) = self
            .deploy_raw(&deploy_body(service, env, script, None))
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    }

    pub async fn rollback(&self, service: &str, env: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/rollback", self.d.deploy_api_url))
            .bearer_auth(&self.d.deploy_key)
            .json(&json!({"service": service, "environment": env}))
            .send()
            .await
            .unwrap();
        json_of(r).await
    }

    pub async fn deployments(&self, query: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}/deployments{query}", self.d.deploy_api_url))
            .bearer_auth(&self.d.deploy_key)
            .send()
            .await
            .unwrap();
        json_of(r).await
    }

    /// The main module's source as the Cloudflare content endpoint returns it.
    pub async fn content(&self, ns: &str, script: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(self.ns(ns, &format!("/scripts/{script}/content")))
            .bearer_auth(&self.d.cloudflare_token)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    pub async fn health_status(&self, env: &str, service: &str) -> StatusCode {
        let url = format!("{}/services/{env}/{service}/health", self.d.base_url);
        self.http.get(url).send().await.unwrap().status()
    }
}

/// A worker module that answers every request (its `/health` included) with 200 and `marker`.
pub fn healthy_worker(marker: &str) -> String {
    format!(
        "export default {{\n  async fetch(request) {{\n    console.log(\"served\", new URL(request.url).pathname);\n    return Response.json({{ status: \"ok\", marker: {marker:?} }});\n  }},\n}};\n"
    )
}
