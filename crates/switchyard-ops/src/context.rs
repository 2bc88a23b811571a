//! The profile context: a profile resolved once, and everything an action needs from it — the
//! Deploy API, auth and Cloudflare clients (and the worker versions API of staged rollouts), its
//! keys and its dispatch namespaces.
//!
//! Every façade method and runbook action that reaches the platform starts from
//! [`Ops::for_profile`]; no other place in the crate builds a client. A missing key is one error,
//! the same wherever it is needed: it names the profile and the key, says where to add it, and
//! links the runbook section (`ErrorCode::InvalidApiKey`'s).

use std::ops::Deref;
use std::sync::OnceLock;

use switchyard_clients::{AuthApi, CloudflareApi, DeployApi, WorkerVersionsApi};
use switchyard_core::{AppError, Environment, ErrorCode, Profile, Secret};
use switchyard_secrets::SecretKind;

use crate::Ops;

/// A profile resolved once, handing out its clients and keys (looked up when first asked for).
///
/// It dereferences to the [`Profile`], so `ctx.name`, `ctx.services`, `&*ctx` read the profile.
/// A clone keeps the keys already looked up.
#[derive(Clone)]
pub(crate) struct ProfileContext<'a> {
    ops: &'a Ops,
    profile: Profile,
    deploy_key: OnceLock<Secret>,
    cloudflare_token: OnceLock<Secret>,
}

impl std::fmt::Debug for ProfileContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileContext")
            .field("profile", &self.profile.id)
            .finish_non_exhaustive()
    }
}

impl Deref for ProfileContext<'_> {
    type Target = Profile;

    fn deref(&self) -> &Profile {
        &self.profile
    }
}

/// The error of a profile without a Deploy API key (wherever one is needed).
fn no_deploy_key(profile: &Profile) -> AppError {
    AppError::new(
        ErrorCode::InvalidApiKey,
        format!(
            "Profile \"{}\" has no Deploy API key. Add it in Settings, then try again.",
            profile.name
        ),
    )
}

/// The error of a profile without a Cloudflare API token (wherever one is needed).
fn no_cloudflare_token(profile: &Profile) -> AppError {
    AppError::new(
        ErrorCode::InvalidApiKey,
        format!(
            "Profile \"{}\" has no Cloudflare API token. Add a Cloudflare API token in Settings (it needs Workers Scripts Write), then try again.",
            profile.name
        ),
    )
}

impl Ops {
    /// Resolve profile `id` once (NotFound when there is none) for an action.
    pub(crate) async fn for_profile(&self, id: &str) -> Result<ProfileContext<'_>, AppError> {
        Ok(ProfileContext {
            ops: self,
            profile: self.store.get_profile(id).await?,
            deploy_key: OnceLock::new(),
            cloudflare_token: OnceLock::new(),
        })
    }
}

impl ProfileContext<'_> {
    /// The Deploy API key: the sandbox's demo key for the sandbox profile, the keychain's
    /// otherwise (refused when it is bound to other hosts); none → InvalidApiKey.
    pub(crate) fn deploy_key(&self) -> Result<Secret, AppError> {
        self.key(SecretKind::DeployApiKey, &self.deploy_key)
    }

    /// The Cloudflare API token (as [`ProfileContext::deploy_key`]); none → InvalidApiKey.
    pub(crate) fn cloudflare_token(&self) -> Result<Secret, AppError> {
        self.key(SecretKind::CloudflareToken, &self.cloudflare_token)
    }

    fn key(&self, kind: SecretKind, cell: &OnceLock<Secret>) -> Result<Secret, AppError> {
        if let Some(found) = cell.get() {
            return Ok(found.clone());
        }
        let found = self
            .ops
            .secret_for(&self.profile, kind)?
            .ok_or_else(|| match kind {
                SecretKind::DeployApiKey => no_deploy_key(&self.profile),
                SecretKind::CloudflareToken => no_cloudflare_token(&self.profile),
            })?;
        Ok(cell.get_or_init(|| found).clone())
    }

    /// The Deploy API with the profile's key.
    pub(crate) fn deploy_api(&self) -> Result<DeployApi, AppError> {
        Ok(DeployApi::new(
            self.ops.http.clone(),
            &self.profile.deploy_api_url,
            self.deploy_key()?,
        ))
    }

    /// The auth service (it takes the key per call).
    pub(crate) fn auth(&self) -> AuthApi {
        AuthApi::new(self.ops.http.clone(), &self.profile.auth_url)
    }

    /// The Cloudflare API of the profile's account, with its token.
    pub(crate) fn cloudflare(&self) -> Result<CloudflareApi, AppError> {
        Ok(CloudflareApi::new(
            self.ops.http.clone(),
            &self.profile.cloudflare_api_url,
            &self.profile.account_id,
            self.cloudflare_token()?,
        ))
    }

    /// The dispatch namespace of `environment` under this profile: the profile's own for its
    /// environment, the environment's default otherwise.
    pub(crate) fn dispatch_namespace(&self, environment: Environment) -> String {
        crate::deploy::namespace_for(&self.profile, environment)
    }

    /// Worker versions and deployments (staged rollouts), through the Cloudflare API.
    pub(crate) fn versions(&self) -> Result<WorkerVersionsApi, AppError> {
        Ok(WorkerVersionsApi::new(self.cloudflare()?))
    }
}
