//! Stopping the commands we start (tests, builds, runbook commands) together with their children.
//!
//! Each such command is spawned as the leader of its own process group (`process_group(0)`),
//! so `pnpm` → `node` → workers all go with it. The signal is sent with the `kill(2)` system call
//! on `-pgid` directly: `kill(1)` parses `kill -KILL -1234` as "signal every process"
//! (procps reads `-1234` as an option and falls back to pid -1), which once took down every
//! process of the user running a runbook step that timed out.

/// How hard to stop a group.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stop {
    /// SIGTERM: let it clean up.
    Term,
    /// SIGKILL: no say.
    Kill,
}

/// pid 0 and 1 would mean "our own group" and "every process", and our own pid is never a child.
fn may_signal(pid: u32) -> bool {
    pid > 1 && pid != std::process::id()
}

/// Signal the process group led by `pid`. Refuses anything that is not a real child's group.
pub(crate) fn signal_group(pid: u32, how: Stop) {
    if !may_signal(pid) {
        tracing::warn!(
            pid,
            "refused to signal a process group that is not a child's"
        );
        return;
    }
    #[cfg(unix)]
    {
        use rustix::process::{kill_process_group, Pid, Signal};
        let Some(group) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
            return;
        };
        let sig = match how {
            Stop::Term => Signal::TERM,
            Stop::Kill => Signal::KILL,
        };
        // ESRCH (already gone) is the common, harmless case.
        if let Err(e) = kill_process_group(group, sig) {
            if e != rustix::io::Errno::SRCH {
                tracing::warn!(pid, error = %e, "could not signal the command's process group");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = how;
}

/// Variables a shell step keeps from the app's environment: what finding programs, the user's
/// folders, the locale and the package managers' caches need. Nothing else passes — no
/// `*_TOKEN`, `*_KEY`, `CLOUDFLARE_*`, `DEPLOY_API_KEY` or cloud credentials the app may have
/// been started with.
const KEPT: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TERM",
    "TZ",
    "TMPDIR",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_RUNTIME_DIR",
    "PNPM_HOME",
    "NVM_DIR",
    "NVM_BIN",
    "VOLTA_HOME",
    "COREPACK_HOME",
    "npm_config_cache",
    "npm_config_prefix",
    // Windows
    "SystemRoot",
    "SystemDrive",
    "ComSpec",
    "PATHEXT",
    "TEMP",
    "TMP",
    "USERPROFILE",
    "APPDATA",
    "LOCALAPPDATA",
    "ProgramData",
    "ProgramFiles",
    "ProgramFiles(x86)",
    "WINDIR",
];

/// The environment of a shell step: the kept variables of `parent`, plus `extra` (which wins).
pub(crate) fn minimal_env(
    parent: impl IntoIterator<Item = (String, String)>,
    extra: &[(String, String)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = parent
        .into_iter()
        .filter(|(k, _)| KEPT.iter().any(|kept| kept.eq_ignore_ascii_case(k)))
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .collect();
    env.extend(extra.iter().cloned());
    env.sort();
    env
}

#[cfg(all(test, unix))]
mod tests {

    #[test]
    fn a_shell_step_gets_no_token_or_key_of_the_app() {
        let parent = [
            ("PATH", "/usr/bin"),
            ("HOME", "/home/op"),
            ("DEPLOY_API_KEY", "k-leak"),
            ("CLOUDFLARE_API_TOKEN", "t-leak"),
            ("AWS_SECRET_ACCESS_KEY", "s-leak"),
            ("GITHUB_TOKEN", "g-leak"),
            (
                "CLOUDFLARE_API_BASE_URL",
                "https://api.cloudflare.com/client/v4",
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let extra = [(
            "CLOUDFLARE_API_BASE_URL".to_owned(),
            "http://127.0.0.1:9/client/v4".to_owned(),
        )];
        let env = minimal_env(parent, &extra);
        let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["CLOUDFLARE_API_BASE_URL", "HOME", "PATH"]);
        assert!(env.iter().all(|(_, v)| !v.contains("leak")));
        assert_eq!(
            env[0].1, "http://127.0.0.1:9/client/v4",
            "the sandbox's URL wins"
        );
    }
    use super::*;
    use std::time::Duration;
    use tokio::io::AsyncBufReadExt;

    fn alive(pid: u32) -> bool {
        // Gone, or a zombie waiting for its reaper: either way no longer running.
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z')),
            Err(_) => false,
        }
    }

    #[tokio::test]
    async fn stops_a_child_and_its_grandchildren() {
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c").arg("sleep 30 & echo $!; wait");
        cmd.process_group(0)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().unwrap();
        let pid = child.id().unwrap();
        let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let grandchild: u32 = out
            .next_line()
            .await
            .unwrap()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(alive(grandchild));

        signal_group(pid, Stop::Kill);

        let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
            .await
            .expect("the shell was stopped")
            .unwrap();
        assert!(!status.success());
        let mut tries = 0;
        while alive(grandchild) && tries < 50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            tries += 1;
        }
        assert!(!alive(grandchild), "the grandchild went with its group");
    }

    #[test]
    fn never_signals_every_process_or_our_own_group() {
        assert!(!may_signal(0));
        assert!(!may_signal(1));
        assert!(!may_signal(std::process::id()));
        assert!(may_signal(4242));
    }
}
