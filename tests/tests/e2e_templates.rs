//! End-to-end: a new service from the "integration" template, made in the window, built with its
//! own scripts (its dependencies installed from the npm registry, as its next steps say), deployed
//! to the Local sandbox, where workerd runs it and it answers `/health`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use switchyard_tests::{curl, AppSession};

const SHORT: Duration = Duration::from_secs(20);
/// Tests, build (wrangler bundles it) and the deploy's verification.
const BUILD_AND_DEPLOY: Duration = Duration::from_secs(240);

#[tokio::test]
#[ignore = "end-to-end: needs the built app, a display and the npm registry; run `cargo xtask e2e`"]
async fn a_new_integration_service_builds_deploys_and_answers_health() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let work = tempfile::tempdir()?;
    let app = AppSession::start_in(dir.path()).await?;
    let outcome = scenario(&app, work.path()).await;
    if outcome.is_err() {
        let _ = app.screenshot("template-failure").await;
    }
    let swept = app.close_after_sweep(&[]).await;
    outcome?;
    swept
}

async fn scenario(app: &AppSession, work: &Path) -> Result<()> {
    let repo = work.join("platform");
    let folder = repo.join("workers").join("webhooks");
    std::fs::create_dir_all(repo.join("workers"))?;

    app.go_to("Deploy").await?;
    app.click_button("New service from a template…").await?;
    app.by_role("dialog", "New service from a template").await?;
    app.pick_radio("Integration service").await?;
    // webhooks: an integration service the platform's dispatcher routes.
    app.fill("Service name", "webhooks").await?;
    app.fill("Folder", &folder.display().to_string()).await?;
    app.screenshot("template-1-form").await?;
    app.click_button("Create service").await?;
    app.wait_for_text(&format!("Created webhooks in {}", folder.display()), SHORT)
        .await?;
    app.screenshot("template-2-created").await?;
    for file in [
        "src/index.ts",
        "wrangler.jsonc",
        "package.json",
        "tests/health.test.ts",
    ] {
        ensure!(
            folder.join(file).is_file(),
            "the template did not write {file}"
        );
    }

    // What its next steps ask of the operator: the dependencies, once, with the network; and the
    // monorepo's git (the deploy's commit, branch and author come from it).
    install_dependencies(&folder)?;
    std::fs::write(
        repo.join(".gitignore"),
        "dist/\nnode_modules/\n.wrangler/\n",
    )?;
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["config", "user.name", "Dana Operator"],
        &["config", "user.email", "dana@example.com"],
        &["add", "-A"],
        &["commit", "-q", "-m", "webhooks: new integration service"],
    ] {
        run(Command::new("git").arg("-C").arg(&repo).args(args))?;
    }

    app.click_button("Deploy it").await?;
    app.click_button("Test, build and plan").await?;
    let deadline = Instant::now() + BUILD_AND_DEPLOY;
    let go = loop {
        if let Ok(go) = app
            .by_role("button", "Deploy webhooks v0.1.0 to production")
            .await
        {
            break go;
        }
        ensure!(Instant::now() < deadline, "no plan after the build");
    };
    app.screenshot("template-3-plan").await?;
    app.fill("Type webhooks to confirm", "webhooks").await?;
    app.wait_enabled(&go, "the deploy button", SHORT).await?;
    app.click(&go).await?;
    let page = app
        .wait_for_text("Deployed webhooks v0.1.0 to production", BUILD_AND_DEPLOY)
        .await?;
    ensure!(
        page.contains("answered 200"),
        "the health check is not reported: {page:.2000}"
    );
    app.screenshot("template-4-deployed").await?;

    // The platform runs it: its /health answers through the dispatcher.
    let base = app.sandbox_discovery()?["base_url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let health = curl(&[&format!("{base}/services/production/webhooks/health")])?;
    ensure!(
        health.contains("webhooks"),
        "webhooks' /health answered {health:.300}"
    );

    // A binding added in the Bindings form: in wrangler.jsonc with the file's comments intact,
    // and in the deployed worker's bindings after the redeploy the form offers.
    let config = folder.join("wrangler.jsonc");
    let before = std::fs::read_to_string(&config)?;
    let comments: Vec<&str> = before
        .lines()
        .filter(|l| l.trim_start().starts_with("//"))
        .collect();
    ensure!(
        !comments.is_empty(),
        "the template's wrangler.jsonc has no comment to keep"
    );
    app.go_to("Deployments").await?;
    app.go_to("Deploy").await?;
    let tab = app.by_role("tab", "Bindings").await?;
    app.click(&tab).await?;
    app.fill("Service folder", &folder.display().to_string())
        .await?;
    app.click_button("Read bindings").await?;
    app.by_role("table", "Service bindings").await?;
    // The new row, once it is there: an unnamed row is labelled by its place ("binding 3").
    // (Names read at once after the click may still be the old rows': a CI run once ended with
    // the template's first binding renamed instead.)
    let named = app
        .accessible_names("textbox")
        .await?
        .iter()
        .filter(|n| n.starts_with("Name of "))
        .count();
    app.click_button("Add a binding").await?;
    let name_field = format!("Name of binding {}", named + 1);
    app.by_role("textbox", &name_field)
        .await
        .context("no row for the new binding")?;
    app.fill(&name_field, "AUTH_SERVICE").await?;
    app.fill("Service of AUTH_SERVICE", "auth").await?;
    app.click_button("Review changes").await?;
    app.by_role("region", "File changes, line by line").await?;
    app.screenshot("template-5-binding-reviewed").await?;
    app.click_button("Save to wrangler.jsonc").await?;
    app.by_role("button", "Open the redeploy").await?;
    let after = std::fs::read_to_string(&config)?;
    ensure!(
        after.contains(r#""binding": "AUTH_SERVICE""#) && after.contains(r#""service": "auth""#),
        "the binding is not in wrangler.jsonc:\n{after}"
    );
    for comment in &comments {
        ensure!(
            after.contains(comment),
            "the comment {comment:?} was lost:\n{after}"
        );
    }
    let index = std::fs::read_to_string(folder.join("src/index.ts"))?;
    ensure!(
        index.contains("AUTH_SERVICE: Fetcher"),
        "the template's Env interface was not updated"
    );
    app.screenshot("template-6-binding-saved").await?;

    app.click_button("Open the redeploy").await?;
    app.click_button("Test, build and plan").await?;
    let deadline = Instant::now() + BUILD_AND_DEPLOY;
    let go = loop {
        if let Ok(go) = app
            .by_role("button", "Deploy webhooks v0.1.0 to production")
            .await
        {
            break go;
        }
        ensure!(Instant::now() < deadline, "no plan for the redeploy");
    };
    app.fill("Type webhooks to confirm", "webhooks").await?;
    app.wait_enabled(&go, "the deploy button", SHORT).await?;
    app.click(&go).await?;
    app.wait_for_text("Deployed webhooks v0.1.0 to production", BUILD_AND_DEPLOY)
        .await?;
    let sandbox = app.sandbox_discovery()?;
    let token = sandbox["cloudflare_token"].as_str().unwrap_or_default();
    let account = sandbox["account_id"].as_str().unwrap_or_default();
    let settings = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("{base}/client/v4/accounts/{account}/workers/dispatch/namespaces/dotdo-production/scripts/webhooks/settings"),
    ])?;
    let settings: serde_json::Value = serde_json::from_str(&settings)?;
    let bound = settings["result"]["bindings"]
        .as_array()
        .context("the deployed worker's settings have no bindings")?
        .iter()
        .any(|b| b["name"] == "AUTH_SERVICE" && b["service"] == "auth");
    ensure!(
        bound,
        "AUTH_SERVICE is not among the deployed bindings: {settings}"
    );
    app.screenshot("template-7-redeployed").await?;
    Ok(())
}

/// `npm install` in the new service's folder, from the registry (bounded).
fn install_dependencies(folder: &Path) -> Result<()> {
    let mut child = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(folder)
        .spawn()
        .context("npm")?;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Some(status) = child.try_wait()? {
            ensure!(status.success(), "npm install failed ({status})");
            return Ok(());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("npm install did not finish in 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.env("GIT_CONFIG_NOSYSTEM", "1").status()?;
    ensure!(status.success(), "{cmd:?} failed ({status})");
    Ok(())
}
