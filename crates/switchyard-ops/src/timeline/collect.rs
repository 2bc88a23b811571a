//! Reading the timeline's items from each source (audit log, health samples, history, runbook
//! runs, notes, log excerpts) and merging them in time order.

use super::*;

/// A page's earlier items are counted to about this many of each source (index entries only:
/// a millisecond or so); past it, the page says "at least".
const EARLIER_COUNT_MAX: u64 = 10_000;

impl Ops {
    /// The items of `profile_id` in `[from, to)` from `sources`, oldest first: the oldest or
    /// the newest (before a cursor) of them as `reach` says. Audit entries `hide` selects are
    /// left out; log excerpts are those of `log_services` (all of them when `None`). Texts are
    /// not redacted yet.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn collect_timeline(
        &self,
        profile_id: &str,
        from: i64,
        to: i64,
        sources: Sources,
        reach: &Reach,
        hide: &(dyn Fn(&AuditEntry) -> bool + Sync),
        log_services: Option<&[String]>,
    ) -> Result<Collected, AppError> {
        let mut items: Vec<TimelineItem> = Vec::new();
        let mut total: u64 = 0;
        let mut exact = true;
        let (limit, newest, before) = match reach {
            Reach::Oldest(limit) => (*limit, false, None),
            Reach::Newest { limit, before } => (*limit, true, before.as_ref()),
        };
        // A page before a cursor: nothing after the cursor's millisecond is read (its own
        // millisecond is, and what is not before the cursor is dropped at the end).
        let to = before.map_or(to, |b| to.min(b.at_ms.saturating_add(1)));
        // Each source reads at most limit + 1 items (the oldest, or the newest) and counts the
        // rest.
        let cap = limit.saturating_add(1);
        // The items at the cursor's millisecond that sort after it are read and dropped: each
        // source reads that many more.
        let is_before = |i: &TimelineItem| before.is_none_or(|b| item_key(i) < b.key());

        // Runbook runs first: their own audit entries are shown as their events instead (the
        // audit log is read after them; the other sources meanwhile).
        let runs = async {
            let (mut items, mut total) = (Vec::new(), 0_u64);
            let mut runs_shown: HashSet<String> = HashSet::new();
            if sources.runs {
                for run in self.store.runs_in(profile_id, from, to).await? {
                    let events = self.store.run_events(&run.id).await?;
                    let steps = self.store.run_steps(&run.id).await?;
                    runs_shown.insert(run.id.clone());
                    for rec in events
                        .into_iter()
                        .filter(|e| e.event.at_ms >= from && e.event.at_ms < to)
                    {
                        total += 1;
                        if !newest && items.len() as u64 >= u64::from(cap) * 5 {
                            continue;
                        }
                        let e = rec.event;
                        let (outcome, tone) = event_outcome(&e.kind);
                        let step = e
                            .step_index
                            .and_then(|i| steps.get(i as usize))
                            .filter(|s| s.step_index == e.step_index.unwrap_or(u32::MAX));
                        let output_tail = (e.kind == "step.failed")
                            .then(|| step.and_then(|s| tail(&s.output, OUTPUT_TAIL_LINES)))
                            .flatten();
                        let where_ = format!("Run \"{}\" ({})", run.title, run.id);
                        let title = if e.kind == "note" {
                            match step {
                                Some(s) => format!(
                                    "Note on step {} \"{}\": {}",
                                    s.step_index + 1,
                                    s.title,
                                    e.message
                                ),
                                None => format!("Note on the run: {}", e.message),
                            }
                        } else {
                            e.message.clone()
                        };
                        let line = format!(
                            "{} — {} — {} — {}{}",
                            utc(e.at_ms),
                            e.actor,
                            where_,
                            one_line(&title),
                            outcome
                                .filter(|o| !title.contains(o))
                                .map(|o| format!(" ({o})"))
                                .unwrap_or_default()
                        );
                        items.push(TimelineItem {
                            id: format!("step:{}:{}", run.id, rec.seq),
                            at_ms: e.at_ms,
                            kind: TimelineKind::Step,
                            title,
                            detail: Some(if run.rehearsal {
                                format!("{where_} — rehearsal")
                            } else {
                                where_
                            }),
                            actor: Some(e.actor),
                            outcome: outcome.map(str::to_owned),
                            tone,
                            output_tail,
                            log_lines: Vec::new(),
                            pinned: false,
                            line,
                        });
                    }
                }
            }
            Ok::<_, AppError>((items, total, runs_shown))
        };

        // The sources are read at once (each a few queries on its own connection of the pool:
        // their round trips overlap), then merged.
        let audit = async {
            let (mut items, mut total, runs_shown) = runs.await?;
            let runs_shown = &runs_shown;
            let mut exact = true;
            if sources.audit {
                let filter = AuditFilter {
                    profile_id: Some(profile_id.to_owned()),
                    since_ms: Some(from),
                    until_ms: Some(to),
                    ..Default::default()
                };
                let records = if newest {
                    // Newest first, a keyset page at a time, until `cap` entries that are shown
                    // and before the cursor are read; the entries left are counted (to a bound).
                    // The timeline's own entries (`timeline.*`, never shown) are left out as they
                    // are read: a page of `cap` nearly always holds the page.
                    let mut records = Vec::new();
                    let mut after = None;
                    let mut kept: u32 = 0;
                    // A page before a cursor: the entries of its millisecond may sort after it (the
                    // cursor's own among them), and are read on top of `cap` (or a second page
                    // would be read for the one left out).
                    let mut limit = cap;
                    if let Some(b) = before {
                        let at = AuditFilter {
                            since_ms: Some(b.at_ms.max(from)),
                            ..filter.clone()
                        };
                        let ties = self.store.count_audit_up_to(&at, u64::from(cap)).await?;
                        limit = cap.saturating_add(u32::try_from(ties).unwrap_or(cap));
                    }
                    loop {
                        let page = self
                            .store
                            .query_audit_for_timeline(&AuditFilter {
                                limit: Some(limit),
                                after,
                                ..filter.clone()
                            })
                            .await?;
                        let full = page.len() >= limit as usize;
                        limit = cap;
                        for r in page {
                            after = Some(switchyard_core::AuditCursor {
                                at_ms: r.entry.at_ms,
                                seq: r.seq,
                            });
                            let shown_before = before.is_none_or(|b| {
                                let id = format!("audit:{}", r.seq);
                                (r.entry.at_ms, kind_rank(TimelineKind::Audit), id.as_str())
                                    < b.key()
                            });
                            if shown_before && !audit_hidden(&r.entry, runs_shown, hide) {
                                kept += 1;
                            }
                            records.push(r);
                        }
                        if !full {
                            break;
                        }
                        if kept >= cap {
                            // The entries left, but the timeline's own (notes are items of their
                            // own): each counted to a bound.
                            let rest = AuditFilter {
                                after,
                                ..filter.clone()
                            };
                            let more = self
                                .store
                                .count_audit_up_to(&rest, EARLIER_COUNT_MAX)
                                .await?;
                            if more > 0 {
                                let own = AuditFilter {
                                    action: Some("timeline.".into()),
                                    ..rest.clone()
                                };
                                let own = self
                                    .store
                                    .count_audit_up_to(&own, EARLIER_COUNT_MAX)
                                    .await?;
                                // A run's own entries left may be shown as its events instead.
                                let runs_own = if runs_shown.is_empty() {
                                    0
                                } else {
                                    let runs = AuditFilter {
                                        action: Some("runbook.".into()),
                                        ..rest
                                    };
                                    self.store.count_audit_up_to(&runs, 1).await?
                                };
                                // Past the bound, at least that many (`own` counted them all).
                                if more >= EARLIER_COUNT_MAX || runs_own > 0 {
                                    exact = false;
                                }
                                total += more.saturating_sub(own);
                            }
                            break;
                        }
                    }
                    records
                } else {
                    let count = self.store.count_audit(&filter).await?;
                    // Newest first in the store: the oldest `AUDIT_READ_MAX` are the last ones.
                    let read = u32::try_from(count).unwrap_or(u32::MAX).min(AUDIT_READ_MAX);
                    let offset =
                        u32::try_from(count.saturating_sub(u64::from(read))).unwrap_or(u32::MAX);
                    if count > u64::from(read) {
                        // Entries past those read may be hidden ones: the count is then a bound.
                        exact = false;
                        total += count - u64::from(read);
                    }
                    if read == 0 {
                        Vec::new()
                    } else {
                        self.store
                            .query_audit(&AuditFilter {
                                limit: Some(read),
                                offset: Some(offset),
                                ..filter
                            })
                            .await?
                    }
                };
                for r in records.into_iter().rev() {
                    let e = r.entry;
                    if audit_hidden(&e, runs_shown, hide) {
                        continue;
                    }
                    total += 1;
                    let (outcome, tone) = audit_outcome(&e);
                    let mut detail = Vec::new();
                    if let Some(m) = e.message.as_deref().filter(|m| !m.trim().is_empty()) {
                        detail.push(m.to_owned());
                    }
                    let params = e.params.to_string();
                    if params != "{}" && params != "null" {
                        let shown: String = params.chars().take(400).collect();
                        detail.push(if shown.len() < params.len() {
                            format!("{shown}…")
                        } else {
                            shown
                        });
                    }
                    let line_outcome = match AuditOutcome::of(&e.outcome) {
                        AuditOutcome::Ok => "ok".to_owned(),
                        AuditOutcome::Started => "still running".to_owned(),
                        _ => format!(
                            "{outcome}{}",
                            e.message
                                .as_deref()
                                .map(|m| format!(": {}", one_line(m)))
                                .unwrap_or_default()
                        ),
                    };
                    let line = format!(
                        "{} — {} — `{}` {} — {line_outcome}",
                        utc(e.at_ms),
                        e.actor,
                        e.action,
                        e.target
                    );
                    items.push(TimelineItem {
                        id: format!("audit:{}", r.seq),
                        at_ms: e.at_ms,
                        kind: TimelineKind::Audit,
                        title: format!("{} {}", e.action, e.target).trim().to_owned(),
                        detail: (!detail.is_empty()).then(|| detail.join("\n")),
                        actor: Some(e.actor),
                        outcome: Some(outcome),
                        tone,
                        output_tail: None,
                        log_lines: Vec::new(),
                        pinned: false,
                        line,
                    });
                }
            }
            Ok::<_, AppError>((items, total, exact))
        };
        let deployments = async {
            let (mut items, mut total, mut exact) = (Vec::new(), 0_u64, true);
            if sources.deployments {
                // A page before a cursor: those of its millisecond are read on top of `cap`.
                let ties = match before {
                    Some(b) => {
                        let at = DeploymentFilter {
                            since_ms: Some(b.at_ms),
                            until_ms: Some(to),
                            ..Default::default()
                        };
                        u32::try_from(self.store.count_deployments(profile_id, &at).await?)
                            .unwrap_or(u32::MAX)
                    }
                    None => 0,
                };
                let filter = DeploymentFilter {
                    since_ms: Some(from),
                    until_ms: Some(to),
                    limit: Some(cap.saturating_add(ties)),
                    sort: Some(switchyard_store::HistorySort {
                        key: switchyard_store::HistorySortKey::Time,
                        descending: newest,
                    }),
                    ..Default::default()
                };
                let deployments = self.store.query_deployments(profile_id, &filter).await?;
                if newest {
                    // Counted to a bound past those read.
                    let at_most = deployments.len() as u64 + EARLIER_COUNT_MAX;
                    let n = self
                        .store
                        .count_deployments_up_to(profile_id, &filter, at_most)
                        .await?;
                    if n >= at_most {
                        exact = false;
                    }
                    total += n.min(at_most - 1);
                } else {
                    total += self.store.count_deployments(profile_id, &filter).await?;
                }
                for dep in deployments {
                    let at = chrono::DateTime::parse_from_rfc3339(&dep.timestamp)
                        .map(|t| t.timestamp_millis())
                        .ok()
                        .or_else(|| dep.id_millis())
                        .unwrap_or(from);
                    let author =
                        (!dep.metadata.author.is_empty()).then(|| dep.metadata.author.clone());
                    let label = dep
                        .version_tag
                        .clone()
                        .unwrap_or_else(|| dep.metadata.commit.clone());
                    let tone = match dep.status {
                        switchyard_core::DeploymentStatus::Deployed => TimelineTone::Ok,
                        switchyard_core::DeploymentStatus::Failed => TimelineTone::Error,
                        switchyard_core::DeploymentStatus::RolledBack => TimelineTone::Warning,
                    };
                    let mut detail = vec![dep.id.clone()];
                    if !dep.metadata.commit.is_empty() {
                        let commit = switchyard_core::short_commit(&dep.metadata.commit);
                        detail.push(format!("commit {commit}"));
                    }
                    if !dep.metadata.branch.is_empty() {
                        detail.push(format!("branch {}", dep.metadata.branch));
                    }
                    let line = format!(
                        "{} — {} — deployment {} of {} {} in {}: {}",
                        utc(at),
                        author.as_deref().unwrap_or("unknown author"),
                        dep.id,
                        dep.service,
                        label,
                        dep.environment,
                        dep.status
                    );
                    items.push(TimelineItem {
                        id: format!("deploy:{}", dep.id),
                        at_ms: at,
                        kind: TimelineKind::Deployment,
                        title: format!("{} {} deployed to {}", dep.service, label, dep.environment),
                        detail: Some(detail.join(" · ")),
                        actor: author,
                        outcome: Some(dep.status.as_str().to_owned()),
                        tone,
                        output_tail: None,
                        log_lines: Vec::new(),
                        pinned: false,
                        line,
                    });
                }
            }
            Ok::<_, AppError>((items, total, exact))
        };
        let health = async {
            let (mut items, mut total, exact) = (Vec::new(), 0_u64, true);
            if sources.health {
                // Each target's state when the window opened, and the samples where it may
                // change (the checks that change nothing are not read).
                let (before, samples) = self
                    .store
                    .health_changes(profile_id, from - HEALTH_LOOKBACK_MS, from, to)
                    .await?;
                let mut last: BTreeMap<String, (bool, i64)> = before
                    .into_iter()
                    .map(|s| (s.target, (s.state == HealthState::Down, s.at_ms)))
                    .collect();
                // When each target last went down (to say how long an outage lasted).
                let mut down_since: BTreeMap<String, i64> = BTreeMap::new();
                for s in samples {
                    let down = s.state == HealthState::Down;
                    let was = last.get(&s.target).map(|(d, _)| *d);
                    last.insert(s.target.clone(), (down, s.at_ms));
                    let changed = match was {
                        Some(was_down) => was_down != down,
                        // The first check known of a target: only news when it is down.
                        None => down,
                    };
                    if !changed {
                        continue;
                    }
                    total += 1;
                    let code = s.http_status.map(|c| format!(" ({c})")).unwrap_or_default();
                    let (title, line_text, detail) = if down {
                        down_since.insert(s.target.clone(), s.at_ms);
                        let first = was.is_none();
                        (
                            format!("{} went down{code}", s.target),
                            format!("{} went down{code}", s.target),
                            first.then(|| {
                                "The first check of it in this window found it down.".to_owned()
                            }),
                        )
                    } else {
                        let lasted = down_since
                            .remove(&s.target)
                            .map(|d| format!("Down for {}.", duration_words(s.at_ms - d)));
                        (
                            format!("{} came back up", s.target),
                            format!("{} came back up", s.target),
                            lasted,
                        )
                    };
                    items.push(TimelineItem {
                        id: format!("health:{}:{}", s.target, s.at_ms),
                        at_ms: s.at_ms,
                        kind: TimelineKind::Health,
                        title,
                        detail,
                        actor: None,
                        outcome: Some(if down { "down" } else { "up" }.to_owned()),
                        tone: if down {
                            TimelineTone::Error
                        } else {
                            TimelineTone::Ok
                        },
                        output_tail: None,
                        log_lines: Vec::new(),
                        pinned: false,
                        line: format!("{} — health — {line_text}", utc(s.at_ms)),
                    });
                }
            }
            Ok::<_, AppError>((items, total, exact))
        };
        let notes = async {
            let (mut items, mut total, exact) = (Vec::new(), 0_u64, true);
            if sources.notes {
                let (notes, count) = self
                    .store
                    .timeline_notes_from(profile_id, from, to, cap, newest)
                    .await?;
                total += count;
                for n in notes {
                    let title = n.text.trim().to_owned();
                    items.push(TimelineItem {
                        id: format!("note:{}", n.id),
                        at_ms: n.at_ms,
                        kind: TimelineKind::Note,
                        line: format!(
                            "{} — {} — note: {}",
                            utc(n.at_ms),
                            n.author,
                            one_line(&title)
                        ),
                        title,
                        detail: (n.written_ms != n.at_ms)
                            .then(|| format!("Written {}", utc(n.written_ms))),
                        actor: Some(n.author),
                        outcome: None,
                        tone: TimelineTone::Neutral,
                        output_tail: None,
                        log_lines: Vec::new(),
                        pinned: false,
                    });
                }
            }
            Ok::<_, AppError>((items, total, exact))
        };
        let logs = async {
            let (mut items, mut total, exact) = (Vec::new(), 0_u64, true);
            if sources.logs {
                let (excerpts, count) = self
                    .store
                    .log_excerpts_from(
                        profile_id,
                        from,
                        to,
                        log_services,
                        LOG_EXCERPT_AROUND as u32,
                        cap,
                        newest,
                    )
                    .await?;
                total += count;
                for x in excerpts {
                    items.push(log_item(x));
                }
            }
            Ok::<_, AppError>((items, total, exact))
        };
        let read = tokio::try_join!(audit, deployments, health, notes, logs)?;
        for (more, n, e) in [read.0, read.1, read.2, read.3, read.4] {
            items.extend(more);
            total += n;
            exact &= e;
        }

        items.sort_by(|a, b| item_key(a).cmp(&item_key(b)));
        if newest {
            // What is not before the cursor was on a later page (and counted here).
            let read = items.len();
            items.retain(|i| is_before(i));
            total = total.saturating_sub((read - items.len()) as u64);
            let earlier = items.len().saturating_sub(limit as usize);
            items.drain(..earlier);
        } else {
            items.truncate(limit as usize);
        }
        Ok(Collected {
            not_shown: total.saturating_sub(items.len() as u64),
            not_shown_exact: exact,
            items,
        })
    }
}

/// Whether an audit entry is left out of the timeline: the timeline's own (notes are items of
/// their own), a run's own when the run's events are shown, or one `hide` selects.
fn audit_hidden(
    e: &AuditEntry,
    runs_shown: &HashSet<String>,
    hide: &(dyn Fn(&AuditEntry) -> bool + Sync),
) -> bool {
    let own_run = e.action.starts_with("runbook.")
        && e.params
            .get("run")
            .and_then(|v| v.as_str())
            .is_some_and(|id| runs_shown.contains(id));
    own_run || e.action.starts_with("timeline.") || hide(e)
}

/// An item's place in the timeline's order.
pub(super) fn item_key(i: &TimelineItem) -> (i64, u8, &str) {
    (i.at_ms, kind_rank(i.kind), i.id.as_str())
}
