//! Test support shared by Switchyard's cross-crate scenarios and its end-to-end tests.
//!
//! The end-to-end harness starts the real app binary through `tauri-driver` (which drives
//! WebKitWebDriver) on the X display in `DISPLAY` (xtask starts Xvfb), finds elements the way a
//! screen reader would (by role and accessible name), and saves a screenshot of every scenario
//! under `target/e2e/`. It depends on no Switchyard crate: it sees the app only as a user does.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use serde_json::json;
use thirtyfour::prelude::*;
use thirtyfour::{Capabilities, Key};

/// How long a query waits for an element to appear.
const FIND_TIMEOUT: Duration = Duration::from_secs(15);

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Where scenario screenshots go.
pub fn screenshot_dir() -> PathBuf {
    workspace_root().join("target").join("e2e")
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for_port(who: &str, port: u16, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("{who} did not listen on port {port} within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn find_tauri_driver() -> Result<PathBuf> {
    let home_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .map(|d| d.join("bin").join("tauri-driver"));
    if let Some(p) = home_bin.filter(|p| p.exists()) {
        return Ok(p);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("tauri-driver"))
                .find(|p| p.exists())
        })
        .context("tauri-driver is not installed: run `cargo xtask setup`")
}

/// The real app, started under WebDriver control with its own data folder.
pub struct AppSession {
    pub driver: WebDriver,
    tauri_driver: Child,
    pub data_dir: PathBuf,
    /// Everything the app (through tauri-driver) wrote on stderr, also passed on to ours.
    stderr: Arc<Mutex<Vec<u8>>>,
    /// When the WebDriver session (which launches the app) was requested, ms since the epoch.
    pub launched_ms: f64,
    _owned_dir: Option<tempfile::TempDir>,
}

impl AppSession {
    /// Start the app fresh, with a new empty data folder that is removed afterwards.
    pub async fn start() -> Result<AppSession> {
        let dir = tempfile::tempdir()?;
        let mut session = AppSession::start_in(dir.path()).await?;
        session._owned_dir = Some(dir);
        Ok(session)
    }

    /// Start the app binary named by `SWITCHYARD_APP` (xtask sets it to the debug build) on
    /// the data folder `data_dir`, as a user would start it again after a crash.
    pub async fn start_in(data_dir: &Path) -> Result<AppSession> {
        let app = std::env::var_os("SWITCHYARD_APP")
            .map(PathBuf::from)
            .unwrap_or_else(|| debug_binary("switchyard"));
        AppSession::start_app(&app, data_dir).await
    }

