use switchyard_core::{AppError, AuditFilter};
use switchyard_ops::AuditPage;
use tauri::{AppHandle, State};

use crate::commands::deploy::ExportFormat;
use crate::commands::files::{ask_save_path, file_stem, write_file, SaveDialog};
use crate::commands::input::Checked;
use crate::state::AppState;

/// A page of the audit log (the filter's limit and offset), newest first, with how many entries
/// match in all and every action recorded.
#[tauri::command]
#[specta::specta]
pub async fn list_audit(
    state: State<'_, AppState>,
    filter: AuditFilter,
) -> Result<AuditPage, AppError> {
    filter.check("filter")?;
    state.ops.audit_entries(&filter).await
}

/// Export every entry the filter selects (not only the page shown) to a file chosen in the OS's
/// save dialog; the window never sends a path. The path written, or None when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn export_audit(
    app: AppHandle,
    state: State<'_, AppState>,
    filter: AuditFilter,
    format: ExportFormat,
) -> Result<Option<String>, AppError> {
    filter.check("filter")?;
    let ext = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Json => "json",
    };
    let scope = match filter.profile_id.as_deref() {
        None => "all-profiles",
        Some("") => "app-wide",
        Some(p) => p,
    };
    let dialog = SaveDialog {
        title: "Export the audit log",
        file_name: format!("{}.{ext}", file_stem(&format!("audit-{scope}"), "audit")),
        filter_name: &ext.to_uppercase(),
        extension: ext,
    };
    // Where first: a cancelled dialog exports (and records) nothing.
    let Some(path) = ask_save_path(&app, &dialog).await? else {
        return Ok(None);
    };
    let text = match format {
        ExportFormat::Csv => state.ops.audit_csv(&filter).await?,
        ExportFormat::Json => state.ops.audit_json(&filter).await?,
    };
    write_file(&path, text.as_bytes()).await?;
    Ok(Some(path.display().to_string()))
}
