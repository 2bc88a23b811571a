//! Staged rollouts of a namespaced worker with health gates and automatic rollback.
//!
//! Through Cloudflare's versions and deployments API (what wrangler refuses with a dispatch
//! namespace): the new bundle is uploaded as a version at 0 % beside the stable one, the operator
//! can send it requests pinned with `Cloudflare-Workers-Version-Overrides`, then the split moves
//! step by step (10 % → 50 % → 100 % by default). During each step's dwell the gates are watched:
//! the service's `/health`, and the error rate of the new version among the requests the tail
//! shows. A failed gate puts 100 % back on the stable version by itself and says why; the operator
//! can pause, resume, advance or abort at any time. Every change is in the audit log (and so in
//! the incident timeline) and in the store, so a rollout cut off by a restart is shown as
//! interrupted, to resume or roll back.

mod engine;
mod gate;
mod live;
mod plan;
mod split;
mod types;

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::mpsc;

use switchyard_core::{Environment, Profile};

pub use live::{LiveSplit, LiveVersion};
pub use types::{
    GateCheck, PinnedAnswer, Rollout, RolloutCommand, RolloutEvent, RolloutPlan, RolloutRequest,
    RolloutSettings, RolloutState, StableVersion, StartRollout, VersionTest,
};

/// Events kept in a rollout (the oldest go first).
const MAX_EVENTS: usize = 200;

/// The rollouts driven by this process: their command inboxes.
#[derive(Debug, Default)]
pub(crate) struct RolloutRuntime {
    live: Mutex<HashMap<String, mpsc::UnboundedSender<RolloutCommand>>>,
}

impl RolloutRuntime {
    fn is_live(&self, id: &str) -> bool {
        self.live.lock().is_ok_and(|m| m.contains_key(id))
    }
}

/// Unregisters a driver however it ends.
struct LiveGuard<'a> {
    rt: &'a RolloutRuntime,
    id: String,
}

impl Drop for LiveGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.rt.live.lock() {
            m.remove(&self.id);
        }
    }
}

/// The URL of `service` in `environment` under `profile` (its root, no trailing slash).
fn service_url(profile: &Profile, service: &str, environment: Environment) -> String {
    profile
        .service_url_template
        .replace("{service}", service)
        .replace("{environment}", environment.as_str())
        .trim_end_matches('/')
        .to_owned()
}

/// The override header value that pins `worker` to `version`.
fn pin_header(worker: &str, version: &str) -> String {
    format!("{worker}=\"{version}\"")
}

fn push_event(r: &mut Rollout, at_ms: i64, kind: &str, message: String) {
    r.events.push(RolloutEvent {
        at_ms,
        kind: kind.to_owned(),
        message,
    });
    if r.events.len() > MAX_EVENTS {
        let extra = r.events.len() - MAX_EVENTS;
        r.events.drain(..extra);
    }
}

fn short(id: &str) -> String {
    id.chars().take(8).collect()
}
