//! Versions and deployments of a worker in a dispatch namespace (Workers for Platforms
//! versioning): upload a version without moving traffic, list and read versions, split traffic
//! between at most two versions by percentage, list deployments (the active one first).
//! Paths under `/accounts/{account}/workers/dispatch/namespaces/{ns}/scripts/{script}/versions`
//! and `…/deployments`, as on a real Cloudflare account; same token, envelope and error mapping as
//! [`CloudflareApi`].

use reqwest::Method;
use serde::{Deserialize, Serialize};
use switchyard_core::AppError;

use crate::cloudflare::{seg, CloudflareApi};

/// Who made a version and when.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct VersionMetadata {
    #[serde(default)]
    pub author_email: Option<String>,
    #[serde(default)]
    pub author_id: Option<String>,
    #[serde(default)]
    pub created_on: Option<String>,
    #[serde(default)]
    pub modified_on: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A version of a worker. Lists carry `id`, `number`, `metadata` and `annotations`; a single
/// version also carries its `resources` (bindings, script, runtime settings).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct WorkerVersion {
    pub id: String,
    #[serde(default)]
    pub number: Option<u64>,
    #[serde(default)]
    pub metadata: VersionMetadata,
    /// `workers/message`, `workers/tag`, `workers/triggered_by`.
    #[serde(default)]
    pub annotations: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub resources: Option<serde_json::Value>,
}

impl WorkerVersion {
    /// The version's message (`annotations["workers/message"]`), if it has one.
    pub fn message(&self) -> Option<&str> {
        self.annotations
            .get("workers/message")
            .and_then(serde_json::Value::as_str)
    }
}

/// One version of a deployment and its share of the traffic (0 to 100).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct VersionSplit {
    pub version_id: String,
    pub percentage: f64,
}

impl VersionSplit {
    pub fn new(version_id: impl Into<String>, percentage: f64) -> Self {
        VersionSplit {
            version_id: version_id.into(),
            percentage,
        }
    }
}

/// A deployment: which versions serve the worker, with what percentages.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct WorkerDeployment {
    pub id: String,
    #[serde(default)]
    pub created_on: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub strategy: Option<String>,
    pub versions: Vec<VersionSplit>,
    #[serde(default)]
    pub annotations: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub author_email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct VersionItems {
    #[serde(default)]
    items: Vec<WorkerVersion>,
}

#[derive(Debug, Deserialize)]
struct DeploymentItems {
    #[serde(default)]
    deployments: Vec<WorkerDeployment>,
}

/// Versions asked for per page (the most Cloudflare gives).
const VERSIONS_PER_PAGE: usize = 100;
/// Upper bound on pages followed, so a server that never runs out cannot loop us.
const MAX_VERSION_PAGES: usize = 1000;

/// The versions API of one account, over a [`CloudflareApi`] (same token, base URL and errors).
#[derive(Debug, Clone)]
pub struct WorkerVersionsApi {
    cf: CloudflareApi,
}

impl WorkerVersionsApi {
    pub fn new(cf: CloudflareApi) -> Self {
        WorkerVersionsApi { cf }
    }

    fn url(&self, namespace: &str, script: &str, rest: &str) -> String {
        format!(
            "{}/accounts/{}/workers/dispatch/namespaces/{}/scripts/{}{rest}",
            self.cf.base_url(),
            self.cf.account_id(),
            seg(namespace),
            seg(script)
        )
    }

