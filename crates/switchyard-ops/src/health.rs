//! Health: check every service of a profile, the dispatcher and the Deploy API at once, keep
//! each answer as a sample (compacted into 5-minute buckets after a day, dropped after 30 days),
//! say which targets changed state since their previous sample, and rate-limit the notifications
//! those changes raise.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use switchyard_clients::{HealthProber, ProbeResult, ProbeState, ProbeTarget};
use switchyard_core::{AppError, Profile, RunbookSection};
use switchyard_store::{AuditEntry, HealthRun, HealthSample, HealthState};

use crate::Ops;

mod notify;
pub use notify::{HealthNotification, NotificationGate};

mod correlate;
use correlate::*;

/// The target name of the dispatcher.
pub const DISPATCHER_TARGET: &str = "dispatcher";
/// The target name of the Deploy API.
pub const DEPLOY_API_TARGET: &str = "deploy-api";

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;
/// Raw samples older than this are folded into buckets.
const RAW_RETENTION_MS: i64 = DAY_MS;
/// The width of a bucket.
const BUCKET_WIDTH_MS: i64 = 5 * MINUTE_MS;
/// Buckets older than this are dropped.
const BUCKET_RETENTION_MS: i64 = 30 * DAY_MS;
/// Bounds of a check's per-target timeout.
const MIN_TIMEOUT_MS: u32 = 100;
const MAX_TIMEOUT_MS: u32 = 120_000;

/// What a target is, so the window can group them (the summary counts services only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum HealthTargetKind {
    Service,
    Dispatcher,
    DeployApi,
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum HealthStatus {
    Up,
    /// Answered 401: up, but the check needs a key (the Deploy API's `/health`).
    UpNeedsKey,
    Down,
}

impl HealthStatus {
    fn from_probe(s: ProbeState) -> HealthStatus {
        match s {
            ProbeState::Up => HealthStatus::Up,
            ProbeState::UpNeedsKey => HealthStatus::UpNeedsKey,
            ProbeState::Down => HealthStatus::Down,
        }
    }

    fn from_stored(s: HealthState) -> HealthStatus {
        match s {
            HealthState::Up => HealthStatus::Up,
            HealthState::UpNeedsKey => HealthStatus::UpNeedsKey,
            HealthState::Degraded | HealthState::Down => HealthStatus::Down,
        }
    }

    /// The stored states read as this status.
    fn stored_states(self) -> &'static [HealthState] {
        match self {
            HealthStatus::Up => &[HealthState::Up],
            HealthStatus::UpNeedsKey => &[HealthState::UpNeedsKey],
            HealthStatus::Down => &[HealthState::Degraded, HealthState::Down],
        }
    }

    fn stored(self) -> HealthState {
        match self {
            HealthStatus::Up => HealthState::Up,
            HealthStatus::UpNeedsKey => HealthState::UpNeedsKey,
            HealthStatus::Down => HealthState::Down,
        }
    }

    fn words(self) -> &'static str {
        match self {
            HealthStatus::Up => "up",
            HealthStatus::UpNeedsKey => "up (the check needs a key)",
            HealthStatus::Down => "down",
        }
    }
}

/// One target's row on the health board.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ServiceHealth {
    pub name: String,
    pub kind: HealthTargetKind,
    pub url: String,
    pub state: HealthStatus,
    pub http_status: Option<u16>,
    pub latency_ms: u32,
    /// Why it is down, in words.
    pub detail: Option<String>,
    /// The runbook section that helps, when it is down.
    pub runbook: Option<String>,
    /// True when the state differs from the target's previous stored sample (false on the
    /// first check ever: there is nothing to differ from).
    pub changed: bool,
    /// The state of the previous stored sample, if any.
    pub previous_state: Option<HealthStatus>,
    /// When the target last changed state, as far as the last 24 h of samples show (None when
    /// it did not change within them).
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub last_change_ms: Option<i64>,
    /// For a service that is down: the deployment of it that came shortly before it started
    /// failing (within the correlation window), if any — the likely cause.
    pub suspect: Option<SuspectDeployment>,
}

/// A deployment that came shortly before a service started failing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SuspectDeployment {
    pub deployment_id: String,
    pub service: String,
    pub version_tag: Option<String>,
    /// The first 7 characters of the commit.
    pub commit: String,
    pub author: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub deployed_at_ms: i64,
    /// When the service started failing (as far as the checks saw).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub failing_since_ms: i64,
    /// Whole minutes from the deployment to the first failing check.
    pub minutes_after: u32,
}

