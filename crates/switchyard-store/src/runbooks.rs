//! Runbook runs: the run, its steps (state, output, outcome, who/when), its manual checks and its
//! timeline of events. Every change of a run is one transaction, so a run read back after a crash
//! is always one the engine wrote; output is appended as it streams.

use serde::Serialize;
use sqlx::Row;
use switchyard_core::AppError;

use crate::error::db;
use crate::Store;

/// A run to create, with its steps and their checks.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub id: String,
    pub profile_id: String,
    pub runbook: String,
    pub runbook_hash: String,
    pub title: String,
    pub rehearsal: bool,
    pub started_ms: i64,
    pub started_by: String,
    pub inputs: serde_json::Value,
    pub source: String,
    pub steps: Vec<NewRunStep>,
}

#[derive(Debug, Clone)]
pub struct NewRunStep {
    pub step_index: u32,
    pub step_id: String,
    pub title: String,
    pub checks: Vec<String>,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    pub id: String,
    pub profile_id: String,
    pub runbook: String,
    pub runbook_hash: String,
    pub title: String,
    /// running | finished | abandoned
    pub state: String,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    pub rehearsal: bool,
    pub started_by: String,
    pub finished_by: Option<String>,
    pub end_reason: Option<String>,
    pub inputs: serde_json::Value,
    pub source: String,
}

/// A step of a stored run. Written whole by [`RunChanges`] (output excepted: it is appended).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunStepRecord {
    pub step_index: u32,
    pub step_id: String,
    pub title: String,
    /// pending | running | passed | failed | skipped | interrupted
    pub state: String,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    /// How the last action attempt ended: passed | failed.
    pub outcome: Option<String>,
    pub skip_reason: Option<String>,
    pub skipped_by_condition: bool,
    pub attempts: u32,
    /// The last action's parameters.
    pub params: Option<serde_json::Value>,
    pub error: Option<String>,
    pub actor: Option<String>,
    /// Read only: the output of every attempt, appended as it streamed.
    pub output: String,
    /// Read only: the step's checks.
    pub checks: Vec<RunCheckRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunCheckRecord {
    pub check_index: u32,
    pub text: String,
    pub checked: bool,
    pub at_ms: Option<i64>,
    pub actor: Option<String>,
}

/// A manual check ticked or unticked.
#[derive(Debug, Clone)]
pub struct CheckUpdate {
    pub step_index: u32,
    pub check_index: u32,
    pub checked: bool,
    pub at_ms: i64,
    pub actor: String,
}

/// The run's own state changing (finished, abandoned, marked as a rehearsal).
#[derive(Debug, Clone)]
pub struct RunUpdate {
    pub state: String,
    pub finished_ms: Option<i64>,
    pub finished_by: Option<String>,
    pub end_reason: Option<String>,
    pub rehearsal: bool,
}

/// An event of a run's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewRunEvent {
    pub step_index: Option<u32>,
    pub at_ms: i64,
    pub actor: String,
    pub kind: String,
    pub message: String,
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunEventRecord {
    pub seq: i64,
    #[serde(flatten)]
    pub event: NewRunEvent,
}

/// Everything one engine operation changes in a run, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct RunChanges {
    pub steps: Vec<RunStepRecord>,
    pub checks: Vec<CheckUpdate>,
    pub run: Option<RunUpdate>,
    pub events: Vec<NewRunEvent>,
}

fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

