//! Fault injection: what each target (a service, the dispatcher, the Deploy API, auth, the
//! Cloudflare API) does instead of answering normally. Shared by the Rust API ([`FaultBoard`]) and
//! the HTTP API under `/__sandbox/faults`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use switchyard_core::Environment;

use crate::http::{envelope_error, DropConnection, VerbatimBody};

/// The longest latency a fault may add, so a typo cannot hang a client for hours.
pub const MAX_LATENCY_MS: u64 = 120_000;

/// What a fault applies to. Written as a string: `deploy-api`, `auth`, `cloudflare-api`,
/// `dispatcher`, `dispatcher@<environment>`, `service:<name>`, `service:<name>@<environment>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultTarget {
    DeployApi,
    Auth,
    CloudflareApi,
    /// The dispatcher of one environment, or of all when `None`.
    Dispatcher(Option<Environment>),
    /// A service in one environment, or in all when `None`.
    Service(String, Option<Environment>),
}

impl fmt::Display for FaultTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultTarget::DeployApi => f.write_str("deploy-api"),
            FaultTarget::Auth => f.write_str("auth"),
            FaultTarget::CloudflareApi => f.write_str("cloudflare-api"),
            FaultTarget::Dispatcher(None) => f.write_str("dispatcher"),
            FaultTarget::Dispatcher(Some(e)) => write!(f, "dispatcher@{e}"),
            FaultTarget::Service(s, None) => write!(f, "service:{s}"),
            FaultTarget::Service(s, Some(e)) => write!(f, "service:{s}@{e}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault target \"{0}\": use deploy-api, auth, cloudflare-api, dispatcher[@<environment>] or service:<name>[@<environment>]")]
pub struct UnknownFaultTarget(pub String);

impl FromStr for FaultTarget {
    type Err = UnknownFaultTarget;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || UnknownFaultTarget(s.to_owned());
        let (head, env) = match s.split_once('@') {
            Some((h, e)) => (h, Some(e.parse::<Environment>().map_err(|_| bad())?)),
            None => (s, None),
        };
        match (head, env) {
            ("deploy-api", None) => Ok(FaultTarget::DeployApi),
            ("auth", None) => Ok(FaultTarget::Auth),
            ("cloudflare-api", None) => Ok(FaultTarget::CloudflareApi),
            ("dispatcher", env) => Ok(FaultTarget::Dispatcher(env)),
            (other, env) => match other.strip_prefix("service:") {
                Some(name) if switchyard_core::ServiceName::parse(name).is_ok() => {
                    Ok(FaultTarget::Service(name.to_owned(), env))
                }
                _ => Err(bad()),
            },
        }
    }
}

impl Serialize for FaultTarget {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FaultTarget {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How a `down` target is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DownKind {
    /// Answers `503 Service Unavailable`.
    #[default]
    Unavailable,
    /// Closes the connection without answering: the client sees a connection error, as when
    /// nothing listens (one port serves every target, so a true "connection refused" is not
    /// possible per target).
    Drop,
}

/// What a target does instead of answering normally. JSON: `{"mode": "...", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Unreachable: 503, or the connection dropped (`"how": "drop"`).
    Down {
        #[serde(default)]
        how: DownKind,
    },
    /// Answers `status` (default 500) with `body` (default a JSON error).
    Error {
        #[serde(default = "default_error_status")]
        status: u16,
        #[serde(default)]
        body: Option<String>,
    },
    /// Answers normally after `ms` milliseconds (at most [`MAX_LATENCY_MS`]).
    Latency { ms: u64 },
    /// Answers `status` (default 200) with a body that is not what the client expects:
    /// an HTML error page (`"html": true`, the default) or random bytes.
    Garbage {
        #[serde(default = "default_garbage_status")]
        status: u16,
        #[serde(default = "default_true")]
        html: bool,
    },
    /// Fails `percent` % of requests with 503; the others answer normally.
    Flaky { percent: u8 },
    /// Answers `429 Too Many Requests` with `Retry-After: <retry_after>` seconds.
    RateLimited {
        #[serde(default = "default_retry_after")]
        retry_after: u64,
    },
}

fn default_error_status() -> u16 {
    500
}
fn default_garbage_status() -> u16 {
    200
}
fn default_true() -> bool {
    true
}
fn default_retry_after() -> u64 {
    30
}

impl Fault {
    /// Checks the numbers a fault carries; the message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Fault::Error { status, .. } | Fault::Garbage { status, .. }
                if StatusCode::from_u16(*status).is_err() || *status < 200 =>
            {
                Err(format!(
                    "status {status} is not an HTTP status between 200 and 999"
                ))
            }
            Fault::Latency { ms } if *ms > MAX_LATENCY_MS => Err(format!(
                "latency {ms} ms is over the maximum of {MAX_LATENCY_MS} ms"
            )),
            Fault::Flaky { percent } if *percent > 100 => {
                Err(format!("percent {percent} is over 100"))
            }
            _ => Ok(()),
        }
    }
}

