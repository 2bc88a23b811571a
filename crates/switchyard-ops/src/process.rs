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

#[cfg(all(test, unix))]
mod tests {
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
