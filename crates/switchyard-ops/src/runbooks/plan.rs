//! What a step will do before it runs: its action resolved with the run's inputs and the
//! operator's values (profile defaults filled in), the plan shown, the confirmation it asks for
//! and its check; and the gates: why a run whose gate failed ends escalated.

use std::collections::BTreeMap;

use switchyard_core::{AppError, Environment, ErrorCode, Profile, Protection};

use super::records::{inputs_of, no_step, params_of, step_label};
use super::{
    HealthTarget, Loaded, ResolvedStepAction, Runbook, StepAction, StepConfirmation,
    StepConfirmationKind, StepPlan,
};
use crate::Ops;

impl Ops {
    /// What running step `step_index` will do with `values`, and the confirmation it needs.
    pub async fn step_plan(
        &self,
        run_id: &str,
        step_index: u32,
        values: BTreeMap<String, String>,
    ) -> Result<StepPlan, AppError> {
        let loaded = {
            let lock = self.runbooks.lock_for(run_id);
            let _guard = lock.lock().await;
            self.rb_load(run_id).await?
        };
        let profile = self.for_profile(&loaded.run.profile_id).await?;
        let (action, _) = resolve_step(&loaded, &profile, step_index, &values)?;
        self.rb_plan_for(&loaded, &profile, step_index, &action)
            .await
    }