impl SuspectDeployment {
    /// "2 min after v1.3.0 (commit abc1234, by ana@example.com)"
    pub fn words(&self) -> String {
        format!(
            "{} after {} (commit {}, by {})",
            match self.minutes_after {
                0 => "less than a minute".to_owned(),
                m => format!("{m} min"),
            },
            self.version_tag.as_deref().unwrap_or(&self.deployment_id),
            self.commit,
            if self.author.is_empty() {
                "an unknown author"
            } else {
                &self.author
            }
        )
    }
}

/// The setting that holds the correlation window, in minutes.
pub const CORRELATION_WINDOW_SETTING: &str = "health.correlation_window_minutes";
/// The correlation window when none is set.
pub const DEFAULT_CORRELATION_WINDOW_MINUTES: u32 = 15;

/// "7/8 services healthy": the profile's services that answered up (dispatcher and Deploy API
/// are shown but not counted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HealthSummary {
    pub healthy: u32,
    pub total: u32,
    pub text: String,
}

/// The result of one check of every target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HealthBoard {
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub checked_at_ms: i64,
    pub results: Vec<ServiceHealth>,
    pub summary: HealthSummary,
    /// The notifications this check raised (state changes, rate-limited); each is also in the
    /// audit log as `health.notify`.
    pub notifications: Vec<HealthNotification>,
}

impl HealthBoard {
    /// The targets whose state changed in this check.
    pub fn changes(&self) -> impl Iterator<Item = &ServiceHealth> {
        self.results.iter().filter(|r| r.changed)
    }
}

/// One point of a target's history (a raw sample, or a 5-minute bucket for older history).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HealthPoint {
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
    /// Up (or up needing a key) — for a bucket, every sample in it was.
    pub up: bool,
    /// The latency; for a bucket, its average.
    pub latency_ms: Option<u32>,
    /// How many checks the point stands for (1 for a raw sample).
    pub samples: u32,
}

fn targets_with_kind(profile: &Profile) -> Vec<(HealthTargetKind, ProbeTarget)> {
    let mut out: Vec<(HealthTargetKind, ProbeTarget)> = profile
        .services
        .iter()
        .map(|s| {
            (
                HealthTargetKind::Service,
                ProbeTarget {
                    name: s.clone(),
                    url: profile.service_health_url(s),
                    key: None,
                },
            )
        })
        .collect();
    if !profile.dispatcher_url.trim().is_empty() {
        out.push((
            HealthTargetKind::Dispatcher,
            ProbeTarget {
                name: DISPATCHER_TARGET.into(),
                url: format!("{}/health", profile.dispatcher_url.trim_end_matches('/')),
                key: None,
            },
        ));
    }
    out.push((
        HealthTargetKind::DeployApi,
        ProbeTarget {
            name: DEPLOY_API_TARGET.into(),
            url: format!("{}/health", profile.deploy_api_url.trim_end_matches('/')),
            // Deliberately without a key: a 401 means "up, needs key", and no key leaves Rust
            // for a health check.
            key: None,
        },
    ));
    out
}

/// What to check for `profile`: every service, the dispatcher (when the profile has one) and the
/// Deploy API (without a key, so a 401 reads "up, needs key").
pub fn health_targets(profile: &Profile) -> Vec<ProbeTarget> {
    targets_with_kind(profile)
        .into_iter()
        .map(|(_, t)| t)
        .collect()
}

fn summary(results: &[ServiceHealth]) -> HealthSummary {
    let services = results
        .iter()
        .filter(|r| r.kind == HealthTargetKind::Service);
    let total = services.clone().count() as u32;
    // Only a true "up" counts: an answer is not health (a 500 is an answer too).
    let healthy = services.filter(|r| r.state == HealthStatus::Up).count() as u32;
    HealthSummary {
        healthy,
        total,
        text: format!("{healthy}/{total} services healthy"),
    }
}

