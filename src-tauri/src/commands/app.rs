use serde::Serialize;
use switchyard_core::{AppError, ProfileSummary};
use switchyard_ops::StorageNotice;
use switchyard_secrets::KeychainStatus;
use tauri::State;

use crate::state::AppState;

/// What the window shows about the app itself.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    pub data_dir: String,
    pub profiles: Vec<ProfileSummary>,
    pub active_profile: String,
    /// Why the local sandbox is not running, when it is not.
    pub sandbox_error: Option<String>,
    /// Set at the start that found `switchyard.db` damaged and replaced it: what was kept and
    /// what was lost (shown once; gone at the next start).
    pub storage_notice: Option<StorageNotice>,
}

/// Version, data folder, profiles and sandbox state: what the first screen needs, fast (the
/// keychain has its own command, as reaching it can take a few hundred milliseconds).
#[tauri::command]
#[specta::specta]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo, AppError> {
    let ops = &state.ops;
    Ok(AppInfo {
        name: "Switchyard".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        data_dir: ops.data_dir().display().to_string(),
        profiles: ops.profiles().await?.iter().map(|p| p.summary()).collect(),
        active_profile: ops.active_profile().await?.id,
        sandbox_error: state.sandbox_error.clone(),
        storage_notice: ops.storage_notice().cloned(),
    })
}

/// Whether the OS keychain can be used, and if not, why. Asked in the background: the first
/// reach of the Secret Service over D-Bus can take a few hundred milliseconds.
#[tauri::command]
#[specta::specta]
pub async fn keychain_status() -> Result<KeychainStatus, AppError> {
    tokio::task::spawn_blocking(switchyard_secrets::keychain_status)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the keychain check did not finish");
            AppError::internal("Checking the keychain")
        })
}