    /// The plan of a resolved action: what it does, and the confirmation it needs.
    pub(super) async fn rb_plan_for(
        &self,
        loaded: &Loaded,
        profile: &Profile,
        step_index: u32,
        action: &ResolvedStepAction,
    ) -> Result<StepPlan, AppError> {
        let env = |e: &Option<Environment>| e.unwrap_or(profile.environment);
        let ns = |n: &Option<String>| n.clone().unwrap_or_else(|| profile.namespace.clone());
        let display = action.display();
        let read_only = profile.protection == Protection::ReadOnly;
        let blocked = |what: &str| {
            StepConfirmation {
            kind: StepConfirmationKind::Blocked,
            phrase: None,
            reason: format!(
                "Profile \"{}\" is read-only, so {what} is disabled. Change its protection in Settings to make changes.",
                profile.name
            ),
        }
        };
        let none = StepConfirmation {
            kind: StepConfirmationKind::None,
            phrase: None,
            reason: "Reads only; changes nothing.".into(),
        };
        let mut plan = StepPlan {
            run_id: loaded.run.id.clone(),
            step_index,
            action: action.name().to_owned(),
            display: display.clone(),
            summary: String::new(),
            params: params_of(action),
            mutates: false,
            command: None,
            folder: None,
            timeout_secs: None,
            confirmation: none,
            basis: None,
        };
        match action {
            ResolvedStepAction::Health { target, service } => {
                plan.summary = match (target, service) {
                    (HealthTarget::Services, Some(s)) => format!("Check the health of {s}"),
                    (HealthTarget::Services, None) => "Check the health of every service".into(),
                    (HealthTarget::Dispatcher, _) => "Check the dispatcher's health".into(),
                    (HealthTarget::DeployApi, _) => "Check the Deploy API's health".into(),
                }
            }
            ResolvedStepAction::Deployments {
                service,
                environment,
                limit,
                status,
            } => {
                plan.summary = format!(
                    "List the last {limit} deployments{}{}{}",
                    service
                        .as_ref()
                        .map(|s| format!(" of {s}"))
                        .unwrap_or_default(),
                    environment.map(|e| format!(" in {e}")).unwrap_or_default(),
                    status.map(|s| format!(", {s} only")).unwrap_or_default()
                )
            }
            ResolvedStepAction::Logs { service, seconds } => {
                plan.summary = format!(
                    "Capture what {service}'s code logs for {seconds} seconds (its requests, console lines and exceptions)"
                )
            }
            ResolvedStepAction::NamespaceList => {
                plan.summary = "List the dispatch namespaces".into()
            }
            ResolvedStepAction::NamespaceGet { namespace } => {
                plan.summary = format!("Read namespace {}", ns(namespace))
            }
            ResolvedStepAction::NamespaceScripts { namespace, service } => {
                plan.summary = format!(
                    "List the workers of {}{}",
                    ns(namespace),
                    service
                        .as_ref()
                        .map(|s| format!(" and look for {s}"))
                        .unwrap_or_default()
                )
            }
            ResolvedStepAction::ValidateKey => {
                plan.summary = "Test the profile's Deploy API key".into()
            }
            ResolvedStepAction::Permissions { user, require } => {
                plan.summary = format!(
                    "List the permissions of {}{}",
                    user.clone().unwrap_or_else(|| "the key's user".into()),
                    require
                        .as_ref()
                        .map(|r| format!(" and look for {r}"))
                        .unwrap_or_default()
                )
            }
            ResolvedStepAction::Note { .. } => plan.summary = "Add a note to the run".into(),
            ResolvedStepAction::NamespaceCreate { namespace } => {
                let name = ns(namespace);
                plan.mutates = true;
                plan.summary = format!("Create dispatch namespace {name}");
                plan.confirmation = if read_only {
                    blocked("creating a namespace")
                } else if profile.environment == Environment::Production {
                    StepConfirmation {
                        kind: StepConfirmationKind::TypeName,
                        phrase: Some(name.clone()),
                        reason: format!("This changes production: type {name} to create it."),
                    }
                } else {
                    StepConfirmation {
                        kind: StepConfirmationKind::Confirm,
                        phrase: Some(display.clone()),
                        reason: format!(
                            "Creates namespace {name} in the account of \"{}\".",
                            profile.name
                        ),
                    }
                };
            }
            ResolvedStepAction::Command {
                folder,
                command,
                timeout_secs,
            } => {
                plan.mutates = true;
                plan.summary = format!("Run `{command}` in {folder}");
                plan.command = Some(command.clone());
                plan.folder = Some(folder.clone());
                plan.timeout_secs = Some(*timeout_secs);
                plan.confirmation = if read_only {
                    blocked("running local commands")
                } else {
                    StepConfirmation {
                        kind: StepConfirmationKind::Confirm,
                        phrase: Some(command.clone()),
                        reason: format!("Runs this command on this computer, in {folder}, for at most {timeout_secs} s."),
                    }
                };
            }
            ResolvedStepAction::Rollback {
                service,
                environment,
            } => {
                plan.mutates = true;
                let e = env(environment);
                plan.summary = format!("Roll {service} in {e} back to its previous deployment");
                let p = self.rollback_plan(&profile.id, service, e).await?;
                plan.confirmation = confirmation_from(
                    &p.confirmation,
                    &display,
                    read_only,
                    p.blocked_reason.as_deref(),
                );
                if !p.action.is_empty() {
                    plan.summary = p.action.clone();
                }
                plan.basis = Some(p.basis);
            }
            ResolvedStepAction::Redeploy {
                service,
                version,
                environment,
            } => {
                plan.mutates = true;
                let e = env(environment);
                let deployment_id = self
                    .rb_archived_deployment(&profile.id, service, e, version)
                    .await?;
                let p = self.restore_plan(&profile.id, &deployment_id).await?;
                plan.summary = if p.action.is_empty() {
                    format!("Redeploy {service} {version} in {e}")
                } else {
                    p.action.clone()
                };
                plan.confirmation = confirmation_from(&p.confirmation, &display, read_only, None);
                plan.basis = Some(p.basis);
            }
            ResolvedStepAction::DirectDeploy {
                service,
                version,
                namespace,
                environment,
            } => {
                plan.mutates = true;
                let e = env(environment);
                let deployment_id = self
                    .rb_archived_deployment(&profile.id, service, e, version)
                    .await?;
                let p = self
                    .direct_deploy_plan(&profile.id, &deployment_id, Some(e))
                    .await?;
                if let Some(n) = namespace {
                    if *n != p.namespace {
                        return Err(AppError::invalid_input(format!(
                            "The direct deploy goes to {} (the namespace of {e}), not {n}: set environment= to the namespace's environment.",
                            p.namespace
                        )));
                    }
                }
                plan.summary = if p.action.is_empty() {
                    format!(
                        "Upload {service} {version} straight to namespace {}",
                        p.namespace
                    )
                } else {
                    p.action.clone()
                };
                plan.confirmation = confirmation_from(&p.confirmation, &display, read_only, None);
                plan.basis = Some(p.basis);
            }
        }
        Ok(plan)
    }

