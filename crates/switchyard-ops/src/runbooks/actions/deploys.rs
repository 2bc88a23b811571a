//! `rollback`, `redeploy`, `direct-deploy`: the Deploy area's operations, run from a step with
//! its confirmation, their progress streamed into the step's output.

use std::sync::{Arc, Mutex};

use switchyard_core::Environment;

use super::{ActionResult, Failure, Ops, OutputSink, StepOutput};
use crate::runbooks::records::step_label;
use crate::runbooks::{Loaded, StepRunRequest, MAX_STEP_OUTPUT_BYTES};

/// What a deploy operation run from a step is told: why (the runbook, step and run, for the
/// audit log) and the operator's confirmation.
pub(super) struct DeployCall {
    reason: String,
    confirmation: crate::Confirmation,
}

impl DeployCall {
    pub(super) fn new(loaded: &Loaded, step_index: u32, request: &StepRunRequest) -> DeployCall {
        let reason = format!(
            "Runbook \"{}\", {} (run {})",
            loaded.runbook.title,
            step_label(&loaded.runbook, step_index),
            loaded.run.id
        );
        let confirmation = crate::Confirmation {
            confirmed: true,
            typed: request.confirmation.clone(),
            basis: request.basis.clone(),
        };
        DeployCall {
            reason,
            confirmation,
        }
    }
}

/// How an archived version is deployed again: through the Deploy API (`redeploy`), or
/// uploaded straight to the namespace (`direct-deploy`, for when the Deploy API is down).
pub(super) enum Route {
    DeployApi,
    Direct,
}

/// A deploy operation a step runs, with what its summary line needs.
enum Operation<'a> {
    Rollback(crate::RollbackRequest),
    Restore(crate::RestoreRequest, &'a str),
    Direct(crate::DirectDeployRequest),
}

impl Ops {
    /// Roll the service back to its previous deployment.
    pub(super) async fn rb_act_rollback<P: Fn(StepOutput) + Send + Sync>(
        &self,
        pid: &str,
        service: &str,
        environment: Environment,
        call: DeployCall,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let request = crate::RollbackRequest {
            profile_id: pid.to_owned(),
            service: service.to_owned(),
            environment,
            reason: call.reason,
            confirmation: call.confirmation,
            run_id: None,
        };
        self.rb_deploy(Operation::Rollback(request), sink).await
    }

    /// Deploy an archived version of the service again, by `route`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn rb_act_redeploy<P: Fn(StepOutput) + Send + Sync>(
        &self,
        pid: &str,
        service: &str,
        version: &str,
        environment: Environment,
        route: Route,
        call: DeployCall,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let deployment_id = self
            .rb_archived_deployment(pid, service, environment, version)
            .await?;
        let profile_id = pid.to_owned();
        let (reason, confirmation) = (call.reason, call.confirmation);
        let operation = match route {
            Route::DeployApi => Operation::Restore(
                crate::RestoreRequest {
                    profile_id,
                    deployment_id,
                    reason,
                    confirmation,
                    run_id: None,
                },
                version,
            ),
            Route::Direct => Operation::Direct(crate::DirectDeployRequest {
                profile_id,
                deployment_id,
                environment: Some(environment),
                reason,
                confirmation,
                run_id: None,
            }),
        };
        self.rb_deploy(operation, sink).await
    }

    /// Run the operation with its progress streamed into the step's output, then store what
    /// it streamed and its summary.
    async fn rb_deploy<P: Fn(StepOutput) + Send + Sync>(
        &self,
        operation: Operation<'_>,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let events = deploy_event_sink(&lines, sink.progress, &sink.run_id, sink.step);
        // Each operation's future is boxed: they are large, and one holding all three inline
        // overflowed a 2 MiB thread stack in a debug build.
        let summary = match operation {
            Operation::Rollback(request) => Box::pin(self.rollback(request, events)).await.map(|o| {
                format!(
                    "{} in {} is back on {} ({}).\nhealth: {}",
                    o.deployment.service,
                    o.deployment.environment,
                    o.deployment
                        .version_tag
                        .as_deref()
                        .unwrap_or("the previous version"),
                    o.deployment.id,
                    health_word(&o.verification)
                )
            }),
            Operation::Restore(request, version) => {
                Box::pin(self.restore_version(request, events)).await.map(|o| {
                    format!(
                        "Deployed {} {} ({}).\nhealth: {}",
                        o.deployment.service,
                        o.deployment.version_tag.as_deref().unwrap_or(version),
                        o.deployment.id,
                        health_word(&o.verification)
                    )
                })
            }
            Operation::Direct(request) => Box::pin(self.direct_deploy(request, events)).await.map(|o| {
                format!(
                    "Uploaded {} straight to namespace {} (recorded in the audit log as a manual deployment).\nhealth: {}",
                    o.script,
                    o.namespace,
                    health_word(&o.verification)
                )
            }),
        };
        flush_lines(&lines, sink).await?;
        sink.emit(&summary?).await.map_err(Failure::Store)?;
        Ok(ActionResult::pass())
    }
}

fn deploy_event_sink<'a>(
    lines: &'a Arc<Mutex<Vec<String>>>,
    progress: &'a (impl Fn(StepOutput) + Send + Sync),
    run_id: &'a str,
    step_index: u32,
) -> impl Fn(crate::DeployEvent) + Send + Sync + 'a {
    move |e| {
        let text = match e {
            crate::DeployEvent::Step(s) => {
                let state = serde_json::to_value(s.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let step = serde_json::to_value(s.step)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                match s.detail {
                    Some(d) => format!("[{step}] {state}: {d}"),
                    None => format!("[{step}] {state}"),
                }
            }
            crate::DeployEvent::Output(o) => o.line,
            crate::DeployEvent::Preflight(p) => p
                .checks
                .iter()
                .map(|c| format!("preflight {}: {}", c.label, c.detail))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        progress(StepOutput {
            run_id: run_id.to_owned(),
            step_index,
            text: format!("{text}\n"),
        });
        lines.lock().expect("deploy output").push(text);
    }
}

/// Store what a deploy operation streamed (it was already shown live).
async fn flush_lines<P: Fn(StepOutput) + Send + Sync>(
    lines: &Arc<Mutex<Vec<String>>>,
    sink: &mut OutputSink<'_, P>,
) -> Result<(), Failure> {
    let text = std::mem::take(&mut *lines.lock().expect("deploy output")).join("\n");
    if text.is_empty() {
        return Ok(());
    }
    // Already streamed: store without showing twice.
    let stored = format!("{text}\n");
    if sink.stored + stored.len() <= MAX_STEP_OUTPUT_BYTES {
        sink.stored += stored.len();
        sink.ops.runbooks.spend_write().map_err(Failure::Store)?;
        sink.ops
            .store
            .append_step_output(&sink.run_id, sink.step, &stored)
            .await
            .map_err(Failure::Store)?;
    }
    Ok(())
}

/// "ok", or what the health check found.
fn health_word(v: &crate::Verification) -> &str {
    if v.health_ok {
        "ok"
    } else {
        v.health_detail.as_str()
    }
}
