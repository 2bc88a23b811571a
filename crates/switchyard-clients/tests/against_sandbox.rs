//! The clients against a real sandbox on 127.0.0.1, over real HTTP: every endpoint, the
//! sandbox's fault modes, and bad bodies.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use switchyard_clients::{
    AuthApi, CloudflareApi, DeployApi, DeployRequest, DeploymentQuery, HealthProber, HttpClient,
    HttpSettings, NamespaceUpdate, ProbeState, ProbeTarget, SCRIPTS_PAGE,
};
use switchyard_core::{DeploymentMetadata, DeploymentStatus, Environment, ErrorCode, Secret};
use switchyard_sandbox::{DownKind, Fault, FaultTarget, LargeDataSpec, Sandbox, SandboxConfig};

struct Fixture {
    sandbox: Sandbox,
    http: HttpClient,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()))
        .await
        .unwrap();
    let http = HttpClient::new(HttpSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        read_retries: 2,
        backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(1),
        max_body_bytes: 1024 * 1024,
    })
    .unwrap();
    Fixture {
        sandbox,
        http,
        _dir: dir,
    }
}

impl Fixture {
    fn deploy_api(&self) -> DeployApi {
        let d = self.sandbox.discovery();
        DeployApi::new(
            self.http.clone(),
            &d.deploy_api_url,
            Secret::new(d.deploy_key.clone()),
        )
    }
    fn deploy_api_with(&self, key: &str) -> DeployApi {
        DeployApi::new(
            self.http.clone(),
            &self.sandbox.discovery().deploy_api_url,
            Secret::new(key),
        )
    }
    fn cloudflare(&self) -> CloudflareApi {
        let d = self.sandbox.discovery();
        CloudflareApi::new(
            self.http.clone(),
            &d.cloudflare_api_url,
            &d.account_id,
            Secret::new(d.cloudflare_token.clone()),
        )
    }
}

fn request(service: &str, env: Environment, source: &str, commit: &str) -> DeployRequest {
    DeployRequest {
        service: service.into(),
        environment: env,
        tier: None,
        version: None,
        script: base64::engine::general_purpose::STANDARD.encode(source),
        bindings: BTreeMap::from([("DB_SERVICE".to_owned(), "db".to_owned())]),
        metadata: DeploymentMetadata {
            commit: commit.into(),
            branch: "main".into(),
            author: "ops@example.com".into(),
            version: None,
        },
    }
}

#[tokio::test]
async fn deploy_list_and_rollback_round_trip() {
    let f = fixture().await;
    let api = f.deploy_api();

    let seeded = api.list(&DeploymentQuery::default()).await.unwrap();
    assert!(!seeded.deployments.is_empty(), "the sandbox seeds history");
    let times: Vec<&str> = seeded
        .deployments
        .iter()
        .map(|d| d.timestamp.as_str())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");

    let source = "export default { fetch() { return new Response('v-next') } }";
    let done = api
        .deploy(&request(
            "email",
            Environment::Staging,
            source,
            "0123456789abcdef",
        ))
        .await
        .unwrap();
    assert!(done.success);
    let d = &done.deployment;
    assert!(
        d.id.starts_with("deploy_") && d.id_millis().is_some(),
        "{}",
        d.id
    );
    assert_eq!(d.status, DeploymentStatus::Deployed);
    assert_eq!(d.version_tag.as_deref(), Some("0123456"));
    assert_eq!(d.namespace.as_deref(), Some("dotdo-staging"));

    let latest = api
        .list(&DeploymentQuery {
            service: Some("email".into()),
            environment: Some(Environment::Staging),
            limit: Some(1),
        })
        .await
        .unwrap();
    assert_eq!(latest.deployments[0].id, d.id);

    // The script landed in the namespace.
    let content = f
        .cloudflare()
        .script_content("dotdo-staging", "email")
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&content), source);

    let back = api.rollback("email", Environment::Staging).await.unwrap();
    assert_ne!(
        back.deployment.id, d.id,
        "rollback returns the previous deployment"
    );
    let after = api
        .list(&DeploymentQuery {
            service: Some("email".into()),
            environment: Some(Environment::Staging),
            limit: Some(100),
        })
        .await
        .unwrap();
    let marked = after.deployments.iter().find(|x| x.id == d.id).unwrap();
    assert_eq!(marked.status, DeploymentStatus::RolledBack);
}

