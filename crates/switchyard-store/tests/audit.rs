//! The audit log's query against a real SQLite file: filters together, exact counts, pages, text.

mod support;

use serde_json::json;
use switchyard_core::{AuditCursor, AuditFilter, AuditOutcome};
use switchyard_store::{AuditEntry, AuditRecord, Store};

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

fn entry(at_min: i64, profile: &str, action: &str, target: &str, outcome: &str) -> AuditEntry {
    AuditEntry {
        at_ms: T0 + at_min * MINUTE,
        actor: "ana".into(),
        profile_id: profile.into(),
        action: action.into(),
        target: target.into(),
        params: json!({ "reason": format!("{action} of {target}") }),
        outcome: outcome.into(),
        message: (outcome != "ok" && outcome != "started").then(|| format!("{target}: {outcome}")),
        duration_ms: 10,
    }
}

/// A log of 3 profiles × 40 minutes, one entry a minute each, actions and outcomes in turn.
async fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let actions = [
        "deploy.apply",
        "deploy.rollback",
        "namespace.create",
        "secret.set",
    ];
    let outcomes = ["ok", "ok", "Unreachable", "ok", "InvalidInput"];
    for minute in 0..40 {
        for (p, profile) in ["prod", "staging", ""].iter().enumerate() {
            let i = minute as usize + p;
            let target = if profile.is_empty() {
                "deploy".to_owned()
            } else {
                format!("{}/{profile}", ["gateway", "db"][i % 2])
            };
            store
                .append_audit(&entry(
                    minute,
                    profile,
                    actions[i % actions.len()],
                    &target,
                    outcomes[i % outcomes.len()],
                ))
                .await
                .unwrap();
        }
    }
    (dir, store)
}

/// What the store says, checked against a filter applied by hand to every entry.
async fn check(store: &Store, filter: &AuditFilter, expected: impl Fn(&AuditRecord) -> bool) {
    let all = store.query_audit(&AuditFilter::default()).await.unwrap();
    let want: Vec<i64> = all.iter().filter(|r| expected(r)).map(|r| r.seq).collect();
    let got: Vec<i64> = store
        .query_audit(filter)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(got, want, "{filter:?}");
    let (page, total) = store.audit_page(filter).await.unwrap();
    assert_eq!(total, want.len() as u64, "count of {filter:?}");
    assert_eq!(page.len(), want.len(), "{filter:?}");
    assert_eq!(
        store.count_audit(filter).await.unwrap(),
        want.len() as u64,
        "{filter:?}"
    );
}

#[tokio::test]
async fn the_whole_log_comes_newest_first_with_ties_by_write_order() {
    let (_dir, store) = seeded().await;
    let all = store.query_audit(&AuditFilter::default()).await.unwrap();
    assert_eq!(all.len(), 120);
    for pair in all.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            (a.entry.at_ms, a.seq) > (b.entry.at_ms, b.seq),
            "{a:?} before {b:?}"
        );
    }
    // Every profile, including the app-wide entries ("").
    assert!(all.iter().any(|r| r.entry.profile_id.is_empty()));
    assert!(all.iter().any(|r| r.entry.profile_id == "prod"));
}

#[tokio::test]
async fn each_filter_selects_exactly_what_it_says() {
    let (_dir, store) = seeded().await;
    let f = AuditFilter::default;
    check(
        &store,
        &AuditFilter {
            profile_id: Some("prod".into()),
            ..f()
        },
        |r| r.entry.profile_id == "prod",
    )
    .await;
    check(
        &store,
        &AuditFilter {
            profile_id: Some(String::new()),
            ..f()
        },
        |r| r.entry.profile_id.is_empty(),
    )
    .await;
    // A time range: from its start (included) to its end (excluded).
    check(
        &store,
        &AuditFilter {
            since_ms: Some(T0 + 10 * MINUTE),
            until_ms: Some(T0 + 20 * MINUTE),
            ..f()
        },
        |r| (T0 + 10 * MINUTE..T0 + 20 * MINUTE).contains(&r.entry.at_ms),
    )
    .await;
    // An action family, a prefix, and one action.
    check(
        &store,
        &AuditFilter {
            action: Some("deploy".into()),
            ..f()
        },
        |r| r.entry.action.starts_with("deploy."),
    )
    .await;
    check(
        &store,
        &AuditFilter {
            action: Some("deploy.".into()),
            ..f()
        },
        |r| r.entry.action.starts_with("deploy."),
    )
    .await;
    check(
        &store,
        &AuditFilter {
            action: Some("deploy.rollback".into()),
            ..f()
        },
        |r| r.entry.action == "deploy.rollback",
    )
    .await;
    check(
        &store,
        &AuditFilter {
            action: Some("deploy.roll".into()),
            ..f()
        },
        |_| false,
    )
    .await;
    // Outcomes, grouped: every error code is an error.
    check(
        &store,
        &AuditFilter {
            outcome: Some(AuditOutcome::Error),
            ..f()
        },
        |r| r.entry.outcome == "Unreachable" || r.entry.outcome == "InvalidInput",
    )
    .await;
    check(
        &store,
        &AuditFilter {
            outcome: Some(AuditOutcome::Ok),
            ..f()
        },
        |r| r.entry.outcome == "ok",
    )
    .await;
}

