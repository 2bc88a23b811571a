use switchyard_core::{validate, AppError};
use switchyard_ops::{HealthBoard, HealthPoint};
use tauri::{AppHandle, State};
use tauri_plugin_notification::NotificationExt;

use crate::state::AppState;

/// Check every service, the dispatcher and the Deploy API now; store the samples, and raise a
/// desktop notification for each state change the check reports (rate-limited by the engine).
#[tauri::command]
#[specta::specta]
pub async fn check_health(
    app: AppHandle,
    state: State<'_, AppState>,
    profile_id: String,
    timeout_ms: u32,
) -> Result<HealthBoard, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::range("timeoutMs", timeout_ms, validate::HEALTH_TIMEOUT_MS)?;
    let board = state.ops.check_health(&profile_id, timeout_ms).await?;
    for n in &board.notifications {
        if let Err(e) = app
            .notification()
            .builder()
            .title(&n.title)
            .body(&n.body)
            .show()
        {
            tracing::warn!(error = %e, target = %n.target, "the desktop notification was not shown");
        }
    }
    Ok(board)
}

/// Recent history of one target, for its sparkline (`since_ms` is epoch milliseconds).
#[tauri::command]
#[specta::specta]
pub async fn health_history(
    state: State<'_, AppState>,
    profile_id: String,
    target: String,
    since_ms: f64,
) -> Result<Vec<HealthPoint>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    // A service, or the dispatcher / the Deploy API: all shaped like service names.
    validate::service("target", &target)?;
    validate::epoch_ms_f64("sinceMs", since_ms)?;
    state
        .ops
        .health_history(&profile_id, &target, since_ms as i64)
        .await
}

/// The health ↔ deployment correlation window, in minutes (15 unless set).
#[tauri::command]
#[specta::specta]
pub async fn correlation_window(state: State<'_, AppState>) -> Result<u32, AppError> {
    Ok(state.ops.correlation_window_minutes().await)
}

/// Set the correlation window (1 to 1440 minutes).
#[tauri::command]
#[specta::specta]
pub async fn set_correlation_window(
    state: State<'_, AppState>,
    minutes: u32,
) -> Result<(), AppError> {
    validate::range("minutes", minutes, validate::CORRELATION_WINDOW_MINUTES)?;
    state.ops.set_correlation_window_minutes(minutes).await
}
