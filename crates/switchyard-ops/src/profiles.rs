//! Profiles: list, create, edit, delete, export and import (TOML, never with secrets).

use serde::{Deserialize, Serialize};
use switchyard_core::{AppError, Profile, SANDBOX_PROFILE_ID};
use switchyard_secrets::SecretKind;

use crate::Ops;

const ACTIVE_PROFILE: &str = "active_profile";

/// Which secrets a profile has (never their values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProfileSecrets {
    pub deploy_api_key: bool,
    pub cloudflare_token: bool,
    /// Stored keys saved for other hosts than the profile's URLs name now: not sent until
    /// entered again or moved (`move_keys`). Each says which key and where it was saved for.
    pub detached: Vec<String>,
    /// Set when the keychain could not be asked; the message says what to do.
    pub keychain_error: Option<String>,
}

/// The TOML document profiles are exported as.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProfileExport {
    #[serde(rename = "profile", default)]
    pub profiles: Vec<Profile>,
}

impl Ops {
    pub async fn profiles(&self) -> Result<Vec<Profile>, AppError> {
        self.store.list_profiles().await
    }

    pub async fn profile(&self, id: &str) -> Result<Profile, AppError> {
        self.store.get_profile(id).await
    }

    /// The profile the window works on: the last one selected, else the sandbox.
    pub async fn active_profile(&self) -> Result<Profile, AppError> {
        if let Some(id) = self.store.setting(ACTIVE_PROFILE).await? {
            if let Ok(p) = self.store.get_profile(&id).await {
                return Ok(p);
            }
        }
        self.store.get_profile(SANDBOX_PROFILE_ID).await
    }

    /// Make `id` the active profile (remembered across restarts).
    pub async fn select_profile(&self, id: &str) -> Result<Profile, AppError> {
        self.audited(id, "profile.select", id, serde_json::json!({}), async {
            let p = self.store.get_profile(id).await?;
            self.store.set_setting(ACTIVE_PROFILE, id).await?;
            Ok(p)
        })
        .await
    }

    /// Create or replace a user profile after validating every field.
    pub async fn save_profile(&self, profile: Profile) -> Result<Profile, AppError> {
        let id = profile.id.clone();
        let params =
            serde_json::json!({ "name": profile.name, "environment": profile.environment });
        self.audited(&id, "profile.save", &id, params, async {
            if profile.id == SANDBOX_PROFILE_ID || profile.sandbox {
                return Err(AppError::invalid_input(
                    "The Local sandbox profile is managed by Switchyard; create a new profile instead.",
                ));
            }
            profile.validate()?;
            let before = self.store.get_profile(&profile.id).await.ok();
            if let Some(before) = &before {
                // Keys stay bound to the hosts they were saved for: if this save changes them,
                // the keys are detached (see key_origins).
                self.bind_unbound_keys(before).await?;
            }
            let is_new = before.is_none();
            if is_new {
                // A keychain entry left by an earlier profile of the same id (deleted with its
                // data folder, say) must not silently become this new profile's key.
                for kind in [SecretKind::DeployApiKey, SecretKind::CloudflareToken] {
                    if let Err(e) = self.secrets.delete(&profile.id, kind) {
                        tracing::warn!(profile = %profile.id, error = %e.message, "could not clear a stale keychain entry");
                    }
                    self.unbind_key(&profile.id, kind).await?;
                }
            }
            self.store.save_profile(&profile, self.now_ms()).await?;
            Ok(profile)
        })
        .await
    }

    /// Delete a profile, its cached history and its keychain entries.
    pub async fn delete_profile(&self, id: &str) -> Result<(), AppError> {
        self.audited(id, "profile.delete", id, serde_json::json!({}), async {
            if id == SANDBOX_PROFILE_ID {
                return Err(AppError::invalid_input(
                    "The Local sandbox profile cannot be deleted; it is how Switchyard runs without an account.",
                ));
            }
            self.store.get_profile(id).await?;
            for kind in [SecretKind::DeployApiKey, SecretKind::CloudflareToken] {
                self.secrets.delete(id, kind)?;
                self.unbind_key(id, kind).await?;
            }
            self.store.delete_profile(id).await
        })
        .await
    }

    /// Which secrets `id` has.
    pub async fn profile_secrets(&self, id: &str) -> Result<ProfileSecrets, AppError> {
        let profile = self.store.get_profile(id).await?;
        let mut status = ProfileSecrets {
            deploy_api_key: false,
            cloudflare_token: false,
            detached: Vec::new(),
            keychain_error: None,
        };
        for kind in [SecretKind::DeployApiKey, SecretKind::CloudflareToken] {
            if self.key_detached(&profile, kind) {
                if let Err(e) = self.check_key_destination(&profile, kind) {
                    status.detached.push(e.message);
                }
                continue;
            }
            match self.secret_for(&profile, kind) {
                Ok(found) => match kind {
                    SecretKind::DeployApiKey => status.deploy_api_key = found.is_some(),
                    SecretKind::CloudflareToken => status.cloudflare_token = found.is_some(),
                },
                Err(e) => status.keychain_error = Some(e.message),
            }
        }
        Ok(status)
    }

    /// The given profiles (all when `ids` is empty) as TOML, without secrets or the sandbox.
    pub async fn export_profiles(&self, ids: &[String]) -> Result<String, AppError> {
        let params = serde_json::json!({ "ids": ids });
        self.audited("", "profile.export", "profiles", params, async {
            let profiles: Vec<Profile> = self
                .store
                .list_profiles()
                .await?
                .into_iter()
                .filter(|p| !p.sandbox && (ids.is_empty() || ids.contains(&p.id)))
                .collect();
            toml::to_string_pretty(&ProfileExport { profiles }).map_err(|e| {
                tracing::error!(error = %e, "exporting profiles failed");
                AppError::internal("Exporting profiles")
            })
        })
        .await
    }

    /// Import profiles from TOML. All are validated before any is saved; an id that already
    /// exists is refused (nothing stored is overwritten) unless `replace` is set.
    pub async fn import_profiles(
        &self,
        text: &str,
        replace: bool,
    ) -> Result<Vec<Profile>, AppError> {
        // Each profile saved is recorded too (profile.save); this entry says where they came
        // from, and records an import refused as a whole.
        let params = serde_json::json!({ "replace": replace });
        self.audited("", "profile.import", "profiles", params, async {
            let profiles = self.parse_profile_import(text, replace).await?;
            for p in &profiles {
                self.save_profile(p.clone()).await?;
            }
            Ok(profiles)
        })
        .await
    }
}
