//! Preflight checks and the deploy plan: what is deployed now vs what will be, the bindings
//! diff, the pin warning, and the confirmation the risk calls for (checked again on apply).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use switchyard_clients::DeploymentQuery;
use switchyard_core::{
    AppError, Deployment, DeploymentMetadata, DeploymentStatus, Environment, ErrorCode, Profile,
    Protection, RunbookSection, ServiceName,
};
use switchyard_store::{BundleUseKind, DeployPin};

use super::archive::bindings_of;
use super::events::{CheckState, PreflightCheck, PreflightCheckId};
use super::{rfc3339, sha256_hex, version_label};
use crate::context::ProfileContext;
use crate::Ops;

mod preflight;
pub(crate) use preflight::{check_writable, report_preflight, PreflightInput};

/// How much confirmation an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ConfirmationKind {
    /// Goes ahead on the button.
    None,
    /// Needs an explicit "yes" (`Confirmation.confirmed`).
    Confirm,
    /// Needs `phrase` (the service's name) typed exactly (`Confirmation.typed`).
    TypeName,
    /// Not allowed at all (read-only profile); `reason` says why.
    Blocked,
}

/// The confirmation a plan requires, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ConfirmationRequirement {
    pub kind: ConfirmationKind,
    /// What to type for `TypeName`.
    pub phrase: Option<String>,
    pub reason: String,
}

/// The confirmation the operator gave.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct Confirmation {
    pub confirmed: bool,
    pub typed: Option<String>,
    /// The state of the plan the operator confirmed (its `basis`). The engine refuses with
    /// `Conflict` when the platform moved since, so a double submit can never apply twice.
    /// None only from callers that showed no plan (scripts); the window always sends it.
    pub basis: Option<PlanBasis>,
}

/// What a plan was made against: the deployment that was current then (None: nothing was
/// deployed). A confirmation carries it back unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PlanBasis {
    pub current_deployment_id: Option<String>,
    /// The current version's label, for the message when it moved.
    pub current_label: Option<String>,
}

impl PlanBasis {
    pub(crate) fn of(current: Option<&VersionSummary>) -> Self {
        PlanBasis {
            current_deployment_id: current.and_then(|c| c.deployment_id.clone()),
            current_label: current.and_then(|c| c.version_label.clone()),
        }
    }
}

/// Refuse (`Conflict`) when what is current now is not what the confirmed plan was made against.
pub(crate) fn check_basis(
    given: Option<&PlanBasis>,
    now: &PlanBasis,
    what: &str,
) -> Result<(), AppError> {
    let Some(given) = given else { return Ok(()) };
    if given.current_deployment_id == now.current_deployment_id {
        return Ok(());
    }
    let words = |b: &PlanBasis| match (&b.current_deployment_id, &b.current_label) {
        (None, _) => "nothing was deployed".to_owned(),
        (Some(id), Some(l)) if !l.is_empty() => format!("{l} ({id}) was current"),
        (Some(id), _) => format!("{id} was current"),
    };
    let now_words = words(now)
        .replace(" was current", " is current")
        .replace("nothing was deployed", "nothing is deployed");
    Err(AppError::new(
        ErrorCode::Conflict,
        format!(
            "Nothing was changed: the plan you confirmed for {what} was made when {}, but now {now_words}. The platform moved in between (another deploy, rollback, or this one submitted twice). Look at the new plan and confirm again.",
            words(given)
        ),
    ))
}

/// One side of a plan: a deployed or to-be-deployed version. Unknown fields are None.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct VersionSummary {
    pub deployment_id: Option<String>,
    /// The version tag (metadata.version, else the short commit).
    pub version_label: Option<String>,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub author: Option<String>,
    /// RFC 3339.
    pub timestamp: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub size_bytes: Option<u64>,
    pub sha256: Option<String>,
    /// Service bindings (binding name → service), when known.
    pub bindings: Option<BTreeMap<String, String>>,
}

/// A binding as the Deploy API sends it: name → service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BindingTarget {
    pub name: String,
    pub service: String,
}

