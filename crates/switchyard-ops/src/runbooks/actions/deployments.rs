//! `deployments`: the service's last deployments (cached in the history on the way).

use std::fmt::Write as _;

use switchyard_clients::DeploymentQuery;
use switchyard_core::{DeploymentStatus, Environment};

use super::{ActionResult, Failure, Ops, OutputSink, ProfileContext, StepOutput};

impl Ops {
    /// List the last deployments, filtered by status.
    pub(super) async fn rb_act_deployments<P: Fn(StepOutput) + Send + Sync>(
        &self,
        profile: &ProfileContext<'_>,
        service: &Option<String>,
        environment: Option<Environment>,
        limit: u32,
        status: Option<DeploymentStatus>,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let pid = profile.id.as_str();
        let api = profile.deploy_api()?;
        let list = api
            .list(&DeploymentQuery {
                service: service.clone(),
                environment,
                limit: Some(limit),
            })
            .await?;
        if let Err(e) = self
            .store
            .upsert_deployments(pid, &list.deployments, self.now_ms())
            .await
        {
            tracing::warn!(error = %e.message, "could not cache the deployments a runbook listed");
        }
        let rows: Vec<_> = list
            .deployments
            .iter()
            .filter(|d| status.is_none_or(|s| d.status == s))
            .collect();
        let mut text = String::new();
        for d in &rows {
            let _ = writeln!(
                text,
                "{}  {:<10} {:<12} {:<12} {:<10} {}",
                d.timestamp,
                d.service,
                d.environment,
                d.status,
                d.version_tag.as_deref().unwrap_or("-"),
                d.id
            );
        }
        let _ = write!(
            text,
            "{} deployment{}{}",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            status
                .map(|s| format!(" {s} (of the last {})", list.deployments.len()))
                .unwrap_or_default()
        );
        sink.emit(&text).await.map_err(Failure::Store)?;
        Ok(ActionResult::pass())
    }
}
