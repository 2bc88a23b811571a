use switchyard_core::AppError;
use switchyard_ops::{CreatedService, NewService, TemplateCatalog};
use tauri::State;

use crate::commands::input::Checked;
use crate::state::AppState;
use switchyard_ops::PathUse;

/// Every service template (built-in and the user's), and the problems of user templates that did
/// not load.
#[tauri::command]
#[specta::specta]
pub async fn service_templates(state: State<'_, AppState>) -> Result<TemplateCatalog, AppError> {
    state.ops.service_templates().await
}

/// Make a new service from a template in the folder chosen (all its files or none, never over
/// anything).
#[tauri::command]
#[specta::specta]
pub async fn create_service(
    state: State<'_, AppState>,
    request: NewService,
) -> Result<CreatedService, AppError> {
    request.check("request")?;
    state
        .allow_path("request.folder", &request.folder, PathUse::NewFolder)
        .await?;
    state.ops.create_service(request).await
}
