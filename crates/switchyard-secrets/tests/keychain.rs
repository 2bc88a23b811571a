//! `KeychainStore` against the real OS keychain (on Linux: gnome-keyring in a D-Bus session, as
//! `cargo xtask test` provides). Without one these tests fail, saying how to run them; they never
//! pass silently.
//!
//! Every test uses its own random profile ids and removes its entries, even when it fails.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use switchyard_core::ErrorCode;
use switchyard_secrets::{
    account, keychain_status, KeychainStatus, KeychainStore, Secret, SecretKind, SecretStore,
};

const HOW_TO_RUN: &str = "These tests need a real OS keychain. Run them with `cargo xtask test`, \
or on Linux with:\n  dbus-run-session -- sh -c 'printf test | gnome-keyring-daemon --unlock \
--components=secrets >/dev/null && cargo test -p switchyard-secrets'";

/// A store in the real keychain; fails the test, saying why and how to run it, when there is none.
fn keychain() -> KeychainStore {
    let store = KeychainStore::new();
    if let KeychainStatus::Unavailable { reason } = store.status() {
        panic!("no OS keychain is available: {reason}\n{HOW_TO_RUN}");
    }
    store
}

/// A profile id no other test (or run) uses.
fn unique_profile(name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("test-{name}-{:016x}", hasher.finish())
}

/// Removes the listed entries when dropped, so a failing test leaves nothing behind.
struct Cleanup<'a> {
    store: &'a KeychainStore,
    entries: Vec<(String, SecretKind)>,
}

impl<'a> Cleanup<'a> {
    fn new(store: &'a KeychainStore) -> Self {
        Cleanup {
            store,
            entries: Vec::new(),
        }
    }

    fn profile(&mut self, name: &str) -> String {
        let profile = unique_profile(name);
        for kind in SecretKind::ALL {
            self.entries.push((profile.clone(), kind));
        }
        profile
    }
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for (profile, kind) in &self.entries {
            let _ = self.store.delete(profile, *kind);
        }
    }
}

#[test]
fn keychain_is_available() {
    let _ = keychain();
    let status = keychain_status();
    assert!(status.is_available(), "{status:?}\n{HOW_TO_RUN}");
}

#[test]
fn set_get_overwrite_delete() {
    let store = keychain();
    let mut cleanup = Cleanup::new(&store);
    let profile = cleanup.profile("roundtrip");
    let kind = SecretKind::DeployApiKey;

    store
        .set(&profile, kind, &Secret::new("first-key"))
        .unwrap();
    assert_eq!(
        store.get(&profile, kind).unwrap(),
        Some(Secret::new("first-key"))
    );
    assert!(store.contains(&profile, kind).unwrap());

    store
        .set(&profile, kind, &Secret::new("second-key"))
        .unwrap();
    assert_eq!(
        store.get(&profile, kind).unwrap(),
        Some(Secret::new("second-key"))
    );

    assert!(store.delete(&profile, kind).unwrap(), "there was an entry");
    assert_eq!(store.get(&profile, kind).unwrap(), None);
    assert!(!store.contains(&profile, kind).unwrap());
}

#[test]
fn missing_secret_is_none_and_deleting_it_is_fine() {
    let store = keychain();
    let mut cleanup = Cleanup::new(&store);
    let profile = cleanup.profile("missing");
    for kind in SecretKind::ALL {
        assert_eq!(store.get(&profile, kind).unwrap(), None);
        assert!(!store.delete(&profile, kind).unwrap());
    }
}

#[test]
fn profiles_and_kinds_do_not_collide() {
    let store = keychain();
    let mut cleanup = Cleanup::new(&store);
    let staging = cleanup.profile("staging");
    let production = cleanup.profile("production");

    store
        .set(
            &staging,
            SecretKind::DeployApiKey,
            &Secret::new("staging-key"),
        )
        .unwrap();
    store
        .set(
            &production,
            SecretKind::DeployApiKey,
            &Secret::new("production-key"),
        )
        .unwrap();
    store
        .set(
            &staging,
            SecretKind::CloudflareToken,
            &Secret::new("staging-token"),
        )
        .unwrap();

    assert_eq!(
        store.get(&staging, SecretKind::DeployApiKey).unwrap(),
        Some(Secret::new("staging-key"))
    );
    assert_eq!(
        store.get(&production, SecretKind::DeployApiKey).unwrap(),
        Some(Secret::new("production-key"))
    );
    assert_eq!(
        store.get(&staging, SecretKind::CloudflareToken).unwrap(),
        Some(Secret::new("staging-token"))
    );
    assert_eq!(
        store.get(&production, SecretKind::CloudflareToken).unwrap(),
        None
    );

    store.delete(&staging, SecretKind::DeployApiKey).unwrap();
    assert_eq!(
        store.get(&production, SecretKind::DeployApiKey).unwrap(),
        Some(Secret::new("production-key")),
        "deleting one profile's key leaves the other's"
    );
    assert_eq!(
        store.get(&staging, SecretKind::CloudflareToken).unwrap(),
        Some(Secret::new("staging-token")),
        "deleting one kind leaves the other"
    );
}

#[test]
fn secrets_persist_across_store_instances() {
    let writer = keychain();
    let mut cleanup = Cleanup::new(&writer);
    let profile = cleanup.profile("persist");
    // A token with characters that must survive the round trip unchanged.
    let token = Secret::new("tok_Ab9+/=_-.~ ünïcødé 🔑 with spaces  ");
    writer
        .set(&profile, SecretKind::CloudflareToken, &token)
        .unwrap();

    let reader = keychain();
    assert_eq!(
        reader.get(&profile, SecretKind::CloudflareToken).unwrap(),
        Some(token)
    );
    assert!(reader
        .delete(&profile, SecretKind::CloudflareToken)
        .unwrap());
    assert_eq!(
        writer.get(&profile, SecretKind::CloudflareToken).unwrap(),
        None
    );
}

#[test]
fn invalid_input_is_refused_before_the_keychain() {
    let store = keychain();
    let err = store
        .set(
            "Not/A/Profile",
            SecretKind::DeployApiKey,
            &Secret::new("sk-never-shown"),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(!err.message.contains("sk-never-shown"));

    let mut cleanup = Cleanup::new(&store);
    let profile = cleanup.profile("empty");
    let err = store
        .set(&profile, SecretKind::DeployApiKey, &Secret::new(""))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert_eq!(store.get(&profile, SecretKind::DeployApiKey).unwrap(), None);
}

#[test]
fn debug_of_the_store_shows_no_secret() {
    let store = keychain();
    let mut cleanup = Cleanup::new(&store);
    let profile = cleanup.profile("debug");
    let secret = Secret::new("sk-debug-never-shown");
    store
        .set(&profile, SecretKind::DeployApiKey, &secret)
        .unwrap();
    let got = store.get(&profile, SecretKind::DeployApiKey).unwrap();
    let text = format!(
        "{store:?} {got:?} {}",
        account(&profile, SecretKind::DeployApiKey)
    );
    assert!(!text.contains("sk-debug"), "debug output leaked the secret");
    assert!(text.contains("Some(***)"));
}
