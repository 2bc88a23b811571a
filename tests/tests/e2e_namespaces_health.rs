//! End-to-end: namespaces and the health board in the real window, against the embedded
//! sandbox (prepared with a 10,000-worker namespace), with faults injected through the sandbox's
//! own control endpoint. Run with `cargo xtask e2e`.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use switchyard_tests::{curl, sandbox_binary, AppSession};

/// Prepare the app's sandbox folder with a 10,000-worker namespace, using the sandbox binary.
fn prepare_sandbox(data_dir: &std::path::Path) -> Result<()> {
    let bin = sandbox_binary();
    let status = Command::new(&bin)
        .args(["--port", "0", "--data"])
        .arg(data_dir.join("sandbox"))
        .args(["--generate-scripts", "dotdo-bench=10000", "--generate-only"])
        .status()
        .with_context(|| format!("running {}", bin.display()))?;
    if !status.success() {
        bail!("preparing the sandbox failed ({status})");
    }
    Ok(())
}

#[tokio::test]
#[ignore = "end-to-end: needs the built app and sandbox binary and a display; run `cargo xtask e2e`"]
async fn namespaces_and_health_in_the_window() -> Result<()> {
    let dir = tempfile::tempdir()?;
    prepare_sandbox(dir.path())?;
    let app = AppSession::start_in(dir.path()).await?;
    // A worker secret typed into the drawer: it must reach the worker and nowhere else.
    let secret = format!(
        "e2e-secret-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos()
    );
    let outcome = scenario(&app, &secret).await;
    if outcome.is_err() {
        let _ = app.screenshot("namespaces-health-failure").await;
    }
    // The leak sweep: no key, token or the worker secret in the data folder, the app's stderr or
    // its IPC replies.
    let swept = app.close_after_sweep(&[secret]).await;
    outcome?;
    swept
}

/// A worker that answers its `MY_SECRET` (or `none`): what its `env` holds.
const SECRET_ECHO: &str = r#"export default {
  async fetch(request, env) {
    return new Response(typeof env.MY_SECRET === "string" ? env.MY_SECRET : "none");
  },
};
"#;