    /// The deployment id of an archived `version` of a service (a deployment id is taken as is).
    pub(super) async fn rb_archived_deployment(
        &self,
        profile_id: &str,
        service: &str,
        environment: Environment,
        version: &str,
    ) -> Result<String, AppError> {
        if version.starts_with("deploy_") {
            return Ok(version.to_owned());
        }
        let list = self.versions(profile_id, service, environment).await?;
        let matching: Vec<_> = list
            .rows
            .iter()
            .filter(|r| {
                r.deployment.version_tag.as_deref() == Some(version)
                    || r.deployment.version.as_deref() == Some(version)
                    || r.deployment.metadata.version.as_deref() == Some(version)
                    || r.deployment.metadata.commit.starts_with(version) && version.len() >= 7
            })
            .collect();
        match matching.iter().find(|r| r.restorable).or(matching.first()) {
            Some(r) => Ok(r.deployment.id.clone()),
            None => Err(AppError::new(
                ErrorCode::NotFound,
                format!("{service} in {environment} has no archived version \"{version}\". Pick one from the versions list (Deployments → {service})."),
            )),
        }
    }
}

/// Fill in what defaults to the profile's: the environment of a rollback, redeploy or direct
/// deploy, the namespace of namespace actions. Plans, timelines and reports then say exactly
/// what ran.
fn with_profile_defaults(action: ResolvedStepAction, profile: &Profile) -> ResolvedStepAction {
    let env = |e: Option<Environment>| Some(e.unwrap_or(profile.environment));
    let ns = |n: Option<String>| Some(n.unwrap_or_else(|| profile.namespace.clone()));
    match action {
        ResolvedStepAction::Rollback {
            service,
            environment,
        } => ResolvedStepAction::Rollback {
            service,
            environment: env(environment),
        },
        ResolvedStepAction::Redeploy {
            service,
            version,
            environment,
        } => ResolvedStepAction::Redeploy {
            service,
            version,
            environment: env(environment),
        },
        ResolvedStepAction::DirectDeploy {
            service,
            version,
            namespace,
            environment,
        } => ResolvedStepAction::DirectDeploy {
            service,
            version,
            namespace,
            environment: env(environment),
        },
        ResolvedStepAction::NamespaceGet { namespace } => ResolvedStepAction::NamespaceGet {
            namespace: ns(namespace),
        },
        ResolvedStepAction::NamespaceCreate { namespace } => ResolvedStepAction::NamespaceCreate {
            namespace: ns(namespace),
        },
        ResolvedStepAction::NamespaceScripts { namespace, service } => {
            ResolvedStepAction::NamespaceScripts {
                namespace: ns(namespace),
                service,
            }
        }
        other => other,
    }
}

fn confirmation_from(
    req: &crate::ConfirmationRequirement,
    display: &str,
    read_only: bool,
    blocked_reason: Option<&str>,
) -> StepConfirmation {
    use crate::ConfirmationKind as K;
    // A plan blocked for another reason than the profile (no previous deployment…) still runs:
    // the call fails with that reason and the step records it.
    let _ = blocked_reason;
    match req.kind {
        K::Blocked => StepConfirmation {
            kind: StepConfirmationKind::Blocked,
            phrase: None,
            reason: req.reason.clone(),
        },
        _ if read_only => StepConfirmation {
            kind: StepConfirmationKind::Blocked,
            phrase: None,
            reason: req.reason.clone(),
        },
        K::TypeName => StepConfirmation {
            kind: StepConfirmationKind::TypeName,
            phrase: req.phrase.clone(),
            reason: req.reason.clone(),
        },
        // Every change made from a runbook is confirmed, even where the Deploy area would not ask.
        K::Confirm | K::None => StepConfirmation {
            kind: StepConfirmationKind::Confirm,
            phrase: Some(display.to_owned()),
            reason: req.reason.clone(),
        },
    }
}

