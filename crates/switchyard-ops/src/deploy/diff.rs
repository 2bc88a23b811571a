//! Diff first: the code of a bundle against another — what runs now against what a deploy,
//! restore or promote would put in its place, or any two archived versions from the history.
//!
//! Bounded for large bundles: the line diff gives up after a deadline (and says so), at most
//! [`MAX_SHOWN_LINES`] lines are sent to the window, each cut at [`MAX_LINE_CHARS`] characters.
//! Sizes and SHA-256 of both sides are always exact.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use similar::{Algorithm, ChangeTag, TextDiff};

use switchyard_core::{AppError, Environment, ErrorCode};

use crate::Ops;

/// Lines of diff sent to the window at most (context included).
pub const MAX_SHOWN_LINES: usize = 2_000;
/// Characters of one line shown at most (a minified bundle is one very long line).
pub const MAX_LINE_CHARS: usize = 400;
/// Lines of unchanged context around each change.
const CONTEXT: usize = 3;
/// How long the line diff may take before it settles for a coarser (still correct) answer.
const DIFF_DEADLINE: Duration = Duration::from_secs(2);

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum BundleRef {
    /// What the environment's namespace runs now as `service`.
    Running {
        service: String,
        environment: Environment,
    },
    /// A bundle by its SHA-256: in the archive, or the one a prepared deploy holds.
    Bundle { sha256: String },
}

/// A comparison to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CompareRequest {
    pub profile_id: String,
    /// The old side ("now").
    pub left: BundleRef,
    /// The new side ("after").
    pub right: BundleRef,
}

/// What one side turned out to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BundleSide {
    /// Where its code came from, in words ("the archive", "the worker gateway in ns …").
    pub source: String,
    /// False when its code could not be read; `reason` says why.
    pub available: bool,
    /// Known not to exist (nothing runs there yet): every line of the other side is new.
    pub absent: bool,
    pub reason: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub size_bytes: Option<u64>,
    pub sha256: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub lines: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum DiffLineKind {
    Context,
    Added,
    Removed,
}

/// One line of the unified diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DiffLine {
    pub kind: DiffLineKind,
    /// Line number on the old side (1-based), for context and removed lines.
    pub old: Option<u32>,
    /// Line number on the new side (1-based), for context and added lines.
    pub new: Option<u32>,
    pub text: String,
    /// Characters cut from the end of a very long line.
    pub cut_chars: u32,
}

/// A run of changes with its context, as `@@ -a,b +c,d @@`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DiffHunk {
    pub header: String,
    pub lines: Vec<DiffLine>,
}

/// The code of two bundles compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CodeDiff {
    pub left: BundleSide,
    pub right: BundleSide,
    /// Both sides known and byte for byte the same.
    pub identical: bool,
    /// Lines added and removed in the whole diff (not only the lines shown).
    pub added: u32,
    pub removed: u32,
    pub hunks: Vec<DiffHunk>,
    /// Why not every changed line is shown, when it is not.
    pub truncated: Option<String>,
    /// One side is not UTF-8 text: only sizes and hashes are compared.
    pub binary: bool,
}

struct Loaded {
    side: BundleSide,
    bytes: Option<Vec<u8>>,
}

fn unavailable(source: String, reason: String) -> Loaded {
    Loaded {
        side: BundleSide {
            source,
            available: false,
            absent: false,
            reason: Some(reason),
            size_bytes: None,
            sha256: None,
            lines: None,
        },
        bytes: None,
    }
}

fn loaded(source: String, bytes: Vec<u8>) -> Loaded {
    let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64
        + u64::from(!bytes.is_empty() && bytes.last() != Some(&b'\n'));
    Loaded {
        side: BundleSide {
            source,
            available: true,
            absent: false,
            reason: None,
            size_bytes: Some(bytes.len() as u64),
            sha256: Some(super::sha256_hex(&bytes)),
            lines: Some(lines),
        },
        bytes: Some(bytes),
    }
}

impl Ops {
    /// Compare the code of two bundles (see [`CompareRequest`]). A side that cannot be read is
    /// reported as such (with why), never as "empty".
    pub async fn compare_bundles(&self, req: &CompareRequest) -> Result<CodeDiff, AppError> {
        let profile = self.for_profile(&req.profile_id).await?;
        let left = self.load_side(&profile, &req.left).await?;
        let right = self.load_side(&profile, &req.right).await?;
        // The diff of two large bundles is CPU work: off the async threads.
        tokio::task::spawn_blocking(move || diff_loaded(left, right))
            .await
            .map_err(|_| AppError::internal("Comparing the bundles"))
    }

