//! End-to-end: the emergency runbooks rehearsed in the real window against the embedded sandbox
//! (whose profile is production: every change needs the service's name typed).
//!
//! 1. "Service down – immediate rollback": a bad deploy of gateway injected from the Rehearsal
//!    panel; identify (fails: gateway down), rollback (refused until "gateway" is typed), verify
//!    gate green, the redeploy skipped by its condition, note and checks, finish, incident report.
//! 2. "Deploy API down": a gateway bundle deployed (so it is archived), the Deploy API broken,
//!    the runbook followed to its direct-to-namespace upload, recorded as a manual deployment.
//! 3. The app killed (SIGKILL) in the middle of that run and of a second run whose `command` step
//!    is still running; started again on the same data folder, both runs resume: completed steps
//!    keep their state, the running step comes back "interrupted" with its output and a Retry.
//!
//! Run with `cargo xtask e2e`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use serde_json::json;
use switchyard_tests::AppSession;

const SHORT: Duration = Duration::from_secs(15);
/// A deploy through the Deploy area, or a direct upload: tests, upload, record and health checks.
const DEPLOY_WAIT: Duration = Duration::from_secs(60);
const AUTHOR: &str = "oncall@example.com";

const SERVICE_DOWN: &str = "Service down – immediate rollback";
const DEPLOY_API_DOWN: &str = "Deploy API down";
const SLOW: &str = "Slow diagnostics";

#[tokio::test]
#[ignore = "end-to-end: needs the built app and a display; run `cargo xtask e2e`"]
async fn service_down_rehearsal_rolls_back_and_reports() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let app = start(dir.path()).await?;
    let outcome = service_down(&app).await;
    if outcome.is_err() {
        let _ = app.screenshot("runbook-service-down-failure").await;
    }
    // The leak sweep: no key or token in the data folder, the app's stderr or its IPC replies.
    let swept = app.close_after_sweep(&[]).await;
    outcome?;
    swept
}

#[tokio::test]
#[ignore = "end-to-end: needs the built app and a display; run `cargo xtask e2e`"]
async fn deploy_api_down_rehearsal_then_a_crash_and_resume() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let work = tempfile::tempdir()?;
    write_slow_runbook(dir.path(), work.path())?;
    let app = start(dir.path()).await?;
    let outcome = deploy_api_down(&app, work.path()).await;
    if let Err(e) = outcome {
        let _ = app.screenshot("runbook-deploy-api-down-failure").await;
        let _ = app.close().await;
        return Err(e);
    }
    // The app dies with one run between steps and another one's command still running.
    app.kill_app()?;
    let app = start(dir.path()).await?;
    let outcome = resume_after_crash(&app).await;
    if outcome.is_err() {
        let _ = app.screenshot("runbook-resume-failure").await;
    }
    // The leak sweep: no key or token in the data folder, the app's stderr or its IPC replies.
    let swept = app.close_after_sweep(&[]).await;
    outcome?;
    swept
}

#[tokio::test]
#[ignore = "end-to-end: needs the built app and a display; run `cargo xtask e2e`"]
async fn database_rehearsal_reaches_its_escalation_and_ends_escalated() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let app = start(dir.path()).await?;
    let outcome = database_escalation(&app).await;
    if outcome.is_err() {
        let _ = app.screenshot("runbook-database-failure").await;
    }
    // The leak sweep: no key or token in the data folder, the app's stderr or its IPC replies.
    let swept = app.close_after_sweep(&[]).await;
    outcome?;
    swept
}

#[tokio::test]
#[ignore = "end-to-end: needs the built app and a display; run `cargo xtask e2e`"]
async fn deploy_api_down_ships_a_changed_bundle_straight_to_the_namespace() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let work = tempfile::tempdir()?;
    let app = start(dir.path()).await?;
    let outcome = direct_new_code(&app, work.path()).await;
    if outcome.is_err() {
        let _ = app.screenshot("runbook-direct-new-code-failure").await;
    }
    // The leak sweep: no key or token in the data folder, the app's stderr or its IPC replies.
    let swept = app.close_after_sweep(&[]).await;
    outcome?;
    swept
}

// ---------------------------------------------------------------------------------------------
// Scenario 1