#[tokio::test]
async fn filters_work_together_and_the_count_is_exact() {
    let (_dir, store) = seeded().await;
    let filter = AuditFilter {
        since_ms: Some(T0 + 5 * MINUTE),
        until_ms: Some(T0 + 35 * MINUTE),
        profile_id: Some("prod".into()),
        action: Some("deploy".into()),
        outcome: Some(AuditOutcome::Ok),
        text: Some("GATEWAY".into()),
        limit: None,
        offset: None,
        exact_count: None,
        after: None,
    };
    let expected = |r: &AuditRecord| {
        let e = &r.entry;
        (T0 + 5 * MINUTE..T0 + 35 * MINUTE).contains(&e.at_ms)
            && e.profile_id == "prod"
            && e.action.starts_with("deploy.")
            && e.outcome == "ok"
            && e.target.starts_with("gateway/")
    };
    check(&store, &filter, expected).await;
    let n = store.count_audit(&filter).await.unwrap();
    assert!(n > 0, "the combination selects some entries");
    assert!(n < 30, "and not all of the profile's: {n}");
}

#[tokio::test]
async fn pages_add_up_to_the_whole_and_each_says_the_total() {
    let (_dir, store) = seeded().await;
    for base in [
        AuditFilter::default(),
        AuditFilter {
            action: Some("deploy.".into()),
            ..Default::default()
        },
        AuditFilter {
            text: Some("gateway".into()),
            ..Default::default()
        },
        AuditFilter {
            outcome: Some(AuditOutcome::Error),
            profile_id: Some("staging".into()),
            ..Default::default()
        },
    ] {
        let whole: Vec<i64> = store
            .query_audit(&base)
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
        let mut paged = Vec::new();
        let mut offset = 0;
        loop {
            let (page, total) = store
                .audit_page(&AuditFilter {
                    limit: Some(7),
                    offset: Some(offset),
                    ..base.clone()
                })
                .await
                .unwrap();
            assert_eq!(total, whole.len() as u64, "{base:?}");
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 7);
            offset += page.len() as u32;
            paged.extend(page.iter().map(|r| r.seq));
        }
        assert_eq!(paged, whole, "{base:?}");
    }
}

#[tokio::test]
async fn text_is_found_in_the_target_params_message_and_actor_in_any_case() {
    let (_dir, store) = seeded().await;
    let mut e = entry(50, "prod", "profile.save", "blue-green-7", "ok");
    e.params = json!({ "name": "Zürich edge", "apiKey": "sk_live_secret_value" });
    e.actor = "operator.oskar".into();
    let seq = store.append_audit(&e).await.unwrap();
    let found = |text: &str| {
        let store = store.clone();
        let text = text.to_owned();
        async move {
            store
                .query_audit(&AuditFilter {
                    text: Some(text),
                    ..Default::default()
                })
                .await
                .unwrap()
                .iter()
                .map(|r| r.seq)
                .collect::<Vec<_>>()
        }
    };
    // Any part of the target, any case.
    assert_eq!(found("green").await, vec![seq]);
    assert_eq!(found("BLUE-GREEN").await, vec![seq]);
    assert_eq!(found("zürich").await, vec![seq]);
    assert_eq!(found("oskar").await, vec![seq]);
    // Short text is looked for too (without the index), and % or _ are only themselves.
    assert_eq!(found("-7").await, vec![seq]);
    assert!(found("%").await.is_empty());
    assert!(found("_").await.is_empty());
    // Quotes and FTS syntax are text.
    assert!(found("\"green OR db\"").await.is_empty());
    assert!(found("green*").await.is_empty());
    // The key was redacted before it was stored: its value is not there to find.
    assert!(found("sk_live_secret_value").await.is_empty());
    assert!(found("secret_value").await.is_empty());

    // The message written when the action ends is found as well.
    let started = store
        .append_audit(&entry(51, "prod", "deploy.apply", "db/prod", "started"))
        .await
        .unwrap();
    assert!(found("quota exceeded").await.is_empty());
    store
        .finish_audit(
            started,
            "ServerError",
            Some("The Deploy API said: quota exceeded"),
            5,
        )
        .await
        .unwrap();
    assert_eq!(found("quota exceeded").await, vec![started]);
}

