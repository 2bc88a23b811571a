//! One mutation per target at a time, across processes: a deploy, rollback, restore or direct
//! deploy holds its service/environment; a namespace or worker change holds its namespace. The
//! hold is an OS file lock (`flock`) on a small file named after the target, in a per-user folder
//! shared by every Switchyard of the user (whatever its data folder), so two windows, two data
//! folders or a window and a script on the same platform cannot change one target at once. The
//! file also says who holds it, so the one refused can say what is running, since when and from
//! where. A lock is released when its guard drops or its process dies, however it dies.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use switchyard_core::{AppError, Environment, ErrorCode, Profile};

/// What is held.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LockTarget<'a> {
    /// A service in an environment, on the profile's Deploy API.
    Service {
        service: &'a str,
        environment: Environment,
    },
    /// A dispatch namespace (its workers too), on the profile's Cloudflare account.
    Namespace { name: &'a str },
}

/// Who holds a target: written into its lock file by the holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Holder {
    /// What runs, in words: "a rollback".
    action: String,
    /// The target in words: "gateway in production".
    target: String,
    run_id: String,
    since_ms: i64,
    pid: u32,
    data_dir: String,
    actor: String,
}

/// Holds a target until dropped (closing the file releases the lock).
#[derive(Debug)]
pub(crate) struct TargetGuard {
    _file: File,
}

/// Where the lock files live: the user's runtime folder, else the user's cache folder, else the
/// data folder (then only Switchyards on that folder see each other).
pub(crate) fn default_lock_dir(data_dir: &Path) -> PathBuf {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    match base {
        Some(b) => b.join("switchyard").join("target-locks"),
        None => data_dir.join("target-locks"),
    }
}

/// The key of a target: the platform it lives on (so two profiles of one platform share it)
/// and its name.
fn key(profile: &Profile, target: LockTarget<'_>) -> (String, String) {
    let origin = |url: &str| url.trim().trim_end_matches('/').to_ascii_lowercase();
    match target {
        LockTarget::Service {
            service,
            environment,
        } => (
            format!(
                "service|{}|{service}|{environment}",
                origin(&profile.deploy_api_url)
            ),
            format!("{service} in {environment}"),
        ),
        LockTarget::Namespace { name } => (
            format!(
                "namespace|{}|{}|{name}",
                origin(&profile.cloudflare_api_url),
                profile.account_id
            ),
            format!("namespace {name}"),
        ),
    }
}

/// The per-target locks of one `Ops`.
#[derive(Debug)]
pub(crate) struct TargetLocks {
    dir: PathBuf,
    data_dir: PathBuf,
}

impl TargetLocks {
    pub(crate) fn new(dir: PathBuf, data_dir: &Path) -> Self {
        TargetLocks {
            dir,
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// Hold `target` for `action` (in words, e.g. "a rollback") of run `run_id`, or refuse with
    /// `Conflict` naming what holds it, since when and where.
    pub(crate) fn acquire(
        &self,
        profile: &Profile,
        target: LockTarget<'_>,
        action: &str,
        run_id: &str,
        now_ms: i64,
    ) -> Result<TargetGuard, AppError> {
        use sha2::{Digest, Sha256};
        let (key, words) = key(profile, target);
        std::fs::create_dir_all(&self.dir).map_err(|e| self.unusable(&e))?;
        let path = self
            .dir
            .join(format!("{}.lock", &hex::encode(Sha256::digest(&key))[..32]));
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| self.unusable(&e))?;
        match file.try_lock() {
            Ok(()) => {
                let holder = Holder {
                    action: action.to_owned(),
                    target: words,
                    run_id: run_id.to_owned(),
                    since_ms: now_ms,
                    pid: std::process::id(),
                    data_dir: self.data_dir.display().to_string(),
                    actor: crate::actor(),
                };
                let _ = file.set_len(0);
                let _ = file.rewind();
                let _ = file.write_all(&serde_json::to_vec(&holder).unwrap_or_default());
                let _ = file.flush();
                Ok(TargetGuard { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                Err(self.busy(&words, serde_json::from_str::<Holder>(&text).ok()))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(self.unusable(&e)),
        }
    }

    fn busy(&self, target: &str, holder: Option<Holder>) -> AppError {
        let Some(h) = holder else {
            return AppError::new(
                ErrorCode::Conflict,
                format!(
                    "Nothing was changed: another change of {target} is running. Wait for it to finish, then look at the plan again."
                ),
            );
        };
        let since = chrono::DateTime::from_timestamp_millis(h.since_ms)
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%H:%M:%S")
                    .to_string()
            })
            .unwrap_or_else(|| "a moment ago".into());
        let from =
            if h.pid == std::process::id() && h.data_dir == self.data_dir.display().to_string() {
                "in this window".to_owned()
            } else {
                format!(
                    "by another Switchyard (process {}, data folder {})",
                    h.pid, h.data_dir
                )
            };
        AppError::new(
            ErrorCode::Conflict,
            format!(
                "Nothing was changed: {} of {} is already running, started at {since} by {} {from}{}. One change of a target runs at a time: wait for it to finish, then look at the plan again, since it may have changed what runs.",
                h.action,
                h.target,
                h.actor,
                if h.run_id.is_empty() {
                    String::new()
                } else {
                    format!(" (run {})", h.run_id)
                }
            ),
        )
    }

    fn unusable(&self, e: &std::io::Error) -> AppError {
        AppError::invalid_input(format!(
            "Nothing was changed: the lock folder {} cannot be used ({e}). Switchyard holds a lock there while it changes a target; check the folder's permissions.",
            self.dir.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(deploy: &str) -> Profile {
        let mut p = Profile::for_environment("p", "P", Environment::Production);
        p.deploy_api_url = deploy.into();
        p
    }

    #[test]
    fn a_target_is_held_until_its_guard_drops_and_the_refusal_says_by_what() {
        let dir = tempfile::tempdir().unwrap();
        let a = TargetLocks::new(dir.path().join("locks"), &dir.path().join("a"));
        let b = TargetLocks::new(dir.path().join("locks"), &dir.path().join("b"));
        let gw = LockTarget::Service {
            service: "gateway",
            environment: Environment::Production,
        };
        let p = profile("https://deploy.do/");
        let guard = a.acquire(&p, gw, "a rollback", "run_1", 0).unwrap();
        // The same platform through another profile spelling (trailing slash, case) is the same
        // target; another data folder sees it too.
        let e = b
            .acquire(&profile("HTTPS://deploy.do"), gw, "a deploy", "run_2", 0)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Conflict);
        assert!(
            e.message
                .contains("a rollback of gateway in production is already running"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("run_1") && e.message.contains("another Switchyard"),
            "{}",
            e.message
        );
        let e = a.acquire(&p, gw, "a deploy", "run_3", 0).unwrap_err();
        assert!(e.message.contains("in this window"), "{}", e.message);
        // Other targets are free.
        let staging = LockTarget::Service {
            service: "gateway",
            environment: Environment::Staging,
        };
        let _s = b.acquire(&p, staging, "a deploy", "run_4", 0).unwrap();
        let _o = b
            .acquire(
                &profile("https://other.example"),
                gw,
                "a deploy",
                "run_5",
                0,
            )
            .unwrap();
        drop(guard);
        b.acquire(&p, gw, "a deploy", "run_6", 0).unwrap();
    }
}
