//! Keys are bound to where they were saved for. A stored key belongs to the origins of the
//! profile's URLs it is sent to at the time it is saved (the Deploy API and auth service for the
//! Deploy API key, the Cloudflare API for the token). When a profile's URLs change — edited or
//! imported — its keys are detached: they are not sent to the new hosts until the operator enters
//! them again or explicitly moves them there. The bindings are kept in the settings table (they
//! are not secret) and mirrored in memory, so the synchronous key lookup can check them.

use std::collections::HashMap;

use switchyard_core::{AppError, ErrorCode, Profile};
use switchyard_secrets::SecretKind;

use crate::Ops;

const PREFIX: &str = "key-origin/";

fn setting_key(profile_id: &str, kind: SecretKind) -> String {
    format!("{PREFIX}{profile_id}/{}", kind.as_str())
}

/// `scheme://host[:port]` of a URL, lowercased (the URL was validated when the profile was).
pub(crate) fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    )
}

/// Where a key of `kind` goes for `profile`.
pub(crate) fn destinations(profile: &Profile, kind: SecretKind) -> String {
    match kind {
        SecretKind::DeployApiKey => {
            let mut o = vec![origin(&profile.deploy_api_url), origin(&profile.auth_url)];
            o.dedup();
            o.join(" and ")
        }
        SecretKind::CloudflareToken => origin(&profile.cloudflare_api_url),
    }
}

/// The in-memory mirror of the bindings.
#[derive(Debug, Default)]
pub(crate) struct KeyOrigins {
    bound: std::sync::RwLock<HashMap<(String, SecretKind), String>>,
}

impl KeyOrigins {
    fn get(&self, profile_id: &str, kind: SecretKind) -> Option<String> {
        self.bound
            .read()
            .expect("key origins")
            .get(&(profile_id.to_owned(), kind))
            .cloned()
    }
}

impl Ops {
    /// Loads the bindings from the store (at open).
    pub(crate) async fn load_key_origins(&self) -> Result<(), AppError> {
        let rows = self.store.settings_with_prefix(PREFIX).await?;
        let mut bound = self.key_origins.bound.write().expect("key origins");
        for (key, value) in rows {
            let Some(rest) = key.strip_prefix(PREFIX) else {
                continue;
            };
            let Some((profile, kind)) = rest.rsplit_once('/') else {
                continue;
            };
            let kind = SecretKind::ALL.into_iter().find(|k| k.as_str() == kind);
            if let Some(kind) = kind {
                bound.insert((profile.to_owned(), kind), value);
            }
        }
        Ok(())
    }

    /// Binds the profile's key of `kind` to where it goes now.
    pub(crate) async fn bind_key(
        &self,
        profile: &Profile,
        kind: SecretKind,
    ) -> Result<(), AppError> {
        let dest = destinations(profile, kind);
        self.store
            .set_setting(&setting_key(&profile.id, kind), &dest)
            .await?;
        self.key_origins
            .bound
            .write()
            .expect("key origins")
            .insert((profile.id.clone(), kind), dest);
        Ok(())
    }

    pub(crate) async fn unbind_key(
        &self,
        profile_id: &str,
        kind: SecretKind,
    ) -> Result<(), AppError> {
        self.store
            .delete_setting(&setting_key(profile_id, kind))
            .await?;
        self.key_origins
            .bound
            .write()
            .expect("key origins")
            .remove(&(profile_id.to_owned(), kind));
        Ok(())
    }

    /// Before a profile's URLs change: a key stored before bindings existed is bound to the
    /// profile as it is, so the change detaches it like any other.
    pub(crate) async fn bind_unbound_keys(&self, before: &Profile) -> Result<(), AppError> {
        for kind in SecretKind::ALL {
            if self.key_origins.get(&before.id, kind).is_none()
                && matches!(self.secrets.get(&before.id, kind), Ok(Some(_)))
            {
                self.bind_key(before, kind).await?;
            }
        }
        Ok(())
    }

    /// `Err` when the stored key of `kind` was saved for other hosts than `profile` sends it to.
    pub(crate) fn check_key_destination(
        &self,
        profile: &Profile,
        kind: SecretKind,
    ) -> Result<(), AppError> {
        let Some(bound) = self.key_origins.get(&profile.id, kind) else {
            return Ok(());
        };
        let now = destinations(profile, kind);
        if bound == now {
            return Ok(());
        }
        Err(AppError::new(
            ErrorCode::InvalidApiKey,
            format!(
                "The {} of profile \"{}\" was saved for {bound}, but the profile now sends it to {now}. It is not sent to a new address without you: enter the key for {now} in Settings, or move the stored key there if it is the same service.",
                kind.label(),
                profile.name
            ),
        ))
    }

    /// Whether the stored key of `kind` is detached (saved for other hosts).
    pub(crate) fn key_detached(&self, profile: &Profile, kind: SecretKind) -> bool {
        self.check_key_destination(profile, kind).is_err()
    }

    /// Moves the profile's stored keys to the hosts its URLs name now (the operator says they
    /// are the same service).
    pub async fn move_keys(&self, profile_id: &str) -> Result<(), AppError> {
        self.audited(
            profile_id,
            "secret.move",
            profile_id,
            serde_json::json!({}),
            async {
                let profile = self.for_profile(profile_id).await?;
                for kind in SecretKind::ALL {
                    if matches!(self.secrets.get(profile_id, kind), Ok(Some(_))) {
                        self.bind_key(&profile, kind).await?;
                    }
                }
                Ok(())
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_host_and_port() {
        assert_eq!(origin("https://Deploy.DO/api/x?y"), "https://deploy.do");
        assert_eq!(
            origin("http://127.0.0.1:8787/deploy-api"),
            "http://127.0.0.1:8787"
        );
        assert_eq!(
            origin("https://u@api.cloudflare.com/client/v4"),
            "https://api.cloudflare.com"
        );
    }
}
