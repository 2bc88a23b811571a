//! Storage faults against real SQLite files: a damaged database, a database of the previous
//! release and of a newer one, a busy database, a full disk (a real tmpfs, as root).
//!
//! Errors name the database file when one store is open in the process, as in the app; these
//! tests hold `ONE_STORE` so that stays true while they run in parallel threads.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};
use switchyard_core::{
    Deployment, DeploymentMetadata, DeploymentStatus, Environment, ErrorCode, Profile,
};
use switchyard_store::{AuditEntry, DeploymentFilter, Store, DB_FILE};

static ONE_STORE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const FIXTURE: &str = include_str!("fixtures/previous-release.sql");
const STAGING: &str = "dotdo-staging";

async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true),
    )
    .await
    .unwrap()
}

/// `switchyard.db` of the previous release, in `dir`.
async fn previous_release_db(dir: &Path) -> PathBuf {
    let path = dir.join(DB_FILE);
    let mut conn = raw(&path).await;
    sqlx::raw_sql(FIXTURE).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    path
}

/// Everything committed is in the main file (no WAL left), as after a clean exit.
async fn checkpoint(path: &Path) {
    let mut conn = raw(path).await;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// Overwrite one page of the file with garbage, as a bad sector or a stray write would.
fn damage_page(path: &Path, page: i64) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start((page as u64 - 1) * 4096)).unwrap();
    f.write_all(&[0xA5; 4096]).unwrap();
    f.sync_all().unwrap();
}

async fn root_page(path: &Path, table: &str) -> i64 {
    let mut conn = raw(path).await;
    let page: i64 = sqlx::query_scalar("SELECT rootpage FROM sqlite_master WHERE name = ?")
        .bind(table)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    page
}

/// The files of a data folder, without SQLite's -wal and -shm (a reader may leave them empty).
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    names.sort();
    names
}

fn deployment(n: i64, pad: usize) -> Deployment {
    let ms = 1_700_000_000_000 + n * 60_000;
    Deployment {
        id: format!("deploy_{ms}_{n:08x}"),
        service: ["gateway", "db", "auth"][(n % 3) as usize].into(),
        environment: Environment::Staging,
        tier: None,
        version: None,
        namespace: Some("dotdo-staging".into()),
        status: DeploymentStatus::Deployed,
        timestamp: chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        url: Some("https://gateway.staging.do".into()),
        version_tag: Some(format!("v1.{n}.0")),
        metadata: DeploymentMetadata {
            commit: format!("{n:040x}"),
            branch: "main".into(),
            author: format!("ops{}@example.com{}", n % 7, " ".repeat(pad)),
            version: None,
        },
    }
}

