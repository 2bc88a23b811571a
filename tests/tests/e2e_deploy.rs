//! End-to-end: deploying and rolling back in the real window (issue 5's "Done when"), against the
//! embedded sandbox and, for the crash, a sandbox process of its own:
//! - a service folder: its tests and build stream live, the plan is shown, production is refused
//!   until the service name is typed, then the outcome says the record was seen and health is ok;
//! - a bundle file with its metadata typed by hand;
//! - a key without `deployments:create`, stored through Settings in the keychain, stops at
//!   preflight with the 403 guidance;
//! - a one-step rollback (reason and name typed) that pins the service;
//! - a restore two versions back to an archived bundle, after which the namespace serves the old
//!   script again (checked with curl against the sandbox's Cloudflare API);
//! - the sandbox killed between plan and confirm: a clear Unreachable error, the history intact.
//!
//! Screenshots go to `target/e2e/deploy-*.png`. Run with `cargo xtask e2e`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use switchyard_tests::{curl, workspace_root, AppSession, ExternalSandbox, NewProfile};
use thirtyfour::prelude::*;

/// Long enough for one deploy: tests, build, upload, the record check and the health probes.
const DEPLOY_WAIT: Duration = Duration::from_secs(60);
/// Anything else the window does.
const SHORT: Duration = Duration::from_secs(15);

const AUTHOR: &str = "ops@example.com";

#[tokio::test]
#[ignore = "end-to-end: needs the built app, a display, node and git; run `cargo xtask e2e`"]
async fn deploys_and_rolls_back_in_the_window() -> Result<()> {
    let work = tempfile::tempdir()?;
    let app = AppSession::start().await?;
    let outcome = deploy_and_roll_back(&app, work.path()).await;
    if outcome.is_err() {
        let _ = app.screenshot("deploy-failure").await;
    }
    // The leak sweep: no key or token in the data folder, the app's stderr or its IPC replies.
    let swept = app.close_after_sweep(&[]).await;
    outcome?;
    swept
}

#[tokio::test]
#[ignore = "end-to-end: needs the built app, a display and a keychain; run `cargo xtask e2e`"]
async fn a_key_without_deploy_permission_stops_at_preflight() -> Result<()> {
    let work = tempfile::tempdir()?;
    let app = AppSession::start().await?;
    let outcome = key_without_permission(&app, work.path()).await;
    if outcome.is_err() {
        let _ = app.screenshot("deploy-403-failure").await;
    }
    // The leak sweep: no key or token in the data folder, the app's stderr or its IPC replies.
    let swept = app.close_after_sweep(&[]).await;
    outcome?;
    swept
}

/// The app embeds its sandbox in-process, and nothing outside the app can stop that one's
/// listener. So this scenario points a second profile at a sandbox running as its own process
/// (the `switchyard-sandbox` binary, a child of this test) and kills it with SIGKILL between
/// "plan" and "confirm": the OS then refuses the connection exactly as for a crashed or
/// unplugged platform, with no fault emulation in between, and the kill is certain and
/// immediate (no timing games with a deploy already in flight).
#[tokio::test]
#[ignore = "end-to-end: needs the built app and sandbox binary, a display and a keychain; run `cargo xtask e2e`"]
async fn the_sandbox_killed_mid_deploy_is_a_clear_error_and_the_history_stays() -> Result<()> {
    let work = tempfile::tempdir()?;
    let mut sandbox = ExternalSandbox::start()?;
    let app = AppSession::start().await?;
    let outcome = sandbox_killed(&app, &mut sandbox, work.path()).await;
    if outcome.is_err() {
        let _ = app.screenshot("deploy-killed-failure").await;
    }
    // The leak sweep: no key or token in the data folder, the app's stderr or its IPC replies.
    let swept = app.close_after_sweep(&[]).await;
    outcome?;
    swept
}

