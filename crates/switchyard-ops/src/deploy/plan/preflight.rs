//! The preflight checks of a deploy, rollback or direct deploy: the profile allows changes, the
//! service is the profile's, the key (or token) is there and may deploy, the bundle fits, the
//! metadata is filled in — each reported on its own.

use super::*;

/// Refuse a read-only profile, naming it.
pub(crate) fn check_writable(profile: &Profile) -> PreflightCheck {
    if profile.protection == Protection::ReadOnly {
        let error = AppError::read_only(&profile.name, "deploying");
        return failed(
            PreflightCheckId::ProfileWritable,
            "The profile allows changes",
            error,
        );
    }
    passed(
        PreflightCheckId::ProfileWritable,
        "The profile allows changes",
        format!("{:?}", profile.protection).to_lowercase(),
    )
}

pub(crate) fn passed(
    id: PreflightCheckId,
    label: &str,
    detail: impl Into<String>,
) -> PreflightCheck {
    PreflightCheck {
        id,
        label: label.to_owned(),
        state: CheckState::Passed,
        detail: detail.into(),
        error: None,
    }
}

pub(crate) fn failed(id: PreflightCheckId, label: &str, error: AppError) -> PreflightCheck {
    PreflightCheck {
        id,
        label: label.to_owned(),
        state: CheckState::Failed,
        detail: error.message.clone(),
        error: Some(error),
    }
}

fn skipped(id: PreflightCheckId, label: &str, why: &str) -> PreflightCheck {
    PreflightCheck {
        id,
        label: label.to_owned(),
        state: CheckState::Skipped,
        detail: why.to_owned(),
        error: None,
    }
}

/// The first failed check's error, if any.
pub(crate) fn first_failure(checks: &[PreflightCheck]) -> Option<AppError> {
    checks
        .iter()
        .find(|c| c.state == CheckState::Failed)
        .and_then(|c| c.error.clone())
}

/// Shows the checks on the run's Preflight step and ends it: failed with the first failure's
/// error (returned), or passed with how many checks passed.
pub(crate) fn report_preflight(
    progress: &super::super::events::Progress<'_>,
    checks: &[PreflightCheck],
) -> Result<(), AppError> {
    use super::super::events::DeployStepId;
    progress.preflight(checks);
    if let Some(e) = first_failure(checks) {
        progress.failed(DeployStepId::Preflight, &e);
        return Err(e);
    }
    progress.passed(
        DeployStepId::Preflight,
        format!("{} checks passed", checks.len()),
    );
    Ok(())
}

/// What the preflight needs to know about the bundle.
pub(crate) struct PreflightInput<'a> {
    pub service: &'a str,
    pub environment: Environment,
    pub size_bytes: u64,
    pub metadata: Option<&'a DeploymentMetadata>,
    /// Check the Deploy API key (deploys and rollbacks) or the Cloudflare token (direct).
    pub direct: bool,
}