#[tokio::test]
async fn running_and_interrupted_entries_are_filtered_as_such() {
    let (_dir, store) = seeded().await;
    let running = store
        .append_audit(&entry(
            60,
            "prod",
            "deploy.apply",
            "gateway/prod",
            "started",
        ))
        .await
        .unwrap();
    let only = |outcome| AuditFilter {
        outcome: Some(outcome),
        ..Default::default()
    };
    let seqs = |records: Vec<AuditRecord>| records.iter().map(|r| r.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(
            store
                .query_audit(&only(AuditOutcome::Started))
                .await
                .unwrap()
        ),
        vec![running]
    );
    assert!(store
        .query_audit(&only(AuditOutcome::Interrupted))
        .await
        .unwrap()
        .is_empty());
    // The app stopped with it running: at the next start it is interrupted, not an error.
    assert_eq!(store.mark_interrupted_audits().await.unwrap(), 1);
    assert_eq!(
        seqs(
            store
                .query_audit(&only(AuditOutcome::Interrupted))
                .await
                .unwrap()
        ),
        vec![running]
    );
    assert!(store
        .query_audit(&only(AuditOutcome::Started))
        .await
        .unwrap()
        .is_empty());
    assert!(!seqs(store.query_audit(&only(AuditOutcome::Error)).await.unwrap()).contains(&running));
    // The message saying so is searchable.
    let (found, total) = store
        .audit_page(&AuditFilter {
            text: Some("stopped before this action ended".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((found.len(), total), (1, 1));
}

#[tokio::test]
async fn the_actions_recorded_are_listed_once_each_in_order() {
    let (_dir, store) = seeded().await;
    assert_eq!(
        store.audit_actions().await.unwrap(),
        [
            "deploy.apply",
            "deploy.rollback",
            "namespace.create",
            "secret.set"
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    let empty = Store::open_in(dir.path()).await.unwrap();
    assert!(empty.audit_actions().await.unwrap().is_empty());
    assert_eq!(
        empty.audit_page(&AuditFilter::default()).await.unwrap(),
        (Vec::new(), 0)
    );
}

#[tokio::test]
async fn a_bounded_count_stops_past_the_page_and_the_pages_are_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    for i in 0..1_200 {
        let outcome = if i % 3 == 0 { "deploy_failed" } else { "ok" };
        store
            .append_audit(&entry(i, "sandbox", "deploy.run", "gateway", outcome))
            .await
            .unwrap();
    }
    for filter in [
        AuditFilter::default(),
        AuditFilter {
            outcome: Some(AuditOutcome::Error),
            ..Default::default()
        },
    ] {
        let all = store.count_audit(&filter).await.unwrap();
        for offset in [0, 200, 1_000] {
            let page = AuditFilter {
                limit: Some(100),
                offset: Some(offset),
                ..filter.clone()
            };
            let (exact_rows, exact_total) = store.audit_page(&page).await.unwrap();
            let (rows, total, is_exact) = store.audit_page_counted(&page, 300).await.unwrap();
            // Up to 300 past the page's start, or 100 rows if more: exact only when all fit.
            let at_most = u64::from(offset) + 300;
            assert_eq!(exact_total, all);
            assert_eq!(total, all.min(at_most), "{filter:?} from {offset}");
            assert_eq!(is_exact, all < at_most + 1, "{filter:?} from {offset}");
            assert_eq!(rows, exact_rows, "the same page whichever count");
        }
        let asked = AuditFilter {
            limit: Some(100),
            exact_count: Some(true),
            ..filter.clone()
        };
        assert_eq!(
            store.audit_page_counted(&asked, 300).await.unwrap().1,
            all,
            "counted exactly when asked"
        );
    }
}

/// Keyset pages (each after the last entry of the page before) add up to the whole list, in
/// its order — the entries of one minute (three a minute here) split across pages included —
/// and each says the same count as the page at that offset would.
#[tokio::test]
async fn keyset_pages_add_up_to_the_whole_with_ties_on_time() {
    let (_dir, store) = seeded().await;
    for base in [
        AuditFilter::default(),
        AuditFilter {
            profile_id: Some("prod".into()),
            ..Default::default()
        },
        AuditFilter {
            action: Some("deploy.".into()),
            ..Default::default()
        },
        AuditFilter {
            outcome: Some(AuditOutcome::Error),
            ..Default::default()
        },
        AuditFilter {
            text: Some("gateway".into()),
            ..Default::default()
        },
        AuditFilter {
            text: Some("db".into()),
            profile_id: Some("staging".into()),
            ..Default::default()
        },
        AuditFilter {
            since_ms: Some(T0 + 5 * MINUTE),
            until_ms: Some(T0 + 30 * MINUTE),
            outcome: Some(AuditOutcome::Ok),
            ..Default::default()
        },
    ] {
        let whole: Vec<i64> = store
            .query_audit(&base)
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
        assert!(whole.len() > 8, "{base:?} selects several pages");
        for bound in [4, 1_000] {
            let mut paged = Vec::new();
            let mut after = None;
            loop {
                let page = AuditFilter {
                    limit: Some(4),
                    offset: Some(paged.len() as u32),
                    ..base.clone()
                };
                let (rows, total, exact) = store
                    .audit_page_counted(
                        &AuditFilter {
                            after,
                            ..page.clone()
                        },
                        bound,
                    )
                    .await
                    .unwrap();
                let (by_offset, offset_total, offset_exact) =
                    store.audit_page_counted(&page, bound).await.unwrap();
                assert_eq!(rows, by_offset, "{base:?} at {}", paged.len());
                assert_eq!((total, exact), (offset_total, offset_exact), "{base:?}");
                let Some(last) = rows.last() else { break };
                after = Some(AuditCursor {
                    at_ms: last.entry.at_ms,
                    seq: last.seq,
                });
                paged.extend(rows.iter().map(|r| r.seq));
            }
            assert_eq!(paged, whole, "{base:?}");
        }
    }
}

/// An entry written while the operator scrolls does not shift the next keyset page: it starts
/// just after the last entry shown.
#[tokio::test]
async fn a_keyset_page_is_not_shifted_by_entries_written_since() {
    let (_dir, store) = seeded().await;
    let first = store
        .query_audit(&AuditFilter {
            limit: Some(10),
            ..Default::default()
        })
        .await
        .unwrap();
    let last = first.last().unwrap();
    let expected = store
        .query_audit(&AuditFilter {
            limit: Some(10),
            offset: Some(10),
            ..Default::default()
        })
        .await
        .unwrap();
    store
        .append_audit(&entry(100, "prod", "deploy.apply", "gateway/prod", "ok"))
        .await
        .unwrap();
    let next = store
        .query_audit(&AuditFilter {
            limit: Some(10),
            offset: Some(10),
            after: Some(AuditCursor {
                at_ms: last.entry.at_ms,
                seq: last.seq,
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(next, expected);
}

/// A text search's page and its bounded count come from one search of the text index: they
/// are the same as the whole list filtered by hand (three entries a minute: ties on time),
/// cut at the page and counted to the bound — from an offset or after a cursor, with a bound
/// short of the matches (the page found down the time index) or past them (from the matches).
#[tokio::test]
async fn a_text_page_and_its_count_are_those_of_the_whole_list() {
    let (_dir, store) = seeded().await;
    for text in ["gateway", "deploy", "Unreachable", "nothing like it"] {
        let base = AuditFilter {
            text: Some(text.into()),
            ..Default::default()
        };
        // The unfused answer: every match, newest first (ties: the later written first).
        let all = store.query_audit(&base).await.unwrap();
        let n = all.len() as u64;
        for bound in [5, 1_000] {
            for (offset, limit) in [(0, 7), (7, 7), (30, 10), (n as u32, 5)] {
                let at_most = u64::from(offset) + u64::from(limit).max(bound) + 1;
                let page = AuditFilter {
                    limit: Some(limit),
                    offset: Some(offset),
                    ..base.clone()
                };
                let expected: Vec<_> = all
                    .iter()
                    .skip(offset as usize)
                    .take(limit as usize)
                    .cloned()
                    .collect();
                let (rows, total, exact) = store.audit_page_counted(&page, bound).await.unwrap();
                let what = format!("{text:?} from {offset} ({limit}), bound {bound}");
                assert_eq!(rows, expected, "{what}");
                assert_eq!(total, n.min(at_most - 1), "{what}");
                assert_eq!(exact, n < at_most, "{what}");
                // The same page after the cursor of the entry before it.
                if offset > 0 && (offset as usize) <= all.len() {
                    let last = &all[offset as usize - 1];
                    let keyset = AuditFilter {
                        after: Some(AuditCursor {
                            at_ms: last.entry.at_ms,
                            seq: last.seq,
                        }),
                        ..page.clone()
                    };
                    let (rows, total, exact) =
                        store.audit_page_counted(&keyset, bound).await.unwrap();
                    assert_eq!(rows, expected, "{what}, after a cursor");
                    assert_eq!(total, n.min(at_most - 1), "{what}, after a cursor");
                    assert_eq!(exact, n < at_most, "{what}, after a cursor");
                }
            }
        }
    }
}

/// Entries written out of time order (an action's entry is written when it starts, and a slow
/// start can be written after a later one): a text search's pages, from an offset or after a
/// cursor, are still those of the whole list in time order, and each says its count.
#[tokio::test]
async fn text_pages_follow_time_order_when_entries_were_written_out_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    // Minutes 0..120, in order but for every 7th entry, written 45 minutes late (sorting far
    // back), and a run written backwards; every 3rd names the gateway.
    let mut minutes: Vec<i64> = (0..120).collect();
    minutes[60..80].reverse();
    for (i, m) in minutes.into_iter().enumerate() {
        let at = if i % 7 == 3 { m - 45 } else { m };
        let target = if i % 3 == 0 { "gateway" } else { "db" };
        store
            .append_audit(&entry(at, "prod", "deploy.apply", target, "ok"))
            .await
            .unwrap();
    }
    text_pages_follow_time_order(&store).await;
}

/// A text search's pages (`gateway`), from an offset or after a cursor, are those of the whole
/// list in time order, and each says its count, whatever order the entries were written in.
async fn text_pages_follow_time_order(store: &Store) {
    let base = AuditFilter {
        text: Some("gateway".into()),
        ..Default::default()
    };
    let all = store.query_audit(&base).await.unwrap();
    // Sorted by time, then by number, newest first: not by number alone.
    let mut by_seq = all.clone();
    by_seq.sort_by_key(|r| std::cmp::Reverse(r.seq));
    assert_ne!(all, by_seq, "the log is out of time order");
    let n = all.len() as u64;
    for limit in [3, 5, 16] {
        for bound in [4, 1_000] {
            let mut after = None;
            let mut offset = 0;
            while offset <= all.len() {
                let page = AuditFilter {
                    limit: Some(limit),
                    offset: Some(offset as u32),
                    ..base.clone()
                };
                let expected: Vec<_> = all
                    .iter()
                    .skip(offset)
                    .take(limit as usize)
                    .cloned()
                    .collect();
                let at_most = offset as u64 + u64::from(limit).max(bound) + 1;
                let what = format!("from {offset} ({limit}), bound {bound}");
                let (rows, total, exact) = store.audit_page_counted(&page, bound).await.unwrap();
                assert_eq!(rows, expected, "{what}");
                assert_eq!((total, exact), (n.min(at_most - 1), n < at_most), "{what}");
                let keyset = AuditFilter {
                    after,
                    ..page.clone()
                };
                let (rows, total, exact) = store.audit_page_counted(&keyset, bound).await.unwrap();
                assert_eq!(rows, expected, "{what}, after a cursor");
                assert_eq!(
                    (total, exact),
                    (n.min(at_most - 1), n < at_most),
                    "{what}, after a cursor"
                );
                let Some(last) = rows.last() else { break };
                after = Some(AuditCursor {
                    at_ms: last.entry.at_ms,
                    seq: last.seq,
                });
                offset += rows.len();
            }
        }
    }
}

/// More than 64 entries written out of time order (a log filled in behind newer entries, as a
/// bulk import or the bench's seed writes it): a text search's pages and counts are still those
/// of the whole list in time order — at 64 such entries, past them, and as more arrive in order.
#[tokio::test]
async fn text_pages_follow_time_order_past_64_entries_written_out_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let target = |m: i64| if m % 3 == 0 { "gateway" } else { "db" };
    let write = |ms: std::ops::Range<i64>| {
        let store = &store;
        async move {
            for m in ms {
                store
                    .append_audit(&entry(m, "prod", "deploy.apply", target(m), "ok"))
                    .await
                    .unwrap();
            }
        }
    };
    // The newest two first, then 64 older ones, each written after a newer entry.
    write(498..500).await;
    write(0..64).await;
    text_pages_follow_time_order(&store).await;
    // The 65th, and more.
    write(64..65).await;
    text_pages_follow_time_order(&store).await;
    write(65..300).await;
    text_pages_follow_time_order(&store).await;
    // In time order again, after them all, and one more written late.
    write(600..640).await;
    write(400..401).await;
    text_pages_follow_time_order(&store).await;
}

/// The schema of the release before migration 0014 (migrations 1-13) with `entries` (minute,
/// target) written in that order; opened by the store (upgraded): every entry is kept as it
/// was, and a text search's pages and counts are those of the whole list in time order — the
/// entries out of order found in the log at the upgrade, and those written after it.
async fn upgraded_log_follows_time_order(entries: Vec<(i64, &str)>) {
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(switchyard_store::DB_FILE);
    let mut conn = support::database_at_migration(&path, 13).await;
    for (at, target) in entries {
        sqlx::query(
            "INSERT INTO audit_log (at_ms, actor, profile_id, action, target, params, outcome,
             message, duration_ms) VALUES (?, 'ana', 'prod', 'deploy.apply', ?, '{}', 'ok', NULL, 10)",
        )
        .bind(T0 + at * MINUTE)
        .bind(target)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let written: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT seq, at_ms, target FROM audit_log ORDER BY seq")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();

    let store = Store::open(&path).await.unwrap();
    let mut kept: Vec<(i64, i64, String)> = store
        .query_audit(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.seq, r.entry.at_ms, r.entry.target))
        .collect();
    kept.sort();
    assert_eq!(kept, written, "every entry is kept as it was");
    text_pages_follow_time_order(&store).await;
    // Written after the upgrade: a match timed before most of the log, one among the newest.
    for (at, target) in [(-30, "gateway"), (100, "gateway"), (5, "db")] {
        store
            .append_audit(&entry(at, "prod", "deploy.apply", target, "ok"))
            .await
            .unwrap();
    }
    text_pages_follow_time_order(&store).await;
}

/// Migration 0014 on a log written before it with a few entries out of time order.
#[tokio::test]
async fn entries_written_out_of_time_order_before_0014_are_found_at_the_upgrade() {
    // As `text_pages_follow_time_order_when_entries_were_written_out_of_it` writes them.
    let mut minutes: Vec<i64> = (0..120).collect();
    minutes[60..80].reverse();
    let entries = minutes
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let at = if i % 7 == 3 { m - 45 } else { m };
            (at, if i % 3 == 0 { "gateway" } else { "db" })
        })
        .collect();
    upgraded_log_follows_time_order(entries).await;
}

/// Migration 0014 on a log written before it with more than 64 entries out of time order (the
/// newest first, then 150 older ones in order).
#[tokio::test]
async fn many_entries_written_out_of_time_order_before_0014_are_found_at_the_upgrade() {
    let entries = (200..203)
        .chain(0..150)
        .map(|m| (m, if m % 3 == 0 { "gateway" } else { "db" }))
        .collect();
    upgraded_log_follows_time_order(entries).await;
}
