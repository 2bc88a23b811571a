//! Switchyard's runbooks: the Markdown format (headings are steps, prose is instruction, `- [ ]`
//! items are manual checks, ```` ```switchyard <action> key=value ```` blocks are typed actions,
//! `{gate}` and `{when=step:failed}` heading attributes), its parser with line-numbered errors, the
//! built-in runbooks that turn every procedure of `workers-runbook.md` into a checklist, the link
//! from an error's runbook section to its runbook, and the pure run state machine (step states,
//! gates, conditions). The format is described in this crate's `README.md`.
//!
//! It does no I/O: it must not depend on `tokio`, `sqlx`, an HTTP client, `tauri` or any other
//! Switchyard crate but `switchyard-core`. Running actions and keeping runs is `switchyard-ops`'s job.

mod action;
mod builtin;
mod model;
mod parse;
mod run;

pub use action::{
    HealthTarget, ParamValue, ResolvedStepAction, StepAction, ValueKind, ACTION_NAMES,
    DEFAULT_COMMAND_TIMEOUT_SECS, DEFAULT_LOGS_SECONDS, MAX_COMMAND_TIMEOUT_SECS, MAX_LOGS_SECONDS,
};
pub use builtin::{
    builtin_runbooks, builtin_source, runbook_link, runbook_link_for_heading, RunbookCatalog,
    RunbookLink, RunbookProblem, UserRunbookFile, BUILTIN_RUNBOOKS, RUNBOOK_SECTIONS,
    USER_ID_PREFIX,
};
pub use model::{
    ActionBlock, AskField, ManualCheck, Runbook, RunbookError, RunbookInput, RunbookOrigin,
    RunbookStep, StepCondition, StepOutcome,
};
pub use parse::parse_runbook;
pub use run::{
    blocker, condition_changes, current_step, failed_gates, gate_skip_refusal, not_reached, settle,
    unfinished_steps, ConditionChange, RunStepState, StepBlocker, StepStatus,
};
