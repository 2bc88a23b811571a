//! The rows the store reads and the records it is given to write.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct NamespaceRow {
    pub name: String,
    pub namespace_id: String,
    pub created_on: String,
    pub modified_on: String,
    pub created_by: String,
    pub modified_by: String,
    pub trusted_workers: bool,
    pub script_count: i64,
}

/// One module of an uploaded script; its bytes are in `blobs` under `hash`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ModuleRef {
    pub name: String,
    pub content_type: String,
    pub hash: String,
    pub size: u64,
}

#[derive(Debug, Clone, FromRow)]
pub struct ScriptRow {
    pub namespace: String,
    pub name: String,
    pub tag: String,
    pub etag: String,
    pub created_on: String,
    pub modified_on: String,
    pub main_module: String,
    pub has_modules: bool,
    pub modules: String,
    pub settings: String,
    pub tags: String,
    pub deployment_id: String,
}

/// A JSON column as its type; a value that does not parse reads as empty.
fn parsed<T: serde::de::DeserializeOwned + Default>(column: &str) -> T {
    serde_json::from_str(column).unwrap_or_default()
}

impl ScriptRow {
    pub fn modules(&self) -> Vec<ModuleRef> {
        parsed(&self.modules)
    }
    pub fn settings(&self) -> serde_json::Map<String, serde_json::Value> {
        parsed(&self.settings)
    }
    pub fn tags(&self) -> Vec<String> {
        parsed(&self.tags)
    }
}

/// A script module with its bytes, as uploaded.
#[derive(Debug, Clone)]
pub struct ModuleUpload {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A complete script upload: what replaces the namespace's script of that name.
#[derive(Debug, Clone)]
pub struct ScriptUpload {
    pub modules: Vec<ModuleUpload>,
    pub main_module: String,
    pub has_modules: bool,
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub tags: Vec<String>,
}

/// One version of a namespace script: its code and settings as uploaded.
#[derive(Debug, Clone, FromRow)]
pub struct VersionRow {
    pub id: String,
    pub namespace: String,
    pub script: String,
    pub number: i64,
    pub created_on: String,
    pub etag: String,
    pub main_module: String,
    pub has_modules: bool,
    pub modules: String,
    pub settings: String,
    pub annotations: String,
    pub source: String,
}

impl VersionRow {
    pub fn modules(&self) -> Vec<ModuleRef> {
        parsed(&self.modules)
    }
    pub fn settings(&self) -> serde_json::Map<String, serde_json::Value> {
        parsed(&self.settings)
    }
    pub fn annotations(&self) -> serde_json::Map<String, serde_json::Value> {
        parsed(&self.annotations)
    }
}

/// One version of a deployment and its share of the traffic.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VersionShare {
    pub version_id: String,
    pub percentage: f64,
}

/// A deployment of a namespace script: which versions serve it, with what percentages.
#[derive(Debug, Clone, FromRow)]
pub struct ScriptDeploymentRow {
    pub id: String,
    pub created_on: String,
    pub source: String,
    pub strategy: String,
    pub versions: String,
    pub annotations: String,
    pub author_email: String,
}

impl ScriptDeploymentRow {
    pub fn versions(&self) -> Vec<VersionShare> {
        serde_json::from_str(&self.versions).unwrap_or_default()
    }
    pub fn annotations(&self) -> serde_json::Map<String, serde_json::Value> {
        parsed(&self.annotations)
    }
}

/// A deployment to create.
#[derive(Debug, Clone)]
pub struct NewScriptDeployment {
    pub source: String,
    pub strategy: String,
    pub versions: Vec<VersionShare>,
    pub annotations: serde_json::Map<String, serde_json::Value>,
    pub author_email: String,
}

/// Who the sandbox records as the author of versions and deployments.
pub const SANDBOX_AUTHOR: &str = "operator@sandbox.local";

#[derive(Debug, Clone, FromRow)]
pub struct DeploymentRow {
    pub id: String,
    pub service: String,
    pub environment: String,
    pub tier: Option<String>,
    pub version: Option<String>,
    pub namespace: String,
    pub namespace_mode: String,
    pub worker: String,
    pub status: String,
    pub timestamp: String,
    pub url: String,
    pub version_tag: String,
    pub metadata: String,
    pub bindings: String,
    pub script_hash: Option<String>,
}

/// A deployment record to insert (the `seq` is assigned by the database).
#[derive(Debug, Clone)]
pub struct NewDeployment {
    pub id: String,
    pub service: String,
    pub environment: String,
    pub tier: Option<String>,
    pub version: Option<String>,
    pub namespace: String,
    pub namespace_mode: String,
    pub worker: String,
    pub status: String,
    pub timestamp: DateTime<Utc>,
    pub url: String,
    pub version_tag: String,
    pub metadata: serde_json::Value,
    pub bindings: serde_json::Value,
    pub script_hash: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct PermissionRow {
    pub resource: String,
    pub action: String,
    pub granted_at: String,
}
