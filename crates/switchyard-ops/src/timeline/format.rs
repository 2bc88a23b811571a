//! The timeline's words: durations, redaction of an item, log excerpts as items, and Markdown.

use super::*;

/// "45 s", "3 min", "2 h 5 min".
pub(super) fn duration_words(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    }
}

pub(super) fn redact_item(mut i: TimelineItem, secrets: &[String]) -> TimelineItem {
    let r = |s: &str| redact(s, secrets);
    i.title = r(&i.title);
    i.detail = i.detail.as_deref().map(r);
    i.output_tail = i.output_tail.as_deref().map(r);
    for l in &mut i.log_lines {
        l.text = r(&l.text);
    }
    i.line = r(&i.line);
    i
}

/// A failure a tail saw, with the invocations stored around it, as a timeline item.
pub(super) fn log_item(x: switchyard_store::LogExcerpt) -> TimelineItem {
    let f = &x.failure;
    let as_line = |l: &LogExcerptLine, focus: bool| TimelineLogLine {
        at_ms: l.at_ms,
        text: l.text.clone(),
        failed: l.failure,
        focus,
    };
    let mut log_lines: Vec<TimelineLogLine> = x.before.iter().map(|l| as_line(l, false)).collect();
    log_lines.push(as_line(f, true));
    log_lines.extend(x.after.iter().map(|l| as_line(l, false)));
    let words =
        |n: usize, what: &str| format!("{n} invocation{} {what}", if n == 1 { "" } else { "s" });
    let detail = format!(
        "Logs of {}{} · {}, {}",
        f.service,
        if f.script == f.service {
            String::new()
        } else {
            format!(" (worker {})", f.script)
        },
        words(x.before.len(), "before"),
        words(x.after.len(), "after")
    );
    TimelineItem {
        id: format!("log:{}", f.id),
        at_ms: f.at_ms,
        kind: TimelineKind::Log,
        line: format!("{} — {}", utc(f.at_ms), one_line(&f.summary)),
        title: f.summary.clone(),
        detail: Some(detail),
        actor: None,
        // What failed: the platform's outcome, else the server error, else the error it logged.
        outcome: Some(match f.status {
            _ if f.outcome != "ok" => f.outcome.clone(),
            Some(s) if s >= 500 => s.to_string(),
            _ => "console.error".to_owned(),
        }),
        tone: TimelineTone::Error,
        output_tail: None,
        log_lines,
        pinned: false,
    }
}

pub(super) fn item_markdown(out: &mut String, i: &TimelineItem) {
    let kind = match i.kind {
        TimelineKind::Audit => "action",
        TimelineKind::Health => "health",
        TimelineKind::Deployment => "deployment",
        TimelineKind::Step => "runbook",
        TimelineKind::Note => "note",
        TimelineKind::Log => "logs",
    };
    let _ = writeln!(out, "- **{kind}** {}", i.line);
    if !i.log_lines.is_empty() {
        let _ = writeln!(
            out,
            "\n  The invocations around it (▶ marks this failure, ✖ another one; times UTC):\n"
        );
        let _ = writeln!(out, "  ```text");
        for l in &i.log_lines {
            let mark = if l.focus {
                "▶"
            } else if l.failed {
                "✖"
            } else {
                " "
            };
            let time = chrono::DateTime::from_timestamp_millis(l.at_ms)
                .map(|t| t.format("%H:%M:%S%.3f").to_string())
                .unwrap_or_default();
            for (n, text) in l.text.lines().enumerate() {
                let (lead, at) = if n == 0 {
                    (mark, time.as_str())
                } else {
                    (" ", "")
                };
                let _ = writeln!(out, "  {lead} {at:<12} {}", text.replace("```", "'''"));
            }
        }
        let _ = writeln!(out, "  ```\n");
    }
    if let Some(tail) = &i.output_tail {
        let _ = writeln!(out, "\n  Last lines of its output:\n");
        let _ = writeln!(out, "  ```text");
        for l in tail.lines() {
            let _ = writeln!(out, "  {}", l.replace("```", "'''"));
        }
        let _ = writeln!(out, "  ```\n");
    }
}

/// The Markdown of a timeline (not yet redacted).
pub(super) fn markdown(t: &Timeline) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Incident timeline: {}\n", t.profile_name);
    let _ = writeln!(out, "| | |\n| --- | --- |");
    let _ = writeln!(out, "| Profile | {} (`{}`) |", t.profile_name, t.profile_id);
    let _ = writeln!(out, "| From | {} |", utc(t.since_ms));
    let _ = writeln!(out, "| To | {} |", utc(t.until_ms));
    if let Some(r) = &t.run {
        let _ = writeln!(out, "| Run | {} (`{}`) |", r.title, r.id);
    }
    let _ = writeln!(out, "| Items | {} |", t.items.len());
    out.push_str(
        "\nTimes are UTC. Sources: the audit log, health checks, the deployment history cache, runbook runs, notes, and the failures the app's log tails saw (with the invocations around them). Anything that looks like a key or token is replaced by ***.\n",
    );
    out.push_str("\n## Pinned\n\n");
    let pinned: Vec<&TimelineItem> = t
        .pinned
        .iter()
        .filter_map(|id| t.items.iter().find(|i| &i.id == id))
        .collect();
    if pinned.is_empty() {
        out.push_str("Nothing is pinned in this window.\n");
    }
    for i in pinned {
        item_markdown(&mut out, i);
    }
    out.push_str("\n## Timeline\n\n");
    if t.items.is_empty() {
        out.push_str("Nothing was recorded on this profile in this window (no action, health change, deployment, runbook step, note or failure in the logs).\n");
    }
    for i in &t.items {
        item_markdown(&mut out, i);
    }
    if t.not_shown > 0 {
        let _ = writeln!(
            out,
            "\n_{}{} more item{} in this window not shown (at most {} are listed): choose a shorter window to see them._",
            if t.not_shown_exact { "" } else { "At least " },
            t.not_shown,
            if t.not_shown == 1 { "" } else { "s" },
            TIMELINE_MAX_ITEMS
        );
    }
    out
}
