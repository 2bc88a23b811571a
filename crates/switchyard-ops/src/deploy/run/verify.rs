//! Verifying a deploy: the new record is the newest of its service/environment, and `/health`
//! answers 200 within the configured wait; refreshing the cached history after a change.

use super::*;

/// The URL of `service`'s `/health` in `environment` under `profile`.
pub(crate) fn health_url(profile: &Profile, service: &str, environment: Environment) -> String {
    let base = profile
        .service_url_template
        .replace("{service}", service)
        .replace("{environment}", environment.as_str());
    format!("{}/health", base.trim_end_matches('/'))
}

impl Ops {
    /// Refresh the cache of one service/environment from the Deploy API (best effort).
    pub(crate) async fn refresh_window(
        &self,
        profile: &ProfileContext<'_>,
        service: &str,
        environment: Environment,
    ) {
        let Ok(api) = profile.deploy_api() else {
            return;
        };
        let query = DeploymentQuery {
            service: Some(service.to_owned()),
            environment: Some(environment),
            limit: Some(20),
        };
        if let Ok(list) = api.list(&query).await {
            let _ = self
                .store
                .upsert_deployments(&profile.id, &list.deployments, self.now_ms())
                .await;
        }
    }

    /// Verify a deployment: (when `expected_id` is given) the newest record of the
    /// service/environment is it, and `/health` answers 200 within the configured wait.
    pub(crate) async fn verify(
        &self,
        profile: &ProfileContext<'_>,
        service: &str,
        environment: Environment,
        expected_id: Option<&str>,
        progress: &Progress<'_>,
    ) -> Verification {
        let settings = self.deploy_settings().await.unwrap_or_default();
        let mut v = Verification {
            record_seen: true,
            record_detail: String::new(),
            health_ok: false,
            health_url: health_url(profile, service, environment),
            health_status: None,
            health_detail: String::new(),
            waited_ms: 0,
        };
        match expected_id {
            None => progress.skipped(DeployStepId::VerifyRecord, "no new record to look for"),
            Some(id) => {
                progress.running(DeployStepId::VerifyRecord);
                let found = match profile.deploy_api() {
                    Err(e) => Err(e),
                    Ok(api) => {
                        api.list(&DeploymentQuery {
                            service: Some(service.to_owned()),
                            environment: Some(environment),
                            limit: Some(1),
                        })
                        .await
                    }
                };
                match found {
                    Ok(list) => match list.deployments.first() {
                        Some(d) if d.id == id => {
                            v.record_detail =
                                format!("{id} is the newest record of {service} in {environment}");
                            progress.passed(DeployStepId::VerifyRecord, v.record_detail.clone());
                        }
                        other => {
                            v.record_seen = false;
                            v.record_detail = format!(
                                "GET /deployments?service={service}&environment={environment}&limit=1 lists {} instead of {id}",
                                other.map(|d| d.id.as_str()).unwrap_or("nothing")
                            );
                            progress.step(
                                DeployStepId::VerifyRecord,
                                crate::deploy::StepState::Failed,
                                Some(v.record_detail.clone()),
                            );
                        }
                    },
                    Err(e) => {
                        v.record_seen = false;
                        v.record_detail =
                            format!("the deployment list could not be read: {}", e.message);
                        progress.failed(DeployStepId::VerifyRecord, &e);
                    }
                }
            }
        }

        progress.running(DeployStepId::VerifyHealth);
        let wait = Duration::from_millis(u64::from(settings.health_wait_ms));
        let poll = Duration::from_millis(u64::from(settings.health_poll_ms));
        let started = Instant::now();
        let target = ProbeTarget {
            name: service.to_owned(),
            url: v.health_url.clone(),
            key: None,
        };
        let mut attempts = 0u32;
        loop {
            let left = wait.saturating_sub(started.elapsed());
            let prober = HealthProber::new(
                self.http.clone(),
                left.clamp(Duration::from_millis(500), Duration::from_secs(5)),
            );
            let r = prober.probe(&target).await;
            attempts += 1;
            v.health_status = r.http_status;
            if r.state == ProbeState::Up {
                v.health_ok = true;
                v.health_detail =
                    format!("{} answered 200 after {attempts} probe(s)", v.health_url);
                break;
            }
            v.health_detail = r.detail.clone().unwrap_or_else(|| format!("{:?}", r.state));
            if started.elapsed() + poll > wait {
                break;
            }
            tokio::time::sleep(poll).await;
        }
        v.waited_ms = started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32;
        if v.health_ok {
            progress.passed(DeployStepId::VerifyHealth, v.health_detail.clone());
        } else {
            v.health_detail = format!(
                "{} did not answer 200 within {} ms ({} probe(s)); last: {}",
                v.health_url, settings.health_wait_ms, attempts, v.health_detail
            );
            progress.step(
                DeployStepId::VerifyHealth,
                crate::deploy::StepState::Failed,
                Some(v.health_detail.clone()),
            );
        }
        v
    }
}

/// Turn a failed verification into the error the operator sees (the deployment happened).
pub(crate) fn verification_result(
    deployment: &Deployment,
    v: &Verification,
) -> Result<(), AppError> {
    if v.record_seen && v.health_ok {
        return Ok(());
    }
    let mut failed = Vec::new();
    if !v.record_seen {
        failed.push(format!("the record check failed ({})", v.record_detail));
    }
    if !v.health_ok {
        failed.push(format!("the health check failed ({})", v.health_detail));
    }
    let (code, section) = match v.health_status {
        _ if v.health_ok => (ErrorCode::ServerError, RunbookSection::Deployment500),
        Some(404) => (ErrorCode::ServiceNotDeployed, RunbookSection::Deployed404),
        Some(s) if s >= 500 => (ErrorCode::ServerError, RunbookSection::DeployedCrashes),
        Some(_) => (ErrorCode::ServerError, RunbookSection::DeployedCrashes),
        None => (ErrorCode::Timeout, RunbookSection::DeployedCrashes),
    };
    Err(AppError::new(
        code,
        format!(
            "{} was deployed to {} {} and recorded, but verification failed: {}. Check the service, and roll back if it stays unhealthy.",
            deployment.id,
            deployment.service,
            deployment.environment,
            failed.join("; ")
        ),
    )
    .with_runbook(section))
}
