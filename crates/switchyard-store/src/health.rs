//! Health samples, with retention and down-sampling into fixed-width buckets.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use switchyard_core::AppError;

use crate::error::db;
use crate::Store;

/// What one check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Up,
    /// Answered 401: up, but the check needs a key (the Deploy API's `/health`).
    UpNeedsKey,
    Degraded,
    Down,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Up => "up",
            HealthState::UpNeedsKey => "up_needs_key",
            HealthState::Degraded => "degraded",
            HealthState::Down => "down",
        }
    }

    fn parse(s: &str) -> HealthState {
        match s {
            "up" => HealthState::Up,
            "up_needs_key" => HealthState::UpNeedsKey,
            "degraded" => HealthState::Degraded,
            _ => HealthState::Down,
        }
    }

    pub fn is_up(self) -> bool {
        matches!(self, HealthState::Up | HealthState::UpNeedsKey)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthSample {
    pub target: String,
    pub at_ms: i64,
    pub state: HealthState,
    pub http_status: Option<i64>,
    pub latency_ms: Option<i64>,
}

/// Samples of one target over `width_ms` from `bucket_ms`, after down-sampling.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthBucket {
    pub target: String,
    pub bucket_ms: i64,
    pub width_ms: i64,
    pub samples: i64,
    pub up_samples: i64,
    pub avg_latency_ms: Option<f64>,
    pub max_latency_ms: Option<i64>,
}

impl Store {
    pub async fn insert_health_samples(
        &self,
        profile_id: &str,
        samples: &[HealthSample],
    ) -> Result<(), AppError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(db("Saving health samples"))?;
        for s in samples {
            sqlx::query(
                "INSERT INTO health_samples (profile_id, target, at_ms, state, http_status, latency_ms)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(profile_id)
            .bind(&s.target)
            .bind(s.at_ms)
            .bind(s.state.as_str())
            .bind(s.http_status)
            .bind(s.latency_ms)
            .execute(&mut *tx)
            .await
            .map_err(db("Saving health samples"))?;
        }
        tx.commit().await.map_err(db("Saving health samples"))?;
        Ok(())
    }

    /// Raw samples of `target` since `since_ms`, oldest first.
    pub async fn health_samples(
        &self,
        profile_id: &str,
        target: &str,
        since_ms: i64,
    ) -> Result<Vec<HealthSample>, AppError> {
        let rows = sqlx::query(
            "SELECT target, at_ms, state, http_status, latency_ms FROM health_samples
             WHERE profile_id = ? AND target = ? AND at_ms >= ? ORDER BY at_ms",
        )
        .bind(profile_id)
        .bind(target)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading health samples"))?;
        Ok(rows
            .iter()
            .map(|r| HealthSample {
                target: r.get(0),
                at_ms: r.get(1),
                state: HealthState::parse(&r.get::<String, _>(2)),
                http_status: r.get(3),
                latency_ms: r.get(4),
            })
            .collect())
    }

    /// Down-sampled history of `target` since `since_ms`, oldest first.
    pub async fn health_buckets(
        &self,
        profile_id: &str,
        target: &str,
        since_ms: i64,
    ) -> Result<Vec<HealthBucket>, AppError> {
        let rows = sqlx::query(
            "SELECT target, bucket_ms, width_ms, samples, up_samples, avg_latency_ms, max_latency_ms
             FROM health_buckets WHERE profile_id = ? AND target = ? AND bucket_ms >= ? ORDER BY bucket_ms",
        )
        .bind(profile_id)
        .bind(target)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading health history"))?;
        Ok(rows
            .iter()
            .map(|r| HealthBucket {
                target: r.get(0),
                bucket_ms: r.get(1),
                width_ms: r.get(2),
                samples: r.get(3),
                up_samples: r.get(4),
                avg_latency_ms: r.get(5),
                max_latency_ms: r.get(6),
            })
            .collect())
    }

    /// Fold raw samples older than `raw_before_ms` into buckets of `width_ms`, and drop buckets
    /// older than `buckets_before_ms`. One transaction: a crash leaves either all or none of it.
    pub async fn compact_health(
        &self,
        raw_before_ms: i64,
        width_ms: i64,
        buckets_before_ms: i64,
    ) -> Result<(), AppError> {
        let width = width_ms.max(1);
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(db("Compacting health history"))?;
        sqlx::query(
            "INSERT INTO health_buckets (profile_id, target, bucket_ms, width_ms, samples, up_samples, avg_latency_ms, max_latency_ms)
             SELECT profile_id, target, (at_ms / ?1) * ?1, ?1, COUNT(*),
                    SUM(state IN ('up', 'up_needs_key')), AVG(latency_ms), MAX(latency_ms)
             FROM health_samples WHERE at_ms < ?2
             GROUP BY profile_id, target, (at_ms / ?1) * ?1
             ON CONFLICT (profile_id, target, bucket_ms) DO UPDATE SET
               avg_latency_ms = (COALESCE(avg_latency_ms, 0) * samples + COALESCE(excluded.avg_latency_ms, 0) * excluded.samples)
                                / (samples + excluded.samples),
               samples = samples + excluded.samples,
               up_samples = up_samples + excluded.up_samples,
               max_latency_ms = MAX(COALESCE(max_latency_ms, 0), COALESCE(excluded.max_latency_ms, 0))",
        )
        .bind(width)
        .bind(raw_before_ms)
        .execute(&mut *tx)
        .await
        .map_err(db("Compacting health history"))?;
        sqlx::query("DELETE FROM health_samples WHERE at_ms < ?")
            .bind(raw_before_ms)
            .execute(&mut *tx)
            .await
            .map_err(db("Compacting health history"))?;
        sqlx::query("DELETE FROM health_buckets WHERE bucket_ms < ?")
            .bind(buckets_before_ms)
            .execute(&mut *tx)
            .await
            .map_err(db("Compacting health history"))?;
        tx.commit().await.map_err(db("Compacting health history"))?;
        Ok(())
    }
}
