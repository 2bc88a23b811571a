//! Importing profiles, reviewed first: what a profile TOML would add or replace, which hosts
//! each replaced profile's keys would then be sent to, and which stored keys that detaches (keys
//! are bound to the hosts they were saved for, see `key_origins`). The import itself checks the
//! same way, so what was reviewed is what is imported.

use serde::Serialize;
use switchyard_core::{AppError, ErrorCode, Profile, SANDBOX_PROFILE_ID};
use switchyard_secrets::SecretKind;

use crate::key_origins::{destinations, origin};
use crate::profiles::ProfileExport;
use crate::Ops;

/// What importing would do to one profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImportPreviewRow {
    pub id: String,
    pub name: String,
    /// True when a profile with this id exists and would be replaced.
    pub replaces: bool,
    /// For a replaced profile: each address that changes (its label, the host before, after).
    pub host_changes: Vec<HostChange>,
    /// Stored keys of a replaced profile that would be detached (not sent to the new hosts
    /// until entered again or moved), each with where it was saved for and where it would go.
    pub keys_detached: Vec<String>,
}

/// One address of a profile that an import changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HostChange {
    /// "Deploy API", "Auth service", "Cloudflare API" or "Dispatcher".
    pub what: String,
    pub from: String,
    pub to: String,
}

impl Ops {
    /// The profiles of `text` (a profile TOML export), checked as the import checks them:
    /// refused as a whole with the first problem, nothing changed.
    pub(crate) async fn parse_profile_import(
        &self,
        text: &str,
        replace: bool,
    ) -> Result<Vec<Profile>, AppError> {
        let doc: ProfileExport = toml::from_str(text).map_err(|e| {
            AppError::invalid_input(format!(
                "The file is not a Switchyard profile export: {}. Export profiles from Switchyard to see the expected shape.",
                e.message()
            ))
        })?;
        if doc.profiles.is_empty() {
            return Err(AppError::invalid_input(
                "The file has no [[profile]] entries: nothing to import.",
            ));
        }
        let existing: Vec<String> = self
            .store
            .list_profiles()
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
        for p in &doc.profiles {
            if p.sandbox || p.id == SANDBOX_PROFILE_ID {
                return Err(AppError::invalid_input(
                    "The file contains a sandbox profile, which cannot be imported.",
                ));
            }
            p.validate().map_err(|e| {
                AppError::invalid_input(format!("Profile \"{}\": {}", p.id, e.message))
            })?;
            if !replace && existing.contains(&p.id) {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    format!(
                        "A profile \"{}\" already exists. Rename it in the file, delete the existing one, or import with replace.",
                        p.id
                    ),
                ));
            }
        }
        Ok(doc.profiles)
    }

    /// What importing `text` would do, changing nothing: each profile new or replaced, the
    /// hosts that change, and the stored keys that would be detached.
    pub async fn preview_profile_import(
        &self,
        text: &str,
        replace: bool,
    ) -> Result<Vec<ImportPreviewRow>, AppError> {
        let incoming = self.parse_profile_import(text, replace).await?;
        let existing = self.store.list_profiles().await?;
        let mut rows = Vec::with_capacity(incoming.len());
        for p in incoming {
            let Some(before) = existing.iter().find(|e| e.id == p.id) else {
                rows.push(ImportPreviewRow {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    replaces: false,
                    host_changes: Vec::new(),
                    keys_detached: Vec::new(),
                });
                continue;
            };
            let host_changes = [
                ("Deploy API", &before.deploy_api_url, &p.deploy_api_url),
                ("Auth service", &before.auth_url, &p.auth_url),
                (
                    "Cloudflare API",
                    &before.cloudflare_api_url,
                    &p.cloudflare_api_url,
                ),
                ("Dispatcher", &before.dispatcher_url, &p.dispatcher_url),
            ]
            .into_iter()
            .filter(|(_, a, b)| !a.is_empty() || !b.is_empty())
            .filter(|(_, a, b)| origin(a) != origin(b))
            .map(|(what, a, b)| HostChange {
                what: what.to_owned(),
                from: origin(a),
                to: origin(b),
            })
            .collect();
            let mut keys_detached = Vec::new();
            for kind in [SecretKind::DeployApiKey, SecretKind::CloudflareToken] {
                let stored = matches!(self.secrets.get(&before.id, kind), Ok(Some(_)));
                let (was, will) = (destinations(before, kind), destinations(&p, kind));
                if stored && was != will {
                    keys_detached.push(format!(
                        "The {} saved for {was} would not be sent to {will} until you enter it again or move it.",
                        kind.label()
                    ));
                }
            }
            rows.push(ImportPreviewRow {
                id: p.id.clone(),
                name: p.name.clone(),
                replaces: true,
                host_changes,
                keys_detached,
            });
        }
        Ok(rows)
    }
}
