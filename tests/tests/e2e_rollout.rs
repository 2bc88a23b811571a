//! End-to-end (issue 17's and 18's "Done when"), in the real window against the embedded
//! sandbox, whose dispatcher runs each version in workerd and splits traffic between them:
//! - Ctrl-K → "roll back gateway" opens the rollback plan, and nothing is rolled back;
//! - promote staging → production, with the code diff first on the plan;
//! - a staged rollout of a good version: tested with pinned requests at 0 %, then 10 → 50 →
//!   100 % with its gates passing;
//! - a staged rollout of a version failing 30 % of its requests: rolled back by itself at the
//!   first gate, the error rate and the reason on screen and in the incident timeline.
//!
//! Screenshots go to `target/e2e/rollout-*.png`. Run with `cargo xtask e2e`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use switchyard_tests::AppSession;
use thirtyfour::prelude::*;

const SHORT: Duration = Duration::from_secs(15);
/// A deploy through the Deploy API: upload, the record check and the health probes.
const DEPLOY_WAIT: Duration = Duration::from_secs(60);
/// A whole rollout: three steps of a few seconds each, with their gates.
const ROLLOUT_WAIT: Duration = Duration::from_secs(90);

const STAGING_BUILD: &str = r#"// gateway, built for staging
export default {
  async fetch(request) {
    if (new URL(request.url).pathname.endsWith("/health")) return Response.json({ status: "ok", build: "staging" });
    return new Response("gateway staging build");
  }
};
"#;

const GOOD: &str = r#"// gateway v2, good
export default {
  async fetch(request) {
    if (new URL(request.url).pathname.endsWith("/health")) return Response.json({ status: "ok" });
    return new Response("v2 good");
  }
};
"#;

/// Fails the 1st, 2nd, 11th, 12th… request: 30 % of them.
const FLAKY: &str = r#"// gateway v3, flaky
let n = 0;
export default {
  async fetch(request) {
    if (new URL(request.url).pathname.endsWith("/health")) return Response.json({ status: "ok" });
    n += 1;
    if (n % 10 > 0 && n % 10 < 3) throw new Error("flaky request " + n);
    return new Response("v3 flaky");
  }
};
"#;

#[tokio::test]
#[ignore = "end-to-end: needs the built app (workerd), a display and a keychain; run `cargo xtask e2e`"]
async fn palette_promote_and_staged_rollouts_in_the_window() -> Result<()> {
    let work = tempfile::tempdir()?;
    let app = AppSession::start().await?;
    let outcome = scenario(&app, work.path()).await;
    if outcome.is_err() {
        let _ = app.screenshot("rollout-failure").await;
    }
    let swept = app.close_after_sweep(&[]).await;
    outcome?;
    swept
}

async fn scenario(app: &AppSession, work: &Path) -> Result<()> {
    app.record_ipc().await?;
    palette_opens_the_rollback_plan(app)
        .await
        .context("the palette")?;
    promote_with_the_diff(app, work).await.context("promote")?;
    good_rollout(app, work).await.context("a good rollout")?;
    flaky_rollout(app, work).await.context("a flaky rollout")?;
    Ok(())
}

/// Ctrl-K, "roll back gateway", Enter: the Deploy area's rollback plan for gateway, nothing run.
async fn palette_opens_the_rollback_plan(app: &AppSession) -> Result<()> {
    app.go_to("Deployments").await?;
    app.chord(&[Key::Control], "k").await?;
    let search = app
        .by_role("combobox|textbox|searchbox", "Search commands")
        .await?;
    search.send_keys("roll back gateway").await?;
    app.expect_text("option", "Roll back gateway").await?;
    app.screenshot("rollout-palette").await?;
    search.send_keys(Key::Enter).await?;
    app.wait_for_text("Becomes current:", SHORT)
        .await
        .context("the rollback plan did not open")?;
    app.screenshot("rollout-palette-plan").await?;
    let log = app.ipc_log().await?;
    assert!(
        !log.iter().any(|c| c
            .split(' ')
            .next()
            .is_some_and(|url| url.ends_with("/rollback"))),
        "the palette rolled back: {log:?}"
    );
    Ok(())
}

async fn open_tab(app: &AppSession, name: &str) -> Result<()> {
    let tab = app.by_role("tab", name).await?;
    app.click(&tab).await
}

