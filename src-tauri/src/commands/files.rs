use std::path::{Path, PathBuf};

use serde::Deserialize;
use switchyard_core::{validate, AppError};
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;

use crate::state::AppState;

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
    state: State<'_, AppState>,
    kind: PathKind,
    title: String,
) -> Result<Option<String>, AppError> {
    validate::line("title", &title, validate::LABEL_MAX)?;
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
        Some(path) => {
            let path = path.into_path().map_err(|_| {
                AppError::invalid_input(
                    "The chosen item is not a local file; choose one on this computer.",
                )
            })?;
            // What the operator chose here may be used; a typed path may not (see
            // switchyard-ops' project_folders.rs).
            state
                .ops
                .remember_chosen_path(&path, matches!(kind, PathKind::Folder));
            Ok(Some(path.display().to_string()))
        }
    }
}

/// The project folders: a path typed in the window is used only inside one of these (or when
/// chosen with Browse…).
#[tauri::command]
#[specta::specta]
pub async fn project_folders(state: State<'_, AppState>) -> Result<Vec<String>, AppError> {
    Ok(state.ops.project_folders().await)
}

/// Add a project folder, chosen in the OS's folder chooser the shell opens (the window never
/// names it): the list after, or None when the operator cancelled.
#[tauri::command]
#[specta::specta]
pub async fn add_project_folder(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<Option<Vec<String>>, AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Add a project folder")
        .pick_folder(move |p| {
            let _ = tx.send(p);
        });
    let picked = rx
        .await
        .map_err(|_| AppError::internal("The folder chooser closed without an answer"))?;
    let Some(picked) = picked else {
        return Ok(None);
    };
    let folder = picked.into_path().map_err(|_| {
        AppError::invalid_input(
            "The chosen item is not a local folder; choose one on this computer.",
        )
    })?;
    state.ops.add_project_folder(&folder).await.map(Some)
}

/// Remove a project folder from the list (its files are not touched).
#[tauri::command]
#[specta::specta]
pub async fn remove_project_folder(
    state: State<'_, AppState>,
    folder: String,
) -> Result<Vec<String>, AppError> {
    validate::path("folder", &folder)?;
    state.ops.remove_project_folder(&folder).await
}

/// What the OS's save dialog offers: its title, the file name it suggests, and one file type.
pub(crate) struct SaveDialog<'a> {
    pub title: &'a str,
    pub file_name: String,
    /// The file type's name, e.g. "CSV".
    pub filter_name: &'a str,
    /// Its extension, without the dot.
    pub extension: &'a str,
}

/// Ask where to save, in the OS's save dialog; None when the operator cancelled.
pub(crate) async fn ask_save_path(
    app: &AppHandle,
    dialog: &SaveDialog<'_>,
) -> Result<Option<PathBuf>, AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(dialog.title)
        .set_file_name(&dialog.file_name)
        .add_filter(dialog.filter_name, &[dialog.extension])
        .save_file(move |p| {
            let _ = tx.send(p);
        });
    match rx.await.ok().flatten() {
        None => Ok(None),
        Some(p) => p
            .into_path()
            .map(Some)
            .map_err(|_| AppError::invalid_input("Choose a file on this computer to save to.")),
    }
}

/// Ask where to save (the OS's save dialog), then write `contents` there: the path written, or
/// None when the operator cancelled. The path comes from the dialog only.
pub(crate) async fn save_with_dialog(
    app: &AppHandle,
    dialog: SaveDialog<'_>,
    contents: &[u8],
) -> Result<Option<String>, AppError> {
    let Some(path) = ask_save_path(app, &dialog).await? else {
        return Ok(None);
    };
    write_file(&path, contents).await?;
    Ok(Some(path.display().to_string()))
}

/// Writes `contents` to `path` whole or not at all: into a temporary file beside it, then renamed
/// over it, so a failed write (a full disk) leaves an earlier file as it was.
pub(crate) async fn write_file(path: &Path, contents: &[u8]) -> Result<(), AppError> {
    use tokio::io::AsyncWriteExt;
    let failed = |e: std::io::Error| {
        AppError::invalid_input(format!(
            "Could not write {} ({e}); nothing was saved. Choose a folder you can write to, or free some disk space, then try again.",
            path.display()
        ))
    };
    let name = path.file_name().ok_or_else(|| {
        AppError::invalid_input(format!("{} is not a file name.", path.display()))
    })?;
    let tmp = path.with_file_name(format!(
        ".{}.{}.partial",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = async {
        let mut f = tokio::fs::File::create(&tmp).await?;
        f.write_all(contents).await?;
        f.sync_all().await?;
        drop(f);
        tokio::fs::rename(&tmp, path).await
    }
    .await;
    if let Err(e) = written {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(failed(e));
    }
    Ok(())
}

/// A file name from what the window suggests: letters, digits, `-`, `_` and `.` only (anything
/// else becomes `-`), so it can never name another folder.
pub(crate) fn file_stem(suggested: &str, fallback: &str) -> String {
    let stem: String = suggested
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(100)
        .collect();
    let stem = stem.trim_matches(|c| c == '.' || c == '-');
    if stem.is_empty() {
        fallback.to_owned()
    } else {
        stem.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_is_written_whole_and_replaces_the_earlier_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs.txt");
        std::fs::write(&path, "earlier").unwrap();
        write_file(&path, b"line 1\nline 2\n").await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "line 1\nline 2\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["logs.txt"], "no temporary file is left");
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_written_is_named_and_nothing_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-folder/logs.txt");
        let err = write_file(&path, b"x").await.unwrap_err();
        assert!(
            err.message
                .starts_with(&format!("Could not write {}", path.display())),
            "{}",
            err.message
        );
        assert!(err.message.contains("nothing was saved"), "{}", err.message);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_suggested_name_cannot_name_another_folder() {
        assert_eq!(file_stem("logs-gateway-db", "x"), "logs-gateway-db");
        assert_eq!(file_stem("../../etc/passwd", "x"), "etc-passwd");
        assert_eq!(file_stem("/", "switchyard-logs"), "switchyard-logs");
        assert_eq!(file_stem("Local sandbox 14:02", "x"), "Local-sandbox-14-02");
    }
}
