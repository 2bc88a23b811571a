//! The error vocabulary shared by every layer and carried across IPC as `{code, message, runbook}`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of failure happened. The UI branches on this, so variants are few and stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ErrorCode {
    InvalidApiKey,
    InsufficientPermissions,
    /// The profile is read-only: a setting of this app, not a permission of the platform.
    ReadOnlyProfile,
    ServiceNotFound,
    ServiceNotDeployed,
    NoPreviousDeployment,
    Unreachable,
    Timeout,
    RateLimited,
    KeychainUnavailable,
    InvalidInput,
    NotFound,
    Conflict,
    BundleTooLarge,
    Cancelled,
    /// The platform answered with an error of its own (a 5xx, or a failure it reported).
    ServerError,
    /// The platform answered with something that is not what its contract says (not JSON,
    /// truncated, wrong shape).
    InvalidResponse,
    /// The disk holding Switchyard's data is full: the write was refused and nothing was saved.
    DiskFull,
    /// Switchyard's database stayed locked by another connection or program past the wait.
    DatabaseBusy,
    Internal,
}

impl ErrorCode {
    /// The runbook section that tells an operator how to fix this kind of failure, if any.
    pub fn runbook(self) -> Option<RunbookSection> {
        match self {
            ErrorCode::InvalidApiKey => Some(RunbookSection::InvalidApiKey),
            ErrorCode::InsufficientPermissions => Some(RunbookSection::InsufficientPermissions),
            ErrorCode::ServiceNotFound => Some(RunbookSection::ServiceNotFound),
            ErrorCode::ServiceNotDeployed => Some(RunbookSection::ServiceNotDeployed),
            ErrorCode::NoPreviousDeployment => Some(RunbookSection::RollingBack),
            ErrorCode::Unreachable | ErrorCode::Timeout => Some(RunbookSection::DeployApiDown),
            ErrorCode::ServerError => Some(RunbookSection::Deployment500),
            _ => None,
        }
    }
}

/// A section of `workers-runbook.md` an error can point the operator to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunbookSection {
    InvalidApiKey,
    InsufficientPermissions,
    ServiceNotFound,
    ServiceNotDeployed,
    RollingBack,
    DeployApiDown,
    Deployment500,
    Deployed404,
    DeployedCrashes,
}

impl RunbookSection {
    /// The heading of the section, exactly as the runbook writes it.
    pub fn heading(self) -> &'static str {
        match self {
            RunbookSection::InvalidApiKey => "Issue: \"Invalid API key\" (401)",
            RunbookSection::InsufficientPermissions => "Issue: \"Insufficient permissions\" (403)",
            RunbookSection::ServiceNotFound => "Issue: \"Service not found\" (404)",
            RunbookSection::ServiceNotDeployed => "Issue: \"Service not deployed\" (404)",
            RunbookSection::RollingBack => "Rolling Back a Deployment",
            RunbookSection::DeployApiDown => "Deploy API Down",
            RunbookSection::Deployment500 => "Deployment Returns 500 Error",
            RunbookSection::Deployed404 => "Service Deployed but Returns 404",
            RunbookSection::DeployedCrashes => "Service Deployed but Crashes",
        }
    }
}

impl fmt::Display for RunbookSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.heading())
    }
}

/// An error as the operator sees it: a code to branch on, a message that says what happened and
/// what to do, and where in the runbook the fix is described.
///
/// `message` must be safe to show: never a secret, never a raw internal error chain (those are
/// logged, not shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// Heading of the runbook section that fixes this, when there is one (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub runbook: Option<String>,
}

impl AppError {
    /// An error of `code` with the code's default runbook section.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            runbook: code.runbook().map(|s| s.heading().to_owned()),
        }
    }

    /// Point at a more specific runbook section than the code's default.
    pub fn with_runbook(mut self, section: RunbookSection) -> Self {
        self.runbook = Some(section.heading().to_owned());
        self
    }

    /// A change refused because the profile is read-only (its protection in Settings; no runbook
    /// section applies: the key may well have the permission).
    pub fn read_only(profile_name: &str, what: &str) -> Self {
        AppError::new(
            ErrorCode::ReadOnlyProfile,
            format!(
                "Profile \"{profile_name}\" is read-only, so {what} is disabled. Change its protection in Settings to make changes."
            ),
        )
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::InvalidInput, message)
    }

    /// A write refused because the disk holding `folder` is full (`what` failed, e.g. "Saving
    /// deployments"). Nothing was saved: the caller must not leave a partial write behind.
    pub fn disk_full(what: &str, folder: &str) -> Self {
        AppError::new(
            ErrorCode::DiskFull,
            format!(
                "{what} failed: the disk holding {folder} is full. Free space on it and try again; nothing was saved."
            ),
        )
    }

    /// An internal failure: the operator gets a safe message, the detail goes to the log.
    pub fn internal(context: &str) -> Self {
        AppError::new(
            ErrorCode::Internal,
            format!("{context} failed unexpectedly. The details are in the Switchyard log."),
        )
    }
}

/// Whether an I/O error means the disk (or the user's quota on it) is full: ENOSPC, EDQUOT.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_code_message_runbook() {
        let err = AppError::new(ErrorCode::InvalidApiKey, "The Deploy API rejected the key.");
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["code"], "InvalidApiKey");
        assert_eq!(json["message"], "The Deploy API rejected the key.");
        assert_eq!(json["runbook"], "Issue: \"Invalid API key\" (401)");
    }

    #[test]
    fn a_full_disk_is_its_own_error_and_says_what_to_do() {
        // ENOSPC and EDQUOT, as the file system reports them.
        assert!(is_disk_full(&std::io::Error::from_raw_os_error(28)));
        assert!(is_disk_full(&std::io::Error::from_raw_os_error(122)));
        assert!(!is_disk_full(&std::io::Error::from_raw_os_error(13)));
        let err = AppError::disk_full("Saving deployments", "/data");
        assert_eq!(err.code, ErrorCode::DiskFull);
        assert_eq!(
            err.message,
            "Saving deployments failed: the disk holding /data is full. Free space on it and try again; nothing was saved."
        );
    }

    #[test]
    fn internal_errors_point_to_the_log_not_the_cause() {
        let err = AppError::internal("Reading the profile list");
        assert_eq!(err.code, ErrorCode::Internal);
        assert!(err.message.starts_with("Reading the profile list failed"));
        assert_eq!(err.runbook, None);
        let json = serde_json::to_value(&err).unwrap();
        assert!(
            json.get("runbook").is_none(),
            "no runbook key when there is none"
        );
    }

    #[test]
    fn runbook_headings_exist_in_the_runbook() {
        // The headings must match the runbook text so the UI can link to them.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/workers-runbook.md"
        );
        let runbook = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("the runbook is read from {path}: {e}"));
        for section in [
            RunbookSection::InvalidApiKey,
            RunbookSection::InsufficientPermissions,
            RunbookSection::ServiceNotFound,
            RunbookSection::ServiceNotDeployed,
            RunbookSection::RollingBack,
            RunbookSection::DeployApiDown,
            RunbookSection::Deployment500,
            RunbookSection::Deployed404,
            RunbookSection::DeployedCrashes,
        ] {
            assert!(
                runbook
                    .lines()
                    .any(|l| l.trim_start_matches('#').trim() == section.heading()),
                "runbook has no heading {:?}",
                section.heading()
            );
        }
    }
}
