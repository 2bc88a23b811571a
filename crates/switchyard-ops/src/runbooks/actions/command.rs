//! `command`: a local shell command, in a minimal environment, stopped on request or timeout
//! with its whole process group.

use std::path::Path;
use std::time::Duration;

use super::{ActionResult, Failure, Ops, OutputSink, StepOutput};

impl Ops {
    /// Run `command` in `folder`, streaming its output; the step fails on a non-zero exit.
    pub(super) async fn rb_run_command<P: Fn(StepOutput) + Send + Sync>(
        &self,
        profile_id: &str,
        folder: &str,
        command: &str,
        timeout_secs: u32,
        sink: &mut OutputSink<'_, P>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<ActionResult, Failure> {
        use tokio::io::AsyncBufReadExt;
        let dir = Path::new(folder);
        if !dir.is_dir() {
            return Ok(ActionResult::fail(format!(
                "The folder {folder} does not exist or is not a folder. Choose the right folder and run the step again."
            )));
        }
        // The folder came from the window (asked, or a run input): a command runs only where
        // the operator chose with Browse… or inside a project folder.
        if let Err(e) = self
            .allow_path("folder", folder, crate::PathUse::Existing)
            .await
        {
            return Ok(ActionResult::fail(e.message));
        }
        sink.emit(&format!("$ {command}    (in {folder})"))
            .await
            .map_err(Failure::Store)?;
        let mut cmd = if cfg!(windows) {
            let mut c = tokio::process::Command::new("cmd");
            c.arg("/C").arg(command);
            c
        } else {
            let mut c = tokio::process::Command::new("sh");
            c.arg("-c").arg(command);
            c
        };
        // A minimal environment: no token or key the app was started with. On the Local sandbox
        // the step gets the sandbox's URLs and demo credentials, so a rehearsal's wrangler or
        // curl can never reach a real account.
        let extra = self.sandbox_env_for(profile_id).await;
        cmd.env_clear()
            .envs(crate::process::minimal_env(std::env::vars(), &extra))
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                return Ok(ActionResult::fail(format!(
                    "The command could not be started: {e}."
                )))
            }
        };
        let pid = child.id();
        let begun = self
            .audit_begin(
                profile_id,
                "runbook.command",
                folder,
                serde_json::json!({ "command": command, "folder": folder }),
            )
            .await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        if let Some(out) = child.stdout.take() {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(out).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
            });
        }
        if let Some(err) = child.stderr.take() {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(err).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let deadline = tokio::time::sleep(Duration::from_secs(u64::from(timeout_secs)));
        tokio::pin!(deadline);
        let mut status = None;
        let mut ended_by: Option<&str> = None;
        let mut output_open = true;
        while status.is_none() || output_open {
            tokio::select! {
                line = rx.recv(), if output_open => match line {
                    Some(l) => sink.emit(&l).await.map_err(Failure::Store)?,
                    None => output_open = false,
                },
                s = child.wait(), if status.is_none() => {
                    status = Some(s);
                }
                _ = &mut deadline, if ended_by.is_none() => {
                    ended_by = Some("timeout");
                    kill_tree(&mut child, pid);
                }
                changed = stop.changed(), if ended_by.is_none() => {
                    if changed.is_ok() && *stop.borrow() {
                        ended_by = Some("stopped");
                        kill_tree(&mut child, pid);
                    }
                }
            }
            if ended_by.is_some() && status.is_some() {
                // Grandchildren may hold the pipes open; do not wait for them.
                break;
            }
        }
        let result = match (ended_by, status) {
            (Some("timeout"), _) => ActionResult::fail(format!(
                "The command did not finish within {timeout_secs} s and was stopped."
            )),
            (Some(_), _) => ActionResult::fail("Stopped by the operator."),
            (None, Some(Ok(s))) if s.success() => ActionResult::pass(),
            (None, Some(Ok(s))) => ActionResult::fail(match s.code() {
                Some(code) => format!("The command failed with exit status {code}."),
                None => "The command was killed by a signal.".to_owned(),
            }),
            (None, Some(Err(e))) => {
                ActionResult::fail(format!("Waiting for the command failed: {e}."))
            }
            (None, None) => ActionResult::fail("The command ended without an exit status."),
        };
        let outcome = if result.passed { "ok" } else { "failed" };
        self.audit_end(begun, outcome, result.error.as_deref())
            .await;
        Ok(result)
    }
    /// What a shell step on `profile_id` adds to its minimal environment: on the Local sandbox,
    /// its Cloudflare API URL, account and demo token (wrangler's `CLOUDFLARE_API_BASE_URL`,
    /// `CLOUDFLARE_ACCOUNT_ID`, `CLOUDFLARE_API_TOKEN`) and the Deploy API's URL; elsewhere
    /// nothing.
    async fn sandbox_env_for(&self, profile_id: &str) -> Vec<(String, String)> {
        let Ok(profile) = self.for_profile(profile_id).await else {
            return Vec::new();
        };
        if !profile.sandbox {
            return Vec::new();
        }
        let link = self.sandbox_link.read().expect("sandbox link lock");
        let Some(d) = link.as_ref().map(|l| &l.discovery) else {
            return Vec::new();
        };
        vec![
            (
                "CLOUDFLARE_API_BASE_URL".into(),
                d.cloudflare_api_url.clone(),
            ),
            ("CLOUDFLARE_ACCOUNT_ID".into(), d.account_id.clone()),
            ("CLOUDFLARE_API_TOKEN".into(), d.cloudflare_token.clone()),
            ("SWITCHYARD_DEPLOY_API_URL".into(), d.deploy_api_url.clone()),
        ]
    }
}

fn kill_tree(child: &mut tokio::process::Child, pid: Option<u32>) {
    // The command leads its own process group: end the whole group (pnpm, node, …).
    if let Some(pid) = pid {
        crate::process::signal_group(pid, crate::process::Stop::Kill);
    }
    let _ = child.start_kill();
}
