//! The download: the tarball streamed from the registry into a file with progress, within the size
//! limit, hashed as it arrives.

use super::*;

/// The `Content-Length` an answer declares (read from the header: for HEAD, the body is empty).
pub(super) fn declared_length(resp: &reqwest::Response) -> Option<u64> {
    resp.headers()
        .get(reqwest::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub(super) fn http_client(timeout: Option<Duration>) -> Result<reqwest::Client, AppError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(Duration::from_secs(60))
        .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")));
    if let Some(t) = timeout {
        builder = builder.timeout(t);
    }
    builder.build().map_err(|e| {
        tracing::error!(error = %e, "building the HTTP client for the workerd download failed");
        AppError::internal("Setting up the workerd download")
    })
}

pub(super) fn transport_failure(
    download: &WorkerdDownload,
    done: u64,
    e: &reqwest::Error,
) -> AppError {
    let what = download.what();
    if done > 0 {
        failure(
            ErrorCode::Unreachable,
            format!("The download of {what} broke off after {} ({e}); nothing was installed. {TRY_AGAIN}", megabytes(done)),
        )
    } else if e.is_timeout() {
        failure(
            ErrorCode::Timeout,
            format!("Downloading {what} from {} timed out; nothing was installed. Check the network (and the proxy, if you use one), then try again.", download.url),
        )
    } else {
        failure(
            ErrorCode::Unreachable,
            format!("Downloading {what} failed: {} could not be reached ({e}); nothing was installed. Check the network (and the proxy, if you use one), or set SWITCHYARD_NPM_REGISTRY to a registry mirror you can reach, then try again.", download.url),
        )
    }
}

pub(super) fn too_large(download: &WorkerdDownload, what: &str, limit: u64) -> AppError {
    failure(
        ErrorCode::InvalidResponse,
        format!(
            "{what} of {} is larger than {}, the most Switchyard accepts for it: it was stopped and nothing was installed. {} may not be serving the real package; check it, or install workerd with `cargo xtask setup`.",
            download.what(),
            megabytes(limit),
            download.url
        ),
    )
}

/// Streams the tarball into `file`, hashing it; the sha512 of what arrived.
pub(super) async fn fetch(
    download: &WorkerdDownload,
    file: &mut tokio::fs::File,
    file_path: &Path,
    cancel: &CancellationToken,
    progress: &mut (dyn FnMut(WorkerdInstallEvent) + Send),
) -> Result<Vec<u8>, AppError> {
    let client = http_client(None)?;
    let mut resp = tokio::select! {
        _ = cancel.cancelled() => return Err(cancelled()),
        r = client.get(&download.url).send() => r.map_err(|e| transport_failure(download, 0, &e))?,
    };
    let status = resp.status();
    if !status.is_success() {
        let hint = if status == reqwest::StatusCode::NOT_FOUND {
            " The registry does not have that version: if SWITCHYARD_NPM_REGISTRY or npm_config_registry names a mirror, check that it mirrors the @cloudflare packages."
        } else {
            " Try again later."
        };
        return Err(failure(
            if status.is_server_error() {
                ErrorCode::ServerError
            } else {
                ErrorCode::NotFound
            },
            format!(
                "The registry answered {status} for {}; nothing was installed.{hint} Or install workerd with `cargo xtask setup`.",
                download.url
            ),
        ));
    }
    let total = declared_length(&resp);
    if total.is_some_and(|t| t > download.max_download_bytes) {
        return Err(too_large(
            download,
            "The download",
            download.max_download_bytes,
        ));
    }
    let mut hasher = Sha512::new();
    let mut done = 0u64;
    let mut reported = 0u64;
    progress(WorkerdInstallEvent::Download {
        done_bytes: 0,
        total_bytes: total,
    });
    loop {
        let chunk = tokio::select! {
            _ = cancel.cancelled() => return Err(cancelled()),
            c = resp.chunk() => c.map_err(|e| transport_failure(download, done, &e))?,
        };
        let Some(chunk) = chunk else { break };
        done += chunk.len() as u64;
        if done > download.max_download_bytes {
            return Err(too_large(
                download,
                "The download",
                download.max_download_bytes,
            ));
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| disk_error(file_path, &e))?;
        if done - reported >= PROGRESS_EVERY_BYTES {
            reported = done;
            progress(WorkerdInstallEvent::Download {
                done_bytes: done,
                total_bytes: total,
            });
        }
    }
    if let Some(t) = total.filter(|t| *t != done) {
        return Err(failure(
            ErrorCode::Unreachable,
            format!(
                "The download of {} broke off after {} of {}; nothing was installed. {TRY_AGAIN}",
                download.what(),
                megabytes(done),
                megabytes(t)
            ),
        ));
    }
    if reported != done {
        progress(WorkerdInstallEvent::Download {
            done_bytes: done,
            total_bytes: total,
        });
    }
    file.flush().await.map_err(|e| disk_error(file_path, &e))?;
    file.sync_all()
        .await
        .map_err(|e| disk_error(file_path, &e))?;
    Ok(hasher.finalize().to_vec())
}
