//! IPC commands, one module per area. Each command is a few lines: take the state, call the
//! `switchyard-ops` façade, return its result or its `AppError`.

pub mod app;
pub mod audit;
pub mod compare;
pub mod deploy;
pub mod files;
pub mod health;
pub mod history;
pub mod logs;
pub mod namespaces;
pub mod profiles;
pub mod runbooks;
pub mod sandbox;
pub mod secrets;
