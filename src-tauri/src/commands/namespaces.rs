use std::path::Path;

use switchyard_core::{validate, AppError};
use switchyard_ops::{
    BindingsDiff, DeletePlan, Drift, NamespaceSummary, TagDeletePlan, WorkerDetail,
    WorkerListingProgress, WorkerQuery, WorkerRow, WorkerSecrets, WorkerWindow,
};
use switchyard_secrets::Secret;
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::input::{
    Checked, ENV_TEXT_MAX, PREVIEWED_WORKERS_MAX, SCRIPT_COUNT_MAX, SECRET_NAME_MAX, TAGS_MAX,
    TAG_MAX,
};
use crate::state::AppState;
use switchyard_ops::PathUse;

/// Dispatch namespaces of the profile's Cloudflare account.
#[tauri::command]
#[specta::specta]
pub async fn list_namespaces(
    state: State<'_, AppState>,
    profile_id: String,
) -> Result<Vec<NamespaceSummary>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    state.ops.list_namespaces(&profile_id).await
}

/// Create a dispatch namespace.
#[tauri::command]
#[specta::specta]
pub async fn create_namespace(
    state: State<'_, AppState>,
    profile_id: String,
    name: String,
) -> Result<NamespaceSummary, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("name", &name)?;
    state.ops.create_namespace(&profile_id, &name).await
}

/// Turn trusted mode on or off (`request.cf` and the shared cache for its workers).
#[tauri::command]
#[specta::specta]
pub async fn set_namespace_trusted(
    state: State<'_, AppState>,
    profile_id: String,
    name: String,
    trusted: bool,
) -> Result<NamespaceSummary, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("name", &name)?;
    state.ops.set_trusted(&profile_id, &name, trusted).await
}

/// Rename a namespace.
#[tauri::command]
#[specta::specta]
pub async fn rename_namespace(
    state: State<'_, AppState>,
    profile_id: String,
    name: String,
    new_name: String,
) -> Result<NamespaceSummary, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("name", &name)?;
    validate::namespace("newName", &new_name)?;
    state
        .ops
        .rename_namespace(&profile_id, &name, &new_name)
        .await
}

/// What deleting a namespace would delete, and the phrase to type to confirm.
#[tauri::command]
#[specta::specta]
pub async fn namespace_delete_plan(
    state: State<'_, AppState>,
    profile_id: String,
    name: String,
) -> Result<DeletePlan, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("name", &name)?;
    state.ops.delete_namespace_plan(&profile_id, &name).await
}

/// Delete a namespace and its workers; refused unless `typed_confirmation` is its name and it
/// still holds the `planned_script_count` workers its plan counted.
#[tauri::command]
#[specta::specta]
pub async fn delete_namespace(
    state: State<'_, AppState>,
    profile_id: String,
    name: String,
    typed_confirmation: String,
    planned_script_count: Option<u32>,
) -> Result<(), AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("name", &name)?;
    validate::line(
        "typedConfirmation",
        &typed_confirmation,
        validate::LABEL_MAX,
    )?;
    validate::opt(planned_script_count.as_ref(), |&n| {
        validate::range("plannedScriptCount", n, 0..=SCRIPT_COUNT_MAX)
    })?;
    state
        .ops
        .delete_namespace(&profile_id, &name, typed_confirmation, planned_script_count)
        .await
}

/// Every worker of a namespace, with its tags parsed.
#[tauri::command]
#[specta::specta]
pub async fn list_workers(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
) -> Result<Vec<WorkerRow>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    state.ops.list_workers(&profile_id, &namespace).await
}

/// List the workers of a namespace into a listing kept in this process: `on_progress` hears
/// of each page as it arrives (the first names the listing to query); answers once all have
/// arrived. A failed page keeps the workers listed before it (the error says how many).
#[tauri::command]
#[specta::specta]
pub async fn open_worker_listing(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    on_progress: Channel<WorkerListingProgress>,
) -> Result<WorkerListingProgress, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    state
        .ops
        .open_worker_listing(&profile_id, &namespace, |progress| {
            let _ = on_progress.send(progress);
        })
        .await
}

/// The rows of a window of a listing (search, tag, sort, offset, limit) with how many match
/// and how many are listed. A listing no longer kept answers NotFound: open it again.
#[tauri::command]
#[specta::specta]
pub async fn query_worker_listing(
    state: State<'_, AppState>,
    query: WorkerQuery,
) -> Result<WorkerWindow, AppError> {
    query.check("query")?;
    state.ops.query_worker_listing(&query)
}

/// Free a listing's workers (the namespace was left). Answers whether it was still kept.
#[tauri::command]
#[specta::specta]
pub async fn close_worker_listing(
    state: State<'_, AppState>,
    listing: u32,
) -> Result<bool, AppError> {
    Ok(state.ops.close_worker_listing(listing))
}

/// A worker's tags, bindings, settings and size.
#[tauri::command]
#[specta::specta]
pub async fn worker_detail(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
) -> Result<WorkerDetail, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    state
        .ops
        .worker_detail(&profile_id, &namespace, &script)
        .await
}

/// A worker's source.
#[tauri::command]
#[specta::specta]
pub async fn worker_content(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
) -> Result<String, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    state
        .ops
        .worker_content(&profile_id, &namespace, &script)
        .await
}

/// Delete one worker from a namespace.
#[tauri::command]
#[specta::specta]
pub async fn delete_worker(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
    typed_confirmation: String,
) -> Result<(), AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    validate::line(
        "typedConfirmation",
        &typed_confirmation,
        validate::LABEL_MAX,
    )?;
    state
        .ops
        .delete_worker(&profile_id, &namespace, &script, &typed_confirmation)
        .await
}

