//! The bottom of the crate: the HTTP helpers every API shares — response envelopes and JSON
//! errors, request body limits, bearer-token parsing, the response markers the server obeys, and
//! the mapping of the framework's own errors to each API's error shape.
//!
//! It imports no other module of the crate (a test in `tests/module_graph.rs` keeps it so): the
//! feature modules depend on it, never the other way round.

mod body;
mod envelope;
mod errors;
mod headers;

pub use body::{read_body_limited, BodyError, REQUEST_BODY_LIMIT};
pub use envelope::{envelope, envelope_error, json_error, CloudflareError};
pub use errors::{json_errors, DropConnection, VerbatimBody};
pub use headers::{bearer_token, header_str};
