//! The sandbox control client against a real sandbox on 127.0.0.1: faults set, listed and
//! cleared, settings read and changed, and a refusal reported with the sandbox's answer.

use std::time::Duration;

use switchyard_clients::{
    ControlError, ControlFault, DownHow, HttpClient, HttpSettings, SandboxControl, SandboxSettings,
};
use switchyard_sandbox::{Sandbox, SandboxConfig};

async fn sandbox() -> (Sandbox, SandboxControl, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()))
        .await
        .unwrap();
    let http = HttpClient::new(HttpSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        ..HttpSettings::default()
    })
    .unwrap();
    let control = SandboxControl::from_faults_url(http, &sandbox.discovery().faults_url);
    (sandbox, control, dir)
}

#[tokio::test]
async fn faults_are_set_listed_and_cleared() {
    let (_sandbox, control, _dir) = sandbox().await;
    assert!(control.faults().await.unwrap().is_empty());

    let set = control
        .set_fault(
            "service:db",
            &ControlFault::Error {
                status: Some(503),
                body: Some("down".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(set.target, "service:db");
    control
        .set_fault("deploy-api", &ControlFault::Down { how: None })
        .await
        .unwrap();
    control
        .set_fault(
            "dispatcher",
            &ControlFault::Down {
                how: Some(DownHow::Drop),
            },
        )
        .await
        .unwrap();

    let listed = control.faults().await.unwrap();
    assert_eq!(listed.len(), 3);
    let db = listed.iter().find(|f| f.target == "service:db").unwrap();
    assert_eq!(
        db.fault,
        ControlFault::Error {
            status: Some(503),
            body: Some("down".into())
        }
    );
    assert!(!db.until_deploy);

    assert!(control.clear_fault("service:db").await.unwrap());
    assert!(!control.clear_fault("service:db").await.unwrap());
    assert_eq!(control.clear_all_faults().await.unwrap(), 2);
    assert!(control.faults().await.unwrap().is_empty());
    assert!(control.bad_deploys().await.unwrap().is_empty());
    assert!(control.end_all_bad_deploys().await.unwrap().is_empty());
}

#[tokio::test]
async fn refusals_carry_the_sandbox_answer() {
    let (_sandbox, control, _dir) = sandbox().await;
    let err = control
        .set_fault("nowhere", &ControlFault::Down { how: None })
        .await
        .unwrap_err();
    match err {
        ControlError::Refused { status, body } => {
            assert_eq!(status, 400);
            assert!(body.contains("unknown fault target"), "{body}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let err = control
        .end_bad_deploy("gateway", "production")
        .await
        .unwrap_err();
    assert!(matches!(err, ControlError::Refused { status: 404, .. }));
}

#[tokio::test]
async fn settings_are_read_and_changed() {
    let (_sandbox, control, _dir) = sandbox().await;
    let before = control.settings().await.unwrap();
    let flipped = SandboxSettings {
        true_rollback: !before.true_rollback,
    };
    assert_eq!(control.set_settings(&flipped).await.unwrap(), flipped);
    assert_eq!(control.settings().await.unwrap(), flipped);
}

#[tokio::test]
async fn a_sandbox_that_is_gone_is_unreachable() {
    let http = HttpClient::new(HttpSettings {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_secs(1),
        ..HttpSettings::default()
    })
    .unwrap();
    let control = SandboxControl::new(http, "http://127.0.0.1:9/__sandbox");
    assert!(matches!(
        control.faults().await,
        Err(ControlError::Unreachable(_))
    ));
}
