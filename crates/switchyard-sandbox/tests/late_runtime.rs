//! A sandbox started without workerd executes deployed scripts as soon as one is found
//! (installed from the app's Settings, or chosen there), without a restart: `start_runtime`.
//!
//! Needs workerd (`cargo xtask setup`). A test binary of its own: it hides this machine's workerd
//! from the lookup (an empty cache folder, no SWITCHYARD_WORKERD, no wrangler on PATH), which
//! changes the environment of the whole process.
#![cfg(unix)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::start;
use switchyard_sandbox::{read_discovery, RuntimeState, WorkerdSource};

#[tokio::test]
async fn a_sandbox_started_without_workerd_executes_scripts_once_one_is_found() {
    let real = switchyard_sandbox::locate_workerd(None)
        .unwrap_or_else(|e| panic!("this test needs workerd: {e}"))
        .path;
    let cache = tempfile::tempdir().unwrap();
    std::env::set_var("XDG_CACHE_HOME", cache.path());
    std::env::remove_var("SWITCHYARD_WORKERD");
    std::env::remove_var("MINIFLARE_WORKERD_PATH");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|d| !d.join("wrangler").exists())
        .collect();
    std::env::set_var("PATH", std::env::join_paths(kept).unwrap());

    let mut s = start(true, false).await;
    let health = format!("{}/services/production/gateway/health", s.d.base_url);
    assert!(!s.sandbox.runtime_status().executing);
    let r = s.http.get(&health).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("Not executed"));

    // Looked for again, still nowhere: nothing starts, and the reason names where it looked.
    let missing = cache.path().join("nope/workerd");
    let status = s.sandbox.start_runtime(Some(&missing)).unwrap();
    assert!(!status.executing);
    assert_eq!(status.state, RuntimeState::Unavailable);
    assert!(
        status.message.contains("nope/workerd"),
        "{}",
        status.message
    );
    assert!(!read_discovery(s.dir.path()).unwrap().execution.executing);

    // Found now (the app's setting names it): it starts, and the next request runs the code.
    let status = s.sandbox.start_runtime(Some(&real)).unwrap();
    assert!(status.executing, "{status:?}");
    assert_eq!(
        status.workerd.as_ref().map(|w| (&w.path, w.source)),
        Some((&real, WorkerdSource::Setting))
    );
    assert!(
        s.sandbox.runtime_ready(Duration::from_secs(20)).await,
        "{:?}",
        s.sandbox.runtime_status()
    );
    let r = s.http.get(&health).send().await.unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let execution = read_discovery(s.dir.path()).unwrap().execution;
    assert!(execution.executing, "{execution:?}");
    assert_eq!(execution.workerd.as_ref(), Some(&real));
    let status = s.sandbox.runtime_status();
    assert_eq!(status.state, RuntimeState::Running);
    assert!(
        status
            .notices
            .iter()
            .any(|n| n.message.contains("found after the sandbox started")),
        "{status:?}"
    );

    // Asked again while it runs: nothing changes (the same process keeps running).
    let pid = s.sandbox.workerd_pid();
    assert!(pid.is_some());
    s.sandbox.start_runtime(Some(&missing)).unwrap();
    assert_eq!(s.sandbox.workerd_pid(), pid);

    // And it stops with the sandbox.
    let pid = pid.unwrap();
    s.sandbox.shutdown().await;
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z ")),
        "workerd {pid} outlived the sandbox"
    );
}
