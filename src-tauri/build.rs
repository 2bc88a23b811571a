/// Every IPC command of the app. Each gets an `allow-<name>` permission; the capability file
/// grants them one by one, and a command it does not list cannot be called from the webview.
const COMMANDS: &[&str] = &[
    "app_info",
    "list_profiles",
    "save_profile",
    "delete_profile",
    "select_profile",
    "export_profiles",
    "import_profiles",
    "profile_secrets",
    "set_secret",
    "delete_secret",
    "validate_key",
    "sync_history",
    "query_history",
    "list_namespaces",
    "create_namespace",
    "set_namespace_trusted",
    "rename_namespace",
    "namespace_delete_plan",
    "delete_namespace",
    "list_workers",
    "worker_detail",
    "worker_content",
    "delete_worker",
    "compare_namespaces",
    "compare_bindings",
    "check_health",
    "health_history",
    "choose_path",
    "prepare_deploy",
    "apply_deploy",
    "cancel_deploy",
    "discard_deploy",
    "rollback_plan",
    "rollback",
    "deployment_versions",
    "restore_plan",
    "restore_version",
    "deploy_pins",
    "archived_bundles",
    "deploy_settings",
    "set_deploy_settings",
    "export_history",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
