//! Deployment history: sync every query window of the Deploy API into the cache, and query the
//! cache (which works offline and keeps what fell out of the API's 100-record window).

use serde::Serialize;
use switchyard_clients::{DeployApi, DeploymentQuery};
use switchyard_core::{AppError, Deployment, Environment, ErrorCode};
use switchyard_secrets::SecretKind;
use switchyard_store::{DeploymentFilter, SyncWindow};

use crate::Ops;

/// The API's largest page.
const WINDOW_LIMIT: u32 = 100;

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
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub as_of_ms: i64,
}

/// Cached history and how fresh it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    /// One page of the matching rows (the filter's limit and offset), in the filter's order.
    pub deployments: Vec<Deployment>,
    /// How many cached rows match the filter in all (the view pages through them).
    pub total: u32,
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
        let profile = self.store.get_profile(profile_id).await?;
        self.audited(profile_id, "history.sync", profile_id, serde_json::json!({}), async {
            let key = self.secret_for(&profile, SecretKind::DeployApiKey)?.ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidApiKey,
                    format!("Profile \"{}\" has no Deploy API key yet. Add it in Settings to sync history.", profile.name),
                )
            })?;
            let api = DeployApi::new(self.http.clone(), &profile.deploy_api_url, key);
            let mut windows = vec![SyncWindow::global()];
            for service in &profile.services {
                for env in Environment::ALL {
                    windows.push(SyncWindow { service: Some(service.clone()), environment: Some(env) });
                }
            }
            let mut report = SyncReport {
                windows: windows.len() as u32,
                inserted: 0,
                updated: 0,
                status_changes: 0,
                failures: Vec::new(),
                as_of_ms: self.now_ms(),
            };
            for (i, window) in windows.iter().enumerate() {
                let query = DeploymentQuery {
                    service: window.service.clone(),
                    environment: window.environment,
                    limit: Some(WINDOW_LIMIT),
                };
                let now = self.now_ms();
                let outcome = match api.list(&query).await {
                    Ok(list) => {
                        let seen = list.deployments.len() as i64;
                        match self.store.upsert_deployments(profile_id, &list.deployments, now).await {
                            Ok(up) => {
                                report.inserted += up.inserted as u32;
                                report.updated += up.updated as u32;
                                report.status_changes += up.status_changes.len() as u32;
                                self.store.record_sync_success(profile_id, window, now, seen).await
                            }
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                };
                let ok = outcome.is_ok();
                if let Err(e) = outcome {
                    // Stop early when the key itself is refused: every window would fail the same way.
                    let fatal = matches!(e.code, ErrorCode::InvalidApiKey | ErrorCode::InsufficientPermissions);
                    self.store.record_sync_failure(profile_id, window, now, &e.message).await?;
                    report.failures.push(WindowFailure { window: describe(window), message: e.message.clone() });
                    if fatal {
                        return Err(e);
                    }
                    if e.code == ErrorCode::Unreachable {
                        // The Deploy API is not answering: every window left would wait out the
                        // same timeout. Mark them failed with the same reason and stop.
                        for rest in &windows[i + 1..] {
                            self.store.record_sync_failure(profile_id, rest, now, &e.message).await?;
                            report.failures.push(WindowFailure { window: describe(rest), message: e.message.clone() });
                        }
                        progress(SyncProgress {
                            done: windows.len() as u32,
                            total: windows.len() as u32,
                            window: describe(window),
                            ok: false,
                        });
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
            if let Some(first) = report
                .failures
                .first()
                .filter(|_| report.failures.len() == windows.len())
            {
                let first = first.message.clone();
                return Err(AppError::new(
                    ErrorCode::Unreachable,
                    format!("History could not be synced; the cache is unchanged. {first}"),
                ));
            }
            Ok(report)
        })
        .await
    }

    /// Cached history matching `filter`, with its "as of".
    pub async fn history(
        &self,
        profile_id: &str,
        filter: &DeploymentFilter,
    ) -> Result<HistoryPage, AppError> {
        self.store.get_profile(profile_id).await?;
        let deployments = self.store.query_deployments(profile_id, filter).await?;
        // A page that is not full, from the start, is everything: no second query needed.
        let offset = u64::from(filter.offset.unwrap_or(0));
        let short_page = filter
            .limit
            .is_none_or(|l| (deployments.len() as u64) < u64::from(l));
        let total = if short_page && (offset == 0 || !deployments.is_empty()) {
            offset + deployments.len() as u64
        } else {
            self.store.count_deployments(profile_id, filter).await?
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
            as_of_ms,
            failing_windows,
        })
    }
}
