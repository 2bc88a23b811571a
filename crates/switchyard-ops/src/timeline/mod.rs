//! The incident timeline: one time-ordered view of a profile over a window (a chosen time range,
//! or a runbook run) merging the audit log (every action, whatever its name — `rollout.*`
//! included), health state changes (transitions read from the stored samples, not every
//! sample), deployments (the history cache), runbook runs' events (steps started, passed,
//! failed with the tail of their output, skipped with the reason, checks, notes), the
//! timeline's own notes, and log excerpts (each failure a tail saw, with the invocations around
//! it; of the run's service when the timeline is a run's). Items have stable ids, so pins
//! survive reloads. Every text is redacted of keys and tokens as the incident report is, and at
//! most [`TIMELINE_MAX_ITEMS`] are shown, saying how many more there are.
//!
//! The incident report's "Meanwhile" section is built here too (see [`Ops::meanwhile_lines`]).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use switchyard_core::{AppError, AuditFilter, AuditOutcome, Profile};
use switchyard_secrets::SecretKind;
use switchyard_store::{
    AuditEntry, DeploymentFilter, HealthState, LogExcerptLine, NewTimelineNote,
};

use crate::logs::LOG_EXCERPT_AROUND;
use crate::runbooks::{redact, utc};
use crate::{actor, Ops};

/// The most items a timeline holds; past it, it says how many more the window has.
pub const TIMELINE_MAX_ITEMS: u32 = 5_000;
/// The longest note (bytes).
pub const TIMELINE_NOTE_MAX: usize = 16 * 1024;
/// How many of a failed step's last output lines the timeline quotes.
const OUTPUT_TAIL_LINES: usize = 10;
/// A run's timeline starts this long before the run did: what led to it.
pub const RUN_LEAD_MS: i64 = 15 * 60_000;
/// A window with no start: this long before its end.
const DEFAULT_SPAN_MS: i64 = 3_600_000;
/// The longest window (a quarter): longer ones would only show the first items anyway.
const MAX_SPAN_MS: i64 = 92 * 86_400_000;
/// How far back a target's state before the window is looked for.
const HEALTH_LOOKBACK_MS: i64 = 86_400_000;
/// At most this many audit entries of a window are read (the oldest); more are counted.
const AUDIT_READ_MAX: u32 = 4 * TIMELINE_MAX_ITEMS;

// ---------------------------------------------------------------------------------------------
// Types the window sees.

/// Which stretch of a profile's history to show: a run's (from a little before it started to
/// when it ended, or now), or a time range (`untilMs` absent: now; `sinceMs` absent: an hour
/// before the end).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct TimelineWindow {
    /// The profile; with `runId`, the run's profile is used (and this may be empty).
    pub profile_id: String,
    pub run_id: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub since_ms: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub until_ms: Option<i64>,
    /// A page, as the Timeline tab reads it: the newest `limit` items of the window (before
    /// `before`, when given), oldest first, with how many come earlier. Absent: the whole window
    /// from its start (at most [`TIMELINE_MAX_ITEMS`]), as the Markdown and the report read it.
    pub limit: Option<u32>,
    /// The page before this item (the first one shown): "Earlier".
    pub before: Option<TimelineCursor>,
}

/// Where an item sits in the timeline's order: its time, then its id (its kind is in the id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TimelineCursor {
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
    pub id: String,
}

/// What an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum TimelineKind {
    /// An action of the audit log (deploys, namespace changes, rollouts, settings…).
    Audit,
    /// A target went down or came back up.
    Health,
    /// A deployment in the history cache.
    Deployment,
    /// An event of a runbook run: a step started, passed, failed or skipped, a check, a note.
    Step,
    /// A note written on the timeline.
    Note,
    /// A failure a tail saw, with the invocations around it.
    Log,
}

/// How an item ended, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum TimelineTone {
    Ok,
    Error,
    /// Neither: skipped, interrupted, rolled back.
    Warning,
    /// Still running.
    Running,
    /// Nothing to judge (a note, a check ticked).
    Neutral,
}

