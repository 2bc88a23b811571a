//! `health`: the health board of the services, the dispatcher or the Deploy API.

use std::fmt::Write as _;

use switchyard_core::{AppError, Profile};

use super::{ActionResult, Failure, OutputSink, StepOutput};
use crate::runbooks::HealthTarget;
use crate::{HealthStatus, HealthTargetKind, Ops};

/// How long a health action waits for each target.
const HEALTH_TIMEOUT_MS: u32 = 10_000;

impl Ops {
    /// Check the targets' health; the step fails when one is down.
    pub(super) async fn rb_act_health<P: Fn(StepOutput) + Send + Sync>(
        &self,
        profile: &Profile,
        target: &HealthTarget,
        service: &Option<String>,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let pid = profile.id.as_str();
        let board = self.check_health(pid, HEALTH_TIMEOUT_MS).await?;
        let rows: Vec<_> = board
            .results
            .iter()
            .filter(|r| match target {
                HealthTarget::Services => {
                    r.kind == HealthTargetKind::Service
                        && service.as_ref().is_none_or(|s| &r.name == s)
                }
                HealthTarget::Dispatcher => r.kind == HealthTargetKind::Dispatcher,
                HealthTarget::DeployApi => r.kind == HealthTargetKind::DeployApi,
            })
            .collect();
        if rows.is_empty() {
            return Err(Failure::Action(AppError::invalid_input(match (target, service) {
                (HealthTarget::Services, Some(s)) => format!(
                    "Profile \"{}\" has no service \"{s}\". Add it to the profile's services in Settings, or pick another.",
                    profile.name
                ),
                (HealthTarget::Dispatcher, _) => format!(
                    "Profile \"{}\" has no dispatcher URL. Add it in Settings to check the dispatcher.",
                    profile.name
                ),
                _ => "There is nothing to check.".into(),
            })));
        }
        let mut text = String::new();
        let mut down = Vec::new();
        for r in &rows {
            let status = r
                .http_status
                .map(|s| format!("HTTP {s}"))
                .unwrap_or_else(|| "no answer".into());
            let state = match r.state {
                HealthStatus::Up => "up",
                HealthStatus::UpNeedsKey => "up (needs a key)",
                HealthStatus::Down => "DOWN",
            };
            let _ = write!(
                text,
                "{:<12} {:<16} {:<10} {:>5} ms",
                r.name, state, status, r.latency_ms
            );
            if let Some(d) = &r.detail {
                let _ = write!(text, "  {d}");
            }
            text.push('\n');
            if r.state == HealthStatus::Down {
                down.push(r.name.clone());
            }
        }
        let up = rows.len() - down.len();
        let _ = write!(text, "{up}/{} up", rows.len());
        sink.emit(&text).await.map_err(Failure::Store)?;
        Ok(if down.is_empty() {
            ActionResult::pass()
        } else {
            ActionResult::fail(format!("{} down: {}", down.len(), down.join(", ")))
        })
    }
}
