//! Switchyard's desktop shell: builds the app's state once in `setup`, registers the IPC
//! commands (each a few lines that call into the domain crates), and exports their TypeScript
//! bindings. Only this crate depends on `tauri`; everything a command does lives in a crate that
//! tests can call without a window.

pub mod commands;
pub mod state;

use tauri::Manager;

use crate::state::AppState;

/// The IPC surface: every command and the types it uses. Also the source of `ui/src/ipc/bindings.ts`.
pub fn ipc_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new().commands(tauri_specta::collect_commands![
        commands::app::app_info,
        commands::app::keychain_status,
        commands::profiles::list_profiles,
        commands::profiles::save_profile,
        commands::profiles::delete_profile,
        commands::profiles::select_profile,
        commands::profiles::export_profiles,
        commands::profiles::import_profiles,
        commands::profiles::preview_profile_import,
        commands::profiles::profile_secrets,
        commands::secrets::set_secret,
        commands::secrets::delete_secret,
        commands::secrets::validate_key,
        commands::secrets::move_keys,
        commands::secrets::test_cloudflare_token,
        commands::history::sync_history,
        commands::history::query_history,
        commands::history::history_auto_sync,
        commands::history::set_history_auto_sync,
        commands::namespaces::list_namespaces,
        commands::namespaces::create_namespace,
        commands::namespaces::set_namespace_trusted,
        commands::namespaces::rename_namespace,
        commands::namespaces::namespace_delete_plan,
        commands::namespaces::delete_namespace,
        commands::namespaces::list_workers,
        commands::namespaces::open_worker_listing,
        commands::namespaces::query_worker_listing,
        commands::namespaces::close_worker_listing,
        commands::namespaces::worker_detail,
        commands::namespaces::worker_content,
        commands::namespaces::delete_worker,
        commands::namespaces::compare_namespaces,
        commands::namespaces::compare_bindings,
        commands::bindings::folder_bindings,
        commands::bindings::plan_bindings_edit,
        commands::bindings::apply_bindings_edit,
        commands::namespaces::worker_secrets,
        commands::namespaces::put_worker_secret,
        commands::namespaces::delete_worker_secret,
        commands::namespaces::bulk_set_worker_secrets,
        commands::namespaces::set_worker_tags,
        commands::namespaces::tag_delete_plan,
        commands::namespaces::delete_workers_by_tag,
        commands::health::check_health,
        commands::health::health_history,
        commands::health::correlation_window,
        commands::health::set_correlation_window,
        commands::files::choose_path,
        commands::files::project_folders,
        commands::files::add_project_folder,
        commands::files::remove_project_folder,
        commands::deploy::prepare_deploy,
        commands::deploy::apply_deploy,
        commands::deploy::cancel_deploy,
        commands::deploy::discard_deploy,
        commands::deploy::rollback_plan,
        commands::deploy::rollback,
        commands::deploy::deployment_versions,
        commands::deploy::fetch_platform_bundle,
        commands::deploy::restore_plan,
        commands::deploy::restore_version,
        commands::deploy::deploy_pins,
        commands::compare::compare_bundles,
        commands::rollout::rollout_plan,
        commands::rollout::start_rollout,
        commands::rollout::resume_rollout,
        commands::rollout::control_rollout,
        commands::rollout::list_rollouts,
        commands::rollout::test_rollout_version,
        commands::rollout::live_splits,
        commands::deploy::promote_plan,
        commands::deploy::promote,
        commands::deploy::interrupted_deploys,
        commands::deploy::dismiss_interrupted_deploy,
        commands::deploy::archived_bundles,
        commands::deploy::deploy_settings,
        commands::deploy::set_deploy_settings,
        commands::deploy::export_history,
        commands::templates::service_templates,
        commands::templates::create_service,
        commands::runbooks::runbook_catalog,
        commands::runbooks::runbook_for_error,
        commands::runbooks::start_run,
        commands::runbooks::list_runs,
        commands::runbooks::run_detail,
        commands::runbooks::step_plan,
        commands::runbooks::run_step,
        commands::runbooks::stop_step,
        commands::runbooks::set_check,
        commands::runbooks::complete_step,
        commands::runbooks::skip_step,
        commands::runbooks::add_run_note,
        commands::runbooks::finish_run,
        commands::runbooks::abandon_run,
        commands::runbooks::incident_report,
        commands::runbooks::sandbox_faults,
        commands::runbooks::inject_fault,
        commands::runbooks::clear_fault,
        commands::logs::start_logs,
        commands::logs::stop_logs,
        commands::logs::save_logs,
        commands::sandbox::sandbox_runtime,
        commands::sandbox::workerd_path,
        commands::sandbox::set_workerd_path,
        commands::sandbox::workerd_install_offer,
        commands::sandbox::install_workerd,
        commands::sandbox::cancel_workerd_install,
        commands::timeline::timeline,
        commands::timeline::pin_timeline_item,
        commands::timeline::add_timeline_note,
        commands::timeline::timeline_markdown,
        commands::timeline::save_timeline_markdown,
        commands::audit::list_audit,
        commands::audit::export_audit,
    ])
}

