//! The store against a real SQLite file in a temporary folder.

use serde_json::json;
use switchyard_core::{Deployment, DeploymentMetadata, DeploymentStatus, Environment, Profile};
use switchyard_store::{
    AuditEntry, DeploymentFilter, HealthSample, HealthState, HistorySort, HistorySortKey, Store,
    SyncWindow,
};

fn deployment(id_ms: i64, service: &str, env: Environment, status: DeploymentStatus) -> Deployment {
    Deployment {
        id: format!("deploy_{id_ms}_a1b2c3d4"),
        service: service.into(),
        environment: env,
        tier: None,
        version: None,
        namespace: Some(env.namespace()),
        status,
        timestamp: chrono_like(id_ms),
        url: Some(format!("https://{service}.do")),
        version_tag: Some(format!("v1.{}", id_ms % 100)),
        metadata: DeploymentMetadata {
            commit: format!("{id_ms:x}abcdef"),
            branch: if (id_ms / 1000) % 2 == 0 {
                "main".into()
            } else {
                "hotfix/login".into()
            },
            author: "ops@example.com".into(),
            version: None,
        },
    }
}

fn chrono_like(ms: i64) -> String {
    // 2023-10-03T16:00:00Z is 1696348800000 ms; offsets are in whole seconds here.
    let secs = (ms - 1_696_348_800_000) / 1000;
    format!("2023-10-03T16:{:02}:{:02}.000Z", secs / 60, secs % 60)
}

const P: &str = "local-sandbox";

#[tokio::test]
async fn reopening_keeps_profiles_and_history() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open_in(dir.path()).await.unwrap();
        store
            .save_profile(&Profile::local_sandbox(), 1)
            .await
            .unwrap();
        let d = deployment(
            1_696_348_800_000,
            "gateway",
            Environment::Production,
            DeploymentStatus::Deployed,
        );
        store.upsert_deployments(P, &[d], 10).await.unwrap();
        store.close().await;
    }
    let store = Store::open_in(dir.path()).await.unwrap();
    assert_eq!(
        store.list_profiles().await.unwrap(),
        vec![Profile::local_sandbox()]
    );
    let all = store
        .query_deployments(P, &DeploymentFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].service, "gateway");
    assert!(dir.path().join("switchyard.db").exists());
}

#[tokio::test]
async fn upsert_is_idempotent_and_tracks_status_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let a = deployment(
        1_696_348_800_000,
        "gateway",
        Environment::Production,
        DeploymentStatus::Deployed,
    );
    let b = deployment(
        1_696_348_860_000,
        "gateway",
        Environment::Production,
        DeploymentStatus::Deployed,
    );
    let first = store
        .upsert_deployments(P, &[a.clone(), b.clone()], 100)
        .await
        .unwrap();
    assert_eq!((first.inserted, first.updated), (2, 0));
    let again = store
        .upsert_deployments(P, &[a.clone(), b.clone()], 200)
        .await
        .unwrap();
    assert_eq!((again.inserted, again.updated), (0, 2));
    assert!(again.status_changes.is_empty());

    let mut b2 = b.clone();
    b2.status = DeploymentStatus::RolledBack;
    let third = store.upsert_deployments(P, &[b2], 300).await.unwrap();
    assert_eq!(
        third.status_changes,
        vec![(
            b.id.clone(),
            DeploymentStatus::Deployed,
            DeploymentStatus::RolledBack
        )]
    );
    let history = store.status_history(P, &b.id).await.unwrap();
    assert_eq!(
        history,
        vec![(
            DeploymentStatus::Deployed,
            DeploymentStatus::RolledBack,
            300
        )]
    );
    // Newest first, and the rolled-back status is what the cache shows now.
    let all = store
        .query_deployments(P, &DeploymentFilter::default())
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        vec![b.id.as_str(), a.id.as_str()]
    );
    assert_eq!(all[0].status, DeploymentStatus::RolledBack);
}

#[tokio::test]
async fn records_outside_the_api_window_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let old: Vec<_> = (0..150)
        .map(|i| {
            deployment(
                1_696_348_800_000 + i * 1000,
                "db",
                Environment::Staging,
                DeploymentStatus::Deployed,
            )
        })
        .collect();
    store.upsert_deployments(P, &old, 1).await.unwrap();
    // A later sync only sees the newest 100: nothing older is dropped.
    store.upsert_deployments(P, &old[50..], 2).await.unwrap();
    let all = store
        .query_deployments(P, &DeploymentFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 150);
}

