//! The sandbox's own demo identity: account id, Cloudflare token, users and Deploy API keys.
//! Created randomly on first start and kept in the database, so a restart keeps them.

use crate::store::{random_hex, Store, StoreError};

/// The user whose key may deploy.
pub const DEPLOY_USER_ID: &str = "usr_sandbox_operator";
/// The user whose key is valid but lacks `deployments:create`.
pub const READONLY_USER_ID: &str = "usr_sandbox_viewer";

#[derive(Debug, Clone)]
pub struct Identity {
    pub account_id: String,
    pub cloudflare_token: String,
    pub cloudflare_token_id: String,
    /// The 32-hex id written as `created_by` / `modified_by`.
    pub user_tag: String,
    pub deploy_key: String,
    pub readonly_key: String,
}

impl Identity {
    /// Loads the identity, creating what is missing (users, keys, the deploy permission).
    pub async fn load_or_create(store: &Store) -> Result<Identity, StoreError> {
        let account_id = store
            .setting_or_init("account_id", || random_hex(16))
            .await?;
        let cloudflare_token = store
            .setting_or_init("cloudflare_token", || {
                format!("sandbox_cf_{}", random_hex(16))
            })
            .await?;
        let cloudflare_token_id = store
            .setting_or_init("cloudflare_token_id", || random_hex(16))
            .await?;
        let user_tag = store.setting_or_init("user_tag", || random_hex(16)).await?;
        let deploy_key = store
            .setting_or_init("deploy_key", || format!("sk_sandbox_{}", random_hex(16)))
            .await?;
        let readonly_key = store
            .setting_or_init("readonly_key", || format!("sk_sandbox_{}", random_hex(16)))
            .await?;
        store
            .upsert_user(DEPLOY_USER_ID, "operator@sandbox.local", "Sandbox Operator")
            .await?;
        store
            .upsert_user(READONLY_USER_ID, "viewer@sandbox.local", "Sandbox Viewer")
            .await?;
        store
            .insert_api_key(&deploy_key, DEPLOY_USER_ID, "sandbox deploy key")
            .await?;
        store
            .insert_api_key(&readonly_key, READONLY_USER_ID, "sandbox read-only key")
            .await?;
        if store.setting("permissions_seeded").await?.is_none() {
            store
                .grant_permission(DEPLOY_USER_ID, "deployments", "create")
                .await?;
            store
                .grant_permission(DEPLOY_USER_ID, "deployments", "read")
                .await?;
            store
                .grant_permission(READONLY_USER_ID, "deployments", "read")
                .await?;
            store.set_setting("permissions_seeded", "1").await?;
        }
        Ok(Identity {
            account_id,
            cloudflare_token,
            cloudflare_token_id,
            user_tag,
            deploy_key,
            readonly_key,
        })
    }
}
