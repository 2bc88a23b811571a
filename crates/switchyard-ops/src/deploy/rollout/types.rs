//! What a rollout is, as the window and the store see it: its settings (checked field by field),
//! plan, state, gates and events.

use serde::{Deserialize, Serialize};

use switchyard_core::{AppError, Environment};

use crate::deploy::{Confirmation, ConfirmationRequirement, PlanBasis};

/// The steps, dwell and gates of a rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RolloutSettings {
    /// The new version's share at each step, ascending, ending at 100.
    pub steps: Vec<u32>,
    /// How long each step holds before its gate decides.
    pub dwell_seconds: u32,
    /// The gate fails when more than this share of the new version's requests fail.
    pub max_error_rate_pct: f64,
    /// Requests of the new version needed in a step before its error rate can decide.
    pub min_requests: u32,
    /// Requests a second Switchyard sends to the service during each step (0: rely on real
    /// traffic), so a quiet service still gives the gate something to judge.
    pub probe_per_second: u32,
    /// The path those requests ask for.
    pub probe_path: String,
    /// Checks the operator confirms at each gate before the split moves on (e.g. "the
    /// dashboard's error rate is normal"); none by default.
    #[serde(default)]
    pub operator_checks: Vec<String>,
}

impl Default for RolloutSettings {
    fn default() -> Self {
        RolloutSettings {
            steps: vec![10, 50, 100],
            dwell_seconds: 60,
            max_error_rate_pct: 5.0,
            min_requests: 20,
            probe_per_second: 0,
            probe_path: "/".into(),
            operator_checks: Vec::new(),
        }
    }
}

impl RolloutSettings {
    /// Refuse settings that cannot make a rollout, naming the field.
    pub fn check(&self) -> Result<(), AppError> {
        let bad = |m: String| Err(AppError::invalid_input(m));
        if self.steps.is_empty() || self.steps.len() > 10 {
            return bad(format!(
                "steps: give 1 to 10 percentages ending at 100 (got {}).",
                self.steps.len()
            ));
        }
        if self.steps.iter().any(|p| *p == 0 || *p > 100) {
            return bad("steps: each step is a share from 1 to 100 %.".into());
        }
        if self.steps.windows(2).any(|w| w[0] >= w[1]) {
            return bad(
                "steps: each step must be larger than the one before (e.g. 10, 50, 100).".into(),
            );
        }
        if self.steps.last() != Some(&100) {
            return bad("steps: the last step must be 100 % (the rollout ends with all traffic on the new version).".into());
        }
        if !(1..=86_400).contains(&self.dwell_seconds) {
            return bad("dwellSeconds: from 1 second to 1 day.".into());
        }
        if !(0.0..=100.0).contains(&self.max_error_rate_pct) || self.max_error_rate_pct.is_nan() {
            return bad("maxErrorRatePct: a share from 0 to 100 %.".into());
        }
        if !(1..=100_000).contains(&self.min_requests) {
            return bad("minRequests: from 1 to 100,000 requests.".into());
        }
        if self.probe_per_second > 50 {
            return bad("probePerSecond: at most 50 requests a second.".into());
        }
        if !self.probe_path.starts_with('/') || self.probe_path.len() > 512 {
            return bad("probePath: a path starting with / (at most 512 characters).".into());
        }
        if self.operator_checks.len() > 10
            || self
                .operator_checks
                .iter()
                .any(|c| c.trim().is_empty() || c.chars().count() > 200)
        {
            return bad(
                "operatorChecks: at most 10 checks, each one line of 1 to 200 characters.".into(),
            );
        }
        Ok(())
    }
}

/// A rollout to plan: the bundle file, where, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RolloutRequest {
    pub profile_id: String,
    pub service: String,
    pub environment: Environment,
    /// The built bundle (an ES module), as for a bundle-file deploy.
    pub bundle_path: String,
    pub settings: RolloutSettings,
}

/// The version serving all traffic now, which the rollout falls back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StableVersion {
    pub version_id: String,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub number: Option<u64>,
    pub created_on: Option<String>,
    pub message: Option<String>,
}

/// What a rollout will do, shown before it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RolloutPlan {
    pub profile_id: String,
    pub service: String,
    pub environment: Environment,
    pub namespace: String,
    pub bundle_sha256: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub bundle_size: u64,
    pub stable: StableVersion,
    pub settings: RolloutSettings,
    pub warnings: Vec<String>,
    pub confirmation: ConfirmationRequirement,
    /// The button's label.
    pub action: String,
    /// The active deployment the plan was made against: send it back in the confirmation.
    pub basis: PlanBasis,
}

