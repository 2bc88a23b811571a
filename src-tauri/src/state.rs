//! The app's state, built once at start-up and shared by every command.

use std::path::PathBuf;
use std::sync::Arc;

use switchyard_core::{AppError, SystemClock};
use switchyard_ops::{Ops, PathUse};
use switchyard_secrets::KeychainStore;

pub struct AppState {
    pub ops: Arc<Ops>,
    /// Why the embedded sandbox did not start, if it did not.
    pub sandbox_error: Option<String>,
}

impl AppState {
    /// Refuses a path the window sent unless the operator chose it in the chooser or it lies
    /// inside a project folder (see switchyard-ops' `project_folders.rs`).
    pub async fn allow_path(&self, field: &str, value: &str, how: PathUse) -> Result<(), AppError> {
        self.ops.allow_path(field, value, how).await
    }

    /// Resolve the data folder (XDG on Linux; `SWITCHYARD_DATA_DIR` overrides it, which the
    /// tests use), open the store with the OS keychain, and start the embedded sandbox.
    pub async fn init() -> Result<Self, AppError> {
        let data_dir = data_dir()?;
        let ops = Ops::open(
            &data_dir,
            Arc::new(KeychainStore::new()),
            Arc::new(SystemClock),
        )
        .await?;
        tracing::info!("start: data opened, starting the local sandbox");
        let sandbox_error = match ops.start_embedded_sandbox().await {
            Ok(_) => None,
            Err(e) => Some(e.message),
        };
        Ok(AppState {
            ops: Arc::new(ops),
            sandbox_error,
        })
    }
}

fn data_dir() -> Result<PathBuf, AppError> {
    if let Some(dir) = std::env::var_os("SWITCHYARD_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("dev", "Switchyard", "switchyard")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .ok_or_else(|| {
            AppError::invalid_input(
                "Switchyard cannot find your home folder to keep its data in. Set HOME, or set SWITCHYARD_DATA_DIR to a folder.",
            )
        })
}
