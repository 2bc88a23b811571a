//! The runbook parser under attack: arbitrary text, and text built from the pieces of the format
//! (headings with attributes, checks, action blocks, front matter) shuffled and broken, never
//! panics, never loops, and every problem it reports has a line inside the file.
//! `SWITCHYARD_FUZZ_CASES` sets the number of cases (64 in the normal suite; `cargo xtask fuzz`
//! runs many more, in release).

use std::time::{Duration, Instant};

use proptest::prelude::*;
use switchyard_runbooks::{parse_runbook, RunbookOrigin};

fn cases() -> u32 {
    std::env::var("SWITCHYARD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// Fragments of the format, in pieces a shuffle can break.
const PIECES: &[&str] = &[
    "---\n",
    "category: Emergency procedures\n",
    "replaces: Deploy API Down\n",
    "inputs: service, folder, name:text=x\n",
    "# Title\n",
    "## Step {#a gate}\n",
    "## Step {#b when=a:failed}\n",
    "## Step {#c when=zz:passed}\n",
    "## {#}\n",
    "## Step {gate gate}\n",
    "- [ ] check\n",
    "- [x] done\n",
    "```switchyard health service=$service\n",
    "```switchyard rollback service=? environment=production\n",
    "```switchyard command folder=? timeout=0\n",
    "```switchyard command folder=$folder timeout=99999999999\n",
    "```switchyard note prompt=\"unterminated\n",
    "```switchyard logs service=db seconds=301\n",
    "```switchyard direct-deploy service=$nope version=?\n",
    "```switchyard\n",
    "```\n",
    "pnpm deploy\n",
    "\n",
    "text with `code` and **bold**\n",
    "{#",
    "}",
    "=",
    "\"",
    "when=",
    ":failed",
    "é",
    "\u{0}",
    "\r\n",
    "    indented\n",
    "> quote\n",
    "<script>alert(1)</script>\n",
];

fn markdownish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..60).prop_map(|p| p.concat())
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let lines = text.lines().count() as u32 + 1;
    match parse_runbook("fuzz", text, RunbookOrigin::BuiltIn) {
        Ok(runbook) => {
            for step in &runbook.steps {
                if let Some(c) = &step.condition {
                    prop_assert!(c.step_index < step.index, "a condition looks back only");
                }
            }
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty(), "a refusal names its problems");
            for e in &errors {
                prop_assert!(e.line <= lines, "line {} of a {lines}-line file", e.line);
                prop_assert!(!e.message.is_empty());
            }
        }
    }
    prop_assert!(
        started.elapsed() < Duration::from_secs(2),
        "parsing {} bytes took {:?}",
        text.len(),
        started.elapsed()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn broken_runbooks_never_panic(text in markdownish()) {
        check(&text)?;
    }
}
