//! The Local sandbox's control API under `<base>/__sandbox`: fault injection (set, clear, list),
//! rehearsed bad deploys (start, end, list) and settings (true rollback).
//!
//! The request and response types are written here from the wire contract, not shared with the
//! sandbox crate, so that a test between the two catches a misunderstanding of the contract.
//!
//! Calls are sent once, without the retries of the platform clients: the sandbox is local, and
//! the caller decides what a failure means to the operator ([`ControlError`]).

use std::fmt;

use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::http::HttpClient;

/// How a `down` target is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DownHow {
    /// Answers `503 Service Unavailable` (the sandbox's default).
    Unavailable,
    /// Closes the connection without answering.
    Drop,
}

/// What a target does instead of answering normally. JSON: `{"mode": "...", ...}`; a field left
/// `None` is not sent, so the sandbox applies its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ControlFault {
    /// Unreachable: 503 by default, or the connection dropped.
    Down {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        how: Option<DownHow>,
    },
    /// Answers `status` (the sandbox's default 500) with `body` (default a JSON error).
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
    },
    /// Answers normally after `ms` milliseconds (the sandbox allows at most 120 000).
    Latency { ms: u64 },
    /// Answers `status` (default 200) with a body the client does not expect: an HTML page
    /// (`html`, the default) or random bytes.
    Garbage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        html: Option<bool>,
    },
    /// Fails `percent` % of requests with 503.
    Flaky { percent: u8 },
    /// Answers `429` with `Retry-After: <retry_after>` seconds (default 30).
    RateLimited {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
}

impl ControlFault {
    /// The mode as the wire writes it: `down`, `error`, `latency`, `garbage`, `flaky`,
    /// `rate_limited`.
    pub fn mode(&self) -> &'static str {
        match self {
            ControlFault::Down { .. } => "down",
            ControlFault::Error { .. } => "error",
            ControlFault::Latency { .. } => "latency",
            ControlFault::Garbage { .. } => "garbage",
            ControlFault::Flaky { .. } => "flaky",
            ControlFault::RateLimited { .. } => "rate_limited",
        }
    }
}

/// A fault in force: `GET /__sandbox/faults` lists these, `PUT /__sandbox/faults/<target>`
/// answers one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultEntry {
    /// `deploy-api`, `auth`, `cloudflare-api`, `dispatcher[@<env>]`, `service:<name>[@<env>]`.
    pub target: String,
    pub fault: ControlFault,
    /// The fault lifts when the service is next deployed or rolled back.
    #[serde(default)]
    pub until_deploy: bool,
}

/// `GET /__sandbox/faults`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
struct FaultList {
    #[serde(default)]
    faults: Vec<FaultEntry>,
}

/// `DELETE /__sandbox/faults[/<target>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
struct Cleared<T> {
    cleared: T,
}

/// A rehearsed bad deploy in force: a genuinely broken release the sandbox deployed, until it is
/// rolled back or deployed over.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct BadDeploy {
    pub service: String,
    pub environment: String,
    pub deployment_id: Option<String>,
    /// The broken release's version tag.
    pub version_tag: Option<String>,
    /// When it was deployed (the sandbox's timestamp).
    pub since: Option<String>,
}

/// `GET /__sandbox/rehearsal`, and the answer of ending bad deploys.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
struct BadDeployList {
    #[serde(default)]
    bad_deploys: Vec<BadDeploy>,
}

/// `POST /__sandbox/rehearsal/bad-deploy`.
#[derive(Debug, Clone, Serialize)]
struct BadDeployRequest<'a> {
    service: &'a str,
    environment: &'a str,
}

/// `GET`/`PUT /__sandbox/settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxSettings {
    /// A rollback re-uploads the previous script (true) or only flips the record (false).
    pub true_rollback: bool,
}

