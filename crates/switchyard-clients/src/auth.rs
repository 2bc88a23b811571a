//! The auth service (`auth.do`): key validation and permissions.

use reqwest::{Method, StatusCode};
use serde::Serialize;
use switchyard_core::{AppError, ErrorCode, Secret};

use crate::http::HttpClient;

/// What the auth service says about a key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyInfo {
    pub user_id: Option<String>,
    /// `resource:action`, e.g. `deployments:create`.
    pub permissions: Vec<String>,
}

impl KeyInfo {
    pub fn can_deploy(&self) -> bool {
        self.permissions.iter().any(|p| p == "deployments:create")
    }
}

#[derive(Debug, Clone)]
pub struct AuthApi {
    http: HttpClient,
    base_url: String,
}

/// Read permissions written as strings or as `{resource, action}` objects, wherever they sit.
fn permissions_of(v: &serde_json::Value) -> Vec<String> {
    let list = v
        .get("permissions")
        .or_else(|| v.get("user").and_then(|u| u.get("permissions")))
        .or_else(|| v.get("key").and_then(|u| u.get("permissions")))
        .unwrap_or(v);
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|p| match p {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Object(o) => Some(format!(
                        "{}:{}",
                        o.get("resource")?.as_str()?,
                        o.get("action")?.as_str()?
                    )),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn user_of(v: &serde_json::Value) -> Option<String> {
    let pick = |v: &serde_json::Value| {
        ["userId", "user_id", "id"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|x| x.as_str()).map(str::to_owned))
    };
    v.get("user")
        .and_then(|u| u.as_str().map(str::to_owned).or_else(|| pick(u)))
        .or_else(|| pick(v))
}

impl AuthApi {
    pub fn new(http: HttpClient, base_url: &str) -> Self {
        AuthApi {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// `GET /apikeys/validate`: who the key belongs to and what it may do.
    pub async fn validate_key(&self, key: &Secret) -> Result<KeyInfo, AppError> {
        let what = "Validating the API key";
        let req = self
            .http
            .request(Method::GET, &format!("{}/apikeys/validate", self.base_url))
            .bearer_auth(key.expose());
        let resp = self
            .http
            .send(what, req)
            .await
            .map_err(crate::http::not_the_deploy_api)?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(AppError::new(
                ErrorCode::InvalidApiKey,
                "The auth service does not know this API key. Check it for typos, or create a new key (they start with sk_).",
            ));
        }
        let (_, body): (_, serde_json::Value) = self.http.json(what, resp).await?;
        if !status.is_success() {
            return Err(AppError::new(
                ErrorCode::ServerError,
                format!(
                    "{what} failed: the auth service answered HTTP {}.",
                    status.as_u16()
                ),
            ));
        }
        if body.get("valid").and_then(|v| v.as_bool()) == Some(false) {
            return Err(AppError::new(
                ErrorCode::InvalidApiKey,
                "The auth service says this API key is not valid. Replace it in Settings.",
            ));
        }
        Ok(KeyInfo {
            user_id: user_of(&body),
            permissions: permissions_of(&body),
        })
    }

    /// `GET /permissions/<userId>`.
    pub async fn permissions(&self, key: &Secret, user_id: &str) -> Result<Vec<String>, AppError> {
        let what = "Reading permissions";
        let req = self
            .http
            .request(
                Method::GET,
                &format!("{}/permissions/{user_id}", self.base_url),
            )
            .bearer_auth(key.expose());
        let resp = self
            .http
            .send(what, req)
            .await
            .map_err(crate::http::not_the_deploy_api)?;
        let status = resp.status();
        let (_, body): (_, serde_json::Value) = self.http.json(what, resp).await?;
        if !status.is_success() {
            return Err(AppError::new(
                if status == StatusCode::NOT_FOUND {
                    ErrorCode::NotFound
                } else {
                    ErrorCode::ServerError
                },
                format!(
                    "{what} of {user_id} failed: the auth service answered HTTP {}.",
                    status.as_u16()
                ),
            ));
        }
        Ok(permissions_of(&body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_permissions_in_either_shape() {
        let v = json!({"valid": true, "user": {"id": "u1"}, "permissions": [
            {"resource": "deployments", "action": "create"}, "namespaces:read"]});
        assert_eq!(user_of(&v).as_deref(), Some("u1"));
        let p = permissions_of(&v);
        assert_eq!(p, vec!["deployments:create", "namespaces:read"]);
        assert!(KeyInfo {
            user_id: None,
            permissions: p
        }
        .can_deploy());
        assert_eq!(user_of(&json!({"userId": "u2"})).as_deref(), Some("u2"));
    }
}
