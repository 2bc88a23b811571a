use serde::Deserialize;
use switchyard_core::{validate, AppError};
use switchyard_ops::{LogsEvent, LogsRequest};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use crate::commands::files::{file_stem, save_with_dialog, SaveDialog};
use crate::commands::input::Checked;
use crate::state::AppState;

/// Tail the services of `request`; lines and connection changes stream on `on_event` until
/// `stop_logs`. The session's id.
#[tauri::command]
#[specta::specta]
pub async fn start_logs(
    state: State<'_, AppState>,
    request: LogsRequest,
    on_event: Channel<LogsEvent>,
) -> Result<u32, AppError> {
    request.check("request")?;
    state
        .ops
        .start_logs(request, move |e| {
            let _ = on_event.send(e);
        })
        .await
}

/// Stop a logs session; its tails are ended on the platform.
#[tauri::command]
#[specta::specta]
pub async fn stop_logs(state: State<'_, AppState>, session: u32) -> Result<(), AppError> {
    state.ops.stop_logs(session).await
}

/// The formats the shown log lines are saved in.
#[derive(Debug, Clone, Copy, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum LogsFileFormat {
    /// As the window copies them: one request per line, its logs and stack indented below.
    Text,
    /// One JSON object per invocation, as the engine sent it.
    JsonLines,
}

/// The most text the window may send to save (the buffer holds 5,000 invocations).
const MAX_SAVED_LOGS_BYTES: usize = 256 * 1024 * 1024;

/// Save the log lines the window shows to a file chosen in the OS's save dialog (the window sends
/// the content and a suggested name, never a path). The path written, or None when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_logs(
    app: AppHandle,
    content: String,
    format: LogsFileFormat,
    suggested_name: String,
) -> Result<Option<String>, AppError> {
    validate::text("content", &content, MAX_SAVED_LOGS_BYTES)?;
    validate::line("suggestedName", &suggested_name, validate::LABEL_MAX)?;
    let (filter_name, extension) = match format {
        LogsFileFormat::Text => ("Text", "log"),
        LogsFileFormat::JsonLines => ("JSON Lines", "jsonl"),
    };
    let dialog = SaveDialog {
        title: "Save the log lines shown",
        file_name: format!(
            "{}.{extension}",
            file_stem(&suggested_name, "switchyard-logs")
        ),
        filter_name,
        extension,
    };
    save_with_dialog(&app, dialog, content.as_bytes()).await
}