#[tokio::test]
async fn filters_and_text_search_narrow_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let records = vec![
        deployment(
            1_696_348_800_000,
            "gateway",
            Environment::Production,
            DeploymentStatus::Deployed,
        ),
        deployment(
            1_696_348_801_000,
            "gateway",
            Environment::Staging,
            DeploymentStatus::Failed,
        ),
        deployment(
            1_696_348_802_000,
            "email",
            Environment::Production,
            DeploymentStatus::Failed,
        ),
        deployment(
            1_696_348_803_000,
            "db",
            Environment::Production,
            DeploymentStatus::RolledBack,
        ),
    ];
    store.upsert_deployments(P, &records, 1).await.unwrap();
    // Another profile's records never leak in.
    store
        .upsert_deployments("other", &records[..1], 1)
        .await
        .unwrap();

    let failed = store
        .query_deployments(
            P,
            &DeploymentFilter {
                status: Some(DeploymentStatus::Failed),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        failed
            .iter()
            .map(|d| d.service.as_str())
            .collect::<Vec<_>>(),
        vec!["email", "gateway"]
    );

    let prod_gateway = store
        .query_deployments(
            P,
            &DeploymentFilter {
                service: Some("gateway".into()),
                environment: Some(Environment::Production),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(prod_gateway.len(), 1);

    let hotfix = store
        .query_deployments(
            P,
            &DeploymentFilter {
                text: Some("hotfix".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        hotfix.len(),
        2,
        "branch hotfix/login on the odd-second records"
    );
    let by_text = store
        .query_deployments(
            P,
            &DeploymentFilter {
                text: Some("ema (".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_text.len(), 1);
    assert_eq!(by_text[0].service, "email");
    let limited = store
        .query_deployments(
            P,
            &DeploymentFilter {
                limit: Some(2),
                offset: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        limited
            .iter()
            .map(|d| d.service.as_str())
            .collect::<Vec<_>>(),
        vec!["email", "gateway"]
    );
}

#[tokio::test]
async fn pages_are_ordered_by_any_column_and_counted_without_a_cap() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let services = ["gateway", "auth", "db", "email"];
    let records: Vec<Deployment> = (0..12_000)
        .map(|i| {
            deployment(
                1_696_348_800_000 + i * 1000,
                services[(i % 4) as usize],
                Environment::Production,
                DeploymentStatus::Deployed,
            )
        })
        .collect();
    store.upsert_deployments(P, &records, 1).await.unwrap();
    store
        .upsert_deployments("other", &records[..100], 1)
        .await
        .unwrap();

    // Text searches find the same rows whether they match many rows (walked by the time index)
    // or few (looked up one by one), and never another profile's.
    let text = |t: &str| DeploymentFilter {
        text: Some(t.into()),
        ..Default::default()
    };
    assert_eq!(
        store.count_deployments(P, &text("hotfix")).await.unwrap(),
        6000
    );
    assert_eq!(
        store.count_deployments(P, &text("auth")).await.unwrap(),
        3000
    );
    let one = store
        .query_deployments(P, &text(&records[5].id))
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].id, records[5].id);
    assert_eq!(
        store
            .count_deployments(P, &text(&records[5].id))
            .await
            .unwrap(),
        1
    );
    let few = store
        .query_deployments(
            P,
            &DeploymentFilter {
                limit: Some(5),
                ..text("auth")
            },
        )
        .await
        .unwrap();
    let many = store
        .query_deployments(
            P,
            &DeploymentFilter {
                limit: Some(5),
                ..text("hotfix")
            },
        )
        .await
        .unwrap();
    assert!(few.iter().all(|d| d.service == "auth"));
    assert!(many.iter().all(|d| d.metadata.branch == "hotfix/login"));
    // Text matching many rows (the time index walked, each row tested against the matches) with
    // another filter: the rows the same filters by column give, in their order.
    for (limit, offset) in [(Some(5), 0), (Some(200), 1_000), (None, 0)] {
        let page = |f: DeploymentFilter| DeploymentFilter {
            since_ms: Some(1_696_348_800_000 + 3_000_000),
            until_ms: Some(1_696_348_800_000 + 6_000_000),
            limit,
            offset: Some(offset),
            ..f
        };
        let by_text = store
            .query_deployments(P, &page(text("hotfix")))
            .await
            .unwrap();
        let by_branch = DeploymentFilter {
            branch: Some("hotfix/login".into()),
            ..Default::default()
        };
        let expected = store.query_deployments(P, &page(by_branch)).await.unwrap();
        assert!(!expected.is_empty());
        assert_eq!(by_text, expected, "text and times, {limit:?} from {offset}");
        assert_eq!(
            store
                .count_deployments(P, &page(text("hotfix")))
                .await
                .unwrap(),
            1_500
        );
    }
    assert_eq!(few[0].id, records[11_997].id, "newest auth first");

    // No limit means every row: an export of more than 10,000 rows is whole.
    let all = store
        .query_deployments(P, &DeploymentFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 12_000);
    assert_eq!(all[0].id, records[11_999].id, "newest first");

    let auth = DeploymentFilter {
        service: Some("auth".into()),
        ..Default::default()
    };
    assert_eq!(store.count_deployments(P, &auth).await.unwrap(), 3000);
    assert_eq!(
        store
            .count_deployments(
                P,
                &DeploymentFilter {
                    limit: Some(10),
                    offset: Some(20),
                    ..auth.clone()
                }
            )
            .await
            .unwrap(),
        3000,
        "the count ignores the page"
    );

    // Ordered by service ascending, ties newest first; the second page follows the first.
    let by_service = |offset| DeploymentFilter {
        sort: Some(HistorySort {
            key: HistorySortKey::Service,
            descending: false,
        }),
        limit: Some(3000),
        offset: Some(offset),
        ..Default::default()
    };
    let first = store.query_deployments(P, &by_service(0)).await.unwrap();
    let second = store.query_deployments(P, &by_service(3000)).await.unwrap();
    assert!(first.iter().all(|d| d.service == "auth"));
    assert!(second.iter().all(|d| d.service == "db"));
    assert!(first[0].id_millis() > first[1].id_millis());

    // Oldest first.
    let oldest = store
        .query_deployments(
            P,
            &DeploymentFilter {
                sort: Some(HistorySort {
                    key: HistorySortKey::Time,
                    descending: false,
                }),
                limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(oldest[0].id, records[0].id);
}

#[tokio::test]
async fn a_bounded_count_stops_at_its_bound_and_agrees_with_the_exact_count_below_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let services = ["gateway", "auth", "db", "email"];
    let records: Vec<Deployment> = (0..6_000)
        .map(|i| {
            deployment(
                1_696_348_800_000 + i * 1000,
                services[(i % 4) as usize],
                Environment::Production,
                DeploymentStatus::Deployed,
            )
        })
        .collect();
    store.upsert_deployments(P, &records, 1).await.unwrap();
    // Another profile's rows are never counted.
    store
        .upsert_deployments("other", &records[..3_000], 1)
        .await
        .unwrap();
    let filters = [
        DeploymentFilter::default(),
        DeploymentFilter {
            service: Some("auth".into()),
            ..Default::default()
        },
        // Text alone (counted in the text index), and with another condition.
        DeploymentFilter {
            text: Some("hotfix".into()),
            ..Default::default()
        },
        DeploymentFilter {
            text: Some("hotfix".into()),
            service: Some("auth".into()),
            ..Default::default()
        },
        DeploymentFilter {
            text: Some(records[7].id.clone()),
            ..Default::default()
        },
        // No term at all: every row, as the page shows.
        DeploymentFilter {
            text: Some("()".into()),
            ..Default::default()
        },
    ];
    for filter in &filters {
        let exact = store.count_deployments(P, filter).await.unwrap();
        for bound in [1, 100, 1_500, 2_001, 10_000] {
            assert_eq!(
                store
                    .count_deployments_up_to(P, filter, bound)
                    .await
                    .unwrap(),
                exact.min(bound),
                "{filter:?} up to {bound}"
            );
        }
    }
    assert_eq!(
        store.count_deployments(P, &filters[0]).await.unwrap(),
        6_000
    );
    assert_eq!(
        store.count_deployments(P, &filters[1]).await.unwrap(),
        1_500
    );
}

/// Every way a text search reads: the first page, a deep page, every row (an export), and the
/// count — with and without other filters — for one profile, `expected` rows.
async fn text_search_agrees(
    store: &Store,
    profile: &str,
    filter: DeploymentFilter,
    expected: usize,
) {
    let all = store.query_deployments(profile, &filter).await.unwrap();
    assert_eq!(all.len(), expected, "{profile} {filter:?}");
    assert_eq!(
        store.count_deployments(profile, &filter).await.unwrap(),
        expected as u64,
        "{profile} {filter:?}: the count says what the rows are"
    );
    let mut pages = Vec::new();
    let mut offset = 0;
    loop {
        let page = store
            .query_deployments(
                profile,
                &DeploymentFilter {
                    limit: Some(150),
                    offset: Some(offset),
                    ..filter.clone()
                },
            )
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        offset += page.len() as u32;
        pages.extend(page);
    }
    assert_eq!(
        pages, all,
        "{profile} {filter:?}: pages add up to the whole, in order"
    );
}

#[tokio::test]
async fn a_text_search_counts_exactly_the_profiles_own_matches() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let services = ["gateway", "auth", "db", "email"];
    let records: Vec<Deployment> = (0..3_000)
        .map(|i| {
            deployment(
                1_696_348_800_000 + i * 1000,
                services[(i % 4) as usize],
                Environment::Production,
                DeploymentStatus::Deployed,
            )
        })
        .collect();
    let text = |t: &str| DeploymentFilter {
        text: Some(t.into()),
        ..Default::default()
    };
    // One profile alone in the cache.
    store.upsert_deployments("prod", &records, 1).await.unwrap();
    text_search_agrees(&store, "prod", text("hotfix"), 1_500).await;
    text_search_agrees(&store, "prod-2", text("hotfix"), 0).await;
    // Profiles whose ids are prefixes, phrases, other cases or other scripts of each other.
    let profiles = [
        ("prod", 3_000),
        ("prod-2", 1_200),
        ("Prod", 400),
        ("prød", 10),
    ];
    for (p, n) in profiles {
        store.upsert_deployments(p, &records[..n], 1).await.unwrap();
    }
    for (p, n) in profiles {
        // hotfix/login: the odd seconds, half of them.
        text_search_agrees(&store, p, text("hotfix"), n / 2).await;
        text_search_agrees(&store, p, text("hotfix login"), n / 2).await;
        text_search_agrees(&store, p, text("auth"), (n + 2) / 4).await;
        text_search_agrees(
            &store,
            p,
            DeploymentFilter {
                service: Some("gateway".into()),
                ..text("hotfix")
            },
            0,
        )
        .await;
        text_search_agrees(
            &store,
            p,
            DeploymentFilter {
                service: Some("auth".into()),
                ..text("hotfix")
            },
            (n + 2) / 4,
        )
        .await;
        // The profile's own token is not text an operator finds.
        text_search_agrees(&store, p, text("p70726f64"), 0).await;
        text_search_agrees(&store, p, text("p70"), 0).await;
    }

    // A status change is searched as the new status, and counted so.
    let mut failed = records[1].clone();
    failed.status = DeploymentStatus::Failed;
    store
        .upsert_deployments("prod-2", &[failed], 2)
        .await
        .unwrap();
    text_search_agrees(&store, "prod-2", text("failed"), 1).await;
    text_search_agrees(&store, "prod", text("failed"), 0).await;
    text_search_agrees(&store, "prod-2", text("hotfix"), 600).await;
}

#[tokio::test]
async fn a_failed_sync_keeps_the_last_as_of() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let w = SyncWindow {
        service: Some("gateway".into()),
        environment: Some(Environment::Production),
    };
    store.record_sync_success(P, &w, 1_000, 7).await.unwrap();
    store
        .record_sync_failure(P, &w, 2_000, "The Deploy API did not answer.")
        .await
        .unwrap();
    store
        .record_sync_failure(P, &SyncWindow::global(), 2_000, "down")
        .await
        .unwrap();
    let states = store.sync_windows(P).await.unwrap();
    let global = states
        .iter()
        .find(|s| s.window == SyncWindow::global())
        .unwrap();
    assert_eq!(global.as_of_ms, None);
    let gw = states.iter().find(|s| s.window == w).unwrap();
    assert_eq!(gw.as_of_ms, Some(1_000));
    assert_eq!(gw.attempted_ms, 2_000);
    assert_eq!(
        gw.last_error.as_deref(),
        Some("The Deploy API did not answer.")
    );
    assert_eq!(gw.records_seen, 7);
}

#[tokio::test]
async fn audit_log_never_stores_secret_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let seq = store
        .append_audit(&AuditEntry {
            at_ms: 5,
            actor: "ops@example.com".into(),
            profile_id: P.into(),
            action: "deploy".into(),
            target: "gateway/production".into(),
            params: json!({"service": "gateway", "deploy_api_key": "sk_test_do_not_store"}),
            outcome: "ok".into(),
            message: None,
            duration_ms: 1200,
        })
        .await
        .unwrap();
    let log = store.audit_log(P, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].seq, seq);
    assert_eq!(log[0].entry.params["deploy_api_key"], "***");
    store.close().await;
    let raw = std::fs::read(dir.path().join("switchyard.db")).unwrap();
    let wal = std::fs::read(dir.path().join("switchyard.db-wal")).unwrap_or_default();
    let needle = b"sk_test_do_not_store";
    assert!(!raw.windows(needle.len()).any(|w| w == needle));
    assert!(!wal.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test]
async fn health_history_is_down_sampled_and_retained() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let samples: Vec<_> = (0..120)
        .map(|i| HealthSample {
            target: "db".into(),
            at_ms: i * 30_000, // every 30 s for an hour
            state: if i % 4 == 0 {
                HealthState::Down
            } else {
                HealthState::Up
            },
            http_status: Some(if i % 4 == 0 { 503 } else { 200 }),
            latency_ms: Some(10 + i % 10),
        })
        .collect();
    store.insert_health_samples(P, &samples).await.unwrap();
    // Fold everything before 30 min into 10-minute buckets; keep buckets from 10 min on.
    store
        .compact_health(1_800_000, 600_000, 600_000)
        .await
        .unwrap();
    let raw = store.health_samples(P, "db", 0).await.unwrap();
    assert_eq!(raw.len(), 60, "the last 30 minutes stay raw");
    let buckets = store.health_buckets(P, "db", 0).await.unwrap();
    assert_eq!(
        buckets.iter().map(|b| b.bucket_ms).collect::<Vec<_>>(),
        vec![600_000, 1_200_000]
    );
    assert!(buckets
        .iter()
        .all(|b| b.samples == 20 && b.up_samples == 15));
    assert!(buckets.iter().all(|b| b.max_latency_ms == Some(19)));
}

#[tokio::test]
async fn settings_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open_in(dir.path()).await.unwrap();
        assert_eq!(store.setting("active_profile").await.unwrap(), None);
        store
            .set_setting("active_profile", "staging")
            .await
            .unwrap();
        store
            .set_setting("active_profile", "production")
            .await
            .unwrap();
        store.close().await;
    }
    let store = Store::open_in(dir.path()).await.unwrap();
    assert_eq!(
        store.setting("active_profile").await.unwrap().as_deref(),
        Some("production")
    );
}

