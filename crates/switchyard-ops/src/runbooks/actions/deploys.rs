//! `rollback`, `redeploy`, `direct-deploy`: the Deploy area's operations, run from a step with
//! its confirmation, their progress streamed into the step's output.

use std::sync::{Arc, Mutex};

use switchyard_core::Environment;

use super::{ActionResult, Failure};
use crate::runbooks::output::OutputSink;
use crate::runbooks::records::step_label;
use crate::runbooks::{Loaded, StepOutput, StepRunRequest, MAX_STEP_OUTPUT_BYTES};
use crate::Ops;

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
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let outcome = self
            .rollback(
                crate::RollbackRequest {
                    profile_id: pid.to_owned(),
                    service: service.to_owned(),
                    environment,
                    reason: call.reason,
                    confirmation: call.confirmation,
                    run_id: None,
                },
                deploy_event_sink(&lines, sink.progress, &sink.run_id, sink.step),
            )
            .await;
        flush_lines(&lines, sink).await?;
        let o = outcome?;
        sink.emit(&format!(
            "{} in {} is back on {} ({}).\nhealth: {}",
            o.deployment.service,
            o.deployment.environment,
            o.deployment
                .version_tag
                .as_deref()
                .unwrap_or("the previous version"),
            o.deployment.id,
            health_word(&o.verification)
        ))
        .await
        .map_err(Failure::Store)?;
        Ok(ActionResult::pass())
    }

    /// Deploy an archived version of the service again.
    pub(super) async fn rb_act_redeploy<P: Fn(StepOutput) + Send + Sync>(
        &self,
        pid: &str,
        service: &str,
        version: &str,
        environment: Environment,
        call: DeployCall,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let deployment_id = self
            .rb_archived_deployment(pid, service, environment, version)
            .await?;
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let outcome = self
            .restore_version(
                crate::RestoreRequest {
                    profile_id: pid.to_owned(),
                    deployment_id,
                    reason: call.reason,
                    confirmation: call.confirmation,
                    run_id: None,
                },
                deploy_event_sink(&lines, sink.progress, &sink.run_id, sink.step),
            )
            .await;
        flush_lines(&lines, sink).await?;
        let o = outcome?;
        sink.emit(&format!(
            "Deployed {} {} ({}).\nhealth: {}",
            o.deployment.service,
            o.deployment.version_tag.as_deref().unwrap_or(version),
            o.deployment.id,
            health_word(&o.verification)
        ))
        .await
        .map_err(Failure::Store)?;
        Ok(ActionResult::pass())
    }

    /// Upload an archived version straight to the namespace (the Deploy API is down).
    pub(super) async fn rb_act_direct_deploy<P: Fn(StepOutput) + Send + Sync>(
        &self,
        pid: &str,
        service: &str,
        version: &str,
        e: Environment,
        call: DeployCall,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let deployment_id = self
            .rb_archived_deployment(pid, service, e, version)
            .await?;
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let outcome = self
            .direct_deploy(
                crate::DirectDeployRequest {
                    profile_id: pid.to_owned(),
                    deployment_id,
                    environment: Some(e),
                    reason: call.reason,
                    confirmation: call.confirmation,
                    run_id: None,
                },
                deploy_event_sink(&lines, sink.progress, &sink.run_id, sink.step),
            )
            .await;
        flush_lines(&lines, sink).await?;
        let o = outcome?;
        sink.emit(&format!(
            "Uploaded {} straight to namespace {} (recorded in the audit log as a manual deployment).\nhealth: {}",
            o.script,
            o.namespace,
            health_word(&o.verification)
        ))
        .await
        .map_err(Failure::Store)?;
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