    /// Uploads an ES-module bundle as a new version of an existing worker, without moving traffic.
    /// `metadata` is a script upload's (`bindings`, `compatibility_date`…; `main_module` is set to
    /// `module_name`); `message` becomes `annotations["workers/message"]`. Returns the version id.
    pub async fn upload_version(
        &self,
        namespace: &str,
        script: &str,
        module_name: &str,
        source: Vec<u8>,
        metadata: &serde_json::Value,
        message: Option<&str>,
    ) -> Result<String, AppError> {
        let what = format!("Uploading a version of worker {script} to {namespace}");
        let mut metadata =
            match metadata {
                serde_json::Value::Object(m) => m.clone(),
                serde_json::Value::Null => serde_json::Map::new(),
                _ => return Err(AppError::invalid_input(
                    "A version's metadata must be a JSON object (bindings, compatibility_date…).",
                )),
            };
        metadata.insert("main_module".into(), serde_json::json!(module_name));
        if let Some(m) = message {
            let annotations = metadata
                .entry("annotations")
                .or_insert_with(|| serde_json::json!({}));
            if let serde_json::Value::Object(a) = annotations {
                a.insert("workers/message".into(), serde_json::json!(m));
            }
        }
        let meta = reqwest::multipart::Part::text(serde_json::Value::Object(metadata).to_string())
            .mime_str("application/json")
            .map_err(|_| AppError::internal("Preparing the upload"))?;
        let module = reqwest::multipart::Part::bytes(source)
            .file_name(module_name.to_owned())
            .mime_str("application/javascript+module")
            .map_err(|_| AppError::internal("Preparing the upload"))?;
        let form = reqwest::multipart::Form::new()
            .part("metadata", meta)
            .part(module_name.to_owned(), module);
        let url = self.url(namespace, script, "/versions");
        let req = self.cf.request(Method::POST, &url).multipart(form);
        let (version, _): (WorkerVersion, _) = self.cf.call(&what, req).await?;
        Ok(version.id)
    }

    /// Every version of a worker, newest first (all pages).
    pub async fn list_versions(
        &self,
        namespace: &str,
        script: &str,
    ) -> Result<Vec<WorkerVersion>, AppError> {
        let what = format!("Listing the versions of worker {script} in {namespace}");
        let url = self.url(namespace, script, "/versions");
        let mut all = Vec::new();
        for page in 1..=MAX_VERSION_PAGES {
            let req = self.cf.request(Method::GET, &url).query(&[
                ("page", page.to_string()),
                ("per_page", VERSIONS_PER_PAGE.to_string()),
            ]);
            let (items, _): (VersionItems, _) = self.cf.call(&what, req).await?;
            let n = items.items.len();
            all.extend(items.items);
            if n < VERSIONS_PER_PAGE {
                break;
            }
        }
        Ok(all)
    }

    /// One version, with its resources.
    pub async fn get_version(
        &self,
        namespace: &str,
        script: &str,
        version_id: &str,
    ) -> Result<WorkerVersion, AppError> {
        let what = format!("Reading version {version_id} of worker {script} in {namespace}");
        let url = self.url(namespace, script, &format!("/versions/{}", seg(version_id)));
        Ok(self
            .cf
            .call(&what, self.cf.request(Method::GET, &url))
            .await?
            .0)
    }

    /// Splits the worker's traffic between `versions` (at most two, percentages adding up to 100;
    /// 0 % makes a version reachable only by override). It serves from the next request on.
    pub async fn create_deployment(
        &self,
        namespace: &str,
        script: &str,
        versions: &[VersionSplit],
        message: Option<&str>,
    ) -> Result<WorkerDeployment, AppError> {
        let what = format!("Deploying versions of worker {script} in {namespace}");
        let mut body = serde_json::json!({ "strategy": "percentage", "versions": versions });
        if let Some(m) = message {
            body["annotations"] = serde_json::json!({ "workers/message": m });
        }
        let url = self.url(namespace, script, "/deployments");
        let req = self.cf.request(Method::POST, &url).json(&body);
        Ok(self.cf.call(&what, req).await?.0)
    }

    /// The worker's deployments, newest first: the first is the one serving traffic.
    pub async fn list_deployments(
        &self,
        namespace: &str,
        script: &str,
    ) -> Result<Vec<WorkerDeployment>, AppError> {
        let what = format!("Listing the deployments of worker {script} in {namespace}");
        let url = self.url(namespace, script, "/deployments");
        let (items, _): (DeploymentItems, _) = self
            .cf
            .call(&what, self.cf.request(Method::GET, &url))
            .await?;
        Ok(items.deployments)
    }
}
