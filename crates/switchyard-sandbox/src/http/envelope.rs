//! Response shapes: Cloudflare's JSON envelope (`success`, `errors`, `messages`, `result`) and the
//! platform's plain `{"error": …}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// A Cloudflare API failure: HTTP status, error code, message. The errors of one resource (a
/// namespace, a script) are built where that resource is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudflareError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl CloudflareError {
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        CloudflareError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_body(detail: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            10001,
            format!("Invalid request body: {detail}"),
        )
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 10021, message)
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            10002,
            "Unexpected internal server error",
        )
    }
}

impl IntoResponse for CloudflareError {
    fn into_response(self) -> Response {
        envelope_error(self.status, self.code, &self.message)
    }
}

/// A failure envelope.
pub fn envelope_error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        Json(json!({
            "success": false,
            "errors": [{"code": code, "message": message}],
            "messages": [],
            "result": null,
        })),
    )
        .into_response()
}

/// A success envelope around `result`.
pub fn envelope(result: Value) -> Response {
    Json(json!({"success": true, "errors": [], "messages": [], "result": result})).into_response()
}

/// A plain JSON error `{"error": message}` with `status`.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}
