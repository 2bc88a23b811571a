//! Rehearsals: faults injected into the Local sandbox (and cleared), recorded in the run they
//! are rehearsed in.

use serde::{Deserialize, Serialize};
use switchyard_core::{AppError, ErrorCode};
use switchyard_store::{RunChanges, RunUpdate};

use super::records::{check_open, event, not_found};
use crate::Ops;

/// A fault a rehearsal injects into the local sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RehearsalFault {
    /// The service answers 503.
    ServiceDown { service: String },
    /// A bad deploy: the sandbox deploys a genuinely broken release of the service (its
    /// `/health` throws in the runtime) through its Deploy API; a rollback or a new deploy ends it.
    BadDeploy { service: String },
    /// The service answers `status` (e.g. 500) with an error body.
    ServiceErrors { service: String, status: u16 },
    /// The Deploy API answers 503.
    DeployApiDown,
    /// The dispatcher answers 503.
    DispatcherDown,
    /// The `db` service reports its database unhealthy (503).
    DatabaseUnhealthy,
    /// `target` (`service:<name>`, `deploy-api`, `dispatcher`, `auth`, `cloudflare-api`) answers
    /// after `ms` milliseconds (at most 120 000).
    Latency { target: String, ms: u32 },
}

/// The target under which a rehearsed bad deploy is listed and cleared.
const BAD_DEPLOY_PREFIX: &str = "bad-deploy:";

impl RehearsalFault {
    fn target_and_body(&self) -> Result<(String, serde_json::Value), AppError> {
        let check_service = |s: &str| switchyard_core::ServiceName::parse(s).map(|_| ());
        Ok(match self {
            RehearsalFault::ServiceDown { service } => {
                check_service(service)?;
                (
                    format!("service:{service}"),
                    serde_json::json!({ "mode": "down" }),
                )
            }
            RehearsalFault::BadDeploy { service } => {
                check_service(service)?;
                (
                    format!("{BAD_DEPLOY_PREFIX}{service}"),
                    serde_json::json!({ "service": service }),
                )
            }
            RehearsalFault::ServiceErrors { service, status } => {
                check_service(service)?;
                if !(400..=599).contains(status) {
                    return Err(AppError::invalid_input(format!(
                        "HTTP {status} is not an error status; use 400 to 599 (500 for a crash)."
                    )));
                }
                (
                    format!("service:{service}"),
                    serde_json::json!({ "mode": "error", "status": status }),
                )
            }
            RehearsalFault::DeployApiDown => {
                ("deploy-api".into(), serde_json::json!({ "mode": "down" }))
            }
            RehearsalFault::DispatcherDown => {
                ("dispatcher".into(), serde_json::json!({ "mode": "down" }))
            }
            RehearsalFault::DatabaseUnhealthy => (
                "service:db".into(),
                serde_json::json!({
                    "mode": "error",
                    "status": 503,
                    "body": "{\"status\":\"unhealthy\",\"service\":\"db\",\"error\":\"database connection lost\"}"
                }),
            ),
            RehearsalFault::Latency { target, ms } => {
                if *ms > 120_000 {
                    return Err(AppError::invalid_input(format!(
                        "{ms} ms is too long: the sandbox adds at most 120000 ms (two minutes)."
                    )));
                }
                (
                    target.clone(),
                    serde_json::json!({ "mode": "latency", "ms": ms }),
                )
            }
        })
    }
}

/// A fault in force in the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ActiveFault {
    /// `service:gateway`, `deploy-api`, `dispatcher`, …
    pub target: String,
    /// `down`, `error`, `latency`, `garbage`, `flaky`, `rate_limited`.
    pub mode: String,
    /// In words: "gateway answers 503".
    pub description: String,
}

impl Ops {
    // --- Rehearsal -----------------------------------------------------------------------------