/// Issue 13's "Done when": the platform really runs what is deployed. A broken bundle deployed
/// through the wizard turns Health red with the banner naming that deployment; Logs shows its
/// exception (from the runtime's tail); restoring the previous version turns Health green, and
/// Logs shows the previous version's own lines.
#[tokio::test]
#[ignore = "end-to-end: needs the built app (workerd), a display and a keychain; run `cargo xtask e2e`"]
async fn a_broken_deploy_is_seen_in_health_and_logs_and_a_restore_fixes_it() -> Result<()> {
    let work = tempfile::tempdir()?;
    let app = AppSession::start().await?;
    let outcome = live_platform(&app, work.path()).await;
    if outcome.is_err() {
        let _ = app.screenshot("live-failure").await;
    }
    // The leak sweep: no key or token in the data folder, the app's stderr or its IPC replies.
    let swept = app.close_after_sweep(&[]).await;
    outcome?;
    swept
}

// ---------------------------------------------------------------------------------------------
// Scenarios 1, 2, 4, 5: the embedded sandbox's profile (production: every deploy needs the
// service name typed).

async fn deploy_and_roll_back(app: &AppSession, work: &Path) -> Result<()> {
    let d = app.sandbox_discovery()?;
    let text = |k: &str| d[k].as_str().unwrap_or_default().to_owned();

    deploy_service_folder(app, work).await?;

    // A bundle file, metadata typed by hand.
    let (email, _) = write_bundle(work, "email", "v2.0.0-e2e")?;
    deploy_bundle(app, &email, "email", "v2.0.0-e2e", Some("deploy-bundle")).await?;

    roll_back_one_step(app).await?;

    // Three versions of mcp with different scripts, then restore the first.
    let mut scripts = Vec::new();
    for version in ["v1.0.0", "v2.0.0", "v3.0.0"] {
        let (path, script) = write_bundle(work, "mcp", version)?;
        deploy_bundle(app, &path, "mcp", version, None).await?;
        scripts.push(script);
    }
    let content_url = format!(
        "{}/accounts/{}/workers/dispatch/namespaces/dotdo-production/scripts/mcp/content",
        text("cloudflare_api_url"),
        text("account_id")
    );
    let auth = format!("Authorization: Bearer {}", text("cloudflare_token"));
    let served = curl(&["-H", &auth, &content_url])?;
    assert_eq!(served, scripts[2], "v3 is served before the restore");

    restore_two_versions_back(app).await?;
    let served = curl(&["-H", &auth, &content_url])?;
    assert_eq!(
        served, scripts[0],
        "after restoring v1.0.0 the namespace serves v1.0.0's script"
    );
    Ok(())
}

/// Scenario 1: deploy gateway from a copy of the sample service folder.
async fn deploy_service_folder(app: &AppSession, work: &Path) -> Result<()> {
    let folder = sample_service(work)?;
    app.go_to("Deploy").await?;
    app.fill("Service folder", &folder.display().to_string())
        .await?;
    // The service is taken from the folder's name.
    let service = app.by_role("combobox", "Service").await?;
    assert_eq!(
        service.prop("value").await?.as_deref(),
        Some("gateway"),
        "the service is guessed from workers/gateway"
    );
    app.screenshot("deploy-folder-form").await?;
    app.click_button("Test, build and plan").await?;

    // The tests' output shows while they still run (the fixture's tests pause half-way).
    app.by_role("listitem", "Run the tests: running").await?;
    let output = wait_for_css_text(
        app,
        "[aria-label='Output of Run the tests']",
        "ok 1 - exports a fetch handler",
        SHORT,
    )
    .await?;
    assert!(
        !output.contains("2 tests passed"),
        "the output was not shown before the tests ended: {output}"
    );
    app.screenshot("deploy-folder-tests-running").await?;

    app.by_role("listitem", "Run the tests: done").await?;
    app.by_role("listitem", "Build: done").await?;
    wait_for_css_text(
        app,
        "[aria-label='Output of Build']",
        "built dist/index.js",
        SHORT,
    )
    .await?;
    let plan = app.by_role("table", "Plan: now and after").await?;
    let plan_text = plan.text().await?;
    assert!(plan_text.contains("v1.4.0"), "{plan_text}");
    // Git metadata was read from the folder.
    assert!(plan_text.contains("dana@example.com"), "{plan_text}");
    app.screenshot("deploy-folder-plan").await?;

    // Production: refused until the service name is typed.
    let go = app
        .by_role("button", "Deploy gateway v1.4.0 to production")
        .await?;
    assert!(!go.is_enabled().await?, "enabled before the name is typed");
    app.fill("Type gateway to confirm", "gatewya").await?;
    app.wait_for_text("That is not “gateway”.", SHORT).await?;
    assert!(!go.is_enabled().await?, "enabled with a wrong name");
    app.screenshot("deploy-folder-name-refused").await?;
    app.fill("Type gateway to confirm", "gateway").await?;
    app.wait_enabled(&go, "the deploy button", SHORT).await?;
    app.click(&go).await?;

    let page = app
        .wait_for_text("Deployed gateway v1.4.0 to production", DEPLOY_WAIT)
        .await?;
    assert!(
        page.contains("is the newest record of gateway in production"),
        "the record check is not reported: {page:.2000}"
    );
    assert!(
        page.contains("answered 200"),
        "the health check is not reported: {page:.2000}"
    );
    app.by_role("listitem", "Check the service answers /health: done")
        .await?;
    app.screenshot("deploy-folder-done").await?;

    // The history shows it at once.
    app.go_to("Deployments").await?;
    app.expect_within("table", "Deployments", "v1.4.0").await?;
    Ok(())
}

