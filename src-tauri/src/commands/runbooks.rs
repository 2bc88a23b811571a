use std::collections::BTreeMap;

use switchyard_core::{validate, AppError};
use switchyard_ops::{
    runbook_link_for_error, ActiveFault, RehearsalFault, RunDetail, RunSummary, RunbookCatalog,
    RunbookLink, StepOutput, StepPlan, StepRunRequest,
};
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::input::{params, Checked, INDEX_MAX, NOTE_MAX};
use crate::state::AppState;

/// Every runbook (built-in and the user's), and the problems of user files that did not load.
#[tauri::command]
#[specta::specta]
pub async fn runbook_catalog(state: State<'_, AppState>) -> Result<RunbookCatalog, AppError> {
    state.ops.runbook_catalog().await
}

/// The runbook (and step) that covers an error's runbook section, if any.
#[tauri::command]
#[specta::specta]
pub async fn runbook_for_error(section: String) -> Result<Option<RunbookLink>, AppError> {
    validate::line("section", &section, validate::LABEL_MAX)?;
    Ok(runbook_link_for_error(&section))
}

/// Start a run of a runbook for a profile (a rehearsal only on the sandbox).
#[tauri::command]
#[specta::specta]
pub async fn start_run(
    state: State<'_, AppState>,
    profile_id: String,
    runbook_id: String,
    inputs: BTreeMap<String, String>,
    rehearsal: bool,
) -> Result<RunDetail, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::line("runbookId", &runbook_id, validate::LABEL_MAX)?;
    params("inputs", &inputs)?;
    state
        .ops
        .start_run(&profile_id, &runbook_id, inputs, rehearsal)
        .await
}

/// Runs, newest first, open and finished (of one profile, or all).
#[tauri::command]
#[specta::specta]
pub async fn list_runs(
    state: State<'_, AppState>,
    profile_id: Option<String>,
) -> Result<Vec<RunSummary>, AppError> {
    validate::opt(profile_id.as_deref(), |p| {
        validate::profile_id("profileId", p)
    })?;
    state.ops.runs(profile_id.as_deref()).await
}

/// A run with its steps, checks, outputs and timeline.
#[tauri::command]
#[specta::specta]
pub async fn run_detail(state: State<'_, AppState>, run_id: String) -> Result<RunDetail, AppError> {
    validate::id("runId", &run_id)?;
    state.ops.run_detail(&run_id).await
}

/// What running a step's action would do, with the confirmation it needs.
#[tauri::command]
#[specta::specta]
pub async fn step_plan(
    state: State<'_, AppState>,
    run_id: String,
    step_index: u32,
    values: BTreeMap<String, String>,
) -> Result<StepPlan, AppError> {
    validate::id("runId", &run_id)?;
    validate::range("stepIndex", step_index, 0..=INDEX_MAX)?;
    params("values", &values)?;
    state.ops.step_plan(&run_id, step_index, values).await
}

/// Run a step's action; its output streams on `on_output`.
#[tauri::command]
#[specta::specta]
pub async fn run_step(
    state: State<'_, AppState>,
    run_id: String,
    step_index: u32,
    request: StepRunRequest,
    on_output: Channel<StepOutput>,
) -> Result<RunDetail, AppError> {
    validate::id("runId", &run_id)?;
    validate::range("stepIndex", step_index, 0..=INDEX_MAX)?;
    request.check("request")?;
    state
        .ops
        .run_step(&run_id, step_index, request, move |o| {
            let _ = on_output.send(o);
        })
        .await
}

/// Stop a step's running command.
#[tauri::command]
#[specta::specta]
pub async fn stop_step(
    state: State<'_, AppState>,
    run_id: String,
    step_index: u32,
) -> Result<bool, AppError> {
    validate::id("runId", &run_id)?;
    validate::range("stepIndex", step_index, 0..=INDEX_MAX)?;
    state.ops.stop_step(&run_id, step_index).await
}

/// Tick or untick a manual check.
#[tauri::command]
#[specta::specta]
pub async fn set_check(
    state: State<'_, AppState>,
    run_id: String,
    step_index: u32,
    check_index: u32,
    checked: bool,
) -> Result<RunDetail, AppError> {
    validate::id("runId", &run_id)?;
    validate::range("stepIndex", step_index, 0..=INDEX_MAX)?;
    validate::range("checkIndex", check_index, 0..=INDEX_MAX)?;
    state
        .ops
        .set_check(&run_id, step_index, check_index, checked)
        .await
}

