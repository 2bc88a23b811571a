//! The façade against a real sandbox (real HTTP), a real SQLite file and an in-memory keychain.

use std::sync::{Arc, Mutex};

use switchyard_core::{AppError, Environment, ErrorCode, Profile, SANDBOX_PROFILE_ID};
use switchyard_ops::Ops;
use switchyard_sandbox::{FaultTarget, LargeDataSpec};
use switchyard_secrets::{MemoryStore, Secret, SecretKind, SecretStore};
use switchyard_store::DeploymentFilter;

mod support;
use support::{fixture, TestClock};

#[tokio::test]
async fn first_run_binds_the_sandbox_profile_and_it_works() {
    let f = fixture().await;
    let profiles = f.ops.profiles().await.unwrap();
    assert_eq!(profiles.len(), 1);
    let p = &profiles[0];
    assert_eq!(p.id, SANDBOX_PROFILE_ID);
    assert!(p.sandbox);
    assert_eq!(p.deploy_api_url, f.sandbox.discovery().deploy_api_url);

    let check = f.ops.validate_key(SANDBOX_PROFILE_ID).await.unwrap();
    assert!(check.can_deploy && check.deploy_api_accepts, "{check:?}");
    let secrets = f.ops.profile_secrets(SANDBOX_PROFILE_ID).await.unwrap();
    assert!(secrets.deploy_api_key && secrets.cloudflare_token);
    // The sandbox's demo keys never go to the keychain.
    assert!(f.keychain.is_empty());
}