    /// Start the binary `app` (Switchyard, or the benchmarks' hello-world window) on `data_dir`.
    pub async fn start_app(app: &Path, data_dir: &Path) -> Result<AppSession> {
        if !app.exists() {
            bail!(
                "the app binary {} does not exist: run the suite with `cargo xtask e2e`",
                app.display()
            );
        }
        if std::env::var_os("DISPLAY").is_none() {
            bail!("no DISPLAY: run the suite with `cargo xtask e2e`, which starts Xvfb");
        }
        // tauri-driver and WebKitWebDriver now and then fail to hand over a session (a port
        // taken between choosing and binding it, a driver that died starting): try again with
        // fresh ports, a bounded number of times, saying why.
        let mut attempt = 1;
        let (driver, tauri_driver, launched_ms, stderr) = loop {
            match start_driver(app, data_dir).await {
                Ok(started) => break started,
                Err(e) if attempt < 3 => {
                    eprintln!(
                        "starting the app under WebDriver failed (attempt {attempt} of 3): {e:#}"
                    );
                    attempt += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(e),
            }
        };
        Ok(AppSession {
            driver,
            tauri_driver,
            data_dir: data_dir.to_path_buf(),
            stderr,
            launched_ms,
            _owned_dir: None,
        })
    }

    /// The first visible element with `role` (one of `roles`, separated by `|`) whose
    /// accessible name is `name`, waiting for it to appear.
    pub async fn by_role(&self, roles: &str, name: &str) -> Result<WebElement> {
        self.by_role_within(roles, name, None).await
    }

    /// Like [`by_role`](Self::by_role), searching only inside the first element matching `within`.
    pub async fn by_role_within(
        &self,
        roles: &str,
        name: &str,
        within: Option<&str>,
    ) -> Result<WebElement> {
        let deadline = Instant::now() + FIND_TIMEOUT;
        loop {
            let ret = self
                .driver
                .execute(FIND_BY_ROLE, vec![json!(roles), json!(name), json!(within)])
                .await?;
            if !ret.json().is_null() {
                return Ok(ret.element()?);
            }
            if Instant::now() > deadline {
                let names = self.accessible_names(roles).await.unwrap_or_default();
                bail!("no visible {roles} named {name:?}; visible {roles} names: {names:?}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// The accessible names of every visible element with one of `roles` (for error messages).
    pub async fn accessible_names(&self, roles: &str) -> Result<Vec<String>> {
        let ret = self
            .driver
            .execute(LIST_BY_ROLE, vec![json!(roles)])
            .await?;
        Ok(ret.convert()?)
    }

    /// The accessible name of the focused element.
    pub async fn focused_name(&self) -> Result<String> {
        let ret = self.driver.execute(FOCUSED_NAME, Vec::new()).await?;
        Ok(ret.convert().unwrap_or_default())
    }

    /// Wait until the page's main heading (h1) reads `text`.
    pub async fn expect_heading(&self, text: &str) -> Result<()> {
        self.by_role("heading", text)
            .await
            .with_context(|| format!("expected the heading {text:?}"))?;
        Ok(())
    }

    /// Press keys as a chord: e.g. `&[Key::Control]` + "k".
    pub async fn chord(&self, modifiers: &[Key], key: &str) -> Result<()> {
        let mut chain = self.driver.action_chain();
        for m in modifiers {
            chain = chain.key_down(m.clone());
        }
        chain = chain.send_keys(key);
        for m in modifiers.iter().rev() {
            chain = chain.key_up(m.clone());
        }
        chain.perform().await?;
        Ok(())
    }

    /// Type text (or special keys) into whatever has focus.
    pub async fn type_keys(&self, keys: &str) -> Result<()> {
        self.driver.action_chain().send_keys(keys).perform().await?;
        Ok(())
    }

    /// Save a screenshot of the window as `target/e2e/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        // Let the page paint what its last change (and any scroll it caused) made: a screenshot
        // taken at once can show the frame before.
        self.driver
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50)));",
                Vec::new(),
            )
            .await?;
        self.driver.screenshot(&path).await?;
        Ok(path)
    }

    /// Kill the app with SIGKILL, as a crash or a power cut would, and drop the session.
    pub fn kill_app(mut self) -> Result<()> {
        let status = Command::new("pkill")
            .args([
                "-KILL",
                "-g",
                &self.tauri_driver.id().to_string(),
                "-x",
                "switchyard",
            ])
            .status()?;
        if !status.success() {
            bail!("no app process to kill in the session's process group");
        }
        // The session died with the app: dropping the driver would try to end it with a
        // blocking request that hangs until its timeout (two minutes).
        let _ = self.driver.clone().leak();
        kill_group(&mut self.tauri_driver);
        Ok(())
    }

