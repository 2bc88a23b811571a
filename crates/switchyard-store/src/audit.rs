//! The audit log: who did what, to what, with which (redacted) parameters, and how it ended.

use serde::Serialize;
use sqlx::Row;
use switchyard_core::AppError;

use crate::error::{db, internal};
use crate::Store;

/// Parameter names whose values are never stored, whatever the caller passes.
const SECRET_KEYS: [&str; 6] = [
    "key",
    "token",
    "secret",
    "password",
    "authorization",
    "apikey",
];

/// An action to record. `params` is redacted again on the way in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub actor: String,
    pub profile_id: String,
    pub action: String,
    pub target: String,
    pub params: serde_json::Value,
    /// `started` while the action runs, then `ok` or the error code (`interrupted` when the app
    /// stopped before it ended).
    pub outcome: String,
    pub message: Option<String>,
    pub duration_ms: i64,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// Replace the value of every parameter whose name looks like a secret with "***".
pub fn redact(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let lower = k.to_ascii_lowercase().replace(['_', '-'], "");
                if SECRET_KEYS.iter().any(|s| lower.contains(s)) {
                    (k.clone(), serde_json::Value::String("***".into()))
                } else {
                    (k.clone(), redact(v))
                }
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
        serde_json::Value::Array(items) => items.iter().map(redact).collect(),
        other => other.clone(),
    }
}

impl Store {
    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<i64, AppError> {
        let params = serde_json::to_string(&redact(&entry.params))
            .map_err(|e| internal("Writing the audit log", e))?;
        let row = sqlx::query(
            "INSERT INTO audit_log (at_ms, actor, profile_id, action, target, params, outcome, message, duration_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        )
        .bind(entry.at_ms)
        .bind(&entry.actor)
        .bind(&entry.profile_id)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(params)
        .bind(&entry.outcome)
        .bind(&entry.message)
        .bind(entry.duration_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(db("Writing the audit log"))?;
        Ok(row.get(0))
    }

    /// Complete an entry written when its action started (outcome `started`) with how it ended.
    pub async fn finish_audit(
        &self,
        seq: i64,
        outcome: &str,
        message: Option<&str>,
        duration_ms: i64,
    ) -> Result<(), AppError> {
        sqlx::query("UPDATE audit_log SET outcome = ?, message = ?, duration_ms = ? WHERE seq = ?")
            .bind(outcome)
            .bind(message)
            .bind(duration_ms)
            .bind(seq)
            .execute(&self.pool)
            .await
            .map_err(db("Writing the audit log"))?;
        Ok(())
    }

    /// Entries still `started` when the app opens were cut off (the app stopped mid-action):
    /// mark them `interrupted`, saying so. Their number.
    pub async fn mark_interrupted_audits(&self) -> Result<u64, AppError> {
        let r = sqlx::query(
            "UPDATE audit_log SET outcome = 'interrupted',
                 message = 'Switchyard stopped before this action ended, so how it ended is unknown. Check what it changed (the history, the namespace) before doing it again.'
             WHERE outcome = 'started'",
        )
        .execute(&self.pool)
        .await
        .map_err(db("Writing the audit log"))?;
        Ok(r.rows_affected())
    }

    /// The newest `limit` entries of a profile, newest first.
    pub async fn audit_log(
        &self,
        profile_id: &str,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, AppError> {
        let rows = sqlx::query(
            "SELECT seq, at_ms, actor, profile_id, action, target, params, outcome, message, duration_ms
             FROM audit_log WHERE profile_id = ? ORDER BY at_ms DESC, seq DESC LIMIT ?",
        )
        .bind(profile_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the audit log"))?;
        rows.iter()
            .map(|r| {
                let params: String = r.get(6);
                Ok(AuditRecord {
                    seq: r.get(0),
                    entry: AuditEntry {
                        at_ms: r.get(1),
                        actor: r.get(2),
                        profile_id: r.get(3),
                        action: r.get(4),
                        target: r.get(5),
                        params: serde_json::from_str(&params)
                            .map_err(|e| internal("Reading the audit log", e))?,
                        outcome: r.get(7),
                        message: r.get(8),
                        duration_ms: r.get(9),
                    },
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::redact;
    use serde_json::json;

    #[test]
    fn redacts_secret_looking_parameters_at_any_depth() {
        let v = json!({"service": "gateway", "apiKey": "sk_live_1", "nested": {"CF_API_TOKEN": "t"},
                       "list": [{"password": "p", "ok": 1}]});
        let r = redact(&v);
        assert_eq!(r["service"], "gateway");
        assert_eq!(r["apiKey"], "***");
        assert_eq!(r["nested"]["CF_API_TOKEN"], "***");
        assert_eq!(r["list"][0]["password"], "***");
        assert_eq!(r["list"][0]["ok"], 1);
    }
}
