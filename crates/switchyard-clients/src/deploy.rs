//! The Deploy API (`deploy.do`): deploy, rollback, list, health, info.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use switchyard_core::{
    AppError, Deployment, DeploymentMetadata, Environment, ErrorCode, RunbookSection, Secret,
};

use crate::http::{retry_after, HttpClient};

/// `POST /deploy` body, as the runbook sends it.
#[derive(Debug, Clone, Serialize)]
pub struct DeployRequest {
    pub service: String,
    pub environment: Environment,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Deploys worker `<service>-<version>` when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Base64 of `dist/index.js`.
    pub script: String,
    pub bindings: BTreeMap<String, String>,
    pub metadata: DeploymentMetadata,
}

/// A `POST /deploy` body built from the bundle's bytes: the JSON of a [`DeployRequest`] whose
/// `script` is the bundle's base64, encoded straight into the body (a 10 MiB bundle is 13 MiB of
/// base64: no separate string, no second copy, no scan for characters to escape — base64 has
/// none).
#[derive(Debug, Clone)]
pub struct DeployBody(Vec<u8>);

impl DeployBody {
    /// The body of `request` (its `script` is ignored) with `bundle` as the script.
    pub fn new(request: &DeployRequest, bundle: &[u8]) -> Self {
        use base64::Engine;
        const KEY: &[u8] = b"\"script\":\"\"";
        let head = serde_json::to_vec(&request.without_script()).unwrap_or_default();
        // The key with its empty value: inside a JSON string a quote is always escaped, so this
        // sequence is the key itself, never text within a value.
        let Some(at) = head.windows(KEY.len()).position(|w| w == KEY) else {
            return Self(head);
        };
        let split = at + KEY.len() - 1; // between the value's two quotes
        let encoded = base64::encoded_len(bundle.len(), true).unwrap_or(0);
        let mut body = Vec::with_capacity(head.len() + encoded);
        body.extend_from_slice(&head[..split]);
        let start = body.len();
        body.resize(start + encoded, 0);
        let written = base64::engine::general_purpose::STANDARD
            .encode_slice(bundle, &mut body[start..])
            .unwrap_or(0);
        body.truncate(start + written);
        body.extend_from_slice(&head[split..]);
        Self(body)
    }

    /// The body's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl DeployRequest {
    /// Every field but the script (left empty), without copying the script.
    fn without_script(&self) -> DeployRequest {
        DeployRequest {
            service: self.service.clone(),
            environment: self.environment,
            tier: self.tier.clone(),
            version: self.version.clone(),
            script: String::new(),
            bindings: self.bindings.clone(),
            metadata: self.metadata.clone(),
        }
    }
}

/// What `POST /deploy` and `POST /rollback` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct DeployResult {
    pub success: bool,
    #[serde(default)]
    pub message: Option<String>,
    pub deployment: Deployment,
}

/// `GET /deployments` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentQuery {
    pub service: Option<String>,
    pub environment: Option<Environment>,
    /// 1..=100; the API's default is 50.
    pub limit: Option<u32>,
}

/// What `GET /deployments` answers.
#[derive(Debug, Clone, Deserialize)]
pub struct DeploymentList {
    pub deployments: Vec<Deployment>,
    #[serde(default)]
    pub total: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// A client of one Deploy API with one key.
#[derive(Debug, Clone)]
pub struct DeployApi {
    http: HttpClient,
    base_url: String,
    key: Secret,
}

impl DeployApi {
    pub fn new(http: HttpClient, base_url: &str, key: Secret) -> Self {
        DeployApi {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            key,
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, &format!("{}{path}", self.base_url))
            .bearer_auth(self.key.expose())
    }

    pub async fn deploy(&self, request: &DeployRequest) -> Result<DeployResult, AppError> {
        let what = "Deploying";
        let resp = self
            .http
            .send(what, self.request(Method::POST, "/deploy").json(request))
            .await?;
        parse(&self.http, what, resp).await
    }

    /// [`DeployApi::deploy`] with a body built from the bundle's bytes ([`DeployBody`]).
    pub async fn deploy_body(&self, body: DeployBody) -> Result<DeployResult, AppError> {
        let what = "Deploying";
        let resp = self
            .http
            .send(
                what,
                self.request(Method::POST, "/deploy")
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.0),
            )
            .await?;
        parse(&self.http, what, resp).await
    }

    pub async fn rollback(
        &self,
        service: &str,
        environment: Environment,
    ) -> Result<DeployResult, AppError> {
        let what = "Rolling back";
        let body = serde_json::json!({ "service": service, "environment": environment });
        let resp = self
            .http
            .send(what, self.request(Method::POST, "/rollback").json(&body))
            .await?;
        parse(&self.http, what, resp).await
    }

    pub async fn list(&self, query: &DeploymentQuery) -> Result<DeploymentList, AppError> {
        let what = "Listing deployments";
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(s) = &query.service {
            params.push(("service", s.clone()));
        }
        if let Some(e) = query.environment {
            params.push(("environment", e.as_str().to_owned()));
        }
        if let Some(l) = query.limit {
            if !(1..=100).contains(&l) {
                return Err(AppError::invalid_input(format!(
                    "A deployment list limit of {l} is out of range: use 1 to 100."
                )));
            }
            params.push(("limit", l.to_string()));
        }
        let resp = self
            .http
            .send(
                what,
                self.request(Method::GET, "/deployments").query(&params),
            )
            .await?;
        parse(&self.http, what, resp).await
    }