/// One entry of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TimelineItem {
    /// Stable: `audit:<seq>`, `deploy:<id>`, `health:<target>:<at_ms>`, `step:<run>:<seq>`,
    /// `note:<id>`, `log:<id>`.
    pub id: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
    pub kind: TimelineKind,
    pub title: String,
    /// More about it (a message, the run it belongs to, parameters), possibly several lines.
    pub detail: Option<String>,
    /// Who did it (the OS user, a deployment's author), when known.
    pub actor: Option<String>,
    /// How it ended in words: `ok`, `running`, an error code, `down`, `up`, `skipped`…
    pub outcome: Option<String>,
    pub tone: TimelineTone,
    /// A failed step: the last lines of its output.
    pub output_tail: Option<String>,
    /// A log item: the invocations around the failure, oldest first (the failure among them).
    pub log_lines: Vec<TimelineLogLine>,
    pub pinned: bool,
    /// The item as one Markdown list entry (times in UTC), without the leading `- `. Made for
    /// the whole window (the Markdown, the report), not always for a page of the tab.
    #[serde(skip)]
    pub(crate) line: String,
}

/// One invocation of a log excerpt.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TimelineLogLine {
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub at_ms: i64,
    /// The invocation as text: the request line, then its console lines and exceptions.
    pub text: String,
    /// This invocation failed (another failure near the item's own, or the item's own).
    pub failed: bool,
    /// The failure the item is about.
    pub focus: bool,
}

/// The run a timeline was opened on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TimelineRun {
    pub id: String,
    pub title: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub started_ms: i64,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub finished_ms: Option<i64>,
}

/// A profile's timeline over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    pub profile_id: String,
    pub profile_name: String,
    /// The window looked at: `[sinceMs, untilMs)`.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub since_ms: i64,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub until_ms: i64,
    /// The run it was opened on, if any.
    pub run: Option<TimelineRun>,
    /// Oldest first; the earliest [`TIMELINE_MAX_ITEMS`] when there are more.
    pub items: Vec<TimelineItem>,
    /// How many more items the window has, after the last one shown.
    pub not_shown: u32,
    /// Whether `not_shown` is exact (false: at least that many).
    pub not_shown_exact: bool,
    /// A page (`limit`): how many items of the window come before the first one shown.
    pub earlier: u32,
    /// Whether `earlier` is exact (false: at least that many).
    pub earlier_exact: bool,
    /// Ids of the pinned items in this window, in time order.
    pub pinned: Vec<String>,
}

/// A note to write on a profile's timeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct TimelineNoteRequest {
    pub profile_id: String,
    /// The time it is about; absent: now.
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub at_ms: Option<i64>,
    pub text: String,
    /// The run it was written beside, if any.
    pub run_id: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Collecting.

/// Which sources a collection reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sources {
    pub audit: bool,
    pub deployments: bool,
    pub health: bool,
    pub runs: bool,
    pub notes: bool,
    pub logs: bool,
}

impl Sources {
    const ALL: Sources = Sources {
        audit: true,
        deployments: true,
        health: true,
        runs: true,
        notes: true,
        logs: true,
    };
}

/// Which items of a window a collection keeps.
#[derive(Debug, Clone)]
pub(crate) enum Reach {
    /// The oldest this many (the Markdown, the report).
    Oldest(u32),
    /// The newest this many, before the cursor if any (the Timeline tab's pages).
    Newest {
        limit: u32,
        before: Option<TimelineCursor>,
    },
}

impl TimelineCursor {
    /// Its place in the timeline's order, as an item's is (its time, its kind's rank, its id).
    pub(crate) fn key(&self) -> (i64, u8, &str) {
        let kind = match self.id.split(':').next().unwrap_or("") {
            "step" => TimelineKind::Step,
            "audit" => TimelineKind::Audit,
            "deploy" => TimelineKind::Deployment,
            "health" => TimelineKind::Health,
            "note" => TimelineKind::Note,
            _ => TimelineKind::Log,
        };
        (self.at_ms, kind_rank(kind), self.id.as_str())
    }
}

/// A timeline's window, resolved ([`Ops::timeline_window`]).
struct Resolved {
    profile_id: String,
    /// Read already (a run's window), else `None`.
    profile: Option<Profile>,
    from: i64,
    to: i64,
    run: Option<TimelineRun>,
    /// The services whose log excerpts are shown; `None`: every service.
    log_services: Option<Vec<String>>,
}

