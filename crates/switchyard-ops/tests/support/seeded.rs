//! What the bench (`benches/engine.rs`) and the timing harnesses of its rows
//! (`tests/timeline_timing.rs`) seed an app with: one module, so what is timed apart is what
//! the bench times. Included with `#[path]`.

use switchyard_core::SANDBOX_PROFILE_ID;

/// The platform's core services, as the sandbox serves them.
pub const SERVICES: [&str; 8] = [
    "gateway", "db", "auth", "schedule", "webhooks", "email", "mcp", "queue",
];

/// Entry `i` of the seeded audit log, at `at_ms`: one action of six in turn (a deploy is
/// prepared, then applied — every 12th entry each: the family `deploy.` has two actions, as an
/// operator's log has several — and one in six the timeline's own), one in 20 refused.
pub fn audit_entry(i: i64, at_ms: i64) -> switchyard_store::AuditEntry {
    let actions = [
        "deploy.",
        "history.sync",
        "namespace.create",
        "worker.delete",
        "setting.history_auto_sync",
        "timeline.note",
    ];
    switchyard_store::AuditEntry {
        at_ms,
        actor: format!("operator{}", i % 7),
        profile_id: SANDBOX_PROFILE_ID.to_owned(),
        action: match actions[(i % 6) as usize] {
            "deploy." if i % 12 == 0 => "deploy.prepare".to_owned(),
            "deploy." => "deploy.apply".to_owned(),
            action => action.to_owned(),
        },
        target: SERVICES[(i % 8) as usize].to_owned(),
        params: serde_json::json!({ "service": SERVICES[(i % 8) as usize], "n": i }),
        outcome: if i % 20 == 0 {
            "deploy_failed".into()
        } else {
            "ok".into()
        },
        message: (i % 20 == 0).then(|| format!("Upload refused for build {i}")),
        duration_ms: 100 + i % 900,
    }
}
