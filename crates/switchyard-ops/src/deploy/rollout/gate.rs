//! A step's gates: the watch (the worker's tail, judged request by request, and probe traffic),
//! `/health`, and what they say at each tick.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchyard_clients::{CloudflareApi, TailSocket};
use switchyard_core::Profile;

use super::service_url;
use super::types::{GateCheck, Rollout};
use crate::Ops;

/// How often `/health` is checked during a step.
const HEALTH_EVERY: Duration = Duration::from_secs(2);

/// What a tail event says about the new version: (is it one of its requests, did it fail).
fn judge(ev: &switchyard_clients::TraceEvent, namespace: &str, version: &str) -> Option<bool> {
    if ev
        .dispatch_namespace
        .as_deref()
        .is_some_and(|ns| ns != namespace)
    {
        return None;
    }
    let id = ev.script_version.as_ref()?.id.as_deref()?;
    if id != version {
        return None;
    }
    let status = ev
        .event
        .as_ref()
        .and_then(|e| e.response.as_ref())
        .and_then(|r| r.status);
    let failed =
        ev.outcome != "ok" || !ev.exceptions.is_empty() || status.is_some_and(|s| s >= 500);
    Some(failed)
}

#[derive(Debug, Default)]
struct Counts {
    requests: u32,
    errors: u32,
    tail_error: Option<String>,
}

/// The tasks watching one step: the tail of the worker and the probe traffic. Stopped on drop.
pub(super) struct StepWatch {
    counts: Arc<Mutex<Counts>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    tail: Option<(CloudflareApi, String, String)>,
}

impl Drop for StepWatch {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Some((api, worker, id)) = self.tail.take() {
            tokio::spawn(async move {
                let _ = api.delete_tail(&worker, &id).await;
            });
        }
    }
}

/// `/health` during a step: where it is asked, when it last was, and how many times in a row it
/// failed.
pub(super) struct HealthGate {
    url: String,
    fails: u32,
    last: Instant,
}

impl HealthGate {
    pub(super) fn new(url: String) -> HealthGate {
        HealthGate {
            url,
            fails: 0,
            last: Instant::now() - HEALTH_EVERY,
        }
    }

    /// A new step: ask at the next tick, with no failure counted.
    pub(super) fn restart(&mut self) {
        self.fails = 0;
        self.last = Instant::now() - HEALTH_EVERY;
    }
}

/// What the gates read at a tick of a step.
pub(super) struct GateReading {
    pub(super) gate: GateCheck,
    pub(super) requests: u32,
    pub(super) errors: u32,
    pub(super) tail_error: Option<String>,
    /// The new version's error rate in percent (0 before any request).
    pub(super) rate: f64,
    /// Since the step began.
    pub(super) elapsed_ms: i64,
    pub(super) dwell_over: bool,
    /// Enough requests of the new version for its error rate to count.
    pub(super) enough: bool,
    /// The step, counted from 1.
    pub(super) step_no: u32,
    /// Why the gate failed (health twice in a row, or the error rate), when it did.
    pub(super) failure: Option<String>,
}