    async fn load_side(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        r: &BundleRef,
    ) -> Result<Loaded, AppError> {
        match r {
            BundleRef::Bundle { sha256 } => {
                if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(AppError::invalid_input(format!(
                        "sha256: \"{}\" is not a SHA-256 (64 hexadecimal characters).",
                        sha256.chars().take(80).collect::<String>()
                    )));
                }
                let sha = sha256.to_ascii_lowercase();
                if let Some(bytes) = self.deploy_runs.prepared_bytes(&sha) {
                    return Ok(loaded("the bundle planned".into(), bytes.to_vec()));
                }
                self.archived_side(&sha).await
            }
            BundleRef::Running {
                service,
                environment,
            } => self.running_side(profile, service, *environment).await,
        }
    }

    /// A bundle of the archive by hash.
    async fn archived_side(&self, sha: &str) -> Result<Loaded, AppError> {
        let source = "the archive on this machine".to_owned();
        let Some(rec) = self.store.bundle(sha).await? else {
            return Ok(unavailable(
                source,
                format!(
                    "The bundle {} is not in this machine's archive (it was never deployed from here).",
                    sha.chars().take(12).collect::<String>()
                ),
            ));
        };
        if rec.pruned_ms.is_some() {
            return Ok(unavailable(
                source,
                "Its archived bundle was removed by the retention setting.".into(),
            ));
        }
        match tokio::fs::read(Path::new(&rec.path)).await {
            Ok(bytes) => Ok(loaded(source, bytes)),
            Err(e) => Ok(unavailable(
                source,
                format!("Its archived file could not be read ({e})."),
            )),
        }
    }

    /// What the namespace runs now as `service`: the archived bundle of the current deployment
    /// when this machine deployed it, else the worker's content from Cloudflare.
    async fn running_side(
        &self,
        profile: &crate::context::ProfileContext<'_>,
        service: &str,
        environment: Environment,
    ) -> Result<Loaded, AppError> {
        let (current, _) = self
            .current_version(profile, service, environment, false)
            .await?;
        if let Some(d) = &current {
            if let Some(u) = self.store.bundle_use(&profile.id, &d.id).await? {
                let mut side = self.archived_side(&u.sha256).await?;
                if side.bytes.is_some() {
                    side.side.source = format!(
                        "what runs now ({}), from the archive on this machine",
                        d.version_tag.clone().unwrap_or_else(|| d.id.clone())
                    );
                    return Ok(side);
                }
            }
        }
        let ns = profile.dispatch_namespace(environment);
        let worker = match current.as_ref().and_then(|d| d.version.as_deref()) {
            Some(v) => format!("{service}-{v}"),
            None => service.to_owned(),
        };
        let source = format!("the worker {worker} in {ns}");
        let api = match profile.cloudflare() {
            Ok(api) => api,
            Err(e) => {
                return Ok(unavailable(
                    source,
                    format!(
                        "What runs now was not deployed from this machine and its code cannot be fetched: {}",
                        e.message
                    ),
                ));
            }
        };
        match api.script_content(&ns, &worker).await {
            Ok(bytes) => Ok(loaded(source, bytes)),
            Err(e) if e.code == ErrorCode::NotFound => {
                let mut side = unavailable(
                    source,
                    format!("Nothing runs as {worker} in {ns}: all of the code is new."),
                );
                side.side.absent = true;
                Ok(side)
            }
            Err(e) => Ok(unavailable(
                source,
                format!("Its code could not be fetched: {}", e.message),
            )),
        }
    }
}

fn diff_loaded(left: Loaded, right: Loaded) -> CodeDiff {
    let identical = matches!(
        (&left.side.sha256, &right.side.sha256),
        (Some(a), Some(b)) if a == b
    );
    let mut out = CodeDiff {
        left: left.side,
        right: right.side,
        identical,
        added: 0,
        removed: 0,
        hunks: Vec::new(),
        truncated: None,
        binary: false,
    };
    if identical {
        return out;
    }
    let old = match &left.bytes {
        Some(b) => std::str::from_utf8(b).ok(),
        None => Some(""),
    };
    let new = match &right.bytes {
        Some(b) => std::str::from_utf8(b).ok(),
        None => None,
    };
    let (Some(old), Some(new)) = (old, new) else {
        out.binary = right.bytes.is_some();
        return out;
    };
    // An unreadable old side is not "empty": only when it is known to be absent does every
    // line show as added; otherwise the sizes and hashes say what is known.
    if left.bytes.is_none() && !out.left.absent {
        return out;
    }
    fill_hunks(&mut out, old, new);
    out
}

