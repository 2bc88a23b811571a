use switchyard_core::AppError;
use switchyard_ops::{LogsEvent, LogsRequest, SandboxRuntime};
use tauri::ipc::Channel;
use tauri::State;

use crate::state::AppState;

/// Tail the services of `request`; lines and connection changes stream on `on_event` until
/// `stop_logs`. The session's id.
#[tauri::command]
#[specta::specta]
pub async fn start_logs(
    state: State<'_, AppState>,
    request: LogsRequest,
    on_event: Channel<LogsEvent>,
) -> Result<u32, AppError> {
    state
        .ops
        .start_logs(request, move |e| {
            let _ = on_event.send(e);
        })
        .await
}

/// Stop a logs session; its tails are ended on the platform.
#[tauri::command]
#[specta::specta]
pub async fn stop_logs(state: State<'_, AppState>, session: u32) -> Result<(), AppError> {
    state.ops.stop_logs(session).await
}

/// Whether the Local sandbox executes deployed scripts, and its runtime's notices.
#[tauri::command]
#[specta::specta]
pub async fn sandbox_runtime(
    state: State<'_, AppState>,
) -> Result<Option<SandboxRuntime>, AppError> {
    Ok(state.ops.sandbox_runtime().await)
}

/// The workerd binary chosen in Settings, if any.
#[tauri::command]
#[specta::specta]
pub async fn workerd_path(state: State<'_, AppState>) -> Result<Option<String>, AppError> {
    state.ops.workerd_path().await
}

/// Choose the workerd binary of the Local sandbox (empty: let Switchyard look for one); used from
/// the next start.
#[tauri::command]
#[specta::specta]
pub async fn set_workerd_path(
    state: State<'_, AppState>,
    path: Option<String>,
) -> Result<(), AppError> {
    state.ops.set_workerd_path(path).await
}
