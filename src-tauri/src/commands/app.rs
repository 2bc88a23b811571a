use serde::Serialize;
use switchyard_core::{AppError, ProfileSummary};
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
}

/// Version, data folder and profiles.
#[tauri::command]
#[specta::specta]
pub fn app_info(state: State<'_, AppState>) -> Result<AppInfo, AppError> {
    Ok(AppInfo {
        name: "Switchyard".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        data_dir: state.data_dir.display().to_string(),
        profiles: state.profiles.iter().map(|p| p.summary()).collect(),
        active_profile: state.active_profile.clone(),
    })
}