    /// The faults in force in the Local sandbox.
    pub async fn sandbox_faults(&self, profile_id: &str) -> Result<Vec<ActiveFault>, AppError> {
        let url = self.rb_faults_url(profile_id).await?;
        let resp = self
            .http
            .request(reqwest::Method::GET, &url)
            .send()
            .await
            .map_err(|e| sandbox_unreachable(&e))?;
        let body: serde_json::Value = resp.json().await.map_err(|e| sandbox_unreachable(&e))?;
        let mut active: Vec<ActiveFault> = body["faults"]
            .as_array()
            .map(|a| a.iter().map(describe_fault).collect())
            .unwrap_or_default();
        let rehearsal: serde_json::Value = self
            .http
            .request(reqwest::Method::GET, &rehearsal_url(&url))
            .send()
            .await
            .map_err(|e| sandbox_unreachable(&e))?
            .json()
            .await
            .map_err(|e| sandbox_unreachable(&e))?;
        for b in rehearsal["bad_deploys"].as_array().into_iter().flatten() {
            let service = b["service"].as_str().unwrap_or_default();
            active.push(ActiveFault {
                target: format!("{BAD_DEPLOY_PREFIX}{service}"),
                mode: "bad_deploy".into(),
                description: format!(
                    "{service} runs a broken release ({}, deployed by the rehearsal) until it is rolled back or deployed again",
                    b["version_tag"].as_str().unwrap_or("a broken version")
                ),
            });
        }
        Ok(active)
    }

    /// Inject a fault into the Local sandbox. With `run_id`, the run is marked a rehearsal and
    /// the fault goes in its timeline.
    pub async fn inject_fault(
        &self,
        profile_id: &str,
        fault: RehearsalFault,
        run_id: Option<&str>,
    ) -> Result<Vec<ActiveFault>, AppError> {
        let url = self.rb_faults_url(profile_id).await?;
        let (target, body) = fault.target_and_body()?;
        let environment = self.store.get_profile(profile_id).await?.environment;
        let (method, endpoint, body) = match &fault {
            RehearsalFault::BadDeploy { service } => (
                reqwest::Method::POST,
                format!("{}/bad-deploy", rehearsal_url(&url)),
                serde_json::json!({ "service": service, "environment": environment.as_str() }),
            ),
            _ => (reqwest::Method::PUT, format!("{url}/{target}"), body),
        };
        let params = serde_json::json!({ "target": target, "fault": body, "run": run_id });
        self.audited(profile_id, "sandbox.fault", &target, params, async {
            if let Some(run_id) = run_id {
                self.rb_check_rehearsal_run(run_id, profile_id).await?;
            }
            let resp = self
                .http
                .request(method, &endpoint)
                .json(&body)
                .send()
                .await
                .map_err(|e| sandbox_unreachable(&e))?;
            if !resp.status().is_success() {
                let text = resp.text().await.unwrap_or_default();
                return Err(AppError::invalid_input(format!(
                    "The sandbox refused the fault: {text}"
                )));
            }
            Ok(())
        })
        .await?;
        let active = self.sandbox_faults(profile_id).await?;
        if let Some(run_id) = run_id {
            let desc = active
                .iter()
                .find(|f| f.target == target)
                .map(|f| f.description.clone())
                .unwrap_or_else(|| target.clone());
            self.rb_rehearsal_event(
                run_id,
                "fault.injected",
                format!("Rehearsal fault injected: {desc}."),
            )
            .await?;
        }
        Ok(active)
    }

    /// Clear one fault (`target` as listed), or every fault when `target` is None.
    pub async fn clear_fault(
        &self,
        profile_id: &str,
        target: Option<&str>,
        run_id: Option<&str>,
    ) -> Result<Vec<ActiveFault>, AppError> {
        let url = self.rb_faults_url(profile_id).await?;
        let what = target.unwrap_or("all");
        self.audited(
            profile_id,
            "sandbox.fault.clear",
            what,
            serde_json::json!({ "run": run_id }),
            async {
                if let Some(run_id) = run_id {
                    self.rb_check_rehearsal_run(run_id, profile_id).await?;
                }
                let environment = self.store.get_profile(profile_id).await?.environment;
                // A bad deploy is ended by restoring the previous release; "all" ends both kinds.
                let urls = match target {
                    Some(t) => match t.strip_prefix(BAD_DEPLOY_PREFIX) {
                        Some(service) => vec![format!(
                            "{}/bad-deploy/{service}/{}",
                            rehearsal_url(&url),
                            environment.as_str()
                        )],
                        None => vec![format!("{url}/{t}")],
                    },
                    None => vec![url.clone(), rehearsal_url(&url)],
                };
                for full in urls {
                    let resp = self
                        .http
                        .request(reqwest::Method::DELETE, &full)
                        .send()
                        .await
                        .map_err(|e| sandbox_unreachable(&e))?;
                    if !resp.status().is_success() {
                        let text = resp.text().await.unwrap_or_default();
                        return Err(AppError::invalid_input(format!(
                            "The sandbox did not clear the fault: {text}"
                        )));
                    }
                }
                Ok(())
            },
        )
        .await?;
        if let Some(run_id) = run_id {
            let message = match target {
                Some(t) => format!("Rehearsal fault cleared: {t}."),
                None => "Every rehearsal fault cleared.".to_owned(),
            };
            self.rb_rehearsal_event(run_id, "fault.cleared", message)
                .await?;
        }
        self.sandbox_faults(profile_id).await
    }