pub(super) fn check_confirmation(plan: &StepPlan, given: Option<&str>) -> Result<(), AppError> {
    match plan.confirmation.kind {
        StepConfirmationKind::None => Ok(()),
        // Blocked is a read-only profile: its own setting, not a platform permission.
        StepConfirmationKind::Blocked => Err(AppError::new(
            ErrorCode::ReadOnlyProfile,
            plan.confirmation.reason.clone(),
        )),
        StepConfirmationKind::Confirm | StepConfirmationKind::TypeName => {
            let phrase = plan.confirmation.phrase.as_deref().unwrap_or_default();
            match given {
                Some(g) if g == phrase => Ok(()),
                None => Err(AppError::invalid_input(format!(
                    "Nothing was run: \"{}\" needs confirmation. {}",
                    plan.summary, plan.confirmation.reason
                ))),
                Some(_) if plan.action == "command" => Err(AppError::invalid_input(format!(
                    "Nothing was run: the confirmed command is not the one this step runs now, which is:\n{phrase}\nReview it and confirm again."
                ))),
                Some(_) if plan.confirmation.kind == StepConfirmationKind::TypeName => Err(AppError::invalid_input(format!(
                    "Nothing was run: type \"{phrase}\" exactly to confirm."
                ))),
                Some(_) => Err(AppError::invalid_input(
                    "Nothing was run: the step changed since it was confirmed. Review the plan and confirm again.",
                )),
            }
        }
    }
}

/// Why the run, if it ended now, would end escalated: the gates that failed and the steps behind
/// them it did not reach. None when no gate failed.
pub(super) fn escalation_note(
    runbook: &Runbook,
    st: &[switchyard_runbooks::StepStatus],
) -> Option<String> {
    let failed = switchyard_runbooks::failed_gates(runbook, st);
    if failed.is_empty() {
        return None;
    }
    // "step 5 …" inside the sentence.
    let gates: Vec<String> = failed
        .iter()
        .map(|&i| {
            let label = step_label(runbook, i);
            let mut chars = label.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => label,
            }
        })
        .collect();
    let mut why = format!(
        "the procedure did not fix the problem: {} failed",
        gates.join(", ")
    );
    let unreached = switchyard_runbooks::not_reached(runbook, st);
    if !unreached.is_empty() {
        let steps: Vec<String> = unreached.iter().map(|i| (i + 1).to_string()).collect();
        why.push_str(&format!(
            "; step{} {} not reached",
            if steps.len() > 1 { "s" } else { "" },
            steps.join(", ")
        ));
    }
    Some(why)
}

/// The step's action resolved with the run's inputs and the operator's values.
pub(super) fn resolve_step(
    loaded: &Loaded,
    profile: &Profile,
    step_index: u32,
    values: &BTreeMap<String, String>,
) -> Result<(ResolvedStepAction, StepAction), AppError> {
    let step = loaded
        .runbook
        .step(step_index)
        .ok_or_else(|| no_step(loaded, step_index))?;
    let label = step_label(&loaded.runbook, step_index);
    let block = step.action.as_ref().ok_or_else(|| {
        AppError::invalid_input(format!(
            "{label} has no action to run: tick its checks, or mark it done."
        ))
    })?;
    let resolved = block
        .action
        .resolve(&inputs_of(&loaded.run), values)
        .map_err(|problems| {
            AppError::invalid_input(format!("{label} cannot run yet: {}.", problems.join("; ")))
        })?;
    Ok((
        with_profile_defaults(resolved, profile),
        block.action.clone(),
    ))
}