/// One entry of the fault list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultEntry {
    pub target: FaultTarget,
    pub fault: Fault,
    /// A "bad deploy": the fault lifts by itself when the service is next deployed or rolled
    /// back (services only), so rehearsals can practise the rollback that fixes it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub until_deploy: bool,
}

/// The faults in force, shared by every request. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct FaultBoard {
    /// Each target's fault, and whether it lifts on the service's next deploy or rollback.
    faults: Arc<RwLock<BTreeMap<FaultTarget, (Fault, bool)>>>,
}

impl FaultBoard {
    pub fn new() -> FaultBoard {
        FaultBoard::default()
    }

    /// Sets (or replaces) the fault of `target`.
    pub fn set(&self, target: FaultTarget, fault: Fault) -> Result<(), String> {
        fault.validate()?;
        self.write().insert(target, (fault, false));
        Ok(())
    }

    /// Sets the fault of a service until that service is next deployed or rolled back.
    pub fn set_until_deploy(&self, target: FaultTarget, fault: Fault) -> Result<(), String> {
        if !matches!(target, FaultTarget::Service(..)) {
            return Err(format!(
                "\"until_deploy\" applies to services only, not to {target}"
            ));
        }
        fault.validate()?;
        self.write().insert(target, (fault, true));
        Ok(())
    }

    /// Lifts the "until deploy" faults of `service` in `env`, and its environment-less one (a
    /// deploy anywhere replaces what it stood for); how many were lifted.
    pub fn lift_after_deploy(&self, service: &str, env: Environment) -> usize {
        let mut faults = self.write();
        let before = faults.len();
        faults.retain(|target, (_, until_deploy)| {
            !(*until_deploy
                && matches!(target, FaultTarget::Service(s, e)
                    if s == service && (e.is_none() || *e == Some(env))))
        });
        before - faults.len()
    }

    /// Clears the fault of `target`; true when there was one.
    pub fn clear(&self, target: &FaultTarget) -> bool {
        self.write().remove(target).is_some()
    }

    pub fn clear_all(&self) {
        self.write().clear();
    }

    pub fn list(&self) -> Vec<FaultEntry> {
        self.read()
            .iter()
            .map(|(target, (fault, until_deploy))| FaultEntry {
                target: target.clone(),
                fault: fault.clone(),
                until_deploy: *until_deploy,
            })
            .collect()
    }

    pub fn get(&self, target: &FaultTarget) -> Option<Fault> {
        self.read().get(target).map(|(fault, _)| fault.clone())
    }

    /// The whole entry of `target`, with its "until deploy" flag.
    pub fn entry(&self, target: &FaultTarget) -> Option<FaultEntry> {
        self.read()
            .get(target)
            .map(|(fault, until_deploy)| FaultEntry {
                target: target.clone(),
                fault: fault.clone(),
                until_deploy: *until_deploy,
            })
    }

    /// The fault for the dispatcher of `env`: the environment-specific one first, then the general.
    pub fn for_dispatcher(&self, env: Environment) -> Option<Fault> {
        self.get(&FaultTarget::Dispatcher(Some(env)))
            .or_else(|| self.get(&FaultTarget::Dispatcher(None)))
    }

