//! The deploy journal (see `migrations/0005_journal.sql`).

use serde::Serialize;
use sqlx::Row;
use switchyard_core::{AppError, Environment};

use crate::bundles::BundleUseKind;
use crate::error::{db, internal};
use crate::Store;

/// Where a journalled deploy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalStage {
    /// The bundle is archived; nothing was sent yet.
    Archived,
    /// The upload was sent; no answer yet.
    Uploading,
    /// The platform recorded it (`deployment_id` is set); the local history may not be yet.
    Uploaded,
    /// Recorded locally: the journal entry is closed.
    Done,
    /// The platform refused it: nothing changed.
    Failed,
}

impl JournalStage {
    pub fn as_str(self) -> &'static str {
        match self {
            JournalStage::Archived => "archived",
            JournalStage::Uploading => "uploading",
            JournalStage::Uploaded => "uploaded",
            JournalStage::Done => "done",
            JournalStage::Failed => "failed",
        }
    }

    fn parse(s: &str) -> JournalStage {
        match s {
            "uploading" => JournalStage::Uploading,
            "uploaded" => JournalStage::Uploaded,
            "done" => JournalStage::Done,
            "failed" => JournalStage::Failed,
            _ => JournalStage::Archived,
        }
    }
}

/// What a restart found out about an unfinished entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalResolution {
    /// The platform has it: the local history and archive were completed.
    Completed,
    /// It stopped before the upload: nothing was deployed.
    NotDeployed,
    /// The upload was sent and the platform has no record of it: whether it runs is unknown.
    Unknown,
}

impl JournalResolution {
    pub fn as_str(self) -> &'static str {
        match self {
            JournalResolution::Completed => "completed",
            JournalResolution::NotDeployed => "not_deployed",
            JournalResolution::Unknown => "unknown",
        }
    }

    fn parse(s: &str) -> Option<JournalResolution> {
        match s {
            "completed" => Some(JournalResolution::Completed),
            "not_deployed" => Some(JournalResolution::NotDeployed),
            "unknown" => Some(JournalResolution::Unknown),
            _ => None,
        }
    }
}

/// One journalled deploy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    pub run_id: String,
    pub profile_id: String,
    pub kind: BundleUseKind,
    pub service: String,
    pub environment: Environment,
    pub sha256: String,
    pub metadata: serde_json::Value,
    pub bindings: serde_json::Value,
    pub started_ms: i64,
    pub stage: JournalStage,
    pub deployment_id: Option<String>,
    pub updated_ms: i64,
    pub resolution: Option<JournalResolution>,
    pub resolution_detail: Option<String>,
}

const COLUMNS: &str =
    "run_id, profile_id, kind, service, environment, sha256, metadata, bindings, \
     started_ms, stage, deployment_id, updated_ms, resolution, resolution_detail";

fn entry_of(r: &sqlx::sqlite::SqliteRow) -> Result<JournalEntry, AppError> {
    let json = |i: usize| -> Result<serde_json::Value, AppError> {
        let text: String = r.get(i);
        serde_json::from_str(&text).map_err(|e| internal("Reading the deploy journal", e))
    };
    let environment: String = r.get(4);
    let kind: String = r.get(2);
    Ok(JournalEntry {
        run_id: r.get(0),
        profile_id: r.get(1),
        kind: BundleUseKind::parse(&kind),
        service: r.get(3),
        environment: environment
            .parse()
            .map_err(|_| internal("Reading the deploy journal", environment.clone()))?,
        sha256: r.get(5),
        metadata: json(6)?,
        bindings: json(7)?,
        started_ms: r.get(8),
        stage: JournalStage::parse(r.get::<String, _>(9).as_str()),
        deployment_id: r.get(10),
        updated_ms: r.get(11),
        resolution: r
            .get::<Option<String>, _>(12)
            .as_deref()
            .and_then(JournalResolution::parse),
        resolution_detail: r.get(13),
    })
}

