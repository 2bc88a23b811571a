//! The committed TypeScript bindings must match the Rust IPC surface.
//! `cargo xtask bindings` runs this test with SWITCHYARD_WRITE_BINDINGS=1 to rewrite them.

use std::path::Path;

#[test]
fn committed_bindings_are_fresh() {
    let committed_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(switchyard_desktop::BINDINGS_PATH);
    if std::env::var_os("SWITCHYARD_WRITE_BINDINGS").is_some() {
        switchyard_desktop::export_bindings(&committed_path).unwrap();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fresh_path = dir.path().join("bindings.ts");
    switchyard_desktop::export_bindings(&fresh_path).unwrap();
    let fresh = std::fs::read_to_string(&fresh_path).unwrap();
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        fresh == committed,
        "ui/src/ipc/bindings.ts is stale: the Rust IPC surface changed. \
         Run `cargo xtask bindings` and commit the result."
    );
}
