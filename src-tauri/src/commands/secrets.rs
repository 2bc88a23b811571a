use serde::Deserialize;
use switchyard_core::{validate, AppError};
use switchyard_ops::{KeyCheck, TokenCheck};
use switchyard_secrets::{Secret, SecretKind};
use tauri::State;

use crate::state::AppState;

/// Which secret of a profile.
#[derive(Debug, Clone, Copy, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum SecretKindArg {
    DeployApiKey,
    CloudflareToken,
}

impl From<SecretKindArg> for SecretKind {
    fn from(k: SecretKindArg) -> Self {
        match k {
            SecretKindArg::DeployApiKey => SecretKind::DeployApiKey,
            SecretKindArg::CloudflareToken => SecretKind::CloudflareToken,
        }
    }
}

/// Store a secret in the OS keychain. The value goes in; no command ever sends it back out.
#[tauri::command]
#[specta::specta]
pub async fn set_secret(
    state: State<'_, AppState>,
    profile_id: String,
    kind: SecretKindArg,
    value: String,
) -> Result<(), AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::secret("value", &value)?;
    state
        .ops
        .set_secret(&profile_id, kind.into(), Secret::new(value))
        .await
}

/// Remove a secret from the OS keychain.
#[tauri::command]
#[specta::specta]
pub async fn delete_secret(
    state: State<'_, AppState>,
    profile_id: String,
    kind: SecretKindArg,
) -> Result<(), AppError> {
    validate::profile_id("profileId", &profile_id)?;
    state.ops.delete_secret(&profile_id, kind.into()).await
}

/// Test the profile's Deploy API key: who it belongs to and what it may do.
#[tauri::command]
#[specta::specta]
pub async fn validate_key(
    state: State<'_, AppState>,
    profile_id: String,
) -> Result<KeyCheck, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    state.ops.validate_key(&profile_id).await
}

/// Move a profile's stored keys to the hosts its URLs name now (after an edit or import changed
/// them and the operator confirmed it is the same service).
#[tauri::command]
#[specta::specta]
pub async fn move_keys(state: State<'_, AppState>, profile_id: String) -> Result<(), AppError> {
    validate::profile_id("profileId", &profile_id)?;
    state.ops.move_keys(&profile_id).await
}

/// Test the profile's Cloudflare token (active? may it list the account's namespaces?).
#[tauri::command]
#[specta::specta]
pub async fn test_cloudflare_token(
    state: State<'_, AppState>,
    profile_id: String,
) -> Result<TokenCheck, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    state.ops.test_cloudflare_token(&profile_id).await
}
