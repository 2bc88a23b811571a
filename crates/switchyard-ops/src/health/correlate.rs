//! Correlating a failure with the deploys before it: when the state changed, since when a target
//! fails, and the deploy that came shortly before.

use super::*;

/// When the state last changed in `history` (oldest first), given the current state.
pub(super) fn last_change(
    history: &[HealthSample],
    current: HealthStatus,
    now_ms: i64,
) -> Option<i64> {
    let mut streak_start = now_ms;
    for s in history.iter().rev() {
        if HealthStatus::from_stored(s.state) != current {
            return Some(streak_start);
        }
        streak_start = s.at_ms;
    }
    None
}

/// When a target that is down now started failing: the start of its current down streak in
/// `history` (oldest first), or `now_ms` when nothing before it was down.
pub(super) fn failing_since(history: &[HealthSample], now_ms: i64) -> i64 {
    let mut since = now_ms;
    for s in history.iter().rev() {
        if HealthStatus::from_stored(s.state) != HealthStatus::Down {
            break;
        }
        since = s.at_ms;
    }
    since
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
