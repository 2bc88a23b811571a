//! [`KeychainStore`]: secrets in the OS keychain, through keyring 4 (`keyring-core` and the
//! platform's native store crate). On Linux that is the Secret Service (GNOME Keyring, KWallet)
//! over the session D-Bus.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use keyring_core::{CredentialStore, Entry, Error as KeyringError};
use serde::Serialize;
use switchyard_core::{AppError, ErrorCode};
use zeroize::Zeroize;

use crate::store::{account, check_profile, check_secret, SERVICE};
use crate::{Secret, SecretKind, SecretStore};

/// The account looked up (never written) to tell whether the keychain answers. It has no `/`,
/// so it can never be the account of a secret.
const PROBE_ACCOUNT: &str = "keychain-status-probe";

/// Whether the OS keychain can be used, for the Settings page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum KeychainStatus {
    /// The keychain answered. (A locked keychain may still ask the user to unlock it on first
    /// use.)
    Available {
        /// Which keychain, e.g. "Secret Service (GNOME Keyring, KWallet)".
        backend: String,
    },
    /// The keychain cannot be used; `reason` says why and what to do, in the words of the
    /// `KeychainUnavailable` error.
    Unavailable { reason: String },
}

impl KeychainStatus {
    pub fn is_available(&self) -> bool {
        matches!(self, KeychainStatus::Available { .. })
    }
}

/// Whether the OS keychain can be used right now (opens a fresh connection each time).
pub fn keychain_status() -> KeychainStatus {
    KeychainStore::new().status()
}

/// Why the keychain cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnavailableReason {
    /// No keychain service to talk to (on Linux: no session bus, or no Secret Service on it).
    NoService,
    /// The keychain is there but locked, or it refused access.
    Locked,
}

const NO_PLAINTEXT: &str = "Switchyard never stores keys in plain text.";

/// The `KeychainUnavailable` error for `reason`, telling the operator what to do.
pub(crate) fn unavailable_error(reason: UnavailableReason) -> AppError {
    let what_to_do = platform::what_to_do(reason);
    AppError::new(
        ErrorCode::KeychainUnavailable,
        format!("{what_to_do} {NO_PLAINTEXT}"),
    )
}

/// A [`SecretStore`] in the OS keychain: service `switchyard`, account `<profile>/<kind>`.
///
/// Creating one never fails: the keychain is connected on first use, and connected again after
/// a failure, so starting the keychain (or unlocking it) while the app runs is enough. When it
/// cannot be reached, every call fails with `KeychainUnavailable`; there is no plaintext
/// fallback.
pub struct KeychainStore {
    connection: Mutex<Option<Arc<CredentialStore>>>,
}

impl fmt::Debug for KeychainStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeychainStore")
            .field("service", &SERVICE)
            .field("backend", &platform::BACKEND)
            .field("connected", &self.lock().is_some())
            .finish()
    }
}

impl Default for KeychainStore {
    fn default() -> Self {
        KeychainStore::new()
    }
}

impl KeychainStore {
    /// A store in the OS keychain (not connected until first used).
    pub fn new() -> Self {
        KeychainStore {
            connection: Mutex::new(None),
        }
    }

