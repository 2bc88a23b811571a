use switchyard_core::{validate, AppError};
use switchyard_ops::{SandboxRuntime, WorkerdInstallEvent, WorkerdInstallOffer, WorkerdInstalled};
use tauri::ipc::Channel;
use tauri::State;

use crate::state::AppState;
use switchyard_ops::PathUse;

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
    validate::opt(path.as_deref(), |p| validate::path("path", p))?;
    if let Some(p) = path.as_deref().filter(|p| !p.is_empty()) {
        state.allow_path("path", p, PathUse::Existing).await?;
    }
    state.ops.set_workerd_path(path).await
}

/// What installing the pinned workerd would download (and its size), and where it would go.
#[tauri::command]
#[specta::specta]
pub async fn workerd_install_offer(
    state: State<'_, AppState>,
) -> Result<WorkerdInstallOffer, AppError> {
    state.ops.workerd_install_offer().await
}

/// Download, verify and install the pinned workerd; progress streams on `on_progress`. The Local
/// sandbox starts executing scripts with it when nothing executes them yet.
#[tauri::command]
#[specta::specta]
pub async fn install_workerd(
    state: State<'_, AppState>,
    on_progress: Channel<WorkerdInstallEvent>,
) -> Result<WorkerdInstalled, AppError> {
    state
        .ops
        .install_workerd(move |e| {
            let _ = on_progress.send(e);
        })
        .await
}

/// Cancel the workerd download in progress (nothing is installed); whether one was running.
#[tauri::command]
#[specta::specta]
pub async fn cancel_workerd_install(state: State<'_, AppState>) -> Result<bool, AppError> {
    Ok(state.ops.cancel_workerd_install())
}