/// Why a control call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlError {
    /// The sandbox did not answer, or answered something that is not the expected JSON.
    Unreachable(String),
    /// The sandbox answered with a status other than 2xx; `body` is its answer, as text.
    Refused { status: u16, body: String },
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::Unreachable(e) => write!(f, "the sandbox did not answer: {e}"),
            ControlError::Refused { status, body } => {
                write!(f, "the sandbox answered HTTP {status}: {body}")
            }
        }
    }
}

impl std::error::Error for ControlError {}

/// The sandbox's control API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SandboxControl {
    http: HttpClient,
    /// `<base>/__sandbox`
    control_url: String,
}

impl SandboxControl {
    /// `control_url` is `<base>/__sandbox`.
    pub fn new(http: HttpClient, control_url: &str) -> Self {
        SandboxControl {
            http,
            control_url: control_url.trim_end_matches('/').to_owned(),
        }
    }

    /// From the discovery's `faults_url` (`<base>/__sandbox/faults`).
    pub fn from_faults_url(http: HttpClient, faults_url: &str) -> Self {
        let control_url = faults_url.trim_end_matches("/faults").trim_end_matches('/');
        SandboxControl::new(http, control_url)
    }

    fn faults_url(&self) -> String {
        format!("{}/faults", self.control_url)
    }

    fn rehearsal_url(&self) -> String {
        format!("{}/rehearsal", self.control_url)
    }

    /// `GET /faults`: the faults in force.
    pub async fn faults(&self) -> Result<Vec<FaultEntry>, ControlError> {
        let list: FaultList = self
            .call(self.http.request(Method::GET, &self.faults_url()))
            .await?;
        Ok(list.faults)
    }

    /// `PUT /faults/<target>`: set `target`'s fault, replacing any other.
    pub async fn set_fault(
        &self,
        target: &str,
        fault: &ControlFault,
    ) -> Result<FaultEntry, ControlError> {
        let url = format!("{}/{target}", self.faults_url());
        self.call(self.http.request(Method::PUT, &url).json(fault))
            .await
    }

    /// `DELETE /faults/<target>`: whether a fault was in force.
    pub async fn clear_fault(&self, target: &str) -> Result<bool, ControlError> {
        let url = format!("{}/{target}", self.faults_url());
        let c: Cleared<bool> = self.call(self.http.request(Method::DELETE, &url)).await?;
        Ok(c.cleared)
    }

    /// `DELETE /faults`: how many faults were cleared.
    pub async fn clear_all_faults(&self) -> Result<u64, ControlError> {
        let c: Cleared<u64> = self
            .call(self.http.request(Method::DELETE, &self.faults_url()))
            .await?;
        Ok(c.cleared)
    }

    /// `GET /rehearsal`: the rehearsed bad deploys in force.
    pub async fn bad_deploys(&self) -> Result<Vec<BadDeploy>, ControlError> {
        let list: BadDeployList = self
            .call(self.http.request(Method::GET, &self.rehearsal_url()))
            .await?;
        Ok(list.bad_deploys)
    }

    /// `POST /rehearsal/bad-deploy`: deploy a broken release of `service` in `environment`
    /// (it needs a deployment to fall back to).
    pub async fn start_bad_deploy(
        &self,
        service: &str,
        environment: &str,
    ) -> Result<(), ControlError> {
        let url = format!("{}/bad-deploy", self.rehearsal_url());
        let body = BadDeployRequest {
            service,
            environment,
        };
        let _: serde::de::IgnoredAny = self
            .call(self.http.request(Method::POST, &url).json(&body))
            .await?;
        Ok(())
    }

    /// `DELETE /rehearsal/bad-deploy/<service>/<environment>`: end one bad deploy (the previous
    /// release is restored); the bad deploys still in force.
    pub async fn end_bad_deploy(
        &self,
        service: &str,
        environment: &str,
    ) -> Result<Vec<BadDeploy>, ControlError> {
        let url = format!(
            "{}/bad-deploy/{service}/{environment}",
            self.rehearsal_url()
        );
        let list: BadDeployList = self.call(self.http.request(Method::DELETE, &url)).await?;
        Ok(list.bad_deploys)
    }