async fn count(store: &Store, profile: &str) -> u64 {
    store
        .count_deployments(profile, &DeploymentFilter::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_database_of_the_previous_release_opens_with_its_data() {
    let _one = ONE_STORE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = previous_release_db(dir.path()).await;

    let store = Store::open_in(dir.path()).await.unwrap();
    assert!(store.recovery().is_none());

    let profiles = store.list_profiles().await.unwrap();
    assert_eq!(profiles.len(), 2);
    let staging = profiles.iter().find(|p| p.id == STAGING).unwrap();
    assert_eq!(staging.environment, Environment::Staging);
    assert_eq!(staging.deploy_api_url, "https://deploy.do");
    assert_eq!(
        store.setting("active_profile").await.unwrap().as_deref(),
        Some(STAGING)
    );
    assert_eq!(
        store
            .setting("key-origin/dotdo-staging/deploy-api-key")
            .await
            .unwrap()
            .as_deref(),
        Some("https://deploy.do https://auth.do")
    );

    // The history cache, its text search (FTS index), its status changes.
    assert_eq!(count(&store, STAGING).await, 30);
    let by_text = store
        .query_deployments(
            STAGING,
            &DeploymentFilter {
                text: Some("bo@example.com".into()),
                ..DeploymentFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_text.len(), 15);
    // The text index was rebuilt with each row's profile (0007): the count of a text search is
    // read from it, and is exact for this profile and empty for the other.
    let bo = DeploymentFilter {
        text: Some("bo@example.com".into()),
        ..DeploymentFilter::default()
    };
    assert_eq!(store.count_deployments(STAGING, &bo).await.unwrap(), 15);
    assert_eq!(
        store.count_deployments("local-sandbox", &bo).await.unwrap(),
        0
    );
    let rolled_back = store
        .query_deployments(
            STAGING,
            &DeploymentFilter {
                status: Some(DeploymentStatus::RolledBack),
                ..DeploymentFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rolled_back.len(), 1);

    // The bundle archive's index, the pin, health, the audit log, the runbook run.
    assert_eq!(store.bundles().await.unwrap().len(), 6);
    assert_eq!(
        store
            .bundles()
            .await
            .unwrap()
            .iter()
            .filter(|b| b.pruned_ms.is_some())
            .count(),
        1
    );
    assert_eq!(store.all_bundle_uses().await.unwrap().len(), 6);
    assert_eq!(store.pins(None).await.unwrap().len(), 1);
    assert_eq!(
        store
            .health_samples(STAGING, "gateway", 0)
            .await
            .unwrap()
            .len(),
        12
    );
    // Its one outage is found from the changes marked at the upgrade (migration 0015): the
    // state before the window, then the check that went down and the one that came back.
    let (before, changes) = store
        .health_changes(STAGING, 0, 1_764_324_100_000, 1_764_324_700_000)
        .await
        .unwrap();
    let times =
        |s: &[switchyard_store::HealthSample]| s.iter().map(|x| x.at_ms).collect::<Vec<_>>();
    assert_eq!(times(&before), [1_764_324_060_000]);
    assert_eq!(
        times(&changes),
        [1_764_324_120_000, 1_764_324_300_000, 1_764_324_360_000]
    );
    let audit = store.audit_log(STAGING, 100).await.unwrap();
    assert_eq!(audit.len(), 5);
    assert!(audit.iter().any(|a| a.entry.outcome == "ServerError"));
    let runs = store.runs(None).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].state, "finished");
    assert_eq!(store.run_steps("run-0001").await.unwrap().len(), 2);
    assert_eq!(store.run_events("run-0001").await.unwrap().len(), 4);

    // What came after the release works on it: the deploy journal (0005) and every newer table.
    assert!(store.journal_unresolved().await.unwrap().is_empty());
    store
        .append_audit(&AuditEntry {
            at_ms: 1_800_000_000_000,
            actor: "ana".into(),
            profile_id: STAGING.into(),
            action: "profile.select".into(),
            target: STAGING.into(),
            params: serde_json::json!({}),
            outcome: "ok".into(),
            message: None,
            duration_ms: 1,
        })
        .await
        .unwrap();
    assert_eq!(store.audit_log(STAGING, 100).await.unwrap().len(), 6);
    // A record cached after the upgrade is searched like those before it.
    let mut newer = deployment(31, 0);
    newer.metadata.author = "bo@example.com".into();
    store
        .upsert_deployments(STAGING, &[newer], 1_800_000_000_000)
        .await
        .unwrap();
    assert_eq!(store.count_deployments(STAGING, &bo).await.unwrap(), 16);
    assert_eq!(
        store.query_deployments(STAGING, &bo).await.unwrap().len(),
        16
    );
    store.close().await;

    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".sql"))
        })
        .count() as i64;
    let mut conn = raw(&path).await;
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(applied, (1..=migrations).collect::<Vec<_>>());
    let journal: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'deploy_journal'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(journal, 1);
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_database_of_a_newer_release_is_refused_and_left_as_it_is() {
    let _one = ONE_STORE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let store = Store::open_in(dir.path()).await.unwrap();
    store
        .save_profile(&Profile::local_sandbox(), 1)
        .await
        .unwrap();
    store.close().await;
    drop(store);
    // A newer Switchyard added migration 9001 and its table.
    let mut conn = raw(&path).await;
    sqlx::raw_sql(
        "CREATE TABLE canary_flags (id TEXT PRIMARY KEY, percent INTEGER NOT NULL);
         INSERT INTO canary_flags VALUES ('r1', 25);
         INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9001, 'canary_flags', TRUE, X'00', 1);",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    checkpoint(&path).await;
    let before = std::fs::read(&path).unwrap();
    let files_before = files_in(dir.path());

    let e = Store::open_in(dir.path()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "{}", e.message);
    assert!(
        e.message.contains(&path.display().to_string()),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("newer version of Switchyard") && e.message.contains("9001"),
        "{}",
        e.message
    );
    assert!(e.message.contains("left as it is"), "{}", e.message);

    // Untouched: same bytes, nothing moved aside, the newer table and its rows still there.
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(files_in(dir.path()), files_before);
    let mut conn = raw(&path).await;
    let percent: i64 = sqlx::query_scalar("SELECT percent FROM canary_flags WHERE id = 'r1'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(percent, 25);
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_moved_aside_and_a_new_one_created() {
    let _one = ONE_STORE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let garbage = b"PK\x03\x04 a zip archive saved over the database by mistake\n".repeat(200);
    std::fs::write(&path, &garbage).unwrap();
    std::fs::write(dir.path().join("switchyard.db-wal"), b"not a wal either").unwrap();

    let store = Store::open_in(dir.path()).await.unwrap();
    let rec = store
        .recovery()
        .expect("the damaged file is reported")
        .clone();
    assert_eq!(rec.damaged_file, path);
    assert!(rec.reason.contains("not a database"), "{}", rec.reason);
    let aside = rec
        .moved_to
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(aside.starts_with("switchyard.db.corrupt-"), "{aside}");
    // Moved, never deleted: the same bytes, with its -wal beside it.
    assert_eq!(std::fs::read(&rec.moved_to).unwrap(), garbage);
    assert_eq!(
        std::fs::read(dir.path().join(format!("{aside}-wal"))).unwrap(),
        b"not a wal either"
    );
    assert!(rec
        .moved_with
        .iter()
        .any(|p| p.ends_with(format!("{aside}-wal"))));
    // Nothing could be read back, and that is said.
    assert!(rec.unreadable.is_some(), "{rec:?}");
    assert!(rec.tables.is_empty());

    // The new database works.
    store
        .save_profile(&Profile::local_sandbox(), 1)
        .await
        .unwrap();
    assert_eq!(store.list_profiles().await.unwrap().len(), 1);
    store.close().await;
    drop(store);
    // And the next start is an ordinary one.
    let store = Store::open_in(dir.path()).await.unwrap();
    assert!(store.recovery().is_none());
    assert_eq!(store.list_profiles().await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test]
async fn a_damaged_table_is_found_at_open_and_every_readable_row_is_kept() {
    let _one = ONE_STORE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = previous_release_db(dir.path()).await;
    // Brought up to date once, as by a normal start.
    let store = Store::open_in(dir.path()).await.unwrap();
    store.close().await;
    drop(store);
    checkpoint(&path).await;
    damage_page(&path, root_page(&path, "profiles").await);
    let damaged = std::fs::read(&path).unwrap();

    let store = Store::open_in(dir.path()).await.unwrap();
    let rec = store
        .recovery()
        .expect("the damage is found at open")
        .clone();
    assert!(rec.reason.contains("profiles"), "{}", rec.reason);
    assert_eq!(std::fs::read(&rec.moved_to).unwrap(), damaged);
    assert!(rec.unreadable.is_none(), "{rec:?}");
    let profiles = rec.table("profiles").unwrap();
    assert!(!profiles.complete);
    assert_eq!(profiles.rows, 0);
    for (table, rows) in [
        ("app_settings", 4),
        ("runbook_runs", 1),
        ("runbook_steps", 2),
        ("runbook_checks", 1),
        ("runbook_events", 4),
        ("audit_log", 5),
        ("bundles", 6),
        ("bundle_uses", 6),
        ("deploy_pins", 1),
        ("deploy_journal", 0),
        ("deployments", 30),
        ("deployment_status_changes", 1),
        ("health_samples", 12),
        ("health_buckets", 1),
    ] {
        let t = rec
            .table(table)
            .unwrap_or_else(|| panic!("{table} in {rec:?}"));
        assert!(t.complete && t.rows == rows, "{table}: {t:?}");
    }
    // What was read back is there, searchable, with the same ids.
    assert!(store.list_profiles().await.unwrap().is_empty());
    assert_eq!(
        store.setting("active_profile").await.unwrap().as_deref(),
        Some(STAGING)
    );
    assert_eq!(count(&store, STAGING).await, 30);
    let by_text = store
        .query_deployments(
            STAGING,
            &DeploymentFilter {
                text: Some("bo@example.com".into()),
                ..DeploymentFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_text.len(), 15);
    let audit = store.audit_log(STAGING, 100).await.unwrap();
    assert_eq!(
        audit.iter().map(|a| a.seq).collect::<Vec<_>>(),
        vec![5, 4, 3, 2, 1]
    );
    assert_eq!(store.run_steps("run-0001").await.unwrap().len(), 2);
    // The history is synced again from scratch: no window says "synced".
    assert!(store.sync_windows(STAGING).await.unwrap().is_empty());
    store.close().await;
}

#[tokio::test]
async fn damage_a_query_finds_is_recovered_at_the_next_start() {
    let _one = ONE_STORE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let store = Store::open_in(dir.path()).await.unwrap();
    store
        .save_profile(&Profile::local_sandbox(), 1)
        .await
        .unwrap();
    store.set_setting("active_profile", STAGING).await.unwrap();
    let records: Vec<Deployment> = (0..3000).map(|n| deployment(n, 0)).collect();
    store
        .upsert_deployments(STAGING, &records, 5)
        .await
        .unwrap();
    store.close().await;
    drop(store);
    checkpoint(&path).await;
    // A leaf of the history cache: the check at open does not read it (it is a cache).
    let mut conn = raw(&path).await;
    let leaves: Vec<i64> = sqlx::query_scalar(
        "SELECT pageno FROM dbstat WHERE name = 'deployments' AND pagetype = 'leaf' ORDER BY pageno",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    assert!(leaves.len() > 10, "{leaves:?}");
    damage_page(&path, leaves[leaves.len() / 2]);

    let store = Store::open_in(dir.path()).await.unwrap();
    assert!(
        store.recovery().is_none(),
        "the quick check reads only what cannot be synced again"
    );
    let e = store
        .query_deployments(STAGING, &DeploymentFilter::default())
        .await
        .unwrap_err();
    assert!(e.message.contains("is damaged"), "{}", e.message);
    assert!(
        e.message.contains(&path.display().to_string()),
        "{}",
        e.message
    );
    assert!(e.message.contains("Restart Switchyard"), "{}", e.message);
    store.close().await;
    drop(store);

    let store = Store::open_in(dir.path()).await.unwrap();
    let rec = store
        .recovery()
        .expect("recovered at the next start")
        .clone();
    assert!(
        rec.reason.contains("a query found damage"),
        "{}",
        rec.reason
    );
    assert!(rec.reason.contains("Reading deployments"), "{}", rec.reason);
    let history = rec.table("deployments").unwrap();
    assert!(!history.complete, "{history:?}");
    // Only the rows of the damaged range are lost.
    assert!(history.rows >= 1000 && history.rows < 3000, "{history:?}");
    assert!(rec.table("profiles").unwrap().complete);
    assert_eq!(store.list_profiles().await.unwrap().len(), 1);
    assert_eq!(count(&store, STAGING).await, history.rows);
    assert!(!dir.path().join("switchyard.db.damaged").exists());
    store.close().await;
}

#[tokio::test]
async fn a_busy_database_is_waited_for_then_refused_with_what_to_do() {
    let _one = ONE_STORE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let store = Store::open_in(dir.path()).await.unwrap();

    // Another program holds the write lock for a second: the write waits, then succeeds.
    let mut other = raw(&path).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        sqlx::query("COMMIT").execute(&mut other).await.unwrap();
        other
    });
    let t = Instant::now();
    store.set_setting("k", "v1").await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    let mut other = release.await.unwrap();

    // It keeps holding it: the write gives up after the bound and says what to do.
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let t = Instant::now();
    let e = store.set_setting("k", "v2").await.unwrap_err();
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_secs(4) && waited < Duration::from_secs(15),
        "{waited:?}"
    );
    assert_eq!(e.code, ErrorCode::DatabaseBusy, "{}", e.message);
    assert!(
        e.message.contains(&path.display().to_string()),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("close any other program"),
        "{}",
        e.message
    );
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    assert_eq!(store.setting("k").await.unwrap().as_deref(), Some("v1"));
    store.close().await;
}

/// A small tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// `None` (and says so) when not root; as root a failed mount fails the test.
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        let uid = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Uid:"))
                    .and_then(|u| u.split_whitespace().next().map(str::to_owned))
            });
        if uid.as_deref() != Some("0") {
            eprintln!(
                "SKIPPED: the full-disk test mounts a tmpfs and needs root (uid {uid:?}); run it as root to check this guarantee"
            );
            return None;
        }
        std::fs::create_dir_all(at).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "running as root, but mounting a tmpfs at {} failed: {}",
            at.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Some(Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = std::process::Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
}