/// Deploy `path` as `service` `version` to production with the metadata typed by hand; when
/// `shots` is set, screenshots `<shots>-form`, `-plan` and `-done`.
async fn deploy_bundle(
    app: &AppSession,
    path: &Path,
    service: &str,
    version: &str,
    shots: Option<&str>,
) -> Result<()> {
    // A fresh wizard each time: the area is mounted anew.
    app.go_to("Deployments").await?;
    app.go_to("Deploy").await?;
    app.pick_radio("Built bundle file").await?;
    app.fill("Bundle file", &path.display().to_string()).await?;
    app.choose("Service", service).await?;
    app.fill("Version", version).await?;
    app.fill("Commit", &commit_for(service, version)).await?;
    app.fill("Branch", "main").await?;
    app.fill("Author", AUTHOR).await?;
    if let Some(s) = shots {
        app.screenshot(&format!("{s}-form")).await?;
    }
    app.click_button("Check and plan").await?;
    app.expect_within("table", "Plan: now and after", version)
        .await
        .with_context(|| format!("planning {service} {version}"))?;
    app.fill(&format!("Type {service} to confirm"), service)
        .await?;
    if let Some(s) = shots {
        app.screenshot(&format!("{s}-plan")).await?;
    }
    let go = app
        .by_role(
            "button",
            &format!("Deploy {service} {version} to production"),
        )
        .await?;
    app.wait_enabled(&go, "the deploy button", SHORT).await?;
    app.click(&go).await?;
    let page = app
        .wait_for_text(
            &format!("Deployed {service} {version} to production"),
            DEPLOY_WAIT,
        )
        .await
        .with_context(|| format!("deploying {service} {version}"))?;
    assert!(
        page.contains(&format!("is the newest record of {service} in production"))
            && page.contains("answered 200"),
        "{page:.2000}"
    );
    if let Some(s) = shots {
        app.screenshot(&format!("{s}-done")).await?;
    }
    Ok(())
}

