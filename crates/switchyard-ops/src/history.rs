//! Deployment history: sync every query window of the Deploy API into the cache, and query the
//! cache (which works offline and keeps what fell out of the API's 100-record window).

use std::collections::HashSet;

use serde::Serialize;
use switchyard_clients::DeploymentQuery;
use switchyard_core::{AppError, Deployment, Environment, ErrorCode};
use switchyard_store::{DeploymentFilter, SyncWindow, COUNT_BOUND};

use crate::Ops;

/// The API's largest page.
const WINDOW_LIMIT: u32 = 100;

/// The setting that holds how old (minutes) the cached history may get before the Deployments
/// area syncs it by itself; 0 turns automatic syncs off.
pub const AUTO_SYNC_SETTING: &str = "history.auto_sync_minutes";
/// Automatic syncs when none is set: when the cache is older than an hour.
pub const DEFAULT_AUTO_SYNC_MINUTES: u32 = 60;
/// What the automatic sync setting may be: 0 (never) to a week, in minutes.
pub const AUTO_SYNC_MINUTES: std::ops::RangeInclusive<u32> = 0..=7 * 24 * 60;

/// Progress of a sync, one event per window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SyncProgress {
    pub done: u32,
    pub total: u32,
    pub window: String,
    pub ok: bool,
}

/// A window that failed, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WindowFailure {
    pub window: String,
    pub message: String,
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub windows: u32,
    pub inserted: u32,
    pub updated: u32,
    pub status_changes: u32,
    pub failures: Vec<WindowFailure>,
    /// Windows not asked again: a sync that stopped before its end (the app closed, the Deploy
    /// API stopped answering) had synced them, and this one went on from there.
    pub resumed: u32,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub as_of_ms: i64,
}

/// A sync that stopped before its end is continued, rather than started again from its first
/// window, when it started less than this long ago (an hour); older, every window is asked again.
pub const RESUME_SYNC_WITHIN_MS: i64 = 60 * 60 * 1000;

/// Cached history and how fresh it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    /// One page of the matching rows (the filter's limit and offset), in the filter's order.
    pub deployments: Vec<Deployment>,
    /// How many cached rows match the filter in all (the view pages through them) — or, when
    /// `total_exact` is false, at least this many (the count stopped there; the filter's
    /// `exactCount` counts them all).
    pub total: u32,
    pub total_exact: bool,
    /// Oldest successful sync among the windows; None if never synced.
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub as_of_ms: Option<i64>,
    /// Windows whose last sync failed (the cache shows what it had before).
    pub failing_windows: Vec<WindowFailure>,
}

fn describe(w: &SyncWindow) -> String {
    match (&w.service, w.environment) {
        (None, None) => "all deployments".into(),
        (Some(s), Some(e)) => format!("{s} in {e}"),
        (Some(s), None) => s.clone(),
        (None, Some(e)) => format!("everything in {e}"),
    }
}

