//! Correlating a failure with the deploys before it: when the state changed, since when a target
//! fails, and the deploy that came shortly before.

use super::*;

/// When the state last changed, given the current state and the run of samples in it that ends
/// the target's history (`run`, read for `current`'s states): `now_ms` when the last sample was
/// in another state, the run's start when one in another state came before it, `None` when
/// every sample kept is in the current state (or there is none).
pub(super) fn last_change(run: &HealthRun, now_ms: i64) -> Option<i64> {
    match (&run.newest, run.started_ms) {
        (None, _) => None,
        (Some(_), None) => Some(now_ms),
        (Some(_), Some(start)) => run.after_other.then_some(start),
    }
}

/// When a target that is down now started failing: the start of its current down streak (`run`,
/// read for the down states), or `now_ms` when its last sample was not down.
pub(super) fn failing_since(run: &HealthRun, now_ms: i64) -> i64 {
    run.started_ms.unwrap_or(now_ms)
}

/// The newest deployment in `candidates` (newest first) that came before `failing_since_ms`
/// (a minute of clock skew allowed) and at most `window_ms` before it.
pub(super) fn suspect_among(
    candidates: &[switchyard_core::Deployment],
    failing_since_ms: i64,
    window_ms: i64,
) -> Option<SuspectDeployment> {
    candidates
        .iter()
        .filter(|d| d.status != switchyard_core::DeploymentStatus::Failed)
        .filter_map(|d| {
            let at = chrono::DateTime::parse_from_rfc3339(&d.timestamp)
                .ok()?
                .timestamp_millis();
            Some((d, at))
        })
        .find(|(_, at)| *at <= failing_since_ms + MINUTE_MS && failing_since_ms - at <= window_ms)
        .map(|(d, at)| SuspectDeployment {
            deployment_id: d.id.clone(),
            service: d.service.clone(),
            version_tag: d.version_tag.clone(),
            commit: switchyard_core::short_commit(&d.metadata.commit),
            author: d.metadata.author.clone(),
            deployed_at_ms: at,
            failing_since_ms,
            minutes_after: ((failing_since_ms - at).max(0) / MINUTE_MS) as u32,
        })
}