/// Scenario 4: the Deploy API's one-step rollback of gateway (just deployed from the folder).
async fn roll_back_one_step(app: &AppSession) -> Result<()> {
    app.go_to("Deploy").await?;
    open_tab(app, "Roll back").await?;
    app.choose("Service", "gateway").await?;
    app.expect_within("table", "Versions", "v1.4.0").await?;
    app.click_button("Roll back one step…").await?;
    app.wait_for_text("Becomes current:", SHORT).await?;
    let go_name =
        button_starting_with(app, "Roll back gateway in production from v1.4.0 to").await?;
    let go = app.by_role("button", &go_name).await?;
    app.fill("Type gateway to confirm", "gateway").await?;
    // The reason is required: the name alone is not enough.
    assert!(!go.is_enabled().await?, "enabled without a reason");
    app.fill("Reason", "v1.4.0 returns 500 on /api/orders")
        .await?;
    app.wait_enabled(&go, "the rollback button", SHORT).await?;
    app.screenshot("deploy-rollback-plan").await?;
    app.click(&go).await?;
    let page = app.wait_for_text("Rollback done", DEPLOY_WAIT).await?;
    assert!(page.contains("Rolled gateway back"), "{page:.2000}");
    // The versions table and the banner show the pin.
    app.wait_for_text("gateway is pinned to v1.2.0", SHORT)
        .await?;
    let row = wait_for_row(app, "Versions", "v1.2.0", SHORT).await?;
    assert!(
        row.contains("current") && row.contains("pinned"),
        "the restored version is not marked current and pinned: {row}"
    );
    app.screenshot("deploy-rollback-pinned").await?;
    Ok(())
}

