//! The incident report of a run (Markdown), with what else happened meanwhile.

use std::fmt::Write as _;

use switchyard_core::AppError;

use super::format::{redact, utc};
use super::{RunDetail, RunEvent, RunState, RunStepState, StepOutcome};
use crate::Ops;

/// How many output lines of each step the incident report quotes (the last ones).
const REPORT_OUTPUT_LINES: usize = 20;

impl Ops {
    /// The run as a Markdown incident report: title, profile, rehearsal marker, timeline (UTC),
    /// every action with its parameters and outcome, checks, skips, notes. Anything that looks
    /// like a key or token is replaced by `***`.
    pub async fn incident_report(&self, run_id: &str) -> Result<String, AppError> {
        let detail = self.run_detail(run_id).await?;
        let secrets = match self.for_profile(&detail.summary.profile_id).await {
            Ok(p) => self.redaction_secrets(&p).await,
            Err(_) => Vec::new(),
        };
        let mut text = report(&detail);
        text.push_str(&self.meanwhile(&detail).await);
        Ok(redact(&text, &secrets))
    }

    /// The report's "Meanwhile" section: what else happened on the run's profile while it ran —
    /// actions in other areas (the audit log, without the run's own steps), deployments (the
    /// history cache) and health changes — oldest first. Collected by the incident timeline
    /// (`timeline.rs`).
    async fn meanwhile(&self, d: &RunDetail) -> String {
        let s = &d.summary;
        let to = s.finished_ms.unwrap_or_else(|| self.now_ms());
        let items = self
            .meanwhile_lines(&s.profile_id, &s.id, &s.runbook_id, s.started_ms, to)
            .await;
        let mut out = String::from("\n## Meanwhile, elsewhere in Switchyard (UTC)\n\n");
        if items.is_empty() {
            out.push_str("Nothing else was recorded on this profile while the run was open (no other action, deployment or health change).\n");
        }
        for line in items {
            out.push_str(&format!("- {line}\n"));
        }
        out
    }
}

/// The incident report of a run.
fn report(d: &RunDetail) -> String {
    let s = &d.summary;
    let mut out = String::new();
    let _ = writeln!(out, "# Incident report: {}", s.title);
    out.push('\n');
    if s.rehearsal {
        let _ = writeln!(out, "> **REHEARSAL** — practised on the Local sandbox with injected faults; nothing real was affected.\n");
    }
    let state = match s.state {
        RunState::Running => "in progress".to_owned(),
        RunState::Finished => "finished".to_owned(),
        RunState::Escalated => format!(
            "escalated — {}",
            d.end_reason.as_deref().unwrap_or("a gate failed")
        ),
        RunState::Abandoned => format!(
            "abandoned — {}",
            d.end_reason.as_deref().unwrap_or("no reason given")
        ),
    };
    let _ = writeln!(out, "| | |\n| --- | --- |");
    let _ = writeln!(out, "| Runbook | {} (`{}`) |", s.title, s.runbook_id);
    let _ = writeln!(
        out,
        "| Profile | {}{} |",
        d.profile_name,
        d.environment.map(|e| format!(" ({e})")).unwrap_or_default()
    );
    let _ = writeln!(out, "| Run | `{}` |", s.id);
    let _ = writeln!(
        out,
        "| Started | {} by {} |",
        utc(s.started_ms),
        s.started_by
    );
    if let Some(f) = s.finished_ms {
        let _ = writeln!(
            out,
            "| Ended | {} by {} |",
            utc(f),
            d.finished_by.as_deref().unwrap_or("?")
        );
    }
    let _ = writeln!(out, "| Status | {state} |");
    let _ = writeln!(
        out,
        "| Steps | {} passed, {} failed, {} skipped, {} not done, of {} |",
        s.progress.passed,
        s.progress.failed,
        s.progress.skipped,
        s.progress.total - s.progress.passed - s.progress.failed - s.progress.skipped,
        s.progress.total
    );
    if !d.inputs.is_empty() {
        let inputs = d
            .inputs
            .iter()
            .map(|(k, v)| format!("{k} = `{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "| Inputs | {inputs} |");
    }

    let _ = writeln!(out, "\n## Timeline (UTC)\n");
    for e in &d.events {
        let _ = writeln!(
            out,
            "- {} — {} — {}",
            utc(e.at_ms),
            e.by,
            one_line(&e.message)
        );
    }

    let _ = writeln!(out, "\n## Steps\n");
    for step in &d.steps {
        let rb = d.runbook.step(step.index);
        let state = match step.state {
            RunStepState::Skipped if step.skipped_by_condition => "skipped (not needed)",
            other => other.as_str(),
        };
        let _ = writeln!(out, "### {}. {} — {state}\n", step.index + 1, step.title);
        if let Some(block) = rb.and_then(|r| r.action.as_ref()) {
            if step.params.is_empty() {
                let _ = writeln!(out, "- Action: `{}` (not run)", block.action.name());
            } else {
                let params = step
                    .params
                    .iter()
                    .filter(|p| p.name != "command")
                    .map(|p| format!("{}={}", p.name, p.value))
                    .collect::<Vec<_>>()
                    .join(" ");
                let _ = writeln!(out, "- Action: `{} {params}`", block.action.name());
                if let Some(c) = step.params.iter().find(|p| p.name == "command") {
                    let _ = writeln!(out, "- Command: `{}`", c.value);
                }
            }
        }
        if let Some(start) = step.started_ms {
            let _ = writeln!(
                out,
                "- Started {}{}{}",
                utc(start),
                step.by
                    .as_deref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default(),
                if step.attempts > 1 {
                    format!(" (attempt {})", step.attempts)
                } else {
                    String::new()
                }
            );
        }
        if let Some(end) = step.finished_ms {
            let outcome = match (step.outcome, &step.error) {
                (_, Some(e)) => format!("failed: {}", one_line(e)),
                (Some(StepOutcome::Passed), None) => "succeeded".into(),
                _ => state.to_owned(),
            };
            let _ = writeln!(out, "- Ended {}: {outcome}", utc(end));
        }
        if let Some(r) = &step.skip_reason {
            let _ = writeln!(out, "- Skipped: {}", one_line(r));
        }
        for c in &step.checks {
            let _ = writeln!(
                out,
                "- [{}] {}{}",
                if c.checked { "x" } else { " " },
                c.text,
                match (c.checked, c.at_ms, &c.by) {
                    (true, Some(at), Some(by)) => format!(" — {} by {by}", utc(at)),
                    _ => String::new(),
                }
            );
        }
        if !step.output.trim().is_empty() {
            let lines: Vec<&str> = step.output.lines().collect();
            let start = lines.len().saturating_sub(REPORT_OUTPUT_LINES);
            let _ = writeln!(
                out,
                "- Output{}:\n\n  ```text",
                if start > 0 {
                    format!(" (last {REPORT_OUTPUT_LINES} of {} lines)", lines.len())
                } else {
                    String::new()
                }
            );
            for l in &lines[start..] {
                let _ = writeln!(out, "  {}", l.replace("```", "'''"));
            }
            let _ = writeln!(out, "  ```");
        }
        out.push('\n');
    }

    let notes: Vec<&RunEvent> = d.events.iter().filter(|e| e.kind == "note").collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "## Notes\n");
        for n in notes {
            let about = n
                .step_index
                .map(|i| format!(" (step {})", i + 1))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- {} — {}{about}: {}",
                utc(n.at_ms),
                n.by,
                one_line(&n.message)
            );
        }
        out.push('\n');
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
