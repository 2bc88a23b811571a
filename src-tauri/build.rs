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
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
