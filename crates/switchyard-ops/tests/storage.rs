//! A damaged database at start: the engine opens on a new one and has the notice the window
//! shows once (what was damaged, where it went, what came back, what did not). The damage
//! itself — a file SQLite refuses, a bad page found at open or by a query — is exercised
//! against real files in `switchyard-store/tests/storage_faults.rs`; here a query has marked
//! the file damaged, as the store does when SQLite reports SQLITE_CORRUPT.

use std::sync::Arc;

use switchyard_core::{Deployment, DeploymentMetadata, DeploymentStatus, Environment, Profile};
use switchyard_ops::Ops;
use switchyard_secrets::MemoryStore;
use switchyard_store::DeploymentFilter;

mod support;
use support::TestClock;

fn deployment(n: i64) -> Deployment {
    Deployment {
        id: format!("deploy_{n}_abcdef01"),
        service: "gateway".into(),
        environment: Environment::Staging,
        tier: None,
        version: None,
        namespace: Some("dotdo-staging".into()),
        status: DeploymentStatus::Deployed,
        timestamp: format!("2026-12-01T10:{:02}:00.000Z", n % 60),
        url: None,
        version_tag: Some(format!("v1.{n}.0")),
        metadata: DeploymentMetadata {
            commit: format!("{n:040x}"),
            branch: "main".into(),
            author: "ana@example.com".into(),
            version: None,
        },
    }
}

#[tokio::test]
async fn a_damaged_database_at_start_is_replaced_and_the_window_is_told_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("app");
    let keychain = Arc::new(MemoryStore::new());
    let clock = TestClock::at(1_800_000_000_000);
    {
        let ops = Ops::open(&data, keychain.clone(), clock.clone())
            .await
            .unwrap();
        assert!(ops.storage_notice().is_none());
        ops.save_profile(Profile::for_environment(
            "dotdo-staging",
            "dotdo staging",
            Environment::Staging,
        ))
        .await
        .unwrap();
        ops.select_profile("dotdo-staging").await.unwrap();
        let records: Vec<Deployment> = (0..40).map(deployment).collect();
        ops.store()
            .upsert_deployments("dotdo-staging", &records, 1)
            .await
            .unwrap();
    }
    // A query found the file damaged while the app ran (the store leaves this marker).
    std::fs::write(
        data.join("switchyard.db.damaged"),
        "Reading deployments: database disk image is malformed\n",
    )
    .unwrap();

    let ops = Ops::open(&data, keychain.clone(), clock.clone())
        .await
        .unwrap();
    let notice = ops.storage_notice().expect("the window is told").clone();
    let db = data.join("switchyard.db").display().to_string();
    assert_eq!(notice.damaged_file, db);
    assert!(
        notice.moved_to.starts_with(&format!("{db}.corrupt-")),
        "{}",
        notice.moved_to
    );
    assert!(std::path::Path::new(&notice.moved_to).exists());
    assert!(notice.summary.contains(&db), "{}", notice.summary);
    assert!(
        notice.summary.contains(&notice.moved_to),
        "{}",
        notice.summary
    );
    assert!(
        notice.summary.contains("nothing was deleted"),
        "{}",
        notice.summary
    );
    assert!(
        notice.summary.contains("database disk image is malformed"),
        "{}",
        notice.summary
    );
    assert!(
        notice
            .recovered
            .contains(&"profiles (1 profile)".to_owned()),
        "{:?}",
        notice.recovered
    );
    assert!(
        notice.recovered.iter().any(|r| r.starts_with("settings (")),
        "{:?}",
        notice.recovered
    );
    assert!(
        notice
            .recovered
            .contains(&"deployment history (40 records)".to_owned()),
        "{:?}",
        notice.recovered
    );
    assert!(notice.lost.is_empty(), "{:?}", notice.lost);
    assert!(
        notice.next.iter().any(|n| n.contains("synced again")),
        "{:?}",
        notice.next
    );

    // The new database has it all, and the recovery is in the audit log.
    assert_eq!(ops.active_profile().await.unwrap().id, "dotdo-staging");
    let history = ops
        .store()
        .query_deployments("dotdo-staging", &DeploymentFilter::default())
        .await
        .unwrap();
    assert_eq!(history.len(), 40);
    let audit = ops.audit_log("dotdo-staging", 50).await.unwrap();
    let recovered = audit
        .iter()
        .find(|a| a.entry.action == "storage.recovered")
        .expect("recorded in the audit log");
    assert_eq!(recovered.entry.target, db);
    assert!(recovered
        .entry
        .message
        .as_deref()
        .unwrap_or_default()
        .contains(&notice.moved_to));
    drop(ops);

    // Once: the next start is an ordinary one.
    let ops = Ops::open(&data, keychain, clock).await.unwrap();
    assert!(ops.storage_notice().is_none());
}
