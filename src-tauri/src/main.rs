// Keep a console window from opening alongside the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// mimalloc instead of the system allocator: it hands freed memory back to the system within
/// milliseconds, where glibc's per-thread arenas kept hundreds of MiB after a 100,000-script
/// namespace was listed and left (README, rows 2c/2d).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    switchyard_desktop::run();
}
