use std::path::PathBuf;

use serde::Deserialize;
use switchyard_core::{validate, AppError, Environment};
use switchyard_ops::{
    ArchivedBundle, Confirmation, DeployEvent, DeployOutcome, DeployPlan, DeploySettings,
    DeploySource, InterruptedDeploy, PrepareDeploy, PreparedDeploy, PromoteRequest, RestoreRequest,
    RetentionReport, RollbackOutcome, RollbackPlan, RollbackRequest, VersionList,
};
use switchyard_store::{DeployPin, DeploymentFilter};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use crate::commands::files::{ask_save_path, write_file, SaveDialog};
use crate::commands::input::Checked;
use crate::state::AppState;
use switchyard_ops::PathUse;

/// Test, build and verify the bundle, run the preflight checks and compute the plan; steps and
/// their output stream on `on_event`. The prepared deploy waits for `apply_deploy`.
#[tauri::command]
#[specta::specta]
pub async fn prepare_deploy(
    state: State<'_, AppState>,
    request: PrepareDeploy,
    on_event: Channel<DeployEvent>,
) -> Result<PreparedDeploy, AppError> {
    request.check("request")?;
    let (DeploySource::ServiceFolder { path } | DeploySource::BundleFile { path }) =
        &request.source;
    state
        .allow_path("request.source.path", path, PathUse::Existing)
        .await?;
    state
        .ops
        .prepare_deploy(request, move |e| {
            let _ = on_event.send(e);
        })
        .await
}

/// Upload a prepared deploy after its plan was confirmed, then verify it.
#[tauri::command]
#[specta::specta]
pub async fn apply_deploy(
    state: State<'_, AppState>,
    run_id: String,
    confirmation: Confirmation,
    on_event: Channel<DeployEvent>,
) -> Result<DeployOutcome, AppError> {
    validate::id("runId", &run_id)?;
    confirmation.check("confirmation")?;
    state
        .ops
        .apply_deploy(&run_id, confirmation, move |e| {
            let _ = on_event.send(e);
        })
        .await
}

/// Cancel a deploy that has not started uploading.
#[tauri::command]
#[specta::specta]
pub async fn cancel_deploy(state: State<'_, AppState>, run_id: String) -> Result<(), AppError> {
    validate::id("runId", &run_id)?;
    state.ops.cancel_deploy(&run_id)
}

/// Forget a prepared deploy that will not be applied.
#[tauri::command]
#[specta::specta]
pub async fn discard_deploy(state: State<'_, AppState>, run_id: String) -> Result<bool, AppError> {
    validate::id("runId", &run_id)?;
    Ok(state.ops.discard_deploy(&run_id))
}

/// What the Deploy API's one-step rollback of a service would make current.
#[tauri::command]
#[specta::specta]
pub async fn rollback_plan(
    state: State<'_, AppState>,
    profile_id: String,
    service: String,
    environment: Environment,
) -> Result<RollbackPlan, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::service("service", &service)?;
    state
        .ops
        .rollback_plan(&profile_id, &service, environment)
        .await
}

/// The one-step rollback (`POST /rollback`), then verification.
#[tauri::command]
#[specta::specta]
pub async fn rollback(
    state: State<'_, AppState>,
    request: RollbackRequest,
    on_event: Channel<DeployEvent>,
) -> Result<RollbackOutcome, AppError> {
    request.check("request")?;
    state
        .ops
        .rollback(request, move |e| {
            let _ = on_event.send(e);
        })
        .await
}

/// Every version of a service in an environment, and whether each can be restored.
#[tauri::command]
#[specta::specta]
pub async fn deployment_versions(
    state: State<'_, AppState>,
    profile_id: String,
    service: String,
    environment: Environment,
) -> Result<VersionList, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::service("service", &service)?;
    state.ops.versions(&profile_id, &service, environment).await
}

/// Fetch the code of a version deployed elsewhere (CI, a colleague, wrangler) from the platform
/// and archive it with its provenance, so it can be compared, promoted and restored.
#[tauri::command]
#[specta::specta]
pub async fn fetch_platform_bundle(
    state: State<'_, AppState>,
    profile_id: String,
    service: String,
    environment: Environment,
    deployment_id: String,
) -> Result<ArchivedBundle, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::service("service", &service)?;
    validate::id("deploymentId", &deployment_id)?;
    state
        .ops
        .fetch_platform_bundle(&profile_id, &service, environment, &deployment_id)
        .await
}

/// The plan of re-deploying an archived version.
#[tauri::command]
#[specta::specta]
pub async fn restore_plan(
    state: State<'_, AppState>,
    profile_id: String,
    deployment_id: String,
) -> Result<DeployPlan, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::id("deploymentId", &deployment_id)?;
    state.ops.restore_plan(&profile_id, &deployment_id).await
}

