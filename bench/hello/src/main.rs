//! A minimal Tauri window with one static page: what `cargo xtask bench` compares Switchyard's
//! cold start, memory and package size against. Built with the same Tauri, profile and
//! custom protocol as the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("error while running the hello-world window");
}
