//! The Deploy API's deployment records.

use sqlx::{Sqlite, Transaction};

use super::rows::{DeploymentRow, NewDeployment};
use super::{format_time, Store, StoreError};

const DEPLOYMENT_COLUMNS: &str = "id, service, environment, tier, version, namespace, \
     namespace_mode, worker, status, timestamp, url, version_tag, metadata, bindings, \
     script_hash";

impl Store {
    // ---- deployments -----------------------------------------------------------------------

    pub async fn insert_deployment(&self, d: &NewDeployment) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        insert_deployment_in(&mut tx, d).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Newest first, optionally filtered, at most `limit`.
    pub async fn deployments(
        &self,
        service: Option<&str>,
        environment: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeploymentRow>, StoreError> {
        let sql = format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments \
             WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR environment = ?2) \
             ORDER BY timestamp_ms DESC, seq DESC LIMIT ?3"
        );
        Ok(sqlx::query_as(&sql)
            .bind(service)
            .bind(environment)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn deployment(&self, id: &str) -> Result<Option<DeploymentRow>, StoreError> {
        let sql = format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The two newest `deployed` records of a service in an environment.
    pub async fn newest_deployed(
        &self,
        service: &str,
        environment: &str,
    ) -> Result<Vec<DeploymentRow>, StoreError> {
        let sql = format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments \
             WHERE service = ? AND environment = ? AND status = 'deployed' \
             ORDER BY timestamp_ms DESC, seq DESC LIMIT 2"
        );
        Ok(sqlx::query_as(&sql)
            .bind(service)
            .bind(environment)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn set_deployment_status(&self, id: &str, status: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE deployments SET status = ? WHERE id = ?")
            .bind(status)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

pub async fn insert_deployment_in(
    tx: &mut Transaction<'static, Sqlite>,
    d: &NewDeployment,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO deployments (id, service, environment, tier, version, namespace, namespace_mode, worker, status, timestamp, timestamp_ms, url, version_tag, metadata, bindings, script_hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&d.id)
    .bind(&d.service)
    .bind(&d.environment)
    .bind(&d.tier)
    .bind(&d.version)
    .bind(&d.namespace)
    .bind(&d.namespace_mode)
    .bind(&d.worker)
    .bind(&d.status)
    .bind(format_time(d.timestamp))
    .bind(d.timestamp.timestamp_millis())
    .bind(&d.url)
    .bind(&d.version_tag)
    .bind(d.metadata.to_string())
    .bind(d.bindings.to_string())
    .bind(&d.script_hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
