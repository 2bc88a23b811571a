//! What the server does with a response beyond sending it: the markers a handler sets, and the
//! middleware that gives the framework's own errors the API's error shape.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;

use super::body::read_body_limited;
use super::envelope::{envelope_error, json_error};

/// Marks a response whose body must reach the client as it is (a fault's body, a crashing
/// worker's text), even when it is an error that is not JSON.
#[derive(Debug, Clone, Copy)]
pub struct VerbatimBody;

/// Marks a response whose connection the server must drop without writing it.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// Every error the sandbox answers is JSON: an error from the framework itself (a path that is
/// not UTF-8, a bad query string…) is rewritten as the API's own error shape — a Cloudflare
/// envelope under `/client/v4`, `{"error": …}` elsewhere.
pub async fn json_errors(req: Request, next: axum::middleware::Next) -> Response {
    let cloudflare = req.uri().path().starts_with("/client/v4");
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let verbatim = response.extensions().get::<VerbatimBody>().is_some()
        || response.extensions().get::<DropConnection>().is_some();
    if !(status.is_client_error() || status.is_server_error()) || is_json || verbatim {
        return response;
    }
    let text = match read_body_limited(response.into_body(), 64 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        text
    };
    if cloudflare {
        let code = match status {
            StatusCode::NOT_FOUND => 7003,
            StatusCode::METHOD_NOT_ALLOWED => 7001,
            StatusCode::PAYLOAD_TOO_LARGE => 10027,
            s if s.is_client_error() => 10004,
            _ => 10002,
        };
        envelope_error(status, code, &message)
    } else {
        json_error(status, &message)
    }
}
