//! Runbook runs: the catalog (built-in and user runbooks), runs bound to a profile, each step's
//! action dispatched to the same façade functions the views use, state written to SQLite as it
//! happens (running before the call, output as it streams, passed/failed after), crash recovery
//! (a step that was running when the app died reads back as interrupted), the incident report,
//! and sandbox fault injection for rehearsals.

mod actions;
mod catalog;
mod format;
mod lifecycle;
mod output;
mod plan;
mod records;
mod rehearsal;
mod report;
mod steps;
mod types;

use std::collections::HashMap;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};

use switchyard_core::AppError;
pub use switchyard_runbooks::{
    ActionBlock, AskField, HealthTarget, ManualCheck, ParamValue, ResolvedStepAction, RunStepState,
    Runbook, RunbookCatalog, RunbookError, RunbookInput, RunbookLink, RunbookOrigin,
    RunbookProblem, RunbookStep, StepAction, StepBlocker, StepCondition, StepOutcome, ValueKind,
};
use switchyard_store::{RunRecord, RunStepRecord};

pub(crate) use format::{redact, utc};
pub use rehearsal::{ActiveFault, RehearsalFault};
pub use types::{
    ActionParam, RunCheck, RunDetail, RunEvent, RunProgress, RunState, RunStep, RunSummary,
    StepConfirmation, StepConfirmationKind, StepOutput, StepPlan, StepRunRequest,
};

/// The most output kept per step; more is still streamed but not stored.
pub const MAX_STEP_OUTPUT_BYTES: usize = 256 * 1024;

// ---------------------------------------------------------------------------------------------
// In-process state: steps executing now, per-run locks, the crash simulator for tests.

#[derive(Default)]
pub(crate) struct RunbookRuntime {
    /// Steps whose action is executing in this process, with the switch that stops them.
    live: Mutex<HashMap<(String, u32), tokio::sync::watch::Sender<bool>>>,
    /// One lock per run, held around each read-modify-write of the run.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Tests: refuse every write after this many (a simulated crash).
    writes_left: Mutex<Option<u32>>,
    ids: AtomicU32,
}

impl std::fmt::Debug for RunbookRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunbookRuntime").finish_non_exhaustive()
    }
}

/// Removes a step from the live set however its execution ends.
struct LiveGuard<'a> {
    runtime: &'a RunbookRuntime,
    key: (String, u32),
}

impl Drop for LiveGuard<'_> {
    fn drop(&mut self) {
        self.runtime
            .live
            .lock()
            .expect("live steps")
            .remove(&self.key);
    }
}

impl RunbookRuntime {
    fn lock_for(&self, run_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .expect("run locks")
            .entry(run_id.to_owned())
            .or_default()
            .clone()
    }

    fn is_live(&self, run_id: &str, step: u32) -> bool {
        self.live
            .lock()
            .expect("live steps")
            .contains_key(&(run_id.to_owned(), step))
    }

    fn spend_write(&self) -> Result<(), AppError> {
        let mut left = self.writes_left.lock().expect("write budget");
        match left.as_mut() {
            Some(0) => Err(AppError::internal(
                "Saving the runbook run (simulated crash)",
            )),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// The built-in runbook (and step) for an error's `runbook` heading (`AppError.runbook`), so the
/// window can open it in one click. `None` for a heading no runbook covers.
pub fn runbook_link_for_error(heading: &str) -> Option<RunbookLink> {
    switchyard_runbooks::runbook_link_for_heading(heading)
}

/// The run's data, loaded under its lock.
struct Loaded {
    run: RunRecord,
    runbook: Runbook,
    steps: Vec<RunStepRecord>,
}

#[cfg(all(test, feature = "specta"))]
mod typescript {
    use super::*;

    /// Every type the runbook commands send crosses IPC as TypeScript without BigInt or clashes.
    #[test]
    fn runbook_types_export_to_typescript() {
        let types = specta::Types::default()
            .register::<RunDetail>()
            .register::<RunSummary>()
            .register::<StepPlan>()
            .register::<StepRunRequest>()
            .register::<StepOutput>()
            .register::<RehearsalFault>()
            .register::<ActiveFault>()
            .register::<RunbookCatalog>()
            .register::<RunbookLink>()
            .register::<ResolvedStepAction>();
        let ts = specta_typescript::Typescript::default()
            .export(&types, specta_serde::Format)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(ts.contains("RunStepState"), "{ts}");
    }
}
