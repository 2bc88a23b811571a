//! Rehearsals: faults injected into the Local sandbox (and cleared), recorded in the run they
//! are rehearsed in.

use serde::{Deserialize, Serialize};
use switchyard_clients::{ControlError, ControlFault, FaultEntry, SandboxControl};
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

/// What injecting a [`RehearsalFault`] asks of the sandbox.
enum Injection {
    /// Set a fault on a target.
    Fault(ControlFault),
    /// Deploy a broken release of the service.
    BadDeploy(String),
}

impl Injection {
    /// The fault as the audit log records it.
    fn audit_json(&self) -> serde_json::Value {
        match self {
            Injection::Fault(fault) => serde_json::to_value(fault).unwrap_or_default(),
            Injection::BadDeploy(service) => serde_json::json!({ "service": service }),
        }
    }
}

impl RehearsalFault {
    fn target_and_injection(&self) -> Result<(String, Injection), AppError> {
        let check_service = |s: &str| switchyard_core::ServiceName::parse(s).map(|_| ());
        let down = || Injection::Fault(ControlFault::Down { how: None });
        Ok(match self {
            RehearsalFault::ServiceDown { service } => {
                check_service(service)?;
                (format!("service:{service}"), down())
            }
            RehearsalFault::BadDeploy { service } => {
                check_service(service)?;
                (
                    format!("{BAD_DEPLOY_PREFIX}{service}"),
                    Injection::BadDeploy(service.clone()),
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
                    Injection::Fault(ControlFault::Error {
                        status: Some(*status),
                        body: None,
                    }),
                )
            }
            RehearsalFault::DeployApiDown => ("deploy-api".into(), down()),
            RehearsalFault::DispatcherDown => ("dispatcher".into(), down()),
            RehearsalFault::DatabaseUnhealthy => (
                "service:db".into(),
                Injection::Fault(ControlFault::Error {
                    status: Some(503),
                    body: Some(
                        "{\"status\":\"unhealthy\",\"service\":\"db\",\"error\":\"database connection lost\"}"
                            .into(),
                    ),
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
                    Injection::Fault(ControlFault::Latency { ms: u64::from(*ms) }),
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
        let control = self.rb_sandbox_control(profile_id).await?;
        let mut active: Vec<ActiveFault> = control
            .faults()
            .await
            .map_err(|e| sandbox_unreachable(&e))?
            .iter()
            .map(describe_fault)
            .collect();
        let bad_deploys = control
            .bad_deploys()
            .await
            .map_err(|e| sandbox_unreachable(&e))?;
        for b in bad_deploys {
            let service = &b.service;
            active.push(ActiveFault {
                target: format!("{BAD_DEPLOY_PREFIX}{service}"),
                mode: "bad_deploy".into(),
                description: format!(
                    "{service} runs a broken release ({}, deployed by the rehearsal) until it is rolled back or deployed again",
                    b.version_tag.as_deref().unwrap_or("a broken version")
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
        let control = self.rb_sandbox_control(profile_id).await?;
        let (target, injection) = fault.target_and_injection()?;
        let environment = self.for_profile(profile_id).await?.environment;
        let params =
            serde_json::json!({ "target": target, "fault": injection.audit_json(), "run": run_id });
        self.audited(profile_id, "sandbox.fault", &target, params, async {
            if let Some(run_id) = run_id {
                self.rb_check_rehearsal_run(run_id, profile_id).await?;
            }
            let sent = match &injection {
                Injection::BadDeploy(service) => control
                    .start_bad_deploy(service, environment.as_str())
                    .await
                    .map(|_| ()),
                Injection::Fault(fault) => control.set_fault(&target, fault).await.map(|_| ()),
            };
            match sent {
                Ok(()) => Ok(()),
                Err(ControlError::Refused { body, .. }) => Err(AppError::invalid_input(format!(
                    "The sandbox refused the fault: {body}"
                ))),
                Err(e) => Err(sandbox_unreachable(&e)),
            }
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
        let control = self.rb_sandbox_control(profile_id).await?;
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
                let environment = self.for_profile(profile_id).await?.environment;
                // A bad deploy is ended by restoring the previous release; "all" ends both kinds.
                let cleared = match target {
                    Some(t) => match t.strip_prefix(BAD_DEPLOY_PREFIX) {
                        Some(service) => control
                            .end_bad_deploy(service, environment.as_str())
                            .await
                            .map(|_| ()),
                        None => control.clear_fault(t).await.map(|_| ()),
                    },
                    None => match control.clear_all_faults().await {
                        Ok(_) => control.end_all_bad_deploys().await.map(|_| ()),
                        Err(e) => Err(e),
                    },
                };
                match cleared {
                    Ok(()) => Ok(()),
                    Err(ControlError::Refused { body, .. }) => Err(AppError::invalid_input(
                        format!("The sandbox did not clear the fault: {body}"),
                    )),
                    Err(e) => Err(sandbox_unreachable(&e)),
                }
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

    async fn rb_sandbox_control(&self, profile_id: &str) -> Result<SandboxControl, AppError> {
        let profile = self.for_profile(profile_id).await?;
        if !profile.sandbox {
            return Err(AppError::invalid_input(format!(
                "Faults can be injected into the Local sandbox only; profile \"{}\" talks to a real platform. Switch to the Local sandbox profile to rehearse.",
                profile.name
            )));
        }
        let link = self.sandbox_link.read().expect("sandbox link lock");
        link.as_ref()
            .map(|l| SandboxControl::from_faults_url(self.http.clone(), &l.discovery.faults_url))
            .ok_or_else(|| {
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

fn sandbox_unreachable(e: &dyn std::fmt::Display) -> AppError {
    tracing::warn!(error = %e, "the sandbox's fault API did not answer");
    AppError::new(
        ErrorCode::Unreachable,
        "The Local sandbox did not answer. Restart Switchyard to start it again.",
    )
}

fn describe_fault(entry: &FaultEntry) -> ActiveFault {
    let target = entry.target.clone();
    let mode = entry.fault.mode().to_owned();
    let who = target
        .strip_prefix("service:")
        .unwrap_or(&target)
        .to_owned();
    let description = match &entry.fault {
        ControlFault::Down { .. } => format!("{who} is down (503)"),
        ControlFault::Error { status, .. } => {
            format!("{who} answers HTTP {}", status.unwrap_or(500))
        }
        ControlFault::Latency { ms } => format!("{who} answers after {ms} ms"),
        ControlFault::Garbage { .. } => format!("{who} answers garbage"),
        ControlFault::Flaky { percent } => format!("{who} fails {percent}% of requests"),
        ControlFault::RateLimited { .. } => format!("{who} rate-limits every request"),
    };
    let description = if entry.until_deploy {
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
