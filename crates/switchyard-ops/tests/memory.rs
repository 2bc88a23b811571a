//! Freed memory goes back to the system when the app asks (`release_freed_memory`, called when
//! a burst such as a 100,000-script namespace's listing ends): glibc alone keeps freed pages
//! below a live allocation resident. Alone in its file, so no other test allocates meanwhile.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

use switchyard_ops::release_freed_memory;

/// The process's resident memory, in bytes (/proc/self/statm: pages).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn memory_freed_after_a_burst_is_given_back_to_the_system() {
    const MIB: u64 = 1024 * 1024;
    // A burst of small allocations (as pages of JSON parse into), ~128 MiB, then one that stays
    // live above them; the burst is freed.
    let burst: Vec<Vec<u8>> = (0..128 * 1024).map(|i| vec![i as u8; 1000]).collect();
    let kept = vec![1u8; 1000];
    let peak = resident_bytes();
    drop(burst);
    let freed_but_held = resident_bytes();
    assert!(
        freed_but_held + 64 * MIB > peak,
        "the allocator already gave the burst back by itself ({} → {} MiB): this test shows nothing",
        peak / MIB,
        freed_but_held / MIB
    );

    assert!(release_freed_memory(), "the allocator returned nothing");
    let after = resident_bytes();
    assert!(
        after + 100 * MIB < freed_but_held,
        "resident memory went from {} MiB to only {} MiB",
        freed_but_held / MIB,
        after / MIB
    );
    assert_eq!(kept[999], 1, "what is live stays");
}