impl Ops {
    /// Check every target of the profile at once (each within `timeout_ms`, bounded to
    /// 100 ms..120 s), store the answers as samples, compact old samples, and say which targets
    /// changed state since their previous sample.
    pub async fn check_health(
        &self,
        profile_id: &str,
        timeout_ms: u32,
    ) -> Result<HealthBoard, AppError> {
        let profile = self.for_profile(profile_id).await?;
        let targets = targets_with_kind(&profile);
        let probes: Vec<ProbeTarget> = targets.iter().map(|(_, t)| t.clone()).collect();
        let timeout =
            Duration::from_millis(u64::from(timeout_ms.clamp(MIN_TIMEOUT_MS, MAX_TIMEOUT_MS)));
        let answers = HealthProber::new(self.http.clone(), timeout)
            .probe_all(&probes)
            .await;
        let now = self.now_ms();
        let mut results = Vec::with_capacity(answers.len());
        let window_ms = i64::from(self.correlation_window_minutes().await) * MINUTE_MS;
        for ((kind, _), answer) in targets.iter().zip(answers) {
            // The last sample kept and how long the target had been in the state found now
            // (a few seeks, not the day of checks).
            let run = self
                .store
                .health_run(
                    profile_id,
                    &answer.name,
                    now - RAW_RETENTION_MS,
                    HealthStatus::from_probe(answer.state).stored_states(),
                )
                .await?;
            let mut r = row(*kind, answer, &run, now);
            if r.kind == HealthTargetKind::Service && r.state == HealthStatus::Down {
                let since = failing_since(&run, now);
                // Just turned down (or first seen down): ask the Deploy API for the service's
                // newest deployments, so one made by CI or a colleague is known too.
                if r.changed || run.newest.is_none() {
                    self.refresh_recent_deployments(&profile, &r.name).await;
                }
                r.suspect = self
                    .suspect_deployment(&profile, &r.name, since, window_ms)
                    .await;
            }
            results.push(r);
        }
        let samples: Vec<HealthSample> = results
            .iter()
            .map(|r| HealthSample {
                target: r.name.clone(),
                at_ms: now,
                state: r.state.stored(),
                http_status: r.http_status.map(i64::from),
                latency_ms: Some(i64::from(r.latency_ms)),
            })
            .collect();
        self.store
            .insert_health_samples(profile_id, &samples)
            .await?;
        self.store
            .compact_health(
                now - RAW_RETENTION_MS,
                BUCKET_WIDTH_MS,
                now - BUCKET_RETENTION_MS,
            )
            .await?;
        let mut board = HealthBoard {
            checked_at_ms: now,
            summary: summary(&results),
            results,
            notifications: Vec::new(),
        };
        let notifications = self
            .health_gate
            .lock()
            .expect("health notification gate")
            .notifications(&board, now);
        for n in &notifications {
            let entry = AuditEntry {
                at_ms: now,
                actor: crate::actor(),
                profile_id: profile_id.to_owned(),
                action: "health.notify".to_owned(),
                target: n.target.clone(),
                params: serde_json::json!({ "state": n.state, "title": n.title }),
                outcome: "ok".to_owned(),
                message: Some(n.body.clone()),
                duration_ms: 0,
            };
            if let Err(e) = self.store.append_audit(&entry).await {
                tracing::error!(error = %e.message, "could not record a health notification");
            }
        }
        board.notifications = notifications;
        Ok(board)
    }

    /// The correlation window (minutes): a service that starts failing within it after a
    /// deployment of it names that deployment.
    pub async fn correlation_window_minutes(&self) -> u32 {
        match self.store.setting(CORRELATION_WINDOW_SETTING).await {
            Ok(Some(v)) => v
                .parse::<u32>()
                .ok()
                .filter(|m| (1..=24 * 60).contains(m))
                .unwrap_or(DEFAULT_CORRELATION_WINDOW_MINUTES),
            _ => DEFAULT_CORRELATION_WINDOW_MINUTES,
        }
    }

    /// Sets the correlation window (1 to 1440 minutes).
    pub async fn set_correlation_window_minutes(&self, minutes: u32) -> Result<(), AppError> {
        let params = serde_json::json!({ "minutes": minutes });
        self.audited(
            "",
            "setting.correlation_window",
            CORRELATION_WINDOW_SETTING,
            params,
            async {
                if !(1..=24 * 60).contains(&minutes) {
                    return Err(AppError::invalid_input(format!(
                        "minutes: the correlation window is 1 to 1440 minutes, not {minutes}."
                    )));
                }
                self.store
                    .set_setting(CORRELATION_WINDOW_SETTING, &minutes.to_string())
                    .await
            },
        )
        .await
    }

    /// Best effort: the service's newest deployments from the Deploy API into the cache.
    async fn refresh_recent_deployments(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        service: &str,
    ) {
        let Ok(api) = profile.deploy_api() else {
            return;
        };
        let query = switchyard_clients::DeploymentQuery {
            service: Some(service.to_owned()),
            environment: Some(profile.environment),
            limit: Some(5),
        };
        let fetched = tokio::time::timeout(Duration::from_secs(3), api.list(&query)).await;
        if let Ok(Ok(list)) = fetched {
            if let Err(e) = self
                .store
                .upsert_deployments(&profile.id, &list.deployments, self.now_ms())
                .await
            {
                tracing::warn!(error = %e.message, "caching the newest deployments failed");
            }
        }
    }

