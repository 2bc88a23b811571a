//! The health prober: many `/health` URLs checked concurrently, each with its own timeout.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde::Serialize;
use switchyard_core::{RunbookSection, Secret};

use crate::http::HttpClient;

/// One URL to check.
#[derive(Debug, Clone)]
pub struct ProbeTarget {
    pub name: String,
    pub url: String,
    /// Sent as a bearer token when set (the Deploy API's `/health` sits behind auth).
    pub key: Option<Secret>,
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeState {
    Up,
    /// Answered 401: the service is up but the check needs a key.
    UpNeedsKey,
    Down,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeResult {
    pub name: String,
    pub url: String,
    pub state: ProbeState,
    pub http_status: Option<u16>,
    pub latency_ms: u64,
    /// Why it is down, in words.
    pub detail: Option<String>,
    /// The runbook section for this failure.
    pub runbook: Option<String>,
}

#[derive(Debug, Clone)]
pub struct HealthProber {
    http: HttpClient,
    timeout: Duration,
}

impl HealthProber {
    pub fn new(http: HttpClient, timeout: Duration) -> Self {
        HealthProber { http, timeout }
    }

    /// Check every target at once; results come back in the targets' order.
    pub async fn probe_all(&self, targets: &[ProbeTarget]) -> Vec<ProbeResult> {
        let mut set = tokio::task::JoinSet::new();
        for (i, t) in targets.iter().cloned().enumerate() {
            let this = self.clone();
            set.spawn(async move { (i, this.probe(&t).await) });
        }
        let mut results: Vec<Option<ProbeResult>> = vec![None; targets.len()];
        while let Some(joined) = set.join_next().await {
            if let Ok((i, r)) = joined {
                results[i] = Some(r);
            }
        }
        results
            .into_iter()
            .zip(targets)
            .map(|(r, t)| {
                r.unwrap_or_else(|| ProbeResult {
                    name: t.name.clone(),
                    url: t.url.clone(),
                    state: ProbeState::Down,
                    http_status: None,
                    latency_ms: 0,
                    detail: Some("the check itself failed".into()),
                    runbook: None,
                })
            })
            .collect()
    }

    /// Check one target, once (no retries: a health board shows what is, now).
    pub async fn probe(&self, target: &ProbeTarget) -> ProbeResult {
        let mut req = self.http.inner.get(&target.url).timeout(self.timeout);
        if let Some(k) = &target.key {
            req = req.bearer_auth(k.expose());
        }
        let start = Instant::now();
        let outcome = req.send().await;
        let latency_ms = start.elapsed().as_millis() as u64;
        let mut result = ProbeResult {
            name: target.name.clone(),
            url: target.url.clone(),
            state: ProbeState::Down,
            http_status: None,
            latency_ms,
            detail: None,
            runbook: None,
        };
        match outcome {
            Err(e) if e.is_timeout() => {
                result.detail = Some(format!("no answer within {} ms", self.timeout.as_millis()));
            }
            Err(e) if e.is_connect() => result.detail = Some("connection refused".into()),
            Err(_) => result.detail = Some("the connection broke off".into()),
            Ok(resp) => {
                let status = resp.status();
                result.http_status = Some(status.as_u16());
                // Read the body within the same time budget, so a stalled body is a failure too.
                // A health answer is small: more than 1 MiB is not one.
                let body = tokio::time::timeout(
                    self.timeout,
                    crate::http::read_body("Checking health", resp, 1024 * 1024),
                )
                .await;
                result.latency_ms = start.elapsed().as_millis() as u64;
                match status {
                    StatusCode::OK => match body {
                        Ok(Ok(b)) if serde_json::from_slice::<serde_json::Value>(&b).is_ok() => {
                            result.state = ProbeState::Up;
                        }
                        Ok(Ok(_)) => {
                            result.detail = Some("answered 200 but not with JSON".into());
                        }
                        _ => result.detail = Some("the answer was cut off".into()),
                    },
                    StatusCode::UNAUTHORIZED => result.state = ProbeState::UpNeedsKey,
                    StatusCode::NOT_FOUND => {
                        result.detail = Some("404: not found or not deployed".into());
                        result.runbook = Some(RunbookSection::Deployed404.heading().to_owned());
                    }
                    s if s.is_server_error() => {
                        result.detail = Some(format!("HTTP {}", s.as_u16()));
                        result.runbook = Some(RunbookSection::DeployedCrashes.heading().to_owned());
                    }
                    s => result.detail = Some(format!("HTTP {}", s.as_u16())),
                }
            }
        }
        result
    }
}
