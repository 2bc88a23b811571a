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
        let mut items: Vec<Found> = Vec::new();
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
        let is_before = |f: &Found| before.is_none_or(|b| f.key() < b.key());

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
                        items.push(Found::item(TimelineItem {
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
                        }));
                    }
                }
            }
            Ok::<_, AppError>((items, total, runs_shown))
        };

        // The sources are read at once (each a few queries on its own connection of the pool:
        // their round trips overlap), then merged.
        let audit = async {
            let filter = AuditFilter {
                profile_id: Some(profile_id.to_owned()),
                since_ms: Some(from),
                until_ms: Some(to),
                ..Default::default()
            };
            // A page (the newest first): its first read goes while the runs are read. A page
            // before a cursor: the entries of its millisecond may sort after it (the cursor's
            // own among them), and are read on top of `cap` (or a second read would be made
            // for the one left out).
            let first_read = async {
                if !(sources.audit && newest) {
                    return Ok::<_, AppError>(None);
                }
                let mut limit = cap;
                if let Some(b) = before {
                    let at = AuditFilter {
                        since_ms: Some(b.at_ms.max(from)),
                        ..filter.clone()
                    };
                    let ties = self.store.count_audit_up_to(&at, u64::from(cap)).await?;
                    limit = cap.saturating_add(u32::try_from(ties).unwrap_or(cap));
                }
                let page = self
                    .store
                    .query_audit_for_timeline(&AuditFilter {
                        limit: Some(limit),
                        ..filter.clone()
                    })
                    .await?;
                Ok(Some((page, limit)))
            };
            let ((mut items, mut total, runs_shown), first_read) =
                tokio::try_join!(runs, first_read)?;
            let runs_shown = &runs_shown;
            let mut exact = true;
            if sources.audit {
                let records = if let Some((first_page, first_limit)) = first_read {
                    // Newest first, a keyset page at a time, until `cap` entries that are shown
                    // and before the cursor are read; the entries left are counted (to a bound).
                    // The timeline's own entries (`timeline.*`, never shown) are left out as they
                    // are read: a page of `cap` nearly always holds the page.
                    let mut records = Vec::new();
                    let mut after = None;
                    let mut kept: u32 = 0;
                    let mut next = Some((first_page, first_limit));
                    loop {
                        let (page, limit) = match next.take() {
                            Some(read) => read,
                            None => (
                                self.store
                                    .query_audit_for_timeline(&AuditFilter {
                                        limit: Some(cap),
                                        after,
                                        ..filter.clone()
                                    })
                                    .await?,
                                cap,
                            ),
                        };
                        let full = page.len() >= limit as usize;
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
                            // own): each counted to a bound, at once.
                            let rest = AuditFilter {
                                after,
                                ..filter.clone()
                            };
                            let own = AuditFilter {
                                action: Some("timeline.".into()),
                                ..rest.clone()
                            };
                            // A run's own entries left may be shown as its events instead.
                            let runs_own = async {
                                if runs_shown.is_empty() {
                                    return Ok(0);
                                }
                                let runs = AuditFilter {
                                    action: Some("runbook.".into()),
                                    ..rest.clone()
                                };
                                self.store.count_audit_up_to(&runs, 1).await
                            };
                            let (more, own, runs_own) = tokio::try_join!(
                                self.store.count_audit_up_to(&rest, EARLIER_COUNT_MAX),
                                self.store.count_audit_up_to(&own, EARLIER_COUNT_MAX),
                                runs_own
                            )?;
                            // Past the bound, at least that many (`own` counted them all).
                            if more >= EARLIER_COUNT_MAX || runs_own > 0 {
                                exact = false;
                            }
                            total += more.saturating_sub(own);
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
                // Items are made of the entries kept once the sources are merged.
                for r in records.into_iter().rev() {
                    if audit_hidden(&r.entry, runs_shown, hide) {
                        continue;
                    }
                    total += 1;
                    items.push(Found {
                        at_ms: r.entry.at_ms,
                        kind: TimelineKind::Audit,
                        id: format!("audit:{}", r.seq),
                        source: Source::Audit(r.entry),
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
                // The page and its count at once; a page's count is bounded past the most it
                // reads.
                let at_most = u64::from(cap.saturating_add(ties)) + EARLIER_COUNT_MAX;
                let count = async {
                    if newest {
                        self.store
                            .count_deployments_up_to(profile_id, &filter, at_most)
                            .await
                    } else {
                        self.store.count_deployments(profile_id, &filter).await
                    }
                };
                let (deployments, n) =
                    tokio::try_join!(self.store.query_deployments(profile_id, &filter), count)?;
                if newest && n >= at_most {
                    exact = false;
                }
                total += if newest { n.min(at_most - 1) } else { n };
                for dep in deployments {
                    let at = chrono::DateTime::parse_from_rfc3339(&dep.timestamp)
                        .map(|t| t.timestamp_millis())
                        .ok()
                        .or_else(|| dep.id_millis())
                        .unwrap_or(from);
                    items.push(Found {
                        at_ms: at,
                        kind: TimelineKind::Deployment,
                        id: format!("deploy:{}", dep.id),
                        source: Source::Deployment(dep),
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
                    items.push(Found::item(TimelineItem {
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
                    }));
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
                    items.push(Found::item(TimelineItem {
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
                    }));
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
                    items.push(Found::item(log_item(x)));
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

        items.sort_by(|a, b| a.key().cmp(&b.key()));
        // The tab's pages show items, not their Markdown line: the audit log's and the
        // history's items (most of a page) are made without it.
        let lines = !newest;
        if newest {
            // What is not before the cursor was on a later page (and counted here).
            let read = items.len();
            items.retain(|f| is_before(f));
            total = total.saturating_sub((read - items.len()) as u64);
            let earlier = items.len().saturating_sub(limit as usize);
            items.drain(..earlier);
        } else {
            items.truncate(limit as usize);
        }
        Ok(Collected {
            not_shown: total.saturating_sub(items.len() as u64),
            not_shown_exact: exact,
            items: items.into_iter().map(|f| f.into_item(lines)).collect(),
        })
    }
}

/// An item found in a source: its place in the timeline's order, and what it is made of. The
/// audit log's and the history's items are made only of the entries a page keeps (each source
/// reads up to a page, and about half are left out by the merge).
pub(super) struct Found {
    at_ms: i64,
    kind: TimelineKind,
    id: String,
    source: Source,
}

enum Source {
    Audit(AuditEntry),
    Deployment(switchyard_core::Deployment),
    Item(TimelineItem),
}

impl Found {
    fn item(i: TimelineItem) -> Found {
        Found {
            at_ms: i.at_ms,
            kind: i.kind,
            id: String::new(),
            source: Source::Item(i),
        }
    }

    /// Its place in the timeline's order.
    fn key(&self) -> (i64, u8, &str) {
        let id = match &self.source {
            Source::Item(i) => i.id.as_str(),
            _ => self.id.as_str(),
        };
        (self.at_ms, kind_rank(self.kind), id)
    }

    /// The item; with `lines`, with its Markdown line.
    fn into_item(self, lines: bool) -> TimelineItem {
        match self.source {
            Source::Item(i) => i,
            Source::Audit(e) => audit_item(self.id, e, lines),
            Source::Deployment(dep) => deployment_item(self.id, self.at_ms, dep, lines),
        }
    }
}

/// An audit entry as an item (with its Markdown line if `line`).
fn audit_item(id: String, e: AuditEntry, line: bool) -> TimelineItem {
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
    let line = if line {
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
        format!(
            "{} — {} — `{}` {} — {line_outcome}",
            utc(e.at_ms),
            e.actor,
            e.action,
            e.target
        )
    } else {
        String::new()
    };
    TimelineItem {
        id,
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
    }
}

/// A deployment of the history cache, at `at`, as an item (with its Markdown line if `line`).
fn deployment_item(
    id: String,
    at: i64,
    dep: switchyard_core::Deployment,
    line: bool,
) -> TimelineItem {
    let author = (!dep.metadata.author.is_empty()).then(|| dep.metadata.author.clone());
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
    let line = if line {
        format!(
            "{} — {} — deployment {} of {} {} in {}: {}",
            utc(at),
            author.as_deref().unwrap_or("unknown author"),
            dep.id,
            dep.service,
            label,
            dep.environment,
            dep.status
        )
    } else {
        String::new()
    };
    TimelineItem {
        id,
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
