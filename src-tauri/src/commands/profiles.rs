use switchyard_core::{validate, AppError, Profile};
use switchyard_ops::{ImportPreviewRow, ProfileSecrets};
use tauri::State;

use crate::commands::input::{Checked, PROFILES_TOML_MAX, PROFILE_IDS_MAX};
use crate::state::AppState;

/// Every profile, with all its (non-secret) settings.
#[tauri::command]
#[specta::specta]
pub async fn list_profiles(state: State<'_, AppState>) -> Result<Vec<Profile>, AppError> {
    state.ops.profiles().await
}

/// Create or replace a profile (validated first; nothing is stored when a field is wrong).
#[tauri::command]
#[specta::specta]
pub async fn save_profile(
    state: State<'_, AppState>,
    profile: Profile,
) -> Result<Profile, AppError> {
    profile.check("profile")?;
    state.ops.save_profile(profile).await
}

/// Delete a profile with its cached history and its keychain entries.
#[tauri::command]
#[specta::specta]
pub async fn delete_profile(state: State<'_, AppState>, id: String) -> Result<(), AppError> {
    validate::profile_id("id", &id)?;
    state.ops.delete_profile(&id).await
}

/// Make a profile the active one (remembered across restarts).
#[tauri::command]
#[specta::specta]
pub async fn select_profile(state: State<'_, AppState>, id: String) -> Result<Profile, AppError> {
    validate::profile_id("id", &id)?;
    state.ops.select_profile(&id).await
}

/// Profiles as TOML, without secrets (all when `ids` is empty).
#[tauri::command]
#[specta::specta]
pub async fn export_profiles(
    state: State<'_, AppState>,
    ids: Vec<String>,
) -> Result<String, AppError> {
    validate::count("ids", ids.len(), PROFILE_IDS_MAX)?;
    for id in &ids {
        validate::profile_id("ids", id)?;
    }
    state.ops.export_profiles(&ids).await
}

/// Import profiles from TOML; existing ids are refused unless `replace`.
#[tauri::command]
#[specta::specta]
pub async fn import_profiles(
    state: State<'_, AppState>,
    toml: String,
    replace: bool,
) -> Result<Vec<Profile>, AppError> {
    validate::text("toml", &toml, PROFILES_TOML_MAX)?;
    state.ops.import_profiles(&toml, replace).await
}

/// What importing profiles from TOML would do (new or replaced, the hosts that change, the
/// stored keys that would be detached), changing nothing.
#[tauri::command]
#[specta::specta]
pub async fn preview_profile_import(
    state: State<'_, AppState>,
    toml: String,
    replace: bool,
) -> Result<Vec<ImportPreviewRow>, AppError> {
    validate::text("toml", &toml, PROFILES_TOML_MAX)?;
    state.ops.preview_profile_import(&toml, replace).await
}

/// Which secrets a profile has (never their values).
#[tauri::command]
#[specta::specta]
pub async fn profile_secrets(
    state: State<'_, AppState>,
    id: String,
) -> Result<ProfileSecrets, AppError> {
    validate::profile_id("id", &id)?;
    state.ops.profile_secrets(&id).await
}
