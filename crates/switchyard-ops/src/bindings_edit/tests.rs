use super::*;
use proptest::prelude::*;

const FILE: &str = r#"// A service folder (workers/gateway).
{
  "name": "gateway",
  /* Service bindings: sent with the deploy. */
  "services": [
    { "binding": "DB_SERVICE", "service": "db" }, // the database
    { "binding": "AUTH_SERVICE", "service": "auth" },
  ],
  "vars": { "MODE": "strict" },
}
"#;

fn add(b: &str, s: &str) -> BindingEdit {
    BindingEdit::Add {
        binding: b.into(),
        service: s.into(),
        entrypoint: None,
    }
}

#[test]
fn an_added_binding_goes_last_on_one_line_and_keeps_the_comments() {
    let out = edit_text(FILE, &[add("QUEUE_SERVICE", "queue")]).unwrap();
    assert_eq!(
        out,
        FILE.replace(
            "    { \"binding\": \"AUTH_SERVICE\", \"service\": \"auth\" },\n",
            "    { \"binding\": \"AUTH_SERVICE\", \"service\": \"auth\" },\n    { \"binding\": \"QUEUE_SERVICE\", \"service\": \"queue\" },\n"
        )
    );
}

#[test]
fn rename_retarget_and_remove_touch_only_their_entry() {
    let out = edit_text(
        FILE,
        &[
            BindingEdit::Rename {
                from: "DB_SERVICE".into(),
                to: "DATABASE".into(),
            },
            BindingEdit::Retarget {
                binding: "DATABASE".into(),
                service: "db-v2".into(),
                entrypoint: Some("Reads".into()),
            },
            BindingEdit::Remove {
                binding: "AUTH_SERVICE".into(),
            },
        ],
    )
    .unwrap();
    assert!(out.starts_with("// A service folder (workers/gateway).\n"));
    assert!(out.contains("/* Service bindings: sent with the deploy. */"));
    assert!(
        out.contains(r#"{ "binding": "DATABASE", "service": "db-v2", "entrypoint": "Reads" }, // the database"#),
        "{out}"
    );
    assert!(!out.contains("AUTH_SERVICE"));
    assert!(out.contains(r#""vars": { "MODE": "strict" },"#));
}

#[test]
fn a_taken_or_unknown_name_is_refused_with_what_to_do() {
    let e = edit_text(FILE, &[add("DB_SERVICE", "db")]).unwrap_err();
    assert!(e.message.contains("already has a binding"), "{}", e.message);
    let e = edit_text(FILE, &[add("MODE", "db")]).unwrap_err();
    assert!(e.message.contains("already has a binding"), "{}", e.message);
    let e = edit_text(
        FILE,
        &[BindingEdit::Remove {
            binding: "NOPE".into(),
        }],
    )
    .unwrap_err();
    assert!(
        e.message.contains("no service binding named 'NOPE'"),
        "{}",
        e.message
    );
    let e = edit_text(FILE, &[add("1BAD", "db")]).unwrap_err();
    assert!(e.message.starts_with("edits[0].binding:"), "{}", e.message);
    let e = edit_text(FILE, &[add("GOOD", "has space")]).unwrap_err();
    assert!(e.message.starts_with("edits[0].service:"), "{}", e.message);
    let e = edit_text(FILE, &[]).unwrap_err();
    assert!(e.message.contains("nothing to change"), "{}", e.message);
}

#[test]
fn a_file_without_services_gets_the_list() {
    let out = edit_text("{\n  \"name\": \"x\"\n}\n", &[add("A", "a")]).unwrap();
    let ConfigBindings { rows, .. } = read_rows(&out).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(
        out.contains(r#"{ "binding": "A", "service": "a" }"#),
        "{out}"
    );
}

const ENV: &str = "import x from 'y'\n\ninterface Env {\n  AUTH_SERVICE: Fetcher // the auth service\n  DB_SERVICE: Fetcher // the db service\n  AI?: Ai\n}\n\nexport default {}\n";

fn row(b: &str, s: &str) -> ServiceBindingRow {
    ServiceBindingRow {
        binding: b.into(),
        service: s.into(),
        entrypoint: None,
    }
}

#[test]
fn the_templates_env_block_is_rewritten_and_a_hand_edited_one_is_not() {
    let old = [row("DB_SERVICE", "db"), row("AUTH_SERVICE", "auth")];
    let new = [row("DB_SERVICE", "db"), row("QUEUE", "queue")];
    let out = update_env(ENV, &old, &new).unwrap();
    assert_eq!(
        out,
        "import x from 'y'\n\ninterface Env {\n  DB_SERVICE: Fetcher // the db service\n  QUEUE: Fetcher // the queue service\n  AI?: Ai\n}\n\nexport default {}\n"
    );
    let edited = ENV.replace(
        "DB_SERVICE: Fetcher // the db service",
        "DB_SERVICE: Service<Db>",
    );
    assert!(update_env(&edited, &old, &new).is_err());
    let extra = ENV.replace("  AI?: Ai\n", "  KV: Fetcher\n");
    assert!(update_env(&extra, &old, &new).is_err());
    // No bindings yet: the members go right under `interface Env {`.
    let empty = "interface Env {\n}\n";
    assert_eq!(
        update_env(empty, &[], &[row("A", "a")]).unwrap(),
        "interface Env {\n  A: Fetcher // the a service\n}\n"
    );
}

/// `cargo xtask fuzz` raises the number of cases.
fn fuzz_cases() -> u32 {
    std::env::var("SWITCHYARD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

const PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"services\"",
    "\"binding\"",
    "\"service\"",
    "\"A\"",
    "\"b\"",
    "// c\n",
    "/* d */",
    "/* open",
    "\n",
    " ",
    "null",
    "1",
    "'s'",
    "\"entrypoint\"",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Any text and any edit: an answer or an error, never a panic, and an edited text reads
    /// back with the bindings asked for.
    #[test]
    fn editing_never_panics(
        text in prop_oneof![
            any::<String>(),
            prop::collection::vec(prop::sample::select(PIECES), 0..60).prop_map(|p| p.concat()),
        ],
        name in "[A-Z_]{1,4}|.{0,6}",
        service in "[a-z]{1,4}|.{0,6}",
        op in 0u8..4,
    ) {
        let edit = match op {
            0 => BindingEdit::Add { binding: name.clone(), service, entrypoint: None },
            1 => BindingEdit::Rename { from: "A".into(), to: name.clone() },
            2 => BindingEdit::Retarget { binding: "A".into(), service, entrypoint: Some(name.clone()) },
            _ => BindingEdit::Remove { binding: name.clone() },
        };
        if let Ok(out) = edit_text(&text, std::slice::from_ref(&edit)) {
            let ConfigBindings { rows, .. } = read_rows(&out).unwrap();
            if let BindingEdit::Add { binding, .. } = &edit {
                prop_assert!(rows.iter().any(|r| &r.binding == binding));
            }
        }
        let _ = update_env(&text, &[row("A", "b")], &[row(&name, "c")]);
    }
}
