//! Installing workerd from Settings: a registry served on 127.0.0.1 by the test, tarballs built
//! here. A download matching its published sha512 installs a binary that answers `--version`;
//! a wrong hash, a cut or oversized download, a package without the binary (or with a path that
//! climbs out), a binary that does not run and a cancelled download install nothing and say why.
//! The last test goes through the façade with the real workerd: the Local sandbox, started without
//! one, executes deployed scripts as soon as it is installed.
//!
//! The binary in most tarballs is a small shell script that prints a version: these tests are
//! about download, verification and extraction, not the runtime.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use sha2::{Digest, Sha512};
use switchyard_core::{ErrorCode, SystemClock, SANDBOX_PROFILE_ID};
use switchyard_ops::{
    install_workerd_binary, tarball_url, Ops, WorkerdDownload, WorkerdInstallEvent,
    MAX_BINARY_BYTES, MAX_DOWNLOAD_BYTES,
};
use switchyard_sandbox::runtime::locate;
use switchyard_secrets::MemoryStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

const PACKAGE: &str = "@cloudflare/workerd-linux-64";
const VERSION: &str = "1.20261123.1";

/// A stand-in for workerd: answers `--version` as workerd does, fails otherwise.
fn fake_workerd(padding: usize) -> Vec<u8> {
    let mut s = String::from(
        "#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then echo 'workerd 2026-11-23'; exit 0; fi\nexit 1\n",
    );
    // Bulk that does not compress, so the download takes several chunks (a comment line the
    // shell never reads).
    s.push('#');
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..padding {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push(char::from(b'a' + (x % 26) as u8));
    }
    s.push('\n');
    s.into_bytes()
}

/// A gzipped tar of `entries` (path, content, mode). Paths are written as they are, even `..`.
fn tarball(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (path, content, mode) in entries {
        let mut header = tar::Header::new_gnu();
        let name = &mut header.as_gnu_mut().unwrap().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_size(content.len() as u64);
        header.set_mode(*mode);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append(&header, *content).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// The npm package around `binary`, as the registry publishes it.
fn package_with(binary: &[u8]) -> Vec<u8> {
    tarball(&[
        (
            "package/package.json",
            br#"{"name":"@cloudflare/workerd-linux-64"}"#,
            0o644,
        ),
        ("package/README.md", b"workerd", 0o644),
        ("package/bin/workerd", binary, 0o755),
    ])
}

fn integrity_of(bytes: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(bytes))
    )
}

/// A registry on 127.0.0.1 serving `body` at every path (and recording the paths asked for).
#[derive(Clone)]
struct Registry {
    body: Arc<Vec<u8>>,
    asked: Arc<Mutex<Vec<String>>>,
}

async fn serve_tarball(State(r): State<Registry>, uri: Uri) -> Response {
    r.asked.lock().unwrap().push(uri.path().to_owned());
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        r.body.as_ref().clone(),
    )
        .into_response()
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{addr}")
}

async fn registry(body: Vec<u8>) -> (String, Registry) {
    let r = Registry {
        body: Arc::new(body),
        asked: Arc::default(),
    };
    let base = serve(
        Router::new()
            .fallback(get(serve_tarball))
            .with_state(r.clone()),
    )
    .await;
    (base, r)
}

/// A download of `PACKAGE` from `base` checked against `integrity`, into `dir/cache/…/bin/workerd`
/// (none of whose folders exist yet).
fn download(base: &str, integrity: String, dir: &Path) -> WorkerdDownload {
    WorkerdDownload {
        package: PACKAGE.into(),
        version: VERSION.into(),
        url: tarball_url(base, PACKAGE, VERSION),
        integrity,
        destination: dir.join("cache/node_modules/@cloudflare/workerd-linux-64/bin/workerd"),
        entry: "package/bin/workerd".into(),
        max_download_bytes: MAX_DOWNLOAD_BYTES,
        max_binary_bytes: MAX_BINARY_BYTES,
    }
}