/// Write until the file system refuses: the disk is full.
fn fill(file: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(file).unwrap();
    for chunk in [65536, 4096, 512, 1] {
        let buf = vec![0u8; chunk];
        loop {
            match f.write(&buf) {
                Ok(n) if n == chunk => {}
                Ok(_) => break,
                Err(e) => {
                    assert!(switchyard_core::error::is_disk_full(&e), "{e}");
                    break;
                }
            }
        }
    }
    let _ = f.sync_all();
}

#[tokio::test]
async fn a_full_disk_fails_the_write_with_what_to_do_and_saves_nothing() {
    let _one = ONE_STORE.lock().await;
    let dir = tempfile::tempdir().unwrap();
    // Room for the 2,020 rows written once space is freed, with their indexes and the WAL they
    // pass through (SQLite checkpoints it at ~4 MiB, and then the file holds them too).
    let Some(mount) = Tmpfs::mount(&dir.path().join("disk"), "16m") else {
        return;
    };
    let data = mount.0.join("data");
    let store = Store::open_in(&data).await.unwrap();
    store
        .save_profile(&Profile::local_sandbox(), 1)
        .await
        .unwrap();
    let first: Vec<Deployment> = (0..20).map(|n| deployment(n, 0)).collect();
    store.upsert_deployments(STAGING, &first, 5).await.unwrap();
    let filler = mount.0.join("filler");
    fill(&filler);

    // A sync of 2,000 records does not fit: refused, said so, nothing of it saved.
    let more: Vec<Deployment> = (20..2020).map(|n| deployment(n, 200)).collect();
    let e = store
        .upsert_deployments(STAGING, &more, 6)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DiskFull, "{}", e.message);
    assert!(
        e.message
            .contains(&format!("the disk holding {} is full", data.display())),
        "{}",
        e.message
    );
    assert!(
        e.message
            .contains("Free space on it and try again; nothing was saved"),
        "{}",
        e.message
    );
    assert_eq!(count(&store, STAGING).await, 20);
    assert_eq!(store.list_profiles().await.unwrap().len(), 1);

    // Space freed: writes succeed again on every connection of the pool (the one that failed
    // was left counting an open transaction by sqlx, and refused every later one), and the
    // file is sound.
    std::fs::remove_file(&filler).unwrap();
    let (a, b, c, d) = tokio::join!(
        store.upsert_deployments(STAGING, &more[..500], 7),
        store.upsert_deployments(STAGING, &more[500..1000], 7),
        store.upsert_deployments(STAGING, &more[1000..1500], 7),
        store.upsert_deployments(STAGING, &more[1500..], 7),
    );
    for r in [a, b, c, d] {
        r.unwrap();
    }
    assert_eq!(count(&store, STAGING).await, 2020);
    store.close().await;
    drop(store);
    let store = Store::open_in(&data).await.unwrap();
    assert!(store.recovery().is_none());
    assert_eq!(count(&store, STAGING).await, 2020);
    store.close().await;
    drop(store);
    let mut conn = raw(&data.join(DB_FILE)).await;
    let check: Vec<String> = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(check, ["ok"]);
    conn.close().await.unwrap();
}