#[tokio::test]
async fn deploy_api_errors_map_to_codes() {
    let f = fixture().await;
    let d = f.sandbox.discovery().clone();

    let e = f
        .deploy_api_with("")
        .list(&DeploymentQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidApiKey, "{}", e.message);
    let e = f
        .deploy_api_with("sk_not_a_key")
        .list(&DeploymentQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidApiKey);
    assert!(e
        .runbook
        .as_deref()
        .unwrap_or("")
        .contains("Invalid API key"));

    let ro = f.deploy_api_with(&d.readonly_key);
    let e = ro
        .deploy(&request("gateway", Environment::Staging, "x", "abc1234"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InsufficientPermissions);

    let e = f
        .deploy_api()
        .list(&DeploymentQuery {
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);

    // A service with a single deployment has nothing to roll back to.
    let api = f.deploy_api();
    let mut req = request(
        "gateway",
        Environment::Development,
        "export default {}",
        "feedbeef",
    );
    req.version = Some("solo".into());
    api.deploy(&req).await.unwrap();
    // Roll back twice more than there are deployments in development.
    let mut last = None;
    for _ in 0..20 {
        match api.rollback("gateway", Environment::Development).await {
            Ok(_) => continue,
            Err(e) => {
                last = Some(e);
                break;
            }
        }
    }
    assert_eq!(
        last.expect("rollback runs out").code,
        ErrorCode::NoPreviousDeployment
    );

    // A validation failure (unknown service) is the platform's error, with its message.
    let e = api
        .deploy(&request("nope", Environment::Staging, "x", "abc1234"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ServerError);
    assert!(
        e.message.to_lowercase().contains("service"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn deploy_api_faults_map_to_codes() {
    let f = fixture().await;
    let api = f.deploy_api();
    let faults = f.sandbox.faults();
    let q = DeploymentQuery::default();

    faults
        .set(
            FaultTarget::DeployApi,
            Fault::Down {
                how: DownKind::Drop,
            },
        )
        .unwrap();
    let e = api.list(&q).await.unwrap_err();
    assert!(
        matches!(e.code, ErrorCode::Unreachable),
        "{:?} {}",
        e.code,
        e.message
    );

    faults
        .set(
            FaultTarget::DeployApi,
            Fault::Down {
                how: DownKind::Unavailable,
            },
        )
        .unwrap();
    let e = api.list(&q).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ServerError);
    // A 503 from the Deploy API itself is the runbook's "Deploy API Down", not a failed deploy.
    assert_eq!(e.runbook.as_deref(), Some("Deploy API Down"), "{e:?}");

    faults
        .set(
            FaultTarget::DeployApi,
            Fault::Error {
                status: 500,
                body: Some("{\"error\":\"boom\"}".into()),
            },
        )
        .unwrap();
    let e = api.list(&q).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ServerError);
    assert!(e.message.contains("boom"));
    assert_eq!(
        e.runbook.as_deref(),
        Some("Deployment Returns 500 Error"),
        "{e:?}"
    );

    faults
        .set(
            FaultTarget::DeployApi,
            Fault::Garbage {
                status: 200,
                html: true,
            },
        )
        .unwrap();
    assert_eq!(
        api.list(&q).await.unwrap_err().code,
        ErrorCode::InvalidResponse
    );
    faults
        .set(
            FaultTarget::DeployApi,
            Fault::Garbage {
                status: 200,
                html: false,
            },
        )
        .unwrap();
    assert_eq!(
        api.list(&q).await.unwrap_err().code,
        ErrorCode::InvalidResponse
    );

    faults
        .set(FaultTarget::DeployApi, Fault::Latency { ms: 3_000 })
        .unwrap();
    assert_eq!(api.list(&q).await.unwrap_err().code, ErrorCode::Timeout);

    faults
        .set(
            FaultTarget::DeployApi,
            Fault::RateLimited { retry_after: 30 },
        )
        .unwrap();
    let e = api.list(&q).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert!(e.message.contains("30 s"), "{}", e.message);

    // Flaky at 50 %: reads retry, so most lists still succeed.
    faults
        .set(FaultTarget::DeployApi, Fault::Flaky { percent: 50 })
        .unwrap();
    let mut ok = 0;
    for _ in 0..20 {
        if api.list(&q).await.is_ok() {
            ok += 1;
        }
    }
    // Without retries about 10 of 20 would pass; with two retries about 17.5.
    assert!(
        ok >= 12,
        "retries should hide most flaky failures, got {ok}/20"
    );

    faults.clear_all();
    assert!(api.list(&q).await.is_ok());
}

#[tokio::test]
async fn cloudflare_namespaces_and_scripts() {
    let f = fixture().await;
    let cf = f.cloudflare();

    let token = cf.verify_token().await.unwrap();
    assert_eq!(token.status, "active");

    let names: Vec<String> = cf
        .list_namespaces()
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.namespace_name)
        .collect();
    for ns in ["dotdo-production", "dotdo-staging", "dotdo-development"] {
        assert!(names.contains(&ns.to_owned()), "{names:?}");
    }

    let created = cf.create_namespace("switchyard-test").await.unwrap();
    assert_eq!(created.namespace_name, "switchyard-test");
    assert_eq!(created.trusted_workers, Some(false));
    let dup = cf.create_namespace("switchyard-test").await.unwrap_err();
    assert_eq!(dup.code, ErrorCode::Conflict, "{}", dup.message);
    let patched = cf
        .update_namespace(
            "switchyard-test",
            &NamespaceUpdate {
                name: None,
                trusted_workers: Some(true),
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.trusted_workers, Some(true));
    assert_eq!(
        cf.get_namespace("switchyard-test")
            .await
            .unwrap()
            .trusted_workers,
        Some(true)
    );

    let meta = serde_json::json!({"main_module": "worker.mjs", "tags": ["service:demo", "env:test"],
        "bindings": [{"type": "service", "name": "DB_SERVICE", "service": "db"}], "compatibility_date": "2025-01-01"});
    let info = cf
        .upload_script(
            "switchyard-test",
            "demo",
            "worker.mjs",
            b"export default {}".to_vec(),
            &meta,
        )
        .await
        .unwrap();
    assert_eq!(info.id, "demo");
    let scripts = cf.list_scripts("switchyard-test", &[]).await.unwrap();
    assert_eq!(scripts.len(), 1);
    let tagged = cf
        .list_scripts("switchyard-test", &["env:test:yes".to_owned()])
        .await
        .unwrap();
    assert_eq!(tagged.len(), 1);
    let excluded = cf
        .list_scripts("switchyard-test", &["env:test:no".to_owned()])
        .await
        .unwrap();
    assert!(excluded.is_empty());
    assert_eq!(
        cf.get_script("switchyard-test", "demo")
            .await
            .unwrap()
            .script
            .id,
        "demo"
    );
    assert_eq!(
        cf.script_content("switchyard-test", "demo").await.unwrap(),
        b"export default {}"
    );
    let bindings = cf.script_bindings("switchyard-test", "demo").await.unwrap();
    assert_eq!(bindings[0]["name"], "DB_SERVICE");
    assert!(cf
        .script_settings("switchyard-test", "demo")
        .await
        .unwrap()
        .is_object());
    let tags = cf.script_tags("switchyard-test", "demo").await.unwrap();
    assert!(tags.contains(&"service:demo".to_owned()));

    let big = vec![b'a'; switchyard_sandbox::SCRIPT_SIZE_LIMIT + 1];
    let e = cf
        .upload_script("switchyard-test", "big", "worker.mjs", big, &meta)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BundleTooLarge, "{}", e.message);

    cf.delete_script("switchyard-test", "demo").await.unwrap();
    assert_eq!(
        cf.get_script("switchyard-test", "demo")
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    cf.delete_namespace("switchyard-test").await.unwrap();
    assert_eq!(
        cf.get_namespace("switchyard-test").await.unwrap_err().code,
        ErrorCode::NotFound
    );

    let prod = cf.list_scripts("dotdo-production", &[]).await.unwrap();
    assert!(prod.iter().any(|s| s.script.id == "gateway"));

    let d = f.sandbox.discovery();
    let bad = CloudflareApi::new(
        f.http.clone(),
        &d.cloudflare_api_url,
        &d.account_id,
        Secret::new("wrong"),
    );
    assert_eq!(
        bad.list_namespaces().await.unwrap_err().code,
        ErrorCode::InvalidApiKey
    );
    assert_eq!(
        bad.verify_token().await.unwrap_err().code,
        ErrorCode::InvalidApiKey
    );

    f.sandbox
        .faults()
        .set(
            FaultTarget::CloudflareApi,
            Fault::Garbage {
                status: 200,
                html: true,
            },
        )
        .unwrap();
    assert_eq!(
        cf.list_namespaces().await.unwrap_err().code,
        ErrorCode::InvalidResponse
    );
    f.sandbox
        .faults()
        .set(
            FaultTarget::CloudflareApi,
            Fault::RateLimited { retry_after: 60 },
        )
        .unwrap();
    assert_eq!(
        cf.list_namespaces().await.unwrap_err().code,
        ErrorCode::RateLimited
    );
}

/// A namespace of more workers than one page: every worker arrives exactly once, in the
/// listing's order, a page (at most `SCRIPTS_PAGE`) at a time; a failure after the first page
/// leaves that page with the caller.
#[tokio::test]
async fn a_large_namespace_is_listed_page_by_page() {
    let f = fixture().await;
    let count = 2 * SCRIPTS_PAGE + 345;
    f.sandbox
        .generate_large_data(&LargeDataSpec {
            scripts: vec![("paged-ns".into(), count)],
            deployments: 0,
        })
        .await
        .unwrap();
    let cf = f.cloudflare();

    let mut pages: Vec<Vec<String>> = Vec::new();
    cf.list_scripts_by_page("paged-ns", &[], |page| {
        pages.push(page.into_iter().map(|s| s.script.id).collect());
    })
    .await
    .unwrap();
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [SCRIPTS_PAGE, SCRIPTS_PAGE, 345]);
    let names: Vec<String> = pages.concat();
    let expected: Vec<String> = (1..=count)
        .map(|i| format!("bench-worker-{i:05}"))
        .collect();
    assert_eq!(names, expected, "every worker once, in order");
    // The whole-list call gives the same workers.
    let all = cf.list_scripts("paged-ns", &[]).await.unwrap();
    assert_eq!(all.len(), count);

    // The Cloudflare API fails once the first page has arrived: that page stays with us.
    let mut got = 0;
    let err = cf
        .list_scripts_by_page("paged-ns", &[], |page| {
            got += page.len();
            f.sandbox
                .faults()
                .set(
                    FaultTarget::CloudflareApi,
                    Fault::Error {
                        status: 500,
                        body: None,
                    },
                )
                .unwrap();
        })
        .await
        .unwrap_err();
    assert_eq!(got, SCRIPTS_PAGE);
    assert!(err.message.contains("paged-ns"), "{}", err.message);
}

#[tokio::test]
async fn auth_validates_keys_and_reads_permissions() {
    let f = fixture().await;
    let d = f.sandbox.discovery().clone();
    let auth = AuthApi::new(f.http.clone(), &d.auth_url);
    let info = auth
        .validate_key(&Secret::new(d.deploy_key.clone()))
        .await
        .unwrap();
    assert!(info.can_deploy(), "{info:?}");
    assert_eq!(info.user_id.as_deref(), Some(d.deploy_user_id.as_str()));
    let ro = auth
        .validate_key(&Secret::new(d.readonly_key.clone()))
        .await
        .unwrap();
    assert!(!ro.can_deploy());
    let e = auth
        .validate_key(&Secret::new("sk_unknown"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidApiKey);
    let perms = auth
        .permissions(&Secret::new(d.deploy_key.clone()), &d.deploy_user_id)
        .await
        .unwrap();
    assert!(
        perms.contains(&"deployments:create".to_owned()),
        "{perms:?}"
    );
}

#[tokio::test]
async fn health_prober_sees_up_down_and_needs_key() {
    let f = fixture().await;
    let d = f.sandbox.discovery().clone();
    let prober = HealthProber::new(f.http.clone(), Duration::from_millis(800));
    let mut targets: Vec<ProbeTarget> = switchyard_core::DEFAULT_SERVICES
        .iter()
        .map(|s| ProbeTarget {
            name: (*s).to_owned(),
            url: format!("{}/health", d.service_url(Environment::Production, s)),
            key: None,
        })
        .collect();
    targets.push(ProbeTarget {
        name: "deploy-api".into(),
        url: format!("{}/health", d.deploy_api_url),
        key: None,
    });
    targets.push(ProbeTarget {
        name: "dispatcher".into(),
        url: format!("{}/health", d.dispatcher_url),
        key: None,
    });

    let all = prober.probe_all(&targets).await;
    for r in &all[..8] {
        assert_eq!(r.state, ProbeState::Up, "{r:?}");
    }
    assert_eq!(all[8].state, ProbeState::UpNeedsKey);
    assert_eq!(all[9].state, ProbeState::Up);

    let faults = f.sandbox.faults();
    faults
        .set(
            FaultTarget::Service("db".into(), None),
            Fault::Error {
                status: 500,
                body: None,
            },
        )
        .unwrap();
    faults
        .set(
            FaultTarget::Service("email".into(), None),
            Fault::Latency { ms: 3_000 },
        )
        .unwrap();
    faults
        .set(
            FaultTarget::Service("queue".into(), None),
            Fault::Down {
                how: DownKind::Drop,
            },
        )
        .unwrap();
    let all = prober.probe_all(&targets).await;
    let by = |n: &str| all.iter().find(|r| r.name == n).unwrap().clone();
    assert_eq!(by("db").state, ProbeState::Down);
    assert_eq!(by("db").http_status, Some(500));
    assert!(by("db").runbook.unwrap().contains("Crashes"));
    assert_eq!(by("email").state, ProbeState::Down);
    assert!(by("email").detail.unwrap().contains("no answer"));
    assert_eq!(by("queue").state, ProbeState::Down);
    assert_eq!(by("gateway").state, ProbeState::Up);
    let healthy = all.iter().filter(|r| r.state != ProbeState::Down).count();
    assert_eq!(healthy, 7, "10 targets, 3 down");

    // A service not deployed in the namespace answers 404.
    let missing = prober
        .probe(&ProbeTarget {
            name: "fn".into(),
            url: format!("{}/health", d.service_url(Environment::Production, "fn")),
            key: None,
        })
        .await;
    assert_eq!(missing.state, ProbeState::Down);
    assert_eq!(missing.http_status, Some(404));
    assert!(missing.runbook.unwrap().contains("404"));
}

#[tokio::test]
async fn an_answer_larger_than_the_cap_is_refused_with_a_clear_error() {
    let f = fixture().await;
    // The Deploy API answers 200 with a 2 MiB JSON body; this client reads at most 1 MiB.
    let huge = format!(
        "{{\"success\":true,\"deployments\":[],\"total\":0,\"pad\":\"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    f.sandbox
        .faults()
        .set(
            FaultTarget::DeployApi,
            Fault::Error {
                status: 200,
                body: Some(huge),
            },
        )
        .unwrap();
    let e = f
        .deploy_api()
        .list(&DeploymentQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidResponse);
    assert!(e.message.contains("larger than 1 MiB"), "{}", e.message);
    // A normal answer under the cap still reads.
    f.sandbox.faults().clear_all();
    assert!(f
        .deploy_api()
        .list(&DeploymentQuery::default())
        .await
        .is_ok());
}

/// "Deploy API Down" is the runbook for the Deploy API only: an unreachable Cloudflare API or
/// auth service used to point there too.
#[tokio::test]
async fn only_an_unreachable_deploy_api_points_at_deploy_api_down() {
    let f = fixture().await;
    let faults = f.sandbox.faults();
    let drop = || Fault::Down {
        how: DownKind::Drop,
    };
    faults.set(FaultTarget::CloudflareApi, drop()).unwrap();
    let e = f.cloudflare().list_namespaces().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unreachable, "{}", e.message);
    assert_ne!(e.runbook.as_deref(), Some("Deploy API Down"), "{e:?}");
    faults.set(FaultTarget::Auth, drop()).unwrap();
    let auth = AuthApi::new(f.http.clone(), &f.sandbox.discovery().auth_url);
    let e = auth
        .validate_key(&Secret::new(f.sandbox.discovery().deploy_key.clone()))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unreachable, "{}", e.message);
    assert_ne!(e.runbook.as_deref(), Some("Deploy API Down"), "{e:?}");
    faults.set(FaultTarget::DeployApi, drop()).unwrap();
    let e = f
        .deploy_api()
        .list(&DeploymentQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.runbook.as_deref(), Some("Deploy API Down"));
}