/// Scenario 5: restore mcp v1.0.0 (two versions back) from the bundle archive.
async fn restore_two_versions_back(app: &AppSession) -> Result<()> {
    app.go_to("Deploy").await?;
    open_tab(app, "Roll back").await?;
    app.choose("Service", "mcp").await?;
    let restore = app.by_role("button", "Restore v1.0.0").await?;
    app.by_role("button", "Restore v2.0.0").await?;
    // The current version cannot be restored, and the table says why.
    app.expect_within("table", "Versions", "It is what is deployed now.")
        .await?;
    app.screenshot("deploy-restore-versions").await?;
    app.click(&restore).await?;
    let plan = app.by_role("table", "Plan: now and after").await?;
    let deadline = Instant::now() + SHORT;
    loop {
        let t = plan.text().await?;
        if t.contains("v3.0.0") && t.contains("v1.0.0") {
            break;
        }
        if Instant::now() > deadline {
            bail!("the restore plan does not show v3.0.0 → v1.0.0: {t}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.fill("Reason", "v2.0.0 and v3.0.0 corrupt the queue")
        .await?;
    app.fill("Type mcp to confirm", "mcp").await?;
    let go = app
        .by_role("button", "Roll mcp in production back to v1.0.0")
        .await?;
    app.wait_enabled(&go, "the restore button", SHORT).await?;
    app.screenshot("deploy-restore-plan").await?;
    app.click(&go).await?;
    let page = app.wait_for_text("Rollback done", DEPLOY_WAIT).await?;
    assert!(page.contains("Restored mcp to v1.0.0"), "{page:.2000}");
    app.wait_for_text("mcp is pinned to", SHORT).await?;
    let row = wait_for_row(app, "Versions", "rollback to", SHORT).await?;
    assert!(
        row.contains("current") && row.contains("pinned"),
        "the restored deployment is not marked current and pinned: {row}"
    );
    app.screenshot("deploy-restore-done").await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Scenario 3: a key without deployments:create.

async fn key_without_permission(app: &AppSession, work: &Path) -> Result<()> {
    let d = app.sandbox_discovery()?;
    let text = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
    // The same sandbox, with its valid key that lacks deployments:create, stored through
    // Settings into the (test session's) keychain.
    app.add_profile(&NewProfile {
        name: "Limited key",
        environment: "staging",
        deploy_api_url: &text("deploy_api_url"),
        auth_url: &text("auth_url"),
        cloudflare_api_url: &text("cloudflare_api_url"),
        account_id: &text("account_id"),
        service_url_template: Some(&text("service_url_template")),
        deploy_api_key: &text("readonly_key"),
    })
    .await?;
    app.switch_profile("Limited key").await?;

    let (bundle, _) = write_bundle(work, "gateway", "v9.0.0-limited")?;
    app.go_to("Deploy").await?;
    app.pick_radio("Built bundle file").await?;
    app.fill("Bundle file", &bundle.display().to_string())
        .await?;
    app.choose("Service", "gateway").await?;
    app.fill("Version", "v9.0.0-limited").await?;
    app.fill("Commit", &commit_for("gateway", "v9.0.0-limited"))
        .await?;
    app.fill("Branch", "main").await?;
    app.fill("Author", AUTHOR).await?;
    app.click_button("Check and plan").await?;

    app.by_role("listitem", "Preflight checks: failed").await?;
    let code = wait_for_error_code(app, SHORT).await?;
    assert_eq!(code, "InsufficientPermissions");
    let page = app.page_text().await?;
    for want in [
        "Preparing the deploy failed: The API key lacks permission for this",
        "deployments:create",
        "\"Insufficient permissions\" (403)",
    ] {
        assert!(
            page.contains(want),
            "the page does not say {want:?}: {page:.3000}"
        );
    }
    // Stopped there: no plan, nothing uploaded.
    assert!(!page.contains("Plan: gateway"), "a plan was shown");
    assert!(
        !page.contains("Upload to the Deploy API"),
        "an upload step was started"
    );
    app.screenshot("deploy-403-preflight").await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Scenario 6: the sandbox killed between plan and confirm.

async fn sandbox_killed(
    app: &AppSession,
    sandbox: &mut ExternalSandbox,
    work: &Path,
) -> Result<()> {
    app.add_profile(&NewProfile {
        name: "Rehearsal platform",
        environment: "staging",
        deploy_api_url: &sandbox.get("deploy_api_url"),
        auth_url: &sandbox.get("auth_url"),
        cloudflare_api_url: &sandbox.get("cloudflare_api_url"),
        account_id: &sandbox.get("account_id"),
        service_url_template: Some(&sandbox.get("service_url_template")),
        deploy_api_key: &sandbox.get("deploy_key"),
    })
    .await?;
    app.switch_profile("Rehearsal platform").await?;

    // The history is cached while the platform is up.
    app.go_to("Deployments").await?;
    app.click_button("Sync history").await?;
    app.wait_for_text("Synced", SHORT).await?;
    let before = deployment_count(&app.page_text().await?)
        .context("the history shows no deployment count after syncing")?;

    let (bundle, _) = write_bundle(work, "gateway", "v7.0.0-doomed")?;
    app.go_to("Deploy").await?;
    app.pick_radio("Built bundle file").await?;
    app.fill("Bundle file", &bundle.display().to_string())
        .await?;
    app.choose("Service", "gateway").await?;
    app.fill("Version", "v7.0.0-doomed").await?;
    app.fill("Commit", &commit_for("gateway", "v7.0.0-doomed"))
        .await?;
    app.fill("Branch", "main").await?;
    app.fill("Author", AUTHOR).await?;
    app.click_button("Check and plan").await?;
    app.expect_within("table", "Plan: now and after", "v7.0.0-doomed")
        .await?;
    // Staging with a normal profile: no confirmation beyond the button.
    let go = app
        .by_role("button", "Deploy gateway v7.0.0-doomed to staging")
        .await?;
    app.wait_enabled(&go, "the deploy button", SHORT).await?;

    sandbox.kill()?;
    app.click(&go).await?;
    let code = wait_for_error_code(app, DEPLOY_WAIT).await?;
    assert_eq!(code, "Unreachable");
    let page = app.page_text().await?;
    assert!(
        page.contains("Deploying failed: A back-end could not be reached"),
        "{page:.3000}"
    );
    assert!(page.contains("cannot connect"), "{page:.3000}");
    // The apply checks the platform again before uploading: it stops there, nothing uploaded.
    app.by_role("listitem", "Preflight checks: failed").await?;
    assert!(
        !page.contains("Upload to the Deploy API"),
        "an upload was started"
    );
    app.screenshot("deploy-killed-unreachable").await?;

    // The cached history is intact and still shown; a new sync says the platform is gone.
    app.go_to("Deployments").await?;
    app.expect_within("table", "Deployments", "gateway").await?;
    let after = deployment_count(&app.wait_for_text("As of", SHORT).await?)
        .context("the history shows no deployment count after the failed deploy")?;
    assert_eq!(before, after, "the cached history changed");
    app.screenshot("deploy-killed-history-intact").await?;
    // A sync now cannot reach the platform: it says so and the cache stays.
    let started = Instant::now();
    app.click_button("Sync history").await?;
    let page = app
        .wait_for_text("could not be synced", Duration::from_secs(60))
        .await?;
    eprintln!("sync against the dead sandbox took {:?}", started.elapsed());
    assert!(page.contains("cannot connect"), "{page:.3000}");
    assert_eq!(deployment_count(&page).as_deref(), Some(before.as_str()));
    app.screenshot("deploy-killed-sync-fails").await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// The fixture's tests, slowed down half-way so the window can be seen streaming them.
const SLOW_TEST: &str = r#"// The sample service's tests (paused half-way, so their output is seen while they run).
import { readFileSync } from "node:fs";
const source = readFileSync(new URL("../src/index.js", import.meta.url), "utf8");
console.log("running 2 tests");
if (!source.includes("export default")) { console.error("no default export"); process.exit(1); }
console.log("  ok 1 - exports a fetch handler");
await new Promise((resolve) => setTimeout(resolve, 3000));
if (!source.includes("/health")) { console.error("no /health route"); process.exit(1); }
console.log("  ok 2 - answers /health");
console.log("2 tests passed");
"#;

/// A copy of the sample service as `workers/gateway` in a fresh git repository (so commit,
/// branch and author come from git, as in the platform's monorepo).
fn sample_service(work: &Path) -> Result<PathBuf> {
    let repo = work.join("platform");
    let folder = repo.join("workers").join("gateway");
    copy_dir(
        &workspace_root().join("crates/switchyard-ops/tests/fixtures/sample-service"),
        &folder,
    )?;
    std::fs::write(folder.join("scripts/test.mjs"), SLOW_TEST)?;
    std::fs::write(repo.join(".gitignore"), "dist/\nnode_modules/\n")?;
    git(&repo, &["init", "-q", "-b", "main"])?;
    // The deploy's author is the operator's `git config user.email`, as the runbook sends it.
    git(&repo, &["config", "user.name", "Dana Operator"])?;
    git(&repo, &["config", "user.email", "dana@example.com"])?;
    git(&repo, &["add", "-A"])?;
    git(&repo, &["commit", "-q", "-m", "gateway: answer /health"])?;
    Ok(folder)
}

fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .context("git")?;
    if !status.success() {
        bail!("git {args:?} failed ({status})");
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// A small ES-module worker for `service` whose text names `version`; its path and text.
fn write_bundle(work: &Path, service: &str, version: &str) -> Result<(PathBuf, String)> {
    let script = format!(
        "// {service} {version}, built by hand for the end-to-end tests\n\
         export default {{\n  async fetch(request) {{\n    const url = new URL(request.url);\n    \
         if (url.pathname === \"/health\") return Response.json({{ status: \"ok\", service: \"{service}\" }});\n    \
         return Response.json({{ service: \"{service}\", version: \"{version}\" }});\n  }},\n}};\n"
    );
    let path = work.join(format!("{service}-{version}.js"));
    std::fs::write(&path, &script)?;
    Ok((path, script))
}

/// A 40-hex commit id made up for a hand-typed deploy.
fn commit_for(service: &str, version: &str) -> String {
    let seed: u64 = format!("{service}{version}")
        .bytes()
        .fold(1469598103934665603, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(1099511628211)
        });
    format!("{seed:016x}{:024x}", seed.rotate_left(17))
}

/// Open the Deploy area's tab `name`.
async fn open_tab(app: &AppSession, name: &str) -> Result<()> {
    let tab = app.by_role("tab", name).await?;
    app.click(&tab).await
}

/// The name of the first visible button whose name starts with `prefix`.
async fn button_starting_with(app: &AppSession, prefix: &str) -> Result<String> {
    let deadline = Instant::now() + SHORT;
    loop {
        let names = app.accessible_names("button").await?;
        if let Some(n) = names.iter().find(|n| n.starts_with(prefix)) {
            return Ok(n.clone());
        }
        if Instant::now() > deadline {
            bail!("no button starting with {prefix:?}; buttons: {names:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Wait until the element matching `css` shows `want`; its text.
async fn wait_for_css_text(
    app: &AppSession,
    css: &str,
    want: &str,
    timeout: Duration,
) -> Result<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let shown = match app.driver.find(By::Css(css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if shown.contains(want) {
            return Ok(shown);
        }
        if Instant::now() > deadline {
            bail!("{css} never showed {want:?}; it shows {shown:?}");
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// The text (all of it, badges included) of the first row of the table named `table` that
/// contains `text`, once there is one.
async fn wait_for_row(
    app: &AppSession,
    table: &str,
    text: &str,
    timeout: Duration,
) -> Result<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let el = app.by_role("table", table).await?;
        let ret = app
            .driver
            .execute(
                "const [t, want] = arguments; const row = Array.from(t.querySelectorAll('tbody tr'))\
                 .find(r => r.textContent.includes(want)); \
                 return row ? Array.from(row.querySelectorAll('td')).map(c => c.textContent).join(' | ') : null;",
                vec![el.to_json()?, serde_json::json!(text)],
            )
            .await?;
        if let Ok(row) = ret.convert::<String>() {
            return Ok(row);
        }
        if Instant::now() > deadline {
            bail!("the table {table:?} has no row with {text:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The error code of the error notice on the page, once one is shown.
async fn wait_for_error_code(app: &AppSession, timeout: Duration) -> Result<String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(el) = app
            .driver
            .find(By::Css("[role='alert'][data-error-code]"))
            .await
        {
            if let Some(code) = el.attr("data-error-code").await? {
                return Ok(code);
            }
        }
        if Instant::now() > deadline {
            bail!("no error was shown within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// "12 deployments" from the history's page text.
fn deployment_count(page: &str) -> Option<String> {
    page.lines()
        .map(str::trim)
        .find(|l| {
            l.chars().next().is_some_and(|c| c.is_ascii_digit())
                && (l.ends_with(" deployments")
                    || l.ends_with(" deployment")
                    || l.contains(" deployments ("))
        })
        .map(str::to_owned)
}

// ---------------------------------------------------------------------------------------------
// Scenario 6 (issue 13): a broken deploy, seen in Health and in Logs, fixed by a restore.

/// A gateway bundle that logs each request with its version; `broken`: its /health reads a
/// binding it does not have and throws a TypeError in the runtime.
fn write_live_bundle(work: &Path, version: &str, broken: bool) -> Result<PathBuf> {
    let health = if broken {
        "const row = await env.DATABASE.prepare(\"SELECT 1\").first();\n      return Response.json({ status: \"ok\", row });"
    } else {
        "return Response.json({ status: \"ok\", service: \"gateway\" });"
    };
    let script = format!(
        "// gateway {version}, built by hand for the end-to-end tests\n\
         export default {{\n  async fetch(request, env) {{\n    const url = new URL(request.url);\n    \
         console.log(\"gateway {version} served\", url.pathname);\n    \
         if (url.pathname === \"/health\") {{\n      {health}\n    }}\n    \
         return Response.json({{ service: \"gateway\", version: \"{version}\" }});\n  }},\n}};\n"
    );
    let path = work.join(format!("gateway-{version}.js"));
    std::fs::write(&path, script)?;
    Ok(path)
}

/// Requests to gateway's /health, as traffic would (the tail shows each).
fn hit_gateway(d: &serde_json::Value, times: usize) -> Result<()> {
    let url = format!(
        "{}/health",
        d["service_url_template"]
            .as_str()
            .unwrap_or_default()
            .replace("{environment}", "production")
            .replace("{service}", "gateway")
    );
    for _ in 0..times {
        let _ = Command::new("curl")
            .args(["-s", "-o", "/dev/null", &url])
            .status()?;
    }
    Ok(())
}

async fn live_platform(app: &AppSession, work: &Path) -> Result<()> {
    let d = app.sandbox_discovery()?;
    // A good release first: archived, so it can be restored.
    let good = write_live_bundle(work, "v5.0.0-good", false)?;
    deploy_bundle(app, &good, "gateway", "v5.0.0-good", None).await?;

    // The broken one: deployed and recorded, but its health check fails.
    let bad = write_live_bundle(work, "v5.0.1-bad", true)?;
    app.go_to("Deployments").await?;
    app.go_to("Deploy").await?;
    app.pick_radio("Built bundle file").await?;
    app.fill("Bundle file", &bad.display().to_string()).await?;
    app.choose("Service", "gateway").await?;
    app.fill("Version", "v5.0.1-bad").await?;
    app.fill("Commit", &commit_for("gateway", "v5.0.1-bad"))
        .await?;
    app.fill("Branch", "main").await?;
    app.fill("Author", AUTHOR).await?;
    app.click_button("Check and plan").await?;
    app.expect_within("table", "Plan: now and after", "v5.0.1-bad")
        .await?;
    app.fill("Type gateway to confirm", "gateway").await?;
    let go = app
        .by_role("button", "Deploy gateway v5.0.1-bad to production")
        .await?;
    app.wait_enabled(&go, "the deploy button", SHORT).await?;
    app.click(&go).await?;
    app.wait_for_text("but verification failed", DEPLOY_WAIT)
        .await
        .context("the broken deploy is reported as failing verification")?;
    app.screenshot("live-1-broken-deployed").await?;

    // Health: red, and the banner names the deployment that came just before.
    app.go_to("Health").await?;
    app.click_button("Check now").await?;
    let commit = commit_for("gateway", "v5.0.1-bad");
    let banner = format!("after v5.0.1-bad (commit {}, by {AUTHOR})", &commit[..7]);
    let page = app.wait_for_text(&banner, SHORT).await?;
    ensure_contains(&page, "gateway failing since")?;
    app.screenshot("live-2-health-red").await?;

    // Logs: the runtime's own exception for the requests that fail.
    app.click_button("Logs for gateway").await?;
    app.expect_heading("Logs").await?;
    app.wait_for_text("Connected", SHORT).await?;
    hit_gateway(&d, 3)?;
    app.wait_for_text(
        "Cannot read properties of undefined (reading 'prepare')",
        SHORT,
    )
    .await
    .context("the exception reaches the Logs area")?;
    ensure_contains(&app.page_text().await?, "gateway v5.0.1-bad served")?;
    app.screenshot("live-3-logs-exception").await?;

    // Roll back: restore the archived good release (the Deploy API's one-step rollback only
    // marks, as the plan says).
    app.go_to("Deploy").await?;
    open_tab(app, "Roll back").await?;
    app.choose("Service", "gateway").await?;
    let restore = app.by_role("button", "Restore v5.0.0-good").await?;
    app.click(&restore).await?;
    app.by_role("table", "Plan: now and after").await?;
    app.fill("Reason", "v5.0.1-bad throws on /health").await?;
    app.fill("Type gateway to confirm", "gateway").await?;
    let go = app
        .by_role("button", "Roll gateway in production back to v5.0.0-good")
        .await?;
    app.wait_enabled(&go, "the restore button", SHORT).await?;
    app.click(&go).await?;
    let page = app.wait_for_text("Rollback done", DEPLOY_WAIT).await?;
    ensure_contains(&page, "Restored gateway to v5.0.0-good")?;

    // Health green again: no banner.
    app.go_to("Health").await?;
    app.click_button("Check now").await?;
    let deadline = Instant::now() + SHORT;
    loop {
        let page = app.page_text().await?;
        if !page.contains("gateway failing since") && page.contains("8/8 services healthy") {
            break;
        }
        if Instant::now() > deadline {
            bail!("Health is not green after the restore: {page:.3000}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    app.screenshot("live-4-health-green").await?;

    // Logs: the previous version's own lines.
    app.click_button("Logs for gateway").await?;
    app.wait_for_text("Connected", SHORT).await?;
    hit_gateway(&d, 2)?;
    app.wait_for_text("gateway v5.0.0-good served", SHORT)
        .await
        .context("the restored version's lines reach the Logs area")?;
    app.screenshot("live-5-logs-good").await?;
    Ok(())
}

fn ensure_contains(page: &str, needle: &str) -> Result<()> {
    if page.contains(needle) {
        Ok(())
    } else {
        bail!("the window does not say {needle:?}: {page:.3000}")
    }
}
