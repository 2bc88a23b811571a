//! Keys: stored in the keychain (values go in, never come out), tested against the platform.

use serde::Serialize;
use switchyard_clients::DeploymentQuery;
use switchyard_core::{AppError, ErrorCode};
use switchyard_secrets::{Secret, SecretKind};

use crate::Ops;

/// What testing a profile's Deploy API key found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct KeyCheck {
    pub user_id: Option<String>,
    pub permissions: Vec<String>,
    pub can_deploy: bool,
    /// The Deploy API accepted the key for reading history.
    pub deploy_api_accepts: bool,
}

/// What verifying a profile's Cloudflare token found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TokenCheck {
    /// Cloudflare's word for it: `active`, `disabled`, `expired`.
    pub status: String,
    pub expires_on: Option<String>,
    /// Only the account's endpoint accepted it (an account-owned token).
    pub account_owned: bool,
    /// The namespaces of the profile's account could be listed with it.
    pub can_list_namespaces: bool,
}

impl Ops {
    /// Test the profile's Cloudflare token: Cloudflare says whether it is active, and listing the
    /// account's dispatch namespaces shows whether it may manage them.
    pub async fn test_cloudflare_token(&self, profile_id: &str) -> Result<TokenCheck, AppError> {
        let params = serde_json::json!({});
        self.audited(profile_id, "token.verify", profile_id, params, async {
            let status = self.verify_cloudflare_token(profile_id).await?;
            let profile = self.for_profile(profile_id).await?;
            let can_list_namespaces = match profile.cloudflare()?.list_namespaces().await {
                Ok(_) => true,
                Err(e)
                    if matches!(
                        e.code,
                        ErrorCode::InsufficientPermissions | ErrorCode::InvalidApiKey
                    ) =>
                {
                    false
                }
                Err(e) => return Err(e),
            };
            Ok(TokenCheck {
                status: status.status,
                expires_on: status.expires_on,
                account_owned: status.account_owned,
                can_list_namespaces,
            })
        })
        .await
    }

    /// Store a secret for a profile in the keychain.
    pub async fn set_secret(
        &self,
        profile_id: &str,
        kind: SecretKind,
        value: Secret,
    ) -> Result<(), AppError> {
        let params = serde_json::json!({ "kind": kind.as_str() });
        self.audited(profile_id, "secret.set", profile_id, params, async {
            let profile = self.for_profile(profile_id).await?;
            if profile.sandbox {
                return Err(AppError::invalid_input(
                    "The Local sandbox uses its own demo credentials; keys are stored for your own profiles only.",
                ));
            }
            if value.expose().trim().is_empty() {
                return Err(AppError::invalid_input("The key is empty: paste the whole key."));
            }
            if value.expose().trim() != value.expose() {
                return Err(AppError::invalid_input(
                    "The key starts or ends with spaces or a line break; paste it without them.",
                ));
            }
            self.secrets.set(profile_id, kind, &value)?;
            // The key belongs to where the profile sends it now.
            self.bind_key(&profile, kind).await
        })
        .await
    }

    /// Remove a secret from the keychain.
    pub async fn delete_secret(&self, profile_id: &str, kind: SecretKind) -> Result<(), AppError> {
        let params = serde_json::json!({ "kind": kind.as_str() });
        self.audited(profile_id, "secret.delete", profile_id, params, async {
            self.for_profile(profile_id).await?;
            self.secrets.delete(profile_id, kind)?;
            self.unbind_key(profile_id, kind).await
        })
        .await
    }

    /// Test the profile's Deploy API key: the auth service says who it is and what it may do,
    /// and the Deploy API accepts it.
    pub async fn validate_key(&self, profile_id: &str) -> Result<KeyCheck, AppError> {
        let profile = self.for_profile(profile_id).await?;
        self.audited(
            profile_id,
            "key.validate",
            profile_id,
            serde_json::json!({}),
            async {
                let key = profile.deploy_key()?;
                let info = profile.auth().validate_key(&key).await?;
                let deploy = profile.deploy_api()?;
                let deploy_api_accepts = match deploy
                    .list(&DeploymentQuery {
                        limit: Some(1),
                        ..Default::default()
                    })
                    .await
                {
                    Ok(_) => true,
                    Err(e) if matches!(e.code, ErrorCode::InsufficientPermissions) => false,
                    Err(e) => return Err(e),
                };
                Ok(KeyCheck {
                    can_deploy: info.can_deploy(),
                    user_id: info.user_id,
                    permissions: info.permissions,
                    deploy_api_accepts,
                })
            },
        )
        .await
    }

    /// Verify the profile's Cloudflare token (user endpoint, then the account's).
    pub async fn verify_cloudflare_token(
        &self,
        profile_id: &str,
    ) -> Result<switchyard_clients::TokenStatus, AppError> {
        let profile = self.for_profile(profile_id).await?;
        profile.cloudflare()?.verify_token().await
    }
}
