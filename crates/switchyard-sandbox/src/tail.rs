//! The tails of a sandbox: open sessions, the trace events the runtime publishes (with the
//! request's secrets redacted, as the platform does), and which events a session receives (what
//! it tails, wrangler's filters). The Cloudflare API that opens and reads tails is
//! `cloudflare::tails`.
//!
//! What can be tailed: a service's worker by name (`gateway`: that worker in every namespace; each
//! event names its `dispatchNamespace`), `dispatcher` (every namespace) and
//! `dispatcher-<environment>` (one environment's namespace).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use serde_json::{json, Value};
use switchyard_core::Environment;
use tokio::sync::{broadcast, watch};

use crate::store::random_hex;

/// How long a tail lives (Cloudflare's tails expire after some hours).
const TAIL_LIFETIME: chrono::Duration = chrono::Duration::hours(6);
/// Events buffered for slow WebSocket readers before they start to miss some.
const BUFFER: usize = 4096;
/// Request headers whose values never reach a tail.
const REDACTED_HEADERS: [&str; 8] = [
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
    "x-api-key",
    "x-auth-key",
    "cf-access-client-secret",
    "x-auth-token",
];

/// One trace event, with where it came from.
#[derive(Debug)]
pub struct TailEvent {
    pub namespace: String,
    pub script: String,
    pub event: Value,
}

struct Session {
    script: String,
    expires_at: chrono::DateTime<Utc>,
    filters: Vec<Value>,
    closed: watch::Sender<bool>,
}

/// The tails of a sandbox: sessions, and the events every open WebSocket reads from.
#[derive(Clone)]
pub struct TailHub {
    tx: broadcast::Sender<Arc<TailEvent>>,
    sessions: Arc<Mutex<HashMap<String, Session>>>,
}

impl Default for TailHub {
    fn default() -> Self {
        TailHub {
            tx: broadcast::channel(BUFFER).0,
            sessions: Arc::default(),
        }
    }
}

fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    REDACTED_HEADERS.contains(&n.as_str())
        || n.contains("token")
        || n.contains("secret")
        || n.contains("api-key")
        || n.contains("password")
}

fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["token", "secret", "key", "password", "signature", "auth"]
        .iter()
        .any(|s| n.contains(s))
}

/// Removes secrets from a trace event's request, as the platform does: sensitive header values
/// and query parameter values become `REDACTED`.
fn redact(event: &mut Value) {
    let request = &mut event["event"]["request"];
    if let Some(headers) = request.get_mut("headers").and_then(Value::as_object_mut) {
        for (name, value) in headers.iter_mut() {
            if is_secret_header(name) {
                *value = Value::String("REDACTED".into());
            }
        }
    }
    if let Some(url) = request.get("url").and_then(Value::as_str) {
        if let Ok(mut parsed) = reqwest::Url::parse(url) {
            if parsed.query().is_some() {
                let pairs: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if is_secret_param(&k) {
                            "REDACTED".to_owned()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
                request["url"] = Value::String(parsed.to_string());
            }
        }
    }
    if let Some(cf) = request.get_mut("cf").and_then(Value::as_object_mut) {
        // workerd puts the peer's address and port here; the platform gives only the address.
        if let Some(ip) = cf.get("clientIp").and_then(Value::as_str) {
            let ip = ip.rsplit_once(':').map_or(ip, |(a, _)| a).to_owned();
            cf.insert("clientIp".into(), Value::String(ip));
        }
    }
}

/// Whether a session that tails `tailed` receives an event of `script` in `namespace`.
pub fn covers(tailed: &str, namespace: &str, script: &str) -> bool {
    if tailed == script || tailed == "dispatcher" {
        return true;
    }
    tailed
        .strip_prefix("dispatcher-")
        .and_then(|e| e.parse::<Environment>().ok())
        .is_some_and(|e| e.namespace() == namespace)
}

/// Whether `event` passes wrangler's filters (`sampling_rate`, `outcome`, `method`, `query`,
/// `header`; `client_ip` is accepted and, on loopback, always matches).
pub fn passes(filters: &[Value], event: &Value) -> bool {
    filters.iter().all(|f| {
        if let Some(rate) = f.get("sampling_rate").and_then(Value::as_f64) {
            return rand::random::<f64>() < rate;
        }
        if let Some(outcomes) = f.get("outcome").and_then(Value::as_array) {
            let outcome = event["outcome"].as_str().unwrap_or("");
            return outcomes.iter().any(|o| {
                let o = o.as_str().unwrap_or("");
                o == outcome || (o == "error" && outcome != "ok")
            });
        }
        if let Some(methods) = f.get("method").and_then(Value::as_array) {
            let method = event["event"]["request"]["method"].as_str().unwrap_or("");
            return methods
                .iter()
                .any(|m| m.as_str().is_some_and(|m| m.eq_ignore_ascii_case(method)));
        }
        if let Some(q) = f.get("query").and_then(Value::as_str) {
            let text = format!("{}{}", event["logs"], event["exceptions"]);
            return text.contains(q);
        }
        if let Some(h) = f.get("header") {
            let key = h["key"].as_str().unwrap_or("").to_ascii_lowercase();
            let value = event["event"]["request"]["headers"][&key].as_str();
            return match (value, h.get("query").and_then(Value::as_str)) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(v), Some(q)) => v == q,
            };
        }
        true
    })
}