/// Installs, collecting the progress events.
async fn run(
    d: &WorkerdDownload,
    cancel: &CancellationToken,
) -> (
    Result<switchyard_ops::InstalledWorkerd, switchyard_core::AppError>,
    Vec<WorkerdInstallEvent>,
) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let result = install_workerd_binary(d, cancel, move |e| sink.lock().unwrap().push(e)).await;
    let events = events.lock().unwrap().clone();
    (result, events)
}

/// Installs, expecting a refusal: the error and the progress events.
async fn refused(d: &WorkerdDownload) -> (switchyard_core::AppError, Vec<WorkerdInstallEvent>) {
    let (result, events) = run(d, &CancellationToken::new()).await;
    (result.expect_err("the install is refused"), events)
}

/// A download of `body` from a registry serving it, with its right hash, into `dir`.
async fn served(body: &[u8], dir: &Path) -> WorkerdDownload {
    let (base, _) = registry(body.to_vec()).await;
    download(&base, integrity_of(body), dir)
}

/// The refusal's message says `text`.
fn says(err: &switchyard_core::AppError, text: &str) {
    assert!(err.message.contains(text), "{}", err.message);
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn version_of(binary: &Path) -> String {
    let out = std::process::Command::new(binary)
        .arg("--version")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn a_download_matching_its_published_hash_installs_a_binary_that_answers_version() {
    let body = package_with(&fake_workerd(2_000_000));
    let (base, reg) = registry(body.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let d = download(&base, integrity_of(&body), dir.path());

    let (result, events) = run(&d, &CancellationToken::new()).await;
    let installed = result.unwrap();

    assert_eq!(installed.path, d.destination);
    assert_eq!(installed.version, "2026-11-23");
    assert_eq!(version_of(&d.destination), "workerd 2026-11-23");
    let mode = std::fs::metadata(&d.destination)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755, "{mode:o}");
    // Only the binary: no package.json or README, no temporary file left behind.
    assert_eq!(files_under(dir.path()), vec![d.destination.clone()]);
    assert_eq!(
        reg.asked.lock().unwrap().as_slice(),
        ["/@cloudflare/workerd-linux-64/-/workerd-linux-64-1.20261123.1.tgz"]
    );

    // Progress: bytes from 0 to the whole, never backwards, then the later steps in order.
    let total = body.len() as u64;
    let downloads: Vec<(u64, Option<u64>)> = events
        .iter()
        .filter_map(|e| match e {
            WorkerdInstallEvent::Download {
                done_bytes,
                total_bytes,
            } => Some((*done_bytes, *total_bytes)),
            _ => None,
        })
        .collect();
    assert!(downloads.len() >= 3, "{downloads:?}");
    assert_eq!(downloads.first(), Some(&(0, Some(total))));
    assert_eq!(downloads.last(), Some(&(total, Some(total))));
    assert!(
        downloads.windows(2).all(|w| w[0].0 < w[1].0),
        "{downloads:?}"
    );
    let after: Vec<_> = events
        .iter()
        .filter(|e| !matches!(e, WorkerdInstallEvent::Download { .. }))
        .collect();
    assert_eq!(
        after,
        [
            &WorkerdInstallEvent::Verify,
            &WorkerdInstallEvent::Unpack,
            &WorkerdInstallEvent::Check
        ]
    );
}

#[tokio::test]
async fn a_download_whose_hash_differs_installs_nothing_and_says_so() {
    let body = package_with(&fake_workerd(10));
    let (base, _) = registry(body).await;
    let dir = tempfile::tempdir().unwrap();
    let published = integrity_of(b"the package the registry published");
    let d = download(&base, published, dir.path());

    let (err, events) = refused(&d).await;
    assert_eq!(err.code, ErrorCode::InvalidResponse);
    says(&err, "sha512 does not match the hash the registry published for @cloudflare/workerd-linux-64 1.20261123.1");
    says(&err, "Nothing was installed");
    says(&err, "cargo xtask setup");
    assert_eq!(err.runbook, None);
    // Never unpacked; the folders made for it are gone again.
    assert!(!events.contains(&WorkerdInstallEvent::Unpack), "{events:?}");
    assert!(!dir.path().join("cache").exists());

    // An earlier install is left exactly as it was.
    std::fs::create_dir_all(d.destination.parent().unwrap()).unwrap();
    std::fs::write(&d.destination, b"the earlier binary").unwrap();
    assert_eq!(refused(&d).await.0.code, ErrorCode::InvalidResponse);
    assert_eq!(
        std::fs::read(&d.destination).unwrap(),
        b"the earlier binary"
    );
    assert_eq!(files_under(dir.path()), vec![d.destination.clone()]);
}

/// A server that declares the whole tarball but sends half of it, then hangs up.
async fn cut_short(body: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body[..body.len() / 2]).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_download_cut_short_installs_nothing() {
    let body = package_with(&fake_workerd(500_000));
    let base = cut_short(body.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let d = download(&base, integrity_of(&body), dir.path());

    let (err, events) = refused(&d).await;
    assert_eq!(err.code, ErrorCode::Unreachable, "{}", err.message);
    assert!(
        err.message.starts_with(
            "The download of @cloudflare/workerd-linux-64 1.20261123.1 broke off after"
        ),
        "{}",
        err.message
    );
    says(&err, "nothing was installed");
    assert!(!events.contains(&WorkerdInstallEvent::Verify), "{events:?}");
    assert!(!dir.path().join("cache").exists());
}

#[tokio::test]
async fn an_oversized_download_is_stopped_and_installs_nothing() {
    let body = package_with(&fake_workerd(300_000));
    let dir = tempfile::tempdir().unwrap();

    // Declared too large: refused before reading.
    let (base, _) = registry(body.clone()).await;
    let mut d = download(&base, integrity_of(&body), dir.path());
    d.max_download_bytes = 100_000;
    let (err, events) = refused(&d).await;
    assert_eq!(err.code, ErrorCode::InvalidResponse);
    assert!(
        err.message.starts_with(
            "The download of @cloudflare/workerd-linux-64 1.20261123.1 is larger than 0.1 MB"
        ),
        "{}",
        err.message
    );
    assert!(events.is_empty(), "{events:?}");
    assert!(!dir.path().join("cache").exists());

    // Not declared (streamed in chunks): stopped once past the cap.
    let streamed = body.clone();
    let base = serve(Router::new().fallback(get(move || {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            streamed.chunks(16 * 1024).map(|c| Ok(c.to_vec())).collect();
        async move { Body::from_stream(futures_util::stream::iter(chunks)) }
    })))
    .await;
    let mut d = download(&base, integrity_of(&body), dir.path());
    d.max_download_bytes = 100_000;
    let (err, _) = refused(&d).await;
    assert_eq!(err.code, ErrorCode::InvalidResponse);
    says(&err, "is larger than 0.1 MB");
    assert!(!dir.path().join("cache").exists());

    // The same package within the cap installs (the cap, not the server, refused it).
    d.max_download_bytes = MAX_DOWNLOAD_BYTES;
    let (result, _) = run(&d, &CancellationToken::new()).await;
    result.unwrap();
}

#[tokio::test]
async fn a_package_without_the_binary_installs_nothing_and_writes_no_other_path() {
    // Correct hash, but the binary sits where only a path that climbs out would put it.
    let body = tarball(&[
        ("package/package.json", b"{}", 0o644),
        (
            "package/bin/../../../../escaped-workerd",
            &fake_workerd(10),
            0o755,
        ),
        ("../escaped-workerd", &fake_workerd(10), 0o755),
    ]);
    let (base, _) = registry(body.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let d = download(&base, integrity_of(&body), dir.path().join("a/b").as_path());

    let (err, _) = refused(&d).await;
    assert_eq!(err.code, ErrorCode::InvalidResponse);
    says(&err, "The package @cloudflare/workerd-linux-64 1.20261123.1 has no package/bin/workerd; nothing was installed");
    assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new());
    assert!(
        !dir.path().join("a").exists(),
        "the folders made for it are removed"
    );
}

#[tokio::test]
async fn a_binary_that_does_not_run_is_not_installed() {
    let body =
        package_with(b"#!/bin/sh\necho 'cannot execute: wrong architecture' >&2\nexit 126\n");
    let dir = tempfile::tempdir().unwrap();
    let d = served(&body, dir.path()).await;

    let (err, events) = refused(&d).await;
    assert!(events.contains(&WorkerdInstallEvent::Check), "{events:?}");
    assert!(
        err.message
            .contains("does not run on this machine: `workerd --version` failed"),
        "{}",
        err.message
    );
    says(&err, "wrong architecture");
    says(&err, "Nothing was installed");
    assert!(!dir.path().join("cache").exists());
}

#[tokio::test]
async fn a_cancelled_download_installs_nothing() {
    // A slow registry: 64 KiB every 50 ms.
    let body = package_with(&fake_workerd(3_000_000));
    let streamed = body.clone();
    let base = serve(Router::new().fallback(get(move || {
        let chunks: Vec<Vec<u8>> = streamed.chunks(64 * 1024).map(<[u8]>::to_vec).collect();
        let len = streamed.len();
        async move {
            let stream = futures_util::stream::unfold(chunks.into_iter(), |mut it| async move {
                let c = it.next()?;
                tokio::time::sleep(Duration::from_millis(50)).await;
                Some((Ok::<_, std::io::Error>(c), it))
            });
            (
                [(header::CONTENT_LENGTH, len.to_string())],
                Body::from_stream(stream),
            )
        }
    })))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let d = download(&base, integrity_of(&body), dir.path());
    let cancel = CancellationToken::new();
    let canceller = cancel.clone();
    let result = install_workerd_binary(&d, &cancel, move |e| {
        if matches!(e, WorkerdInstallEvent::Download { done_bytes, .. } if done_bytes > 0) {
            canceller.cancel();
        }
    })
    .await;
    let err = result.unwrap_err();
    assert_eq!(err.code, ErrorCode::Cancelled);
    assert_eq!(
        err.message,
        "The workerd install was cancelled; nothing was installed."
    );
    assert!(!dir.path().join("cache").exists());
}

/// The workerd this machine has (`cargo xtask setup`), found before the test hides it.
fn real_workerd() -> PathBuf {
    switchyard_sandbox::locate_workerd(None)
        .unwrap_or_else(|e| panic!("this test needs workerd: {e}"))
        .path
}

/// `PATH` without any folder holding a `wrangler` (whose workerd the sandbox would use).
fn path_without_wrangler() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|d| !d.join("wrangler").exists())
        .collect();
    std::env::join_paths(kept)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn the_local_sandbox_executes_scripts_once_workerd_is_installed_and_not_before() {
    let real = real_workerd();
    let dir = tempfile::tempdir().unwrap();
    // This machine's workerd is hidden from the lookup: an empty cache folder of our own, no
    // SWITCHYARD_WORKERD, no wrangler. The registry is ours too (SWITCHYARD_NPM_REGISTRY).
    let wrong = package_with(&fake_workerd(10));
    let (base, reg) = registry(wrong.clone()).await;
    std::env::set_var("XDG_CACHE_HOME", dir.path().join("cache"));
    std::env::remove_var("SWITCHYARD_WORKERD");
    std::env::remove_var("MINIFLARE_WORKERD_PATH");
    std::env::set_var("PATH", path_without_wrangler());
    std::env::set_var("SWITCHYARD_NPM_REGISTRY", &base);
    let pinned = locate::pinned_platform_package().expect("a platform workerd publishes");
    let destination = locate::cache_binary().unwrap();
    assert!(destination.starts_with(dir.path()));

    let ops = Ops::open(
        &dir.path().join("data"),
        Arc::new(MemoryStore::new()),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let profile = ops.start_embedded_sandbox().await.unwrap();
    let health = profile
        .service_url_template
        .replace("{environment}", "production")
        .replace("{service}", "gateway")
        + "/health";
    let http = reqwest::Client::new();
    let runtime = ops.sandbox_runtime().await.unwrap();
    assert!(!runtime.executing, "{runtime:?}");
    let answer = http.get(&health).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE.as_u16());
    assert!(answer.text().await.unwrap().contains("Not executed"));

    // The offer: what, from where, its size as the registry says, and where it goes.
    let offer = ops.workerd_install_offer().await.unwrap();
    assert_eq!(offer.package, pinned.name);
    assert_eq!(offer.version, pinned.version);
    assert_eq!(offer.url, tarball_url(&base, &pinned.name, &pinned.version));
    assert_eq!(offer.download_bytes, Some(wrong.len() as u64));
    assert_eq!(offer.size_unknown, None);
    assert_eq!(offer.destination, destination.display().to_string());

    // The pinned install checks the lock file's hash: this registry's package is refused.
    let err = ops.install_workerd(|_| {}).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidResponse);
    says(&err, "sha512 does not match");
    let bare = pinned.name.rsplit('/').next().unwrap();
    assert!(reg
        .asked
        .lock()
        .unwrap()
        .contains(&format!("/{}/-/{bare}-{}.tgz", pinned.name, pinned.version)));
    assert!(!destination.exists());
    assert!(!ops.sandbox_runtime().await.unwrap().executing);

    // A package whose binary is the real workerd (a script that runs it), with its own hash.
    let wrapper = format!("#!/bin/sh\nexec '{}' \"$@\"\n", real.display());
    let good = package_with(wrapper.as_bytes());
    let (good_base, _) = registry(good.clone()).await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let installed = ops
        .install_workerd_from(
            WorkerdDownload {
                package: pinned.name.clone(),
                version: pinned.version.clone(),
                url: tarball_url(&good_base, &pinned.name, &pinned.version),
                integrity: integrity_of(&good),
                destination: destination.clone(),
                entry: "package/bin/workerd".into(),
                max_download_bytes: MAX_DOWNLOAD_BYTES,
                max_binary_bytes: MAX_BINARY_BYTES,
            },
            move |e| sink.lock().unwrap().push(e),
        )
        .await
        .unwrap();
    assert!(installed.in_use, "{installed:?}");
    assert_eq!(installed.path, destination.display().to_string());
    assert_eq!(
        installed.message,
        format!(
            "workerd {} is installed at {}. The Local sandbox runs deployed scripts with it now.",
            installed.version,
            destination.display()
        )
    );
    assert_eq!(
        events.lock().unwrap().last(),
        Some(&WorkerdInstallEvent::StartRuntime)
    );
    let runtime = ops.sandbox_runtime().await.unwrap();
    assert!(runtime.executing && runtime.running, "{runtime:?}");
    assert_eq!(runtime.workerd_source.as_deref(), Some("cache"));
    assert!(
        runtime
            .notices
            .iter()
            .any(|n| n.message.contains("found after the sandbox started")),
        "{runtime:?}"
    );

    // The deployed code answers now, with no restart.
    let answer = http.get(&health).send().await.unwrap();
    assert_eq!(
        answer.status(),
        StatusCode::OK.as_u16(),
        "{:?}",
        answer.text().await
    );

    // Both attempts are in the audit log, the refused one with its reason.
    let audit = ops.audit_log(SANDBOX_PROFILE_ID, 20).await.unwrap();
    let installs: Vec<_> = audit
        .iter()
        .filter(|r| r.entry.action == "sandbox.workerd_install")
        .map(|r| (r.entry.outcome.clone(), r.entry.message.clone()))
        .collect();
    assert_eq!(installs.len(), 2, "{installs:?}");
    assert!(installs.iter().any(|(o, _)| o == "ok"), "{installs:?}");
    assert!(
        installs
            .iter()
            .any(|(o, m)| o == "InvalidResponse"
                && m.as_deref().is_some_and(|m| m.contains("sha512"))),
        "{installs:?}"
    );
    ops.shutdown().await;
}