/// A binding bound to another service than before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ServiceBindingChange {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// How the bindings change from what is deployed to what will be.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DeployBindingsDiff {
    /// False when the current bindings are unknown (then everything new shows as added).
    pub known: bool,
    pub added: Vec<BindingTarget>,
    pub removed: Vec<BindingTarget>,
    pub changed: Vec<ServiceBindingChange>,
    pub unchanged: u32,
}

/// What a deploy (or a rollback to an archived version, or a direct deploy) will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DeployPlan {
    pub profile_id: String,
    pub service: String,
    pub environment: Environment,
    pub namespace: String,
    pub kind: BundleUseKind,
    /// What is deployed now (None when nothing is).
    pub current: Option<VersionSummary>,
    /// What will be deployed.
    pub next: VersionSummary,
    pub bindings: DeployBindingsDiff,
    /// The pin this deploy would replace.
    pub pin: Option<DeployPin>,
    /// Things to read before confirming (pin, same bundle again, unknown current state…).
    pub warnings: Vec<String>,
    pub confirmation: ConfirmationRequirement,
    /// The button's label, e.g. "Deploy gateway v1.2.0 to production".
    pub action: String,
    /// What this plan was made against: send it back in the confirmation.
    pub basis: PlanBasis,
}

pub(crate) fn diff_bindings(
    current: Option<&BTreeMap<String, String>>,
    next: &BTreeMap<String, String>,
) -> DeployBindingsDiff {
    let empty = BTreeMap::new();
    let cur = current.unwrap_or(&empty);
    let mut diff = DeployBindingsDiff {
        known: current.is_some(),
        ..DeployBindingsDiff::default()
    };
    for (name, to) in next {
        match cur.get(name) {
            None => diff.added.push(BindingTarget {
                name: name.clone(),
                service: to.clone(),
            }),
            Some(from) if from == to => diff.unchanged += 1,
            Some(from) => diff.changed.push(ServiceBindingChange {
                name: name.clone(),
                from: from.clone(),
                to: to.clone(),
            }),
        }
    }
    for (name, service) in cur {
        if !next.contains_key(name) {
            diff.removed.push(BindingTarget {
                name: name.clone(),
                service: service.clone(),
            });
        }
    }
    diff
}

/// The confirmation `kind` in words for the step list: as required (`given` false) or as given.
pub(crate) fn confirmation_words(kind: ConfirmationKind, given: bool) -> &'static str {
    match (kind, given) {
        (ConfirmationKind::None, _) => "no confirmation needed",
        (ConfirmationKind::Confirm, false) => "needs a tick to confirm",
        (ConfirmationKind::Confirm, true) => "confirmed with a tick",
        (ConfirmationKind::TypeName, false) => "needs the service name typed",
        (ConfirmationKind::TypeName, true) => "confirmed by typing the service name",
        (ConfirmationKind::Blocked, _) => "not allowed with this profile",
    }
}

/// The confirmation an action on `environment` under `profile` needs.
pub(crate) fn confirmation_for(
    profile: &Profile,
    environment: Environment,
    service: &str,
    pinned: bool,
) -> ConfirmationRequirement {
    if profile.protection == Protection::ReadOnly {
        return ConfirmationRequirement {
            kind: ConfirmationKind::Blocked,
            phrase: None,
            reason: format!(
                "Profile \"{}\" is read-only: deploys and rollbacks are disabled. Change its protection in Settings to deploy.",
                profile.name
            ),
        };
    }
    if environment == Environment::Production {
        return ConfirmationRequirement {
            kind: ConfirmationKind::TypeName,
            phrase: Some(service.to_owned()),
            reason: format!("This changes production: type \"{service}\" to go ahead."),
        };
    }
    if profile.protection == Protection::Protected {
        return ConfirmationRequirement {
            kind: ConfirmationKind::Confirm,
            phrase: None,
            reason: format!(
                "Profile \"{}\" is protected: confirm to go ahead.",
                profile.name
            ),
        };
    }
    if pinned {
        return ConfirmationRequirement {
            kind: ConfirmationKind::Confirm,
            phrase: None,
            reason: format!(
                "{service} in {environment} is pinned after a rollback: confirm to deploy over it."
            ),
        };
    }
    ConfirmationRequirement {
        kind: ConfirmationKind::None,
        phrase: None,
        reason: format!("{environment} is not production and the profile is not protected."),
    }
}

