//! [`MemoryStore`]: secrets in a map, for tests of the crates that use a [`SecretStore`].

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use switchyard_core::AppError;

use crate::keychain::{unavailable_error, UnavailableReason};
use crate::store::{check_profile, check_secret};
use crate::{Secret, SecretKind, SecretStore};

/// A [`SecretStore`] held in memory, gone when dropped. It validates its input exactly like
/// [`KeychainStore`](crate::KeychainStore), and [`MemoryStore::unavailable`] imitates a machine
/// without a keychain so that callers can test that path.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<(String, SecretKind), Secret>>,
    unavailable: bool,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// A store every call of which fails with `KeychainUnavailable`, as on a machine with no
    /// keychain.
    pub fn unavailable() -> Self {
        MemoryStore {
            unavailable: true,
            ..MemoryStore::default()
        }
    }

    /// A store holding `secret` for (`profile`, `kind`).
    pub fn with(self, profile: &str, kind: SecretKind, secret: impl Into<Secret>) -> Self {
        self.lock()
            .insert((profile.to_owned(), kind), secret.into());
        self
    }

    /// How many secrets are stored.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no secret is stored.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(String, SecretKind), Secret>> {
        // A panic while holding the lock cannot leave the map half-updated.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check(&self, profile: &str) -> Result<(), AppError> {
        if self.unavailable {
            return Err(unavailable_error(UnavailableReason::NoService));
        }
        check_profile(profile)
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<Secret>, AppError> {
        self.check(profile)?;
        Ok(self.lock().get(&(profile.to_owned(), kind)).cloned())
    }

    fn set(&self, profile: &str, kind: SecretKind, secret: &Secret) -> Result<(), AppError> {
        self.check(profile)?;
        check_secret(kind, secret)?;
        self.lock()
            .insert((profile.to_owned(), kind), secret.clone());
        Ok(())
    }

    fn delete(&self, profile: &str, kind: SecretKind) -> Result<bool, AppError> {
        self.check(profile)?;
        Ok(self.lock().remove(&(profile.to_owned(), kind)).is_some())
    }
}

#[cfg(test)]
mod tests {
    use switchyard_core::ErrorCode;

    use super::*;

    #[test]
    fn set_get_overwrite_delete() {
        let store = MemoryStore::new();
        let kind = SecretKind::DeployApiKey;
        assert_eq!(store.get("staging", kind).unwrap(), None);
        assert!(!store.contains("staging", kind).unwrap());

        store.set("staging", kind, &Secret::new("first")).unwrap();
        assert_eq!(
            store.get("staging", kind).unwrap(),
            Some(Secret::new("first"))
        );
        assert!(store.contains("staging", kind).unwrap());

        store.set("staging", kind, &Secret::new("second")).unwrap();
        assert_eq!(
            store.get("staging", kind).unwrap(),
            Some(Secret::new("second"))
        );
        assert_eq!(store.len(), 1);

        assert!(store.delete("staging", kind).unwrap());
        assert_eq!(store.get("staging", kind).unwrap(), None);
        assert!(
            !store.delete("staging", kind).unwrap(),
            "deleting twice is fine"
        );
        assert!(store.is_empty());
    }

    #[test]
    fn profiles_and_kinds_do_not_collide() {
        let store = MemoryStore::new()
            .with("staging", SecretKind::DeployApiKey, "staging-key")
            .with("production", SecretKind::DeployApiKey, "production-key")
            .with("staging", SecretKind::CloudflareToken, "staging-token");
        assert_eq!(
            store.get("staging", SecretKind::DeployApiKey).unwrap(),
            Some(Secret::new("staging-key"))
        );
        assert_eq!(
            store.get("production", SecretKind::DeployApiKey).unwrap(),
            Some(Secret::new("production-key"))
        );
        assert_eq!(
            store.get("staging", SecretKind::CloudflareToken).unwrap(),
            Some(Secret::new("staging-token"))
        );
        assert_eq!(
            store
                .get("production", SecretKind::CloudflareToken)
                .unwrap(),
            None
        );
        store.delete("staging", SecretKind::DeployApiKey).unwrap();
        assert!(store
            .contains("production", SecretKind::DeployApiKey)
            .unwrap());
        assert!(store
            .contains("staging", SecretKind::CloudflareToken)
            .unwrap());
    }

    #[test]
    fn input_is_validated() {
        let store = MemoryStore::new();
        let err = store
            .set("staging", SecretKind::DeployApiKey, &Secret::new(""))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert!(err.message.contains("Deploy API key is empty"));
        let err = store.get("a/b", SecretKind::DeployApiKey).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
    }

    #[test]
    fn unavailable_store_says_what_to_do() {
        let store = MemoryStore::unavailable();
        for err in [
            store.get("staging", SecretKind::DeployApiKey).unwrap_err(),
            store
                .set("staging", SecretKind::DeployApiKey, &Secret::new("k"))
                .unwrap_err(),
            store
                .delete("staging", SecretKind::DeployApiKey)
                .unwrap_err(),
        ] {
            assert_eq!(err.code, ErrorCode::KeychainUnavailable);
            assert!(err.message.contains("never stores keys in plain text"));
        }
    }

    #[test]
    fn usable_as_a_trait_object() {
        let store: std::sync::Arc<dyn SecretStore> = std::sync::Arc::new(MemoryStore::new());
        store
            .set("staging", SecretKind::CloudflareToken, &Secret::new("t"))
            .unwrap();
        assert!(store
            .contains("staging", SecretKind::CloudflareToken)
            .unwrap());
    }

    #[test]
    fn debug_of_the_store_hides_values() {
        let store = MemoryStore::new().with("staging", SecretKind::DeployApiKey, "hunter2-value");
        let text = format!("{store:?}");
        assert!(!text.contains("hunter2"));
    }
}
