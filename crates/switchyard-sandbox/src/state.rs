//! What every handler shares: [`AppState`] — the database, the fault board, the sandbox's
//! identity, the runtime, the tails — and the rehearsals' bad deploys in force.
//!
//! It sits below every API (the APIs take it as their axum state) and above the pieces it holds.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use switchyard_core::Environment;

use crate::faults::FaultBoard;
use crate::identity::Identity;
use crate::runtime::Runtime;
use crate::store::Store;
use crate::tail::TailHub;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub faults: FaultBoard,
    pub identity: Arc<Identity>,
    /// `POST /rollback` uploads the previous script again; switchable while running.
    pub true_rollback: Arc<AtomicBool>,
    pub base_url: Arc<String>,
    /// Rollbacks run one at a time: find the two newest, (re)upload, mark — never interleaved.
    pub rollback_lock: Arc<tokio::sync::Mutex<()>>,
    /// workerd, which executes the scripts (or the reason it cannot).
    pub runtime: Runtime,
    /// Open tails and the trace events they read.
    pub tails: TailHub,
    /// Bad deploys made by a rehearsal, not yet rolled back.
    pub rehearsals: Rehearsals,
}

/// A bad deploy a rehearsal made.
#[derive(Debug, Clone)]
pub struct BadDeploy {
    pub deployment_id: String,
    pub version_tag: String,
    pub since: String,
}

/// The bad deploys in force, by (service, environment).
#[derive(Debug, Clone, Default)]
pub struct Rehearsals {
    bad: Arc<Mutex<HashMap<(String, Environment), BadDeploy>>>,
}

impl Rehearsals {
    /// Whether a rollback of `service` in `environment` ends a rehearsed bad deploy (and so must
    /// upload the previous script); the bad deploy is over either way.
    pub fn take_for_rollback(&self, service: &str, environment: Environment) -> bool {
        self.bad
            .lock()
            .expect("rehearsals")
            .remove(&(service.to_owned(), environment))
            .is_some()
    }

    /// A deploy of `service` replaced whatever a rehearsal deployed.
    pub fn deployed_over(&self, service: &str, environment: Environment) {
        self.bad
            .lock()
            .expect("rehearsals")
            .remove(&(service.to_owned(), environment));
    }

    /// Records the bad deploy a rehearsal just made.
    pub fn insert(&self, service: String, environment: Environment, bad: BadDeploy) {
        self.bad
            .lock()
            .expect("rehearsals")
            .insert((service, environment), bad);
    }

    /// The bad deploys in force, in no particular order.
    pub fn list(&self) -> Vec<(String, Environment, BadDeploy)> {
        self.bad
            .lock()
            .expect("rehearsals")
            .iter()
            .map(|((service, env), b)| (service.clone(), *env, b.clone()))
            .collect()
    }

    /// Forgets every bad deploy; the (service, environment) of each.
    pub fn drain(&self) -> Vec<(String, Environment)> {
        self.bad
            .lock()
            .expect("rehearsals")
            .drain()
            .map(|(k, _)| k)
            .collect()
    }
}
