//! Staged rollouts (see `migrations/0009_rollouts.sql`): the engine in `switchyard-ops` owns the
//! shape of `data`; the store keeps it with the columns lists are filtered by.

use sqlx::Row;
use switchyard_core::AppError;

use crate::error::{db, internal};
use crate::Store;

/// One stored rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutRecord {
    pub id: String,
    pub profile_id: String,
    pub service: String,
    pub environment: String,
    pub state: String,
    pub started_ms: i64,
    pub updated_ms: i64,
    pub data: serde_json::Value,
}

fn from_row(r: &sqlx::sqlite::SqliteRow) -> Result<RolloutRecord, AppError> {
    let data: String = r.get("data");
    Ok(RolloutRecord {
        id: r.get("id"),
        profile_id: r.get("profile_id"),
        service: r.get("service"),
        environment: r.get("environment"),
        state: r.get("state"),
        started_ms: r.get("started_ms"),
        updated_ms: r.get("updated_ms"),
        data: serde_json::from_str(&data).map_err(|e| internal("Reading a rollout", e))?,
    })
}

impl Store {
    /// Insert or replace a rollout.
    pub async fn put_rollout(&self, r: &RolloutRecord) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO rollouts (id, profile_id, service, environment, state, started_ms, updated_ms, data)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms,
                 data = excluded.data",
        )
        .bind(&r.id)
        .bind(&r.profile_id)
        .bind(&r.service)
        .bind(&r.environment)
        .bind(&r.state)
        .bind(r.started_ms)
        .bind(r.updated_ms)
        .bind(r.data.to_string())
        .execute(&self.pool)
        .await
        .map_err(db("Saving the rollout"))?;
        Ok(())
    }

    pub async fn rollout(&self, id: &str) -> Result<Option<RolloutRecord>, AppError> {
        let row = sqlx::query("SELECT * FROM rollouts WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("Reading the rollout"))?;
        row.as_ref().map(from_row).transpose()
    }

    /// The newest rollouts of a profile, at most `limit`.
    pub async fn rollouts(
        &self,
        profile_id: &str,
        limit: u32,
    ) -> Result<Vec<RolloutRecord>, AppError> {
        let rows = sqlx::query(
            "SELECT * FROM rollouts WHERE profile_id = ? ORDER BY started_ms DESC, id LIMIT ?",
        )
        .bind(profile_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the rollouts"))?;
        rows.iter().map(from_row).collect()
    }

    /// Every rollout in one of `states` (any profile).
    pub async fn rollouts_in(&self, states: &[&str]) -> Result<Vec<RolloutRecord>, AppError> {
        let mut out = Vec::new();
        for state in states {
            let rows = sqlx::query("SELECT * FROM rollouts WHERE state = ? ORDER BY started_ms")
                .bind(state)
                .fetch_all(&self.pool)
                .await
                .map_err(db("Reading the rollouts"))?;
            for r in &rows {
                out.push(from_row(r)?);
            }
        }
        Ok(out)
    }
}
