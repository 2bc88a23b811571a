//! Profile import under attack: arbitrary text and broken TOML built from the export's own pieces
//! never panic, never loop, are refused with a clear message, and never change a stored profile
//! unless the whole file is valid. `SWITCHYARD_FUZZ_CASES` sets the number of cases (64 in the
//! normal suite; `cargo xtask fuzz` runs many more, in release).

use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use switchyard_core::SystemClock;
use switchyard_ops::Ops;
use switchyard_secrets::MemoryStore;

fn cases() -> u32 {
    std::env::var("SWITCHYARD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

const TOML: &[&str] = &[
    "[[profile]]\n",
    "[[profiles]]\n",
    "id = \"stg\"\n",
    "id = \"local-sandbox\"\n",
    "name = \"Staging\"\n",
    "environment = \"staging\"\n",
    "environment = \"prod\"\n",
    "protection = \"readOnly\"\n",
    "sandbox = true\n",
    "deploy_api_url = \"https://deploy.do\"\n",
    "deploy_api_url = \"http://10.0.0.1\"\n",
    "auth_url = \"https://auth.do\"\n",
    "cloudflare_api_url = \"https://api.cloudflare.com/client/v4\"\n",
    "account_id = \"acc\"\n",
    "namespace = \"dotdo-staging\"\n",
    "services = [\"gateway\", \"db\"]\n",
    "services = [\"../etc\"]\n",
    "service_url_template = \"https://{service}.{environment}.do\"\n",
    "dispatcher_url = \"\"\n",
    "x = 1e999\n",
    "\"unterminated\n",
    "= = =\n",
    "[table\n",
    "é = 1\n",
    "\n",
];

fn tomlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOML), 0..40).prop_map(|p| p.concat())
}

#[test]
fn profile_import_never_panics_and_changes_nothing_when_refused() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ops = rt
        .block_on(Ops::open(
            dir.path(),
            Arc::new(MemoryStore::new()),
            Arc::new(SystemClock),
        ))
        .unwrap();
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    runner
        .run(&prop_oneof![any::<String>(), tomlish()], |text| {
            let before = rt.block_on(ops.store().list_profiles()).unwrap();
            let started = Instant::now();
            let result = rt.block_on(ops.import_profiles(&text, true));
            prop_assert!(started.elapsed() < Duration::from_secs(2));
            match result {
                Ok(imported) => {
                    prop_assert!(!imported.is_empty());
                    prop_assert!(imported.iter().all(|p| !p.sandbox));
                }
                Err(e) => {
                    prop_assert!(!e.message.is_empty());
                    let after = rt.block_on(ops.store().list_profiles()).unwrap();
                    prop_assert_eq!(before, after, "a refused import changes nothing");
                }
            }
            Ok(())
        })
        .unwrap();
}