impl Ops {
    /// Query every (service × environment) window of the profile, plus the global one, and
    /// upsert what comes back. A window that fails leaves its cache as it was; the report says so.
    pub async fn sync_history(
        &self,
        profile_id: &str,
        progress: impl Fn(SyncProgress) + Send + Sync,
    ) -> Result<SyncReport, AppError> {
        let profile = self.for_profile(profile_id).await?;
        self.audited(
            profile_id,
            "history.sync",
            profile_id,
            serde_json::json!({}),
            async {
                let api = profile.deploy_api()?;
                let mut windows = vec![SyncWindow::global()];
                for service in &profile.services {
                    for env in Environment::ALL {
                        windows.push(SyncWindow {
                            service: Some(service.clone()),
                            environment: Some(env),
                        });
                    }
                }
                // A sync that stopped before its end is continued: the windows it synced since
                // it started are not asked again.
                let now = self.now_ms();
                let resumed_from = self
                    .store
                    .begin_sync_run(profile_id, now, RESUME_SYNC_WITHIN_MS)
                    .await?;
                let done: HashSet<SyncWindow> = if let Some(started) = resumed_from {
                    self.store
                        .sync_windows(profile_id)
                        .await?
                        .into_iter()
                        .filter(|w| w.as_of_ms.is_some_and(|t| t >= started))
                        .map(|w| w.window)
                        .collect()
                } else {
                    HashSet::new()
                };
                let resumed = windows.iter().filter(|w| done.contains(w)).count();
                let mut report = SyncReport {
                    windows: windows.len() as u32,
                    inserted: 0,
                    updated: 0,
                    status_changes: 0,
                    failures: Vec::new(),
                    resumed: resumed as u32,
                    as_of_ms: now,
                };
                let mut stopped = false;
                for (i, window) in windows.iter().enumerate() {
                    if done.contains(window) {
                        continue;
                    }
                    let query = DeploymentQuery {
                        service: window.service.clone(),
                        environment: window.environment,
                        limit: Some(WINDOW_LIMIT),
                    };
                    let now = self.now_ms();
                    let outcome = match api.list(&query).await {
                        Ok(list) => {
                            let seen = list.deployments.len() as i64;
                            match self
                                .store
                                .upsert_deployments(profile_id, &list.deployments, now)
                                .await
                            {
                                Ok(up) => {
                                    report.inserted += up.inserted as u32;
                                    report.updated += up.updated as u32;
                                    report.status_changes += up.status_changes.len() as u32;
                                    self.store
                                        .record_sync_success(profile_id, window, now, seen)
                                        .await
                                }
                                Err(e) => Err(e),
                            }
                        }
                        Err(e) => Err(e),
                    };
                    let ok = outcome.is_ok();
                    if let Err(e) = outcome {
                        // Stop early when the key itself is refused: every window would fail the same way.
                        let fatal = matches!(
                            e.code,
                            ErrorCode::InvalidApiKey | ErrorCode::InsufficientPermissions
                        );
                        self.store
                            .record_sync_failure(profile_id, window, now, &e.message)
                            .await?;
                        report.failures.push(WindowFailure {
                            window: describe(window),
                            message: e.message.clone(),
                        });
                        if fatal {
                            return Err(e);
                        }
                        if e.code == ErrorCode::Unreachable {
                            // The Deploy API is not answering: every window left would wait out the
                            // same timeout. Mark them failed with the same reason and stop.
                            for rest in &windows[i + 1..] {
                                self.store
                                    .record_sync_failure(profile_id, rest, now, &e.message)
                                    .await?;
                                report.failures.push(WindowFailure {
                                    window: describe(rest),
                                    message: e.message.clone(),
                                });
                            }
                            progress(SyncProgress {
                                done: windows.len() as u32,
                                total: windows.len() as u32,
                                window: describe(window),
                                ok: false,
                            });
                            stopped = true;
                            break;
                        }
                    }
                    progress(SyncProgress {
                        done: i as u32 + 1,
                        total: windows.len() as u32,
                        window: describe(window),
                        ok,
                    });
                }
                if !stopped {
                    // Every window was asked: the next sync starts from the first.
                    self.store.finish_sync_run(profile_id).await?;
                }
                if let Some(first) = report
                    .failures
                    .first()
                    .filter(|_| report.failures.len() == windows.len() - resumed)
                {
                    let first = first.message.clone();
                    return Err(AppError::new(
                        ErrorCode::Unreachable,
                        format!("History could not be synced; the cache is unchanged. {first}"),
                    ));
                }
                Ok(report)
            },
        )
        .await
    }

    /// How old (minutes) the cached history may get before the Deployments area syncs it by
    /// itself (a never-synced cache is synced at once); 0 means never automatically.
    pub async fn auto_sync_minutes(&self) -> u32 {
        match self.store.setting(AUTO_SYNC_SETTING).await {
            Ok(Some(v)) => v
                .parse::<u32>()
                .ok()
                .filter(|m| AUTO_SYNC_MINUTES.contains(m))
                .unwrap_or(DEFAULT_AUTO_SYNC_MINUTES),
            _ => DEFAULT_AUTO_SYNC_MINUTES,
        }
    }