    /// The deployment of `service` (cached) that came within `window_ms` before `since_ms`.
    async fn suspect_deployment(
        &self,
        profile: &Profile,
        service: &str,
        since_ms: i64,
        window_ms: i64,
    ) -> Option<SuspectDeployment> {
        let filter = switchyard_store::DeploymentFilter {
            service: Some(service.to_owned()),
            environment: Some(profile.environment),
            until_ms: Some(since_ms + MINUTE_MS),
            limit: Some(5),
            ..Default::default()
        };
        let recent = self
            .store
            .query_deployments(&profile.id, &filter)
            .await
            .ok()?;
        suspect_among(&recent, since_ms, window_ms)
    }

    /// The history of one target since `since_ms`, oldest first: 5-minute buckets for what is
    /// older than a day, raw samples after — for sparklines.
    pub async fn health_history(
        &self,
        profile_id: &str,
        target: &str,
        since_ms: i64,
    ) -> Result<Vec<HealthPoint>, AppError> {
        self.for_profile(profile_id).await?;
        let buckets = self
            .store
            .health_buckets(profile_id, target, since_ms)
            .await?;
        let raw = self
            .store
            .health_samples(profile_id, target, since_ms)
            .await?;
        let mut points: Vec<HealthPoint> = buckets
            .into_iter()
            .map(|b| HealthPoint {
                at_ms: b.bucket_ms,
                up: b.samples > 0 && b.up_samples >= b.samples,
                latency_ms: b
                    .avg_latency_ms
                    .map(|l| l.round().clamp(0.0, u32::MAX as f64) as u32),
                samples: b.samples.clamp(0, i64::from(u32::MAX)) as u32,
            })
            .chain(raw.into_iter().map(|s| HealthPoint {
                at_ms: s.at_ms,
                up: s.state.is_up(),
                latency_ms: s.latency_ms.map(|l| l.clamp(0, i64::from(u32::MAX)) as u32),
                samples: 1,
            }))
            .collect();
        points.sort_by_key(|p| p.at_ms);
        Ok(points)
    }
}

