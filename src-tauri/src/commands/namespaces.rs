use std::path::Path;

use switchyard_core::{validate, AppError};
use switchyard_ops::{BindingsDiff, DeletePlan, Drift, NamespaceSummary, WorkerDetail, WorkerRow};
use tauri::State;

use crate::commands::input::SCRIPT_COUNT_MAX;
use crate::state::AppState;

/// Dispatch namespaces of the profile's Cloudflare account.
#[tauri::command]
#[specta::specta]
pub async fn list_namespaces(
    state: State<'_, AppState>,
    profile_id: String,
) -> Result<Vec<NamespaceSummary>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    state.ops.list_namespaces(&profile_id).await
}

/// Create a dispatch namespace.
#[tauri::command]
#[specta::specta]
pub async fn create_namespace(
    state: State<'_, AppState>,
    profile_id: String,
    name: String,
) -> Result<NamespaceSummary, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("name", &name)?;
    state.ops.create_namespace(&profile_id, &name).await
}

/// Turn trusted mode on or off (`request.cf` and the shared cache for its workers).
#[tauri::command]
#[specta::specta]
pub async fn set_namespace_trusted(
    state: State<'_, AppState>,
    profile_id: String,
    name: String,
    trusted: bool,
) -> Result<NamespaceSummary, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("name", &name)?;
    state.ops.set_trusted(&profile_id, &name, trusted).await
}

/// Rename a namespace.
#[tauri::command]
#[specta::specta]
pub async fn rename_namespace(
    state: State<'_, AppState>,
    profile_id: String,
    name: String,
    new_name: String,
) -> Result<NamespaceSummary, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("name", &name)?;
    validate::namespace("newName", &new_name)?;
    state
        .ops
        .rename_namespace(&profile_id, &name, &new_name)
        .await
}

/// What deleting a namespace would delete, and the phrase to type to confirm.
#[tauri::command]
#[specta::specta]
pub async fn namespace_delete_plan(
    state: State<'_, AppState>,
    profile_id: String,
    name: String,
) -> Result<DeletePlan, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("name", &name)?;
    state.ops.delete_namespace_plan(&profile_id, &name).await
}

/// Delete a namespace and its workers; refused unless `typed_confirmation` is its name and it
/// still holds the `planned_script_count` workers its plan counted.
#[tauri::command]
#[specta::specta]
pub async fn delete_namespace(
    state: State<'_, AppState>,
    profile_id: String,
    name: String,
    typed_confirmation: String,
    planned_script_count: Option<u32>,
) -> Result<(), AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("name", &name)?;
    validate::line(
        "typedConfirmation",
        &typed_confirmation,
        validate::LABEL_MAX,
    )?;
    validate::opt(planned_script_count.as_ref(), |&n| {
        validate::range("plannedScriptCount", n, 0..=SCRIPT_COUNT_MAX)
    })?;
    state
        .ops
        .delete_namespace(&profile_id, &name, typed_confirmation, planned_script_count)
        .await
}

/// Every worker of a namespace, with its tags parsed.
#[tauri::command]
#[specta::specta]
pub async fn list_workers(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
) -> Result<Vec<WorkerRow>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    state.ops.list_workers(&profile_id, &namespace).await
}

/// A worker's tags, bindings, settings and size.
#[tauri::command]
#[specta::specta]
pub async fn worker_detail(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
) -> Result<WorkerDetail, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    state
        .ops
        .worker_detail(&profile_id, &namespace, &script)
        .await
}

/// A worker's source.
#[tauri::command]
#[specta::specta]
pub async fn worker_content(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
) -> Result<String, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    state
        .ops
        .worker_content(&profile_id, &namespace, &script)
        .await
}

/// Delete one worker from a namespace.
#[tauri::command]
#[specta::specta]
pub async fn delete_worker(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
    typed_confirmation: String,
) -> Result<(), AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    validate::line(
        "typedConfirmation",
        &typed_confirmation,
        validate::LABEL_MAX,
    )?;
    state
        .ops
        .delete_worker(&profile_id, &namespace, &script, &typed_confirmation)
        .await
}

/// Which services differ between two namespaces.
#[tauri::command]
#[specta::specta]
pub async fn compare_namespaces(
    state: State<'_, AppState>,
    profile_id: String,
    left: String,
    right: String,
) -> Result<Drift, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("left", &left)?;
    validate::namespace("right", &right)?;
    state
        .ops
        .compare_namespaces(&profile_id, &left, &right)
        .await
}

/// The bindings in a local service folder's wrangler.jsonc against a deployed worker's.
#[tauri::command]
#[specta::specta]
pub async fn compare_bindings(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
    folder: String,
) -> Result<BindingsDiff, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    validate::path("folder", &folder)?;
    state
        .ops
        .compare_bindings_in_folder(&profile_id, &namespace, &script, Path::new(&folder))
        .await
}
