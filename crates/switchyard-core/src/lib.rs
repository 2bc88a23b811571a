//! Switchyard's domain: the names of the platform (services, environments, namespaces), the
//! profiles that point the app at one environment of it, and the error vocabulary every layer
//! shares. Pure types and rules: this crate does no I/O and must not depend on `tauri`, on an
//! HTTP client, on a database or on any other Switchyard crate.

pub mod deployment;
pub mod error;
pub mod names;
pub mod profile;

pub use deployment::{Deployment, DeploymentMetadata, DeploymentStatus};
pub use error::{AppError, ErrorCode, RunbookSection};
pub use names::{Environment, ServiceName, DEFAULT_SERVICES};
pub use profile::{Profile, ProfileId, ProfileSummary, Protection};
