//! Export the cached history (filtered as in the Deployments view) as CSV or JSON text.

use std::collections::HashMap;

use switchyard_core::AppError;
use switchyard_store::DeploymentFilter;

use super::archive::ArchivedBundle;
use crate::Ops;

/// The CSV columns, in order.
const COLUMNS: [&str; 15] = [
    "id",
    "service",
    "environment",
    "status",
    "versionTag",
    "version",
    "commit",
    "branch",
    "author",
    "timestamp",
    "url",
    "namespace",
    "tier",
    "bundleSha256",
    "bundleSizeBytes",
];

impl Ops {
    async fn export_rows(
        &self,
        profile_id: &str,
        filter: &DeploymentFilter,
    ) -> Result<
        (
            Vec<switchyard_core::Deployment>,
            HashMap<String, ArchivedBundle>,
        ),
        AppError,
    > {
        let page = self.history(profile_id, filter).await?;
        let bundles = self
            .archived_bundles(profile_id)
            .await?
            .into_iter()
            .map(|b| (b.deployment_id.clone(), b))
            .collect();
        Ok((page.deployments, bundles))
    }

    /// The cached history matching `filter` as CSV (header row first; bundle hash and size
    /// filled for archived rows).
    pub async fn export_history_csv(
        &self,
        profile_id: &str,
        filter: &DeploymentFilter,
    ) -> Result<String, AppError> {
        let params = serde_json::to_value(filter).unwrap_or_default();
        self.audited(profile_id, "history.export", "csv", params, async {
            let (rows, bundles) = self.export_rows(profile_id, filter).await?;
            let fail = |e: csv::Error| {
                tracing::error!(error = %e, "writing CSV failed");
                AppError::internal("Exporting the history as CSV")
            };
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(COLUMNS).map_err(fail)?;
            for d in &rows {
                let b = bundles.get(&d.id);
                w.write_record([
                    d.id.as_str(),
                    d.service.as_str(),
                    d.environment.as_str(),
                    d.status.as_str(),
                    d.version_tag.as_deref().unwrap_or(""),
                    d.version.as_deref().unwrap_or(""),
                    d.metadata.commit.as_str(),
                    d.metadata.branch.as_str(),
                    d.metadata.author.as_str(),
                    d.timestamp.as_str(),
                    d.url.as_deref().unwrap_or(""),
                    d.namespace.as_deref().unwrap_or(""),
                    d.tier.as_deref().unwrap_or(""),
                    b.map(|b| b.sha256.as_str()).unwrap_or(""),
                    &b.map(|b| b.size_bytes.to_string()).unwrap_or_default(),
                ])
                .map_err(fail)?;
            }
            let bytes = w
                .into_inner()
                .map_err(|_| AppError::internal("Exporting the history as CSV"))?;
            String::from_utf8(bytes).map_err(|_| AppError::internal("Exporting the history as CSV"))
        })
        .await
    }

    /// The cached history matching `filter` as a pretty JSON array of deployment records, each
    /// with `bundle: {sha256, sizeBytes, kind, available} | null`.
    pub async fn export_history_json(
        &self,
        profile_id: &str,
        filter: &DeploymentFilter,
    ) -> Result<String, AppError> {
        let params = serde_json::to_value(filter).unwrap_or_default();
        self.audited(profile_id, "history.export", "json", params, async {
            let (rows, bundles) = self.export_rows(profile_id, filter).await?;
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|d| {
                    let mut v = serde_json::to_value(d).unwrap_or_default();
                    if let Some(m) = v.as_object_mut() {
                        m.insert(
                            "bundle".into(),
                            bundles
                                .get(&d.id)
                                .map(|b| {
                                    serde_json::json!({
                                        "sha256": b.sha256, "sizeBytes": b.size_bytes,
                                        "kind": b.kind, "available": b.available,
                                    })
                                })
                                .unwrap_or(serde_json::Value::Null),
                        );
                    }
                    v
                })
                .collect();
            serde_json::to_string_pretty(&items)
                .map_err(|_| AppError::internal("Exporting the history as JSON"))
        })
        .await
    }
}