impl Store {
    /// Write a new entry (stage `archived`), committed before anything is sent.
    pub async fn journal_begin(&self, e: &JournalEntry) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO deploy_journal (run_id, profile_id, kind, service, environment, sha256, metadata, bindings, started_ms, stage, deployment_id, updated_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&e.run_id)
        .bind(&e.profile_id)
        .bind(e.kind.as_str())
        .bind(&e.service)
        .bind(e.environment.as_str())
        .bind(&e.sha256)
        .bind(e.metadata.to_string())
        .bind(e.bindings.to_string())
        .bind(e.started_ms)
        .bind(e.stage.as_str())
        .bind(&e.deployment_id)
        .bind(e.updated_ms)
        .execute(&self.pool)
        .await
        .map_err(db("Writing the deploy journal"))?;
        Ok(())
    }

    /// Move an entry on (and record the platform's deployment id once known).
    pub async fn journal_stage(
        &self,
        run_id: &str,
        stage: JournalStage,
        deployment_id: Option<&str>,
        now_ms: i64,
    ) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE deploy_journal SET stage = ?, deployment_id = COALESCE(?, deployment_id), updated_ms = ? WHERE run_id = ?",
        )
        .bind(stage.as_str())
        .bind(deployment_id)
        .bind(now_ms)
        .bind(run_id)
        .execute(&self.pool)
        .await
        .map_err(db("Writing the deploy journal"))?;
        Ok(())
    }

    /// Entries a crash left unfinished and no restart has resolved yet.
    pub async fn journal_unresolved(&self) -> Result<Vec<JournalEntry>, AppError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM deploy_journal
             WHERE stage IN ('archived', 'uploading', 'uploaded') AND resolution IS NULL
             ORDER BY started_ms"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the deploy journal"))?;
        rows.iter().map(entry_of).collect()
    }

    /// Say what a restart found out about an unfinished entry.
    pub async fn journal_resolve(
        &self,
        run_id: &str,
        resolution: JournalResolution,
        detail: &str,
        deployment_id: Option<&str>,
        now_ms: i64,
    ) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE deploy_journal SET resolution = ?, resolution_detail = ?, deployment_id = COALESCE(?, deployment_id), updated_ms = ? WHERE run_id = ?",
        )
        .bind(resolution.as_str())
        .bind(detail)
        .bind(deployment_id)
        .bind(now_ms)
        .bind(run_id)
        .execute(&self.pool)
        .await
        .map_err(db("Writing the deploy journal"))?;
        Ok(())
    }

    /// Resolved entries of a profile the operator has not dismissed yet, newest first.
    pub async fn journal_notices(&self, profile_id: &str) -> Result<Vec<JournalEntry>, AppError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM deploy_journal
             WHERE profile_id = ? AND resolution IS NOT NULL AND acknowledged = 0
             ORDER BY started_ms DESC"
        ))
        .bind(profile_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the deploy journal"))?;
        rows.iter().map(entry_of).collect()
    }

    /// The operator read a notice; true if there was one.
    pub async fn journal_acknowledge(&self, run_id: &str) -> Result<bool, AppError> {
        let r = sqlx::query("UPDATE deploy_journal SET acknowledged = 1 WHERE run_id = ? AND resolution IS NOT NULL")
            .bind(run_id)
            .execute(&self.pool)
            .await
            .map_err(db("Writing the deploy journal"))?;
        Ok(r.rows_affected() > 0)
    }

    /// Bundles an unfinished or uncertain journal entry uses: retention never prunes them.
    pub async fn journal_protected_bundles(&self) -> Result<Vec<String>, AppError> {
        let rows = sqlx::query(
            "SELECT DISTINCT sha256 FROM deploy_journal
             WHERE (stage IN ('archived', 'uploading', 'uploaded') AND (resolution IS NULL OR resolution <> 'not_deployed'))",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the deploy journal"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
