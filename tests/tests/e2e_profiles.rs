//! End-to-end: the first run works on the local sandbox; the user adds a profile, stores a key
//! (it lands in the OS keychain), sees it validated, the app is killed (SIGKILL) and restarted,
//! and the profile, the key and the history cache are intact. No secret reaches our files or
//! the webview. Run with `cargo xtask e2e`.

use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use switchyard_tests::{contains_bytes, files_under, AppSession};

/// How long the window gets to show what a step leads to.
const WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// What the OS keychain holds for `account` (service `switchyard`), via the Secret Service.
fn keychain_lookup(account: &str) -> Result<Option<String>> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "switchyard", "username", account])
        .output()
        .context("secret-tool (Debian package libsecret-tools)")?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

#[tokio::test]
#[ignore = "end-to-end: needs the built app, a display and a keychain; run `cargo xtask e2e`"]
async fn profiles_keys_and_history_survive_a_crash() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let app = AppSession::start_in(dir.path()).await?;
    let outcome = first_run(&app).await;
    if outcome.is_err() {
        let _ = app.screenshot("profiles-failure").await;
    }
    let key = outcome?;
    app.kill_app()?;

    let app = AppSession::start_in(dir.path()).await?;
    let outcome = after_restart(&app, &key).await;
    if outcome.is_err() {
        let _ = app.screenshot("restart-failure").await;
    }
    // The leak sweep: the key typed in is in no file, stderr line or IPC reply of the app.
    let swept = app.close_after_sweep(std::slice::from_ref(&key)).await;
    outcome?;
    swept?;

    // No file of the app's own holds the key. (The embedded sandbox's folder holds its own demo
    // keys by design: they are what it hands out.)
    for file in files_under(dir.path()) {
        if file.starts_with(dir.path().join("sandbox")) {
            continue;
        }
        let bytes = std::fs::read(&file)?;
        if contains_bytes(&bytes, key.as_bytes()) {
            bail!("the stored key was found in {}", file.display());
        }
    }
    Ok(())
}

/// First run through storing and testing a key; returns the key stored.
async fn first_run(app: &AppSession) -> Result<String> {
    app.record_ipc().await?;
    // The sandbox profile works from the first start: history syncs from the embedded sandbox.
    app.go_to("Deployments").await?;
    app.click_button("Sync history").await?;
    app.wait_for_text("Synced", WAIT).await?;
    app.by_role("table", "Deployments").await?;
    app.expect_within("table", "Deployments", "gateway").await?;
    app.screenshot("history-first-sync").await?;

    let sandbox = app.sandbox_discovery()?;
    let text = |k: &str| sandbox[k].as_str().unwrap_or_default().to_owned();
    let key = text("deploy_key");

    app.go_to("Settings").await?;
    // The keychain is checked on its own (keychain_status) and named, not refused or failed.
    app.wait_for_text("Secret Service", WAIT).await?;
    let settings = app.page_text().await?;
    ensure!(
        !settings.contains("Checking the keychain failed")
            && !settings.contains("Could not be checked"),
        "{settings}"
    );
    app.click_button("Add profile").await?;
    app.by_role("dialog", "New profile").await?;
    app.fill("Name", "Rehearsal staging").await?;
    app.choose("Environment", "staging").await?;
    app.fill("Deploy API URL", &text("deploy_api_url")).await?;
    app.fill("Auth service URL", &text("auth_url")).await?;
    app.fill("Cloudflare API URL", &text("cloudflare_api_url"))
        .await?;
    app.fill("Cloudflare account id", &text("account_id"))
        .await?;
    app.screenshot("profile-new").await?;
    app.click_button("Save profile").await?;
    app.expect_within("table", "Profiles", "Rehearsal staging")
        .await?;

    app.click_button("Manage Rehearsal staging").await?;
    app.wait_for_text("Deploy API key: not set", WAIT).await?;
    app.fill("New Deploy API key", &key).await?;
    app.click_button("Store Deploy API key").await?;
    let page = app
        .wait_for_text("Deploy API key: stored in the keychain", WAIT)
        .await?;
    assert!(!page.contains(&key), "the key is shown on the page");
    // It is in the OS keychain, under the profile's account.
    let stored = keychain_lookup("rehearsal-staging/deploy-api-key")?;
    assert!(
        stored.as_deref() == Some(key.as_str()),
        "the key is not in the keychain"
    );

    app.click_button("Test Deploy API key").await?;
    let result = app.by_role("status", "Key test result").await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let t = result.text().await?;
        if t.contains("Can deploy: yes") {
            assert!(t.contains("deployments:create"), "{t}");
            break;
        }
        if std::time::Instant::now() > deadline {
            bail!("the key test never said it can deploy: {t:?}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.screenshot("profile-key-validated").await?;

    // Nothing the webview received carries the key.
    let log = app.ipc_log().await?;
    assert!(
        log.len() >= 5,
        "IPC replies were not recorded: {}",
        log.len()
    );
    for reply in &log {
        assert!(!reply.contains(&key), "an IPC reply carried the key");
    }
    Ok(key)
}

async fn after_restart(app: &AppSession, key: &str) -> Result<()> {
    app.record_ipc().await?;
    app.go_to("Settings").await?;
    app.expect_within("table", "Profiles", "Rehearsal staging")
        .await?;
    app.click_button("Manage Rehearsal staging").await?;
    app.wait_for_text("Deploy API key: stored in the keychain", WAIT)
        .await?;

    // The history cache survived the kill: it is there before any new sync.
    app.go_to("Deployments").await?;
    app.expect_within("table", "Deployments", "gateway").await?;
    app.wait_for_text("As of", WAIT).await?;
    app.screenshot("restart-history-intact").await?;
    for reply in app.ipc_log().await? {
        assert!(!reply.contains(key), "an IPC reply carried the key");
    }
    Ok(())
}
