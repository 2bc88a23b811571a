//! The checks of the structured arguments the window sends (requests, filters, settings): each
//! type's `check(field)` bounds every field with `switchyard_core::validate` and refuses with
//! `InvalidInput` naming `field.member`. Every command calls its arguments' checks first, before
//! anything else happens; the test in `input/completeness.rs` proves that each command does.

use std::collections::BTreeMap;

use switchyard_core::validate::{
    self, Check, EPOCH_MS, FAULT_LATENCY_MS, FAULT_STATUS, LABEL_MAX, PAGE_LIMIT, PAGE_OFFSET,
    TEXT_MAX,
};
use switchyard_core::{AuditFilter, Profile};
use switchyard_ops::{
    BundleRef, CompareRequest, Confirmation, DeploySettings, DeploySource, LogsRequest,
    MetadataInput, PlanBasis, PrepareDeploy, PromoteRequest, RehearsalFault, RestoreRequest,
    RollbackRequest, RolloutRequest, StartRollout, StepRunRequest, MAX_TAILED_SERVICES,
};
use switchyard_store::DeploymentFilter;

/// A search the window sends (bytes).
pub(crate) const SEARCH_MAX: usize = 1024;
/// A git branch or an author as typed (characters).
pub(crate) const REF_MAX: usize = 256;
/// Values of a runbook's inputs or a step's parameters, per map.
pub(crate) const PARAMS_MAX: usize = 64;
/// The longest name of an input or a parameter.
pub(crate) const PARAM_NAME_MAX: usize = 64;
/// A step's confirmation: for a `command` step, the command itself (bytes).
pub(crate) const STEP_CONFIRMATION_MAX: usize = 16 * 1024;
/// Service bindings sent with a deploy.
pub(crate) const BINDINGS_MAX: usize = 64;
/// Profiles exported at once.
pub(crate) const PROFILE_IDS_MAX: usize = 1000;
/// A profiles TOML file to import (bytes).
pub(crate) const PROFILES_TOML_MAX: usize = 1024 * 1024;
/// A run note (bytes).
pub(crate) const NOTE_MAX: usize = 16 * 1024;
/// The most step numbers or check numbers a runbook can have.
pub(crate) const INDEX_MAX: u32 = 9_999;
/// The most workers a namespace delete plan can count.
pub(crate) const SCRIPT_COUNT_MAX: u32 = 10_000_000;
/// A worker secret's name (characters).
pub(crate) const SECRET_NAME_MAX: usize = 256;
/// Pasted `.env` lines for a bulk secret set (bytes): 128 secrets of 5 KiB and their names.
pub(crate) const ENV_TEXT_MAX: usize = 768 * 1024;
/// Tags sent for one worker (the engine allows 8; this bounds what it is shown).
pub(crate) const TAGS_MAX: usize = 64;
/// One tag (characters).
pub(crate) const TAG_MAX: usize = 256;
/// Worker names a delete by tag confirms.
pub(crate) const PREVIEWED_WORKERS_MAX: usize = 100_000;

/// A structured argument that checks itself; `field` is its name in the command.
pub(crate) trait Checked {
    fn check(&self, field: &str) -> Check;
}

fn at(field: &str, member: &str) -> String {
    format!("{field}.{member}")
}

/// Runbook inputs or step values: at most 64, names as keys, values as free text.
pub(crate) fn params(field: &str, values: &BTreeMap<String, String>) -> Check {
    validate::count(field, values.len(), PARAMS_MAX)?;
    for (name, value) in values {
        validate::line(field, name, PARAM_NAME_MAX)?;
        validate::text(&format!("{field}.{name}"), value, TEXT_MAX)?;
    }
    Ok(())
}

impl Checked for Profile {
    fn check(&self, field: &str) -> Check {
        validate::profile(field, self)
    }
}