/// What a collection found.
pub(crate) struct Collected {
    /// Oldest first, at most the limit asked.
    pub items: Vec<TimelineItem>,
    /// The window's items not kept: after the last (oldest first), or before the first (newest).
    pub not_shown: u64,
    pub not_shown_exact: bool,
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The last `n` lines of `output`, if it has any.
fn tail(output: &str, n: usize) -> Option<String> {
    let lines: Vec<&str> = output.trim_end().lines().collect();
    if lines.iter().all(|l| l.trim().is_empty()) {
        return None;
    }
    Some(lines[lines.len().saturating_sub(n)..].join("\n"))
}

/// An audit entry's outcome: its words and its tone.
fn audit_outcome(e: &AuditEntry) -> (String, TimelineTone) {
    match AuditOutcome::of(&e.outcome) {
        AuditOutcome::Ok => ("ok".into(), TimelineTone::Ok),
        AuditOutcome::Started => ("running".into(), TimelineTone::Running),
        AuditOutcome::Interrupted => ("interrupted".into(), TimelineTone::Warning),
        AuditOutcome::Error => (e.outcome.clone(), TimelineTone::Error),
    }
}

/// A run event's outcome: its words and its tone.
fn event_outcome(kind: &str) -> (Option<&'static str>, TimelineTone) {
    match kind {
        "step.passed" | "step.action-passed" | "step.done" | "run.finished" => {
            (Some("passed"), TimelineTone::Ok)
        }
        "step.failed" => (Some("failed"), TimelineTone::Error),
        "step.skipped" => (Some("skipped"), TimelineTone::Warning),
        "step.interrupted" => (Some("interrupted"), TimelineTone::Warning),
        "run.escalated" => (Some("escalated"), TimelineTone::Warning),
        "run.abandoned" => (Some("abandoned"), TimelineTone::Warning),
        "step.started" | "run.started" => (Some("started"), TimelineTone::Running),
        "fault.injected" => (Some("fault"), TimelineTone::Warning),
        _ => (None, TimelineTone::Neutral),
    }
}

/// Kinds that sort first among items of one millisecond (a cause before its effects).
fn kind_rank(kind: TimelineKind) -> u8 {
    match kind {
        TimelineKind::Step => 0,
        TimelineKind::Audit => 1,
        TimelineKind::Deployment => 2,
        TimelineKind::Health => 3,
        TimelineKind::Note => 4,
        TimelineKind::Log => 5,
    }
}

impl Ops {
    /// Every key and token the texts of `profile` must not show: its keychain entries (a key
    /// saved for other hosts than the profile names now too: it is not sent there, but it is
    /// still a key) and, on the Local sandbox, the sandbox's demo credentials. The incident
    /// report, runbook output and log lines use them too. The keychain (a D-Bus call each on
    /// Linux, ~0.5 ms) is read on a blocking thread, not on the async ones.
    pub(crate) async fn redaction_secrets(&self, profile: &Profile) -> Vec<String> {
        if profile.sandbox {
            let link = self.sandbox_link.read().expect("sandbox link lock");
            if let Some(d) = link.as_ref().map(|l| &l.discovery) {
                return vec![
                    d.cloudflare_token.clone(),
                    d.deploy_key.clone(),
                    d.readonly_key.clone(),
                ];
            }
        }
        let keychain = self.secrets.clone();
        let id = profile.id.clone();
        tokio::task::spawn_blocking(move || {
            [SecretKind::DeployApiKey, SecretKind::CloudflareToken]
                .into_iter()
                .filter_map(|kind| keychain.get(&id, kind).ok().flatten())
                .map(|s| s.expose().to_owned())
                .collect()
        })
        .await
        .unwrap_or_default()
    }

    /// The report's "Meanwhile" lines: what else happened on the run's profile while it ran
    /// (actions in other areas without the run's own, deployments, health changes), oldest first,
    /// each a Markdown list entry without its `- `.
    pub(crate) async fn meanwhile_lines(
        &self,
        profile_id: &str,
        run_id: &str,
        runbook_id: &str,
        from: i64,
        to: i64,
    ) -> Vec<String> {
        let run_marker = format!("(run {run_id})");
        let hide = |e: &AuditEntry| {
            e.action.starts_with("runbook.")
                || e.params.to_string().contains(&run_marker)
                || e.target == runbook_id
        };
        let sources = Sources {
            runs: false,
            notes: false,
            logs: false,
            ..Sources::ALL
        };
        // The run's window, both ends included.
        match self
            .collect_timeline(
                profile_id,
                from,
                to + 1,
                sources,
                &Reach::Oldest(2_000),
                &hide,
                None,
            )
            .await
        {
            Ok(c) => c.items.into_iter().map(|i| i.line).collect(),
            Err(e) => {
                tracing::warn!(error = %e.message, "the report's Meanwhile section could not be read");
                Vec::new()
            }
        }
    }

