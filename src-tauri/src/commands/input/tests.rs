//! Every member of every structured argument, made invalid one at a time, is refused naming it.

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

    let worker_query = switchyard_ops::WorkerQuery {
        listing: 1,
        search: "gateway".into(),
        tag: Some("env:staging".into()),
        sort: switchyard_ops::WorkerSortKey::Modified,
        descending: true,
        offset: 0,
        limit: 100,
        with_groups: true,
        find: Some("gateway".into()),
    };
    worker_query.check("query").unwrap();
    for (field, bad) in [
        (
            "query.search",
            switchyard_ops::WorkerQuery {
                search: long(SEARCH_MAX + 1),
                ..worker_query.clone()
            },
        ),
        (
            "query.tag",
            switchyard_ops::WorkerQuery {
                tag: Some(long(TAG_MAX + 1)),
                ..worker_query.clone()
            },
        ),
        (
            "query.find",
            switchyard_ops::WorkerQuery {
                find: Some(long(TAG_MAX + 1)),
                ..worker_query.clone()
            },
        ),
        (
            "query.offset",
            switchyard_ops::WorkerQuery {
                offset: SCRIPT_COUNT_MAX + 1,
                ..worker_query.clone()
            },
        ),
        (
            "query.limit",
            switchyard_ops::WorkerQuery {
                limit: switchyard_ops::WINDOW_ROWS_MAX + 1,
                ..worker_query.clone()
            },
        ),
    ] {
        refused(bad.check("query"), field);
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