impl Checked for AuditFilter {
    fn check(&self, field: &str) -> Check {
        validate::opt(self.since_ms.as_ref(), |&ms| {
            validate::range(&at(field, "sinceMs"), ms, EPOCH_MS)
        })?;
        validate::opt(self.until_ms.as_ref(), |&ms| {
            validate::range(&at(field, "untilMs"), ms, EPOCH_MS)
        })?;
        // "" is the app-wide entries (settings), not a profile's.
        validate::opt(self.profile_id.as_deref().filter(|p| !p.is_empty()), |p| {
            validate::profile_id(&at(field, "profileId"), p)
        })?;
        validate::opt(self.action.as_deref(), |a| {
            validate::line(&at(field, "action"), a, LABEL_MAX)
        })?;
        validate::opt(self.text.as_deref(), |t| {
            validate::text(&at(field, "text"), t, SEARCH_MAX)
        })?;
        validate::opt(self.limit.as_ref(), |&n| {
            validate::range(&at(field, "limit"), n, PAGE_LIMIT)
        })?;
        validate::opt(self.offset.as_ref(), |&n| {
            validate::range(&at(field, "offset"), n, PAGE_OFFSET)
        })?;
        validate::opt(self.after.as_ref(), |c| {
            validate::range(&at(field, "after.atMs"), c.at_ms, EPOCH_MS)?;
            validate::range(&at(field, "after.seq"), c.seq, EPOCH_MS)
        })
    }
}

impl Checked for DeploymentFilter {
    fn check(&self, field: &str) -> Check {
        validate::opt(self.service.as_deref(), |s| {
            validate::service(&at(field, "service"), s)
        })?;
        validate::opt(self.author.as_deref(), |a| {
            validate::line(&at(field, "author"), a, REF_MAX)
        })?;
        validate::opt(self.branch.as_deref(), |b| {
            validate::line(&at(field, "branch"), b, REF_MAX)
        })?;
        validate::opt(self.text.as_deref(), |t| {
            validate::text(&at(field, "text"), t, SEARCH_MAX)
        })?;
        validate::opt(self.since_ms.as_ref(), |&ms| {
            validate::range(&at(field, "sinceMs"), ms, EPOCH_MS)
        })?;
        validate::opt(self.until_ms.as_ref(), |&ms| {
            validate::range(&at(field, "untilMs"), ms, EPOCH_MS)
        })?;
        validate::opt(self.limit.as_ref(), |&n| {
            validate::range(&at(field, "limit"), n, PAGE_LIMIT)
        })?;
        validate::opt(self.offset.as_ref(), |&n| {
            validate::range(&at(field, "offset"), n, PAGE_OFFSET)
        })
    }
}

impl Checked for PlanBasis {
    fn check(&self, field: &str) -> Check {
        validate::opt(self.current_deployment_id.as_deref(), |id| {
            validate::id(&at(field, "currentDeploymentId"), id)
        })?;
        validate::opt(self.current_label.as_deref(), |l| {
            validate::line(&at(field, "currentLabel"), l, LABEL_MAX)
        })
    }
}

impl Checked for Confirmation {
    fn check(&self, field: &str) -> Check {
        validate::opt(self.typed.as_deref(), |t| {
            validate::line(&at(field, "typed"), t, LABEL_MAX)
        })?;
        validate::opt(self.basis.as_ref(), |b| b.check(&at(field, "basis")))
    }
}

impl Checked for MetadataInput {
    fn check(&self, field: &str) -> Check {
        for (member, value, max) in [
            ("commit", &self.commit, LABEL_MAX),
            ("branch", &self.branch, REF_MAX),
            ("author", &self.author, REF_MAX),
            ("version", &self.version, LABEL_MAX),
        ] {
            validate::opt(value.as_deref(), |v| {
                validate::line(&at(field, member), v, max)
            })?;
        }
        Ok(())
    }
}

impl Checked for DeploySource {
    fn check(&self, field: &str) -> Check {
        let path = match self {
            DeploySource::ServiceFolder { path } | DeploySource::BundleFile { path } => path,
        };
        validate::path(&at(field, "path"), path)
    }
}