/// Check a given confirmation against the requirement (done again on apply, not only in the UI).
pub(crate) fn check_confirmation(
    required: &ConfirmationRequirement,
    given: &Confirmation,
    what: &str,
) -> Result<(), AppError> {
    match required.kind {
        ConfirmationKind::None => Ok(()),
        ConfirmationKind::Blocked => Err(AppError {
            runbook: None,
            ..AppError::new(ErrorCode::InsufficientPermissions, required.reason.clone())
        }),
        ConfirmationKind::Confirm if given.confirmed => Ok(()),
        ConfirmationKind::Confirm => Err(AppError::invalid_input(format!(
            "Nothing was changed: {what} needs your confirmation. {}",
            required.reason
        ))),
        ConfirmationKind::TypeName => {
            let phrase = required.phrase.as_deref().unwrap_or_default();
            if given.typed.as_deref() == Some(phrase) {
                Ok(())
            } else {
                Err(AppError::invalid_input(format!(
                    "Nothing was changed: type the service name \"{phrase}\" exactly to confirm {what}."
                )))
            }
        }
    }
}

/// The dispatch namespace of `environment` under `profile`.
pub(crate) fn namespace_for(profile: &Profile, environment: Environment) -> String {
    if environment == profile.environment {
        profile.namespace.clone()
    } else {
        environment.namespace()
    }
}

impl Ops {
    /// What is deployed now in `service`/`environment`: the newest `deployed` record of the Deploy
    /// API (cached too), with hash, size and bindings from the archive, else (best effort) from
    /// the namespace's worker via Cloudflare.
    pub(crate) async fn current_version(
        &self,
        profile: &ProfileContext<'_>,
        service: &str,
        environment: Environment,
        from_api: bool,
    ) -> Result<(Option<Deployment>, Option<VersionSummary>), AppError> {
        let current = if from_api {
            let list = profile
                .deploy_api()?
                .list(&DeploymentQuery {
                    service: Some(service.to_owned()),
                    environment: Some(environment),
                    limit: Some(20),
                })
                .await?;
            if let Err(e) = self
                .store
                .upsert_deployments(&profile.id, &list.deployments, self.now_ms())
                .await
            {
                tracing::warn!(error = %e.message, "could not cache deployments");
            }
            list.deployments
                .into_iter()
                .find(|d| d.status == DeploymentStatus::Deployed)
        } else {
            self.cached_current(&profile.id, service, environment)
                .await?
        };
        let Some(d) = current else {
            // The Deploy API is not asked (it is down) and the history has no record: what the
            // namespace runs, as its worker says, rather than "nothing deployed".
            if !from_api {
                return Ok((
                    None,
                    self.namespace_current(profile, service, environment).await,
                ));
            }
            return Ok((None, None));
        };
        let mut summary = summary_of(&d);
        if let Some(u) = self.store.bundle_use(&profile.id, &d.id).await? {
            let b = self.store.bundle(&u.sha256).await?;
            summary.sha256 = Some(u.sha256.clone());
            summary.size_bytes = b.map(|b| b.size_bytes.max(0) as u64);
            summary.bindings = Some(bindings_of(&u.bindings));
        } else if let Ok(api) = profile.cloudflare() {
            let ns = profile.dispatch_namespace(environment);
            let worker = match &d.version {
                Some(v) => format!("{service}-{v}"),
                None => service.to_owned(),
            };
            if let Ok(bytes) = api.script_content(&ns, &worker).await {
                summary.sha256 = Some(sha256_hex(&bytes));
                summary.size_bytes = Some(bytes.len() as u64);
            }
            if let Ok(list) = api.script_bindings(&ns, &worker).await {
                summary.bindings = Some(
                    list.iter()
                        .filter(|b| b.get("type").and_then(|t| t.as_str()) == Some("service"))
                        .filter_map(|b| {
                            Some((
                                b.get("name")?.as_str()?.to_owned(),
                                b.get("service")?.as_str()?.to_owned(),
                            ))
                        })
                        .collect(),
                );
            }
        }
        Ok((Some(d), Some(summary)))
    }