/// Re-deploy an archived version with its bindings, then verify it.
#[tauri::command]
#[specta::specta]
pub async fn restore_version(
    state: State<'_, AppState>,
    request: RestoreRequest,
    on_event: Channel<DeployEvent>,
) -> Result<DeployOutcome, AppError> {
    request.check("request")?;
    state
        .ops
        .restore_version(request, move |e| {
            let _ = on_event.send(e);
        })
        .await
}

/// The plan of promoting what runs in `from` to `to`, byte for byte.
#[tauri::command]
#[specta::specta]
pub async fn promote_plan(
    state: State<'_, AppState>,
    profile_id: String,
    service: String,
    from: Environment,
    to: Environment,
) -> Result<DeployPlan, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::service("service", &service)?;
    state
        .ops
        .promote_plan(&profile_id, &service, from, to)
        .await
}

/// Deploy to `to` exactly the bundle that runs in `from`, then verify it.
#[tauri::command]
#[specta::specta]
pub async fn promote(
    state: State<'_, AppState>,
    request: PromoteRequest,
    on_event: Channel<DeployEvent>,
) -> Result<DeployOutcome, AppError> {
    request.check("request")?;
    state
        .ops
        .promote(request, move |e| {
            let _ = on_event.send(e);
        })
        .await
}

/// Services pinned to a version by a rollback.
#[tauri::command]
#[specta::specta]
pub async fn deploy_pins(
    state: State<'_, AppState>,
    profile_id: String,
) -> Result<Vec<DeployPin>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    state.ops.deploy_pins(&profile_id).await
}

/// The bundles the app has archived for a profile, newest first.
#[tauri::command]
#[specta::specta]
pub async fn archived_bundles(
    state: State<'_, AppState>,
    profile_id: String,
) -> Result<Vec<ArchivedBundle>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    state.ops.archived_bundles(&profile_id).await
}

/// Archive retention, health wait and bundle size limit.
#[tauri::command]
#[specta::specta]
pub async fn deploy_settings(state: State<'_, AppState>) -> Result<DeploySettings, AppError> {
    state.ops.deploy_settings().await
}

/// Save the deploy settings and apply retention.
#[tauri::command]
#[specta::specta]
pub async fn set_deploy_settings(
    state: State<'_, AppState>,
    settings: DeploySettings,
) -> Result<RetentionReport, AppError> {
    settings.check("settings")?;
    state.ops.set_deploy_settings(settings).await
}

/// The export formats of the history.
#[derive(Debug, Clone, Copy, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum ExportFormat {
    Csv,
    Json,
}

/// Export the filtered history to a file the operator chooses in the OS's save dialog (the
/// shell opens it; the webview never names a path). The path written, or None when the dialog
/// was cancelled.
#[tauri::command]
#[specta::specta]
pub async fn export_history(
    app: AppHandle,
    state: State<'_, AppState>,
    profile_id: String,
    filter: DeploymentFilter,
    format: ExportFormat,
) -> Result<Option<String>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    filter.check("filter")?;
    let (text, ext) = match format {
        ExportFormat::Csv => (
            state.ops.export_history_csv(&profile_id, &filter).await?,
            "csv",
        ),
        ExportFormat::Json => (
            state.ops.export_history_json(&profile_id, &filter).await?,
            "json",
        ),
    };
    let dialog = SaveDialog {
        title: "Export deployments",
        file_name: format!("deployments-{profile_id}.{ext}"),
        filter_name: &ext.to_uppercase(),
        extension: ext,
    };
    let target: PathBuf = match ask_save_path(&app, &dialog).await? {
        None => return Ok(None),
        Some(p) => p,
    };
    write_file(&target, text.as_bytes()).await?;
    Ok(Some(target.display().to_string()))
}

/// Deploys Switchyard was doing when it stopped (crash, kill, power cut), reconciled with the
/// platform, that the operator has not dismissed yet.
#[tauri::command]
#[specta::specta]
pub async fn interrupted_deploys(
    state: State<'_, AppState>,
    profile_id: String,
) -> Result<Vec<InterruptedDeploy>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    // Reconcile first (nothing to do, and no request, unless a crash left an entry open).
    if let Err(e) = state.ops.reconcile_deploys().await {
        tracing::warn!(error = %e.message, "reconciling interrupted deploys");
    }
    state.ops.interrupted_deploys(&profile_id).await
}

/// The operator read what happened to an interrupted deploy.
#[tauri::command]
#[specta::specta]
pub async fn dismiss_interrupted_deploy(
    state: State<'_, AppState>,
    run_id: String,
) -> Result<bool, AppError> {
    validate::id("runId", &run_id)?;
    state.ops.dismiss_interrupted_deploy(&run_id).await
}
