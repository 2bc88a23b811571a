//! Moving the platform's traffic split: to a step's percentage, or all of it back on the stable
//! version; each move in the audit log, and a failed move stops the rollout where the platform is.

use switchyard_clients::VersionSplit;

use super::types::{Rollout, RolloutState};
use super::{push_event, short};
use crate::Ops;

impl Ops {
    /// Put all traffic back on the stable version; `state` and `reason` say why. When even that
    /// fails the rollout stops where the platform is, saying so.
    pub(super) async fn back_to_stable(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        r: &mut Rollout,
        state: RolloutState,
        reason: String,
    ) {
        let target = format!("{}/{}", r.service, r.environment);
        let params = serde_json::json!({
            "rollout": r.id, "from": r.percent, "stable": r.stable_version_id, "reason": reason,
        });
        let action = if state == RolloutState::Aborted {
            "rollout.abort"
        } else {
            "rollout.rollback"
        };
        let done = self
            .audited(&profile.id, action, &target, params, async {
                let versions = profile.versions()?;
                versions
                    .create_deployment(
                        &r.namespace,
                        &r.service,
                        &[VersionSplit::new(&r.stable_version_id, 100.0)],
                        Some(&format!("{}: back to the stable version", r.id)),
                    )
                    .await
            })
            .await;
        let now = self.now_ms();
        match done {
            Ok(_) => {
                let from = r.percent;
                r.percent = 0;
                r.state = state;
                r.reason = Some(reason.clone());
                push_event(
                    r,
                    now,
                    action.trim_start_matches("rollout."),
                    format!(
                        "All traffic back on {} (the new version had {from} %): {reason}",
                        short(&r.stable_version_id)
                    ),
                );
            }
            Err(e) => {
                r.state = RolloutState::Stopped;
                r.reason = Some(format!(
                    "{reason} Putting all traffic back on the stable version failed: {} The platform still serves {} % on the new version: abort again when it answers.",
                    e.message, r.percent
                ));
                push_event(r, now, "stopped", r.reason.clone().unwrap_or_default());
            }
        }
        r.updated_ms = now;
        if let Err(e) = self.save_rollout(r).await {
            tracing::error!(error = %e.message, "could not save the rollout");
        }
    }

    /// Move the split to step `index`; on failure the rollout stops at the last confirmed split.
    pub(super) async fn go_to_step(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        r: &mut Rollout,
        index: u32,
    ) -> bool {
        let Some(&pct) = r.settings.steps.get(index as usize) else {
            return false;
        };
        let target = format!("{}/{}", r.service, r.environment);
        let params = serde_json::json!({ "rollout": r.id, "step": index + 1, "percent": pct, "from": r.percent });
        let split = if pct >= 100 {
            vec![VersionSplit::new(&r.new_version_id, 100.0)]
        } else {
            vec![
                VersionSplit::new(&r.new_version_id, f64::from(pct)),
                VersionSplit::new(&r.stable_version_id, f64::from(100 - pct)),
            ]
        };
        let done = self
            .audited(&profile.id, "rollout.step", &target, params, async {
                let versions = profile.versions()?;
                versions
                    .create_deployment(
                        &r.namespace,
                        &r.service,
                        &split,
                        Some(&format!("{}: {pct} %", r.id)),
                    )
                    .await
            })
            .await;
        let now = self.now_ms();
        match done {
            Ok(_) => {
                r.percent = pct;
                r.step = Some(index);
                r.step_started_ms = Some(now);
                r.state = RolloutState::Stepping;
                r.reason = None;
                r.awaiting_checks = false;
                r.gate = None;
                push_event(
                    r,
                    now,
                    "step",
                    format!(
                        "Step {} of {}: {pct} % on the new version; its gates decide in {} s.",
                        index + 1,
                        r.settings.steps.len(),
                        r.settings.dwell_seconds
                    ),
                );
                true
            }
            Err(e) => {
                r.state = RolloutState::Stopped;
                r.reason = Some(format!(
                    "Moving to {pct} % failed: {} The platform still serves the last confirmed split ({} % on the new version). Resume to retry, or abort to put all traffic back on the stable version.",
                    e.message, r.percent
                ));
                push_event(r, now, "stopped", r.reason.clone().unwrap_or_default());
                false
            }
        }
    }
}