    /// What the environment's namespace runs as `service`, from its worker (tags, content,
    /// bindings), when the history cannot say. None when there is no such worker or no token.
    async fn namespace_current(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        service: &str,
        environment: Environment,
    ) -> Option<VersionSummary> {
        let api = profile.cloudflare().ok()?;
        let ns = profile.dispatch_namespace(environment);
        let script = api.get_script(&ns, service).await.ok()?;
        let row = crate::namespaces::WorkerRow::from_script(script);
        let bytes = api.script_content(&ns, service).await.ok();
        let bindings = api.script_bindings(&ns, service).await.ok().map(|list| {
            list.iter()
                .filter(|b| b.get("type").and_then(|t| t.as_str()) == Some("service"))
                .filter_map(|b| {
                    Some((
                        b.get("name")?.as_str()?.to_owned(),
                        b.get("service")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        });
        let label = row
            .version
            .clone()
            .or_else(|| row.commit.as_deref().map(short))
            .unwrap_or_else(|| format!("the worker in {ns} (no version tag)"));
        Some(VersionSummary {
            deployment_id: None,
            version_label: Some(label),
            commit: row.commit,
            branch: row.branch,
            author: None,
            timestamp: row.modified_on,
            size_bytes: bytes.as_ref().map(|b| b.len() as u64),
            sha256: bytes.as_ref().map(|b| sha256_hex(b)),
            bindings,
        })
    }

    /// The newest cached `deployed` record of a service/environment.
    pub(crate) async fn cached_current(
        &self,
        profile_id: &str,
        service: &str,
        environment: Environment,
    ) -> Result<Option<Deployment>, AppError> {
        let rows = self
            .store
            .query_deployments(
                profile_id,
                &switchyard_store::DeploymentFilter {
                    service: Some(service.to_owned()),
                    environment: Some(environment),
                    status: Some(DeploymentStatus::Deployed),
                    limit: Some(1),
                    ..Default::default()
                },
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Build the plan of putting `next` in place of what is deployed now.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn build_plan(
        &self,
        profile: &Profile,
        service: &str,
        environment: Environment,
        kind: BundleUseKind,
        next: VersionSummary,
        current: Option<VersionSummary>,
        mut warnings: Vec<String>,
    ) -> Result<DeployPlan, AppError> {
        let pin = self.store.pin(&profile.id, service, environment).await?;
        if let Some(p) = &pin {
            let what = match kind {
                BundleUseKind::Deploy => "Deploying replaces it and removes the pin.",
                _ => "This replaces it with the version chosen here (and pins that one).",
            };
            warnings.insert(
                0,
                format!(
                    "{service} in {environment} is pinned to {} ({}) since {} after a rollback by {}: \"{}\". {what}",
                    p.version_label,
                    p.deployment_id,
                    rfc3339(p.pinned_ms),
                    p.actor,
                    p.reason
                ),
            );
        }
        match &current {
            None => warnings.push(format!(
                "Nothing is deployed to {service} in {environment} yet: this is its first deployment."
            )),
            Some(c) => {
                if c.sha256.is_some() && c.sha256 == next.sha256 {
                    warnings.push(format!(
                        "The bundle is the same as what is deployed now ({}).",
                        c.version_label.clone().unwrap_or_default()
                    ));
                }
                if c.bindings.is_none() {
                    warnings.push(
                        "The current bindings are unknown (not deployed through Switchyard and no Cloudflare token to read them)."
                            .into(),
                    );
                }
            }
        }
        let bindings = diff_bindings(
            current.as_ref().and_then(|c| c.bindings.as_ref()),
            next.bindings.as_ref().unwrap_or(&BTreeMap::new()),
        );
        if !bindings.removed.is_empty() {
            let removed: Vec<String> = bindings
                .removed
                .iter()
                .map(|b| format!("{} → {}", b.name, b.service))
                .collect();
            warnings.push(format!(
                "This removes the service binding{} {}: {service} can no longer call through {} (the runbook's \"Missing Service Bindings\").",
                if removed.len() == 1 { "" } else { "s" },
                removed.join(", "),
                if removed.len() == 1 { "it" } else { "them" },
            ));
        }
        let confirmation = confirmation_for(profile, environment, service, pin.is_some());
        let label = next.version_label.clone().unwrap_or_default();
        let action = match kind {
            BundleUseKind::Deploy => format!("Deploy {service} {label} to {environment}"),
            BundleUseKind::Rollback => format!("Roll {service} in {environment} back to {label}"),
            BundleUseKind::Direct => format!(
                "Upload {service} {label} straight to {} (bypassing the Deploy API)",
                namespace_for(profile, environment)
            ),
        };
        Ok(DeployPlan {
            profile_id: profile.id.clone(),
            service: service.to_owned(),
            environment,
            namespace: namespace_for(profile, environment),
            kind,
            basis: PlanBasis::of(current.as_ref()),
            current,
            next,
            bindings,
            pin,
            warnings,
            confirmation,
            action,
        })
    }
}

fn short(commit: &str) -> String {
    switchyard_core::short_commit(commit)
}

/// A deployment record as one side of a plan.
pub(crate) fn summary_of(d: &Deployment) -> VersionSummary {
    VersionSummary {
        deployment_id: Some(d.id.clone()),
        version_label: Some(
            d.version_tag.clone().unwrap_or_else(|| {
                version_label(d.metadata.version.as_deref(), &d.metadata.commit)
            }),
        ),
        commit: Some(d.metadata.commit.clone()),
        branch: Some(d.metadata.branch.clone()),
        author: Some(d.metadata.author.clone()),
        timestamp: Some(d.timestamp.clone()),
        size_bytes: None,
        sha256: None,
        bindings: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn bindings_diff_sorts_added_removed_changed() {
        let d = diff_bindings(
            Some(&map(&[("A", "a"), ("B", "b"), ("C", "c")])),
            &map(&[("A", "a"), ("B", "b2"), ("D", "d")]),
        );
        assert!(d.known);
        assert_eq!(d.unchanged, 1);
        assert_eq!(
            d.added,
            vec![BindingTarget {
                name: "D".into(),
                service: "d".into()
            }]
        );
        assert_eq!(
            d.removed,
            vec![BindingTarget {
                name: "C".into(),
                service: "c".into()
            }]
        );
        assert_eq!(d.changed[0].from, "b");
        let unknown = diff_bindings(None, &map(&[("A", "a")]));
        assert!(!unknown.known);
        assert_eq!(unknown.added.len(), 1);
    }

    #[test]
    fn confirmation_matches_risk_and_is_checked() {
        let mut p = Profile::for_environment("s", "Staging", Environment::Staging);
        let none = confirmation_for(&p, Environment::Staging, "db", false);
        assert_eq!(none.kind, ConfirmationKind::None);
        assert!(check_confirmation(&none, &Confirmation::default(), "x").is_ok());
        assert_eq!(
            confirmation_for(&p, Environment::Staging, "db", true).kind,
            ConfirmationKind::Confirm
        );

        let prod = confirmation_for(&p, Environment::Production, "db", false);
        assert_eq!(prod.kind, ConfirmationKind::TypeName);
        let yes = Confirmation {
            confirmed: true,
            ..Confirmation::default()
        };
        assert_eq!(
            check_confirmation(&prod, &yes, "x").unwrap_err().code,
            ErrorCode::InvalidInput
        );
        let typed = Confirmation {
            typed: Some("db".into()),
            ..Confirmation::default()
        };
        assert!(check_confirmation(&prod, &typed, "x").is_ok());

        p.protection = Protection::Protected;
        let c = confirmation_for(&p, Environment::Staging, "db", false);
        assert_eq!(c.kind, ConfirmationKind::Confirm);
        assert!(check_confirmation(&c, &Confirmation::default(), "x").is_err());
        assert!(check_confirmation(&c, &yes, "x").is_ok());

        p.protection = Protection::ReadOnly;
        let b = confirmation_for(&p, Environment::Staging, "db", false);
        assert_eq!(b.kind, ConfirmationKind::Blocked);
        let e = check_confirmation(&b, &typed, "x").unwrap_err();
        assert_eq!(e.code, ErrorCode::InsufficientPermissions);
        assert!(e.message.contains("read-only"));
    }
}
