//! Cloudflare's API for Workers for Platforms: dispatch namespaces, the scripts in them, and
//! token verification. Base URL configurable (`…/client/v4`), as `CLOUDFLARE_API_BASE_URL` is.

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use switchyard_core::{AppError, ErrorCode, Secret};

use crate::http::{not_the_deploy_api, retry_after, HttpClient};

/// One `{code, message}` of an envelope's `errors`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct CloudflareError {
    pub code: i64,
    pub message: String,
}

#[derive(Debug, Deserialize)]
struct Envelope<T> {
    success: bool,
    #[serde(default)]
    errors: Vec<CloudflareError>,
    result: Option<T>,
    #[serde(default)]
    result_info: Option<ResultInfo>,
}

#[derive(Debug, Deserialize, Default)]
struct ResultInfo {
    #[serde(default)]
    cursor: Option<String>,
}

/// A dispatch namespace.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Namespace {
    #[serde(default)]
    pub namespace_id: Option<String>,
    pub namespace_name: String,
    #[serde(default)]
    pub created_on: Option<String>,
    #[serde(default)]
    pub modified_on: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub modified_by: Option<String>,
    #[serde(default)]
    pub script_count: Option<u64>,
    #[serde(default)]
    pub trusted_workers: Option<bool>,
}

/// Fields of a namespace to change (PATCH semantics: omitted fields stay).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NamespaceUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_workers: Option<bool>,
}

/// The Script object (the fields the panel shows; the rest is kept in `extra`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ScriptInfo {
    pub id: String,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub created_on: Option<String>,
    #[serde(default)]
    pub modified_on: Option<String>,
    #[serde(default)]
    pub compatibility_date: Option<String>,
    #[serde(default)]
    pub handlers: Option<Vec<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A script in a namespace.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct NamespaceScript {
    #[serde(default)]
    pub created_on: Option<String>,
    #[serde(default)]
    pub modified_on: Option<String>,
    #[serde(default)]
    pub dispatch_namespace: Option<String>,
    pub script: ScriptInfo,
}

/// Every script of a namespace (all pages).
pub type ScriptList = Vec<NamespaceScript>;

/// What token verification says.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct TokenStatus {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub expires_on: Option<String>,
    /// True when only the account endpoint accepted it (an account-owned token).
    #[serde(default)]
    pub account_owned: bool,
}

/// A client of one Cloudflare account with one API token.
#[derive(Debug, Clone)]
pub struct CloudflareApi {
    http: HttpClient,
    base_url: String,
    account_id: String,
    token: Secret,
}

/// Upper bound on list pages followed, so a server that always returns a cursor cannot loop us
/// (1,000,000 scripts at [`SCRIPTS_PAGE`] a page).
const MAX_PAGES: usize = 1000;

/// Scripts asked for per page of a namespace's list: Cloudflare's maximum `limit` (the
/// Workers for Platforms tags docs: "maximum 1000").
pub const SCRIPTS_PAGE: usize = 1000;

impl CloudflareApi {
    pub fn new(http: HttpClient, base_url: &str, account_id: &str, token: Secret) -> Self {
        CloudflareApi {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            account_id: account_id.to_owned(),
            token,
        }
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/accounts/{}/workers/dispatch/namespaces{path}",
            self.base_url, self.account_id
        )
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn account_id(&self) -> &str {
        &self.account_id
    }

