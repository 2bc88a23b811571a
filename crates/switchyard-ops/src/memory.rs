//! Giving the system back memory the app has freed.
//!
//! glibc's allocator keeps what a thread freed in that thread's arena for reuse: after a burst
//! of short-lived allocations (the 100 pages of JSON of a 100,000-script namespace, parsed on
//! several runtime threads, and the embedded sandbox's answers to them) the process stays at its
//! peak although nothing uses that memory any more (README, Benchmarks, rows 2c and 2d: the app
//! process held 399 MiB 10 s after the namespace was left, against 100 MiB before it was opened).
//! [`release_freed_memory`] asks glibc for those pages back; the façade calls it when such a burst
//! ends (see [`crate::Ops::open_worker_listing`] and [`crate::Ops::close_worker_listing`]).

/// Ask the allocator to return its free pages, in every arena, to the system (`malloc_trim(0)`).
/// Live allocations are untouched. Answers whether anything was returned. Elsewhere than glibc
/// it does nothing and answers `false`: those allocators return large blocks themselves.
///
/// It walks every arena, locking each in turn (a few milliseconds for a few hundred MiB), so it
/// belongs on a blocking thread, after the work, never on a path the operator waits for.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // The one unsafe call of the workspace (see `unsafe_code` in Cargo.toml).
pub fn release_freed_memory() -> bool {
    // SAFETY: malloc_trim takes no pointer and touches only glibc's own free lists, which it
    // locks while it walks them; any thread may call it at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Not glibc: nothing to do (see the glibc version).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed_memory() -> bool {
    false
}

/// [`release_freed_memory`] on a blocking thread, not waited for: the burst's last frees are done
/// when this is called, and nothing the operator waits for depends on it.
pub(crate) fn release_freed_memory_soon() {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn_blocking(|| {
            let released = release_freed_memory();
            tracing::debug!(released, "returned freed memory to the system");
        });
    } else {
        release_freed_memory();
    }
}