/// The text search reads its pages in the text index's own order (keys by time, migration 0012):
/// it must give the rows, and the order, that the same rows filtered by a column give — rows of
/// the same millisecond newest id first, times before 1970 and after 2223 (which share a key's
/// millisecond) by their own time, however the records arrived — on every page.
#[tokio::test]
async fn a_text_search_pages_newest_first_as_a_column_filter_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let n = 1_200usize;
    let records: Vec<Deployment> = (0..n)
        .map(|i| {
            let mut d = deployment(
                1_696_348_800_000,
                ["gateway", "auth", "db"][i % 3],
                Environment::Production,
                DeploymentStatus::Deployed,
            );
            d.id = format!("deploy_t{:05}", (i * 7_919) % 10_007);
            d.timestamp = match i % 10 {
                // Many rows of one millisecond, before 1970.
                0 => "1960-05-01T00:00:00.000Z".into(),
                1 => format!("1969-12-31T23:59:{:02}.000Z", i % 60),
                // After 2223, at different times.
                2 => format!("2300-01-01T00:{:02}:{:02}.000Z", i % 7, i % 60),
                // Groups of rows sharing a millisecond.
                _ => format!("2024-03-01T10:{:02}:{:02}.250Z", (i / 5) % 60, i % 3),
            };
            d.metadata.branch = if i % 4 == 0 {
                "hotfix/login".into()
            } else {
                "main".into()
            };
            d
        })
        .collect();
    // In an order unlike time or id, in several batches.
    let mut shuffled = records.clone();
    shuffled.sort_by_key(|d| (d.id.len(), d.id.chars().rev().collect::<String>()));
    for batch in shuffled.chunks(250) {
        store.upsert_deployments(P, batch, 1).await.unwrap();
    }
    // Another profile, deleted: its rows leave the search with it, and nothing of P's.
    store
        .upsert_deployments("gone", &records[..300], 1)
        .await
        .unwrap();
    store.delete_profile("gone").await.unwrap();
    // A status change keeps the row in its place.
    let mut failed = records[8].clone();
    failed.status = DeploymentStatus::Failed;
    store.upsert_deployments(P, &[failed], 2).await.unwrap();

    let by_branch = DeploymentFilter {
        branch: Some("hotfix/login".into()),
        ..Default::default()
    };
    let expected = store.query_deployments(P, &by_branch).await.unwrap();
    assert_eq!(expected.len(), n / 4);
    // The column filter's order is the view's: time, then id, newest first.
    let key = |d: &Deployment| {
        (
            chrono::DateTime::parse_from_rfc3339(&d.timestamp)
                .unwrap()
                .timestamp_millis(),
            d.id.clone(),
        )
    };
    assert!(expected.windows(2).all(|w| key(&w[0]) > key(&w[1])));

    let text = DeploymentFilter {
        text: Some("hotfix".into()),
        ..Default::default()
    };
    assert_eq!(store.query_deployments(P, &text).await.unwrap(), expected);
    assert_eq!(
        store.count_deployments(P, &text).await.unwrap(),
        expected.len() as u64
    );
    // Pages of 7 rows cut through the rows of one millisecond.
    let mut pages = Vec::new();
    for offset in (0..expected.len() as u32 + 7).step_by(7) {
        let page = store
            .query_deployments(
                P,
                &DeploymentFilter {
                    limit: Some(7),
                    offset: Some(offset),
                    ..text.clone()
                },
            )
            .await
            .unwrap();
        pages.extend(page);
    }
    assert_eq!(pages, expected, "pages of the text search add up, in order");
    assert_eq!(
        store.query_deployments("gone", &text).await.unwrap(),
        vec![]
    );
    let failed = store
        .query_deployments(
            P,
            &DeploymentFilter {
                text: Some("failed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, records[8].id);
}

/// A text search's page and its bounded count come from one search of the text index: they
/// are those of the same search answered another way (with a condition that holds for every
/// row, which reads the rows themselves), with several rows to a second — ties on time, the
/// page's edges among them — and another profile's rows that match too.
#[tokio::test]
async fn a_text_page_and_its_count_are_those_of_the_rows_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let t0 = 1_696_348_800_000;
    let mut rows = Vec::new();
    for i in 0..120_i64 {
        // Three rows a second for the first 60, then one: ties at every page size.
        let second = if i < 60 { i / 3 } else { i - 40 };
        let mut d = deployment(
            t0 + second * 1000,
            ["gateway", "billing"][(i % 2) as usize],
            Environment::Production,
            DeploymentStatus::Deployed,
        );
        d.id = format!("deploy_{}_{i:08x}", t0 + second * 1000);
        if i % 5 == 0 {
            d.metadata.branch = "release/cut".into();
        }
        rows.push(d);
    }
    store.upsert_deployments(P, &rows, 1).await.unwrap();
    store
        .upsert_deployments("other", &rows[..30], 1)
        .await
        .unwrap();
    for text in ["hotfix", "gateway", "release", "nothing-like-it"] {
        let search = DeploymentFilter {
            text: Some(text.into()),
            ..Default::default()
        };
        // The same rows read another way: a condition every row meets.
        let all = DeploymentFilter {
            since_ms: Some(0),
            ..search.clone()
        };
        let every = store.query_deployments(P, &all).await.unwrap();
        let n = every.len() as u64;
        assert_eq!(store.count_deployments(P, &all).await.unwrap(), n);
        for (offset, limit, at_most) in [(0, 7, 9), (7, 7, 200), (9, 10, 20), (50, 10, 61)] {
            let page = DeploymentFilter {
                limit: Some(limit),
                offset: Some(offset),
                ..search.clone()
            };
            let expected: Vec<_> = every
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .map(|d| d.id.clone())
                .collect();
            let (got, count) = store
                .query_deployments_counted(P, &page, at_most)
                .await
                .unwrap();
            let what = format!("{text:?} from {offset} ({limit}), counted to {at_most}");
            let got: Vec<_> = got.iter().map(|d| d.id.clone()).collect();
            assert_eq!(got, expected, "{what}");
            // The count comes with a page that has rows; without one, the caller counts.
            let count = count.unwrap_or(
                store
                    .count_deployments_up_to(P, &page, at_most)
                    .await
                    .unwrap(),
            );
            assert_eq!(count, n.min(at_most), "{what}");
            assert_eq!(
                store.query_deployments(P, &page).await.unwrap().len(),
                expected.len(),
                "{what}: the page alone"
            );
        }
    }
}

/// What an operator expects of a text search in profile `p`: the rows with a word (letters and
/// digits, any case) of a searched field starting with the text, newest first, ties by id.
fn words_starting_with(cached: &[(&str, Deployment)], p: &str, text: &str) -> Vec<Deployment> {
    let text = text.to_lowercase();
    let mut rows: Vec<Deployment> = cached
        .iter()
        .filter(|(q, _)| *q == p)
        .map(|(_, d)| d.clone())
        .filter(|d| {
            [
                d.id.as_str(),
                d.service.as_str(),
                d.environment.as_str(),
                d.status.as_str(),
                d.version_tag.as_deref().unwrap_or(""),
                d.metadata.commit.as_str(),
                d.metadata.branch.as_str(),
                d.metadata.author.as_str(),
            ]
            .iter()
            .flat_map(|f| f.split(|c: char| !c.is_alphanumeric()))
            .any(|w| w.to_lowercase().starts_with(&text))
        })
        .collect();
    rows.sort_by(|a, b| (&b.timestamp, &b.id).cmp(&(&a.timestamp, &a.id)));
    rows
}

/// Every page of each text in each profile, as the view reads them (a page and its count, and
/// the page alone), against [`words_starting_with`].
async fn text_pages_agree(
    store: &Store,
    cached: &[(&str, Deployment)],
    profiles: &[&str],
    texts: &[&str],
) {
    for p in profiles {
        for text in texts {
            let expected = words_starting_with(cached, p, text);
            for limit in [7u32, 50] {
                let mut offset = 0u32;
                loop {
                    let filter = DeploymentFilter {
                        text: Some((*text).into()),
                        limit: Some(limit),
                        offset: Some(offset),
                        ..Default::default()
                    };
                    let at_most = u64::from(offset + limit) + 5;
                    let (rows, counted) = store
                        .query_deployments_counted(p, &filter, at_most)
                        .await
                        .unwrap();
                    let want: Vec<Deployment> = expected
                        .iter()
                        .skip(offset as usize)
                        .take(limit as usize)
                        .cloned()
                        .collect();
                    let what = format!("{p} {text:?} from {offset} ({limit})");
                    assert_eq!(rows, want, "{what}");
                    if !rows.is_empty() {
                        let n = expected.len() as u64;
                        assert_eq!(counted, Some(n.min(at_most)), "{what}: the count");
                    }
                    assert_eq!(
                        store.query_deployments(p, &filter).await.unwrap(),
                        want,
                        "{what}, without its count"
                    );
                    if rows.is_empty() {
                        break;
                    }
                    offset += limit;
                }
            }
        }
    }
}

/// Row `i` of the text-search tests: four rows per second (sharing its millisecond), the
/// services in turn, its id ending in `suffix` and `i`.
fn text_row(i: i64, suffix: &str) -> Deployment {
    let ms = 1_696_348_800_000 + (i / 4) * 1000;
    let mut d = deployment(
        ms,
        ["gateway", "auth", "db"][(i % 3) as usize],
        Environment::Production,
        DeploymentStatus::Deployed,
    );
    d.id = format!("deploy_{ms}_{suffix}{i:04}");
    d
}

/// A text search's pages are the profile's rows with a word starting with the text, newest
/// first (ties by id, rows of one millisecond included), whether or not the cache also holds
/// longer words starting with it: compared with the list filtered and ordered by hand, page by
/// page, in three profiles, before and after a longer word arrives.
#[tokio::test]
async fn text_pages_are_every_word_starting_with_the_text_with_or_without_longer_words() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let branches = ["hotfix/login", "hotfixes", "main", "release/zebra"];
    let authors = ["ana@example.com", "zebra@example.com", "Bob@Example.com"];
    let record = |i: i64, suffix: &str| {
        let mut d = text_row(i, suffix);
        d.metadata.branch = branches[(i % 4) as usize].into();
        d.metadata.author = authors[(i % 3) as usize].into();
        d
    };
    let profiles = [("prod", 0..300), ("prod-2", 100..220), ("Prod", 250..262)];
    let names: Vec<&str> = profiles.iter().map(|(p, _)| *p).collect();
    let mut cached: Vec<(&str, Deployment)> = Vec::new();
    for (p, range) in profiles {
        let rows: Vec<Deployment> = range.map(|i| record(i, "x")).collect();
        store.upsert_deployments(p, &rows, 1).await.unwrap();
        cached.extend(rows.into_iter().map(|d| (p, d)));
    }
    // `hotfix` also starts `hotfixes`; `zebra` and `login` start no other word yet; `bob` is
    // stored in other cases; `deploy` is a word of every id.
    let texts = [
        "hotfix", "HotFix", "hotfixes", "zebra", "login", "bob", "deploy",
    ];
    text_pages_agree(&store, &cached, &names, &texts).await;
    // A longer word arrives: `zebra` now finds it too.
    let mut late = record(301, "y");
    late.metadata.author = "zebras@example.com".into();
    late.metadata.branch = "main".into();
    store
        .upsert_deployments("prod", std::slice::from_ref(&late), 2)
        .await
        .unwrap();
    cached.push(("prod", late));
    text_pages_agree(&store, &cached, &names, &texts).await;
}