    /// Set the value of a text field found by its label, replacing what it held.
    pub async fn fill(&self, label: &str, value: &str) -> Result<()> {
        let field = self.by_role("textbox|combobox|searchbox", label).await?;
        let deadline = Instant::now() + FIND_TIMEOUT;
        while !field.is_enabled().await? {
            if Instant::now() > deadline {
                bail!("the field {label:?} stayed disabled");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.driver
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![field.to_json()?],
            )
            .await?;
        field.clear().await?;
        field.send_keys(value).await?;
        // The keys may still be on their way when send_keys returns: wait until the field holds
        // all of them, so what follows (a screenshot, a check) sees the whole value.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let held = field.prop("value").await?.unwrap_or_default();
            if held == value || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Click the button named `name`.
    pub async fn click_button(&self, name: &str) -> Result<()> {
        let el = self.by_role("button", name).await?;
        // A button that turns enabled a render after the field it depends on was filled (a
        // dialog's Create, a confirmation) is clicked once it is: a click on it while disabled
        // would do nothing and the step would wait in vain.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !el.is_enabled().await.unwrap_or(true) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.click(&el).await
    }

    /// Wait (at most 2 s) until `el` stands still and is what a click at its centre reaches: a
    /// dialog still scaling or fading in moves its buttons, and a click sent then can land
    /// beside them or on the overlay and do nothing.
    async fn wait_until_settled(&self, el: &WebElement) -> Result<()> {
        const PROBE: &str = "const el = arguments[0]; const r = el.getBoundingClientRect(); \
            const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2); \
            return [r.x, r.y, r.width, r.height, hit !== null && (hit === el || el.contains(hit)) ? 1 : 0];";
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut last: Option<Vec<f64>> = None;
        while Instant::now() < deadline {
            let probe: Vec<f64> = self
                .driver
                .execute(PROBE, vec![el.to_json()?])
                .await?
                .convert()
                .unwrap_or_default();
            let reachable = probe.get(4) == Some(&1.0);
            if reachable && last.as_ref() == Some(&probe) {
                return Ok(());
            }
            last = Some(probe);
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        // Not settled in time: click anyway, and let the step's own wait say what is wrong.
        Ok(())
    }

    /// Click an element as a user would: scrolled to the middle of the view (not under the
    /// status bar), waiting out an overlay that is still fading (a closing dialog) or a panel
    /// still sliding in (a drawer).
    pub async fn click(&self, el: &WebElement) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            self.driver
                .execute(
                    "arguments[0].scrollIntoView({block: 'center', inline: 'center'});",
                    vec![el.to_json()?],
                )
                .await?;
            self.wait_until_settled(el).await?;
            match el.click().await {
                Ok(()) => return Ok(()),
                Err(e)
                    if Instant::now() < deadline
                        && (e.to_string().contains("intercepted")
                            || e.to_string().contains("not interactable")) =>
                {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Wait until some visible element of `roles` has an accessible name containing `text`.
    pub async fn expect_text(&self, roles: &str, text: &str) -> Result<String> {
        let deadline = Instant::now() + FIND_TIMEOUT;
        loop {
            let names = self.accessible_names(roles).await?;
            if let Some(n) = names.iter().find(|n| n.contains(text)) {
                return Ok(n.clone());
            }
            if Instant::now() > deadline {
                bail!("no visible {roles} containing {text:?}; visible: {names:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Pick `option` in the select (combobox) labelled `label`.
    pub async fn choose(&self, label: &str, option: &str) -> Result<()> {
        let field = self.by_role("combobox|textbox", label).await?;
        if field.tag_name().await?.eq_ignore_ascii_case("select") {
            // A native select: click the option itself, as WebDriver specifies for <option>.
            let ret = self
                .driver
                .execute(
                    "const [s, want] = arguments; return Array.from(s.options).find(o => \
                     o.textContent.trim().toLowerCase() === want.toLowerCase() || \
                     o.value.toLowerCase() === want.toLowerCase()) || null;",
                    vec![field.to_json()?, json!(option)],
                )
                .await?;
            if ret.json().is_null() {
                bail!("the select {label:?} has no option {option:?}");
            }
            ret.element()?.click().await?;
            return Ok(());
        }
        self.click(&field).await?;
        let opt = self.by_role("option", option).await?;
        self.click(&opt).await
    }

    /// Start recording every IPC reply the page receives from now on (see [`ipc_log`](Self::ipc_log)).
    pub async fn record_ipc(&self) -> Result<()> {
        self.driver
            .execute(
                r#"
// Tauri's IPC travels over fetch to its ipc: custom protocol; keep a copy of every reply.
if (!window.__sy_ipc) {
  window.__sy_ipc = [];
  const original = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await original(input, init);
    const url = typeof input === 'string' ? input : (input && input.url) || '';
    if (url.startsWith('ipc:') || url.includes('ipc.localhost')) {
      response.clone().text().then((body) => window.__sy_ipc.push(url + ' ' + body));
    }
    return response;
  };
}
return window.fetch !== undefined;
"#,
                Vec::new(),
            )
            .await?;
        Ok(())
    }

    /// Every IPC reply recorded since [`record_ipc`](Self::record_ipc), as JSON texts.
    pub async fn ipc_log(&self) -> Result<Vec<String>> {
        let ret = self
            .driver
            .execute("return window.__sy_ipc || [];", Vec::new())
            .await?;
        Ok(ret.convert()?)
    }

    /// Wait until the element with `role` and accessible `name` shows `text` somewhere inside it.
    pub async fn expect_within(&self, role: &str, name: &str, text: &str) -> Result<()> {
        let deadline = Instant::now() + FIND_TIMEOUT;
        loop {
            let el = self.by_role(role, name).await?;
            let shown = el.text().await.unwrap_or_default();
            if shown.contains(text) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the {role} {name:?} never showed {text:?}; it shows: {shown:.300}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The page's visible text.
    pub async fn page_text(&self) -> Result<String> {
        let ret = self
            .driver
            .execute("return document.body.innerText;", Vec::new())
            .await?;
        Ok(ret.convert().unwrap_or_default())
    }

    /// Pick the radio option labelled `label` by clicking its label, as a user does (segmented
    /// controls hide the radio input itself).
    pub async fn pick_radio(&self, label: &str) -> Result<()> {
        let deadline = Instant::now() + FIND_TIMEOUT;
        let target = loop {
            let ret = self
                .driver
                .execute(
                    "const [want] = arguments; \
                     const input = Array.from(document.querySelectorAll('input[type=radio]')).find(i => { \
                       const l = i.id && document.querySelector('label[for=\"' + CSS.escape(i.id) + '\"]'); \
                       return l && l.getClientRects().length > 0 && l.textContent.replace(/\\s+/g, ' ').trim() === want; }); \
                     return input ? document.querySelector('label[for=\"' + CSS.escape(input.id) + '\"]') : null;",
                    vec![json!(label)],
                )
                .await?;
            if !ret.json().is_null() {
                break ret.element()?;
            }
            if Instant::now() > deadline {
                bail!("no visible radio option labelled {label:?}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        };
        self.click(&target).await
    }

    /// Open `area` from the sidebar and wait for its heading.
    pub async fn go_to(&self, area: &str) -> Result<()> {
        let link = self
            .by_role_within("button|link", area, Some("nav[aria-label='Areas']"))
            .await?;
        self.click(&link).await?;
        self.expect_heading(area).await
    }

    /// Wait until the page's visible text contains `text`, at most `timeout`; the page's text.
    pub async fn wait_for_text(&self, text: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let page = self.page_text().await?;
            if page.contains(text) {
                return Ok(page);
            }
            if Instant::now() > deadline {
                bail!("the page never showed {text:?} within {timeout:?}; it shows: {page:.1500}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Wait until `el` (described as `what` in the error) is enabled, at most `timeout`.
    pub async fn wait_enabled(&self, el: &WebElement, what: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        while !el.is_enabled().await? {
            if Instant::now() > deadline {
                bail!("{what} stayed disabled for {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        Ok(())
    }

    /// The embedded sandbox's discovery file (`<data_dir>/sandbox/sandbox.json`): its URLs,
    /// account id and demo keys, as a curious user would read it.
    pub fn sandbox_discovery(&self) -> Result<serde_json::Value> {
        let path = self.data_dir.join("sandbox").join("sandbox.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    }

    /// Make the profile named `name` the active one with the top bar's switcher, and wait until
    /// the switch is done. (A click that lands while the list is still opening is lost: the
    /// switcher is opened again, at most three times.)
    pub async fn switch_profile(&self, name: &str) -> Result<()> {
        let mut shown = String::new();
        for _ in 0..3 {
            let field = self.by_role("combobox", "Profile").await?;
            self.click(&field).await?;
            // An option shows the name on its first line, then the environment and markers.
            let deadline = Instant::now() + FIND_TIMEOUT;
            let option = loop {
                let ret = self
                    .driver
                    .execute(
                        "const [name] = arguments; return Array.from(document.querySelectorAll('[role=option]'))\
                         .find(o => o.getClientRects().length > 0 && \
                         o.innerText.split('\\n')[0].trim() === name) || null;",
                        vec![json!(name)],
                    )
                    .await?;
                if !ret.json().is_null() {
                    break ret.element()?;
                }
                if Instant::now() > deadline {
                    bail!("the profile switcher offers no profile named {name:?}");
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            };
            // Let the list finish opening before choosing from it.
            tokio::time::sleep(Duration::from_millis(300)).await;
            self.click(&option).await?;
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let field = self.by_role("combobox", "Profile").await?;
                shown = field.prop("value").await?.unwrap_or_default();
                if shown == name && field.is_enabled().await? {
                    return Ok(());
                }
                if Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            // Close whatever is open before trying again.
            self.type_keys(&Key::Escape.value().to_string()).await?;
        }
        bail!("the active profile never became {name:?} (the switcher shows {shown:?})")
    }

    /// Add a profile in Settings through the "New profile" dialog, then store its Deploy API
    /// key (into the OS keychain) from its Manage panel.
    pub async fn add_profile(&self, profile: &NewProfile<'_>) -> Result<()> {
        self.go_to("Settings").await?;
        self.click_button("Add profile").await?;
        self.by_role("dialog", "New profile").await?;
        self.fill("Name", profile.name).await?;
        self.choose("Environment", profile.environment).await?;
        self.fill("Deploy API URL", profile.deploy_api_url).await?;
        self.fill("Auth service URL", profile.auth_url).await?;
        self.fill("Cloudflare API URL", profile.cloudflare_api_url)
            .await?;
        self.fill("Cloudflare account id", profile.account_id)
            .await?;
        if let Some(template) = profile.service_url_template {
            self.fill("Service URL template", template).await?;
        }
        self.click_button("Save profile").await?;
        self.expect_within("table", "Profiles", profile.name)
            .await?;
        self.click_button(&format!("Manage {}", profile.name))
            .await?;
        self.wait_for_text("Deploy API key: not set", FIND_TIMEOUT)
            .await?;
        self.fill("New Deploy API key", profile.deploy_api_key)
            .await?;
        self.click_button("Store Deploy API key").await?;
        self.wait_for_text("Deploy API key: stored in the keychain", FIND_TIMEOUT)
            .await?;
        Ok(())
    }

    /// The process id of tauri-driver, the ancestor of WebKitWebDriver, the app and the app's
    /// WebKit processes (and the leader of their process group).
    pub fn driver_pid(&self) -> u32 {
        self.tauri_driver.id()
    }

    /// The leak sweep: no key or token this session used — the sandbox's demo keys and token,
    /// and `extra` (keys typed in by the test) — is in any file of the data folder (its
    /// `sandbox/` folder excepted: that is the platform's side, which hands them out), in what
    /// the app wrote on stderr, or in the IPC replies recorded since `record_ipc`.
    pub async fn leak_sweep(&self, extra: &[String]) -> Result<()> {
        let mut secrets: Vec<String> = extra.to_vec();
        if let Ok(d) = self.sandbox_discovery() {
            for k in ["deploy_key", "readonly_key", "cloudflare_token"] {
                if let Some(v) = d[k].as_str() {
                    secrets.push(v.to_owned());
                }
            }
        }
        secrets.retain(|s| s.len() >= 8);
        ensure!(
            !secrets.is_empty(),
            "the leak sweep has no secret to look for"
        );
        let mut found = Vec::new();
        for file in files_under(&self.data_dir) {
            if file.starts_with(self.data_dir.join("sandbox")) {
                continue;
            }
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            for (i, s) in secrets.iter().enumerate() {
                if contains_bytes(&bytes, s.as_bytes()) {
                    found.push(format!("secret #{i} in {}", file.display()));
                }
            }
        }
        let stderr = self.stderr.lock().map(|b| b.clone()).unwrap_or_default();
        for (i, s) in secrets.iter().enumerate() {
            if contains_bytes(&stderr, s.as_bytes()) {
                found.push(format!("secret #{i} in the app's stderr"));
            }
        }
        for reply in self.ipc_log().await.unwrap_or_default() {
            for (i, s) in secrets.iter().enumerate() {
                if reply.contains(s.as_str()) {
                    found.push(format!(
                        "secret #{i} in an IPC reply ({})",
                        reply.split_whitespace().next().unwrap_or_default()
                    ));
                }
            }
        }
        // Never print the secrets themselves: only where they were found.
        ensure!(found.is_empty(), "secrets leaked: {}", found.join("; "));
        Ok(())
    }

    /// Answer the system's save dialog titled `title` (opened by the shell for an export) with
    /// `path`, as an operator would type it, then wait until the file is written. WebDriver
    /// cannot reach a native window: xdotool types into it on the virtual display.
    pub async fn save_in_dialog(&self, title: &str, path: &Path) -> Result<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let window = loop {
            let found = Command::new("xdotool")
                .args(["search", "--onlyvisible", "--name", title])
                .output()
                .context("could not run xdotool (Debian package xdotool)")?;
            let id = String::from_utf8_lossy(&found.stdout)
                .lines()
                .next()
                .map(str::to_owned);
            if let Some(id) = id {
                break id;
            }
            ensure!(
                Instant::now() < deadline,
                "no save dialog titled {title:?} opened"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        // Give the dialog a moment to map its widgets, focus it, replace the suggested name with
        // the whole path, and save.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let path_text = path.display().to_string();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !Command::new("xdotool")
            .args(["windowfocus", "--sync", window.as_str()])
            .status()?
            .success()
        {
            ensure!(
                Instant::now() < deadline,
                "the save dialog {title:?} never took the focus"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        for args in [
            vec!["key", "ctrl+a"],
            vec!["type", "--delay", "10", path_text.as_str()],
            vec!["key", "Return"],
        ] {
            let status = Command::new("xdotool").args(&args).status()?;
            ensure!(status.success(), "xdotool {args:?} failed");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(bytes) = std::fs::read(path) {
                if !bytes.is_empty() {
                    return Ok(bytes);
                }
            }
            ensure!(
                Instant::now() < deadline,
                "{} was not written after the save dialog was answered",
                path.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The leak sweep, then close the app; the first failure of the two.
    pub async fn close_after_sweep(self, extra: &[String]) -> Result<()> {
        let swept = self.leak_sweep(extra).await;
        let closed = self.close().await;
        swept.and(closed)
    }

    /// End the WebDriver session (closing the app) and stop tauri-driver.
    pub async fn close(mut self) -> Result<()> {
        let result = self.driver.clone().quit().await;
        kill_group(&mut self.tauri_driver);
        result?;
        Ok(())
    }
}

impl Drop for AppSession {
    fn drop(&mut self) {
        kill_group(&mut self.tauri_driver);
    }
}

/// Stop tauri-driver and everything it started (WebKitWebDriver, the app).
fn kill_group(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", child.id())])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Ok(None) = child.try_wait() {
            if Instant::now() > deadline {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.wait();
    }
}

/// Start tauri-driver on free ports and open a WebDriver session that launches `app` on
/// `data_dir`: the session, the driver process, and when the launch began (epoch ms).
async fn start_driver(
    app: &Path,
    data_dir: &Path,
) -> Result<(WebDriver, Child, f64, Arc<Mutex<Vec<u8>>>)> {
    let port = free_port()?;
    let native_port = free_port()?;
    let mut cmd = Command::new(find_tauri_driver()?);
    cmd.args(["--port", &port.to_string()])
        .args(["--native-port", &native_port.to_string()])
        // The app inherits this environment through WebKitWebDriver.
        .env("SWITCHYARD_DATA_DIR", data_dir)
        // Paths the scenarios type (their work folders in the temporary folder, the repository's
        // fixtures) are project folders: a native chooser cannot be driven over WebDriver.
        .env(
            "SWITCHYARD_PROJECTS",
            std::env::join_paths([std::env::temp_dir(), workspace_root()])?,
        )
        // tauri-driver says why it dropped a connection on stdout: keep it with the logs.
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if Path::new("/usr/bin/WebKitWebDriver").exists() {
        cmd.args(["--native-driver", "/usr/bin/WebKitWebDriver"]);
    }
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut tauri_driver = cmd.spawn().context("could not start tauri-driver")?;
    // The app's stderr (its logs) goes on to ours as before, and is kept for the leak sweep.
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let pipes: Vec<Box<dyn std::io::Read + Send>> = [
        tauri_driver
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        tauri_driver
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .collect();
    for mut pipe in pipes {
        let kept = stderr.clone();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let _ = std::io::stderr().write_all(&buf[..n]);
                if let Ok(mut k) = kept.lock() {
                    k.extend_from_slice(&buf[..n]);
                }
            }
        });
    }
    // tauri-driver listens at once but starts WebKitWebDriver behind it without waiting;
    // a session asked for before WebKitWebDriver listens is dropped ("error sending
    // request"). On a fresh machine, with nothing of WebKit in the page cache yet, that start
    // takes seconds: wait for both.
    let listening = wait_for_port("tauri-driver", port, Duration::from_secs(30))
        .and_then(|()| wait_for_port("WebKitWebDriver", native_port, Duration::from_secs(60)));
    if let Err(e) = listening {
        kill_group(&mut tauri_driver);
        return Err(e);
    }
    let mut caps = Capabilities::new();
    caps.set("browserName", "wry")?;
    caps.set("tauri:options", json!({ "application": app }))?;
    let launched_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or_default();
    let driver = match WebDriver::new(format!("http://127.0.0.1:{port}"), caps).await {
        Ok(d) => d,
        Err(e) => {
            kill_group(&mut tauri_driver);
            return Err(e).context("WebDriver session with the app could not start");
        }
    };
    Ok((driver, tauri_driver, launched_ms, stderr))
}

const FIND_BY_ROLE: &str = concat!(
    r#"
const [roles, name, within] = arguments;
"#,
    include_str!("role.js"),
    r#"
return sy_all(roles, within).find(el => sy_name(el) === name) || null;
"#
);

const LIST_BY_ROLE: &str = concat!(
    r#"
const [roles] = arguments;
"#,
    include_str!("role.js"),
    r#"
return sy_all(roles, null).map(sy_name);
"#
);

const FOCUSED_NAME: &str = concat!(
    include_str!("role.js"),
    r#"
const el = document.activeElement;
return el ? sy_name(el) : '';
"#
);

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Whether `haystack` contains `needle` (bytes).
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// What the "New profile" dialog is filled with by [`AppSession::add_profile`].
#[derive(Debug, Clone, Copy)]
pub struct NewProfile<'a> {
    pub name: &'a str,
    /// `production`, `staging` or `development`.
    pub environment: &'a str,
    pub deploy_api_url: &'a str,
    pub auth_url: &'a str,
    pub cloudflare_api_url: &'a str,
    pub account_id: &'a str,
    /// Left at the dialog's default when `None`.
    pub service_url_template: Option<&'a str>,
    /// Stored in the keychain after the profile is saved.
    pub deploy_api_key: &'a str,
}

/// `curl` (bounded to 10 s), as an operator checking the platform by hand would; its stdout.
pub fn curl(args: &[&str]) -> Result<String> {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .context("curl")?;
    if !out.status.success() {
        bail!(
            "curl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A binary of the debug build, in `CARGO_TARGET_DIR` when that is set.
fn debug_binary(name: &str) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("debug")
        .join(name)
}

/// The sandbox binary (`SWITCHYARD_SANDBOX_BIN`, else the debug build).
pub fn sandbox_binary() -> PathBuf {
    std::env::var_os("SWITCHYARD_SANDBOX_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| debug_binary("switchyard-sandbox"))
}

/// A sandbox running as its own process (the `switchyard-sandbox` binary) on a free port, so a
/// test can kill it as a crash or a network cut would while the app goes on.
pub struct ExternalSandbox {
    child: Child,
    /// What the sandbox printed on start: URLs, account id, demo keys.
    pub discovery: serde_json::Value,
    _dir: tempfile::TempDir,
}

impl ExternalSandbox {
    /// Start the sandbox binary on a fresh data folder and wait (at most 20 s) for it to serve.
    pub fn start() -> Result<ExternalSandbox> {
        use std::io::BufRead;
        let dir = tempfile::tempdir()?;
        let bin = sandbox_binary();
        let mut child = Command::new(&bin)
            .args(["--port", "0", "--data"])
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        // It prints its discovery JSON on stdout once it serves; read it on a thread so the
        // wait is bounded.
        let stdout = child.stdout.take().context("the sandbox's stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                text.push_str(&line);
                text.push('\n');
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                    let _ = tx.send(v);
                    break;
                }
            }
        });
        let discovery = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(v) => v,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the sandbox binary did not report its address within 20 s");
            }
        };
        Ok(ExternalSandbox {
            child,
            discovery,
            _dir: dir,
        })
    }

    /// A string field of the discovery info (`""` when missing).
    pub fn get(&self, key: &str) -> String {
        self.discovery[key].as_str().unwrap_or_default().to_owned()
    }

    /// Kill the sandbox process with SIGKILL (no graceful shutdown) and wait until it is gone.
    pub fn kill(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for ExternalSandbox {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