impl Checked for PrepareDeploy {
    fn check(&self, field: &str) -> Check {
        validate::profile_id(&at(field, "profileId"), &self.profile_id)?;
        validate::service(&at(field, "service"), &self.service)?;
        self.source.check(&at(field, "source"))?;
        self.metadata.check(&at(field, "metadata"))?;
        validate::opt(self.bindings.as_ref(), |bindings| {
            let f = at(field, "bindings");
            validate::count(&f, bindings.len(), BINDINGS_MAX)?;
            for (name, target) in bindings {
                validate::key(&f, name, LABEL_MAX)?;
                validate::script(&format!("{f}.{name}"), target)?;
            }
            Ok(())
        })?;
        validate::opt(self.run_id.as_deref().filter(|r| !r.is_empty()), |r| {
            validate::id(&at(field, "runId"), r)
        })
    }
}

impl Checked for switchyard_ops::NewService {
    fn check(&self, field: &str) -> Check {
        validate::profile_id(&at(field, "profileId"), &self.profile_id)?;
        validate::line(&at(field, "templateId"), &self.template_id, LABEL_MAX)?;
        validate::service(&at(field, "service"), &self.service)?;
        validate::path(&at(field, "folder"), &self.folder)?;
        let f = at(field, "bindings");
        validate::count(
            &f,
            self.bindings.len(),
            switchyard_ops::NEW_SERVICE_BINDINGS_MAX,
        )?;
        for (name, service) in &self.bindings {
            validate::key(&f, name, LABEL_MAX)?;
            validate::service(&format!("{f}.{name}"), service)?;
        }
        validate::opt(self.description.as_deref(), |d| {
            validate::line(
                &at(field, "description"),
                d,
                switchyard_ops::DESCRIPTION_MAX,
            )
        })
    }
}

impl Checked for RollbackRequest {
    fn check(&self, field: &str) -> Check {
        validate::profile_id(&at(field, "profileId"), &self.profile_id)?;
        validate::service(&at(field, "service"), &self.service)?;
        validate::text(&at(field, "reason"), &self.reason, TEXT_MAX)?;
        self.confirmation.check(&at(field, "confirmation"))?;
        validate::opt(self.run_id.as_deref(), |r| {
            validate::id(&at(field, "runId"), r)
        })
    }
}

impl Checked for RestoreRequest {
    fn check(&self, field: &str) -> Check {
        validate::profile_id(&at(field, "profileId"), &self.profile_id)?;
        validate::id(&at(field, "deploymentId"), &self.deployment_id)?;
        validate::text(&at(field, "reason"), &self.reason, TEXT_MAX)?;
        self.confirmation.check(&at(field, "confirmation"))?;
        validate::opt(self.run_id.as_deref(), |r| {
            validate::id(&at(field, "runId"), r)
        })
    }
}

impl Checked for PromoteRequest {
    fn check(&self, field: &str) -> Check {
        validate::profile_id(&at(field, "profileId"), &self.profile_id)?;
        validate::service(&at(field, "service"), &self.service)?;
        self.confirmation.check(&at(field, "confirmation"))?;
        validate::opt(self.run_id.as_deref(), |r| {
            validate::id(&at(field, "runId"), r)
        })
    }
}

impl Checked for DeploySettings {
    fn check(&self, field: &str) -> Check {
        const MIB: u64 = 1024 * 1024;
        validate::range(
            &at(field, "keepPerService"),
            self.keep_per_service,
            1..=1000,
        )?;
        validate::range(
            &at(field, "maxArchiveBytes"),
            self.max_archive_bytes,
            MIB..=1024 * 1024 * MIB,
        )?;
        validate::range(&at(field, "healthWaitMs"), self.health_wait_ms, 0..=600_000)?;
        validate::range(
            &at(field, "healthPollMs"),
            self.health_poll_ms,
            100..=60_000,
        )?;
        validate::range(
            &at(field, "bundleSizeLimitBytes"),
            self.bundle_size_limit_bytes,
            1..=100 * MIB,
        )?;
        validate::range(
            &at(field, "promoteSoakMinutes"),
            self.promote_soak_minutes,
            0..=7 * 24 * 60,
        )
    }
}

