//! Desktop notifications of health changes: one per target and direction, rate-limited.

use super::*;

/// A notification to raise for a state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HealthNotification {
    pub target: String,
    pub state: HealthStatus,
    /// e.g. "db is down"
    pub title: String,
    /// e.g. "HTTP 500. See the runbook: Service Deployed but Crashes."
    pub body: String,
}

/// Rate-limits health notifications: per target, at most one per interval. Time is passed in.
#[derive(Debug, Clone)]
pub struct NotificationGate {
    min_interval_ms: i64,
    last_sent_ms: HashMap<String, i64>,
}

impl NotificationGate {
    /// At most one notification per target every `min_interval_secs` seconds.
    pub fn new(min_interval_secs: u32) -> NotificationGate {
        NotificationGate {
            min_interval_ms: i64::from(min_interval_secs) * 1000,
            last_sent_ms: HashMap::new(),
        }
    }

    /// Whether a notification about `target` may be sent at `now_ms`; when it may, it counts as
    /// sent. A clock that went backwards starts the interval afresh.
    pub fn allow(&mut self, target: &str, now_ms: i64) -> bool {
        match self.last_sent_ms.get(target) {
            Some(&last) if now_ms >= last && now_ms - last < self.min_interval_ms => false,
            _ => {
                self.last_sent_ms.insert(target.to_owned(), now_ms);
                true
            }
        }
    }

    /// The notifications to raise for the changes in `board`, rate-limited at `now_ms`.
    pub fn notifications(&mut self, board: &HealthBoard, now_ms: i64) -> Vec<HealthNotification> {
        board
            .changes()
            // Going down and coming back are limited separately, so a recovery is never
            // swallowed by the alert that came just before it.
            .filter(|r| {
                let direction = if r.state == HealthStatus::Down {
                    "down"
                } else {
                    "up"
                };
                self.allow(&format!("{}:{direction}", r.name), now_ms)
            })
            .map(|r| {
                let title = match (r.state, r.previous_state) {
                    (HealthStatus::Down, _) => format!("{} is down", r.name),
                    (HealthStatus::UpNeedsKey, Some(HealthStatus::Down)) => {
                        format!("{} is up again (its health details need a key)", r.name)
                    }
                    (_, Some(HealthStatus::Down)) => {
                        format!("{} is {} again", r.name, r.state.words())
                    }
                    (s, _) => format!("{} is {}", r.name, s.words()),
                };
                let mut body = r.detail.clone().unwrap_or_else(|| {
                    let code = r
                        .http_status
                        .map(|c| format!(" HTTP {c}"))
                        .unwrap_or_default();
                    format!("It answered{code} in {} ms.", r.latency_ms)
                });
                if let Some(s) = &r.suspect {
                    body.push_str(&format!(
                        ". It started failing {}; roll it back from Switchyard",
                        s.words()
                    ));
                }
                if let Some(section) = &r.runbook {
                    body.push_str(&format!(". See the runbook: {section}."));
                }
                HealthNotification {
                    target: r.name.clone(),
                    state: r.state,
                    title,
                    body,
                }
            })
            .collect()
    }
}