    /// Whether this store's keychain answers now.
    pub fn status(&self) -> KeychainStatus {
        let outcome = self.call(PROBE_ACCOUNT, |entry| entry.get_password());
        let result = match outcome {
            Ok(Ok(mut value)) => {
                value.zeroize();
                Ok(())
            }
            Ok(Err(KeyringError::NoEntry)) => Ok(()),
            Ok(Err(err)) => Err(self.fail(&err, "Checking the OS keychain", PROBE_ACCOUNT)),
            Err(err) => Err(err),
        };
        match result {
            Ok(()) => KeychainStatus::Available {
                backend: platform::BACKEND.to_owned(),
            },
            Err(err) => KeychainStatus::Unavailable {
                reason: err.message,
            },
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Arc<CredentialStore>>> {
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connection to the keychain, made now if there is none.
    fn connection(&self) -> Result<Arc<CredentialStore>, AppError> {
        let mut slot = self.lock();
        if let Some(store) = slot.as_ref() {
            return Ok(store.clone());
        }
        match platform::open() {
            Ok(store) => {
                *slot = Some(store.clone());
                Ok(store)
            }
            Err(err) => {
                let reason = match err {
                    KeyringError::NoStorageAccess(_) => UnavailableReason::Locked,
                    _ => UnavailableReason::NoService,
                };
                tracing::warn!(
                    backend = platform::BACKEND,
                    error = %describe(&err),
                    "the OS keychain is not available"
                );
                Err(unavailable_error(reason))
            }
        }
    }

    /// Run `op` on the entry of `account`. A platform failure (a dropped D-Bus connection, a
    /// restarted keychain daemon) is retried once on a new connection; if none can be made the
    /// keychain is unavailable. The inner result is the keyring's answer to map.
    fn call<T>(
        &self,
        account: &str,
        op: impl Fn(&Entry) -> keyring_core::Result<T>,
    ) -> Result<keyring_core::Result<T>, AppError> {
        let store = self.connection()?;
        match self.entry(&store, account).and_then(|e| op(&e)) {
            Err(KeyringError::PlatformFailure(err)) => {
                tracing::info!(
                    account,
                    error = %err,
                    "keychain call failed; reconnecting once"
                );
                *self.lock() = None;
                let store = self.connection()?;
                Ok(self.entry(&store, account).and_then(|e| op(&e)))
            }
            outcome => Ok(outcome),
        }
    }

    fn entry(&self, store: &Arc<CredentialStore>, account: &str) -> keyring_core::Result<Entry> {
        Entry::new_in_store(store, SERVICE, account)
    }

    /// The error for a keyring failure other than "no entry"; details go to the log.
    fn fail(&self, err: &KeyringError, doing: &str, account: &str) -> AppError {
        tracing::error!(account, error = %describe(err), "{doing} failed");
        match err {
            KeyringError::NoStorageAccess(_) => unavailable_error(UnavailableReason::Locked),
            KeyringError::Ambiguous(_) => AppError::new(
                ErrorCode::Internal,
                format!(
                    "The OS keychain holds more than one entry for service \"{SERVICE}\", \
                     account \"{account}\". Remove them in your keychain app (e.g. Seahorse), \
                     then set the key again."
                ),
            ),
            KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => AppError::new(
                ErrorCode::Internal,
                format!(
                    "The OS keychain entry for account \"{account}\" is not a readable key. \
                     Set the key again to replace it."
                ),
            ),
            _ => AppError::internal(doing),
        }
    }
}

/// A description of a keyring error that is safe to log: never the bytes some variants carry.
fn describe(err: &KeyringError) -> String {
    match err {
        KeyringError::BadEncoding(_) => "the stored value is not valid UTF-8".to_owned(),
        KeyringError::BadDataFormat(..) => "the stored value is malformed".to_owned(),
        KeyringError::Ambiguous(entries) => format!("{} entries match", entries.len()),
        other => other.to_string(),
    }
}

/// Zero the secret bytes some keyring errors carry before they are dropped.
fn scrub(err: &mut KeyringError) {
    match err {
        KeyringError::BadEncoding(bytes) | KeyringError::BadDataFormat(bytes, _) => {
            bytes.zeroize();
        }
        _ => {}
    }
}

impl SecretStore for KeychainStore {
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<Secret>, AppError> {
        check_profile(profile)?;
        let account = account(profile, kind);
        match self.call(&account, |entry| entry.get_password())? {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(mut err) => {
                scrub(&mut err);
                let doing = format!("Reading the {} of profile {profile}", kind.label());
                Err(self.fail(&err, &doing, &account))
            }
        }
    }

    fn set(&self, profile: &str, kind: SecretKind, secret: &Secret) -> Result<(), AppError> {
        check_profile(profile)?;
        check_secret(kind, secret)?;
        let account = account(profile, kind);
        match self.call(&account, |entry| entry.set_password(secret.expose()))? {
            Ok(()) => {
                tracing::info!(account, "stored a secret in the OS keychain");
                Ok(())
            }
            Err(err) => {
                let doing = format!("Saving the {} of profile {profile}", kind.label());
                Err(self.fail(&err, &doing, &account))
            }
        }
    }

    fn delete(&self, profile: &str, kind: SecretKind) -> Result<bool, AppError> {
        check_profile(profile)?;
        let account = account(profile, kind);
        match self.call(&account, |entry| entry.delete_credential())? {
            Ok(()) => {
                tracing::info!(account, "removed a secret from the OS keychain");
                Ok(true)
            }
            Err(KeyringError::NoEntry) => Ok(false),
            Err(err) => {
                let doing = format!("Removing the {} of profile {profile}", kind.label());
                Err(self.fail(&err, &doing, &account))
            }
        }
    }
}

/// The native credential store of each platform, and what to tell its users.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod platform {
    use super::*;

    pub(super) const BACKEND: &str = "Secret Service (GNOME Keyring, KWallet)";

    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()?;
        Ok(store)
    }

    pub(super) fn what_to_do(reason: UnavailableReason) -> &'static str {
        match reason {
            UnavailableReason::NoService => {
                "No OS keychain is available (no Secret Service on the session D-Bus). Install \
                 and unlock GNOME Keyring or KWallet (on a headless machine: run inside \
                 `dbus-run-session` after `gnome-keyring-daemon --unlock --components=secrets`), \
                 then try again."
            }
            UnavailableReason::Locked => {
                "The OS keychain is locked or refused access (Secret Service). Unlock your login \
                 keyring in GNOME Keyring or KWallet (on a headless machine: \
                 `gnome-keyring-daemon --unlock --components=secrets`), then try again."
            }
        }
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use super::*;

    pub(super) const BACKEND: &str = "macOS Keychain";

    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
        Ok(store)
    }