#[tokio::test]
async fn sync_keeps_every_record_beyond_the_api_window() {
    let f = fixture().await;
    f.sandbox
        .generate_large_data(&LargeDataSpec {
            scripts: vec![],
            deployments: 3_000,
        })
        .await
        .unwrap();
    let progress = Mutex::new(Vec::new());
    let report = f
        .ops
        .sync_history(SANDBOX_PROFILE_ID, |p| progress.lock().unwrap().push(p))
        .await
        .unwrap();
    assert_eq!(report.windows, 1 + 8 * 3);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let events = progress.into_inner().unwrap();
    assert_eq!(events.len() as u32, report.windows);
    assert_eq!(events.last().unwrap().done, report.windows);

    let all = f
        .ops
        .history(SANDBOX_PROFILE_ID, &DeploymentFilter::default())
        .await
        .unwrap();
    // Every window returns at most 100, but 25 windows of ~125 each are all kept.
    assert!(
        all.deployments.len() > 2_000,
        "cached {}",
        all.deployments.len()
    );
    let gw_prod = f
        .ops
        .history(
            SANDBOX_PROFILE_ID,
            &DeploymentFilter {
                service: Some("gateway".into()),
                environment: Some(Environment::Production),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(gw_prod.deployments.len() >= 100);
    assert_eq!(all.as_of_ms, Some(1_700_000_000_000));
    assert_eq!(all.total as usize, all.deployments.len());

    // The view reads a page at a time; each page says how many match in all.
    let page = |offset| DeploymentFilter {
        service: Some("gateway".into()),
        environment: Some(Environment::Production),
        limit: Some(40),
        offset: Some(offset),
        ..Default::default()
    };
    let first = f.ops.history(SANDBOX_PROFILE_ID, &page(0)).await.unwrap();
    let second = f.ops.history(SANDBOX_PROFILE_ID, &page(40)).await.unwrap();
    assert_eq!(first.deployments.len(), 40);
    assert_eq!(first.total as usize, gw_prod.deployments.len());
    assert_eq!(second.total, first.total);
    assert_eq!(first.deployments[..], gw_prod.deployments[..40]);
    assert_eq!(second.deployments[..], gw_prod.deployments[40..80]);

    // A second sync is idempotent: nothing new, nothing lost.
    f.clock.set(1_700_000_060_000);
    let again = f
        .ops
        .sync_history(SANDBOX_PROFILE_ID, |_| {})
        .await
        .unwrap();
    assert_eq!(again.inserted, 0);
    let after = f
        .ops
        .history(SANDBOX_PROFILE_ID, &DeploymentFilter::default())
        .await
        .unwrap();
    assert_eq!(after.deployments.len(), all.deployments.len());
    assert_eq!(after.as_of_ms, Some(1_700_000_060_000));
}

#[tokio::test]
async fn a_sync_stopped_midway_goes_on_from_where_it_stopped_and_ends_with_every_record() {
    let f = fixture().await;
    f.sandbox
        .generate_large_data(&LargeDataSpec {
            scripts: vec![],
            deployments: 3_000,
        })
        .await
        .unwrap();
    // The app closes (the sync's task is dropped) while the ninth window is being asked.
    let stop = tokio::sync::Notify::new();
    let seen = Mutex::new(Vec::new());
    tokio::select! {
        r = f.ops.sync_history(SANDBOX_PROFILE_ID, |p| {
            let mut seen = seen.lock().unwrap();
            seen.push(p);
            if seen.len() == 8 {
                stop.notify_one();
            }
        }) => panic!("the sync was to be stopped midway, but it ended: {r:?}"),
        () = stop.notified() => {}
    }
    assert_eq!(seen.lock().unwrap().len(), 8);
    let partial = f
        .ops
        .history(SANDBOX_PROFILE_ID, &DeploymentFilter::default())
        .await
        .unwrap();

    // Started again a minute later, it asks only the 17 windows not yet synced.
    f.clock.advance(60_000);
    let asked = Mutex::new(Vec::new());
    let report = f
        .ops
        .sync_history(SANDBOX_PROFILE_ID, |p| asked.lock().unwrap().push(p))
        .await
        .unwrap();
    assert_eq!(report.resumed, 8, "{report:?}");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let asked = asked.into_inner().unwrap();
    assert_eq!(asked.len(), 25 - 8, "only the windows left are asked");
    let first_asked = &asked[0].window;
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .all(|p| &p.window != first_asked),
        "{first_asked} was synced before the stop and asked again"
    );
    assert_eq!(asked.last().unwrap().done, 25);
    let resumed = f
        .ops
        .history(SANDBOX_PROFILE_ID, &DeploymentFilter::default())
        .await
        .unwrap();
    assert!(resumed.deployments.len() > partial.deployments.len());
    assert!(resumed.failing_windows.is_empty());

    // It ends with every record: what a sync of every window into an empty cache gets.
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = support::open_ops(fresh_dir.path(), support::TestClock::at(support::T0)).await;
    fresh
        .attach_sandbox(f.sandbox.discovery().clone())
        .await
        .unwrap();
    fresh
        .sync_history(SANDBOX_PROFILE_ID, |_| {})
        .await
        .unwrap();
    let whole = fresh
        .history(SANDBOX_PROFILE_ID, &DeploymentFilter::default())
        .await
        .unwrap();
    let ids = |p: &switchyard_ops::HistoryPage| {
        let mut v: Vec<String> = p.deployments.iter().map(|d| d.id.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&resumed), ids(&whole));

    // Once a sync has reached its last window, the next one asks every window again.
    f.clock.advance(60_000);
    let next = f
        .ops
        .sync_history(SANDBOX_PROFILE_ID, |_| {})
        .await
        .unwrap();
    assert_eq!(next.resumed, 0);
    assert_eq!(next.inserted, 0);
}

#[tokio::test]
async fn a_sync_against_a_stopped_deploy_api_stops_at_the_first_window() {
    let f = fixture().await;
    f.ops
        .sync_history(SANDBOX_PROFILE_ID, |_| {})
        .await
        .unwrap();
    let before = f
        .ops
        .history(SANDBOX_PROFILE_ID, &DeploymentFilter::default())
        .await
        .unwrap();
    f.sandbox.shutdown().await;

    let asked = std::sync::Mutex::new(Vec::new());
    let err = f
        .ops
        .sync_history(SANDBOX_PROFILE_ID, |p| asked.lock().unwrap().push(p))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unreachable, "{}", err.message);
    assert!(
        err.message.contains("cache is unchanged"),
        "{}",
        err.message
    );
    // One report for the window that failed, and it says all are done: no 25 timeouts in a row.
    let asked = asked.into_inner().unwrap();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].done, asked[0].total);
    assert!(!asked[0].ok);

    let after = f
        .ops
        .history(SANDBOX_PROFILE_ID, &DeploymentFilter::default())
        .await
        .unwrap();
    assert_eq!(after.deployments, before.deployments);
    assert_eq!(
        after.failing_windows.len(),
        25,
        "every window says why it is stale"
    );
}

