fn main() {
    // Declare the app's own commands so capabilities can grant them one by one: a command the
    // capability file does not list cannot be called from the webview.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(&["app_info"])),
    )
    .expect("tauri-build failed");
}
