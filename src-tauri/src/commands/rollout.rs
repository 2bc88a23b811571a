//! Staged rollouts: plan, start (driven until it ends, streaming its state), the operator's
//! commands, pinned test requests, the list, and taking up a rollout the last run left.

use tauri::ipc::Channel;
use tauri::State;

use switchyard_core::{validate, AppError, Environment};
use switchyard_ops::{
    LiveSplit, Rollout, RolloutCommand, RolloutPlan, RolloutRequest, StartRollout, VersionTest,
};

use super::input::Checked;
use crate::state::AppState;
use switchyard_ops::PathUse;

/// What a rollout of `request` would do.
#[tauri::command]
#[specta::specta]
pub async fn rollout_plan(
    state: State<'_, AppState>,
    request: RolloutRequest,
) -> Result<RolloutPlan, AppError> {
    request.check("request")?;
    state
        .allow_path(
            "request.bundlePath",
            &request.bundle_path,
            PathUse::Existing,
        )
        .await?;
    state.ops.rollout_plan(&request).await
}

/// Start a planned rollout and drive it until it ends; its state streams on `on_update`.
#[tauri::command]
#[specta::specta]
pub async fn start_rollout(
    state: State<'_, AppState>,
    start: StartRollout,
    on_update: Channel<Rollout>,
) -> Result<Rollout, AppError> {
    start.check("start")?;
    state
        .allow_path(
            "start.request.bundlePath",
            &start.request.bundle_path,
            PathUse::Existing,
        )
        .await?;
    state
        .ops
        .start_rollout(start, move |r| {
            let _ = on_update.send(r);
        })
        .await
}

/// Take up a rollout the app left when it stopped, and drive it until it ends.
#[tauri::command]
#[specta::specta]
pub async fn resume_rollout(
    state: State<'_, AppState>,
    id: String,
    on_update: Channel<Rollout>,
) -> Result<Rollout, AppError> {
    validate::id("id", &id)?;
    state
        .ops
        .resume_rollout(&id, move |r| {
            let _ = on_update.send(r);
        })
        .await
}

/// Pause, resume, advance, begin or abort a rollout.
#[tauri::command]
#[specta::specta]
pub async fn control_rollout(
    state: State<'_, AppState>,
    id: String,
    command: RolloutCommand,
) -> Result<Rollout, AppError> {
    validate::id("id", &id)?;
    state.ops.control_rollout(&id, command).await
}

/// The newest rollouts of a profile.
#[tauri::command]
#[specta::specta]
pub async fn list_rollouts(
    state: State<'_, AppState>,
    profile_id: String,
) -> Result<Vec<Rollout>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    state.ops.rollouts(&profile_id).await
}

/// Send `count` requests for `path` pinned to the rollout's new version.
#[tauri::command]
#[specta::specta]
pub async fn test_rollout_version(
    state: State<'_, AppState>,
    id: String,
    path: String,
    count: u32,
) -> Result<VersionTest, AppError> {
    validate::id("id", &id)?;
    validate::line("path", &path, 512)?;
    validate::range("count", count, 1..=20)?;
    state.ops.test_rollout_version(&id, &path, count).await
}

/// Which versions serve each service of `environment` now, and their shares.
#[tauri::command]
#[specta::specta]
pub async fn live_splits(
    state: State<'_, AppState>,
    profile_id: String,
    environment: Environment,
) -> Result<Vec<LiveSplit>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    state.ops.live_splits(&profile_id, environment).await
}
