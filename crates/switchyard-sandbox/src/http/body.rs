//! Request bodies: read whole, never past a limit.

use axum::body::{Body, Bytes};

/// Largest request body any route reads (the Free plan's account request-body limit).
pub const REQUEST_BODY_LIMIT: usize = 100 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    Read,
}

/// Reads a whole body, failing (without panicking or hanging) past `limit` bytes.
pub async fn read_body_limited(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    match axum::body::to_bytes(body, limit).await {
        Ok(b) => Ok(b),
        Err(e) => {
            let too_large = is_length_limit(&e);
            Err(if too_large {
                BodyError::TooLarge
            } else {
                BodyError::Read
            })
        }
    }
}

/// Whether a body error is the length limit being exceeded (anywhere in its source chain).
fn is_length_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if err.to_string().contains("length limit exceeded") {
            return true;
        }
        current = err.source();
    }
    false
}
