//! IPC commands, one module per area. Each command is a few lines: take the state, call the
//! domain crates, return their result or an `AppError`.

pub mod app;
