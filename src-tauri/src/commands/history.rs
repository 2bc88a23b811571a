use switchyard_core::{validate, AppError};
use switchyard_ops::{HistoryPage, SyncProgress, SyncReport, AUTO_SYNC_MINUTES};
use switchyard_store::DeploymentFilter;
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::input::Checked;
use crate::state::AppState;

/// Sync the profile's deployment history into the cache, streaming progress per window.
#[tauri::command]
#[specta::specta]
pub async fn sync_history(
    state: State<'_, AppState>,
    profile_id: String,
    on_progress: Channel<SyncProgress>,
) -> Result<SyncReport, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    let ops = state.ops.clone();
    ops.sync_history(&profile_id, move |p| {
        let _ = on_progress.send(p);
    })
    .await
}

/// Cached deployments matching the filter, newest first, with "as of".
#[tauri::command]
#[specta::specta]
pub async fn query_history(
    state: State<'_, AppState>,
    profile_id: String,
    filter: DeploymentFilter,
) -> Result<HistoryPage, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    filter.check("filter")?;
    state.ops.history(&profile_id, &filter).await
}

/// How old (minutes) the cached history may get before the Deployments area syncs it by itself
/// (60 unless set; 0: never automatically).
#[tauri::command]
#[specta::specta]
pub async fn history_auto_sync(state: State<'_, AppState>) -> Result<u32, AppError> {
    Ok(state.ops.auto_sync_minutes().await)
}

/// Set the automatic sync age (0, never, to 10080 minutes).
#[tauri::command]
#[specta::specta]
pub async fn set_history_auto_sync(
    state: State<'_, AppState>,
    minutes: u32,
) -> Result<(), AppError> {
    validate::range("minutes", minutes, AUTO_SYNC_MINUTES)?;
    state.ops.set_auto_sync_minutes(minutes).await
}
