//! Cloudflare's tail: `POST/DELETE /accounts/{a}/workers/scripts/{name}/tails`, then the
//! WebSocket it hands out (subprotocol `trace-v1`), which pushes one JSON trace event per
//! invocation. The same code tails the Local sandbox and a real account.

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use switchyard_core::{AppError, ErrorCode};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::cloudflare::{seg, CloudflareApi};

/// The largest trace event accepted (a bigger frame ends the tail with an error).
pub const MAX_TRACE_EVENT_BYTES: usize = 1024 * 1024;

/// A tail the platform created: where to read it, until when.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct TailInfo {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// One `console.*` call of an invocation.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TraceLog {
    #[serde(default)]
    pub message: Vec<serde_json::Value>,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub timestamp: f64,
}

/// An uncaught exception of an invocation.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TraceException {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub stack: Option<String>,
    #[serde(default)]
    pub timestamp: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct TraceRequest {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub method: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct TraceResponse {
    #[serde(default)]
    pub status: Option<u16>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct TraceFetchEvent {
    #[serde(default)]
    pub request: Option<TraceRequest>,
    #[serde(default)]
    pub response: Option<TraceResponse>,
}

/// One trace event: an invocation of a worker, with what its code logged and threw.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TraceEvent {
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub script_name: Option<String>,
    #[serde(default)]
    pub dispatch_namespace: Option<String>,
    #[serde(default)]
    pub event_timestamp: Option<f64>,
    #[serde(default)]
    pub logs: Vec<TraceLog>,
    #[serde(default)]
    pub exceptions: Vec<TraceException>,
    /// `null` or absent for events that are not requests (scheduled, queue…).
    #[serde(default)]
    pub event: Option<TraceFetchEvent>,
    /// The version of the worker that served it (a gradual deployment splits between two).
    #[serde(default)]
    pub script_version: Option<TraceScriptVersion>,
}

/// `scriptVersion` of a trace event.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct TraceScriptVersion {
    #[serde(default)]
    pub id: Option<String>,
}

impl CloudflareApi {
    fn tails_url(&self, script: &str) -> String {
        format!(
            "{}/accounts/{}/workers/scripts/{}/tails",
            self.base_url(),
            self.account_id(),
            seg(script)
        )
    }

    /// Starts a tail of `script` (no server-side filter).
    pub async fn create_tail(&self, script: &str) -> Result<TailInfo, AppError> {
        let what = format!("Starting a tail of {script}");
        let req = self
            .request(Method::POST, &self.tails_url(script))
            .json(&serde_json::json!({ "filters": [] }));
        Ok(self.call(&what, req).await?.0)
    }

    /// Ends a tail (the platform closes its socket).
    pub async fn delete_tail(&self, script: &str, id: &str) -> Result<(), AppError> {
        let what = format!("Ending the tail of {script}");
        let url = format!("{}/{}", self.tails_url(script), seg(id));
        self.call::<()>(&what, self.request(Method::DELETE, &url))
            .await
            .map(|_| ())
    }
}

/// An open tail WebSocket.
pub struct TailSocket {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl std::fmt::Debug for TailSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TailSocket").finish_non_exhaustive()
    }
}

fn tail_error(message: String) -> AppError {
    AppError::new(ErrorCode::Unreachable, message)
}

impl TailSocket {
    /// Opens the tail's WebSocket with subprotocol `trace-v1` and sends wrangler's opening
    /// message.
    pub async fn connect(tail: &TailInfo) -> Result<TailSocket, AppError> {
        let mut request = tail.url.as_str().into_client_request().map_err(|e| {
            AppError::new(
                ErrorCode::InvalidResponse,
                format!("The tail's address is not a WebSocket URL: {e}"),
            )
        })?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            reqwest::header::HeaderValue::from_static("trace-v1"),
        );
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_TRACE_EVENT_BYTES))
            .max_frame_size(Some(MAX_TRACE_EVENT_BYTES));
        let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), false);
        let (mut socket, _) = tokio::time::timeout(std::time::Duration::from_secs(15), connect)
            .await
            .map_err(|_| tail_error("Opening the tail timed out after 15 s.".into()))?
            .map_err(|e| tail_error(format!("Opening the tail failed: {e}")))?;
        socket
            .send(Message::text(r#"{"debug":false}"#))
            .await
            .map_err(|e| tail_error(format!("The tail closed at once: {e}")))?;
        Ok(TailSocket { socket })
    }

    /// The next trace event; `None` when the platform closed the tail. An event that is not a
    /// trace event is skipped; a broken connection is an error.
    pub async fn next_event(&mut self) -> Option<Result<TraceEvent, AppError>> {
        loop {
            match self.socket.next().await? {
                Ok(Message::Text(text)) => match serde_json::from_str::<TraceEvent>(&text) {
                    Ok(e) => return Some(Ok(e)),
                    Err(e) => {
                        tracing::debug!(error = %e, "a tail message that is not a trace event");
                    }
                },
                Ok(Message::Binary(bytes)) => {
                    if let Ok(e) = serde_json::from_slice::<TraceEvent>(&bytes) {
                        return Some(Ok(e));
                    }
                }
                Ok(Message::Close(_)) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(tail_error(format!("The tail connection broke: {e}")))),
            }
        }
    }

    /// Closes the socket (best effort).
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_event_as_the_platform_sends_it_decodes() {
        let e: TraceEvent = serde_json::from_str(
            r#"{"outcome":"exception","scriptName":"gateway","dispatchNamespace":"dotdo-production",
                "eventTimestamp":1796577199522,
                "logs":[{"message":["GET /",42],"level":"log","timestamp":1796577199522}],
                "exceptions":[{"name":"Error","message":"boom","stack":"at x","timestamp":1}],
                "event":{"request":{"url":"https://gateway.do/","method":"GET","headers":{}}}}"#,
        )
        .unwrap();
        assert_eq!(e.outcome, "exception");
        assert_eq!(e.logs[0].message[1], 42);
        assert_eq!(e.exceptions[0].message, "boom");
        assert_eq!(e.event.unwrap().request.unwrap().method, "GET");
        // Events that are not requests, and fields the app does not know, are fine.
        let e: TraceEvent =
            serde_json::from_str(r#"{"outcome":"ok","event":{"cron":"* * * * *"},"new":1}"#)
                .unwrap();
        assert!(e.event.unwrap().request.is_none());
    }
}
