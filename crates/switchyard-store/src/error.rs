//! Mapping database failures to safe, user-facing errors.

use switchyard_core::AppError;

/// Log the full error, return a safe message.
pub(crate) fn internal(context: &str, e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "{context} failed");
    AppError::internal(context)
}

pub(crate) fn db(context: &'static str) -> impl Fn(sqlx::Error) -> AppError {
    move |e| internal(context, e)
}
