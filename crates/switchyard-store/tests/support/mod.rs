//! Helpers shared by the store's test files.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::Connection;

/// A new database file at `path` with the schema of a release that had migrations 1 to
/// `version` only (as an operator's file before an upgrade), open on one connection.
pub async fn database_at_migration(path: &Path, version: i64) -> SqliteConnection {
    let mut conn = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    let mut before = sqlx::migrate::Migrator::new(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations"
    )))
    .await
    .unwrap();
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version <= version)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before.run(&mut conn).await.unwrap();
    conn
}