/// A bundle deployed to staging through the wizard, then promoted to production: the plan opens
/// on the code diff against what production runs.
async fn promote_with_the_diff(app: &AppSession, work: &Path) -> Result<()> {
    let bundle = work.join("gateway-staging.mjs");
    std::fs::write(&bundle, STAGING_BUILD)?;
    app.go_to("Deployments").await?;
    app.go_to("Deploy").await?;
    app.pick_radio("Built bundle file").await?;
    app.fill("Bundle file", &bundle.display().to_string())
        .await?;
    app.choose("Service", "gateway").await?;
    app.choose("Environment", "staging").await?;
    app.fill("Version", "v9.0.0").await?;
    app.fill("Commit", "9999999aaaaaaa1111111bbbbbbb2222222ccccc")
        .await?;
    app.fill("Branch", "main").await?;
    app.fill("Author", "ops@example.com").await?;
    app.click_button("Check and plan").await?;
    app.expect_within("table", "Plan: now and after", "v9.0.0")
        .await?;
    app.expect_within("group", "Code changes", "gateway, built for staging")
        .await
        .context("the deploy plan's code diff")?;
    let go = app
        .by_role("button", "Deploy gateway v9.0.0 to staging")
        .await?;
    app.wait_enabled(&go, "the deploy button", SHORT).await?;
    app.click(&go).await?;
    app.wait_for_text("Deployed gateway v9.0.0 to staging", DEPLOY_WAIT)
        .await?;

    app.go_to("Deployments").await?;
    app.go_to("Deploy").await?;
    open_tab(app, "Promote").await?;
    app.choose("Service", "gateway").await?;
    app.expect_within("group", "Code changes", "gateway, built for staging")
        .await
        .context("the promote plan's code diff")?;
    let page = app.page_text().await?;
    assert!(
        page.contains("lines added") || page.contains("line added"),
        "the diff counts no added line: {page:.3000}"
    );
    app.screenshot("rollout-promote-plan").await?;
    app.fill("Type gateway to confirm", "gateway").await?;
    let go = app
        .by_role("button", "Promote gateway from staging to production")
        .await?;
    app.wait_enabled(&go, "the promote button", SHORT).await?;
    app.click(&go).await?;
    app.wait_for_text("Promoted gateway to production", DEPLOY_WAIT)
        .await?;
    app.screenshot("rollout-promote-done").await?;
    Ok(())
}

/// Fill the staged-rollout form for `bundle` and plan it; confirm with the service's name.
async fn plan_and_start(app: &AppSession, bundle: &Path) -> Result<()> {
    app.go_to("Deployments").await?;
    app.go_to("Deploy").await?;
    open_tab(app, "Staged rollout").await?;
    app.choose("Service", "gateway").await?;
    app.choose("Environment", "production").await?;
    app.fill("Bundle file", &bundle.display().to_string())
        .await?;
    app.fill("Steps (%)", "10, 50, 100").await?;
    app.fill("Dwell per step (s)", "3").await?;
    app.fill("Max error rate (%)", "5").await?;
    app.fill("Requests needed to judge", "3").await?;
    app.fill("Probe requests per second", "40").await?;
    app.click_button("Plan the rollout").await?;
    app.expect_within("region", "Rollout plan and confirmation", "Stable version")
        .await?;
    app.expect_within("group", "Code changes", "SHA-256")
        .await?;
    app.fill("Type gateway to confirm", "gateway").await?;
    let go = app
        .by_role(
            "button",
            "Roll out gateway in production in steps (10 % → 50 % → 100 %)",
        )
        .await?;
    app.wait_enabled(&go, "the rollout button", SHORT).await?;
    app.screenshot(&format!(
        "rollout-plan-{}",
        bundle.file_stem().unwrap_or_default().to_string_lossy()
    ))
    .await?;
    app.click(&go).await?;
    wait_for_status(app, "At 0 %: test it, then begin", SHORT).await?;
    Ok(())
}

/// Wait until the rollout's status badge says `want`.
async fn wait_for_status(app: &AppSession, want: &str, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let names = app.accessible_names("status").await?;
        if names.iter().any(|n| n.contains(want)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("no status {want:?}; statuses: {names:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn good_rollout(app: &AppSession, work: &Path) -> Result<()> {
    let bundle = work.join("good.mjs");
    std::fs::write(&bundle, GOOD)?;
    plan_and_start(app, &bundle).await?;
    app.click_button("Test this version").await?;
    app.expect_within("table", "Answers of the new version", "v2 good")
        .await
        .context("pinned requests did not reach the new version")?;
    app.screenshot("rollout-good-tested").await?;
    app.click_button("Begin: 10 %").await?;
    wait_for_status(app, "Stepping", SHORT).await?;
    app.screenshot("rollout-good-stepping").await?;
    wait_for_status(app, "Completed", ROLLOUT_WAIT).await?;
    let page = app.page_text().await?;
    assert!(
        page.contains("All traffic is on the new version"),
        "{page:.3000}"
    );
    app.screenshot("rollout-good-done").await?;
    Ok(())
}

async fn flaky_rollout(app: &AppSession, work: &Path) -> Result<()> {
    let bundle = work.join("flaky.mjs");
    std::fs::write(&bundle, FLAKY)?;
    plan_and_start(app, &bundle).await?;
    app.click_button("Begin: 10 %").await?;
    wait_for_status(app, "Rolled back automatically", ROLLOUT_WAIT).await?;
    let page = app.page_text().await?;
    assert!(
        page.contains("error rate") && page.contains("at 10 %"),
        "the reason is not on screen: {page:.3000}"
    );
    app.screenshot("rollout-flaky-rolled-back").await?;

    // The incident timeline has the failed gate and the rollback.
    app.go_to("Audit").await?;
    open_tab(app, "Timeline").await?;
    let deadline = Instant::now() + SHORT;
    loop {
        let page = app.page_text().await?;
        if page.contains("rollout.gate") && page.contains("rollout.rollback") {
            break;
        }
        if Instant::now() > deadline {
            bail!("the timeline lacks the gate and the rollback: {page:.4000}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    app.screenshot("rollout-timeline").await?;
    Ok(())
}
