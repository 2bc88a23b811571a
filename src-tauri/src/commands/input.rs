//! The checks of the structured arguments the window sends (requests, filters, settings): each
//! type's `check(field)` bounds every field with `switchyard_core::validate` and refuses with
//! `InvalidInput` naming `field.member`. Every command calls its arguments' checks first, before
//! anything else happens; the test at the end of this file proves that each command does.

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

#[cfg(test)]
mod tests {
    use switchyard_core::{Environment, ErrorCode};

    use super::*;

    /// Ways to spoil one member of a `T`, each with the field the refusal must name.
    type Spoil<T> = Vec<(&'static str, Box<dyn Fn(&mut T)>)>;

    /// `check` refuses with InvalidInput whose message starts with `field`.
    fn refused(r: Check, field: &str) {
        let e = r.expect_err(field);
        assert_eq!(e.code, ErrorCode::InvalidInput, "{}", e.message);
        assert!(
            e.message.starts_with(&format!("{field}: ")),
            "expected the message to name {field}: {}",
            e.message
        );
    }

    fn long(n: usize) -> String {
        "x".repeat(n)
    }

    /// Every member of every structured argument, made invalid one at a time, is refused and
    /// named; the unchanged value is accepted.
    #[test]
    fn every_member_of_every_request_is_checked() {
        let basis = PlanBasis {
            current_deployment_id: Some("deploy_1_abcdef01".into()),
            current_label: Some("v1".into()),
        };
        let confirmation = Confirmation {
            confirmed: true,
            typed: Some("gateway".into()),
            basis: Some(basis.clone()),
        };
        let prepare = PrepareDeploy {
            profile_id: "local-sandbox".into(),
            service: "gateway".into(),
            environment: Environment::Staging,
            source: DeploySource::ServiceFolder {
                path: "/work/gateway".into(),
            },
            metadata: MetadataInput {
                commit: Some("abc1234".into()),
                branch: Some("main".into()),
                author: Some("a@b.c".into()),
                version: Some("v1.2.0".into()),
            },
            bindings: Some(BTreeMap::from([("DB".into(), "db".into())])),
            run_id: Some("run-6f1c2a0e-1b2c-4d5e-8f90-0123456789ab".into()),
            direct: false,
        };
        prepare.check("request").unwrap();
        let cases: Spoil<PrepareDeploy> = vec![
            (
                "request.profileId",
                Box::new(|r| r.profile_id = "Bad Id".into()),
            ),
            (
                "request.service",
                Box::new(|r| r.service = "gate way".into()),
            ),
            (
                "request.source.path",
                Box::new(|r| r.source = DeploySource::BundleFile { path: long(4097) }),
            ),
            (
                "request.metadata.commit",
                Box::new(|r| r.metadata.commit = Some(long(129))),
            ),
            (
                "request.metadata.branch",
                Box::new(|r| r.metadata.branch = Some(long(257))),
            ),
            (
                "request.metadata.author",
                Box::new(|r| r.metadata.author = Some("a\nb".into())),
            ),
            (
                "request.metadata.version",
                Box::new(|r| r.metadata.version = Some(long(129))),
            ),
            (
                "request.bindings",
                Box::new(|r| {
                    r.bindings = Some((0..65).map(|i| (format!("B{i}"), "db".into())).collect())
                }),
            ),
            (
                "request.bindings",
                Box::new(|r| r.bindings = Some(BTreeMap::from([("A B".into(), "db".into())]))),
            ),
            (
                "request.bindings.DB",
                Box::new(|r| r.bindings = Some(BTreeMap::from([("DB".into(), "D B".into())]))),
            ),
            (
                "request.runId",
                Box::new(|r| r.run_id = Some("../run".into())),
            ),
        ];
        for (field, spoil) in cases {
            let mut r = prepare.clone();
            spoil(&mut r);
            refused(r.check("request"), field);
        }

        let rollback = RollbackRequest {
            profile_id: "p".into(),
            service: "db".into(),
            environment: Environment::Production,
            reason: "bad release".into(),
            confirmation: confirmation.clone(),
            run_id: None,
        };
        rollback.check("request").unwrap();
        let cases: Spoil<RollbackRequest> = vec![
            ("request.profileId", Box::new(|r| r.profile_id = long(65))),
            ("request.service", Box::new(|r| r.service = "DB".into())),
            (
                "request.reason",
                Box::new(|r| r.reason = long(TEXT_MAX + 1)),
            ),
            (
                "request.confirmation.typed",
                Box::new(|r| r.confirmation.typed = Some(long(129))),
            ),
            (
                "request.confirmation.basis.currentDeploymentId",
                Box::new(|r| {
                    r.confirmation.basis = Some(PlanBasis {
                        current_deployment_id: Some("a b".into()),
                        current_label: None,
                    })
                }),
            ),
            (
                "request.confirmation.basis.currentLabel",
                Box::new(|r| {
                    r.confirmation.basis = Some(PlanBasis {
                        current_deployment_id: None,
                        current_label: Some(long(129)),
                    })
                }),
            ),
            (
                "request.runId",
                Box::new(|r| r.run_id = Some(String::new())),
            ),
        ];
        for (field, spoil) in cases {
            let mut r = rollback.clone();
            spoil(&mut r);
            refused(r.check("request"), field);
        }

        let restore = RestoreRequest {
            profile_id: "p".into(),
            deployment_id: "deploy_1_abcdef01".into(),
            reason: "back".into(),
            confirmation: confirmation.clone(),
            run_id: None,
        };
        restore.check("request").unwrap();
        let cases: Spoil<RestoreRequest> = vec![
            (
                "request.profileId",
                Box::new(|r| r.profile_id = String::new()),
            ),
            (
                "request.deploymentId",
                Box::new(|r| r.deployment_id = "x/../y".into()),
            ),
            (
                "request.reason",
                Box::new(|r| r.reason = long(TEXT_MAX + 1)),
            ),
            (
                "request.confirmation.typed",
                Box::new(|r| r.confirmation.typed = Some("\u{0}".into())),
            ),
            ("request.runId", Box::new(|r| r.run_id = Some(long(129)))),
        ];
        for (field, spoil) in cases {
            let mut r = restore.clone();
            spoil(&mut r);
            refused(r.check("request"), field);
        }

        let promote = PromoteRequest {
            profile_id: "p".into(),
            service: "db".into(),
            from: Environment::Staging,
            to: Environment::Production,
            confirmation,
            run_id: None,
        };
        promote.check("request").unwrap();
        let cases: Spoil<PromoteRequest> = vec![
            ("request.profileId", Box::new(|r| r.profile_id = "P".into())),
            ("request.service", Box::new(|r| r.service = long(64))),
            (
                "request.confirmation.typed",
                Box::new(|r| r.confirmation.typed = Some(long(129))),
            ),
            ("request.runId", Box::new(|r| r.run_id = Some("a b".into()))),
        ];
        for (field, spoil) in cases {
            let mut r = promote.clone();
            spoil(&mut r);
            refused(r.check("request"), field);
        }
    }

    #[test]
    fn every_member_of_every_filter_and_setting_is_checked() {
        AuditFilter::default().check("filter").unwrap();
        AuditFilter {
            profile_id: Some(String::new()),
            ..Default::default()
        }
        .check("filter")
        .unwrap();
        let cases: Vec<(&str, AuditFilter)> = vec![
            (
                "filter.sinceMs",
                AuditFilter {
                    since_ms: Some(-1),
                    ..Default::default()
                },
            ),
            (
                "filter.untilMs",
                AuditFilter {
                    until_ms: Some(i64::MAX),
                    ..Default::default()
                },
            ),
            (
                "filter.profileId",
                AuditFilter {
                    profile_id: Some("A".into()),
                    ..Default::default()
                },
            ),
            (
                "filter.action",
                AuditFilter {
                    action: Some(long(129)),
                    ..Default::default()
                },
            ),
            (
                "filter.text",
                AuditFilter {
                    text: Some(long(SEARCH_MAX + 1)),
                    ..Default::default()
                },
            ),
            (
                "filter.limit",
                AuditFilter {
                    limit: Some(0),
                    ..Default::default()
                },
            ),
            (
                "filter.offset",
                AuditFilter {
                    offset: Some(u32::MAX),
                    ..Default::default()
                },
            ),
        ];
        for (field, f) in cases {
            refused(f.check("filter"), field);
        }

        DeploymentFilter::default().check("filter").unwrap();
        let cases: Vec<(&str, DeploymentFilter)> = vec![
            (
                "filter.service",
                DeploymentFilter {
                    service: Some("A".into()),
                    ..Default::default()
                },
            ),
            (
                "filter.author",
                DeploymentFilter {
                    author: Some(long(257)),
                    ..Default::default()
                },
            ),
            (
                "filter.branch",
                DeploymentFilter {
                    branch: Some("a\u{7}".into()),
                    ..Default::default()
                },
            ),
            (
                "filter.text",
                DeploymentFilter {
                    text: Some(long(SEARCH_MAX + 1)),
                    ..Default::default()
                },
            ),
            (
                "filter.sinceMs",
                DeploymentFilter {
                    since_ms: Some(-5),
                    ..Default::default()
                },
            ),
            (
                "filter.untilMs",
                DeploymentFilter {
                    until_ms: Some(i64::MIN),
                    ..Default::default()
                },
            ),
            (
                "filter.limit",
                DeploymentFilter {
                    limit: Some(1001),
                    ..Default::default()
                },
            ),
            (
                "filter.offset",
                DeploymentFilter {
                    offset: Some(u32::MAX),
                    ..Default::default()
                },
            ),
        ];
        for (field, f) in cases {
            refused(f.check("filter"), field);
        }

        let settings = DeploySettings::default();
        settings.check("settings").unwrap();
        let cases: Spoil<DeploySettings> = vec![
            (
                "settings.keepPerService",
                Box::new(|s| s.keep_per_service = 0),
            ),
            (
                "settings.maxArchiveBytes",
                Box::new(|s| s.max_archive_bytes = 1),
            ),
            (
                "settings.healthWaitMs",
                Box::new(|s| s.health_wait_ms = 600_001),
            ),
            ("settings.healthPollMs", Box::new(|s| s.health_poll_ms = 99)),
            (
                "settings.bundleSizeLimitBytes",
                Box::new(|s| s.bundle_size_limit_bytes = 0),
            ),
            (
                "settings.promoteSoakMinutes",
                Box::new(|s| s.promote_soak_minutes = u32::MAX),
            ),
        ];
        for (field, spoil) in cases {
            let mut s = settings;
            spoil(&mut s);
            refused(s.check("settings"), field);
        }
    }

    #[test]
    fn logs_steps_faults_and_profiles_are_checked() {
        let logs = LogsRequest {
            profile_id: "p".into(),
            services: vec!["gateway".into()],
        };
        logs.check("request").unwrap();
        refused(
            LogsRequest {
                profile_id: "P Q".into(),
                ..logs.clone()
            }
            .check("request"),
            "request.profileId",
        );
        refused(
            LogsRequest {
                services: vec!["db".into(); MAX_TAILED_SERVICES + 1],
                ..logs.clone()
            }
            .check("request"),
            "request.services",
        );
        refused(
            LogsRequest {
                services: vec!["Gate Way".into()],
                ..logs
            }
            .check("request"),
            "request.services",
        );

        StepRunRequest::default().check("request").unwrap();
        let many: BTreeMap<String, String> = (0..=PARAMS_MAX)
            .map(|i| (format!("k{i}"), "v".into()))
            .collect();
        for (field, r) in [
            (
                "request.values",
                StepRunRequest {
                    values: many,
                    ..Default::default()
                },
            ),
            (
                "request.values",
                StepRunRequest {
                    values: BTreeMap::from([(long(PARAM_NAME_MAX + 1), "v".into())]),
                    ..Default::default()
                },
            ),
            (
                "request.values.service",
                StepRunRequest {
                    values: BTreeMap::from([("service".into(), long(TEXT_MAX + 1))]),
                    ..Default::default()
                },
            ),
            (
                "request.confirmation",
                StepRunRequest {
                    confirmation: Some(long(STEP_CONFIRMATION_MAX + 1)),
                    ..Default::default()
                },
            ),
            (
                "request.basis.currentDeploymentId",
                StepRunRequest {
                    basis: Some(PlanBasis {
                        current_deployment_id: Some(String::new()),
                        current_label: None,
                    }),
                    ..Default::default()
                },
            ),
        ] {
            refused(r.check("request"), field);
        }

        for ok in [
            RehearsalFault::ServiceDown {
                service: "db".into(),
            },
            RehearsalFault::ServiceErrors {
                service: "db".into(),
                status: 500,
            },
            RehearsalFault::Latency {
                target: "service:gateway".into(),
                ms: 2000,
            },
            RehearsalFault::DeployApiDown,
        ] {
            ok.check("fault").unwrap();
        }
        for (field, bad) in [
            (
                "fault.service",
                RehearsalFault::ServiceDown {
                    service: "D B".into(),
                },
            ),
            (
                "fault.service",
                RehearsalFault::BadDeploy { service: long(64) },
            ),
            (
                "fault.service",
                RehearsalFault::ServiceErrors {
                    service: "".into(),
                    status: 500,
                },
            ),
            (
                "fault.status",
                RehearsalFault::ServiceErrors {
                    service: "db".into(),
                    status: 200,
                },
            ),
            (
                "fault.target",
                RehearsalFault::Latency {
                    target: "../../x".into(),
                    ms: 1,
                },
            ),
            (
                "fault.ms",
                RehearsalFault::Latency {
                    target: "dispatcher".into(),
                    ms: 120_001,
                },
            ),
        ] {
            refused(bad.check("fault"), field);
        }

        let compare = CompareRequest {
            profile_id: "p".into(),
            left: BundleRef::Running {
                service: "gateway".into(),
                environment: Environment::Production,
            },
            right: BundleRef::Bundle {
                sha256: "a".repeat(64),
            },
        };
        compare.check("request").unwrap();
        for (field, bad) in [
            (
                "request.profileId",
                CompareRequest {
                    profile_id: "".into(),
                    ..compare.clone()
                },
            ),
            (
                "request.left.service",
                CompareRequest {
                    left: BundleRef::Running {
                        service: "x y".into(),
                        environment: Environment::Staging,
                    },
                    ..compare.clone()
                },
            ),
            (
                "request.right.sha256",
                CompareRequest {
                    right: BundleRef::Bundle {
                        sha256: "../../etc".into(),
                    },
                    ..compare.clone()
                },
            ),
        ] {
            refused(bad.check("request"), field);
        }

        let p = Profile::for_environment("stg", "Staging", Environment::Staging);
        p.check("profile").unwrap();
        refused(
            Profile {
                name: long(129),
                ..p
            }
            .check("profile"),
            "profile.name",
        );
    }
}

/// The completeness test: every `#[tauri::command]` in `src/commands/`, read from its source.
/// Each argument the window fills (anything but the state, the app handle, a channel, a bool
/// or a fieldless enum that serde already confines) must be passed to a check, with its name
/// as the window spells it, before the command does anything else: before it touches the
/// state or the app, awaits, binds a value or returns. A command added without its checks, or
/// an argument added to one, fails here.
#[cfg(test)]
mod completeness {
    use std::collections::BTreeSet;

