//! Running steps, streaming their output, and counting what passed.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;

use anyhow::{bail, Context, Result};

/// `cargo <args>` from the workspace root.
pub fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args).current_dir(crate::root());
    cmd
}

/// `npm <args>` in `dir`.
pub fn npm(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("npm");
    cmd.args(args).current_dir(dir);
    cmd
}

/// Run a command with its output going straight to the terminal; an error if it fails.
pub fn run_plain(mut cmd: Command) -> Result<()> {
    let shown = describe(&cmd);
    println!("\n==> {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What one step contributed to the summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub passed: u64,
    pub failed: u64,
    pub error: Option<String>,
}

impl Outcome {
    pub fn failed_step(e: impl std::fmt::Display) -> Self {
        Outcome {
            passed: 0,
            failed: 1,
            error: Some(e.to_string()),
        }
    }
}

/// A check that passes or fails as a whole (rustfmt, clippy, typecheck, lint): counts as one.
pub fn run_step(cmd: Command) -> Outcome {
    match run_captured(cmd) {
        Ok((true, _)) => Outcome {
            passed: 1,
            ..Outcome::default()
        },
        Ok((false, _)) => Outcome::failed_step("exited with an error"),
        Err(e) => Outcome::failed_step(e),
    }
}

/// A test runner (cargo test, Vitest): counts its tests from its own summary lines.
pub fn run_counted(cmd: Command) -> Outcome {
    match run_captured(cmd) {
        Ok((ok, output)) => {
            let (passed, failed) = count_tests(&output);
            if !ok && failed == 0 {
                // It failed before or outside any test (a compile error, a crash): count it.
                Outcome {
                    passed,
                    failed: 1,
                    error: Some("exited with an error outside the tests".into()),
                }
            } else {
                Outcome {
                    passed,
                    failed,
                    error: (!ok).then(|| format!("{failed} test(s) failed")),
                }
            }
        }
        Err(e) => Outcome::failed_step(e),
    }
}

/// Run with stdout and stderr streamed to the terminal as they come, and also kept.
fn run_captured(mut cmd: Command) -> Result<(bool, String)> {
    let shown = describe(&cmd);
    println!("\n==> {shown}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let (tx, rx) = mpsc::channel::<String>();
    let out = child.stdout.take().expect("piped");
    let err = child.stderr.take().expect("piped");
    let tx2 = tx.clone();
    let t1 = std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            let _ = tx.send(line);
        }
    });
    let t2 = std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("{line}");
            let _ = tx2.send(line);
        }
    });
    let status = child.wait()?;
    let _ = t1.join();
    let _ = t2.join();
    let _ = std::io::stdout().flush();
    let output: Vec<String> = rx.try_iter().collect();
    Ok((status.success(), output.join("\n")))
}

/// Sum the counts of cargo test's `test result:` lines and Vitest's `Tests` line.
pub fn count_tests(output: &str) -> (u64, u64) {
    let mut passed = 0;
    let mut failed = 0;
    for raw in output.lines() {
        let line = strip_ansi(raw);
        let line = line.trim();
        let is_cargo = line.starts_with("test result:");
        let is_vitest = line.starts_with("Tests ");
        if !(is_cargo || is_vitest) {
            continue;
        }
        passed += number_before(line, "passed");
        failed += number_before(line, "failed");
    }
    (passed, failed)
}

/// The number written just before `word` ("3 passed" → 3), or 0.
fn number_before(line: &str, word: &str) -> u64 {
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ';' || c == '|' || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .find(|w| w[1] == word)
        .and_then(|w| w[0].parse().ok())
        .unwrap_or(0)
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the end of the escape sequence (a letter).
            for n in chars.by_ref() {
                if n.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Counts over all steps.
#[derive(Debug, Default)]
pub struct Tally {
    passed: u64,
    failed: u64,
    failures: Vec<String>,
}

impl Tally {
    pub fn record(&mut self, step: &str, outcome: Outcome) {
        self.passed += outcome.passed;
        self.failed += outcome.failed;
        if let Some(e) = outcome.error {
            self.failures.push(format!("{step}: {e}"));
        }
    }

    pub fn print_failures(&self) {
        if !self.failures.is_empty() {
            println!("\nFailed steps:");
            for f in &self.failures {
                println!("  - {f}");
            }
        }
    }

    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }

    pub fn exit_code(&self) -> ExitCode {
        if self.failed == 0 && self.failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cargo_test_results() {
        let out = "running 3 tests\ntest result: ok. 3 passed; 0 failed; 1 ignored; 0 measured\n\
                   test result: FAILED. 4 passed; 2 failed; 0 ignored";
        assert_eq!(count_tests(out), (7, 2));
    }

    #[test]
    fn counts_vitest_results_with_colour() {
        let out = "\u{1b}[2m      Tests \u{1b}[22m \u{1b}[1m\u{1b}[31m1 failed\u{1b}[39m\u{1b}[22m\u{1b}[2m | \u{1b}[22m\u{1b}[1m\u{1b}[32m11 passed\u{1b}[39m\u{1b}[22m\u{1b}[90m (12)\u{1b}[39m";
        assert_eq!(count_tests(out), (11, 1));
        assert_eq!(count_tests("      Tests  9 passed (9)"), (9, 0));
    }

    #[test]
    fn a_failing_runner_with_no_counts_is_one_failure() {
        let outcome = run_counted(Command::new("false"));
        assert_eq!(outcome.failed, 1);
        assert!(outcome.error.is_some());
    }

    #[test]
    fn summary_line_has_the_ci_shape() {
        let mut t = Tally::default();
        t.record(
            "a",
            Outcome {
                passed: 5,
                failed: 0,
                error: None,
            },
        );
        t.record("b", Outcome::failed_step("boom"));
        assert_eq!(t.summary(), "5 passed, 1 failed");
        assert_eq!(t.exit_code(), ExitCode::FAILURE);
    }
}
