//! The [`SecretStore`] trait and what it is keyed by.

use std::fmt;

use switchyard_core::{AppError, ErrorCode};

use crate::Secret;

/// The keychain service name every Switchyard entry is stored under.
pub const SERVICE: &str = "switchyard";

/// Which secret of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretKind {
    /// The key sent to the Deploy API (`deploy.do`) and the auth service.
    DeployApiKey,
    /// The Cloudflare API token for the profile's account.
    CloudflareToken,
}

impl SecretKind {
    /// Every kind, in the order the UI lists them.
    pub const ALL: [SecretKind; 2] = [SecretKind::DeployApiKey, SecretKind::CloudflareToken];

    /// The stable name used in the keychain account (`<profile>/<kind>`).
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::DeployApiKey => "deploy-api-key",
            SecretKind::CloudflareToken => "cloudflare-token",
        }
    }

    /// The name an operator reads in messages.
    pub fn label(self) -> &'static str {
        match self {
            SecretKind::DeployApiKey => "Deploy API key",
            SecretKind::CloudflareToken => "Cloudflare API token",
        }
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the secrets of profiles are kept, one per (profile id, [`SecretKind`]).
///
/// Implementations: [`KeychainStore`](crate::KeychainStore) (the OS keychain) and
/// [`MemoryStore`](crate::MemoryStore) (tests). Calls may block (the keychain is reached over
/// D-Bus on Linux and may show an unlock prompt); async code calls them from
/// `tokio::task::spawn_blocking`.
pub trait SecretStore: Send + Sync {
    /// The secret, or `Ok(None)` when none is stored.
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<Secret>, AppError>;

    /// Store the secret, replacing any previous one. An empty secret is refused.
    fn set(&self, profile: &str, kind: SecretKind, secret: &Secret) -> Result<(), AppError>;

    /// Remove the secret. Returns whether there was one; removing a missing secret is not an
    /// error.
    fn delete(&self, profile: &str, kind: SecretKind) -> Result<bool, AppError>;

    /// Whether a secret is stored (without the caller touching its value).
    fn contains(&self, profile: &str, kind: SecretKind) -> Result<bool, AppError> {
        Ok(self.get(profile, kind)?.is_some())
    }
}

/// The keychain account of a secret: `<profile>/<kind>`, e.g. `local-sandbox/deploy-api-key`.
pub fn account(profile: &str, kind: SecretKind) -> String {
    format!("{profile}/{}", kind.as_str())
}

/// Profile ids follow the rule of `switchyard-core` (1 to 64 lowercase letters, digits and
/// dashes), which also keeps the `/` of the account unambiguous.
pub(crate) fn check_profile(profile: &str) -> Result<(), AppError> {
    let ok = !profile.is_empty()
        && profile.len() <= 64
        && profile
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::InvalidInput,
            format!(
                "Profile id \"{}\" is not valid: use 1 to 64 lowercase letters, digits and dashes.",
                profile.escape_debug()
            ),
        ))
    }
}

pub(crate) fn check_secret(kind: SecretKind, secret: &Secret) -> Result<(), AppError> {
    if secret.is_empty() {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!(
                "The {} is empty: paste the value and try again.",
                kind.label()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_stable_names() {
        assert_eq!(SecretKind::DeployApiKey.as_str(), "deploy-api-key");
        assert_eq!(SecretKind::CloudflareToken.as_str(), "cloudflare-token");
        assert_eq!(SecretKind::CloudflareToken.to_string(), "cloudflare-token");
        assert_eq!(
            account("local-sandbox", SecretKind::DeployApiKey),
            "local-sandbox/deploy-api-key"
        );
    }

    #[test]
    fn profile_ids_are_checked() {
        for ok in ["production", "local-sandbox", "a", "x1-2"] {
            assert!(check_profile(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in ["", "Prod", "a/b", "a b", "ü", long.as_str()] {
            let err = check_profile(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput, "{bad}");
        }
    }
}
