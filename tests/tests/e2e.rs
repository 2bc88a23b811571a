//! End-to-end scenarios: the real app in a real window, driven over WebDriver as a user would.
//! Run with `cargo xtask e2e` (or as part of `cargo xtask test`), which builds the app, starts
//! Xvfb and sets SWITCHYARD_APP; under a plain `cargo test` they are ignored.

use anyhow::Result;
use switchyard_tests::AppSession;
use thirtyfour::Key;

const AREAS: [&str; 8] = [
    "Deployments",
    "Deploy",
    "Namespaces",
    "Health",
    "Logs",
    "Runbooks",
    "Audit",
    "Settings",
];

const NAV: &str = "nav[aria-label='Areas']";

#[tokio::test]
#[ignore = "end-to-end: needs the built app and a display; run `cargo xtask e2e`"]
async fn shell_areas_are_reachable_by_click_keyboard_and_palette() -> Result<()> {
    let app = AppSession::start().await?;
    let result = shell_scenario(&app).await;
    if result.is_err() {
        let _ = app.screenshot("shell-failure").await;
    }
    app.close().await?;
    result
}

async fn shell_scenario(app: &AppSession) -> Result<()> {
    // The window opens on the app shell with the sandbox profile shown.
    app.by_role("navigation", "Areas").await?;
    app.by_role("banner", "").await.ok();
    app.screenshot("shell-start").await?;

    // Every area by click: its heading appears and the nav marks it current.
    for area in AREAS {
        let link = app.by_role_within("link|button", area, Some(NAV)).await?;
        link.click().await?;
        app.expect_heading(area).await?;
        let current = link.attr("aria-current").await?;
        assert_eq!(
            current.as_deref(),
            Some("page"),
            "{area} is not marked current"
        );
        app.screenshot(&format!("area-{}", area.to_lowercase()))
            .await?;
    }

    // Every area by keyboard: Tab to its nav entry, press Enter.
    for area in AREAS.iter().rev() {
        let mut reached = false;
        for _ in 0..40 {
            app.type_keys(&Key::Tab.value().to_string()).await?;
            if app.focused_name().await? == *area {
                reached = true;
                break;
            }
        }
        assert!(reached, "Tab never reached the {area} entry");
        app.type_keys(&Key::Enter.value().to_string()).await?;
        app.expect_heading(area).await?;
    }

    // The palette finds an area by typing its name.
    app.by_role_within("link|button", "Deployments", Some(NAV))
        .await?
        .click()
        .await?;
    app.expect_heading("Deployments").await?;
    app.chord(&[Key::Control], "k").await?;
    app.by_role("dialog|searchbox|textbox|combobox", "Search commands")
        .await?;
    app.type_keys("Namespaces").await?;
    app.screenshot("palette").await?;
    app.type_keys(&Key::Enter.value().to_string()).await?;
    app.expect_heading("Namespaces").await?;
    app.screenshot("palette-went-to-namespaces").await?;
    Ok(())
}