async fn scenario(app: &AppSession, secret: &str) -> Result<()> {
    let sandbox = app.sandbox_discovery()?;
    let base = sandbox["base_url"].as_str().unwrap_or_default().to_owned();

    // List, create, trust.
    app.go_to("Namespaces").await?;
    app.by_role("table", "Namespaces").await?;
    app.expect_within("table", "Namespaces", "dotdo-production")
        .await?;
    app.click_button("Create namespace").await?;
    app.fill("Namespace name", "rehearsal-ns").await?;
    app.click_button("Create").await?;
    app.expect_within("table", "Namespaces", "rehearsal-ns")
        .await?;
    app.click_button("Open rehearsal-ns").await?;
    app.by_role("switch|checkbox", "Trusted mode")
        .await?
        .click()
        .await?;
    // The change is confirmed before it is made.
    app.by_role("dialog", "Turn on trusted mode for rehearsal-ns?")
        .await?;
    app.click_button("Turn on trusted mode").await?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !app
        .by_role("switch|checkbox", "Trusted mode")
        .await?
        .is_selected()
        .await?
    {
        if Instant::now() > deadline {
            bail!("trusted mode never turned on");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.screenshot("namespace-trusted").await?;

    // Find gateway in dotdo-production by search.
    app.click_button("Open dotdo-production").await?;
    app.fill("Search workers", "gateway").await?;
    app.expect_within("table", "Workers", "gateway").await?;
    app.screenshot("namespace-production-search").await?;

    // A secret put from the worker drawer reaches the worker's env (and, by the leak sweep,
    // nothing of the app's). The code that answers its env is uploaded as `workflows` (a name
    // the sandbox's dispatcher routes) by the platform's own API, as another tool would.
    let token = sandbox["cloudflare_token"].as_str().unwrap_or_default();
    let account = sandbox["account_id"].as_str().unwrap_or_default();
    let work = tempfile::tempdir()?;
    let code = work.path().join("secret-echo.mjs");
    std::fs::write(&code, SECRET_ECHO)?;
    curl(&[
        "-X",
        "PUT",
        "-H",
        &format!("Authorization: Bearer {token}"),
        "-F",
        r#"metadata={"main_module":"worker.mjs","compatibility_date":"2025-01-01"};type=application/json"#,
        "-F",
        &format!("worker.mjs=@{};type=application/javascript+module", code.display()),
        &format!("{base}/client/v4/accounts/{account}/workers/dispatch/namespaces/dotdo-production/scripts/workflows"),
    ])?;
    let echo = format!("{base}/services/production/workflows/");
    // Until the secret is set, the worker says it has none (once workerd has loaded it).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let answer = curl(&["-s", &echo])?;
        if answer.trim() == "none" {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the uploaded worker does not answer \"none\": {answer:.300}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Deployed by another tool: the list shows it once read again.
    app.click_button("Refresh workers").await?;
    app.fill("Search workers", "workflows").await?;
    app.expect_within("table", "Workers", "workflows").await?;
    let row = app
        .by_role_within("cell|gridcell", "workflows", Some("[aria-label='Workers']"))
        .await?;
    app.click(&row).await?;
    app.by_role("dialog", "Worker workflows").await?;
    let tab = app.by_role("tab", "Secrets and tags").await?;
    app.click(&tab).await?;
    // A production namespace: its name is typed before secrets change.
    app.fill("Type workflows to change its secrets and tags", "workflows")
        .await?;
    app.fill("Secret name", "MY_SECRET").await?;
    app.fill("Secret value", secret).await?;
    app.click_button("Set secret MY_SECRET").await?;
    app.wait_for_text("Secret MY_SECRET set on workflows", Duration::from_secs(15))
        .await?;
    app.expect_within("table", "Secrets", "MY_SECRET").await?;
    app.screenshot("namespace-worker-secret-set").await?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        // Compared here, never printed.
        if curl(&["-s", &echo])?.trim() == secret {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the secret set in the drawer never reached the worker's env"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // WebDriver's Escape key closes the drawer.
    app.type_keys("\u{E00C}").await?;
    app.fill("Search workers", "gateway").await?;

    // A 10,000-worker namespace opens and filters.
    app.click_button("Open dotdo-bench").await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = app.page_text().await?;
        if page.contains("10000 of 10000 workers") || page.contains("10,000 of 10,000 workers") {
            break;
        }
        if Instant::now() > deadline {
            bail!("the 10,000-worker namespace never showed its count");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    app.fill("Search workers", "bench-worker-09999").await?;
    app.expect_within("table", "Workers", "bench-worker-09999")
        .await?;
    app.screenshot("namespace-10000-filtered").await?;

    // Delete only after typing the name; the dialog states the worker count.
    app.click_button("Open rehearsal-ns").await?;
    let delete = app
        .accessible_names("button")
        .await?
        .into_iter()
        .find(|n| n.starts_with("Delete namespace rehearsal-ns"))
        .context("no delete button for rehearsal-ns")?;
    assert!(
        delete.contains("no workers"),
        "the delete button states the worker count: {delete}"
    );
    app.click_button(&delete).await?;
    app.by_role("dialog", "Delete namespace rehearsal-ns")
        .await?;
    app.fill("Type rehearsal-ns to confirm", "rehearsal-n")
        .await?;
    let confirm = app
        .by_role_within("button", &delete, Some("[role='dialog']"))
        .await?;
    assert!(
        !confirm.is_enabled().await?,
        "confirm is enabled before the name is typed"
    );
    app.fill("Type rehearsal-ns to confirm", "rehearsal-ns")
        .await?;
    app.screenshot("namespace-delete-confirm").await?;
    confirm.click().await?;
    app.wait_for_text("Deleted rehearsal-ns", Duration::from_secs(15))
        .await?;

    // Drift: remove email from staging; production vs staging shows it in production only.
    curl(&[
        "-X",
        "DELETE",
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("{base}/client/v4/accounts/{account}/workers/dispatch/namespaces/dotdo-staging/scripts/email"),
    ])?;
    app.click_button("Compare").await?;
    let page = app
        .wait_for_text("Only in dotdo-production", Duration::from_secs(15))
        .await?;
    let only_left = page
        .split("Only in dotdo-production")
        .nth(1)
        .and_then(|rest| rest.split("Only in dotdo-staging").next())
        .unwrap_or_default();
    assert!(
        only_left.contains("email"),
        "email is not listed as only in production: {only_left:.200}"
    );
    app.screenshot("namespace-drift").await?;

    // A local folder's wrangler.jsonc against the deployed gateway's bindings.
    let folder = app.data_dir.join("platform/workers/gateway");
    std::fs::create_dir_all(&folder)?;
    std::fs::write(
        folder.join("wrangler.jsonc"),
        "{\n  // gateway\n  \"services\": [\n    { \"binding\": \"DB_SERVICE\", \"service\": \"db\" },\n    { \"binding\": \"QUEUE_SERVICE\", \"service\": \"queue\" },\n  ],\n}\n",
    )?;
    app.fill("Service folder", &folder.display().to_string())
        .await?;
    app.click_button("Compare bindings").await?;
    let page = app
        .wait_for_text("bindings differ", Duration::from_secs(15))
        .await?;
    assert!(
        page.contains("QUEUE_SERVICE"),
        "the new binding is not listed"
    );
    assert!(page.contains("Not deployed yet"), "{page:.400}");
    app.screenshot("namespace-bindings-compare").await?;

    // Health: all up; a fault on db turns it red within one interval, then green again.
    app.go_to("Health").await?;
    app.click_button("Check now").await?;
    app.wait_for_text("8/8 services healthy", Duration::from_secs(20))
        .await?;
    app.choose("Check every", "10 seconds").await?;
    curl(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"mode":"error","status":500}"#,
        &format!("{base}/__sandbox/faults/service:db"),
    ])?;
    app.wait_for_text("7/8 services healthy", Duration::from_secs(20))
        .await?;
    app.wait_for_text("db is down", Duration::from_secs(5))
        .await?;
    app.screenshot("health-db-down").await?;
    // The monitor keeps checking in other areas: the recovery is told in Deployments too, and
    // the status bar says so.
    app.go_to("Deployments").await?;
    curl(&["-X", "DELETE", &format!("{base}/__sandbox/faults")])?;
    app.wait_for_text("db is up again", Duration::from_secs(20))
        .await?;
    app.wait_for_text("Health: 8/8 services healthy", Duration::from_secs(5))
        .await?;
    app.screenshot("health-db-recovered-elsewhere").await?;
    Ok(())
}