impl Ops {
    /// Run every preflight check, each reported on its own.
    pub(crate) async fn preflight(
        &self,
        profile: &ProfileContext<'_>,
        input: &PreflightInput<'_>,
    ) -> Vec<PreflightCheck> {
        let settings = self.deploy_settings().await.unwrap_or_default();
        let mut checks = vec![check_writable(profile)];

        const SERVICE: &str = "The service is one of the profile's services";
        checks.push(match ServiceName::parse(input.service) {
            Err(e) => failed(PreflightCheckId::Service, SERVICE, e),
            Ok(_) if !profile.services.iter().any(|s| s == input.service) => failed(
                PreflightCheckId::Service,
                SERVICE,
                AppError::new(
                    ErrorCode::ServiceNotFound,
                    format!(
                        "\"{}\" is not a service of profile \"{}\" ({}). Pick one of those, or add it to the profile in Settings.",
                        input.service,
                        profile.name,
                        profile.services.join(", ")
                    ),
                ),
            ),
            Ok(_) => passed(PreflightCheckId::Service, SERVICE, input.service),
        });
        checks.push(passed(
            PreflightCheckId::Environment,
            "The environment and its dispatch namespace",
            format!(
                "{} (namespace {})",
                input.environment,
                profile.dispatch_namespace(input.environment)
            ),
        ));

        if input.direct {
            const TOKEN: &str = "A Cloudflare API token is stored";
            checks.push(match profile.cloudflare_token() {
                Ok(_) => passed(PreflightCheckId::CloudflareToken, TOKEN, "present"),
                Err(e) => failed(PreflightCheckId::CloudflareToken, TOKEN, e),
            });
        } else {
            const PRESENT: &str = "A Deploy API key is stored";
            const VALID: &str = "The auth service accepts the key";
            const PERMISSION: &str = "The key's user may deploy (deployments:create)";
            match profile.deploy_key() {
                Err(e) => {
                    checks.push(failed(PreflightCheckId::KeyPresent, PRESENT, e));
                    checks.push(skipped(
                        PreflightCheckId::KeyValid,
                        VALID,
                        "no key to check",
                    ));
                    checks.push(skipped(
                        PreflightCheckId::Permission,
                        PERMISSION,
                        "no key to check",
                    ));
                }
                Ok(key) => {
                    checks.push(passed(PreflightCheckId::KeyPresent, PRESENT, "present"));
                    match profile.auth().validate_key(&key).await {
                        Err(e) => {
                            checks.push(failed(PreflightCheckId::KeyValid, VALID, e));
                            checks.push(skipped(
                                PreflightCheckId::Permission,
                                PERMISSION,
                                "the key could not be validated",
                            ));
                        }
                        Ok(info) => {
                            let who = info
                                .user_id
                                .clone()
                                .unwrap_or_else(|| "unknown user".into());
                            checks.push(passed(
                                PreflightCheckId::KeyValid,
                                VALID,
                                format!("user {who}"),
                            ));
                            checks.push(if info.can_deploy() {
                                passed(PreflightCheckId::Permission, PERMISSION, format!("{who} has deployments:create"))
                            } else {
                                failed(
                                    PreflightCheckId::Permission,
                                    PERMISSION,
                                    AppError::new(
                                        ErrorCode::InsufficientPermissions,
                                        format!(
                                            "The key's user {who} lacks the deployments:create permission, so the Deploy API would answer 403. Ask an admin to grant it (POST /permissions with resource \"deployments\", action \"create\") or use another key."
                                        ),
                                    )
                                    .with_runbook(RunbookSection::InsufficientPermissions),
                                )
                            });
                        }
                    }
                }
            }
        }

        const SIZE: &str = "The bundle is under the size limit";
        let limit = settings.bundle_size_limit_bytes;
        checks.push(if input.size_bytes > limit {
            failed(
                PreflightCheckId::BundleSize,
                SIZE,
                AppError::new(
                    ErrorCode::BundleTooLarge,
                    format!(
                        "The bundle is {} bytes; the limit is {limit} bytes ({} MiB). Make it smaller (minify, drop unused dependencies) and rebuild.",
                        input.size_bytes,
                        limit / (1024 * 1024)
                    ),
                ),
            )
        } else {
            passed(
                PreflightCheckId::BundleSize,
                SIZE,
                format!("{} of {limit} bytes", input.size_bytes),
            )
        });

        if let Some(m) = input.metadata {
            const META: &str = "Commit, branch and author are filled in";
            let missing: Vec<&str> = [
                ("commit", &m.commit),
                ("branch", &m.branch),
                ("author", &m.author),
            ]
            .into_iter()
            .filter(|(_, v)| v.trim().is_empty())
            .map(|(k, _)| k)
            .collect();
            checks.push(if missing.is_empty() {
                passed(PreflightCheckId::Metadata, META, format!("{} on {} by {}", short(&m.commit), m.branch, m.author))
            } else {
                failed(
                    PreflightCheckId::Metadata,
                    META,
                    AppError::invalid_input(format!(
                        "The Deploy API requires {}: enter {} by hand (the folder's git repository did not provide {}).",
                        missing.join(", "),
                        if missing.len() == 1 { "it" } else { "them" },
                        if missing.len() == 1 { "it" } else { "them" },
                    )),
                )
            });
        }
        checks
    }
}