/// Fills `out`'s hunks and its added/removed counts with the line diff of `old` and `new`: at
/// most [`MAX_SHOWN_LINES`] lines, each cut at [`MAX_LINE_CHARS`] characters, within
/// [`DIFF_DEADLINE`]; says when lines were left out. Shared by the code diff and the bindings
/// editor's file diff.
pub(crate) fn fill_hunks(out: &mut CodeDiff, old: &str, new: &str) {
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new);
    let mut shown = 0usize;
    for group in diff.grouped_ops(CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (o0, n0) = (first.old_range().start, first.new_range().start);
        let (o1, n1) = (last.old_range().end, last.new_range().end);
        let mut hunk = DiffHunk {
            header: format!("@@ -{},{} +{},{} @@", o0 + 1, o1 - o0, n0 + 1, n1 - n0),
            lines: Vec::new(),
        };
        for op in &group {
            for change in diff.iter_changes(op) {
                let kind = match change.tag() {
                    ChangeTag::Equal => DiffLineKind::Context,
                    ChangeTag::Insert => {
                        out.added += 1;
                        DiffLineKind::Added
                    }
                    ChangeTag::Delete => {
                        out.removed += 1;
                        DiffLineKind::Removed
                    }
                };
                if shown >= MAX_SHOWN_LINES {
                    continue;
                }
                shown += 1;
                let text = change.value().trim_end_matches(['\n', '\r']);
                let total = text.chars().count();
                let kept: String = text.chars().take(MAX_LINE_CHARS).collect();
                hunk.lines.push(DiffLine {
                    kind,
                    old: change.old_index().map(|i| i as u32 + 1),
                    new: change.new_index().map(|i| i as u32 + 1),
                    text: kept,
                    cut_chars: total.saturating_sub(MAX_LINE_CHARS) as u32,
                });
            }
        }
        if !hunk.lines.is_empty() {
            out.hunks.push(hunk);
        }
    }
    if shown >= MAX_SHOWN_LINES {
        out.truncated = Some(format!(
            "Only the first {MAX_SHOWN_LINES} lines of the diff are shown ({} added and {} removed in all). Compare the files with a diff tool for the rest.",
            out.added, out.removed
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(text: &str) -> Loaded {
        loaded("test".into(), text.as_bytes().to_vec())
    }

    #[test]
    fn a_changed_line_shows_as_removed_and_added_with_numbers() {
        let d = diff_loaded(side("a\nb\nc\n"), side("a\nB\nc\nd\n"));
        assert!(!d.identical);
        assert_eq!((d.added, d.removed), (2, 1));
        let lines = &d.hunks[0].lines;
        assert!(lines
            .iter()
            .any(|l| l.kind == DiffLineKind::Removed && l.text == "b" && l.old == Some(2)));
        assert!(lines
            .iter()
            .any(|l| l.kind == DiffLineKind::Added && l.text == "d" && l.new == Some(4)));
        assert_eq!(d.hunks[0].header, "@@ -1,3 +1,4 @@");
    }

    #[test]
    fn identical_bundles_have_no_hunks() {
        let d = diff_loaded(side("x\n"), side("x\n"));
        assert!(d.identical);
        assert!(d.hunks.is_empty());
    }

    #[test]
    fn a_large_diff_is_bounded_and_says_so() {
        let old: String = (0..5_000).map(|i| format!("old {i}\n")).collect();
        let new: String = (0..5_000).map(|i| format!("new {i}\n")).collect();
        let long = "x".repeat(10_000);
        let d = diff_loaded(side(&old), side(&format!("{new}{long}\n")));
        let shown: usize = d.hunks.iter().map(|h| h.lines.len()).sum();
        assert_eq!(shown, MAX_SHOWN_LINES);
        assert_eq!((d.added, d.removed), (5_001, 5_000));
        assert!(d.truncated.as_deref().unwrap().contains("5001 added"));
        let d = diff_loaded(side("a\n"), side(&format!("{long}\n")));
        let cut = d.hunks[0]
            .lines
            .iter()
            .find(|l| l.kind == DiffLineKind::Added)
            .unwrap();
        assert_eq!(cut.text.len(), MAX_LINE_CHARS);
        assert_eq!(cut.cut_chars as usize, 10_000 - MAX_LINE_CHARS);
    }

    #[test]
    fn an_unreadable_side_is_not_shown_as_empty() {
        let d = diff_loaded(unavailable("x".into(), "no token".into()), side("a\n"));
        assert!(!d.identical);
        assert!(d.hunks.is_empty());
        assert_eq!(d.added, 0);
        let mut absent = unavailable("x".into(), "nothing runs".into());
        absent.side.absent = true;
        let d = diff_loaded(absent, side("a\n"));
        assert_eq!(d.added, 1);
    }
}
