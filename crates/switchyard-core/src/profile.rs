//! Profiles: one environment of the platform as the app talks to it.

use serde::{Deserialize, Serialize};

use crate::names::{Environment, DEFAULT_SERVICES};

/// How carefully the app treats a profile's mutations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Protection {
    /// Confirmation matched to risk (production deploys still need the name typed).
    #[default]
    Normal,
    /// Every mutation asks for confirmation.
    Protected,
    /// Mutations are disabled; the UI says why.
    ReadOnly,
}

/// A profile's stable identifier (also the keychain account prefix `<id>/<kind>`).
pub type ProfileId = String;

/// Where one environment of the platform lives and how the app treats it. Holds no secrets:
/// API keys live in the OS keychain, keyed by profile id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: ProfileId,
    pub name: String,
    pub environment: Environment,
    pub protection: Protection,
    /// True for the profile bound to the embedded local sandbox.
    pub sandbox: bool,
    pub services: Vec<String>,
}

impl Profile {
    /// The profile offered on first run: the embedded local sandbox, so the app does its whole
    /// job with no account anywhere. Its base URLs are filled in when the sandbox starts.
    pub fn local_sandbox() -> Self {
        Profile {
            id: "local-sandbox".to_owned(),
            name: "Local sandbox".to_owned(),
            environment: Environment::Development,
            protection: Protection::Normal,
            sandbox: true,
            services: DEFAULT_SERVICES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    pub fn summary(&self) -> ProfileSummary {
        ProfileSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            environment: self.environment,
            protection: self.protection,
            sandbox: self.sandbox,
        }
    }
}

/// What the window needs to show a profile in the switcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProfileSummary {
    pub id: ProfileId,
    pub name: String,
    pub environment: Environment,
    pub protection: Protection,
    pub sandbox: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_sandbox_profile_covers_every_default_service() {
        let p = Profile::local_sandbox();
        assert!(p.sandbox);
        assert_eq!(p.services.len(), DEFAULT_SERVICES.len());
        let json = serde_json::to_value(p.summary()).unwrap();
        assert_eq!(json["environment"], "development");
        assert_eq!(json["protection"], "normal");
    }

    #[test]
    fn read_only_serializes_camel_case() {
        assert_eq!(
            serde_json::to_value(Protection::ReadOnly).unwrap(),
            "readOnly"
        );
    }
}
