//! The shared HTTP client: timeouts, retries for idempotent reads, and mapping of transport
//! failures to error codes.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use switchyard_core::{AppError, ErrorCode};

/// Timeouts and retry policy.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Extra attempts for idempotent reads (GET) after the first.
    pub read_retries: u32,
    /// First backoff; doubles each retry.
    pub backoff: Duration,
    /// Longest `Retry-After` honoured before giving up with `RateLimited`.
    pub max_retry_after: Duration,
    /// Largest response body read from any server; a bigger one is refused with a clear error
    /// instead of filling memory.
    pub max_body_bytes: usize,
}

/// The default cap on a response body: a 100,000-script namespace listing fits, a runaway or
/// hostile server does not.
pub const DEFAULT_MAX_BODY_BYTES: usize = 128 * 1024 * 1024;

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            read_retries: 2,
            backoff: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(10),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// One `reqwest::Client` shared by every API client (connection pooling).
#[derive(Debug, Clone)]
pub struct HttpClient {
    pub(crate) inner: reqwest::Client,
    pub(crate) settings: HttpSettings,
}

impl HttpClient {
    pub fn new(settings: HttpSettings) -> Result<Self, AppError> {
        let inner = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                tracing::error!(error = %e, "building the HTTP client failed");
                AppError::internal("Setting up network access")
            })?;
        Ok(HttpClient { inner, settings })
    }

    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.inner.request(method, url)
    }

    /// Send a request; GETs are retried on connection failures, timeouts, 5xx and 429.
    /// `what` names the call for error messages ("Listing deployments").
    pub(crate) async fn send(
        &self,
        what: &str,
        request: RequestBuilder,
    ) -> Result<Response, AppError> {
        let idempotent = request
            .try_clone()
            .and_then(|r| r.build().ok())
            .is_some_and(|r| r.method() == Method::GET);
        let attempts = if idempotent {
            self.settings.read_retries + 1
        } else {
            1
        };
        let mut backoff = self.settings.backoff;
        let mut last_err = None;
        for attempt in 0..attempts {
            let Some(req) = request.try_clone() else {
                return request.send().await.map_err(|e| transport_error(what, &e));
            };
            let last = attempt + 1 == attempts;
            match req.send().await {
                Ok(resp) if resp.status() == StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_after(&resp);
                    if last || wait.is_some_and(|w| w > self.settings.max_retry_after) {
                        return Ok(resp);
                    }
                    tokio::time::sleep(wait.unwrap_or(backoff)).await;
                }
                Ok(resp) if resp.status().is_server_error() && !last => {
                    tokio::time::sleep(backoff).await;
                }
                Ok(resp) => return Ok(resp),
                Err(e) => {
                    let err = transport_error(what, &e);
                    if last {
                        return Err(err);
                    }
                    last_err = Some(err);
                    tokio::time::sleep(backoff).await;
                }
            }
            backoff *= 2;
        }
        Err(last_err.unwrap_or_else(|| AppError::internal(what)))
    }
}

/// `Retry-After` in seconds, if present.
pub(crate) fn retry_after(resp: &Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A connection failure, a timeout, or another transport error, as the operator should read it.
pub(crate) fn transport_error(what: &str, e: &reqwest::Error) -> AppError {
    let host = e
        .url()
        .map(|u| {
            format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?"))
                + &u.port().map(|p| format!(":{p}")).unwrap_or_default()
        })
        .unwrap_or_else(|| "the server".into());
    if e.is_timeout() {
        AppError::new(
            ErrorCode::Timeout,
            format!("{what} timed out: {host} did not answer in time. Check the service's health, then try again."),
        )
    } else if e.is_connect() {
        AppError::new(
            ErrorCode::Unreachable,
            format!("{what} failed: cannot connect to {host}. Check the network and the profile's URL, and whether the service is down."),
        )
    } else {
        tracing::warn!(error = %e, "{what}: transport error");
        AppError::new(
            ErrorCode::Unreachable,
            format!("{what} failed: the connection to {host} broke off. Try again."),
        )
    }
}

/// Read a whole body, at most `limit` bytes: a bigger one is an `InvalidResponse` that says so
/// (read chunk by chunk, so nothing past the limit is held).
pub(crate) async fn read_body(
    what: &str,
    mut resp: Response,
    limit: usize,
) -> Result<Vec<u8>, AppError> {
    let too_large = || {
        AppError::new(
            ErrorCode::InvalidResponse,
            format!(
                "{what} failed: the server's answer is larger than {} MiB, the most Switchyard reads. It may be misbehaving; check it, or ask for less (a filter, a smaller page).",
                limit / (1024 * 1024)
            ),
        )
    };
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(what, &e))? {
        if out.len() + chunk.len() > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

impl HttpClient {
    /// [`read_body`] with this client's cap.
    pub(crate) async fn body(&self, what: &str, resp: Response) -> Result<Vec<u8>, AppError> {
        read_body(what, resp, self.settings.max_body_bytes).await
    }

    /// [`read_json`] with this client's cap.
    pub(crate) async fn json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        resp: Response,
    ) -> Result<(StatusCode, T), AppError> {
        let status = resp.status();
        let bytes = self.body(what, resp).await?;
        decode_json(what, status, &bytes)
    }
}

/// A body as JSON of type `T`, or a clear error naming what came back instead.
fn decode_json<T: serde::de::DeserializeOwned>(
    what: &str,
    status: StatusCode,
    bytes: &[u8],
) -> Result<(StatusCode, T), AppError> {
    let value = serde_json::from_slice(bytes).map_err(|e| {
        let preview: String = String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        tracing::warn!(%status, error = %e, "{what}: unexpected body");
        AppError::new(
            ErrorCode::InvalidResponse,
            format!(
                "{what} failed: the server answered HTTP {status} with a body that is not the expected JSON ({}). It may be down or behind a proxy; check its health.",
                if bytes.is_empty() { "empty".to_owned() } else { format!("starts with {preview:?}") }
            ),
        )
    })?;
    Ok((status, value))
}

/// An unreachable or slow server that is not the Deploy API: the error keeps its code but not the
/// runbook's "Deploy API Down" section, which is about another back-end (every `Unreachable`
/// used to point there, whichever server failed).
pub(crate) fn not_the_deploy_api(mut e: AppError) -> AppError {
    if e.runbook.as_deref() == Some(switchyard_core::RunbookSection::DeployApiDown.heading()) {
        e.runbook = None;
    }
    e
}
