//! Small app-wide settings, as text values by key.

use sqlx::Row;
use switchyard_core::AppError;

use crate::error::db;
use crate::Store;

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<String>, AppError> {
        let row = sqlx::query("SELECT value FROM app_settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("Reading a setting"))?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Every setting whose key starts with `prefix`.
    pub async fn settings_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, AppError> {
        let rows = sqlx::query("SELECT key, value FROM app_settings WHERE substr(key, 1, ?) = ?")
            .bind(prefix.chars().count() as i64)
            .bind(prefix)
            .fetch_all(&self.pool)
            .await
            .map_err(db("Reading settings"))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub async fn delete_setting(&self, key: &str) -> Result<(), AppError> {
        sqlx::query("DELETE FROM app_settings WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db("Removing a setting"))?;
        Ok(())
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO app_settings (key, value) VALUES (?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(db("Saving a setting"))?;
        Ok(())
    }
}
