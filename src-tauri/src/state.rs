//! The app's state, built once at start-up and shared by every command.

use std::path::PathBuf;

use switchyard_core::{AppError, Profile};

pub struct AppState {
    pub data_dir: PathBuf,
    pub profiles: Vec<Profile>,
    pub active_profile: String,
}

impl AppState {
    /// Resolve the data directory (XDG on Linux; `SWITCHYARD_DATA_DIR` overrides it, which the
    /// tests use) and create it.
    pub fn init() -> Result<Self, AppError> {
        let data_dir = data_dir()?;
        std::fs::create_dir_all(&data_dir).map_err(|e| {
            AppError::invalid_input(format!(
                "Switchyard cannot create its data folder {}: {e}. Check that the folder's parent exists and is writable, or set SWITCHYARD_DATA_DIR to another folder.",
                data_dir.display()
            ))
        })?;
        let sandbox = Profile::local_sandbox();
        Ok(AppState {
            data_dir,
            active_profile: sandbox.id.clone(),
            profiles: vec![sandbox],
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
