//! The workers' listing the window queries (search, tag, sort, windows) kept in the app process,
//! against a real sandbox (real HTTP), a real SQLite folder and an in-memory keychain.

use switchyard_core::{ErrorCode, SANDBOX_PROFILE_ID};
use switchyard_ops::{WorkerQuery, WorkerSortKey, WorkerWindow, KEPT_LISTINGS};
use switchyard_sandbox::{FaultTarget, LargeDataSpec};

mod support;
use support::{fixture, Fixture};

const SB: &str = SANDBOX_PROFILE_ID;
const STAGING: &str = "dotdo-staging";

fn query(listing: u32) -> WorkerQuery {
    WorkerQuery {
        listing,
        search: String::new(),
        tag: None,
        sort: WorkerSortKey::Name,
        descending: false,
        offset: 0,
        limit: 1_000,
        with_groups: false,
        find: None,
    }
}

fn names(window: &WorkerWindow) -> Vec<&str> {
    window.rows.iter().map(|w| w.name.as_str()).collect()
}

/// A namespace `dotdo-bench` of `scripts` generated workers (`bench-worker-00001`, …).
async fn bench_namespace(f: &Fixture, scripts: usize) {
    f.sandbox
        .generate_large_data(&LargeDataSpec {
            scripts: vec![("dotdo-bench".into(), scripts)],
            deployments: 0,
        })
        .await
        .unwrap();
}

/// dotdo-staging's eight workers, tagged as the window's search tests tag them (mixed case).
async fn tagged_staging(f: &Fixture) -> u32 {
    let tags: [(&str, &[&str]); 8] = [
        ("auth", &["service:Auth", "env:Staging", "version:v1.0.0"]),
        (
            "db",
            &[
                "service:db",
                "env:production",
                "branch:Feature-X",
                "version:v2.0.0",
            ],
        ),
        (
            "email",
            &["service:email", "env:staging", "commit:0123456789abcdef"],
        ),
        (
            "gateway",
            &["service:gateway", "env:staging", "branch:main"],
        ),
        ("mcp", &["service:mcp"]),
        ("queue", &["service:queue", "version:v1.0.0"]),
        ("schedule", &["service:schedule", "env:staging"]),
        ("webhooks", &["service:webhooks", "env:", ":x", "plain"]),
    ];
    for (script, tags) in tags {
        f.ops
            .set_worker_tags(
                SB,
                STAGING,
                script,
                tags.iter().map(|t| (*t).to_owned()).collect(),
                None,
            )
            .await
            .unwrap();
    }
    f.ops
        .open_worker_listing(SB, STAGING, |_| {})
        .await
        .unwrap()
        .listing
}

