//! Starting workerd and keeping it running: one process per sandbox, started with it, restarted
//! (with backoff) when it exits or stops answering, stopped with it. On Linux it is started through
//! `setpriv --pdeathsig KILL`, so it dies with the sandbox even when the sandbox is killed.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use command_fds::{CommandFdExt, FdMapping};
use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, Command};
use tokio::sync::watch;

use super::{RuntimeInner, RuntimeState, WorkerdBinary};

/// How long workerd may take to listen after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Liveness: a ping this often; this many misses in a row and it is restarted.
const PING_EVERY: Duration = Duration::from_secs(2);
const PING_TIMEOUT: Duration = Duration::from_secs(3);
const MISSES_BEFORE_RESTART: u32 = 3;
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

fn setpriv() -> Option<PathBuf> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    ["/usr/bin/setpriv", "/bin/setpriv"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Starts workerd on `config`, waits for its `listen` event on the control pipe; returns the
/// child and the port it listens on.
async fn spawn(binary: &WorkerdBinary, config: &Path) -> anyhow::Result<(Child, u16)> {
    let (reader, writer) = std::io::pipe().context("creating the control pipe")?;
    let mut cmd = match setpriv() {
        Some(sp) => {
            let mut c = Command::new(sp);
            c.args(["--pdeathsig", "KILL", "--"]).arg(&binary.path);
            c
        }
        None => Command::new(&binary.path),
    };
    cmd.arg("serve")
        .arg("--experimental")
        .arg("--control-fd=3")
        .arg(config)
        .stdin(Stdio::null())
        // A user worker's console output is captured by the tail, not from here.
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd.fd_mappings(vec![FdMapping {
        parent_fd: writer.into(),
        child_fd: 3,
    }])
    .context("passing the control pipe to workerd")?;
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", binary.path.display()))?;
    drop(cmd);
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let line: String = line.chars().take(2000).collect();
                tracing::warn!(target: "switchyard_sandbox::workerd", "{line}");
            }
        });
    }
    // The control pipe is read on a thread of its own until workerd closes it.
    let (port_tx, port_rx) = tokio::sync::oneshot::channel::<u16>();
    std::thread::spawn(move || {
        let mut port_tx = Some(port_tx);
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if event["event"] == "listen" && event["socket"] == "http" {
                if let (Some(tx), Some(port)) = (port_tx.take(), event["port"].as_u64()) {
                    let _ = tx.send(port as u16);
                }
            }
        }
    });
    tokio::select! {
        port = port_rx => match port {
            Ok(p) => Ok((child, p)),
            Err(_) => {
                let status = child.wait().await.ok();
                bail!("workerd exited before listening ({})", status.map_or("unknown status".into(), |s| s.to_string()))
            }
        },
        status = child.wait() => bail!("workerd exited before listening ({})", status.map_or("unknown status".into(), |s| s.to_string())),
        _ = tokio::time::sleep(START_TIMEOUT) => {
            let _ = child.start_kill();
            bail!("workerd did not listen within {} s", START_TIMEOUT.as_secs())
        }
    }
}

/// Why a running workerd stopped serving.
enum Ended {
    Exited(String),
    Hung,
    Shutdown,
}

async fn watch_child(
    inner: &RuntimeInner,
    child: &mut Child,
    port: u16,
    shutdown: &mut watch::Receiver<bool>,
) -> Ended {
    let ping_url = format!("http://127.0.0.1:{port}/__sw_ping");
    let mut misses = 0u32;
    let mut ticker = tokio::time::interval(PING_EVERY);
    ticker.tick().await;
    loop {
        tokio::select! {
            status = child.wait() => {
                return Ended::Exited(status.map_or_else(|e| e.to_string(), |s| s.to_string()));
            }
            _ = shutdown.changed() => return Ended::Shutdown,
            _ = ticker.tick() => {
                let ok = inner.http.get(&ping_url).timeout(PING_TIMEOUT).send().await
                    .is_ok_and(|r| r.status().is_success());
                misses = if ok { 0 } else { misses + 1 };
                if misses >= MISSES_BEFORE_RESTART {
                    return Ended::Hung;
                }
            }
        }
    }
}

/// Keeps workerd running until `shutdown` turns true.
pub(super) async fn supervise(
    inner: Arc<RuntimeInner>,
    binary: WorkerdBinary,
    config: PathBuf,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = BACKOFF_FIRST;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let started = std::time::Instant::now();
        match spawn(&binary, &config).await {
            Ok((mut child, port)) => {
                inner.set_running(port, child.id());
                let ended = watch_child(&inner, &mut child, port, &mut shutdown).await;
                inner.set_down();
                match ended {
                    Ended::Shutdown => {
                        let _ = child.start_kill();
                        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
                        inner.set_state(RuntimeState::Stopped);
                        return;
                    }
                    Ended::Exited(status) => inner.notice(format!(
                        "workerd exited ({status}); scripts were not executed until it was restarted"
                    )),
                    Ended::Hung => {
                        let _ = child.start_kill();
                        let _ = child.wait().await;
                        inner.notice(format!(
                            "workerd stopped answering ({MISSES_BEFORE_RESTART} pings missed); it was killed and restarted"
                        ));
                    }
                }
                if started.elapsed() > Duration::from_secs(30) {
                    backoff = BACKOFF_FIRST;
                }
            }
            Err(e) => inner.notice(format!("workerd failed to start: {e:#}")),
        }
        inner.set_state(RuntimeState::Restarting);
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => {
                inner.set_state(RuntimeState::Stopped);
                return;
            }
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}