    /// Argument types with nothing to bound: what the shell injects, and fieldless enums.
    const UNCHECKED_TYPES: &[&str] = &[
        "State<'_, AppState>",
        "AppHandle",
        "bool",
        "Environment",
        "ExportFormat",
        "PathKind",
        "LogsFileFormat",
        "SecretKindArg",
        "RolloutCommand",
    ];
    /// Arguments that need no check, and why.
    const UNCHECKED_ARGS: &[(&str, &str, &str)] = &[(
        "stop_logs",
        "session",
        "an opaque handle: every u32 may name a session, and an unknown one is ignored",
    )];
    /// Where the checks end: the first thing a command does that is not a check.
    const WORK_STARTS: &[&str] = &[
        "state", "app.", "&app", ".await", "Ok(", "let ", "match ", "if ", "tokio::",
    ];

    #[derive(Debug)]
    struct Command {
        file: String,
        name: String,
        args: Vec<(String, String)>,
        body: String,
    }

    /// The end of the bracketed group opening at `open` (skipping string literals).
    fn group_end(src: &str, open: usize, left: char, right: char) -> usize {
        let mut depth = 0usize;
        let mut in_str = false;
        let mut escaped = false;
        for (i, c) in src[open..].char_indices() {
            if in_str {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            if c == '"' {
                in_str = true;
            } else if c == left {
                depth += 1;
            } else if c == right {
                depth -= 1;
                if depth == 0 {
                    return open + i;
                }
            }
        }
        panic!("unbalanced {left}{right} in a command");
    }

    /// `a: T, b: Map<K, V>` split at its top-level commas into (name, type).
    fn split_args(list: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let (mut depth, mut start) = (0i32, 0usize);
        let list = format!("{list},");
        for (i, c) in list.char_indices() {
            match c {
                '<' | '(' | '[' => depth += 1,
                '>' | ')' | ']' => depth -= 1,
                ',' if depth == 0 => {
                    let arg = list[start..i].trim();
                    if let Some((name, ty)) = arg.split_once(':') {
                        out.push((name.trim().to_owned(), ty.trim().to_owned()));
                    }
                    start = i + 1;
                }
                _ => {}
            }
        }
        out
    }

    fn commands() -> Vec<Command> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/commands");
        let mut out = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("the commands folder")
            .map(|e| e.expect("a commands file").path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        files.sort();
        for path in files {
            let src = std::fs::read_to_string(&path).expect("a commands file");
            let file = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let attribute = "\n#[tauri::command]\n";
            for (at, _) in src.match_indices(attribute) {
                let fn_at = at + src[at..].find("fn ").expect("the command's fn");
                let open = fn_at + src[fn_at..].find('(').expect("its arguments");
                let name = src[fn_at + 3..open].trim().to_owned();
                let close = group_end(&src, open, '(', ')');
                let body_open = close + src[close..].find('{').expect("its body");
                let body_close = group_end(&src, body_open, '{', '}');
                out.push(Command {
                    file: file.clone(),
                    name,
                    args: split_args(&src[open + 1..close]),
                    body: src[body_open + 1..body_close].to_owned(),
                });
            }
        }
        out
    }

    fn camel(snake: &str) -> String {
        let mut out = String::new();
        let mut up = false;
        for c in snake.chars() {
            if c == '_' {
                up = true;
            } else if up {
                out.extend(c.to_uppercase());
                up = false;
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Whether `text` has `word` as a whole identifier.
    fn has_word(text: &str, word: &str) -> bool {
        let ident = |c: char| c.is_alphanumeric() || c == '_';
        text.match_indices(word).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + word.len()..].chars().next();
            !before.is_some_and(ident) && !after.is_some_and(ident)
        })
    }

    #[test]
    fn every_command_is_found_and_registered() {
        let found: BTreeSet<String> = commands().into_iter().map(|c| c.name).collect();
        let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs"))
            .expect("lib.rs");
        let registered: BTreeSet<String> = lib
            .split("commands::")
            .skip(1)
            .filter_map(|rest| {
                let path: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                path.split_once("::").map(|(_, name)| name.to_owned())
            })
            .collect();
        assert!(found.len() > 70, "the parser found only {found:?}");
        assert_eq!(
            found, registered,
            "the commands in src/commands/ and those lib.rs registers differ"
        );
    }

    #[test]
    fn every_argument_from_the_window_is_checked_before_anything_else() {
        let mut missing = Vec::new();
        for c in commands() {
            let end = WORK_STARTS
                .iter()
                .filter_map(|m| c.body.find(m))
                .min()
                .unwrap_or(c.body.len());
            let checks = &c.body[..end];
            for (arg, ty) in &c.args {
                let unchecked = UNCHECKED_TYPES.contains(&ty.as_str())
                    || ty.starts_with("Channel<")
                    || UNCHECKED_ARGS
                        .iter()
                        .any(|(cmd, a, _)| *cmd == c.name && a == arg);
                if unchecked {
                    continue;
                }
                let field = format!("\"{}\"", camel(arg));
                if !(checks.contains(&field) && has_word(checks, arg)) {
                    missing.push(format!(
                        "{}::{}: `{arg}: {ty}` is not passed to a check naming {field} before the command's work",
                        c.file.trim_end_matches(".rs"),
                        c.name
                    ));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "arguments from the window must be checked first (switchyard_core::validate, or \
             `Checked::check` for a structured one):\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn the_parser_sees_a_missing_check() {
        let src = "fn f(state: State<'_, AppState>, name: String) { state.ops.f(&name).await }";
        let args = split_args(&src[5..src.find(')').unwrap_or(0)]);
        assert_eq!(args[1], ("name".to_owned(), "String".to_owned()));
        assert!(!has_word("validate::id(\"nameX\", &name_x)?;", "name"));
        assert!(has_word("validate::id(\"name\", &name)?;", "name"));
        assert_eq!(camel("typed_confirmation"), "typedConfirmation");
    }
}