/// The window's search: a worker matches when its name or one of its tags contains what was
/// typed (trimmed, case-insensitive, `key:value` included), never across two of them; an exact
/// tag narrows further; the count says how many match of how many are listed.
#[tokio::test]
async fn a_search_finds_workers_by_name_or_tag_as_the_window_did() {
    let f = fixture().await;
    let id = tagged_staging(&f).await;
    let search = |text: &str, tag: Option<&str>| {
        let window = f
            .ops
            .query_worker_listing(&WorkerQuery {
                search: text.to_owned(),
                tag: tag.map(str::to_owned),
                ..query(id)
            })
            .unwrap();
        assert_eq!(window.total, 8);
        assert_eq!(window.matching as usize, window.rows.len());
        names(&window)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(search("  AUTH ", None), ["auth"]);
    assert_eq!(search("GATE", None), ["gateway"]);
    assert_eq!(search("feature-x", None), ["db"]);
    assert_eq!(search("branch:feature", None), ["db"]);
    assert_eq!(
        search("STAGING", None),
        ["auth", "email", "gateway", "schedule"]
    );
    assert_eq!(
        search("staging", Some("env:staging")),
        ["email", "gateway", "schedule"]
    );
    assert_eq!(search("", Some("env:Staging")), ["auth"]);
    assert_eq!(search("env:", Some("env:stag")), Vec::<String>::new());
    assert_eq!(search("0123456", None), ["email"]);
    // Never across two fields: the name's end and a tag's start are not one string.
    assert_eq!(search("auth\nservice", None), Vec::<String>::new());
    assert_eq!(search("auth service", None), Vec::<String>::new());
    assert_eq!(search("nothing-like-it", None), Vec::<String>::new());
    assert_eq!(search("", None).len(), 8);
    // Keystroke after keystroke, each answer stands on its own.
    for (text, want) in [("s", 8), ("sc", 1), ("s", 8), ("", 8)] {
        assert_eq!(search(text, None).len(), want, "{text:?}");
    }
    // Typing on (each text extends the one before, looked for among its matches), then back.
    for (text, want) in [
        (
            "a",
            &["auth", "db", "email", "gateway", "schedule", "webhooks"][..],
        ),
        ("ta", &["auth", "email", "gateway", "schedule"]),
        ("sta", &["auth", "email", "gateway", "schedule"]),
        ("stag", &["auth", "email", "gateway", "schedule"]),
        ("env:stag", &["auth", "email", "gateway", "schedule"]),
        ("env:stagx", &[]),
        ("env:sta", &["auth", "email", "gateway", "schedule"]),
        (
            "e",
            &[
                "auth", "db", "email", "gateway", "mcp", "queue", "schedule", "webhooks",
            ],
        ),
    ] {
        assert_eq!(search(text, None), want, "{text:?}");
    }
    // The columns a worker's tags give are answered with its row (first tag of each key).
    let window = f
        .ops
        .query_worker_listing(&WorkerQuery {
            search: "auth".into(),
            ..query(id)
        })
        .unwrap();
    let auth = &window.rows[0];
    assert_eq!(
        (
            auth.service.as_deref(),
            auth.environment.as_deref(),
            auth.version.as_deref(),
            auth.branch.as_deref(),
            auth.commit.as_deref()
        ),
        (Some("Auth"), Some("Staging"), Some("v1.0.0"), None, None)
    );

    // The Tag filter's groups: service, env, branch and version tags (no commits, no odd tags).
    let window = f
        .ops
        .query_worker_listing(&WorkerQuery {
            with_groups: true,
            ..query(id)
        })
        .unwrap();
    let groups: Vec<(String, Vec<String>)> = window
        .groups
        .unwrap()
        .into_iter()
        .map(|g| (g.key, g.tags))
        .collect();
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(groups.len(), 4);
    assert_eq!(groups[0].0, "service");
    assert_eq!(groups[0].1.len(), 8);
    assert_eq!(
        groups[1],
        (
            "env".to_owned(),
            strings(&["env:Staging", "env:production", "env:staging"])
        )
    );
    assert_eq!(
        groups[2],
        (
            "branch".to_owned(),
            strings(&["branch:Feature-X", "branch:main"])
        )
    );
    assert_eq!(
        groups[3],
        (
            "version".to_owned(),
            strings(&["version:v1.0.0", "version:v2.0.0"])
        )
    );
    // The palette's "Open worker": found by exact name, whatever the search.
    let window = f
        .ops
        .query_worker_listing(&WorkerQuery {
            search: "nothing-like-it".into(),
            find: Some("queue".into()),
            ..query(id)
        })
        .unwrap();
    assert_eq!(window.matching, 0);
    assert_eq!(window.found.map(|w| w.version), Some(Some("v1.0.0".into())));
}

/// Sorting by a column, either way, ties kept in name order; windows at offsets of the matches.
#[tokio::test]
async fn workers_sort_both_ways_and_are_answered_a_window_at_a_time() {
    let f = fixture().await;
    let id = tagged_staging(&f).await;
    let sorted = |sort: WorkerSortKey, descending: bool| {
        let window = f
            .ops
            .query_worker_listing(&WorkerQuery {
                sort,
                descending,
                ..query(id)
            })
            .unwrap();
        names(&window)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        sorted(WorkerSortKey::Name, true),
        ["webhooks", "schedule", "queue", "mcp", "gateway", "email", "db", "auth"]
    );
    // No version sorts first; ties in name order both ways.
    assert_eq!(
        sorted(WorkerSortKey::Version, false),
        ["email", "gateway", "mcp", "schedule", "webhooks", "auth", "queue", "db"]
    );
    assert_eq!(
        sorted(WorkerSortKey::Version, true),
        ["db", "auth", "queue", "email", "gateway", "mcp", "schedule", "webhooks"]
    );

    // 2,500 workers, modified one second apart (00001 the newest).
    bench_namespace(&f, 2_500).await;
    let bench = f
        .ops
        .open_worker_listing(SB, "dotdo-bench", |_| {})
        .await
        .unwrap();
    assert_eq!((bench.loaded, bench.done), (2_500, true));
    let window = |search: &str, sort, descending, offset, limit| {
        f.ops
            .query_worker_listing(&WorkerQuery {
                search: search.to_owned(),
                sort,
                descending,
                offset,
                limit,
                ..query(bench.listing)
            })
            .unwrap()
    };
    let w = window("", WorkerSortKey::Modified, true, 1_200, 3);
    assert_eq!(
        (w.matching, w.total, w.offset, w.done),
        (2_500, 2_500, 1_200, true)
    );
    assert_eq!(
        names(&w),
        [
            "bench-worker-01201",
            "bench-worker-01202",
            "bench-worker-01203"
        ]
    );
    let w = window("", WorkerSortKey::Modified, false, 0, 2);
    assert_eq!(names(&w), ["bench-worker-02500", "bench-worker-02499"]);
    // The matches of a search, a window at a time; past the end, nothing.
    let w = window("worker-0009", WorkerSortKey::Name, false, 8, 5);
    assert_eq!((w.matching, w.offset), (10, 8));
    assert_eq!(names(&w), ["bench-worker-00098", "bench-worker-00099"]);
    let w = window("pro-plan", WorkerSortKey::Name, true, 0, 2);
    assert_eq!(w.matching, 250);
    assert_eq!(names(&w), ["bench-worker-02500", "bench-worker-02490"]);
    let w = window("", WorkerSortKey::Name, false, 9_999, 10);
    assert_eq!((w.matching, w.offset, w.rows.len()), (2_500, 2_500, 0));
    // A window is at most 1,000 rows, whatever is asked.
    assert_eq!(
        window("", WorkerSortKey::Name, false, 0, 5_000).rows.len(),
        1_000
    );
}

/// While pages arrive the listing answers what has arrived; a failed page keeps the workers
/// before it (and says so); a listing closed, or pushed out by newer ones, answers NotFound
/// saying to open the namespace again.
#[tokio::test]
async fn a_listing_counts_while_streaming_keeps_rows_before_a_failure_and_is_freed() {
    let f = fixture().await;
    bench_namespace(&f, 2_500).await;
    let mut seen = Vec::new();
    let done = f
        .ops
        .open_worker_listing(SB, "dotdo-bench", |progress| {
            // Asked as each page arrives: the count is of those listed so far.
            let w = f
                .ops
                .query_worker_listing(&WorkerQuery {
                    search: "worker-02".into(),
                    limit: 3,
                    ..query(progress.listing)
                })
                .unwrap();
            assert!(!w.done && !progress.done);
            assert_eq!(w.total, progress.loaded);
            seen.push((progress.loaded, w.matching, names(&w).len()));
        })
        .await
        .unwrap();
    assert_eq!(
        seen,
        [(1_000, 0, 0), (2_000, 1, 1), (2_500, 501, 3)],
        "bench-worker-02000 … 02500 match, as they arrive"
    );
    assert!(done.done);

    // A page fails after the first: the 1,000 before it stay listed, stopped.
    let mut listing = 0;
    let err = f
        .ops
        .open_worker_listing(SB, "dotdo-bench", |progress| {
            listing = progress.listing;
            support::fail_with_500(&f.sandbox, FaultTarget::CloudflareApi);
        })
        .await
        .unwrap_err();
    f.sandbox.faults().clear_all();
    assert!(
        err.message
            .contains("The 1000 workers listed before it are kept"),
        "{}",
        err.message
    );
    let w = f.ops.query_worker_listing(&query(listing)).unwrap();
    assert_eq!(
        (w.total, w.matching, w.done, w.stopped),
        (1_000, 1_000, false, true)
    );
    assert_eq!(
        w.rows.last().map(|r| r.name.as_str()),
        Some("bench-worker-01000")
    );

    // Closed: freed, and asked again it says what to do.
    assert!(f.ops.close_worker_listing(listing));
    assert!(!f.ops.close_worker_listing(listing));
    let gone = f.ops.query_worker_listing(&query(listing)).unwrap_err();
    assert_eq!(gone.code, ErrorCode::NotFound);
    assert!(
        gone.message.contains("Open the namespace again"),
        "{}",
        gone.message
    );

    // Only the last ones are kept: opening more pushes the oldest out.
    let mut opened = Vec::new();
    for _ in 0..=KEPT_LISTINGS {
        opened.push(
            f.ops
                .open_worker_listing(SB, STAGING, |_| {})
                .await
                .unwrap()
                .listing,
        );
    }
    let first = f.ops.query_worker_listing(&query(opened[0])).unwrap_err();
    assert_eq!(first.code, ErrorCode::NotFound);
    for id in &opened[1..] {
        assert_eq!(f.ops.query_worker_listing(&query(*id)).unwrap().total, 8);
    }
}

/// Leaving a namespace while its workers are still arriving (the window closes its listing)
/// stops the listing: no more pages are asked for or kept, and the open answers that the
/// listing is gone instead of carrying on through every page.
#[tokio::test]
async fn a_listing_closed_while_streaming_stops_asking_for_pages() {
    let f = fixture().await;
    bench_namespace(&f, 5_000).await;
    let mut pages = 0;
    let err = f
        .ops
        .open_worker_listing(SB, "dotdo-bench", |progress| {
            pages += 1;
            assert!(f.ops.close_worker_listing(progress.listing));
        })
        .await
        .unwrap_err();
    assert_eq!(pages, 1, "no page is kept after the listing was closed");
    assert_eq!(err.code, ErrorCode::NotFound, "{}", err.message);
    assert!(
        err.message.contains("Open the namespace again"),
        "{}",
        err.message
    );
}