    /// The fault for `service` in `env`: the environment-specific one first, then the general.
    pub fn for_service(&self, service: &str, env: Environment) -> Option<Fault> {
        self.get(&FaultTarget::Service(service.to_owned(), Some(env)))
            .or_else(|| self.get(&FaultTarget::Service(service.to_owned(), None)))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<FaultTarget, (Fault, bool)>> {
        self.faults.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<FaultTarget, (Fault, bool)>> {
        self.faults.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// How a failure body is shaped for a target: the Cloudflare API always answers an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureStyle {
    Platform,
    CloudflareEnvelope,
}

/// Applies `fault`: `None` means "answer normally" (after any latency has been waited out).
pub async fn apply(fault: Option<Fault>, style: FailureStyle) -> Option<Response> {
    let mut response = respond(fault?, style).await?;
    response.extensions_mut().insert(VerbatimBody);
    Some(response)
}

async fn respond(fault: Fault, style: FailureStyle) -> Option<Response> {
    match fault {
        Fault::Latency { ms } => {
            tokio::time::sleep(Duration::from_millis(ms.min(MAX_LATENCY_MS))).await;
            None
        }
        Fault::Down {
            how: DownKind::Drop,
        } => {
            let mut r = StatusCode::SERVICE_UNAVAILABLE.into_response();
            r.extensions_mut().insert(DropConnection);
            Some(r)
        }
        Fault::Down {
            how: DownKind::Unavailable,
        } => Some(failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            style,
        )),
        Fault::Error { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(match body {
                Some(body) => {
                    let content_type = if serde_json::from_str::<serde_json::Value>(&body).is_ok() {
                        "application/json"
                    } else {
                        "text/plain; charset=utf-8"
                    };
                    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
                }
                None => failure(status, "Internal Server Error", style),
            })
        }
        Fault::Garbage { status, html } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            Some(if html {
                (
                    status,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\
                     <body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>\n",
                )
                    .into_response()
            } else {
                let bytes: Vec<u8> = (0..256).map(|_| rand::random::<u8>()).collect();
                (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
            })
        }
        Fault::Flaky { percent } => {
            let roll: u8 = rand::Rng::gen_range(&mut rand::thread_rng(), 0..100);
            if roll < percent {
                Some(failure(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service temporarily unavailable",
                    style,
                ))
            } else {
                None
            }
        }
        Fault::RateLimited { retry_after } => {
            let mut r = match style {
                FailureStyle::Platform => {
                    failure(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests", style)
                }
                FailureStyle::CloudflareEnvelope => envelope_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    971,
                    "Please wait and consider throttling your request speed",
                ),
            };
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Some(r)
        }
    }
}

fn failure(status: StatusCode, message: &str, style: FailureStyle) -> Response {
    match style {
        FailureStyle::Platform => {
            (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
        }
        FailureStyle::CloudflareEnvelope => envelope_error(status, 10002, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip_through_their_text_form() {
        for t in [
            "deploy-api",
            "auth",
            "cloudflare-api",
            "dispatcher",
            "dispatcher@staging",
            "service:gateway",
            "service:db@production",
        ] {
            assert_eq!(t.parse::<FaultTarget>().unwrap().to_string(), t);
        }
        for bad in [
            "",
            "service:",
            "service:Bad",
            "dispatcher@prod",
            "auth@staging",
            "db",
        ] {
            assert!(bad.parse::<FaultTarget>().is_err(), "{bad}");
        }
    }

    #[test]
    fn faults_parse_from_json_with_defaults() {
        let f: Fault = serde_json::from_str(r#"{"mode":"error"}"#).unwrap();
        assert_eq!(
            f,
            Fault::Error {
                status: 500,
                body: None
            }
        );
        let f: Fault = serde_json::from_str(r#"{"mode":"down","how":"drop"}"#).unwrap();
        assert_eq!(
            f,
            Fault::Down {
                how: DownKind::Drop
            }
        );
        let f: Fault = serde_json::from_str(r#"{"mode":"rate_limited"}"#).unwrap();
        assert_eq!(f, Fault::RateLimited { retry_after: 30 });
        assert!(serde_json::from_str::<Fault>(r#"{"mode":"melt"}"#).is_err());
    }

    #[test]
    fn out_of_range_numbers_are_refused() {
        let board = FaultBoard::new();
        assert!(board
            .set(FaultTarget::Auth, Fault::Flaky { percent: 101 })
            .is_err());
        assert!(board
            .set(
                FaultTarget::Auth,
                Fault::Latency {
                    ms: MAX_LATENCY_MS + 1
                }
            )
            .is_err());
        assert!(board
            .set(
                FaultTarget::Auth,
                Fault::Error {
                    status: 42,
                    body: None
                }
            )
            .is_err());
        assert!(board.list().is_empty());
    }

    #[test]
    fn specific_environment_wins_over_general() {
        let board = FaultBoard::new();
        board
            .set(
                FaultTarget::Service("db".into(), None),
                Fault::Latency { ms: 1 },
            )
            .unwrap();
        board
            .set(
                FaultTarget::Service("db".into(), Some(Environment::Staging)),
                Fault::Down {
                    how: DownKind::Unavailable,
                },
            )
            .unwrap();
        assert_eq!(
            board.for_service("db", Environment::Production),
            Some(Fault::Latency { ms: 1 })
        );
        assert!(matches!(
            board.for_service("db", Environment::Staging),
            Some(Fault::Down { .. })
        ));
        assert!(board.clear(&FaultTarget::Service("db".into(), None)));
        assert_eq!(board.for_service("db", Environment::Production), None);
        board.clear_all();
        assert!(board.list().is_empty());
    }
}