    /// `DELETE /rehearsal`: end every bad deploy; the bad deploys still in force.
    pub async fn end_all_bad_deploys(&self) -> Result<Vec<BadDeploy>, ControlError> {
        let list: BadDeployList = self
            .call(self.http.request(Method::DELETE, &self.rehearsal_url()))
            .await?;
        Ok(list.bad_deploys)
    }

    /// `GET /settings`.
    pub async fn settings(&self) -> Result<SandboxSettings, ControlError> {
        let url = format!("{}/settings", self.control_url);
        self.call(self.http.request(Method::GET, &url)).await
    }

    /// `PUT /settings`: the settings now in force.
    pub async fn set_settings(
        &self,
        settings: &SandboxSettings,
    ) -> Result<SandboxSettings, ControlError> {
        let url = format!("{}/settings", self.control_url);
        self.call(self.http.request(Method::PUT, &url).json(settings))
            .await
    }

    /// Send once; a non-2xx answer is [`ControlError::Refused`] with its body.
    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ControlError> {
        let unreachable = |e: reqwest::Error| ControlError::Unreachable(e.to_string());
        let resp = request.send().await.map_err(unreachable)?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(ControlError::Refused {
                status: status.as_u16(),
                body,
            });
        }
        resp.json().await.map_err(unreachable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn faults_are_written_as_the_sandbox_reads_them() {
        let cases = [
            (ControlFault::Down { how: None }, json!({"mode": "down"})),
            (
                ControlFault::Down {
                    how: Some(DownHow::Drop),
                },
                json!({"mode": "down", "how": "drop"}),
            ),
            (
                ControlFault::Error {
                    status: Some(500),
                    body: None,
                },
                json!({"mode": "error", "status": 500}),
            ),
            (
                ControlFault::Latency { ms: 250 },
                json!({"mode": "latency", "ms": 250}),
            ),
            (
                ControlFault::Flaky { percent: 50 },
                json!({"mode": "flaky", "percent": 50}),
            ),
            (
                ControlFault::RateLimited { retry_after: None },
                json!({"mode": "rate_limited"}),
            ),
        ];
        for (fault, wire) in cases {
            assert_eq!(serde_json::to_value(&fault).unwrap(), wire);
            assert_eq!(serde_json::from_value::<ControlFault>(wire).unwrap(), fault);
        }
    }

    #[test]
    fn listings_read_the_sandbox_shapes() {
        let list: FaultList = serde_json::from_value(json!({"faults": [
            {"target": "service:db", "fault": {"mode": "error", "status": 503, "body": "x"}},
            {"target": "service:gateway", "fault": {"mode": "down", "how": "unavailable"}, "until_deploy": true}
        ]}))
        .unwrap();
        assert_eq!(list.faults.len(), 2);
        assert_eq!(list.faults[0].fault.mode(), "error");
        assert!(list.faults[1].until_deploy);
        let bad: BadDeployList = serde_json::from_value(json!({"bad_deploys": [
            {"service": "gateway", "environment": "production", "deployment_id": "d1",
             "version_tag": "v9", "since": "2024-01-01T00:00:00Z"}
        ]}))
        .unwrap();
        assert_eq!(bad.bad_deploys[0].version_tag.as_deref(), Some("v9"));
    }

    #[test]
    fn control_url_from_the_faults_url() {
        let http = HttpClient::new(Default::default()).unwrap();
        let c = SandboxControl::from_faults_url(http, "http://127.0.0.1:9/__sandbox/faults");
        assert_eq!(c.faults_url(), "http://127.0.0.1:9/__sandbox/faults");
        assert_eq!(c.rehearsal_url(), "http://127.0.0.1:9/__sandbox/rehearsal");
    }
}
