//! With no session bus there is no keychain: every call fails with `KeychainUnavailable`, says
//! what to do, and nothing is written anywhere instead.
//!
//! Environment variables are process-wide, so the test runs itself again as a child process with
//! `DBUS_SESSION_BUS_ADDRESS` pointing at a socket that does not exist.
#![cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]

use std::process::Command;

use switchyard_core::ErrorCode;
use switchyard_secrets::{
    keychain_status, KeychainStatus, KeychainStore, MemoryStore, Secret, SecretKind, SecretStore,
};

const CHILD: &str = "SWITCHYARD_SECRETS_NO_BUS_CHILD";
const TEST_NAME: &str = "without_a_session_bus_the_keychain_is_unavailable";

#[test]
fn without_a_session_bus_the_keychain_is_unavailable() {
    if std::env::var_os(CHILD).is_some() {
        in_child();
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("no-such-bus");
    let output = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", missing.display()),
        )
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_RUNTIME_DIR", home.path().join("run"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the child run failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "the child ran the test"
    );
    let left: Vec<_> = std::fs::read_dir(home.path()).unwrap().collect();
    assert!(
        left.is_empty(),
        "nothing is written in place of the keychain"
    );
}

fn in_child() {
    let store = KeychainStore::new();
    let secret = Secret::new("sk-no-bus-never-shown");
    let errors = [
        store
            .set("staging", SecretKind::DeployApiKey, &secret)
            .unwrap_err(),
        store.get("staging", SecretKind::DeployApiKey).unwrap_err(),
        store
            .delete("staging", SecretKind::CloudflareToken)
            .unwrap_err(),
        // A second try connects again, and fails the same way.
        store.get("staging", SecretKind::DeployApiKey).unwrap_err(),
    ];
    for err in &errors {
        assert_eq!(err.code, ErrorCode::KeychainUnavailable, "{err:?}");
        assert!(
            err.message.starts_with(
                "No OS keychain is available (no Secret Service on the session D-Bus)."
            ),
            "{}",
            err.message
        );
        for hint in [
            "GNOME Keyring or KWallet",
            "dbus-run-session",
            "gnome-keyring-daemon --unlock --components=secrets",
            "Switchyard never stores keys in plain text.",
        ] {
            assert!(err.message.contains(hint), "{hint:?} in {}", err.message);
        }
        assert!(!err.message.contains("sk-no-bus"));
    }

    match keychain_status() {
        KeychainStatus::Unavailable { reason } => assert_eq!(reason, errors[0].message),
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert!(!store.status().is_available());

    // The in-memory store does not care.
    let memory = MemoryStore::new();
    memory
        .set("staging", SecretKind::DeployApiKey, &secret)
        .unwrap();
    assert_eq!(
        memory.get("staging", SecretKind::DeployApiKey).unwrap(),
        Some(secret)
    );
}
