//! A step's output: streamed to the window and appended to SQLite (up to a bound), with the
//! profile's keys never shown or stored.

use switchyard_core::{AppError, Profile};

use super::{StepOutput, MAX_STEP_OUTPUT_BYTES};
use crate::Ops;

/// Streams a step's output to the window and to SQLite.
pub(super) struct OutputSink<'a, P: Fn(StepOutput) + Send + Sync> {
    pub(super) ops: &'a Ops,
    pub(super) run_id: String,
    pub(super) step: u32,
    pub(super) progress: &'a P,
    pub(super) stored: usize,
    pub(super) truncated: bool,
    /// Values never shown or stored: the profile's keys, and the sandbox's demo token.
    pub(super) secrets: Vec<String>,
}

impl<P: Fn(StepOutput) + Send + Sync> OutputSink<'_, P> {
    pub(super) async fn emit(&mut self, text: &str) -> Result<(), AppError> {
        if text.is_empty() {
            return Ok(());
        }
        let mut text = text.to_owned();
        for secret in self.secrets.iter().filter(|s| s.len() >= 4) {
            text = text.replace(secret.as_str(), "***");
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        (self.progress)(StepOutput {
            run_id: self.run_id.clone(),
            step_index: self.step,
            text: text.clone(),
        });
        if self.truncated {
            return Ok(());
        }
        let to_store = if self.stored + text.len() > MAX_STEP_OUTPUT_BYTES {
            self.truncated = true;
            format!(
                "[output truncated: Switchyard keeps the first {} KiB of a step's output]\n",
                MAX_STEP_OUTPUT_BYTES / 1024
            )
        } else {
            text
        };
        self.stored += to_store.len();
        self.ops.runbooks.spend_write()?;
        self.ops
            .store
            .append_step_output(&self.run_id, self.step, &to_store)
            .await
    }
}

impl Ops {
    /// Values a step's output must never show or store: the profile's keys (whatever a command
    /// or an error echoes) and, on the sandbox, its demo credentials.
    pub(super) async fn output_secrets(&self, profile: &Profile) -> Vec<String> {
        // The same set the timeline and the incident report redact.
        self.redaction_secrets(profile).await
    }
}