#[tokio::test]
async fn a_failed_sync_leaves_the_cache_and_says_so() {
    let f = fixture().await;
    f.ops
        .sync_history(SANDBOX_PROFILE_ID, |_| {})
        .await
        .unwrap();
    let before = f
        .ops
        .history(SANDBOX_PROFILE_ID, &DeploymentFilter::default())
        .await
        .unwrap();
    assert!(!before.deployments.is_empty());

    support::fail_with_500(&f.sandbox, FaultTarget::DeployApi);
    f.clock.set(1_700_000_500_000);
    let err: AppError = f
        .ops
        .sync_history(SANDBOX_PROFILE_ID, |_| {})
        .await
        .unwrap_err();
    assert!(
        err.message.contains("cache is unchanged"),
        "{}",
        err.message
    );

    let after = f
        .ops
        .history(SANDBOX_PROFILE_ID, &DeploymentFilter::default())
        .await
        .unwrap();
    assert_eq!(after.deployments, before.deployments);
    assert_eq!(
        after.as_of_ms, before.as_of_ms,
        "as-of stays at the last success"
    );
    assert_eq!(after.failing_windows.len(), 25);

    let audit = f.ops.audit_log(SANDBOX_PROFILE_ID, 10).await.unwrap();
    assert_eq!(audit[0].entry.action, "history.sync");
    assert_eq!(audit[0].entry.outcome, "Unreachable");
}

#[tokio::test]
async fn profiles_are_validated_exported_and_imported() {
    let f = fixture().await;
    let mut bad = Profile::for_environment("staging", "Staging", Environment::Staging);
    bad.deploy_api_url = "not a url".into();
    let e = f.ops.save_profile(bad).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("Deploy API URL"));
    assert_eq!(f.ops.profiles().await.unwrap().len(), 1, "nothing stored");

    let staging = Profile::for_environment("staging", "Staging", Environment::Staging);
    f.ops.save_profile(staging.clone()).await.unwrap();
    let toml = f.ops.export_profiles(&[]).await.unwrap();
    assert!(
        toml.contains("[[profile]]") && toml.contains("dotdo-staging"),
        "{toml}"
    );
    assert!(
        !toml.contains(SANDBOX_PROFILE_ID),
        "the sandbox profile is not exported"
    );

    let e = f.ops.import_profiles(&toml, false).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let e = f
        .ops
        .import_profiles("this is = = not toml", false)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    f.ops.delete_profile("staging").await.unwrap();
    let imported = f.ops.import_profiles(&toml, false).await.unwrap();
    assert_eq!(imported, vec![staging]);

    let e = f.ops.delete_profile(SANDBOX_PROFILE_ID).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
}

