//! Each step action's execution: one short function per action kind, called with what the
//! step's plan resolved; output streams through the step's [`OutputSink`].

mod command;
mod deployments;
mod deploys;
mod health;
mod keys;
mod logs;
mod namespaces;

use switchyard_core::{AppError, Environment};

use super::output::OutputSink;
use super::{Loaded, ResolvedStepAction, StepOutput, StepRunRequest};
use crate::context::ProfileContext;
use crate::Ops;
use deploys::{DeployCall, Route};

/// An action's outcome: passed or failed with a message; output was streamed on the way.
pub(super) struct ActionResult {
    pub(super) passed: bool,
    pub(super) error: Option<String>,
}

impl ActionResult {
    fn pass() -> ActionResult {
        ActionResult {
            passed: true,
            error: None,
        }
    }
    fn fail(message: impl Into<String>) -> ActionResult {
        ActionResult {
            passed: false,
            error: Some(message.into()),
        }
    }
}

/// Why an action did not produce an outcome: its own failure (the step fails) or the store's
/// (the step cannot be recorded; the run is left as a crash would leave it).
enum Failure {
    Action(AppError),
    Store(AppError),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::Action(e)
    }
}

impl Ops {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn execute_step_action<P: Fn(StepOutput) + Send + Sync>(
        &self,
        loaded: &Loaded,
        profile: &ProfileContext<'_>,
        step_index: u32,
        action: &ResolvedStepAction,
        request: &StepRunRequest,
        sink: &mut OutputSink<'_, P>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<ActionResult, AppError> {
        let pid = profile.id.as_str();
        let env = |e: &Option<Environment>| e.unwrap_or(profile.environment);
        let ns = |n: &Option<String>| n.clone().unwrap_or_else(|| profile.namespace.clone());
        let call = || DeployCall::new(loaded, step_index, request);
        // The action's own failures and the store's are told apart once it is done. Each action's
        // future is boxed: a deploy action's is large, and a step's future holding every
        // action's inline overflowed a 2 MiB thread stack in a debug build.
        let result: Result<ActionResult, Failure> = async {
            match action {
                ResolvedStepAction::Health { target, service } => {
                    Box::pin(self.rb_act_health(profile, target, service, sink)).await
                }
                ResolvedStepAction::Deployments {
                    service,
                    environment,
                    limit,
                    status,
                } => {
                    Box::pin(self.rb_act_deployments(
                        profile,
                        service,
                        *environment,
                        *limit,
                        *status,
                        sink,
                    ))
                    .await
                }
                ResolvedStepAction::Logs { service, seconds } => {
                    Box::pin(self.rb_act_logs(pid, service, *seconds, stop, sink)).await
                }
                ResolvedStepAction::NamespaceList => {
                    Box::pin(self.rb_act_namespace_list(pid, sink)).await
                }
                ResolvedStepAction::NamespaceGet { namespace } => {
                    Box::pin(self.rb_act_namespace_get(pid, ns(namespace), sink)).await
                }
                ResolvedStepAction::NamespaceCreate { namespace } => {
                    Box::pin(self.rb_act_namespace_create(pid, ns(namespace), sink)).await
                }
                ResolvedStepAction::NamespaceScripts { namespace, service } => {
                    Box::pin(self.rb_act_namespace_scripts(pid, ns(namespace), service, sink)).await
                }
                ResolvedStepAction::ValidateKey => {
                    Box::pin(self.rb_act_validate_key(pid, sink)).await
                }
                ResolvedStepAction::Permissions { user, require } => {
                    Box::pin(self.rb_act_permissions(profile, user, require, sink)).await
                }
                ResolvedStepAction::Note { text } => {
                    sink.emit(text).await.map_err(Failure::Store)?;
                    Ok(ActionResult::pass())
                }
                ResolvedStepAction::Command {
                    folder,
                    command,
                    timeout_secs,
                } => {
                    Box::pin(self.rb_run_command(pid, folder, command, *timeout_secs, sink, stop))
                        .await
                }
                ResolvedStepAction::Rollback {
                    service,
                    environment,
                } => {
                    Box::pin(self.rb_act_rollback(pid, service, env(environment), call(), sink))
                        .await
                }
                ResolvedStepAction::Redeploy {
                    service,
                    version,
                    environment,
                } => {
                    let (e, route) = (env(environment), Route::DeployApi);
                    Box::pin(self.rb_act_redeploy(pid, service, version, e, route, call(), sink))
                        .await
                }
                ResolvedStepAction::DirectDeploy {
                    service,
                    version,
                    environment,
                    ..
                } => {
                    let (e, route) = (env(environment), Route::Direct);
                    Box::pin(self.rb_act_redeploy(pid, service, version, e, route, call(), sink))
                        .await
                }
            }
        }
        .await;
        match result {
            Ok(r) => {
                if let Some(e) = &r.error {
                    sink.emit(&format!("✗ {e}")).await?;
                }
                Ok(r)
            }
            // A failed write of the output is the store failing: the step cannot be recorded.
            Err(Failure::Store(e)) => Err(e),
            Err(Failure::Action(e)) => {
                sink.emit(&format!("✗ {}", e.message)).await?;
                Ok(ActionResult::fail(e.message))
            }
        }
    }
}
