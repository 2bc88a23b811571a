//! Diff first: compare the code of two bundles (what runs now, a planned bundle, an archived one).

use tauri::State;

use switchyard_core::AppError;
use switchyard_ops::{CodeDiff, CompareRequest};

use crate::commands::input::Checked;
use crate::state::AppState;

/// The code of `request.left` against `request.right`, bounded for large bundles.
#[tauri::command]
#[specta::specta]
pub async fn compare_bundles(
    state: State<'_, AppState>,
    request: CompareRequest,
) -> Result<CodeDiff, AppError> {
    request.check("request")?;
    state.ops.compare_bundles(&request).await
}