#[tokio::test]
async fn keys_go_to_the_keychain_only() {
    let f = fixture().await;
    let d = f.sandbox.discovery().clone();
    // A user profile pointed at the sandbox, as a real one would point at deploy.do.
    let mut p = Profile::for_environment("rehearsal", "Rehearsal", Environment::Staging);
    p.deploy_api_url = d.deploy_api_url.clone();
    p.auth_url = d.auth_url.clone();
    p.cloudflare_api_url = d.cloudflare_api_url.clone();
    p.account_id = d.account_id.clone();
    f.ops.save_profile(p).await.unwrap();

    // A leftover keychain entry under the same id does not become the new profile's key.
    f.keychain
        .set(
            "rehearsal",
            SecretKind::DeployApiKey,
            &Secret::new("sk_stale_from_before"),
        )
        .unwrap();
    let mut p = Profile::for_environment("rehearsal", "Rehearsal", Environment::Staging);
    p.deploy_api_url = d.deploy_api_url.clone();
    p.auth_url = d.auth_url.clone();
    p.cloudflare_api_url = d.cloudflare_api_url.clone();
    p.account_id = d.account_id.clone();
    f.ops.delete_profile("rehearsal").await.unwrap();
    f.keychain
        .set(
            "rehearsal",
            SecretKind::DeployApiKey,
            &Secret::new("sk_stale_from_before"),
        )
        .unwrap();
    f.ops.save_profile(p).await.unwrap();
    assert!(
        !f.ops
            .profile_secrets("rehearsal")
            .await
            .unwrap()
            .deploy_api_key
    );

    let e = f.ops.validate_key("rehearsal").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidApiKey);
    assert!(e.message.contains("no Deploy API key"));

    let e = f
        .ops
        .set_secret(
            "rehearsal",
            SecretKind::DeployApiKey,
            Secret::new(" sk_x\n"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    f.ops
        .set_secret(
            "rehearsal",
            SecretKind::DeployApiKey,
            Secret::new(d.readonly_key.clone()),
        )
        .await
        .unwrap();
    let check = f.ops.validate_key("rehearsal").await.unwrap();
    assert!(
        !check.can_deploy,
        "the read-only key lacks deployments:create"
    );
    f.ops
        .set_secret(
            "rehearsal",
            SecretKind::DeployApiKey,
            Secret::new(d.deploy_key.clone()),
        )
        .await
        .unwrap();
    assert!(f.ops.validate_key("rehearsal").await.unwrap().can_deploy);
    assert!(
        f.ops
            .profile_secrets("rehearsal")
            .await
            .unwrap()
            .deploy_api_key
    );
    f.ops.sync_history("rehearsal", |_| {}).await.unwrap();

    // The key is in the keychain, and in no file of ours.
    assert_eq!(f.keychain.len(), 1);
    f.ops.shutdown().await;
    let needle = d.deploy_key.as_bytes();
    for entry in walk(&f.dir.path().join("app")) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "the key was found in {}",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A key belongs to the hosts it was saved for: a profile edited or imported to point elsewhere
/// does not send its old key there (it did, silently) until the key is entered again or moved.
#[tokio::test]
async fn keys_stay_with_the_hosts_they_were_saved_for() {
    let f = fixture().await;
    let d = f.sandbox.discovery().clone();
    let mut p = Profile::for_environment("moving", "Moving", Environment::Staging);
    p.deploy_api_url = d.deploy_api_url.clone();
    p.auth_url = d.auth_url.clone();
    p.cloudflare_api_url = d.cloudflare_api_url.clone();
    p.account_id = d.account_id.clone();
    f.ops.save_profile(p.clone()).await.unwrap();
    f.ops
        .set_secret(
            "moving",
            SecretKind::DeployApiKey,
            Secret::new(d.deploy_key.clone()),
        )
        .await
        .unwrap();
    assert!(f.ops.validate_key("moving").await.unwrap().can_deploy);

    // Edited to another host: the key is detached, said plainly, and not sent.
    let mut moved = p.clone();
    // (Other loopback addresses where nothing listens: before keys were bound, the key was sent
    // there; the test must not reach off this machine even on old code.)
    moved.deploy_api_url = "http://127.0.0.2:9/deploy-api".into();
    moved.auth_url = "http://127.0.0.3:9/auth".into();
    f.ops.save_profile(moved.clone()).await.unwrap();
    let e = f.ops.validate_key("moving").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidApiKey);
    assert!(
        e.message.contains("was saved for http://127.0.0.1"),
        "{}",
        e.message
    );
    assert!(
        e.message
            .contains("http://127.0.0.2:9 and http://127.0.0.3:9"),
        "{}",
        e.message
    );
    let secrets = f.ops.profile_secrets("moving").await.unwrap();
    assert!(!secrets.deploy_api_key);
    assert_eq!(secrets.detached.len(), 1, "{secrets:?}");
    let e = f.ops.sync_history("moving", |_| {}).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidApiKey);

    // Back where it was saved for: attached again. An import that changes the host detaches it
    // the same way.
    f.ops.save_profile(p.clone()).await.unwrap();
    assert!(f.ops.validate_key("moving").await.unwrap().can_deploy);
    let export = f.ops.export_profiles(&["moving".into()]).await.unwrap();
    let elsewhere = export.replace(&d.auth_url, "http://127.0.0.3:9/auth");
    assert_ne!(export, elsewhere);
    // Reviewed first: the import screen names the host that changes and the key it detaches,
    // and the review itself changes nothing.
    let preview = f
        .ops
        .preview_profile_import(&elsewhere, true)
        .await
        .unwrap();
    assert_eq!(preview.len(), 1);
    assert!(preview[0].replaces);
    // `scheme://host:port` of the sandbox's auth URL.
    let auth_origin = d
        .auth_url
        .splitn(4, '/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    assert_eq!(
        preview[0].host_changes,
        vec![switchyard_ops::HostChange {
            what: "Auth service".into(),
            from: auth_origin,
            to: "http://127.0.0.3:9".into(),
        }]
    );
    assert_eq!(preview[0].keys_detached.len(), 1, "{:?}", preview[0]);
    assert!(preview[0].keys_detached[0].contains("http://127.0.0.3:9"));
    assert!(f.ops.validate_key("moving").await.unwrap().can_deploy);
    // Without replace, the same review refuses as the import would.
    assert_eq!(
        f.ops
            .preview_profile_import(&elsewhere, false)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    f.ops.import_profiles(&elsewhere, true).await.unwrap();
    assert_eq!(
        f.ops.validate_key("moving").await.unwrap_err().code,
        ErrorCode::InvalidApiKey
    );

    // The operator says it is the same service: the key moves, and is used again.
    f.ops.import_profiles(&export, true).await.unwrap();
    let mut renamed_host = p.clone();
    renamed_host.deploy_api_url = d.deploy_api_url.replace("127.0.0.1", "localhost");
    renamed_host.auth_url = d.auth_url.replace("127.0.0.1", "localhost");
    f.ops.save_profile(renamed_host).await.unwrap();
    assert!(f.ops.validate_key("moving").await.is_err());
    f.ops.move_keys("moving").await.unwrap();
    assert!(f.ops.validate_key("moving").await.unwrap().can_deploy);
    assert!(f
        .ops
        .profile_secrets("moving")
        .await
        .unwrap()
        .detached
        .is_empty());
}

/// The Cloudflare token can be tested, as the Deploy API key can.
#[tokio::test]
async fn the_cloudflare_token_is_tested_and_a_wrong_one_is_said_so() {
    let f = fixture().await;
    let check = f
        .ops
        .test_cloudflare_token(SANDBOX_PROFILE_ID)
        .await
        .unwrap();
    assert_eq!(check.status, "active");
    assert!(check.can_list_namespaces);
    let d = f.sandbox.discovery().clone();
    let mut p = Profile::for_environment("cf", "CF", Environment::Staging);
    p.deploy_api_url = d.deploy_api_url.clone();
    p.auth_url = d.auth_url.clone();
    p.cloudflare_api_url = d.cloudflare_api_url.clone();
    p.account_id = d.account_id.clone();
    f.ops.save_profile(p).await.unwrap();
    let e = f.ops.test_cloudflare_token("cf").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidApiKey);
    assert!(
        e.message.contains("no Cloudflare API token"),
        "{}",
        e.message
    );
    f.ops
        .set_secret(
            "cf",
            SecretKind::CloudflareToken,
            Secret::new("not-the-token"),
        )
        .await
        .unwrap();
    let e = f.ops.test_cloudflare_token("cf").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidApiKey, "{}", e.message);
}

