//! The bundle archive index and pins against a real SQLite file.

use serde_json::json;
use switchyard_core::{Deployment, DeploymentMetadata, DeploymentStatus, Environment, Profile};
use switchyard_store::{BundleUse, BundleUseKind, DeployPin, Store};

const P: &str = "local-sandbox";

fn deployment(id: &str, ts: &str, status: DeploymentStatus) -> Deployment {
    Deployment {
        id: id.into(),
        service: "gateway".into(),
        environment: Environment::Production,
        tier: None,
        version: None,
        namespace: Some("dotdo-production".into()),
        status,
        timestamp: ts.into(),
        url: None,
        version_tag: Some("v1".into()),
        metadata: DeploymentMetadata {
            commit: "abc".into(),
            branch: "main".into(),
            author: "a@b".into(),
            version: None,
        },
    }
}

#[tokio::test]
async fn bundles_uses_current_ids_and_pins_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    store
        .save_profile(&Profile::local_sandbox(), 1)
        .await
        .unwrap();

    let b = store.put_bundle("aa", 10, "/x/aa", 100).await.unwrap();
    assert_eq!((b.created_ms, b.pruned_ms), (100, None));
    store
        .mark_bundles_pruned(&["aa".into()], 200)
        .await
        .unwrap();
    assert_eq!(
        store.bundle("aa").await.unwrap().unwrap().pruned_ms,
        Some(200)
    );
    // Archiving the same bytes again revives it and keeps its first creation time.
    let b = store.put_bundle("aa", 10, "/x/aa", 300).await.unwrap();
    assert_eq!((b.created_ms, b.pruned_ms), (100, None));

    let u = BundleUse {
        sha256: "aa".into(),
        profile_id: P.into(),
        deployment_id: "deploy_2_x".into(),
        service: "gateway".into(),
        environment: Environment::Production,
        bindings: json!({"DB_SERVICE": "db"}),
        metadata: json!({"commit": "abc"}),
        used_ms: 400,
        kind: BundleUseKind::Rollback,
    };
    store.record_bundle_use(&u).await.unwrap();
    assert_eq!(
        store.bundle_use(P, "deploy_2_x").await.unwrap(),
        Some(u.clone())
    );
    assert_eq!(
        store
            .bundle_uses(P, Some("gateway"), Some(Environment::Production))
            .await
            .unwrap(),
        vec![u.clone()]
    );
    assert!(store
        .bundle_uses(P, Some("db"), None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.all_bundle_uses().await.unwrap().len(), 1);

    store
        .upsert_deployments(
            P,
            &[
                deployment(
                    "deploy_1_x",
                    "2023-10-03T16:00:00Z",
                    DeploymentStatus::Deployed,
                ),
                deployment(
                    "deploy_2_x",
                    "2023-10-03T17:00:00Z",
                    DeploymentStatus::Deployed,
                ),
                deployment(
                    "deploy_3_x",
                    "2023-10-03T18:00:00Z",
                    DeploymentStatus::Failed,
                ),
            ],
            1,
        )
        .await
        .unwrap();
    assert_eq!(
        store.current_deployment_ids().await.unwrap(),
        vec![(P.to_owned(), "deploy_2_x".to_owned())]
    );

    let pin = DeployPin {
        profile_id: P.into(),
        service: "gateway".into(),
        environment: Environment::Production,
        deployment_id: "deploy_2_x".into(),
        version_label: "v1".into(),
        reason: "bad release".into(),
        actor: "ops".into(),
        pinned_ms: 500,
    };
    store.set_pin(&pin).await.unwrap();
    assert_eq!(
        store
            .pin(P, "gateway", Environment::Production)
            .await
            .unwrap(),
        Some(pin.clone())
    );
    assert_eq!(store.pins(Some(P)).await.unwrap(), vec![pin]);
    assert!(store
        .clear_pin(P, "gateway", Environment::Production)
        .await
        .unwrap());
    assert!(!store
        .clear_pin(P, "gateway", Environment::Production)
        .await
        .unwrap());
    assert!(store.pins(None).await.unwrap().is_empty());
}
