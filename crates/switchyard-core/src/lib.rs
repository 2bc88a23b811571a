//! Switchyard's domain: the names of the platform (services, environments, namespaces), the
//! profiles that point the app at one environment of it, the error vocabulary every layer shares,
//! and the redacting [`Secret`] that keys are held in. Pure types and rules: this crate does no
//! I/O and must not depend on `tauri`, on an HTTP client, on a database or on any other
//! Switchyard crate.

pub mod audit;
pub mod deployment;
pub mod error;
pub mod names;
pub mod profile;
pub mod secret;
pub mod validate;

pub use audit::{AuditCursor, AuditFilter, AuditOutcome};
pub use deployment::{short_commit, Deployment, DeploymentMetadata, DeploymentStatus};
pub use error::{AppError, ErrorCode, RunbookSection};
pub use names::{Environment, ServiceName, DEFAULT_SERVICES};
pub use profile::{Profile, ProfileId, ProfileSummary, Protection, SANDBOX_PROFILE_ID};
pub use secret::{Secret, REDACTED};

/// Where "now" comes from. Passed in, so plans and records are testable.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}