/// Mark a step without an action as done.
#[tauri::command]
#[specta::specta]
pub async fn complete_step(
    state: State<'_, AppState>,
    run_id: String,
    step_index: u32,
) -> Result<RunDetail, AppError> {
    validate::id("runId", &run_id)?;
    validate::range("stepIndex", step_index, 0..=INDEX_MAX)?;
    state.ops.complete_step(&run_id, step_index).await
}

/// Skip a step, saying why.
#[tauri::command]
#[specta::specta]
pub async fn skip_step(
    state: State<'_, AppState>,
    run_id: String,
    step_index: u32,
    reason: String,
) -> Result<RunDetail, AppError> {
    validate::id("runId", &run_id)?;
    validate::range("stepIndex", step_index, 0..=INDEX_MAX)?;
    validate::text("reason", &reason, validate::TEXT_MAX)?;
    state.ops.skip_step(&run_id, step_index, &reason).await
}

/// Add a note to a run's timeline (optionally about one step).
#[tauri::command]
#[specta::specta]
pub async fn add_run_note(
    state: State<'_, AppState>,
    run_id: String,
    step_index: Option<u32>,
    text: String,
) -> Result<RunDetail, AppError> {
    validate::id("runId", &run_id)?;
    validate::opt(step_index.as_ref(), |&i| {
        validate::range("stepIndex", i, 0..=INDEX_MAX)
    })?;
    validate::text("text", &text, NOTE_MAX)?;
    state.ops.add_run_note(&run_id, step_index, &text).await
}

/// Close a run whose every step passed, failed or was skipped.
#[tauri::command]
#[specta::specta]
pub async fn finish_run(state: State<'_, AppState>, run_id: String) -> Result<RunDetail, AppError> {
    validate::id("runId", &run_id)?;
    state.ops.finish_run(&run_id).await
}

/// Close a run that will not be finished, saying why.
#[tauri::command]
#[specta::specta]
pub async fn abandon_run(
    state: State<'_, AppState>,
    run_id: String,
    reason: String,
) -> Result<RunDetail, AppError> {
    validate::id("runId", &run_id)?;
    validate::text("reason", &reason, validate::TEXT_MAX)?;
    state.ops.abandon_run(&run_id, &reason).await
}

/// The run as an incident report in Markdown (secrets redacted).
#[tauri::command]
#[specta::specta]
pub async fn incident_report(
    state: State<'_, AppState>,
    run_id: String,
) -> Result<String, AppError> {
    validate::id("runId", &run_id)?;
    state.ops.incident_report(&run_id).await
}

/// The faults set in the sandbox of a sandbox profile.
#[tauri::command]
#[specta::specta]
pub async fn sandbox_faults(
    state: State<'_, AppState>,
    profile_id: String,
) -> Result<Vec<ActiveFault>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    state.ops.sandbox_faults(&profile_id).await
}

/// Inject a rehearsal fault into the sandbox (sandbox profiles only).
#[tauri::command]
#[specta::specta]
pub async fn inject_fault(
    state: State<'_, AppState>,
    profile_id: String,
    fault: RehearsalFault,
    run_id: Option<String>,
) -> Result<Vec<ActiveFault>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    fault.check("fault")?;
    validate::opt(run_id.as_deref(), |r| validate::id("runId", r))?;
    state
        .ops
        .inject_fault(&profile_id, fault, run_id.as_deref())
        .await
}

/// Clear one fault (by target) or all of them.
#[tauri::command]
#[specta::specta]
pub async fn clear_fault(
    state: State<'_, AppState>,
    profile_id: String,
    target: Option<String>,
    run_id: Option<String>,
) -> Result<Vec<ActiveFault>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::opt(target.as_deref(), |t| {
        validate::key("target", t, validate::LABEL_MAX)
    })?;
    validate::opt(run_id.as_deref(), |r| validate::id("runId", r))?;
    state
        .ops
        .clear_fault(&profile_id, target.as_deref(), run_id.as_deref())
        .await
}