/// Start a planned rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StartRollout {
    pub request: RolloutRequest,
    /// The bundle's hash as planned: a file changed since is refused.
    pub bundle_sha256: String,
    pub confirmation: Confirmation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum RolloutState {
    /// The new version is uploaded at 0 %: test it, then begin the steps.
    Testing,
    /// At a step, dwelling, its gates watched.
    Stepping,
    /// Holding the split; nothing moves by itself.
    Paused,
    /// A platform call failed: the split is the last one confirmed. Resume to retry, or abort.
    Stopped,
    /// The app stopped while the rollout ran: resume it or abort it.
    Interrupted,
    /// All traffic is on the new version.
    Completed,
    /// A gate failed: all traffic went back to the stable version.
    RolledBack,
    /// The operator aborted it: all traffic went back to the stable version.
    Aborted,
}

impl RolloutState {
    pub fn is_over(self) -> bool {
        matches!(
            self,
            RolloutState::Completed | RolloutState::RolledBack | RolloutState::Aborted
        )
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            RolloutState::Testing => "testing",
            RolloutState::Stepping => "stepping",
            RolloutState::Paused => "paused",
            RolloutState::Stopped => "stopped",
            RolloutState::Interrupted => "interrupted",
            RolloutState::Completed => "completed",
            RolloutState::RolledBack => "rolledBack",
            RolloutState::Aborted => "aborted",
        }
    }
}

/// What a step's gates saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct GateCheck {
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
    pub percent: u32,
    /// None until the first health check of the step.
    pub health_ok: Option<bool>,
    pub health_detail: String,
    /// Requests of the new version seen in the tail during the step, and how many failed.
    pub requests: u32,
    pub errors: u32,
    pub error_rate_pct: Option<f64>,
    /// None while the step dwells; true or false once the gate decided.
    pub passed: Option<bool>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RolloutEvent {
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
    pub kind: String,
    pub message: String,
}

/// A rollout and where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    pub id: String,
    pub profile_id: String,
    pub service: String,
    pub environment: Environment,
    pub namespace: String,
    pub bundle_sha256: String,
    pub new_version_id: String,
    pub stable_version_id: String,
    pub settings: RolloutSettings,
    pub state: RolloutState,
    /// Index into `settings.steps` of the step reached (None while at 0 %).
    pub step: Option<u32>,
    /// The new version's share of traffic the platform was last told, in percent.
    pub percent: u32,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub step_started_ms: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub started_ms: i64,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub updated_ms: i64,
    pub started_by: String,
    pub gate: Option<GateCheck>,
    /// Newest last.
    pub events: Vec<RolloutEvent>,
    /// Why it paused, stopped, rolled back or was aborted.
    pub reason: Option<String>,
    /// Held after a passing gate until the operator confirms `settings.operator_checks`
    /// (advancing confirms them).
    #[serde(default)]
    pub awaiting_checks: bool,
}

/// What the operator asks of a running rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum RolloutCommand {
    /// From 0 %: go to the first step.
    Begin,
    Pause,
    /// Continue a paused or stopped rollout at its step (a stopped one retries its split).
    Resume,
    /// Go to the next step now, without waiting for the dwell.
    Advance,
    /// Put all traffic back on the stable version and end the rollout.
    Abort,
}

/// One answer of the new version to a pinned request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PinnedAnswer {
    pub status: Option<u16>,
    pub ms: u32,
    /// The start of the body (at most 500 characters).
    pub body: String,
    pub error: Option<String>,
}

/// The new version tested with requests pinned to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct VersionTest {
    pub url: String,
    pub version_id: String,
    pub answers: Vec<PinnedAnswer>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_by_name() {
        assert!(RolloutSettings::default().check().is_ok());
        for (s, field) in [
            (
                RolloutSettings {
                    steps: vec![],
                    ..Default::default()
                },
                "steps",
            ),
            (
                RolloutSettings {
                    steps: vec![50, 10, 100],
                    ..Default::default()
                },
                "steps",
            ),
            (
                RolloutSettings {
                    steps: vec![10, 50],
                    ..Default::default()
                },
                "steps",
            ),
            (
                RolloutSettings {
                    dwell_seconds: 0,
                    ..Default::default()
                },
                "dwellSeconds",
            ),
            (
                RolloutSettings {
                    max_error_rate_pct: 101.0,
                    ..Default::default()
                },
                "maxErrorRatePct",
            ),
            (
                RolloutSettings {
                    min_requests: 0,
                    ..Default::default()
                },
                "minRequests",
            ),
            (
                RolloutSettings {
                    probe_per_second: 51,
                    ..Default::default()
                },
                "probePerSecond",
            ),
            (
                RolloutSettings {
                    probe_path: "x".into(),
                    ..Default::default()
                },
                "probePath",
            ),
            (
                RolloutSettings {
                    operator_checks: vec![" ".into()],
                    ..Default::default()
                },
                "operatorChecks",
            ),
        ] {
            let e = s.check().unwrap_err();
            assert!(e.message.starts_with(field), "{field}: {}", e.message);
        }
    }
}