    pub(super) fn what_to_do(reason: UnavailableReason) -> &'static str {
        match reason {
            UnavailableReason::NoService => {
                "The macOS Keychain could not be opened. Check it in Keychain Access, then try \
                 again."
            }
            UnavailableReason::Locked => {
                "The macOS Keychain is locked or refused access. Unlock your login keychain in \
                 Keychain Access (and allow Switchyard when asked), then try again."
            }
        }
    }
}

#[cfg(target_os = "windows")]
mod platform {
    use super::*;

    pub(super) const BACKEND: &str = "Windows Credential Manager";

    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()?;
        Ok(store)
    }

    pub(super) fn what_to_do(reason: UnavailableReason) -> &'static str {
        match reason {
            UnavailableReason::NoService => {
                "Windows Credential Manager could not be opened. Sign in with a regular user \
                 account, then try again."
            }
            UnavailableReason::Locked => {
                "Windows Credential Manager refused access. Sign in with a regular user account, \
                 then try again."
            }
        }
    }
}

#[cfg(not(any(
    all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ),
    target_os = "macos",
    target_os = "windows"
)))]
mod platform {
    use super::*;

    pub(super) const BACKEND: &str = "none";

    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        Err(KeyringError::NotSupportedByStore(
            "no OS keychain is supported on this platform".to_owned(),
        ))
    }

    pub(super) fn what_to_do(_reason: UnavailableReason) -> &'static str {
        "Switchyard supports no OS keychain on this platform."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_messages_say_what_to_do_and_refuse_plaintext() {
        for reason in [UnavailableReason::NoService, UnavailableReason::Locked] {
            let err = unavailable_error(reason);
            assert_eq!(err.code, ErrorCode::KeychainUnavailable);
            assert!(err.message.ends_with(NO_PLAINTEXT));
            assert!(err.message.contains("try again"));
        }
    }

    #[test]
    fn logged_descriptions_never_carry_stored_bytes() {
        let err = KeyringError::BadEncoding(b"sk-secret-\xff".to_vec());
        let text = describe(&err);
        assert!(!text.contains("sk-secret"));
        assert!(!text.contains("115"), "no list of the bytes either");
        let mut err = KeyringError::BadEncoding(b"sk-secret".to_vec());
        scrub(&mut err);
        match err {
            KeyringError::BadEncoding(bytes) => assert!(bytes.iter().all(|b| *b == 0)),
            _ => unreachable!(),
        }
    }

    #[test]
    fn status_serializes_for_the_ui() {
        let status = KeychainStatus::Unavailable {
            reason: "locked".to_owned(),
        };
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["state"], "unavailable");
        assert_eq!(json["reason"], "locked");
        assert!(!status.is_available());
    }
}
