//! Switchyard's secrets: the Deploy API key and Cloudflare token of each profile. This crate owns
//! the [`SecretStore`] trait (get/set/delete a secret by profile id and [`SecretKind`]), its two
//! implementations — [`KeychainStore`] in the OS keychain (keyring 4; service `switchyard`,
//! account `<profile>/<kind>`; the Secret Service on Linux) and [`MemoryStore`] for tests — and
//! the [`keychain_status`] shown in Settings. It re-exports the redacting [`Secret`] type, which
//! lives in `switchyard-core` (no `Serialize`, `Debug`/`Display` print `***`, zeroed on drop).
//! When no keychain is usable it fails with `KeychainUnavailable` and says what to do; it never
//! falls back to plain text. It must not depend on tauri, HTTP or a database, and it never writes
//! a secret to a log, an error or a file.

mod keychain;
mod memory;
mod store;

pub use keychain::{keychain_status, KeychainStatus, KeychainStore};
pub use memory::MemoryStore;
// `Secret` lives in switchyard-core so that crates which only hold keys (the HTTP clients) need
// not link the keychain; it is re-exported here so `switchyard_secrets::Secret` keeps working.
pub use store::{account, SecretKind, SecretStore, SERVICE};
pub use switchyard_core::{Secret, REDACTED};