impl TailHub {
    /// A trace event of `script` in `namespace` (code id `code`), from the runtime.
    pub fn publish(&self, namespace: &str, script: &str, code: &str, mut event: Value) {
        if !event.is_object() {
            return;
        }
        event["scriptName"] = Value::String(script.to_owned());
        event["dispatchNamespace"] = Value::String(namespace.to_owned());
        event["scriptVersion"] = json!({"id": code});
        redact(&mut event);
        // No receiver (no tail open) is not an error.
        let _ = self.tx.send(Arc::new(TailEvent {
            namespace: namespace.to_owned(),
            script: script.to_owned(),
            event,
        }));
    }

    pub fn create(&self, script: &str, filters: Vec<Value>) -> (String, chrono::DateTime<Utc>) {
        let id = random_hex(16);
        let expires_at = Utc::now() + TAIL_LIFETIME;
        let (closed, _) = watch::channel(false);
        let mut sessions = self.sessions.lock().expect("tail sessions");
        sessions.retain(|_, s| s.expires_at > Utc::now());
        sessions.insert(
            id.clone(),
            Session {
                script: script.to_owned(),
                expires_at,
                filters,
                closed,
            },
        );
        (id, expires_at)
    }

    pub fn remove(&self, script: &str, id: &str) -> bool {
        let mut sessions = self.sessions.lock().expect("tail sessions");
        match sessions.get(id) {
            Some(s) if s.script == script => {
                let _ = s.closed.send(true);
                sessions.remove(id);
                true
            }
            _ => false,
        }
    }

    /// The open tails of `script`: id and expiry of each.
    pub fn list(&self, script: &str) -> Vec<(String, chrono::DateTime<Utc>)> {
        let sessions = self.sessions.lock().expect("tail sessions");
        sessions
            .iter()
            .filter(|(_, s)| s.script == script && s.expires_at > Utc::now())
            .map(|(id, s)| (id.clone(), s.expires_at))
            .collect()
    }

    /// An open tail by id: what it tails, its filters, and a receiver told when it is deleted.
    pub fn session(&self, id: &str) -> Option<(String, Vec<Value>, watch::Receiver<bool>)> {
        let sessions = self.sessions.lock().expect("tail sessions");
        sessions
            .get(id)
            .filter(|s| s.expires_at > Utc::now())
            .map(|s| (s.script.clone(), s.filters.clone(), s.closed.subscribe()))
    }

    /// The events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<TailEvent>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_a_request_are_redacted() {
        let mut e = json!({"event": {"request": {
            "url": "https://gateway.do/x?api_key=abc&page=2",
            "headers": {"authorization": "Bearer abc", "x-custom-token": "t", "accept": "*/*"},
            "cf": {"clientIp": "127.0.0.1:5555"}
        }}});
        redact(&mut e);
        let r = &e["event"]["request"];
        assert_eq!(r["headers"]["authorization"], "REDACTED");
        assert_eq!(r["headers"]["x-custom-token"], "REDACTED");
        assert_eq!(r["headers"]["accept"], "*/*");
        assert_eq!(r["url"], "https://gateway.do/x?api_key=REDACTED&page=2");
        assert_eq!(r["cf"]["clientIp"], "127.0.0.1");
        assert!(!e.to_string().contains("abc"));
    }

    #[test]
    fn what_a_tail_covers() {
        assert!(covers("gateway", "dotdo-staging", "gateway"));
        assert!(!covers("gateway", "dotdo-staging", "db"));
        assert!(covers("dispatcher", "dotdo-staging", "db"));
        assert!(covers("dispatcher-staging", "dotdo-staging", "db"));
        assert!(!covers("dispatcher-production", "dotdo-staging", "db"));
    }

    #[test]
    fn filters_as_wrangler_sends_them() {
        let ok = json!({"outcome": "ok", "event": {"request": {"method": "GET"}}, "logs": [{"message": ["hello"]}]});
        let bad = json!({"outcome": "exception", "event": {"request": {"method": "POST"}}, "exceptions": [{"message": "boom"}]});
        let by_outcome = [json!({"outcome": ["exception"]})];
        assert!(!passes(&by_outcome, &ok) && passes(&by_outcome, &bad));
        let by_method = [json!({"method": ["post"]})];
        assert!(!passes(&by_method, &ok) && passes(&by_method, &bad));
        let by_text = [json!({"query": "boom"})];
        assert!(!passes(&by_text, &ok) && passes(&by_text, &bad));
        assert!(passes(&[], &ok));
    }
}
