//! Every IPC command is granted to the window, and nothing more: the commands the bindings can
//! invoke and the `allow-*` permissions of the capability are the same set.

use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn capability_grants_exactly_the_registered_commands() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindings.ts");
    switchyard_desktop::export_bindings(&path).unwrap();
    let bindings = std::fs::read_to_string(&path).unwrap();
    let invoked: BTreeSet<String> = bindings
        .split("__TAURI_INVOKE(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|name| format!("allow-{}", name.replace('_', "-")))
        .collect();
    assert!(invoked.len() >= 10, "too few commands found: {invoked:?}");

    let capability: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities/main.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let granted: BTreeSet<String> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| p.starts_with("allow-"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        invoked, granted,
        "commands in the bindings and allow-* permissions in capabilities/main.json differ"
    );
    // No generic plugin access: only core events besides our own commands.
    for p in capability["permissions"].as_array().unwrap() {
        let p = p.as_str().unwrap();
        assert!(
            p.starts_with("allow-") || p == "core:event:default",
            "unexpected permission {p}"
        );
    }
}
