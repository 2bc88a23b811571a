//! The audit log as the window reads it and exports it: a page of the entries a filter selects
//! (time range, profile or all, action, outcome, text), newest first, with their total; and
//! every matching entry as CSV or JSON. Parameters were redacted before they were stored, so
//! nothing here carries a key.

use chrono::{DateTime, SecondsFormat};
use serde::Serialize;
use switchyard_core::{AppError, AuditFilter, AuditOutcome};
use switchyard_store::AuditRecord;

use crate::Ops;

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AuditRow {
    /// The entry's number, in the order written.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub seq: i64,
    /// When the action started (epoch ms).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
    /// The OS user who ran it.
    pub actor: String,
    /// The profile it acted on; empty for app-wide actions (settings).
    pub profile_id: String,
    /// What was done, e.g. `deploy.apply`, `namespace.delete`, `secret.set`.
    pub action: String,
    /// What it was done to, e.g. `gateway/production`, a namespace, a profile.
    pub target: String,
    /// Its parameters, with anything named like a key or token replaced by `***`.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Unknown))]
    pub params: serde_json::Value,
    /// As recorded: `ok`, `started`, `interrupted`, or the error code (`Unreachable`…).
    pub outcome: String,
    /// The outcome's group: ok, error, started (still running) or interrupted.
    pub status: AuditOutcome,
    /// Why it failed or was interrupted, when it did.
    pub message: Option<String>,
    /// How long it took (0 while it runs).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub duration_ms: i64,
}

impl From<AuditRecord> for AuditRow {
    fn from(r: AuditRecord) -> Self {
        let e = r.entry;
        AuditRow {
            seq: r.seq,
            at_ms: e.at_ms,
            status: AuditOutcome::of(&e.outcome),
            actor: e.actor,
            profile_id: e.profile_id,
            action: e.action,
            target: e.target,
            params: e.params,
            outcome: e.outcome,
            message: e.message,
            duration_ms: e.duration_ms,
        }
    }
}

/// A page of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    /// The filter's page (its limit and offset), newest first.
    pub entries: Vec<AuditRow>,
    /// How many entries match the filter in all — or, when `total_exact` is false, at least
    /// this many (the count stopped 2,000 past the page; the filter's `exactCount` counts all).
    pub total: u32,
    pub total_exact: bool,
    /// Every action the log holds (any profile), in order: the action filter's choices.
    pub actions: Vec<String>,
}

/// The CSV columns, in order.
const CSV_COLUMNS: [&str; 10] = [
    "seq",
    "time",
    "actor",
    "profile",
    "action",
    "target",
    "outcome",
    "durationMs",
    "message",
    "params",
];

/// A time as RFC 3339, UTC, to the millisecond.
fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

impl Ops {
    /// A page of the audit entries `filter` selects, newest first, with how many match in all.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> Result<AuditPage, AppError> {
        let (records, total, total_exact) = self
            .store
            .audit_page_counted(filter, switchyard_store::COUNT_BOUND)
            .await?;
        let actions = self.store.audit_actions().await?;
        Ok(AuditPage {
            entries: records.into_iter().map(AuditRow::from).collect(),
            total: u32::try_from(total).unwrap_or(u32::MAX),
            total_exact,
            actions,
        })
    }

    /// Every entry `filter` selects (its limit and offset aside), newest first.
    async fn audit_export_rows(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>, AppError> {
        let all = AuditFilter {
            limit: None,
            offset: None,
            after: None,
            ..filter.clone()
        };
        Ok(self
            .store
            .query_audit(&all)
            .await?
            .into_iter()
            .map(AuditRow::from)
            .collect())
    }

    /// Records an export of the log once it is made, so the export does not hold its own entry
    /// (as "running").
    async fn audited_export(
        &self,
        filter: &AuditFilter,
        format: &str,
        made: Result<String, AppError>,
    ) -> Result<String, AppError> {
        let params = serde_json::to_value(filter).unwrap_or_default();
        let profile = filter.profile_id.clone().unwrap_or_default();
        self.audited(&profile, "audit.export", format, params, async { made })
            .await
    }

    /// Every entry `filter` selects as CSV: a header row, then one row per entry, newest first;
    /// times in RFC 3339 (UTC), parameters as compact JSON.
    pub async fn audit_csv(&self, filter: &AuditFilter) -> Result<String, AppError> {
        let made = async {
            let rows = self.audit_export_rows(filter).await?;
            let fail = |e: csv::Error| {
                tracing::error!(error = %e, "writing CSV failed");
                AppError::internal("Exporting the audit log as CSV")
            };
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(CSV_COLUMNS).map_err(fail)?;
            for r in &rows {
                let params = serde_json::to_string(&r.params)
                    .map_err(|_| AppError::internal("Exporting the audit log as CSV"))?;
                w.write_record([
                    r.seq.to_string().as_str(),
                    &rfc3339(r.at_ms),
                    &r.actor,
                    &r.profile_id,
                    &r.action,
                    &r.target,
                    &r.outcome,
                    &r.duration_ms.to_string(),
                    r.message.as_deref().unwrap_or(""),
                    &params,
                ])
                .map_err(fail)?;
            }
            let bytes = w
                .into_inner()
                .map_err(|_| AppError::internal("Exporting the audit log as CSV"))?;
            String::from_utf8(bytes)
                .map_err(|_| AppError::internal("Exporting the audit log as CSV"))
        }
        .await;
        self.audited_export(filter, "csv", made).await
    }

    /// Every entry `filter` selects as a pretty JSON array, newest first: each entry with its
    /// `time` (RFC 3339, UTC) beside `atMs`, and its parameters as an object.
    pub async fn audit_json(&self, filter: &AuditFilter) -> Result<String, AppError> {
        let made = async {
            let rows = self.audit_export_rows(filter).await?;
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "seq": r.seq,
                        "time": rfc3339(r.at_ms),
                        "atMs": r.at_ms,
                        "actor": r.actor,
                        "profileId": r.profile_id,
                        "action": r.action,
                        "target": r.target,
                        "outcome": r.outcome,
                        "status": r.status,
                        "durationMs": r.duration_ms,
                        "message": r.message,
                        "params": r.params,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&items)
                .map_err(|_| AppError::internal("Exporting the audit log as JSON"))
        }
        .await;
        self.audited_export(filter, "json", made).await
    }
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn times_are_rfc3339_in_utc_to_the_millisecond() {
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    }
}
