//! The database's write-ahead log (`switchyard.db-wal`) stays small while the store is open,
//! whatever kind of write fills it, and nothing written is lost on the way.
//!
//! SQLite copies the log back into the database (a checkpoint) by itself only when a statement
//! runs to its end; a write that returns its row (`INSERT … RETURNING`, read as one row) ends
//! before that, so a store written that way never checkpointed and its log grew by every page
//! each write touched (~63 KB an audit entry) until the app closed.

use std::path::Path;

use serde_json::json;
use switchyard_core::AuditFilter;
use switchyard_store::{AuditEntry, NewTimelineNote, Store, DB_FILE};

/// The log's bound: SQLite's own checkpoint point (1,000 pages of 4 KiB) and what one burst of
/// writes adds before the next checkpoint, with room to spare. Unbounded, the loop below
/// leaves it past 100 MB.
const BOUND: u64 = 16 << 20;

const T0: i64 = 1_700_000_000_000;

fn wal_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join(format!("{DB_FILE}-wal")))
        .map(|m| m.len())
        .unwrap_or(0)
}

fn entry(i: i64) -> AuditEntry {
    AuditEntry {
        at_ms: T0 + i * 1_000,
        actor: "ana".into(),
        profile_id: "prod".into(),
        action: "deploy.run".into(),
        target: "gateway".into(),
        params: json!({ "reason": format!("release {i}") }),
        outcome: "ok".into(),
        message: None,
        duration_ms: 10,
    }
}

#[tokio::test]
async fn the_write_ahead_log_stays_small_while_the_store_is_open_and_keeps_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    const ENTRIES: i64 = 2_000;
    let mut largest = 0;
    for i in 0..ENTRIES {
        // The three writes that return their row: an audit entry, a note, a bundle indexed.
        store.append_audit(&entry(i)).await.unwrap();
        if i % 10 == 0 {
            store
                .add_timeline_note(&NewTimelineNote {
                    profile_id: "prod".into(),
                    at_ms: T0 + i * 1_000,
                    written_ms: T0 + i * 1_000,
                    author: "ana".into(),
                    text: format!("note {i}"),
                    run_id: None,
                })
                .await
                .unwrap();
            store
                .put_bundle(&format!("{i:064x}"), 1_024, "bundles/x", T0 + i)
                .await
                .unwrap();
        }
        largest = largest.max(wal_len(dir.path()));
    }
    assert!(
        largest <= BOUND,
        "the write-ahead log reached {largest} bytes over {ENTRIES} writes (bound {BOUND})"
    );

    // Nothing written is lost, open or after a restart.
    let every = AuditFilter::default();
    assert_eq!(store.count_audit(&every).await.unwrap(), ENTRIES as u64);
    store.close().await;
    let store = Store::open_in(dir.path()).await.unwrap();
    assert_eq!(store.count_audit(&every).await.unwrap(), ENTRIES as u64);
    let (_, notes) = store
        .timeline_notes("prod", T0, T0 + ENTRIES * 1_000, 1)
        .await
        .unwrap();
    assert_eq!(notes, (ENTRIES / 10) as u64);
    assert_eq!(
        store.bundles().await.unwrap().len(),
        (ENTRIES / 10) as usize
    );
}

/// A read that lasts (an export on another connection) keeps SQLite from restarting the log; the
/// writes meanwhile neither fail nor each wait for it, and once it ends the log comes back down
/// within the next few MB written.
#[tokio::test]
async fn a_lasting_read_holds_the_log_back_only_while_it_lasts() {
    use sqlx::{Connection, Executor};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    store.append_audit(&entry(0)).await.unwrap();

    // Another connection reads in a transaction it keeps open: its snapshot pins the log.
    let url = format!("sqlite://{}", dir.path().join(DB_FILE).display());
    let mut reader = sqlx::SqliteConnection::connect(&url).await.unwrap();
    reader.execute("BEGIN").await.unwrap();
    let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&mut reader)
        .await
        .unwrap();
    assert_eq!(seen, 1);

    // ~60 MB of log while the read lasts. Were each write to wait out the busy timeout (5 s)
    // for the reader, this would take hours.
    for i in 1..=1_000 {
        store.append_audit(&entry(i)).await.unwrap();
    }
    let held = wal_len(dir.path());
    assert!(held > BOUND, "the lasting read held {held} bytes of log");

    reader.execute("COMMIT").await.unwrap();
    reader.close().await.unwrap();
    // The next try comes once the log has grown by the bound again (~64 entries).
    for i in 1_001..=1_100 {
        store.append_audit(&entry(i)).await.unwrap();
    }
    let after = wal_len(dir.path());
    assert!(
        after <= BOUND,
        "the log stayed at {after} bytes after the read ended (bound {BOUND})"
    );
    assert_eq!(
        store.count_audit(&AuditFilter::default()).await.unwrap(),
        1_101
    );
}
