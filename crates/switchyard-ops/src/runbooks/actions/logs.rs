//! `logs`: what the service's code logs for a while (its requests, console lines, exceptions).

use super::{ActionResult, Failure, Ops, OutputSink, StepOutput};

impl Ops {
    /// Tail the service for `seconds` (or until the step is stopped), then count its requests.
    pub(super) async fn rb_act_logs<P: Fn(StepOutput) + Send + Sync>(
        &self,
        pid: &str,
        service: &str,
        seconds: u32,
        mut stop: tokio::sync::watch::Receiver<bool>,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let session = self
            .start_logs(
                crate::LogsRequest {
                    profile_id: pid.to_owned(),
                    services: vec![service.to_owned()],
                },
                move |e| {
                    let _ = tx.send(e);
                },
            )
            .await?;
        sink.emit(&format!(
            "Tailing {service} for {seconds} s (requests, console lines, exceptions)…\n"
        ))
        .await
        .map_err(Failure::Store)?;
        let deadline =
            tokio::time::Instant::now() + std::time::Duration::from_secs(u64::from(seconds));
        let (mut invocations, mut failures) = (0u32, 0u32);
        let mut stopped_early = false;
        loop {
            let event = tokio::select! {
                e = rx.recv() => e,
                _ = tokio::time::sleep_until(deadline) => break,
                _ = stop.changed() => { stopped_early = true; break }
            };
            let text = match event {
                Some(crate::LogsEvent::Line { line }) => {
                    invocations += 1;
                    if line.outcome != "ok" || !line.exceptions.is_empty() {
                        failures += 1;
                    }
                    line.to_text()
                }
                Some(crate::LogsEvent::Reconnecting {
                    reason,
                    retry_in_ms,
                    ..
                }) => {
                    format!(
                        "(the tail broke: {reason}; reconnecting in {} s)\n",
                        retry_in_ms / 1000
                    )
                }
                Some(_) => continue,
                None => break,
            };
            sink.emit(&text).await.map_err(Failure::Store)?;
        }
        self.stop_logs(session).await?;
        sink.emit(&format!(
            "{invocations} request{} of {service} in {}{}; {failures} failed.",
            if invocations == 1 { "" } else { "s" },
            if stopped_early {
                "the time before it was stopped".to_owned()
            } else {
                format!("{seconds} s")
            },
            if invocations == 0 {
                " (nothing reached it while the tail was open)"
            } else {
                ""
            },
        ))
        .await
        .map_err(Failure::Store)?;
        Ok(ActionResult::pass())
    }
}
