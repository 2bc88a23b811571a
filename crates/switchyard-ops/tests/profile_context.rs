//! One profile, one way to its clients: whatever action needs a key the profile lacks, the
//! operator reads the same error — the profile and the key named, where to add it, and the
//! runbook section that fixes it — against a real sandbox, a real SQLite file and an in-memory
//! keychain.

use switchyard_core::{AppError, Environment, ErrorCode, RunbookSection};
use switchyard_ops::runbook_link_for_error;
use switchyard_secrets::{Secret, SecretKind};

mod support;
use support::{fixture, user_profile};

const NO_KEY: &str =
    "Profile \"Rehearsal\" has no Deploy API key. Add it in Settings, then try again.";
const NO_TOKEN: &str = "Profile \"Rehearsal\" has no Cloudflare API token. Add a Cloudflare API token in Settings (it needs Workers Scripts Write), then try again.";

/// The error is the missing-key one, exactly, with its runbook section (which the app can open).
fn assert_missing(e: &AppError, message: &str, action: &str) {
    assert_eq!(e.code, ErrorCode::InvalidApiKey, "{action}: {e:?}");
    assert_eq!(e.message, message, "{action}");
    let heading = RunbookSection::InvalidApiKey.heading();
    assert_eq!(e.runbook.as_deref(), Some(heading), "{action}");
    assert!(
        runbook_link_for_error(heading).is_some(),
        "{action}: the runbook link of {heading:?} resolves"
    );
}

#[tokio::test]
async fn every_action_missing_a_key_says_the_same_thing_with_the_runbook_link() {
    let f = fixture().await;
    let d = f.sandbox.discovery().clone();
    let p = user_profile(&d, "rehearsal", "Rehearsal", Environment::Staging);
    let service = p.services[0].clone();
    f.ops.save_profile(p).await.unwrap();

    // No key at all: each action that needs the Deploy API key, each that needs the token.
    let e = f.ops.validate_key("rehearsal").await.unwrap_err();
    assert_missing(&e, NO_KEY, "validate the key");
    let e = f.ops.sync_history("rehearsal", |_| {}).await.unwrap_err();
    assert_missing(&e, NO_KEY, "sync the history");
    let e = f
        .ops
        .rollback_plan("rehearsal", &service, Environment::Staging)
        .await
        .unwrap_err();
    assert_missing(&e, NO_KEY, "plan a rollback");
    let e = f
        .ops
        .verify_cloudflare_token("rehearsal")
        .await
        .unwrap_err();
    assert_missing(&e, NO_TOKEN, "verify the token");
    let e = f.ops.list_namespaces("rehearsal").await.unwrap_err();
    assert_missing(&e, NO_TOKEN, "list the namespaces");

    // With the key (the sandbox's real one) the Deploy API actions work; the token is still
    // missing, and said so the same way.
    f.ops
        .set_secret(
            "rehearsal",
            SecretKind::DeployApiKey,
            Secret::new(d.deploy_key.clone()),
        )
        .await
        .unwrap();
    let check = f.ops.validate_key("rehearsal").await.unwrap();
    assert!(check.deploy_api_accepts, "{check:?}");
    f.ops.sync_history("rehearsal", |_| {}).await.unwrap();
    let e = f.ops.list_namespaces("rehearsal").await.unwrap_err();
    assert_missing(&e, NO_TOKEN, "list the namespaces with the key only");

    // With the token too, the Cloudflare actions work.
    f.ops
        .set_secret(
            "rehearsal",
            SecretKind::CloudflareToken,
            Secret::new(d.cloudflare_token.clone()),
        )
        .await
        .unwrap();
    assert!(!f.ops.list_namespaces("rehearsal").await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unknown_profile_is_not_found_before_any_key_is_looked_up() {
    let f = fixture().await;
    for e in [
        f.ops.validate_key("nobody").await.unwrap_err(),
        f.ops.list_namespaces("nobody").await.unwrap_err(),
        f.ops.sync_history("nobody", |_| {}).await.unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::NotFound, "{e:?}");
    }
}