/// A text of several terms, or of terms with punctuation (an email, a version), is searched
/// whole-word where it can be (its last word starting no longer one) and as a prefix elsewhere:
/// its pages newest first, and its count, are those of the same text searched as prefixes (the
/// filter's other way, oldest first, reversed), before and after longer words arrive.
#[tokio::test]
async fn a_text_of_several_terms_finds_what_its_prefixes_find() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let authors = ["ana@example.com", "zebra@example.org", "Bob@Example.com"];
    let record = |i: i64, suffix: &str| {
        let mut d = text_row(i, suffix);
        d.metadata.branch = ["hotfix/login", "main", "release/v1.2"][(i % 3) as usize].into();
        d.metadata.author = authors[(i % 3) as usize].into();
        d.version_tag = Some(format!("v1.{}", i % 5));
        d
    };
    let rows: Vec<Deployment> = (0..120).map(|i| record(i, "x")).collect();
    store.upsert_deployments(P, &rows, 1).await.unwrap();
    let texts = [
        "ana@example.com",
        "bob@EXAMPLE",
        "zebra@example.o",
        "hotfix login",
        "gateway main",
        "release/v1",
        "v1.2",
        "auth ana",
        "zébra",
        "nothing here",
    ];
    let agree = |store: Store| async move {
        for text in texts {
            // The filter's other way: by the profile's time index, each row tested against the
            // text searched as prefixes.
            let oldest_first = DeploymentFilter {
                text: Some(text.into()),
                sort: Some(HistorySort {
                    key: HistorySortKey::Time,
                    descending: false,
                }),
                ..Default::default()
            };
            let mut want = store.query_deployments(P, &oldest_first).await.unwrap();
            want.reverse();
            let n = want.len() as u64;
            let whole = DeploymentFilter {
                text: Some(text.into()),
                ..Default::default()
            };
            assert_eq!(
                store.count_deployments(P, &whole).await.unwrap(),
                n,
                "{text:?}"
            );
            for (offset, limit) in [(0u32, 7u32), (7, 7), (40, 50)] {
                let page = DeploymentFilter {
                    limit: Some(limit),
                    offset: Some(offset),
                    ..whole.clone()
                };
                let (rows, counted) = store
                    .query_deployments_counted(P, &page, 1_000)
                    .await
                    .unwrap();
                let expected: Vec<Deployment> = want
                    .iter()
                    .skip(offset as usize)
                    .take(limit as usize)
                    .cloned()
                    .collect();
                assert_eq!(rows, expected, "{text:?} from {offset}");
                if !rows.is_empty() {
                    assert_eq!(counted, Some(n), "{text:?} from {offset}");
                }
            }
        }
    };
    agree(store.clone()).await;
    // Longer words arrive: `login` now starts `logins`, `com` `community`, `2` `20`.
    let mut late = record(200, "y");
    late.metadata.branch = "logins".into();
    late.metadata.author = "ana@example.community".into();
    late.version_tag = Some("v1.20".into());
    store.upsert_deployments(P, &[late], 2).await.unwrap();
    agree(store.clone()).await;
}
