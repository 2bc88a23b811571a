//! `validate-key` and `permissions`: what the profile's Deploy API key may do.

use switchyard_core::{AppError, ErrorCode};

use super::{ActionResult, Failure, Ops, OutputSink, ProfileContext, StepOutput};

impl Ops {
    /// Test the key; the step fails when it may not deploy or the Deploy API refuses it.
    pub(super) async fn rb_act_validate_key<P: Fn(StepOutput) + Send + Sync>(
        &self,
        pid: &str,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let check = self.validate_key(pid).await?;
        sink.emit(&format!(
            "user: {}\npermissions: {}\nmay deploy: {}\nDeploy API accepts the key: {}",
            check.user_id.as_deref().unwrap_or("unknown"),
            if check.permissions.is_empty() {
                "none".to_owned()
            } else {
                check.permissions.join(", ")
            },
            if check.can_deploy { "yes" } else { "no" },
            if check.deploy_api_accepts {
                "yes"
            } else {
                "no"
            }
        ))
        .await
        .map_err(Failure::Store)?;
        Ok(if !check.can_deploy {
            ActionResult::fail(
                "The key is valid but lacks the deploy permission (deployments:create).",
            )
        } else if !check.deploy_api_accepts {
            ActionResult::fail("The Deploy API does not accept the key.")
        } else {
            ActionResult::pass()
        })
    }

    /// List a user's permissions; with `require`, the step fails when it is missing.
    pub(super) async fn rb_act_permissions<P: Fn(StepOutput) + Send + Sync>(
        &self,
        profile: &ProfileContext<'_>,
        user: &Option<String>,
        require: &Option<String>,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let key = profile.deploy_key()?;
        let auth = profile.auth();
        let user = match user {
            Some(u) => u.clone(),
            None => auth.validate_key(&key).await?.user_id.ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidResponse,
                    "The auth service did not say whose key this is; give user= in the runbook.",
                )
            })?,
        };
        let perms = auth.permissions(&key, &user).await?;
        sink.emit(&format!(
            "{user}: {}",
            if perms.is_empty() {
                "no permissions".to_owned()
            } else {
                perms.join(", ")
            }
        ))
        .await
        .map_err(Failure::Store)?;
        match require {
            Some(r) if !perms.iter().any(|p| p == r) => Ok(ActionResult::fail(format!(
                "{user} lacks the permission {r}."
            ))),
            _ => Ok(ActionResult::pass()),
        }
    }
}
