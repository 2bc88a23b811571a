use switchyard_core::AppError;
use switchyard_ops::{HealthBoard, HealthPoint};
use tauri::State;

use crate::state::AppState;

/// Check every service, the dispatcher and the Deploy API now; store the samples.
#[tauri::command]
#[specta::specta]
pub async fn check_health(
    state: State<'_, AppState>,
    profile_id: String,
    timeout_ms: u32,
) -> Result<HealthBoard, AppError> {
    state.ops.check_health(&profile_id, timeout_ms).await
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
    state
        .ops
        .health_history(&profile_id, &target, since_ms as i64)
        .await
}