    async fn rb_faults_url(&self, profile_id: &str) -> Result<String, AppError> {
        let profile = self.store.get_profile(profile_id).await?;
        if !profile.sandbox {
            return Err(AppError::invalid_input(format!(
                "Faults can be injected into the Local sandbox only; profile \"{}\" talks to a real platform. Switch to the Local sandbox profile to rehearse.",
                profile.name
            )));
        }
        let link = self.sandbox_link.read().expect("sandbox link lock");
        link.as_ref().map(|l| l.discovery.faults_url.clone()).ok_or_else(|| {
            AppError::new(
                ErrorCode::Unreachable,
                "The Local sandbox is not running, so no fault can be injected. Restart Switchyard to start it.",
            )
        })
    }

    async fn rb_check_rehearsal_run(&self, run_id: &str, profile_id: &str) -> Result<(), AppError> {
        let run = self
            .store
            .run(run_id)
            .await?
            .ok_or_else(|| not_found(run_id))?;
        if run.profile_id != profile_id {
            return Err(AppError::invalid_input(
                "That run belongs to another profile; rehearse in a run started on the Local sandbox.",
            ));
        }
        check_open(&run)
    }

    async fn rb_rehearsal_event(
        &self,
        run_id: &str,
        kind: &str,
        message: String,
    ) -> Result<(), AppError> {
        let lock = self.runbooks.lock_for(run_id);
        let _guard = lock.lock().await;
        let run = self
            .store
            .run(run_id)
            .await?
            .ok_or_else(|| not_found(run_id))?;
        let changes = RunChanges {
            run: Some(RunUpdate {
                state: run.state.clone(),
                finished_ms: run.finished_ms,
                finished_by: run.finished_by.clone(),
                end_reason: run.end_reason.clone(),
                rehearsal: true,
            }),
            events: vec![event(kind, None, self.now_ms(), message)],
            ..Default::default()
        };
        self.rb_write(run_id, &changes).await
    }
}

/// `<base>/__sandbox/rehearsal`, beside `<base>/__sandbox/faults`.
fn rehearsal_url(faults_url: &str) -> String {
    format!(
        "{}/rehearsal",
        faults_url.trim_end_matches("/faults").trim_end_matches('/')
    )
}

fn sandbox_unreachable(e: &dyn std::fmt::Display) -> AppError {
    tracing::warn!(error = %e, "the sandbox's fault API did not answer");
    AppError::new(
        ErrorCode::Unreachable,
        "The Local sandbox did not answer. Restart Switchyard to start it again.",
    )
}

fn describe_fault(v: &serde_json::Value) -> ActiveFault {
    let target = v["target"].as_str().unwrap_or_default().to_owned();
    let fault = &v["fault"];
    let mode = fault["mode"].as_str().unwrap_or_default().to_owned();
    let who = target
        .strip_prefix("service:")
        .unwrap_or(&target)
        .to_owned();
    let description = match mode.as_str() {
        "down" => format!("{who} is down (503)"),
        "error" => format!(
            "{who} answers HTTP {}",
            fault["status"].as_u64().unwrap_or(500)
        ),
        "latency" => format!(
            "{who} answers after {} ms",
            fault["ms"].as_u64().unwrap_or(0)
        ),
        "garbage" => format!("{who} answers garbage"),
        "flaky" => format!(
            "{who} fails {}% of requests",
            fault["percent"].as_u64().unwrap_or(0)
        ),
        "rate_limited" => format!("{who} rate-limits every request"),
        other => format!("{who}: {other}"),
    };
    let description = if v["until_deploy"].as_bool().unwrap_or(false) {
        format!("{description} until it is rolled back or deployed again (a bad deploy)")
    } else {
        description
    };
    ActiveFault {
        target,
        mode,
        description,
    }
}
