//! Health samples, with retention and down-sampling into fixed-width buckets.

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite};
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

/// Every state a sample is stored in.
const ALL_STATES: [HealthState; 4] = [
    HealthState::Up,
    HealthState::UpNeedsKey,
    HealthState::Degraded,
    HealthState::Down,
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthSample {
    pub target: String,
    pub at_ms: i64,
    pub state: HealthState,
    pub http_status: Option<i64>,
    pub latency_ms: Option<i64>,
}

impl HealthSample {
    /// A sample from a row of `target, at_ms, state, http_status, latency_ms` (in that order).
    pub(crate) fn from_row(r: &sqlx::sqlite::SqliteRow) -> HealthSample {
        HealthSample {
            target: r.get(0),
            at_ms: r.get(1),
            state: HealthState::parse(&r.get::<String, _>(2)),
            http_status: r.get(3),
            latency_ms: r.get(4),
        }
    }
}

/// A target's newest sample, and the run of samples in some states that ends with it: how long
/// the target has been in its state (see [`Store::health_run`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthRun {
    /// The newest sample since the time asked.
    pub newest: Option<HealthSample>,
    /// The time of the first sample of the run of samples in the states asked that ends with
    /// the newest; `None` when the newest is in none of them (or there is none).
    pub started_ms: Option<i64>,
    /// A sample in another state comes before the run (since the time asked): the run began
    /// at `started_ms`; else it reaches back to the oldest sample kept.
    pub after_other: bool,
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
        Ok(rows.iter().map(HealthSample::from_row).collect())
    }

    /// The newest sample of `target` since `since_ms` and the run of samples in `states` that
    /// ends with it ([`HealthRun`]), found with a few seeks (the newest sample in each other
    /// state, then the sample after the latest of them) instead of reading the run, which is
    /// every check of the day for a target that has not changed.
    pub async fn health_run(
        &self,
        profile_id: &str,
        target: &str,
        since_ms: i64,
        states: &[HealthState],
    ) -> Result<HealthRun, AppError> {
        let what = "Reading health samples";
        let newest = sqlx::query(
            "SELECT target, at_ms, state, http_status, latency_ms FROM health_samples
             WHERE profile_id = ? AND target = ? AND at_ms >= ?
             ORDER BY at_ms DESC, rowid DESC LIMIT 1",
        )
        .bind(profile_id)
        .bind(target)
        .bind(since_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(db(what))?
        .map(|r| HealthSample::from_row(&r));
        let Some(last) = newest.as_ref().filter(|n| states.contains(&n.state)) else {
            return Ok(HealthRun {
                newest,
                started_ms: None,
                after_other: false,
            });
        };
        // The latest sample in any other state (a state is stored as `as_str` writes it;
        // anything else reads as down): one seek per state down the state index.
        let others: Vec<&str> = ALL_STATES
            .iter()
            .filter(|s| !states.contains(s))
            .map(|s| s.as_str())
            .collect();
        let mut other_at: Option<i64> = None;
        if !others.is_empty() {
            let mut q = QueryBuilder::<Sqlite>::new("SELECT MAX(at) FROM (");
            for (i, state) in others.iter().enumerate() {
                if i > 0 {
                    q.push(" UNION ALL ");
                }
                q.push("SELECT (SELECT at_ms FROM health_samples INDEXED BY health_samples_by_state WHERE profile_id = ")
                    .push_bind(profile_id.to_owned())
                    .push(" AND target = ")
                    .push_bind(target.to_owned())
                    .push(" AND state = ")
                    .push_bind(*state)
                    .push(" AND at_ms >= ")
                    .push_bind(since_ms)
                    .push(" AND at_ms <= ")
                    .push_bind(last.at_ms)
                    .push(" ORDER BY at_ms DESC LIMIT 1) AS at");
            }
            q.push(")");
            other_at = q
                .build()
                .fetch_one(&self.pool)
                .await
                .map_err(db(what))?
                .get(0);
        }
        // The run's first sample: the first after that one (or the oldest kept).
        let started: i64 = sqlx::query(
            "SELECT at_ms FROM health_samples
             WHERE profile_id = ? AND target = ? AND at_ms >= ? AND at_ms > ?
             ORDER BY at_ms, rowid LIMIT 1",
        )
        .bind(profile_id)
        .bind(target)
        .bind(since_ms)
        .bind(other_at.unwrap_or(i64::MIN))
        .fetch_optional(&self.pool)
        .await
        .map_err(db(what))?
        .map_or(last.at_ms, |r| r.get(0));
        Ok(HealthRun {
            started_ms: Some(started),
            after_other: other_at.is_some(),
            newest,
        })
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
