//! What the ops integration tests share: one clock the tests control, and the fixture most of
//! them start from — a real sandbox on 127.0.0.1 (real HTTP), a real SQLite folder and an
//! in-memory keychain, with the "Local sandbox" profile bound to the sandbox.
//!
//! Each test file includes it with `mod support;`; a file uses only part of it.
#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use switchyard_core::{Clock, Environment, Profile};
use switchyard_ops::Ops;
use switchyard_sandbox::{Discovery, Sandbox, SandboxConfig};
use switchyard_secrets::MemoryStore;

/// The time most tests start at (2023-11-14T22:13:20Z).
pub const T0: i64 = 1_700_000_000_000;

/// A clock the test controls: it stays where it is until moved ([`TestClock::at`]), or moves on
/// by a fixed step at every reading ([`TestClock::ticking`]), so records made one after the
/// other have distinct, ordered times.
#[derive(Debug)]
pub struct TestClock {
    now: AtomicI64,
    step: i64,
}

impl TestClock {
    /// A clock at `ms` that moves only when the test moves it.
    pub fn at(ms: i64) -> Arc<TestClock> {
        Arc::new(TestClock {
            now: AtomicI64::new(ms),
            step: 0,
        })
    }

    /// A clock at `ms` that moves `step_ms` on every time it is read.
    pub fn ticking(ms: i64, step_ms: i64) -> Arc<TestClock> {
        Arc::new(TestClock {
            now: AtomicI64::new(ms),
            step: step_ms,
        })
    }

    /// Real time now, in epoch milliseconds (for a clock that starts at it: the sandbox stamps
    /// its records with the real time).
    pub fn real_now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the system clock is after 1970")
            .as_millis() as i64
    }

    pub fn advance(&self, ms: i64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set(&self, ms: i64) {
        self.now.store(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.now.fetch_add(self.step, Ordering::SeqCst)
    }
}

/// Start a sandbox with its data in `dir` (127.0.0.1, a free port).
pub async fn start_sandbox(dir: &Path) -> Sandbox {
    Sandbox::start(SandboxConfig::new(dir.to_path_buf()))
        .await
        .expect("the sandbox starts")
}

/// Open the app on data folder `dir` with `clock` and a new in-memory keychain.
pub async fn open_ops(dir: &Path, clock: Arc<TestClock>) -> Ops {
    Ops::open(dir, Arc::new(MemoryStore::new()), clock)
        .await
        .expect("the app opens its data folder")
}

/// A sandbox, the app bound to it, the clock, the keychain and the folder holding both
/// (`sandbox/` and `app/`), removed when dropped.
pub struct Fixture {
    pub ops: Ops,
    pub sandbox: Sandbox,
    pub clock: Arc<TestClock>,
    pub keychain: Arc<MemoryStore>,
    pub dir: tempfile::TempDir,
}

/// The usual fixture: the clock at [`T0`], moved by hand.
pub async fn fixture() -> Fixture {
    fixture_with(TestClock::at(T0)).await
}

/// The fixture with a clock of the test's choosing.
pub async fn fixture_with(clock: Arc<TestClock>) -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let sandbox = start_sandbox(&dir.path().join("sandbox")).await;
    let keychain = Arc::new(MemoryStore::new());
    let ops = Ops::open(&dir.path().join("app"), keychain.clone(), clock.clone())
        .await
        .expect("the app opens its data folder");
    ops.attach_sandbox(sandbox.discovery().clone())
        .await
        .expect("the sandbox profile binds to the sandbox");
    Fixture {
        ops,
        sandbox,
        clock,
        keychain,
        dir,
    }
}

/// A user profile (`id`, named `name`, in `environment`) whose Deploy API, auth service and
/// Cloudflare account are the sandbox's, as a real one points at the platform's.
pub fn user_profile(d: &Discovery, id: &str, name: &str, environment: Environment) -> Profile {
    let mut p = Profile::for_environment(id, name, environment);
    p.deploy_api_url = d.deploy_api_url.clone();
    p.auth_url = d.auth_url.clone();
    p.cloudflare_api_url = d.cloudflare_api_url.clone();
    p.account_id = d.account_id.clone();
    p
}

/// Copy the folder `from` (a fixture service) to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Make every request to `target` answer 500 until the faults are cleared.
pub fn fail_with_500(sandbox: &Sandbox, target: switchyard_sandbox::FaultTarget) {
    sandbox
        .faults()
        .set(
            target,
            switchyard_sandbox::Fault::Error {
                status: 500,
                body: None,
            },
        )
        .expect("the fault is set");
}