/// Where the generated bindings live, relative to this crate.
pub const BINDINGS_PATH: &str = "../ui/src/ipc/bindings.ts";

/// Render the TypeScript bindings for the IPC surface.
pub fn export_bindings(path: &std::path::Path) -> Result<(), String> {
    ipc_builder()
        .export(
            specta_typescript::Typescript::default()
                .header("// Generated by `cargo xtask bindings` from src-tauri. Do not edit.\n"),
            path,
        )
        .map_err(|e| e.to_string())
}

pub fn run() {
    let launched = std::time::Instant::now();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();

    // The data (SQLite, keychain) and the embedded sandbox are opened on a thread of their own
    // while GTK and the webview start, not after them on the main thread: the page's load (which
    // waits for the main thread) starts as soon as the window is up. `setup` waits for it, so
    // every command still finds the state in place.
    let opening = std::thread::spawn(move || {
        let state = tauri::async_runtime::block_on(AppState::init());
        tracing::info!(
            ms = launched.elapsed().as_millis() as u64,
            "start: data and local sandbox opened"
        );
        state
    });

    let builder = ipc_builder();
    let mut app = tauri::Builder::default();
    // The default data folder is one window's: a second launch focuses it. With
    // SWITCHYARD_DATA_DIR set (tests, a second folder on purpose) each folder is guarded by its
    // lock alone, so instances on different folders can run side by side.
    if std::env::var_os("SWITCHYARD_DATA_DIR").is_none() {
        app = app.plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }));
    }
    app.plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            builder.mount_events(app);
            tracing::info!(
                ms = launched.elapsed().as_millis() as u64,
                "start: window created, waiting for the data"
            );
            let opened = opening.join().unwrap_or_else(|_| {
                Err(switchyard_core::AppError::internal(
                    "Opening Switchyard's data and the local sandbox",
                ))
            });
            let state = match opened {
                Ok(s) => s,
                // Another process holds the data folder: say which and what to do, then quit
                // (never share the folder).
                Err(e) if e.code == switchyard_core::ErrorCode::Conflict => {
                    tracing::error!(error = %e.message, "the data folder is in use");
                    if let Some(window) = app.get_webview_window("main") {
                        let _ = window.hide();
                    }
                    let handle = app.handle().clone();
                    use tauri_plugin_dialog::DialogExt;
                    app.dialog()
                        .message(e.message)
                        .title("Switchyard is already open on this data folder")
                        .kind(tauri_plugin_dialog::MessageDialogKind::Warning)
                        .show(move |_| handle.exit(1));
                    return Ok(());
                }
                // Anything else that keeps the data from opening (a database written by a newer
                // Switchyard, one that stays busy, a full disk…): say it in a window, then quit.
                Err(e) => {
                    tracing::error!(error = %e.message, "could not initialise Switchyard");
                    if let Some(window) = app.get_webview_window("main") {
                        let _ = window.hide();
                    }
                    let handle = app.handle().clone();
                    use tauri_plugin_dialog::DialogExt;
                    app.dialog()
                        .message(e.message)
                        .title("Switchyard cannot open its data")
                        .kind(tauri_plugin_dialog::MessageDialogKind::Error)
                        .show(move |_| handle.exit(1));
                    return Ok(());
                }
            };
            tracing::info!(
                data_dir = %state.ops.data_dir().display(),
                ms = launched.elapsed().as_millis() as u64,
                "Switchyard started"
            );
            // Deploys a crash cut off last time: reconciled with the platform in the background
            // (the Deploy area asks again when it opens).
            let ops = state.ops.clone();
            tauri::async_runtime::spawn(async move {
                match ops.reconcile_deploys().await {
                    Ok(found) if !found.is_empty() => {
                        tracing::warn!(count = found.len(), "interrupted deploys reconciled")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e.message, "reconciling interrupted deploys"),
                }
            });
            app.manage(state);
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("error while building the Switchyard window")
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                // No tail stays open on the platform after the window closes.
                if let Some(state) = app.try_state::<AppState>() {
                    tauri::async_runtime::block_on(state.ops.stop_all_logs());
                }
            }
        });
}
