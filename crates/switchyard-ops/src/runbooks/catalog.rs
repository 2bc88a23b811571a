//! The catalog: the built-in runbooks and the user's `*.md` files in the runbooks folder.

use std::path::Path;

use switchyard_core::{AppError, ErrorCode};
use switchyard_runbooks::UserRunbookFile;

use super::{Runbook, RunbookCatalog};
use crate::Ops;

impl Ops {
    /// The folder user runbooks are read from (`<data_dir>/runbooks`); the window offers to open it.
    pub fn runbooks_folder(&self) -> std::path::PathBuf {
        self.data_dir.join("runbooks")
    }

    /// Every runbook: the built-ins, then the user's `*.md` files that load. Files with mistakes
    /// are listed in `problems` with each mistake's line; they never hide another runbook.
    pub async fn runbook_catalog(&self) -> Result<RunbookCatalog, AppError> {
        let dir = self.runbooks_folder();
        let files = tokio::task::spawn_blocking(move || read_user_runbooks(&dir))
            .await
            .map_err(|_| AppError::internal("Reading the runbooks folder"))?;
        Ok(RunbookCatalog::load(files))
    }

    /// One runbook of the catalog.
    pub async fn runbook(&self, runbook_id: &str) -> Result<Runbook, AppError> {
        let catalog = self.runbook_catalog().await?;
        if let Some(r) = catalog.get(runbook_id) {
            return Ok(r.clone());
        }
        if let Some(p) = catalog.problems.iter().find(|p| p.runbook_id == runbook_id) {
            let first = p.errors.first().map(|e| e.to_string()).unwrap_or_default();
            return Err(AppError::invalid_input(format!(
                "The runbook {} has {} mistake(s) and cannot be used until they are fixed (first: {first}).",
                p.file,
                p.errors.len()
            )));
        }
        Err(AppError::new(
            ErrorCode::NotFound,
            format!("There is no runbook \"{runbook_id}\". Pick one from the Runbooks list."),
        ))
    }
}

fn read_user_runbooks(dir: &Path) -> Vec<UserRunbookFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<UserRunbookFile> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("md")) && p.is_file())
        .map(|p| UserRunbookFile {
            stem: p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: p.display().to_string(),
            content: std::fs::read_to_string(&p).map_err(|e| e.to_string()),
        })
        .collect();
    files.sort_by(|a, b| a.stem.cmp(&b.stem));
    files
}
