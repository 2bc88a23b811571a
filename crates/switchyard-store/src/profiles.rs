//! Profiles, stored as JSON settings per id. Kept in SQLite rather than a TOML file so a profile
//! change and the records that reference it live in one transactional file; profiles are still
//! exported and imported as TOML by the ops layer.

use sqlx::Row;
use switchyard_core::{AppError, ErrorCode, Profile};

use crate::error::{db, internal};
use crate::Store;

impl Store {
    pub async fn list_profiles(&self) -> Result<Vec<Profile>, AppError> {
        let rows = sqlx::query("SELECT settings FROM profiles ORDER BY name COLLATE NOCASE, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db("Reading profiles"))?;
        rows.iter()
            .map(|r| {
                let json: String = r.get(0);
                serde_json::from_str(&json).map_err(|e| internal("Reading a profile", e))
            })
            .collect()
    }

    pub async fn get_profile(&self, id: &str) -> Result<Profile, AppError> {
        let row = sqlx::query("SELECT settings FROM profiles WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("Reading a profile"))?
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NotFound,
                    format!("There is no profile \"{id}\". Pick one from the profile list."),
                )
            })?;
        let json: String = row.get(0);
        serde_json::from_str(&json).map_err(|e| internal("Reading a profile", e))
    }

    /// Insert or replace a profile.
    pub async fn save_profile(&self, profile: &Profile, now_ms: i64) -> Result<(), AppError> {
        let json = serde_json::to_string(profile).map_err(|e| internal("Saving a profile", e))?;
        sqlx::query(
            "INSERT INTO profiles (id, name, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, settings = excluded.settings,
             updated_at = excluded.updated_at",
        )
        .bind(&profile.id)
        .bind(&profile.name)
        .bind(json)
        .bind(now_ms)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(db("Saving a profile"))?;
        Ok(())
    }

    /// Delete a profile; its cached history goes with it.
    pub async fn delete_profile(&self, id: &str) -> Result<(), AppError> {
        let mut tx = self.pool.begin().await.map_err(db("Deleting a profile"))?;
        for sql in [
            "DELETE FROM deployments WHERE profile_id = ?",
            "DELETE FROM deployment_status_changes WHERE profile_id = ?",
            "DELETE FROM sync_windows WHERE profile_id = ?",
            "DELETE FROM health_samples WHERE profile_id = ?",
            "DELETE FROM health_buckets WHERE profile_id = ?",
            "DELETE FROM profiles WHERE id = ?",
        ] {
            sqlx::query(sql)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db("Deleting a profile"))?;
        }
        tx.commit().await.map_err(db("Deleting a profile"))?;
        Ok(())
    }
}