    /// The window `window` names, resolved: the profile (read already for a run's window, else
    /// its id only: it is read while the items are), `[from, to)`, the run, and the services
    /// whose log excerpts it shows (a run's `service` input; `None`: every service).
    async fn timeline_window(&self, window: &TimelineWindow) -> Result<Resolved, AppError> {
        let now = self.now_ms();
        if let Some(run_id) = window.run_id.as_deref() {
            let run = self.store.run(run_id).await?.ok_or_else(|| {
                AppError::new(
                    switchyard_core::ErrorCode::NotFound,
                    format!("There is no runbook run {run_id}: pick one of the recent runs, or a time range."),
                )
            })?;
            let profile = self.store.get_profile(&run.profile_id).await?;
            let from = run.started_ms - RUN_LEAD_MS;
            let to = run.finished_ms.map_or(now + 1, |f| f + 1).max(from + 1);
            // A run about a service shows that service's failures; others show every service's.
            let log_services = run
                .inputs
                .get("service")
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| vec![s.to_owned()]);
            return Ok(Resolved {
                profile_id: profile.id.clone(),
                profile: Some(profile),
                from,
                to,
                run: Some(TimelineRun {
                    id: run.id,
                    title: run.title,
                    started_ms: run.started_ms,
                    finished_ms: run.finished_ms,
                }),
                log_services,
            });
        }
        let to = window.until_ms.unwrap_or(now + 1);
        let from = window.since_ms.unwrap_or(to - DEFAULT_SPAN_MS);
        if to <= from {
            return Err(AppError::invalid_input(format!(
                "The window ends ({}) before it starts ({}): swap From and To.",
                utc(to),
                utc(from)
            )));
        }
        if to - from > MAX_SPAN_MS {
            return Err(AppError::invalid_input(
                "The window is longer than 92 days: choose a shorter range (a timeline shows at most 5,000 items anyway).",
            ));
        }
        Ok(Resolved {
            profile_id: window.profile_id.clone(),
            profile: None,
            from,
            to,
            run: None,
            log_services: None,
        })
    }

    /// A profile's timeline over `window`: every source merged, oldest first, pins marked,
    /// texts redacted. With a `limit`, the newest that many (before `before`) and how many
    /// come earlier.
    pub async fn timeline(&self, window: &TimelineWindow) -> Result<Timeline, AppError> {
        let Resolved {
            profile_id,
            profile,
            from,
            to,
            run,
            log_services,
        } = self.timeline_window(window).await?;
        let reach = match window.limit {
            Some(limit) => Reach::Newest {
                limit: limit.clamp(1, TIMELINE_MAX_ITEMS),
                before: window.before.clone(),
            },
            None => Reach::Oldest(TIMELINE_MAX_ITEMS),
        };
        // The profile (when not read yet) with its keys, and the pins, are read while the items
        // are: a profile that does not exist has no items, and its error is the answer.
        let profile_read = async {
            let profile = match profile {
                Some(p) => p,
                None => self.store.get_profile(&profile_id).await?,
            };
            let secrets = self.redaction_secrets(&profile).await;
            Ok::<_, AppError>((profile, secrets))
        };
        let ((profile, secrets), collected, pins) = tokio::try_join!(
            profile_read,
            self.collect_timeline(
                &profile_id,
                from,
                to,
                Sources::ALL,
                &reach,
                &|_| false,
                log_services.as_deref(),
            ),
            self.store.timeline_pins(&profile_id)
        )?;
        let paged = matches!(reach, Reach::Newest { .. });
        let rest = u32::try_from(collected.not_shown).unwrap_or(u32::MAX);
        let pinned_set: HashSet<&str> = pins.iter().map(String::as_str).collect();
        let items: Vec<TimelineItem> = collected
            .items
            .into_iter()
            .map(|mut i| {
                i.pinned = pinned_set.contains(i.id.as_str());
                redact_item(i, &secrets)
            })
            .collect();
        let pinned = items
            .iter()
            .filter(|i| i.pinned)
            .map(|i| i.id.clone())
            .collect();
        Ok(Timeline {
            profile_id: profile.id.clone(),
            profile_name: profile.name.clone(),
            since_ms: from,
            until_ms: to,
            run,
            items,
            not_shown: if paged { 0 } else { rest },
            not_shown_exact: paged || collected.not_shown_exact,
            earlier: if paged { rest } else { 0 },
            earlier_exact: !paged || collected.not_shown_exact,
            pinned,
        })
    }