impl Checked for LogsRequest {
    fn check(&self, field: &str) -> Check {
        validate::profile_id(&at(field, "profileId"), &self.profile_id)?;
        let f = at(field, "services");
        validate::count(&f, self.services.len(), MAX_TAILED_SERVICES)?;
        for s in &self.services {
            validate::service(&f, s)?;
        }
        Ok(())
    }
}

impl Checked for switchyard_ops::WorkerQuery {
    fn check(&self, field: &str) -> Check {
        // `listing` is an opaque handle: an unknown one answers NotFound.
        validate::text(&at(field, "search"), &self.search, SEARCH_MAX)?;
        validate::opt(self.tag.as_deref(), |t| {
            validate::text(&at(field, "tag"), t, TAG_MAX)
        })?;
        validate::opt(self.find.as_deref(), |n| {
            validate::text(&at(field, "find"), n, TAG_MAX)
        })?;
        validate::range(&at(field, "offset"), self.offset, 0..=SCRIPT_COUNT_MAX)?;
        validate::range(
            &at(field, "limit"),
            self.limit,
            0..=switchyard_ops::WINDOW_ROWS_MAX,
        )
    }
}

impl Checked for StepRunRequest {
    fn check(&self, field: &str) -> Check {
        params(&at(field, "values"), &self.values)?;
        validate::opt(self.confirmation.as_deref(), |c| {
            validate::text(&at(field, "confirmation"), c, STEP_CONFIRMATION_MAX)
        })?;
        validate::opt(self.basis.as_ref(), |b| b.check(&at(field, "basis")))
    }
}

impl Checked for BundleRef {
    fn check(&self, field: &str) -> Check {
        match self {
            BundleRef::Running { service, .. } => validate::service(&at(field, "service"), service),
            BundleRef::Bundle { sha256 } => validate::sha256(&at(field, "sha256"), sha256),
        }
    }
}

impl Checked for RolloutRequest {
    fn check(&self, field: &str) -> Check {
        validate::profile_id(&at(field, "profileId"), &self.profile_id)?;
        validate::service(&at(field, "service"), &self.service)?;
        validate::path(&at(field, "bundlePath"), &self.bundle_path)?;
        let settings = at(field, "settings");
        validate::count(&at(&settings, "steps"), self.settings.steps.len(), 10)?;
        validate::line(&at(&settings, "probePath"), &self.settings.probe_path, 512)?;
        // The engine checks the rest of the settings (ranges, order), naming each field.
        self.settings.check().map_err(|e| {
            switchyard_core::AppError::invalid_input(format!("{settings}.{}", e.message))
        })
    }
}

impl Checked for StartRollout {
    fn check(&self, field: &str) -> Check {
        self.request.check(&at(field, "request"))?;
        validate::sha256(&at(field, "bundleSha256"), &self.bundle_sha256)?;
        self.confirmation.check(&at(field, "confirmation"))
    }
}

impl Checked for CompareRequest {
    fn check(&self, field: &str) -> Check {
        validate::profile_id(&at(field, "profileId"), &self.profile_id)?;
        self.left.check(&at(field, "left"))?;
        self.right.check(&at(field, "right"))
    }
}

impl Checked for RehearsalFault {
    fn check(&self, field: &str) -> Check {
        match self {
            RehearsalFault::ServiceDown { service } | RehearsalFault::BadDeploy { service } => {
                validate::service(&at(field, "service"), service)
            }
            RehearsalFault::ServiceErrors { service, status } => {
                validate::service(&at(field, "service"), service)?;
                validate::range(&at(field, "status"), *status, FAULT_STATUS)
            }
            RehearsalFault::Latency { target, ms } => {
                validate::key(&at(field, "target"), target, LABEL_MAX)?;
                validate::range(&at(field, "ms"), *ms, FAULT_LATENCY_MS)
            }
            RehearsalFault::DeployApiDown
            | RehearsalFault::DispatcherDown
            | RehearsalFault::DatabaseUnhealthy => Ok(()),
        }
    }
}

/// Each structured argument refuses every spoiled member, naming it.
#[cfg(test)]
mod tests;

/// Every command checks each argument the window fills before anything else.
#[cfg(test)]
mod completeness;
