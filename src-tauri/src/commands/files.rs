use serde::Deserialize;
use switchyard_core::AppError;
use tauri::AppHandle;
use tauri_plugin_dialog::DialogExt;

/// What the native chooser picks.
#[derive(Debug, Clone, Copy, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum PathKind {
    /// A service folder (the one with package.json and wrangler.jsonc).
    Folder,
    /// A built bundle (a .js or .mjs file).
    Bundle,
}

/// Open the OS's file chooser; the chosen path, or None when the operator cancelled. The
/// webview gets a path string only: reading the file is the engine's job.
#[tauri::command]
#[specta::specta]
pub async fn choose_path(
    app: AppHandle,
    kind: PathKind,
    title: String,
) -> Result<Option<String>, AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let dialog = app.dialog().file().set_title(title);
    match kind {
        PathKind::Folder => dialog.pick_folder(move |p| {
            let _ = tx.send(p);
        }),
        PathKind::Bundle => dialog
            .add_filter("JavaScript bundle", &["js", "mjs"])
            .pick_file(move |p| {
                let _ = tx.send(p);
            }),
    }
    let picked = rx
        .await
        .map_err(|_| AppError::internal("The file chooser closed without an answer"))?;
    match picked {
        None => Ok(None),
        Some(path) => path
            .into_path()
            .map(|p| Some(p.display().to_string()))
            .map_err(|_| {
                AppError::invalid_input(
                    "The chosen item is not a local file; choose one on this computer, or paste its path.",
                )
            }),
    }
}