/// Which services differ between two namespaces.
#[tauri::command]
#[specta::specta]
pub async fn compare_namespaces(
    state: State<'_, AppState>,
    profile_id: String,
    left: String,
    right: String,
) -> Result<Drift, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("left", &left)?;
    validate::namespace("right", &right)?;
    state
        .ops
        .compare_namespaces(&profile_id, &left, &right)
        .await
}

/// The bindings in a local service folder's wrangler.jsonc against a deployed worker's.
#[tauri::command]
#[specta::specta]
pub async fn compare_bindings(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
    folder: String,
) -> Result<BindingsDiff, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    validate::path("folder", &folder)?;
    state
        .allow_path("folder", &folder, PathUse::Existing)
        .await?;
    state
        .ops
        .compare_bindings_in_folder(&profile_id, &namespace, &script, Path::new(&folder))
        .await
}

/// The secret names (never values) and tags of a worker.
#[tauri::command]
#[specta::specta]
pub async fn worker_secrets(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
) -> Result<WorkerSecrets, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    state
        .ops
        .worker_secrets(&profile_id, &namespace, &script)
        .await
}

/// Set one secret of a worker. The value comes in here once and goes to Cloudflare; the reply
/// is the secret's name.
#[tauri::command]
#[specta::specta]
pub async fn put_worker_secret(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
    name: String,
    value: String,
    typed_confirmation: Option<String>,
) -> Result<String, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    validate::key("name", &name, SECRET_NAME_MAX)?;
    validate::secret("value", &value)?;
    validate::opt(typed_confirmation.as_deref(), |t| {
        validate::line("typedConfirmation", t, validate::LABEL_MAX)
    })?;
    state
        .ops
        .put_worker_secret(
            &profile_id,
            &namespace,
            &script,
            &name,
            Secret::new(value),
            typed_confirmation.as_deref(),
        )
        .await
}

/// Delete one secret of a worker.
#[tauri::command]
#[specta::specta]
pub async fn delete_worker_secret(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
    name: String,
    typed_confirmation: Option<String>,
) -> Result<(), AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    validate::key("name", &name, SECRET_NAME_MAX)?;
    validate::opt(typed_confirmation.as_deref(), |t| {
        validate::line("typedConfirmation", t, validate::LABEL_MAX)
    })?;
    state
        .ops
        .delete_worker_secret(
            &profile_id,
            &namespace,
            &script,
            &name,
            typed_confirmation.as_deref(),
        )
        .await
}

/// Set several secrets of a worker from pasted `.env` lines (parsed in Rust; a bad line is
/// named by its number, never shown). The reply is the names set.
#[tauri::command]
#[specta::specta]
pub async fn bulk_set_worker_secrets(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
    env_text: String,
    typed_confirmation: Option<String>,
) -> Result<Vec<String>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    validate::text("envText", &env_text, ENV_TEXT_MAX)?;
    validate::opt(typed_confirmation.as_deref(), |t| {
        validate::line("typedConfirmation", t, validate::LABEL_MAX)
    })?;
    state
        .ops
        .bulk_set_worker_secrets(
            &profile_id,
            &namespace,
            &script,
            Secret::new(env_text),
            typed_confirmation.as_deref(),
        )
        .await
}

/// Replace the tags of a worker.
#[tauri::command]
#[specta::specta]
pub async fn set_worker_tags(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    script: String,
    tags: Vec<String>,
    typed_confirmation: Option<String>,
) -> Result<Vec<String>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::script("script", &script)?;
    validate::count("tags", tags.len(), TAGS_MAX)?;
    for t in &tags {
        validate::line("tags", t, TAG_MAX)?;
    }
    validate::opt(typed_confirmation.as_deref(), |t| {
        validate::line("typedConfirmation", t, validate::LABEL_MAX)
    })?;
    state
        .ops
        .set_worker_tags(
            &profile_id,
            &namespace,
            &script,
            tags,
            typed_confirmation.as_deref(),
        )
        .await
}

/// Which workers of a namespace carry a tag (every one, counted), and what to type to delete them.
#[tauri::command]
#[specta::specta]
pub async fn tag_delete_plan(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    tag: String,
) -> Result<TagDeletePlan, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::line("tag", &tag, TAG_MAX)?;
    state
        .ops
        .tag_delete_plan(&profile_id, &namespace, &tag)
        .await
}

/// Delete the workers carrying a tag; refused unless `typed_confirmation` is the tag and the
/// workers carrying it are still exactly `previewed`.
#[tauri::command]
#[specta::specta]
pub async fn delete_workers_by_tag(
    state: State<'_, AppState>,
    profile_id: String,
    namespace: String,
    tag: String,
    typed_confirmation: String,
    previewed: Vec<String>,
) -> Result<Vec<String>, AppError> {
    validate::profile_id("profileId", &profile_id)?;
    validate::namespace("namespace", &namespace)?;
    validate::line("tag", &tag, TAG_MAX)?;
    validate::line("typedConfirmation", &typed_confirmation, TAG_MAX)?;
    validate::count("previewed", previewed.len(), PREVIEWED_WORKERS_MAX)?;
    for p in &previewed {
        validate::script("previewed", p)?;
    }
    state
        .ops
        .delete_workers_by_tag(
            &profile_id,
            &namespace,
            &tag,
            &typed_confirmation,
            previewed,
        )
        .await
}