fn row(kind: HealthTargetKind, answer: ProbeResult, run: &HealthRun, now: i64) -> ServiceHealth {
    let state = HealthStatus::from_probe(answer.state);
    let previous_state = run
        .newest
        .as_ref()
        .map(|s| HealthStatus::from_stored(s.state));
    let changed = previous_state.is_some_and(|p| p != state);
    let mut runbook = answer.runbook;
    let mut detail = answer.detail;
    if state == HealthStatus::Down && kind == HealthTargetKind::DeployApi {
        runbook = Some(RunbookSection::DeployApiDown.heading().to_owned());
    }
    if state == HealthStatus::UpNeedsKey && detail.is_none() {
        detail = Some("answered 401: it is up; its health details need a key".into());
    }
    ServiceHealth {
        name: answer.name,
        kind,
        url: answer.url,
        state,
        http_status: answer.http_status,
        latency_ms: answer.latency_ms.min(u64::from(u32::MAX)) as u32,
        detail,
        runbook,
        changed,
        previous_state,
        last_change_ms: last_change(run, now),
        suspect: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: i64, state: HealthState) -> HealthSample {
        HealthSample {
            target: "db".into(),
            at_ms,
            state,
            http_status: None,
            latency_ms: Some(5),
        }
    }

    fn result(
        name: &str,
        kind: HealthTargetKind,
        state: HealthStatus,
        changed: bool,
    ) -> ServiceHealth {
        ServiceHealth {
            name: name.into(),
            kind,
            url: format!("http://x/{name}/health"),
            state,
            http_status: Some(if state == HealthStatus::Down {
                500
            } else {
                200
            }),
            latency_ms: 3,
            detail: (state == HealthStatus::Down).then(|| "HTTP 500".to_owned()),
            runbook: (state == HealthStatus::Down)
                .then(|| RunbookSection::DeployedCrashes.heading().to_owned()),
            changed,
            previous_state: changed.then_some(if state == HealthStatus::Down {
                HealthStatus::Up
            } else {
                HealthStatus::Down
            }),
            last_change_ms: None,
            suspect: None,
        }
    }

    #[test]
    fn gate_allows_one_notification_per_target_per_interval() {
        let mut gate = NotificationGate::new(60);
        assert!(gate.allow("db", 1_000));
        assert!(!gate.allow("db", 30_000), "within the interval");
        assert!(gate.allow("auth", 30_000), "other targets are independent");
        assert!(!gate.allow("db", 60_999));
        assert!(gate.allow("db", 61_000), "the interval has passed");
        assert!(!gate.allow("db", 61_001));
        // A clock that went backwards does not silence a target for ever.
        assert!(gate.allow("db", 10));
    }

    #[test]
    fn gate_turns_changes_into_rate_limited_notifications() {
        let board = HealthBoard {
            checked_at_ms: 0,
            results: vec![
                result("db", HealthTargetKind::Service, HealthStatus::Down, true),
                result(
                    "gateway",
                    HealthTargetKind::Service,
                    HealthStatus::Up,
                    false,
                ),
                result("auth", HealthTargetKind::Service, HealthStatus::Up, true),
            ],
            summary: HealthSummary {
                healthy: 2,
                total: 3,
                text: String::new(),
            },
            notifications: Vec::new(),
        };
        let mut gate = NotificationGate::new(300);
        let n = gate.notifications(&board, 0);
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].title, "db is down");
        assert!(
            n[0].body.contains("Service Deployed but Crashes"),
            "{}",
            n[0].body
        );
        assert_eq!(n[1].title, "auth is up again");
        assert!(gate.notifications(&board, 299_999).is_empty());
        assert_eq!(gate.notifications(&board, 300_000).len(), 2);

        // db coming back right after it went down is still told.
        let recovered = HealthBoard {
            results: vec![result(
                "db",
                HealthTargetKind::Service,
                HealthStatus::Up,
                true,
            )],
            ..board.clone()
        };
        let n = gate.notifications(&recovered, 300_001);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].title, "db is up again");
        assert!(
            gate.notifications(&recovered, 300_002).is_empty(),
            "but only once"
        );
    }

    #[test]
    fn summary_counts_only_services_that_are_up() {
        let results = vec![
            result("db", HealthTargetKind::Service, HealthStatus::Down, false),
            result(
                "gateway",
                HealthTargetKind::Service,
                HealthStatus::Up,
                false,
            ),
            result(
                "auth",
                HealthTargetKind::Service,
                HealthStatus::UpNeedsKey,
                false,
            ),
            result(
                DISPATCHER_TARGET,
                HealthTargetKind::Dispatcher,
                HealthStatus::Up,
                false,
            ),
            result(
                DEPLOY_API_TARGET,
                HealthTargetKind::DeployApi,
                HealthStatus::UpNeedsKey,
                false,
            ),
        ];
        let s = summary(&results);
        assert_eq!((s.healthy, s.total), (1, 3));
        assert_eq!(s.text, "1/3 services healthy");
    }

    #[test]
    fn last_change_is_the_start_of_the_current_streak() {
        // Up at 10, down at 20 and 30; checked at 40.
        let run = |started_ms, after_other| HealthRun {
            newest: Some(sample(30, HealthState::Down)),
            started_ms,
            after_other,
        };
        // Down now: down since 20.
        assert_eq!(last_change(&run(Some(20), true), 40), Some(20));
        assert_eq!(failing_since(&run(Some(20), true), 40), 20);
        // Up now: it changed with this check.
        assert_eq!(last_change(&run(None, false), 40), Some(40));
        // Down at 20 and 30 only: down for as long as is known, no change seen.
        assert_eq!(last_change(&run(Some(20), false), 40), None);
        assert_eq!(failing_since(&run(Some(20), false), 40), 20);
        let nothing = HealthRun {
            newest: None,
            started_ms: None,
            after_other: false,
        };
        assert_eq!(last_change(&nothing, 40), None);
        assert_eq!(failing_since(&nothing, 40), 40);
    }

    #[test]
    fn targets_cover_services_dispatcher_and_the_deploy_api_without_a_key() {
        let mut p = Profile::local_sandbox();
        p.dispatcher_url = "http://127.0.0.1:1/dispatcher/production/".into();
        p.deploy_api_url = "http://127.0.0.1:1/deploy-api".into();
        let t = health_targets(&p);
        assert_eq!(t.len(), p.services.len() + 2);
        let dispatcher = t.iter().find(|t| t.name == DISPATCHER_TARGET).unwrap();
        assert_eq!(
            dispatcher.url,
            "http://127.0.0.1:1/dispatcher/production/health"
        );
        let deploy = t.iter().find(|t| t.name == DEPLOY_API_TARGET).unwrap();
        assert_eq!(deploy.url, "http://127.0.0.1:1/deploy-api/health");
        assert!(t.iter().all(|t| t.key.is_none()));
        p.dispatcher_url.clear();
        assert_eq!(health_targets(&p).len(), p.services.len() + 1);
    }
}