    /// `GET /health` with the key.
    pub async fn health(&self) -> Result<serde_json::Value, AppError> {
        let what = "Checking the Deploy API's health";
        let resp = self
            .http
            .send(what, self.request(Method::GET, "/health"))
            .await?;
        parse(&self.http, what, resp).await
    }

    /// `GET /`: service name, version and endpoints.
    pub async fn info(&self) -> Result<serde_json::Value, AppError> {
        let what = "Reading the Deploy API's info";
        let resp = self.http.send(what, self.request(Method::GET, "/")).await?;
        parse(&self.http, what, resp).await
    }
}

/// Map a Deploy API answer to the value or to the shared error codes.
async fn parse<T: serde::de::DeserializeOwned>(
    http: &HttpClient,
    what: &str,
    resp: reqwest::Response,
) -> Result<T, AppError> {
    let status = resp.status();
    if status.is_success() {
        return http.json::<T>(what, resp).await.map(|(_, v)| v);
    }
    let wait = retry_after(&resp);
    let (_, body) = http.json::<serde_json::Value>(what, resp).await?;
    let body: ErrorBody = serde_json::from_value(body).unwrap_or(ErrorBody {
        error: None,
        message: None,
    });
    let said = body.error.clone().unwrap_or_default();
    let detail = match (&body.error, &body.message) {
        (Some(e), Some(m)) => format!("{e}: {m}"),
        (Some(e), None) => e.clone(),
        (None, Some(m)) => m.clone(),
        (None, None) => format!("HTTP {status}"),
    };
    Err(match status {
        StatusCode::UNAUTHORIZED if said == "Missing API key" => AppError::new(
            ErrorCode::InvalidApiKey,
            format!("{what} failed: no Deploy API key was sent. Add the key in Settings for this profile."),
        ),
        StatusCode::UNAUTHORIZED if said == "Authentication failed" => AppError::new(
            ErrorCode::ServerError,
            format!("{what} failed: the Deploy API could not reach its auth service (\"Authentication failed\"). Check the auth service's health, then try again."),
        ),
        StatusCode::UNAUTHORIZED => AppError::new(
            ErrorCode::InvalidApiKey,
            format!("{what} failed: the Deploy API rejected the key (\"{detail}\"). Check or replace the key in Settings."),
        ),
        StatusCode::FORBIDDEN => AppError::new(
            ErrorCode::InsufficientPermissions,
            format!("{what} failed: the key's user lacks the deployments:create permission (\"{detail}\"). Ask an admin to grant it."),
        ),
        StatusCode::BAD_REQUEST if said.contains("No previous deployment") => AppError::new(
            ErrorCode::NoPreviousDeployment,
            format!("{what} failed: there is no earlier deployed version to roll back to (\"{detail}\")."),
        ),
        StatusCode::BAD_REQUEST => AppError::invalid_input(format!("{what} failed: {detail}")),
        StatusCode::NOT_FOUND => AppError::new(
            ErrorCode::NotFound,
            format!("{what} failed: the Deploy API has no such endpoint ({detail}). Check the profile's Deploy API URL."),
        ),
        StatusCode::TOO_MANY_REQUESTS => AppError::new(
            ErrorCode::RateLimited,
            format!(
                "{what} failed: too many requests; the Deploy API asks to wait{}.",
                wait.map(|w| format!(" {} s", w.as_secs())).unwrap_or_default()
            ),
        ),
        // Bad gateway, unavailable, gateway timeout: the Deploy API itself is down or cut off
        // (the runbook's "Deploy API Down"), not a deployment that failed.
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
            AppError::new(
                ErrorCode::ServerError,
                format!(
                    "{what} failed: the Deploy API answered HTTP {}: {detail}. It is down or cannot be reached; a fix can still go straight to the namespace (Deploy → Emergency).",
                    status.as_u16()
                ),
            )
            .with_runbook(RunbookSection::DeployApiDown)
        }
        _ => AppError::new(
            ErrorCode::ServerError,
            format!("{what} failed: the Deploy API answered HTTP {}: {detail}", status.as_u16()),
        )
        .with_runbook(RunbookSection::Deployment500),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn request(author: &str) -> DeployRequest {
        DeployRequest {
            service: "gateway".into(),
            environment: Environment::Staging,
            tier: None,
            version: Some("v1".into()),
            script: "ignored".into(),
            bindings: BTreeMap::from([("DB".to_owned(), "db".to_owned())]),
            metadata: DeploymentMetadata {
                commit: "abc".into(),
                branch: "main".into(),
                author: author.into(),
                version: None,
            },
        }
    }

    #[test]
    fn a_body_built_from_bytes_is_the_json_serde_writes_with_the_script_in_base64() {
        // Metadata that spells the script's key, quotes and backslashes included, must not be
        // taken for it; sizes around base64's padding.
        for author in ["ops@example.com", r#""script":"" \" \\ "script":"x""#] {
            for len in [0usize, 1, 2, 3, 4, 1000, 65_537] {
                let bundle: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
                let mut expected = request(author);
                expected.script = base64::engine::general_purpose::STANDARD.encode(&bundle);
                let body = DeployBody::new(&request(author), &bundle);
                let parsed: serde_json::Value =
                    serde_json::from_slice(body.as_bytes()).expect("the body is JSON");
                assert_eq!(
                    parsed,
                    serde_json::to_value(&expected).unwrap(),
                    "len {len}"
                );
            }
        }
    }
}