async fn service_down(app: &AppSession) -> Result<()> {
    app.go_to("Runbooks").await?;
    start_rehearsal(app, SERVICE_DOWN, "gateway").await?;
    step_state(app, 1, "to do").await?;
    // The steps after the gate are locked; the rollback waits for the first check.
    app.screenshot("runbook-service-down-1-started").await?;
    // The fault, recorded on the open run's timeline.
    inject_fault(app, "badDeploy", Some("gateway"), "gateway").await?;
    app.wait_for_text("Faults are recorded on the timeline of the open run", SHORT)
        .await?;
    app.screenshot("runbook-service-down-2-fault").await?;

    // Identify: gateway is down, as the alert said.
    click_in_step(app, 1, "Run").await?;
    step_state(app, 1, "failed").await?;
    let output = step_output(app, 1, "Identify the affected service").await?;
    ensure!(
        output.contains("gateway") && output.contains("DOWN"),
        "the health check does not show gateway down: {output}"
    );
    app.screenshot("runbook-service-down-3-identify-failed")
        .await?;

    // The rollback changes production: refused until the service's name is typed exactly.
    click_in_step(app, 2, "Run").await?;
    app.by_role("region", "Plan of this step").await?;
    let go = plan_button(app).await?;
    ensure!(
        !go.is_enabled().await?,
        "the rollback is allowed with nothing typed"
    );
    app.fill("Type gateway to confirm", "gatewya").await?;
    app.wait_for_text("That is not “gateway”.", SHORT).await?;
    ensure!(
        !go.is_enabled().await?,
        "the rollback is allowed with a typo"
    );
    app.screenshot("runbook-service-down-4-rollback-refused")
        .await?;
    app.fill("Type gateway to confirm", "gateway").await?;
    app.wait_enabled(&go, "the rollback button", SHORT).await?;
    app.click(&go).await?;
    step_state_within(app, 2, "passed", DEPLOY_WAIT).await?;
    app.screenshot("runbook-service-down-5-rolled-back").await?;
    // The rollback ended the bad deploy: the sandbox lifted the fault.
    let tab = app.by_role("tab", "Rehearsal").await?;
    app.click(&tab).await?;
    app.expect_within("region", "Active faults", "None: the sandbox is healthy.")
        .await?;
    let tab = app.by_role("tab", "Runs · 1 open").await?;
    app.click(&tab).await?;

    // Verify (a gate): green; the redeploy is skipped by its condition.
    click_in_step(app, 3, "Run").await?;
    step_state(app, 3, "passed").await?;
    step_state(app, 4, "skipped").await?;
    let output = step_output(app, 3, "Verify the service is restored").await?;
    ensure!(
        output.contains("gateway") && !output.contains("DOWN"),
        "gateway is not healthy after the rollback: {output}"
    );
    app.screenshot("runbook-service-down-6-verified").await?;

    // Notify: a note. Investigate: two checks.
    app.fill(
        "Where did you post, and what did you say?",
        "Posted in #incidents: gateway rolled back",
    )
    .await?;
    click_in_step(app, 5, "Save note").await?;
    step_state(app, 5, "passed").await?;
    tick(app, "Logs of the failing deployment read").await?;
    step_state(app, 6, "to do").await?;
    tick(app, "Cause written down as a note in this run").await?;
    step_state(app, 6, "passed").await?;
    app.click_button("Add note to the run").await?;
    app.fill(
        "Note on this run",
        "Root cause: a bad config in the deploy.",
    )
    .await?;
    app.click_button("Save note").await?;
    app.wait_for_text("Root cause: a bad config in the deploy.", SHORT)
        .await?;

    app.click_button("Finish run").await?;
    app.wait_for_text("Run finished", SHORT).await?;
    let report = report_text(app).await?;
    for needle in [
        "Incident report: Service down – immediate rollback",
        "REHEARSAL",
        "Local sandbox (production)",
        "Timeline (UTC)",
        "Rehearsal fault injected: gateway runs a broken release (v1.2.0-broken, deployed by the rehearsal)",
        "1. Identify the affected service — failed",
        "failed: 1 down: gateway",
        "2. Roll back immediately — passed",
        "rollback service=gateway environment=production",
        "3. Verify the service is restored — passed",
        "4. Still down: redeploy an archived version — skipped (not needed)",
        "5. Notify the team — passed",
        "6. Investigate the root cause — passed",
        "Posted in #incidents: gateway rolled back",
        "Logs of the failing deployment read — 20",
        "Cause written down as a note in this run — 20",
        "Root cause: a bad config in the deploy.",
    ] {
        ensure!(
            report.contains(needle),
            "the report lacks {needle:?}:\n{report}"
        );
    }
    // Every step has its times: when it ended (and when it started, for the actions).
    let started = report.matches("Started 20").count();
    let ended = report.matches("Ended 20").count();
    ensure!(
        started >= 4 && ended >= 6,
        "the report does not time every step ({started} started, {ended} ended):\n{report}"
    );
    reveal(app, "[aria-label='Incident report preview']").await?;
    app.screenshot("runbook-service-down-7-report").await?;
    app.click_button("Copy incident report").await?;
    // The clipboard may be refused in a headless session; the button says so when it worked.
    let _ = app.by_role("button", "Copied").await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Scenario 2 (and the first half of 3)

async fn deploy_api_down(app: &AppSession, work: &Path) -> Result<()> {
    // An archived bundle of gateway: deployed through the app.
    let bundle = work.join("gateway-v3.0.0-rb.js");
    std::fs::write(
        &bundle,
        "export default {\n  async fetch(request) {\n    return Response.json({ status: \"ok\", service: \"gateway\", version: \"v3.0.0-rb\" });\n  },\n};\n",
    )?;
    deploy_bundle(app, &bundle, "gateway", "v3.0.0-rb").await?;

    app.go_to("Runbooks").await?;
    start_rehearsal(app, DEPLOY_API_DOWN, "gateway").await?;
    inject_fault(app, "deployApiDown", None, "deploy-api is down").await?;
    click_in_step(app, 1, "Run").await?;
    step_state(app, 1, "failed").await?;
    app.screenshot("runbook-deploy-api-down-1-api-down").await?;

    // The direct path: the archived version, its plan, the confirmation.
    expand_step(app, 3).await?;
    app.fill("Version", "v3.0.0-rb").await?;
    click_in_step(app, 3, "Run").await?;
    app.by_role("region", "Plan of this step").await?;
    let go = plan_button(app).await?;
    ensure!(
        !go.is_enabled().await?,
        "the direct upload needs no confirmation"
    );
    let names = app.accessible_names("textbox|checkbox").await?;
    if names.iter().any(|n| n == "Type gateway to confirm") {
        app.fill("Type gateway to confirm", "gateway").await?;
    } else {
        tick(app, "I have read the plan above and want to go ahead").await?;
    }
    app.screenshot("runbook-deploy-api-down-2-direct-plan")
        .await?;
    app.wait_enabled(&go, "the direct upload button", SHORT)
        .await?;
    app.click(&go).await?;
    step_state_within(app, 3, "passed", DEPLOY_WAIT).await?;
    let output = step_output(app, 3, "Deploy directly to the namespace").await?;
    ensure!(
        output.contains("manual deployment"),
        "the direct upload is not recorded as a manual deployment: {output}"
    );
    app.screenshot("runbook-deploy-api-down-3-direct-deployed")
        .await?;
    let report = open_report(app).await?;
    for needle in [
        "Incident report: Deploy API down",
        "REHEARSAL",
        "Rehearsal fault injected",
        "3. Deploy directly to the namespace — passed",
        "direct-deploy service=gateway",
        "manual deployment",
    ] {
        ensure!(
            report.contains(needle),
            "the report lacks {needle:?}:\n{report}"
        );
    }

    // A second run, whose command is still running when the app dies.
    app.click(&app.by_role("tab", "Runbooks").await?).await?;
    start_rehearsal(app, SLOW, "").await?;
    click_in_step(app, 1, "Run").await?;
    app.by_role("region", "Plan of this step").await?;
    tick(app, "I have read the command above and want to run it").await?;
    app.click_button("Run this command").await?;
    app.wait_for_text("diagnostics started", SHORT).await?;
    step_state(app, 1, "running").await?;
    app.screenshot("runbook-crash-1-command-running").await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Scenario 3: after the crash

async fn resume_after_crash(app: &AppSession) -> Result<()> {
    app.go_to("Runbooks").await?;
    // Both runs are offered to resume, the slow one flagged as interrupted.
    let resume = app.by_role("region", "Resume a run").await?;
    let shown = resume.text().await?;
    ensure!(
        shown.contains("2 runs are open") && shown.contains("interrupted"),
        "the landing does not offer both runs: {shown}"
    );
    app.screenshot("runbook-crash-2-after-restart").await?;

    // The Deploy API run, from the Runs list: where it was.
    let tab = app.by_role("tab", "Runs · 2 open").await?;
    app.click(&tab).await?;
    let item = run_item(app, DEPLOY_API_DOWN).await?;
    app.click(&item).await?;
    step_state(app, 1, "failed").await?;
    step_state(app, 3, "passed").await?;
    step_state(app, 2, "to do").await?;
    ensure!(
        current_step(app).await? == "2. Read the Deploy API's logs: to do",
        "the run does not open at the step it was at: {:?}",
        current_step(app).await?
    );
    let output = step_output(app, 3, "Deploy directly to the namespace").await?;
    ensure!(output.contains("manual deployment"), "{output}");
    app.screenshot("runbook-crash-3-deploy-api-resumed").await?;
    // ...and it goes on to the end.
    tick(app, "Logs read: cause noted").await?;
    step_state(app, 2, "passed").await?;
    // The manual deployment is logged right after it, then the service verified (the escalation
    // after the gate is skipped by its condition).
    app.fill(
        "What did you deploy directly, and why?",
        "gateway v3.0.0-rb straight to the namespace: the Deploy API was down.",
    )
    .await?;
    click_in_step(app, 4, "Save note").await?;
    step_state(app, 4, "passed").await?;
    click_in_step(app, 5, "Run").await?;
    step_state(app, 5, "passed").await?;
    step_state(app, 6, "skipped").await?;
    app.click_button("Finish run").await?;
    app.wait_for_text("Run finished", SHORT).await?;
    let report = report_text(app).await?;
    for needle in [
        "| Status | finished |",
        "4 passed, 1 failed, 1 skipped, 0 not done, of 6",
        "Logs read: cause noted",
        "gateway v3.0.0-rb straight to the namespace",
    ] {
        // The table is rendered: look for its words, not its Markdown. Whether the driver puts
        // spaces between table cells depends on layout, so compare without any.
        let squeeze = |t: &str| -> String {
            t.chars()
                .filter(|c| !c.is_whitespace() && *c != '|')
                .collect()
        };
        ensure!(
            squeeze(&report).contains(&squeeze(needle)),
            "the report lacks {needle:?}:\n{report}"
        );
    }
    reveal(app, "[aria-label='Incident report preview']").await?;
    app.screenshot("runbook-crash-4-deploy-api-finished")
        .await?;

    // The command run: its step was running, so it is interrupted, with its output and a Retry.
    let tab = app.by_role("tab", "Runs · 1 open").await?;
    app.click(&tab).await?;
    let item = run_item(app, SLOW).await?;
    app.click(&item).await?;
    step_state(app, 1, "interrupted").await?;
    app.wait_for_text("Switchyard stopped while this step was running", SHORT)
        .await?;
    let output = step_output(app, 1, "Collect diagnostics").await?;
    ensure!(
        output.contains("diagnostics started"),
        "the partial output is lost: {output}"
    );
    app.by_role_within("button", "Retry", Some(&step_css(1)))
        .await?;
    app.by_role_within("button", "Skip…", Some(&step_css(1)))
        .await?;
    app.screenshot("runbook-crash-5-command-interrupted")
        .await?;
    // The embedded sandbox started afresh with the app: the Deploy API fault is gone with it.
    let tab = app.by_role("tab", "Rehearsal").await?;
    app.click(&tab).await?;
    app.expect_within("region", "Active faults", "None: the sandbox is healthy.")
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// Start the app on `dir`, once more if the WebDriver session does not come up (WebKitWebDriver
/// now and then drops the very first session of a fresh display/D-Bus session).
async fn start(dir: &Path) -> Result<AppSession> {
    match AppSession::start_in(dir).await {
        Ok(app) => Ok(app),
        Err(e) => {
            eprintln!("the app did not start ({e:#}); trying once more");
            tokio::time::sleep(Duration::from_secs(2)).await;
            AppSession::start_in(dir).await
        }
    }
}

/// A user runbook whose only automated step runs a slow command in `folder`.
fn write_slow_runbook(data_dir: &Path, folder: &Path) -> Result<()> {
    let dir = data_dir.join("runbooks");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("slow-diagnostics.md"),
        format!(
            "---\ncategory: Troubleshooting\n---\n\n# {SLOW}\n\nCollects diagnostics slowly.\n\n\
             ## Collect diagnostics {{#collect}}\n\n\
             ```switchyard command folder={} timeout=120\necho diagnostics started; sleep 90; echo diagnostics done\n```\n\n\
             ## Read them {{#read}}\n\n- [ ] Diagnostics read\n",
            folder.display()
        ),
    )
    .context("writing the user runbook")?;
    Ok(())
}

/// Inject `kind` from the Rehearsal tab and wait until the active faults list `shows`.
async fn inject_fault(
    app: &AppSession,
    kind: &str,
    service: Option<&str>,
    shows: &str,
) -> Result<()> {
    let tab = app.by_role("tab", "Rehearsal").await?;
    app.click(&tab).await?;
    app.choose("Fault", kind).await?;
    if let Some(s) = service {
        app.choose("Service", s).await?;
    }
    app.click_button("Inject fault").await?;
    app.expect_within("region", "Active faults", shows).await
}

/// Open the runbook `title` from the catalog and start a rehearsal of it on `service`.
async fn start_rehearsal(app: &AppSession, title: &str, service: &str) -> Result<()> {
    let tab = app.by_role("tab", "Runbooks").await?;
    app.click(&tab).await?;
    app.click_button(title).await?;
    app.by_role("region", "Start a run").await?;
    if !service.is_empty() {
        app.choose("Service", service).await?;
    }
    let switch = app.by_role("checkbox|switch", "Rehearsal").await?;
    ensure!(
        switch.is_selected().await?,
        "the rehearsal switch is off on the sandbox"
    );
    app.click_button("Start rehearsal").await?;
    app.by_role("region", "Run header").await?;
    app.wait_for_text(title, SHORT).await?;
    Ok(())
}

fn step_css(n: usize) -> String {
    format!("li.sy-rb-step[aria-label^='{n}. ']")
}

/// Click the button `name` of step `n` (1-based).
async fn click_in_step(app: &AppSession, n: usize, name: &str) -> Result<()> {
    expand_step(app, n).await?;
    let el = app
        .by_role_within("button", name, Some(&step_css(n)))
        .await
        .with_context(|| format!("the button {name:?} of step {n}"))?;
    app.click(&el).await
}

/// Open step `n`'s card (a click on its header) unless it is open.
async fn expand_step(app: &AppSession, n: usize) -> Result<()> {
    let header = app
        .driver
        .find(thirtyfour::By::Css(format!(
            "{} .sy-rb-step-header",
            step_css(n)
        )))
        .await
        .with_context(|| format!("the header of step {n}"))?;
    if header.attr("aria-expanded").await?.as_deref() != Some("true") {
        app.click(&header).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(())
}

/// Wait until step `n` is in `state` (in words: to do, running, passed, failed, skipped…).
async fn step_state(app: &AppSession, n: usize, state: &str) -> Result<()> {
    step_state_within(app, n, state, SHORT).await
}

async fn step_state_within(
    app: &AppSession,
    n: usize,
    state: &str,
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let ret = app
            .driver
            .execute(
                "const el = document.querySelector(arguments[0]); return el ? el.getAttribute('aria-label') : '';",
                vec![json!(step_css(n))],
            )
            .await?;
        let label: String = ret.convert().unwrap_or_default();
        let word = label.split(": ").last().unwrap_or_default();
        if word == state || word.starts_with(&format!("{state},")) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let page = app.page_text().await.unwrap_or_default();
            bail!("step {n} never became {state:?} within {timeout:?}: it is {label:?}; page: {page:.2500}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The aria-label of the step marked current.
async fn current_step(app: &AppSession) -> Result<String> {
    let ret = app
        .driver
        .execute(
            "const el = document.querySelector(\"li.sy-rb-step[aria-current='step']\"); return el ? el.getAttribute('aria-label') : '';",
            Vec::new(),
        )
        .await?;
    Ok(ret.convert().unwrap_or_default())
}

/// The output block of step `n`, titled `title`, once it shows something.
async fn step_output(app: &AppSession, n: usize, title: &str) -> Result<String> {
    expand_step(app, n).await?;
    let css = format!("[aria-label='Output of {}']", title.replace('\'', "\\'"));
    let deadline = Instant::now() + SHORT;
    loop {
        if let Ok(el) = app.driver.find(thirtyfour::By::Css(&css)).await {
            let text = el.text().await.unwrap_or_default();
            if !text.is_empty() {
                return Ok(text);
            }
        }
        if Instant::now() > deadline {
            bail!("no output of {title:?} is shown");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The confirming button of the step's plan (the first of the plan's buttons).
async fn plan_button(app: &AppSession) -> Result<thirtyfour::WebElement> {
    let ret = app
        .driver
        .execute(
            "const s = document.querySelector(\"section[aria-label='Plan of this step']\"); \
             return s ? Array.from(s.querySelectorAll('button')).find(b => b.textContent.trim() !== 'Cancel') || null : null;",
            Vec::new(),
        )
        .await?;
    ensure!(!ret.json().is_null(), "the plan has no confirming button");
    Ok(ret.element()?)
}

/// Tick the checkbox labelled `label` (one click), waiting until it shows ticked.
async fn tick(app: &AppSession, label: &str) -> Result<()> {
    let deadline = Instant::now() + SHORT;
    let mut clicked = false;
    loop {
        // The list re-renders as the run changes: find the box again each time. Once ticked,
        // the last check of a step passes it, and its card closes: the box goes away.
        let shown = app.accessible_names("checkbox").await?;
        if clicked && !shown.iter().any(|n| n == label) {
            return Ok(());
        }
        let el = app.by_role("checkbox", label).await?;
        if el.is_selected().await.unwrap_or(false) {
            return Ok(());
        }
        if !clicked && el.is_enabled().await.unwrap_or(false) && app.click(&el).await.is_ok() {
            clicked = true;
        }
        if Instant::now() > deadline {
            bail!("the check {label:?} never showed ticked");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The incident report's preview (open), as it reads.
async fn report_text(app: &AppSession) -> Result<String> {
    let deadline = Instant::now() + SHORT;
    loop {
        if let Ok(el) = app
            .driver
            .find(thirtyfour::By::Css(
                "[aria-label='Incident report preview']",
            ))
            .await
        {
            let text = el.text().await.unwrap_or_default();
            if !text.is_empty() {
                return Ok(text);
            }
        }
        if Instant::now() > deadline {
            bail!("the incident report preview never showed");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Open the incident report of a run still in progress; its text.
async fn open_report(app: &AppSession) -> Result<String> {
    if let Ok(b) = app.by_role("button", "Show incident report").await {
        app.click(&b).await?;
    }
    report_text(app).await
}

/// Scroll the element matching `css` to the top of the window.
async fn reveal(app: &AppSession, css: &str) -> Result<()> {
    app.driver
        .execute(
            "const el = document.querySelector(arguments[0]); if (el) { el.scrollIntoView({block: 'start'}); window.scrollBy(0, -120); }",
            vec![json!(css)],
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    Ok(())
}

/// The Runs list's entry of the run of `title`.
async fn run_item(app: &AppSession, title: &str) -> Result<thirtyfour::WebElement> {
    let deadline = Instant::now() + SHORT;
    loop {
        let names = app.accessible_names("button").await?;
        if let Some(n) = names
            .iter()
            .find(|n| n.starts_with(&format!("{title}, open")))
        {
            return app.by_role("button", n).await;
        }
        if Instant::now() > deadline {
            bail!("the Runs list has no open run of {title:?}: {names:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Deploy the bundle file `path` as `service` `version` to production through the Deploy area.
async fn deploy_bundle(app: &AppSession, path: &Path, service: &str, version: &str) -> Result<()> {
    app.go_to("Deploy").await?;
    app.pick_radio("Built bundle file").await?;
    app.fill("Bundle file", &path.display().to_string()).await?;
    app.choose("Service", service).await?;
    app.fill("Version", version).await?;
    app.fill("Commit", "3b1c0ffee0ddba11deadbeefcafe0123456789ab")
        .await?;
    app.fill("Branch", "main").await?;
    app.fill("Author", AUTHOR).await?;
    app.click_button("Check and plan").await?;
    app.expect_within("table", "Plan: now and after", version)
        .await
        .with_context(|| format!("planning {service} {version}"))?;
    app.fill(&format!("Type {service} to confirm"), service)
        .await?;
    let go = app
        .by_role(
            "button",
            &format!("Deploy {service} {version} to production"),
        )
        .await?;
    app.wait_enabled(&go, "the deploy button", SHORT).await?;
    app.click(&go).await?;
    app.wait_for_text(
        &format!("Deployed {service} {version} to production"),
        DEPLOY_WAIT,
    )
    .await
    .with_context(|| format!("deploying {service} {version}"))?;
    app.screenshot("runbook-deploy-api-down-0-archived-deploy")
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Escalation: the database stays unhealthy whatever the runbook does.

async fn database_escalation(app: &AppSession) -> Result<()> {
    app.go_to("Runbooks").await?;
    start_rehearsal(app, "Database connection lost", "").await?;
    inject_fault(app, "databaseUnhealthy", None, "db").await?;
    click_in_step(app, 1, "Run").await?;
    step_state(app, 1, "failed").await?;
    tick(
        app,
        "Database answered (or: not reachable from here — say so in a note)",
    )
    .await?;
    // The minute of logs is skipped, with a reason for the report.
    click_in_step(app, 3, "Skip…").await?;
    app.fill(
        "Why skip this step?",
        "read the logs in the Logs area instead",
    )
    .await?;
    click_in_step(app, 3, "Skip this step").await?;
    step_state(app, 3, "skipped").await?;
    // The rollback of db (the fault is the database itself: it will not help).
    click_in_step(app, 4, "Run").await?;
    app.by_role("region", "Plan of this step").await?;
    let go = plan_button(app).await?;
    app.fill("Type db to confirm", "db").await?;
    app.wait_enabled(&go, "the rollback button", SHORT).await?;
    app.click(&go).await?;
    let deadline = Instant::now() + DEPLOY_WAIT;
    while step_state_within(app, 4, "passed", Duration::from_millis(500))
        .await
        .is_err()
        && step_state_within(app, 4, "failed", Duration::from_millis(500))
            .await
            .is_err()
    {
        ensure!(Instant::now() < deadline, "the rollback step never ended");
    }
    // The verify gate fails: the escalation opens instead of a dead end.
    click_in_step(app, 5, "Run").await?;
    step_state(app, 5, "failed").await?;
    app.wait_for_text("The procedure did not fix it", SHORT)
        .await?;
    app.wait_for_text("Follow the escalation steps below", SHORT)
        .await?;
    tick(app, "Provider status page checked").await?;
    tick(app, "Provider support contacted, if needed").await?;
    step_state(app, 6, "passed").await?;
    app.screenshot("runbook-database-1-escalation-open").await?;
    app.click_button("Finish run").await?;
    app.wait_for_text("Run escalated", SHORT).await?;
    let report = report_text(app).await?;
    for needle in [
        "escalated",
        "Verify the db service",
        "3. Read the db service's logs — skipped",
        "read the logs in the Logs area instead",
        "Rehearsal fault injected",
    ] {
        ensure!(
            report.contains(needle),
            "the report lacks {needle:?}:\n{report}"
        );
    }
    app.screenshot("runbook-database-2-escalated").await?;

    // The incident's timeline, saved as Markdown where the operator chose in the save dialog:
    // the fault, the health change, each step and the rollback. Saved inside the data folder, so
    // the leak sweep reads the exports too.
    let exports = app.data_dir.join("exports");
    std::fs::create_dir_all(&exports)?;
    app.click_button("Open timeline").await?;
    app.wait_for_text("db went down", SHORT).await?;
    app.click_button("Save as Markdown…").await?;
    let md_path = exports.join("database-incident.md");
    let md = String::from_utf8(
        app.save_in_dialog("Save the incident timeline", &md_path)
            .await?,
    )?;
    for needle in [
        "sandbox.fault",
        "db went down",
        "Step 1",
        "Step 5",
        "Step 6",
        "deploy.rollback",
    ] {
        ensure!(
            md.contains(needle),
            "the saved timeline lacks {needle:?}:\n{md}"
        );
    }
    app.wait_for_text(&format!("Saved to {}", md_path.display()), SHORT)
        .await?;
    app.screenshot("runbook-database-3-timeline-saved").await?;

    // The audit log, exported as JSON and CSV: every action of the incident, with its actor.
    app.go_to("Audit").await?;
    app.by_role("tab", "Audit log").await?.click().await?;
    app.click_button("Export JSON…").await?;
    let json_path = exports.join("audit.json");
    let json = String::from_utf8(
        app.save_in_dialog("Export the audit log", &json_path)
            .await?,
    )?;
    let entries: serde_json::Value = serde_json::from_str(&json)?;
    let actions: Vec<&str> = entries
        .as_array()
        .context("the audit export is a JSON array")?
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "sandbox.fault",
        "runbook.step",
        "runbook.skip",
        "deploy.rollback",
    ] {
        ensure!(
            actions.iter().any(|a| a.starts_with(action)),
            "the audit export lacks {action:?}: {actions:?}"
        );
    }
    app.click_button("Export CSV…").await?;
    let csv_path = exports.join("audit.csv");
    let csv = String::from_utf8(
        app.save_in_dialog("Export the audit log", &csv_path)
            .await?,
    )?;
    ensure!(
        csv.lines().count() > actions.len(),
        "the CSV export has a header and a line per entry ({} entries): {csv:.2000}",
        actions.len()
    );
    app.screenshot("runbook-database-4-audit-exported").await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Deploy API down: new code, not an archived version, goes straight to the namespace.

async fn direct_new_code(app: &AppSession, work: &Path) -> Result<()> {
    app.go_to("Runbooks").await?;
    start_rehearsal(app, DEPLOY_API_DOWN, "gateway").await?;
    inject_fault(app, "deployApiDown", None, "deploy-api is down").await?;
    click_in_step(app, 1, "Run").await?;
    step_state(app, 1, "failed").await?;

    // A fix built now: never deployed, never archived.
    let version = "v3.1.0-hotfix";
    let bundle = work.join("gateway-hotfix.js");
    std::fs::write(
        &bundle,
        format!("export default {{\n  async fetch(request) {{\n    return Response.json({{ status: \"ok\", service: \"gateway\", version: \"{version}\" }});\n  }},\n}};\n"),
    )?;
    app.go_to("Deploy").await?;
    app.pick_radio("Built bundle file").await?;
    app.fill("Bundle file", &bundle.display().to_string())
        .await?;
    app.choose("Service", "gateway").await?;
    app.fill("Version", version).await?;
    app.fill("Commit", "4c1d0ffee0ddba11deadbeefcafe0123456789ab")
        .await?;
    app.fill("Branch", "hotfix").await?;
    app.fill("Author", AUTHOR).await?;
    app.click_button("Check and plan").await?;
    // The Deploy API does not answer: the wizard offers the direct route.
    app.wait_for_text("Is the Deploy API down?", DEPLOY_WAIT)
        .await?;
    app.screenshot("deploy-direct-1-offer").await?;
    app.click_button("Plan a direct upload instead").await?;
    let action =
        format!("Upload gateway {version} straight to dotdo-production (bypassing the Deploy API)");
    let go = app.by_role("button", &action).await?;
    app.wait_for_text("bypasses the Deploy API", SHORT).await?;
    app.fill("Type gateway to confirm", "gateway").await?;
    app.screenshot("deploy-direct-2-plan").await?;
    app.wait_enabled(&go, "the direct upload button", SHORT)
        .await?;
    app.click(&go).await?;
    app.wait_for_text(
        &format!("Uploaded gateway {version} (manual) straight to dotdo-production"),
        DEPLOY_WAIT,
    )
    .await?;
    app.screenshot("deploy-direct-3-uploaded").await?;
    // What answers is the new code.
    let sandbox = app.sandbox_discovery()?;
    let template = sandbox["service_url_template"].as_str().unwrap_or_default();
    let url = format!(
        "{}/health",
        template
            .replace("{service}", "gateway")
            .replace("{environment}", "production")
    );
    let body = switchyard_tests::curl(&["-s", &url])?;
    ensure!(
        body.contains(version),
        "gateway's /health does not answer the fix: {body}"
    );
    // Back in the run, the verify gate passes: health confirms the fix.
    app.go_to("Runbooks").await?;
    app.click_button(&format!("Resume {DEPLOY_API_DOWN}"))
        .await?;
    click_in_step(app, 5, "Run").await?;
    step_state(app, 5, "passed").await?;
    app.screenshot("deploy-direct-4-verified").await?;

    // The incident's timeline: the fault, each step run, and the deploy, in one view.
    app.click_button("Open timeline").await?;
    let deadline = std::time::Instant::now() + SHORT;
    loop {
        let page = app.page_text().await?;
        let has = |t: &str| page.contains(t);
        if has("sandbox.fault")
            && has("gateway v3.1.0-hotfix")
            && has("Step 1")
            && has("Step 6")
            && has("failed")
        {
            break;
        }
        if std::time::Instant::now() > deadline {
            bail!("the incident timeline lacks the fault, a step or the deploy: {page:.5000}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    app.screenshot("deploy-direct-5-timeline").await?;
    Ok(())
}
