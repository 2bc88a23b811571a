//! The built-in runbooks (embedded Markdown), the catalog that puts them beside the user's, and
//! the link from an error's runbook section to the runbook (and step) that fixes it.

use serde::Serialize;
use switchyard_core::RunbookSection;

use crate::model::{Runbook, RunbookError, RunbookOrigin};
use crate::parse::parse_runbook;

macro_rules! builtin {
    ($($id:literal),* $(,)?) => {
        /// Every built-in runbook: `(id, Markdown)`, in the order the list shows them.
        pub const BUILTIN_RUNBOOKS: &[(&str, &str)] = &[
            $(($id, include_str!(concat!("../runbooks/", $id, ".md")))),*
        ];
    };
}

builtin!(
    "emergency-service-down",
    "emergency-database-connection-lost",
    "emergency-deploy-api-down",
    "emergency-all-services-down",
    "deploy-service",
    "rolling-back",
    "checking-deployment-status",
    "troubleshoot-deploy-500",
    "troubleshoot-deployed-404",
    "troubleshoot-deployed-crashes",
    "creating-a-service",
    "managing-namespaces",
    "updating-service-bindings",
    "monitoring",
    "issue-service-not-found",
    "issue-service-not-deployed",
    "issue-invalid-api-key",
    "issue-insufficient-permissions",
    "issue-build-type-errors",
    "issue-tests-fail-after-deployment",
);

/// The prefix of user runbook ids: `user/<file stem>`, so a user file never replaces a built-in.
pub const USER_ID_PREFIX: &str = "user/";

/// The built-in runbooks, parsed. A built-in that does not parse is reported as a problem (the
/// tests make sure none does).
pub fn builtin_runbooks() -> (Vec<Runbook>, Vec<RunbookProblem>) {
    let mut runbooks = Vec::new();
    let mut problems = Vec::new();
    for (id, source) in BUILTIN_RUNBOOKS {
        match parse_runbook(id, source, RunbookOrigin::BuiltIn) {
            Ok(r) => runbooks.push(r),
            Err(errors) => problems.push(RunbookProblem {
                runbook_id: (*id).to_owned(),
                file: format!("built-in {id}.md"),
                errors,
            }),
        }
    }
    (runbooks, problems)
}

/// The Markdown of a built-in runbook.
pub fn builtin_source(id: &str) -> Option<&'static str> {
    BUILTIN_RUNBOOKS
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, s)| *s)
}

/// A runbook file that did not load, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RunbookProblem {
    /// The id it would have had.
    pub runbook_id: String,
    /// The file, as the operator knows it (a path for user runbooks).
    pub file: String,
    pub errors: Vec<RunbookError>,
}

/// One user runbook file as read from disk: its id stem, path and content (or why it could not
/// be read).
#[derive(Debug, Clone)]
pub struct UserRunbookFile {
    pub stem: String,
    pub path: String,
    pub content: Result<String, String>,
}

/// Every runbook that loaded, and every file that did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RunbookCatalog {
    pub runbooks: Vec<Runbook>,
    pub problems: Vec<RunbookProblem>,
}

impl RunbookCatalog {
    /// The built-ins, then the user's runbooks that parse. A broken user file is listed in
    /// `problems` and hides nothing.
    pub fn load(user_files: Vec<UserRunbookFile>) -> RunbookCatalog {
        let (mut runbooks, mut problems) = builtin_runbooks();
        for file in user_files {
            let id = format!("{USER_ID_PREFIX}{}", file.stem);
            let origin = RunbookOrigin::User {
                path: file.path.clone(),
            };
            let parsed = match &file.content {
                Ok(text) => parse_runbook(&id, text, origin),
                Err(e) => Err(vec![RunbookError {
                    line: 0,
                    message: format!("the file could not be read: {e}"),
                }]),
            };
            match parsed {
                Ok(r) => runbooks.push(r),
                Err(errors) => problems.push(RunbookProblem {
                    runbook_id: id,
                    file: file.path,
                    errors,
                }),
            }
        }
        RunbookCatalog { runbooks, problems }
    }

    pub fn get(&self, id: &str) -> Option<&Runbook> {
        self.runbooks.iter().find(|r| r.id == id)
    }
}

/// Where an error's runbook pointer leads: a runbook, and the step to scroll to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RunbookLink {
    pub runbook_id: String,
    /// The step id to open at; `None` opens the runbook at its first step.
    pub step_id: Option<String>,
    /// The section heading of `workers-runbook.md` (what `AppError.runbook` carries).
    pub heading: String,
}

/// Every runbook section an error can point to.
pub const RUNBOOK_SECTIONS: [RunbookSection; 9] = [
    RunbookSection::InvalidApiKey,
    RunbookSection::InsufficientPermissions,
    RunbookSection::ServiceNotFound,
    RunbookSection::ServiceNotDeployed,
    RunbookSection::RollingBack,
    RunbookSection::DeployApiDown,
    RunbookSection::Deployment500,
    RunbookSection::Deployed404,
    RunbookSection::DeployedCrashes,
];

/// The built-in runbook (and step) that fixes what `section` describes.
pub fn runbook_link(section: RunbookSection) -> RunbookLink {
    let (runbook, step) = match section {
        RunbookSection::InvalidApiKey => ("issue-invalid-api-key", "test-the-key"),
        RunbookSection::InsufficientPermissions => {
            ("issue-insufficient-permissions", "read-the-permissions")
        }
        RunbookSection::ServiceNotFound => ("issue-service-not-found", "check-the-dispatcher"),
        RunbookSection::ServiceNotDeployed => ("issue-service-not-deployed", "look-for-the-worker"),
        RunbookSection::RollingBack => ("rolling-back", "history"),
        RunbookSection::DeployApiDown => ("emergency-deploy-api-down", "deploy-api-health"),
        RunbookSection::Deployment500 => ("troubleshoot-deploy-500", "history"),
        RunbookSection::Deployed404 => ("troubleshoot-deployed-404", "dispatcher"),
        RunbookSection::DeployedCrashes => ("troubleshoot-deployed-crashes", "service-health"),
    };
    RunbookLink {
        runbook_id: runbook.to_owned(),
        step_id: Some(step.to_owned()),
        heading: section.heading().to_owned(),
    }
}

/// The link for an `AppError.runbook` heading, as it crosses IPC.
pub fn runbook_link_for_heading(heading: &str) -> Option<RunbookLink> {
    RUNBOOK_SECTIONS
        .iter()
        .find(|s| s.heading() == heading)
        .map(|s| runbook_link(*s))
}