    /// Sets the automatic sync age (0, never, to 10080 minutes, a week).
    pub async fn set_auto_sync_minutes(&self, minutes: u32) -> Result<(), AppError> {
        let params = serde_json::json!({ "minutes": minutes });
        self.audited(
            "",
            "setting.history_auto_sync",
            AUTO_SYNC_SETTING,
            params,
            async {
                if !AUTO_SYNC_MINUTES.contains(&minutes) {
                    return Err(AppError::invalid_input(format!(
                        "minutes: automatic sync is 0 (never) to {} minutes, not {minutes}.",
                        AUTO_SYNC_MINUTES.end()
                    )));
                }
                self.store
                    .set_setting(AUTO_SYNC_SETTING, &minutes.to_string())
                    .await
            },
        )
        .await
    }

    /// Cached history matching `filter`, with its "as of".
    pub async fn history(
        &self,
        profile_id: &str,
        filter: &DeploymentFilter,
    ) -> Result<HistoryPage, AppError> {
        self.for_profile(profile_id).await?;
        let offset = u64::from(filter.offset.unwrap_or(0));
        // Past the page by at most COUNT_BOUND rows: enough for the view to scroll on, at
        // the cost of a few thousand index entries however many rows match.
        let at_most = offset + u64::from(filter.limit.unwrap_or(0)).max(COUNT_BOUND) + 1;
        // A text search's page brings this count with it (one search of the text index).
        let (deployments, counted) = if filter.exact_count == Some(true) {
            (
                self.store.query_deployments(profile_id, filter).await?,
                None,
            )
        } else {
            self.store
                .query_deployments_counted(profile_id, filter, at_most)
                .await?
        };
        // A page that is not full, from the start, is everything: no second query needed.
        let short_page = filter
            .limit
            .is_none_or(|l| (deployments.len() as u64) < u64::from(l));
        let (total, total_exact) = if short_page && (offset == 0 || !deployments.is_empty()) {
            (offset + deployments.len() as u64, true)
        } else if filter.exact_count == Some(true) {
            (
                self.store.count_deployments(profile_id, filter).await?,
                true,
            )
        } else {
            let n = match counted {
                Some(n) => n,
                None => {
                    self.store
                        .count_deployments_up_to(profile_id, filter, at_most)
                        .await?
                }
            };
            (n.min(at_most - 1), n < at_most)
        };
        let windows = self.store.sync_windows(profile_id).await?;
        let as_of_ms = windows.iter().filter_map(|w| w.as_of_ms).min();
        let failing_windows = windows
            .iter()
            .filter_map(|w| {
                w.last_error.as_ref().map(|m| WindowFailure {
                    window: describe(&w.window),
                    message: m.clone(),
                })
            })
            .collect();
        Ok(HistoryPage {
            deployments,
            total: u32::try_from(total).unwrap_or(u32::MAX),
            total_exact,
            as_of_ms,
            failing_windows,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use switchyard_core::SystemClock;
    use switchyard_secrets::MemoryStore;

    use super::*;

    #[tokio::test]
    async fn the_auto_sync_setting_round_trips_and_refuses_what_is_out_of_range() {
        let dir = tempfile::tempdir().unwrap();
        let ops = Ops::open(
            dir.path(),
            Arc::new(MemoryStore::new()),
            Arc::new(SystemClock),
        )
        .await
        .unwrap();
        assert_eq!(ops.auto_sync_minutes().await, DEFAULT_AUTO_SYNC_MINUTES);
        ops.set_auto_sync_minutes(15).await.unwrap();
        assert_eq!(ops.auto_sync_minutes().await, 15);
        ops.set_auto_sync_minutes(0).await.unwrap();
        assert_eq!(ops.auto_sync_minutes().await, 0);
        let refused = ops
            .set_auto_sync_minutes(7 * 24 * 60 + 1)
            .await
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidInput);
        assert_eq!(
            ops.auto_sync_minutes().await,
            0,
            "a refused value leaves the setting as it was"
        );
        // A value stored out of range (edited by hand) reads as the default.
        ops.store()
            .set_setting(AUTO_SYNC_SETTING, "abc")
            .await
            .unwrap();
        assert_eq!(ops.auto_sync_minutes().await, DEFAULT_AUTO_SYNC_MINUTES);
    }
}