impl Store {
    /// Create a run with its steps, checks and first event.
    pub async fn create_run(&self, run: &NewRun, event: &NewRunEvent) -> Result<(), AppError> {
        let what = "Starting the runbook run";
        let mut tx = self.pool.begin().await.map_err(db(what))?;
        sqlx::query(
            "INSERT INTO runbook_runs (id, profile_id, runbook, runbook_hash, title, state, started_ms, rehearsal, started_by, inputs, source)
             VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)",
        )
        .bind(&run.id)
        .bind(&run.profile_id)
        .bind(&run.runbook)
        .bind(&run.runbook_hash)
        .bind(&run.title)
        .bind(run.started_ms)
        .bind(run.rehearsal)
        .bind(&run.started_by)
        .bind(json_text(&run.inputs))
        .bind(&run.source)
        .execute(&mut *tx)
        .await
        .map_err(db(what))?;
        for step in &run.steps {
            sqlx::query(
                "INSERT INTO runbook_steps (run_id, step_index, step_id, title, state, output) VALUES (?, ?, ?, ?, 'pending', '')",
            )
            .bind(&run.id)
            .bind(i64::from(step.step_index))
            .bind(&step.step_id)
            .bind(&step.title)
            .execute(&mut *tx)
            .await
            .map_err(db(what))?;
            for (i, text) in step.checks.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO runbook_checks (run_id, step_index, check_index, text) VALUES (?, ?, ?, ?)",
                )
                .bind(&run.id)
                .bind(i64::from(step.step_index))
                .bind(i as i64)
                .bind(text)
                .execute(&mut *tx)
                .await
                .map_err(db(what))?;
            }
        }
        insert_event(&mut tx, &run.id, event, what).await?;
        tx.commit().await.map_err(db(what))
    }

    /// Apply one operation's changes to a run, all or nothing.
    pub async fn apply_run_changes(
        &self,
        run_id: &str,
        changes: &RunChanges,
    ) -> Result<(), AppError> {
        let what = "Saving the runbook run";
        let mut tx = self.pool.begin().await.map_err(db(what))?;
        for s in &changes.steps {
            sqlx::query(
                "UPDATE runbook_steps SET state = ?, started_ms = ?, finished_ms = ?, outcome = ?, skip_reason = ?,
                    skipped_by_condition = ?, attempts = ?, params = ?, error = ?, actor = ?
                 WHERE run_id = ? AND step_index = ?",
            )
            .bind(&s.state)
            .bind(s.started_ms)
            .bind(s.finished_ms)
            .bind(&s.outcome)
            .bind(&s.skip_reason)
            .bind(s.skipped_by_condition)
            .bind(i64::from(s.attempts))
            .bind(s.params.as_ref().map(json_text))
            .bind(&s.error)
            .bind(&s.actor)
            .bind(run_id)
            .bind(i64::from(s.step_index))
            .execute(&mut *tx)
            .await
            .map_err(db(what))?;
        }
        for c in &changes.checks {
            sqlx::query(
                "UPDATE runbook_checks SET checked = ?, at_ms = ?, actor = ? WHERE run_id = ? AND step_index = ? AND check_index = ?",
            )
            .bind(c.checked)
            .bind(c.at_ms)
            .bind(&c.actor)
            .bind(run_id)
            .bind(i64::from(c.step_index))
            .bind(i64::from(c.check_index))
            .execute(&mut *tx)
            .await
            .map_err(db(what))?;
        }
        if let Some(r) = &changes.run {
            sqlx::query(
                "UPDATE runbook_runs SET state = ?, finished_ms = ?, finished_by = ?, end_reason = ?, rehearsal = ? WHERE id = ?",
            )
            .bind(&r.state)
            .bind(r.finished_ms)
            .bind(&r.finished_by)
            .bind(&r.end_reason)
            .bind(r.rehearsal)
            .bind(run_id)
            .execute(&mut *tx)
            .await
            .map_err(db(what))?;
        }
        for e in &changes.events {
            insert_event(&mut tx, run_id, e, what).await?;
        }
        tx.commit().await.map_err(db(what))
    }

    /// Append streamed output to a step.
    pub async fn append_step_output(
        &self,
        run_id: &str,
        step_index: u32,
        text: &str,
    ) -> Result<(), AppError> {
        sqlx::query("UPDATE runbook_steps SET output = COALESCE(output, '') || ? WHERE run_id = ? AND step_index = ?")
            .bind(text)
            .bind(run_id)
            .bind(i64::from(step_index))
            .execute(&self.pool)
            .await
            .map_err(db("Saving a step's output"))?;
        Ok(())
    }

    /// Runs, newest first: of one profile, or of all.
    pub async fn runs(&self, profile_id: Option<&str>) -> Result<Vec<RunRecord>, AppError> {
        let rows = sqlx::query(
            "SELECT id, profile_id, runbook, runbook_hash, title, state, started_ms, finished_ms, rehearsal,
                    started_by, finished_by, end_reason, inputs, source
             FROM runbook_runs WHERE (? IS NULL OR profile_id = ?) ORDER BY started_ms DESC, id DESC",
        )
        .bind(profile_id)
        .bind(profile_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the runbook runs"))?;
        Ok(rows.iter().map(run_record).collect())
    }

    /// The runs of a profile that were under way at some time in `[from_ms, to_ms)` (started
    /// before its end, not finished before its start), newest first: a window's runs, without
    /// reading every run the profile ever had.
    pub async fn runs_in(
        &self,
        profile_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<RunRecord>, AppError> {
        let rows = sqlx::query(
            "SELECT id, profile_id, runbook, runbook_hash, title, state, started_ms, finished_ms, rehearsal,
                    started_by, finished_by, end_reason, inputs, source
             FROM runbook_runs
             WHERE profile_id = ? AND started_ms < ? AND (finished_ms IS NULL OR finished_ms >= ?)
             ORDER BY started_ms DESC, id DESC",
        )
        .bind(profile_id)
        .bind(to_ms)
        .bind(from_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the runbook runs"))?;
        Ok(rows.iter().map(run_record).collect())
    }

    /// One run, if it exists.
    pub async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, AppError> {
        let row = sqlx::query(
            "SELECT id, profile_id, runbook, runbook_hash, title, state, started_ms, finished_ms, rehearsal,
                    started_by, finished_by, end_reason, inputs, source
             FROM runbook_runs WHERE id = ?",
        )
        .bind(run_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("Reading a runbook run"))?;
        Ok(row.as_ref().map(run_record))
    }

    /// A run's steps in order, with their output and checks.
    pub async fn run_steps(&self, run_id: &str) -> Result<Vec<RunStepRecord>, AppError> {
        let what = "Reading a runbook run's steps";
        let rows = sqlx::query(
            "SELECT step_index, step_id, title, state, started_ms, finished_ms, outcome, skip_reason, skipped_by_condition,
                    attempts, params, error, actor, COALESCE(output, '')
             FROM runbook_steps WHERE run_id = ? ORDER BY step_index",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db(what))?;
        let checks = sqlx::query(
            "SELECT step_index, check_index, text, checked, at_ms, actor FROM runbook_checks
             WHERE run_id = ? ORDER BY step_index, check_index",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db(what))?;
        let mut steps: Vec<RunStepRecord> = rows
            .iter()
            .map(|r| RunStepRecord {
                step_index: r.get::<i64, _>(0) as u32,
                step_id: r.get(1),
                title: r.get(2),
                state: r.get(3),
                started_ms: r.get(4),
                finished_ms: r.get(5),
                outcome: r.get(6),
                skip_reason: r.get(7),
                skipped_by_condition: r.get(8),
                attempts: r.get::<i64, _>(9) as u32,
                params: r
                    .get::<Option<String>, _>(10)
                    .and_then(|t| serde_json::from_str(&t).ok()),
                error: r.get(11),
                actor: r.get(12),
                output: r.get(13),
                checks: Vec::new(),
            })
            .collect();
        for c in &checks {
            let step_index = c.get::<i64, _>(0) as usize;
            if let Some(step) = steps.get_mut(step_index) {
                step.checks.push(RunCheckRecord {
                    check_index: c.get::<i64, _>(1) as u32,
                    text: c.get(2),
                    checked: c.get(3),
                    at_ms: c.get(4),
                    actor: c.get(5),
                });
            }
        }
        Ok(steps)
    }

    /// A run's timeline, oldest first.
    pub async fn run_events(&self, run_id: &str) -> Result<Vec<RunEventRecord>, AppError> {
        let rows = sqlx::query(
            "SELECT seq, step_index, at_ms, actor, kind, message, data FROM runbook_events WHERE run_id = ? ORDER BY seq",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading a runbook run's timeline"))?;
        Ok(rows
            .iter()
            .map(|r| RunEventRecord {
                seq: r.get(0),
                event: NewRunEvent {
                    step_index: r.get::<Option<i64>, _>(1).map(|i| i as u32),
                    at_ms: r.get(2),
                    actor: r.get(3),
                    kind: r.get(4),
                    message: r.get(5),
                    data: r
                        .get::<Option<String>, _>(6)
                        .and_then(|t| serde_json::from_str(&t).ok()),
                },
            })
            .collect())
    }
}

async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    run_id: &str,
    e: &NewRunEvent,
    what: &'static str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO runbook_events (run_id, step_index, at_ms, actor, kind, message, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(run_id)
    .bind(e.step_index.map(i64::from))
    .bind(e.at_ms)
    .bind(&e.actor)
    .bind(&e.kind)
    .bind(&e.message)
    .bind(e.data.as_ref().map(json_text))
    .execute(&mut **tx)
    .await
    .map_err(db(what))?;
    Ok(())
}

fn run_record(r: &sqlx::sqlite::SqliteRow) -> RunRecord {
    RunRecord {
        id: r.get(0),
        profile_id: r.get(1),
        runbook: r.get(2),
        runbook_hash: r.get(3),
        title: r.get(4),
        state: r.get(5),
        started_ms: r.get(6),
        finished_ms: r.get(7),
        rehearsal: r.get(8),
        started_by: r.get(9),
        finished_by: r.get(10),
        end_reason: r.get(11),
        inputs: serde_json::from_str(&r.get::<String, _>(12)).unwrap_or(serde_json::Value::Null),
        source: r.get(13),
    }
}