    /// Pin (or unpin) an item of a profile's timeline by its id; pins are kept across restarts.
    pub async fn pin_timeline_item(
        &self,
        profile_id: &str,
        item_id: &str,
        pinned: bool,
    ) -> Result<(), AppError> {
        self.store.get_profile(profile_id).await?;
        let known = ["audit:", "deploy:", "health:", "step:", "note:", "log:"];
        if !known.iter().any(|k| item_id.starts_with(k)) || item_id.len() > 512 {
            return Err(AppError::invalid_input(format!(
                "{} is not an item of the timeline: pin an item from the list.",
                one_line(&item_id.chars().take(60).collect::<String>())
            )));
        }
        self.store
            .set_timeline_pin(profile_id, item_id, pinned, self.now_ms(), &actor())
            .await
    }

    /// Write a note on a profile's timeline at a time (now, unless given), signed by the OS
    /// user. The profile's keys in it are stored as ***. Recorded in the audit log.
    pub async fn add_timeline_note(
        &self,
        request: &TimelineNoteRequest,
    ) -> Result<TimelineItem, AppError> {
        let text = request.text.trim();
        if text.is_empty() {
            return Err(AppError::invalid_input(
                "The note is empty: write something first.",
            ));
        }
        if text.len() > TIMELINE_NOTE_MAX {
            return Err(AppError::invalid_input(
                "The note is longer than 16 KiB: shorten it, or attach the long text to the incident ticket instead.",
            ));
        }
        let profile = self.store.get_profile(&request.profile_id).await?;
        if let Some(run_id) = request.run_id.as_deref() {
            let run = self.store.run(run_id).await?;
            if run.is_none_or(|r| r.profile_id != profile.id) {
                return Err(AppError::invalid_input(format!(
                    "The run {run_id} is not a run of {}: open its timeline from the run.",
                    profile.name
                )));
            }
        }
        let now = self.now_ms();
        let secrets = self.redaction_secrets(&profile).await;
        // The store never holds a key: the profile's own are replaced before it is written.
        let mut stored = text.to_owned();
        for s in secrets.iter().filter(|s| s.len() >= 4) {
            stored = stored.replace(s.as_str(), "***");
        }
        let note = NewTimelineNote {
            profile_id: profile.id.clone(),
            at_ms: request.at_ms.unwrap_or(now),
            written_ms: now,
            author: actor(),
            text: stored,
            run_id: request.run_id.clone(),
        };
        let params = serde_json::json!({
            "atMs": note.at_ms,
            "run": note.run_id,
            "note": redact(&note.text, &secrets).chars().take(500).collect::<String>(),
        });
        let id = self
            .audited(&profile.id, "timeline.note", &profile.id, params, async {
                self.store.add_timeline_note(&note).await
            })
            .await?;
        let title = note.text.trim().to_owned();
        let item = TimelineItem {
            id: format!("note:{id}"),
            at_ms: note.at_ms,
            kind: TimelineKind::Note,
            line: format!(
                "{} — {} — note: {}",
                utc(note.at_ms),
                note.author,
                one_line(&title)
            ),
            title,
            detail: (note.at_ms != now).then(|| format!("Written {}", utc(now))),
            actor: Some(note.author),
            outcome: None,
            tone: TimelineTone::Neutral,
            output_tail: None,
            log_lines: Vec::new(),
            pinned: false,
        };
        Ok(redact_item(item, &secrets))
    }

    /// The timeline of `window` as Markdown: a header saying what was looked at, the pinned
    /// items under "Pinned", then the whole timeline (times in UTC). Anything that looks like a
    /// key or token is replaced by `***`, as in the incident report.
    pub async fn timeline_markdown(&self, window: &TimelineWindow) -> Result<String, AppError> {
        // The whole window, whatever page the tab shows.
        let whole = TimelineWindow {
            limit: None,
            before: None,
            ..window.clone()
        };
        let t = self.timeline(&whole).await?;
        let profile = self.store.get_profile(&t.profile_id).await?;
        let secrets = self.redaction_secrets(&profile).await;
        Ok(redact(&markdown(&t), &secrets))
    }
}

mod collect;
mod format;

use format::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_of_output_is_its_last_lines() {
        let out: String = (1..=15).map(|i| format!("line {i}\n")).collect();
        let t = tail(&out, 10).unwrap();
        assert_eq!(t.lines().count(), 10);
        assert!(t.starts_with("line 6"));
        assert!(t.ends_with("line 15"));
        assert_eq!(tail("  \n", 10), None);
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(45_000), "45 s");
        assert_eq!(duration_words(180_000), "3 min");
        assert_eq!(duration_words(7_500_000), "2 h 5 min");
    }
}