/// The workerd binary can be chosen in Settings; a file that is not workerd is refused, and the
/// choice is what the Local sandbox runs from the next start.
#[tokio::test]
async fn the_workerd_binary_is_a_checked_setting_used_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(1_700_000_000_000);
    let ops = Ops::open(
        &dir.path().join("app"),
        Arc::new(MemoryStore::new()),
        clock.clone(),
    )
    .await
    .unwrap();
    let e = ops
        .set_workerd_path(Some("/bin/echo".into()))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("not a workerd binary"), "{}", e.message);
    assert_eq!(ops.workerd_path().await.unwrap(), None);
    let real = switchyard_sandbox::locate_workerd(None).expect("workerd (cargo xtask setup)");
    let path = real.path.display().to_string();
    ops.set_workerd_path(Some(path.clone())).await.unwrap();
    ops.start_embedded_sandbox().await.unwrap();
    let runtime = ops.sandbox_runtime().await.unwrap();
    assert!(runtime.executing, "{runtime:?}");
    assert_eq!(runtime.workerd_source.as_deref(), Some("setting"));
    assert_eq!(runtime.workerd_path.as_deref(), Some(path.as_str()));
    ops.set_workerd_path(None).await.unwrap();
    assert_eq!(ops.workerd_path().await.unwrap(), None);
    ops.shutdown().await;
}
