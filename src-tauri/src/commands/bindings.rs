//! Bindings edited in place: a service folder's `wrangler.jsonc` service bindings read, an edit
//! planned (file diff, services looked up, deployed difference) and saved. Nothing is deployed
//! here: bindings change on the next deploy.

use switchyard_core::{validate, AppError};
use switchyard_ops::bindings_edit::{
    check_request, BindingsEditApplied, BindingsEditPlan, BindingsEditRequest, FolderBindings,
};
use switchyard_ops::PathUse;
use tauri::State;

use crate::state::AppState;

/// The service bindings of a folder's wrangler.jsonc, in the file's order, with its SHA-256.
#[tauri::command]
#[specta::specta]
pub async fn folder_bindings(
    state: State<'_, AppState>,
    folder: String,
) -> Result<FolderBindings, AppError> {
    validate::path("folder", &folder)?;
    state
        .allow_path("folder", &folder, PathUse::Existing)
        .await?;
    state.ops.folder_bindings(&folder).await
}

/// What an edit of the bindings would do: new text, diff, missing services, deployed difference.
#[tauri::command]
#[specta::specta]
pub async fn plan_bindings_edit(
    state: State<'_, AppState>,
    request: BindingsEditRequest,
) -> Result<BindingsEditPlan, AppError> {
    check_request("request", &request)?;
    state
        .allow_path("request.folder", &request.folder, PathUse::Existing)
        .await?;
    state.ops.plan_bindings_edit(&request).await
}

/// Save a planned edit (refused if the file changed since the plan); a redeploy applies it.
#[tauri::command]
#[specta::specta]
pub async fn apply_bindings_edit(
    state: State<'_, AppState>,
    request: BindingsEditRequest,
) -> Result<BindingsEditApplied, AppError> {
    check_request("request", &request)?;
    state
        .allow_path("request.folder", &request.folder, PathUse::Existing)
        .await?;
    state.ops.apply_bindings_edit(&request).await
}