    pub(crate) fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(self.token.expose())
    }

    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<(T, Option<String>), AppError> {
        let resp = self
            .http
            .send(what, req)
            .await
            .map_err(not_the_deploy_api)?;
        let status = resp.status();
        let wait = retry_after(&resp);
        let (_, env): (_, Envelope<T>) = self.http.json(what, resp).await?;
        if !env.success || !status.is_success() {
            return Err(map_error(what, status, &env.errors, wait));
        }
        let cursor = env
            .result_info
            .and_then(|i| i.cursor)
            .filter(|c| !c.is_empty());
        match env.result {
            Some(r) => Ok((r, cursor)),
            // `result: null` is what deletes answer; callers of those ask for `()`.
            None => serde_json::from_value(serde_json::Value::Null)
                .map(|r| (r, cursor))
                .map_err(|_| {
                    AppError::new(
                        ErrorCode::InvalidResponse,
                        format!("{what} failed: Cloudflare answered success with no result."),
                    )
                }),
        }
    }

    pub async fn list_namespaces(&self) -> Result<Vec<Namespace>, AppError> {
        let what = "Listing dispatch namespaces";
        Ok(self
            .call(what, self.request(Method::GET, &self.url("")))
            .await?
            .0)
    }

    pub async fn get_namespace(&self, name: &str) -> Result<Namespace, AppError> {
        let what = format!("Reading namespace {name}");
        let url = self.url(&format!("/{}", seg(name)));
        Ok(self.call(&what, self.request(Method::GET, &url)).await?.0)
    }

    pub async fn create_namespace(&self, name: &str) -> Result<Namespace, AppError> {
        if name.trim().is_empty() {
            return Err(AppError::invalid_input(
                "A namespace needs a name: type one (for example dotdo-staging).",
            ));
        }
        let what = format!("Creating namespace {name}");
        let body = serde_json::json!({ "name": name });
        let req = self.request(Method::POST, &self.url("")).json(&body);
        Ok(self.call(&what, req).await?.0)
    }

    /// PATCH: change only the given fields.
    pub async fn update_namespace(
        &self,
        name: &str,
        update: &NamespaceUpdate,
    ) -> Result<Namespace, AppError> {
        let what = format!("Updating namespace {name}");
        let url = self.url(&format!("/{}", seg(name)));
        let req = self.request(Method::PATCH, &url).json(update);
        Ok(self.call(&what, req).await?.0)
    }

    /// PUT with both fields, as the docs turn on trusted mode and wrangler renames.
    pub async fn put_namespace(
        &self,
        name: &str,
        new_name: &str,
        trusted_workers: bool,
    ) -> Result<Namespace, AppError> {
        let what = format!("Updating namespace {name}");
        let url = self.url(&format!("/{}", seg(name)));
        let body = serde_json::json!({ "name": new_name, "trusted_workers": trusted_workers });
        Ok(self
            .call(&what, self.request(Method::PUT, &url).json(&body))
            .await?
            .0)
    }

    pub async fn delete_namespace(&self, name: &str) -> Result<(), AppError> {
        let what = format!("Deleting namespace {name}");
        let url = self.url(&format!("/{}", seg(name)));
        let _: (Option<serde_json::Value>, _) =
            self.call(&what, self.request(Method::DELETE, &url)).await?;
        Ok(())
    }

    /// Every script in `namespace`, following cursors; `tags` like `["env:production:yes"]`.
    pub async fn list_scripts(
        &self,
        namespace: &str,
        tags: &[String],
    ) -> Result<ScriptList, AppError> {
        let mut all = Vec::new();
        self.list_scripts_by_page(namespace, tags, |page| all.extend(page))
            .await?;
        Ok(all)
    }

    /// Every script in `namespace`, handed to `on_page` one page (at most [`SCRIPTS_PAGE`]) at a
    /// time as each arrives, so a caller can show the first ones while the rest are fetched.
    /// On an error, the pages already handed over stay with the caller.
    pub async fn list_scripts_by_page(
        &self,
        namespace: &str,
        tags: &[String],
        mut on_page: impl FnMut(ScriptList),
    ) -> Result<(), AppError> {
        let what = format!("Listing the workers of {namespace}");
        let url = self.url(&format!("/{}/scripts", seg(namespace)));
        let limit = SCRIPTS_PAGE.to_string();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut req = self
                .request(Method::GET, &url)
                .query(&[("limit", limit.as_str())]);
            if !tags.is_empty() {
                req = req.query(&[("tags", tags.join(","))]);
            }
            if let Some(c) = &cursor {
                req = req.query(&[("cursor", c)]);
            }
            let (page, next): (ScriptList, _) = self.call(&what, req).await?;
            let empty = page.is_empty();
            if !empty {
                on_page(page);
            }
            match next {
                Some(c) if !empty && Some(&c) != cursor.as_ref() => cursor = Some(c),
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    pub async fn get_script(
        &self,
        namespace: &str,
        script: &str,
    ) -> Result<NamespaceScript, AppError> {
        let what = format!("Reading worker {script} in {namespace}");
        let url = self.url(&format!("/{}/scripts/{}", seg(namespace), seg(script)));
        Ok(self.call(&what, self.request(Method::GET, &url)).await?.0)
    }

    pub async fn delete_script(&self, namespace: &str, script: &str) -> Result<(), AppError> {
        let what = format!("Deleting worker {script} in {namespace}");
        let url = self.url(&format!("/{}/scripts/{}", seg(namespace), seg(script)));
        let _: (Option<serde_json::Value>, _) =
            self.call(&what, self.request(Method::DELETE, &url)).await?;
        Ok(())
    }

    /// Upload (or replace) an ES-module worker, as the Deploy API and wrangler do.
    pub async fn upload_script(
        &self,
        namespace: &str,
        script: &str,
        module_name: &str,
        source: Vec<u8>,
        metadata: &serde_json::Value,
    ) -> Result<ScriptInfo, AppError> {
        let what = format!("Uploading worker {script} to {namespace}");
        let url = self.url(&format!("/{}/scripts/{}", seg(namespace), seg(script)));
        let meta = reqwest::multipart::Part::text(metadata.to_string())
            .mime_str("application/json")
            .map_err(|_| AppError::internal("Preparing the upload"))?;
        let module = reqwest::multipart::Part::bytes(source)
            .file_name(module_name.to_owned())
            .mime_str("application/javascript+module")
            .map_err(|_| AppError::internal("Preparing the upload"))?;
        let form = reqwest::multipart::Form::new()
            .part("metadata", meta)
            .part(module_name.to_owned(), module);
        let req = self.request(Method::PUT, &url).multipart(form);
        Ok(self.call(&what, req).await?.0)
    }

    /// The raw source of a script (not an envelope).
    pub async fn script_content(&self, namespace: &str, script: &str) -> Result<Vec<u8>, AppError> {
        let what = format!("Downloading worker {script} in {namespace}");
        let url = self.url(&format!(
            "/{}/scripts/{}/content",
            seg(namespace),
            seg(script)
        ));
        let resp = self
            .http
            .send(&what, self.request(Method::GET, &url))
            .await
            .map_err(not_the_deploy_api)?;
        let status = resp.status();
        if !status.is_success() {
            let wait = retry_after(&resp);
            let errors = self
                .http
                .json::<Envelope<serde_json::Value>>(&what, resp)
                .await
                .map(|(_, e)| e.errors)
                .unwrap_or_default();
            return Err(map_error(&what, status, &errors, wait));
        }
        self.http.body(&what, resp).await
    }

    pub async fn script_bindings(
        &self,
        namespace: &str,
        script: &str,
    ) -> Result<Vec<serde_json::Value>, AppError> {
        let what = format!("Reading the bindings of {script} in {namespace}");
        let url = self.url(&format!(
            "/{}/scripts/{}/bindings",
            seg(namespace),
            seg(script)
        ));
        Ok(self.call(&what, self.request(Method::GET, &url)).await?.0)
    }

    pub async fn script_settings(
        &self,
        namespace: &str,
        script: &str,
    ) -> Result<serde_json::Value, AppError> {
        let what = format!("Reading the settings of {script} in {namespace}");
        let url = self.url(&format!(
            "/{}/scripts/{}/settings",
            seg(namespace),
            seg(script)
        ));
        Ok(self.call(&what, self.request(Method::GET, &url)).await?.0)
    }

    pub async fn script_tags(
        &self,
        namespace: &str,
        script: &str,
    ) -> Result<Vec<String>, AppError> {
        let what = format!("Reading the tags of {script} in {namespace}");
        let url = self.url(&format!("/{}/scripts/{}/tags", seg(namespace), seg(script)));
        Ok(self.call(&what, self.request(Method::GET, &url)).await?.0)
    }

    /// Replace every tag of a script (`PUT …/tags` with the whole list); returns the tags now.
    pub async fn put_script_tags(
        &self,
        namespace: &str,
        script: &str,
        tags: &[String],
    ) -> Result<Vec<String>, AppError> {
        let what = format!("Changing the tags of {script} in {namespace}");
        let url = self.url(&format!("/{}/scripts/{}/tags", seg(namespace), seg(script)));
        let req = self.request(Method::PUT, &url).json(tags);
        Ok(self.call(&what, req).await?.0)
    }

    /// The names of a script's secrets (Cloudflare lists names and types, never values).
    pub async fn list_secret_names(
        &self,
        namespace: &str,
        script: &str,
    ) -> Result<Vec<String>, AppError> {
        #[derive(Deserialize)]
        struct Listed {
            name: String,
        }
        let what = format!("Listing the secrets of {script} in {namespace}");
        let url = self.url(&format!(
            "/{}/scripts/{}/secrets",
            seg(namespace),
            seg(script)
        ));
        let (listed, _): (Vec<Listed>, _) =
            self.call(&what, self.request(Method::GET, &url)).await?;
        Ok(listed.into_iter().map(|s| s.name).collect())
    }

    /// Set (add or replace) the `secret_text` secret `name` of a script. The value is sent in
    /// this request's body and nowhere else; no message of ours carries it.
    pub async fn put_secret(
        &self,
        namespace: &str,
        script: &str,
        name: &str,
        value: &Secret,
    ) -> Result<(), AppError> {
        let what = format!("Setting secret {name} of {script} in {namespace}");
        let url = self.url(&format!(
            "/{}/scripts/{}/secrets",
            seg(namespace),
            seg(script)
        ));
        let body =
            serde_json::json!({ "name": name, "text": value.expose(), "type": "secret_text" });
        let req = self.request(Method::PUT, &url).json(&body);
        // The answer (`{name, type}`) is not kept: the caller knows the name.
        let _: (Option<serde_json::Value>, _) = self.call(&what, req).await?;
        Ok(())
    }

    /// Delete the secret `name` of a script.
    pub async fn delete_secret(
        &self,
        namespace: &str,
        script: &str,
        name: &str,
    ) -> Result<(), AppError> {
        let what = format!("Deleting secret {name} of {script} in {namespace}");
        let url = self.url(&format!(
            "/{}/scripts/{}/secrets/{}",
            seg(namespace),
            seg(script),
            seg(name)
        ));
        let _: (Option<serde_json::Value>, _) =
            self.call(&what, self.request(Method::DELETE, &url)).await?;
        Ok(())
    }

    /// Verify the token as wrangler does: the user endpoint first; on error 1000, the account's.
    pub async fn verify_token(&self) -> Result<TokenStatus, AppError> {
        let what = "Verifying the Cloudflare token";
        let user_url = format!("{}/user/tokens/verify", self.base_url);
        let resp = self
            .http
            .send(what, self.request(Method::GET, &user_url))
            .await
            .map_err(not_the_deploy_api)?;
        let status = resp.status();
        let wait = retry_after(&resp);
        let (_, env): (_, Envelope<TokenStatus>) = self.http.json(what, resp).await?;
        if env.success && status.is_success() {
            if let Some(t) = env.result {
                return Ok(t);
            }
        }
        if !env.errors.iter().any(|e| e.code == 1000) || self.account_id.is_empty() {
            return Err(map_error(what, status, &env.errors, wait));
        }
        let account_url = format!(
            "{}/accounts/{}/tokens/verify",
            self.base_url, self.account_id
        );
        let (mut t, _): (TokenStatus, _) = self
            .call(what, self.request(Method::GET, &account_url))
            .await?;
        t.account_owned = true;
        Ok(t)
    }
}

/// Percent-encode one path segment.
pub(crate) fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn map_error(
    what: &str,
    status: StatusCode,
    errors: &[CloudflareError],
    wait: Option<std::time::Duration>,
) -> AppError {
    let detail = if errors.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        errors
            .iter()
            .map(|e| format!("{} (code {})", e.message, e.code))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let has = |codes: &[i64]| errors.iter().any(|e| codes.contains(&e.code));
    let (code, hint) = if status == StatusCode::TOO_MANY_REQUESTS {
        (
            ErrorCode::RateLimited,
            format!(
                "Cloudflare's rate limit was reached; wait{} and try again.",
                wait.map(|w| format!(" {} s", w.as_secs()))
                    .unwrap_or_default()
            ),
        )
    } else if has(&[10027]) || status == StatusCode::PAYLOAD_TOO_LARGE {
        (
            ErrorCode::BundleTooLarge,
            "The script is larger than Cloudflare accepts; make the bundle smaller.".to_owned(),
        )
    } else if status == StatusCode::NOT_FOUND || has(&[10007, 10090, 10092]) {
        (
            ErrorCode::NotFound,
            "It does not exist (any more); refresh the list.".to_owned(),
        )
    } else if status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        || has(&[1000, 9106, 10000])
    {
        (
            ErrorCode::InvalidApiKey,
            "Cloudflare rejected the API token; check or replace it in Settings (it needs Workers Scripts Write).".to_owned(),
        )
    } else if status == StatusCode::CONFLICT {
        (
            ErrorCode::Conflict,
            "It already exists or was changed meanwhile; refresh and try again.".to_owned(),
        )
    } else if status.is_client_error() {
        (
            ErrorCode::InvalidInput,
            "Correct the input and try again.".to_owned(),
        )
    } else {
        (
            ErrorCode::ServerError,
            "Cloudflare reported a failure; try again, and check Cloudflare's status if it persists.".to_owned(),
        )
    };
    AppError::new(code, format!("{what} failed: {detail}. {hint}"))
}

#[cfg(test)]
mod tests {
    use super::seg;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(seg("dotdo-production"), "dotdo-production");
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
    }
}