impl Ops {
    /// Start watching the current step: the worker's tail (the new version's requests and
    /// errors) and, when asked, probe traffic.
    pub(super) async fn watch_step(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        r: &Rollout,
    ) -> StepWatch {
        let counts = Arc::new(Mutex::new(Counts::default()));
        let mut watch = StepWatch {
            counts: counts.clone(),
            tasks: Vec::new(),
            tail: None,
        };
        match profile.cloudflare() {
            Ok(cf) => match cf.create_tail(&r.service).await {
                Ok(info) => {
                    watch.tail = Some((cf.clone(), r.service.clone(), info.id.clone()));
                    let (ns, version) = (r.namespace.clone(), r.new_version_id.clone());
                    let counts = counts.clone();
                    // Failures it sees are kept with their neighbours for the timeline too.
                    let capture = self.excerpt_capture(profile).await;
                    let service = r.service.clone();
                    watch.tasks.push(tokio::spawn(async move {
                        let mut socket = match TailSocket::connect(&info).await {
                            Ok(s) => s,
                            Err(e) => {
                                if let Ok(mut c) = counts.lock() {
                                    c.tail_error = Some(e.message);
                                }
                                return;
                            }
                        };
                        while let Some(ev) = socket.next_event().await {
                            let Ok(ev) = ev else { continue };
                            if let Some(failed) = judge(&ev, &ns, &version) {
                                if let Ok(mut c) = counts.lock() {
                                    c.requests += 1;
                                    c.errors += u32::from(failed);
                                }
                            }
                            if ev.dispatch_namespace.as_deref().is_none_or(|n| n == ns) {
                                capture.observe(&crate::LogLine::from_trace(&service, ev));
                            }
                        }
                    }));
                }
                Err(e) => {
                    if let Ok(mut c) = counts.lock() {
                        c.tail_error = Some(e.message);
                    }
                }
            },
            Err(e) => {
                if let Ok(mut c) = counts.lock() {
                    c.tail_error = Some(e.message);
                }
            }
        }
        if r.settings.probe_per_second > 0 {
            let url = format!(
                "{}{}",
                service_url(profile, &r.service, r.environment),
                r.settings.probe_path
            );
            let client = self.http.clone();
            let every = Duration::from_millis(1000 / u64::from(r.settings.probe_per_second));
            watch.tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    let client = client.clone();
                    let url = url.clone();
                    tokio::spawn(async move {
                        let _ = client
                            .request(reqwest::Method::GET, &url)
                            .timeout(Duration::from_secs(5))
                            .send()
                            .await;
                    });
                }
            }));
        }
        // Let the tail connect before the step's traffic counts.
        tokio::time::sleep(Duration::from_millis(200)).await;
        watch
    }

    /// A tick of a step: what the tail counted, `/health` when it is due, and what they say.
    pub(super) async fn read_gate(
        &self,
        r: &Rollout,
        watch: Option<&StepWatch>,
        health: &mut HealthGate,
    ) -> GateReading {
        let (requests, errors, tail_error) = watch
            .and_then(|w| {
                w.counts
                    .lock()
                    .ok()
                    .map(|c| (c.requests, c.errors, c.tail_error.clone()))
            })
            .unwrap_or_default();
        let mut gate = r.gate.clone().unwrap_or(GateCheck {
            at_ms: 0,
            percent: r.percent,
            health_ok: None,
            health_detail: "not checked yet".into(),
            requests: 0,
            errors: 0,
            error_rate_pct: None,
            passed: None,
            summary: String::new(),
        });
        if health.last.elapsed() >= HEALTH_EVERY {
            health.last = Instant::now();
            let (ok, detail) = match self
                .http
                .request(reqwest::Method::GET, &health.url)
                .timeout(Duration::from_secs(5))
                .send()
                .await
            {
                Ok(resp) if resp.status().is_success() => {
                    (true, format!("/health answered {}", resp.status().as_u16()))
                }
                Ok(resp) => (
                    false,
                    format!("/health answered {}", resp.status().as_u16()),
                ),
                Err(e) => (false, format!("/health did not answer: {e}")),
            };
            health.fails = if ok { 0 } else { health.fails + 1 };
            gate.health_ok = Some(ok);
            gate.health_detail = detail;
        }
        gate.at_ms = self.now_ms();
        gate.percent = r.percent;
        gate.requests = requests;
        gate.errors = errors;
        gate.error_rate_pct =
            (requests > 0).then(|| f64::from(errors) * 100.0 / f64::from(requests));
        let rate = gate.error_rate_pct.unwrap_or(0.0);
        let elapsed_ms = gate.at_ms - r.step_started_ms.unwrap_or(gate.at_ms);
        let dwell_over = elapsed_ms >= i64::from(r.settings.dwell_seconds) * 1000;
        let enough = requests >= r.settings.min_requests;
        let step_no = r.step.map(|s| s + 1).unwrap_or(0);
        let failure = if health.fails >= 2 {
            Some(format!(
                "the service's health failed twice in a row ({}) at {} %",
                gate.health_detail, r.percent
            ))
        } else if enough && rate > r.settings.max_error_rate_pct {
            Some(format!(
                "the new version's error rate was {rate:.1} % ({errors} of {requests} requests failed) at {} %, above the {} % allowed",
                r.percent, r.settings.max_error_rate_pct
            ))
        } else {
            None
        };
        GateReading {
            gate,
            requests,
            errors,
            tail_error,
            rate,
            elapsed_ms,
            dwell_over,
            enough,
            step_no,
            failure,
        }
    }

    pub(super) async fn audit_gate(&self, profile: &Profile, r: &Rollout, gate: &GateCheck) {
        let target = format!("{}/{}", r.service, r.environment);
        let params = serde_json::json!({
            "rollout": r.id, "percent": gate.percent, "requests": gate.requests,
            "errors": gate.errors, "errorRatePct": gate.error_rate_pct, "health": gate.health_detail,
        });
        let outcome = match gate.passed {
            Some(true) => "ok",
            Some(false) => "failed",
            None => "held",
        };
        let begun = self
            .audit_begin(&profile.id, "rollout.gate", &target, params)
            .await;
        self.audit_end(begun, outcome, Some(&gate.summary)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_new_versions_requests_in_its_namespace_count() {
        let ev = |ns: &str,
                  v: &str,
                  outcome: &str,
                  status: u16|
         -> switchyard_clients::TraceEvent {
            serde_json::from_value(serde_json::json!({
                "outcome": outcome, "dispatchNamespace": ns, "scriptVersion": {"id": v},
                "event": {"request": {"url": "http://x/", "method": "GET"}, "response": {"status": status}},
            }))
            .unwrap()
        };
        assert_eq!(judge(&ev("ns", "new", "ok", 200), "ns", "new"), Some(false));
        assert_eq!(judge(&ev("ns", "new", "ok", 503), "ns", "new"), Some(true));
        assert_eq!(
            judge(&ev("ns", "new", "exception", 500), "ns", "new"),
            Some(true)
        );
        assert_eq!(judge(&ev("ns", "old", "exception", 500), "ns", "new"), None);
        assert_eq!(judge(&ev("other", "new", "ok", 200), "ns", "new"), None);
    }
}
