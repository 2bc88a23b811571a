//! IPC commands, one module per area. Each command is a few lines: check every argument the
//! window sent (`switchyard_core::validate`, or `input::Checked` for a structured one: refused
//! with `InvalidInput` naming the field, before anything else happens), take the state, call
//! the `switchyard-ops` façade, return its result or its `AppError`.

pub mod app;
pub mod audit;
pub mod bindings;
pub mod compare;
pub mod deploy;
pub mod files;
pub mod health;
pub mod history;
pub(crate) mod input;
pub mod logs;
pub mod namespaces;
pub mod profiles;
pub mod rollout;
pub mod runbooks;
pub mod sandbox;
pub mod secrets;
pub mod templates;
pub mod timeline;
