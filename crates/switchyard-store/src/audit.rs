//! The audit log: who did what, to what, with which (redacted) parameters, and how it ended.

use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use switchyard_core::{AppError, AuditFilter, AuditOutcome};

use crate::error::{db, internal};
use crate::Store;

/// Parameter names whose values are never stored, whatever the caller passes.
const SECRET_KEYS: [&str; 6] = [
    "key",
    "token",
    "secret",
    "password",
    "authorization",
    "apikey",
];

/// An action to record. `params` is redacted again on the way in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub actor: String,
    pub profile_id: String,
    pub action: String,
    pub target: String,
    pub params: serde_json::Value,
    /// `started` while the action runs, then `ok` or the error code (`interrupted` when the app
    /// stopped before it ended).
    pub outcome: String,
    pub message: Option<String>,
    pub duration_ms: i64,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// Replace the value of every parameter whose name looks like a secret with "***".
pub fn redact(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let lower = k.to_ascii_lowercase().replace(['_', '-'], "");
                if SECRET_KEYS.iter().any(|s| lower.contains(s)) {
                    (k.clone(), serde_json::Value::String("***".into()))
                } else {
                    (k.clone(), redact(v))
                }
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
        serde_json::Value::Array(items) => items.iter().map(redact).collect(),
        other => other.clone(),
    }
}

impl Store {
    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<i64, AppError> {
        let params = serde_json::to_string(&redact(&entry.params))
            .map_err(|e| internal("Writing the audit log", e))?;
        let row = crate::write_returning(
            sqlx::query(
                "INSERT INTO audit_log (at_ms, actor, profile_id, action, target, params, outcome, message, duration_ms)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
            )
            .bind(entry.at_ms)
            .bind(&entry.actor)
            .bind(&entry.profile_id)
            .bind(&entry.action)
            .bind(&entry.target)
            .bind(params)
            .bind(&entry.outcome)
            .bind(&entry.message)
            .bind(entry.duration_ms),
            &self.pool,
        )
        .await
        .map_err(db("Writing the audit log"))?;
        Ok(row.get(0))
    }

    /// Complete an entry written when its action started (outcome `started`) with how it ended.
    pub async fn finish_audit(
        &self,
        seq: i64,
        outcome: &str,
        message: Option<&str>,
        duration_ms: i64,
    ) -> Result<(), AppError> {
        sqlx::query("UPDATE audit_log SET outcome = ?, message = ?, duration_ms = ? WHERE seq = ?")
            .bind(outcome)
            .bind(message)
            .bind(duration_ms)
            .bind(seq)
            .execute(&self.pool)
            .await
            .map_err(db("Writing the audit log"))?;
        Ok(())
    }

    /// Entries still `started` when the app opens were cut off (the app stopped mid-action):
    /// mark them `interrupted`, saying so. Their number.
    pub async fn mark_interrupted_audits(&self) -> Result<u64, AppError> {
        let r = sqlx::query(
            "UPDATE audit_log SET outcome = 'interrupted',
                 message = 'Switchyard stopped before this action ended, so how it ended is unknown. Check what it changed (the history, the namespace) before doing it again.'
             WHERE outcome = 'started'",
        )
        .execute(&self.pool)
        .await
        .map_err(db("Writing the audit log"))?;
        Ok(r.rows_affected())
    }

    /// The newest `limit` entries of a profile, newest first.
    pub async fn audit_log(
        &self,
        profile_id: &str,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, AppError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_log WHERE profile_id = ? ORDER BY at_ms DESC, seq DESC LIMIT ?"
        ))
        .bind(profile_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the audit log"))?;
        rows.iter().map(record).collect()
    }

    /// The entries `filter` selects, newest first (ties: the later written first): its page
    /// only, when it has a limit or an offset (an export reads them all).
    pub async fn query_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AppError> {
        self.select_audit(filter, Drive::Matches).await
    }

    /// [`Store::query_audit`] without the entries of the incident timeline's own actions
    /// (`timeline.*`: its notes are items of their own), as the timeline reads the log: a page
    /// of entries it shows, not one a sixth of which it drops.
    pub async fn query_audit_for_timeline(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRecord>, AppError> {
        self.select_audit_except(filter, Drive::Matches, Some("timeline."))
            .await
    }

    /// A page of what `filter` selects (as `query_audit`) and how many it selects in all.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
    ) -> Result<(Vec<AuditRecord>, u64), AppError> {
        let exact = AuditFilter {
            exact_count: Some(true),
            ..filter.clone()
        };
        let (page, total, _) = self.audit_page_counted(&exact, 0).await?;
        Ok((page, total))
    }

    /// [`Store::audit_page`], counting exactly only with the filter's `exact_count` (or no
    /// limit), else no further than `count_bound` past the page: the bool says whether the
    /// count is exact. With a cursor (`after`), the page starts just after it and `offset` is
    /// how many entries come before it: the count is theirs and those from the cursor on.
    pub async fn audit_page_counted(
        &self,
        filter: &AuditFilter,
        count_bound: u64,
    ) -> Result<(Vec<AuditRecord>, u64, bool), AppError> {
        let before = u64::from(filter.offset.unwrap_or(0));
        let whole = AuditFilter {
            after: None,
            ..filter.clone()
        };
        if let (Some(phrase), Some(limit), false) = (
            text_alone(&whole),
            filter.limit,
            filter.exact_count == Some(true),
        ) {
            return self
                .text_page_counted(filter, &phrase, limit, count_bound)
                .await;
        }
        let (total, exact) = if filter.exact_count == Some(true) || filter.limit.is_none() {
            (self.count_audit(&whole).await?, true)
        } else if filter.after.is_some() && text_alone(&whole).is_none() {
            // From the cursor on: a range of the index the page walks.
            let at_most = u64::from(filter.limit.unwrap_or(0)).max(count_bound) + 1;
            let n = self.count_audit_up_to(filter, at_most).await?;
            (before + n.min(at_most - 1), n < at_most)
        } else {
            // From the start (the text index counts its matches without reading an entry,
            // but knows no times: the entries before the cursor are `before` of them).
            let at_most = before + u64::from(filter.limit.unwrap_or(0)).max(count_bound) + 1;
            let n = self.count_audit_up_to(&whole, at_most).await?;
            (n.min(at_most - 1), n < at_most)
        };
        if total == 0 || (filter.after.is_some() && exact && total <= before) {
            return Ok((Vec::new(), total, exact));
        }
        // The actions of an action filter (a family: each of its actions, as the log holds them).
        let actions = match filter.action_match() {
            Some(_) => self.family_actions(filter).await?,
            None => None,
        };
        let drive = if ordered_by_matches(filter) {
            // The outcome index walked backwards is the page's order: no sort, no row tested.
            Drive::Matches
        } else if actions.as_ref().is_some_and(|a| !a.is_empty()) && filter.text_query().is_none() {
            // Each action's index is in the page's order: merged, no sort, no row walked past.
            Drive::ByAction
        } else {
            // Walking the time index visits about reach × rows / matches entries to find the
            // page; driving by the matches looks each one up and sorts them. Every entry ever
            // written (the last seq: nothing is deleted) bounds the rows walked.
            let rows: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM audit_log")
                .fetch_one(&self.pool)
                .await
                .map_err(db("Reading the audit log"))?
                .get(0);
            let rows = u64::try_from(rows).unwrap_or(0);
            let skipped = if filter.after.is_some() { 0 } else { before };
            let reach = skipped + u64::from(filter.limit.unwrap_or(u32::MAX));
            // (A match sorted costs about four rows walked.) A count that stopped at its
            // bound: more match than it says, and at least `total` match per `rows`, so the
            // walk is short; sorting them all could be long.
            if !exact || total.saturating_mul(total).saturating_mul(4) >= reach.saturating_mul(rows)
            {
                Drive::TimeOrder
            } else {
                Drive::Matches
            }
        };
        Ok((
            self.select_audit_with(filter, drive, None, actions.as_deref())
                .await?,
            total,
            exact,
        ))
    }

    /// [`Store::audit_page_counted`] of a text alone (`phrase`, its FTS5 string) with a
    /// limit, counting no further than `count_bound` past the page: the text index is searched
    /// once, in one statement, for the count and the page. The count's bound and the choice
    /// of how to find the page (down the time index, or from the matches) are those of
    /// `audit_page_counted`; both ways are written, and the one not chosen has a limit of 0.
    async fn text_page_counted(
        &self,
        filter: &AuditFilter,
        phrase: &str,
        limit: u32,
        count_bound: u64,
    ) -> Result<(Vec<AuditRecord>, u64, bool), AppError> {
        let before = u64::from(filter.offset.unwrap_or(0));
        let at_most = before + u64::from(limit).max(count_bound) + 1;
        let at_most_sql = i64::try_from(at_most).unwrap_or(i64::MAX);
        let skipped = if filter.after.is_some() { 0 } else { before };
        let reach = skipped + u64::from(limit);
        if let Some((page, n)) = self
            .text_page_by_seq(filter, phrase, limit, skipped, at_most_sql)
            .await?
        {
            let (total, exact) = (n.min(at_most - 1), n < at_most);
            if total == 0 || (filter.after.is_some() && exact && total <= before) {
                return Ok((Vec::new(), total, exact));
            }
            return Ok((page, total, exact));
        }
        // The conditions of the page but the text: the cursor, if any.
        let rest = AuditFilter {
            text: None,
            limit: None,
            offset: None,
            exact_count: None,
            ..filter.clone()
        };
        let mut q = QueryBuilder::<Sqlite>::new(
            "WITH m(seq) AS MATERIALIZED (SELECT rowid FROM audit_fts WHERE audit_fts MATCH ",
        );
        q.push_bind(phrase.to_owned())
            .push("), n(c) AS MATERIALIZED (SELECT COUNT(*) FROM (SELECT 1 FROM m LIMIT ")
            .push_bind(at_most_sql)
            // The rule of `audit_page_counted`: down the time index unless the count is
            // exact and total² × 4 < reach × rows (every entry ever written: the last seq).
            .push(")), w(by_time) AS MATERIALIZED (SELECT c >= ")
            .push_bind(at_most_sql)
            .push(" OR c * c * 4 >= ")
            .push_bind(i64::try_from(reach).unwrap_or(i64::MAX))
            .push(" * (SELECT COALESCE(MAX(seq), 0) FROM audit_log) FROM n)");
        for (i, drive) in [Drive::TimeOrder, Drive::Matches].into_iter().enumerate() {
            q.push(if i == 0 { " " } else { " UNION ALL " });
            q.push(format!(
                "SELECT * FROM (SELECT {COLUMNS}, (SELECT c FROM n) FROM audit_log"
            ));
            push_audit_filter(&mut q, &rest, drive, None);
            q.push(if drive == Drive::TimeOrder {
                " AND +seq IN m"
            } else {
                " AND seq IN m"
            });
            // The way not chosen has a limit of 0: SQLite stops before its first step.
            q.push(" ORDER BY at_ms DESC, seq DESC LIMIT CASE WHEN ")
                .push(if drive == Drive::TimeOrder {
                    ""
                } else {
                    "NOT "
                })
                .push("(SELECT by_time FROM w) THEN ")
                .push_bind(i64::from(limit))
                .push(" ELSE 0 END OFFSET ")
                .push_bind(i64::try_from(skipped).unwrap_or(i64::MAX))
                .push(")");
        }
        q.push(" ORDER BY 2 DESC, 1 DESC");
        let rows = q
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db("Reading the audit log"))?;
        let n = match rows.first() {
            Some(r) => u64::try_from(r.get::<i64, _>(10)).unwrap_or(0),
            // No entry on the page: the count did not come with it.
            None => {
                let whole = AuditFilter {
                    after: None,
                    ..filter.clone()
                };
                self.count_audit_up_to(&whole, at_most).await?
            }
        };
        let (total, exact) = (n.min(at_most - 1), n < at_most);
        if total == 0 || (filter.after.is_some() && exact && total <= before) {
            return Ok((Vec::new(), total, exact));
        }
        let page = rows.iter().map(record).collect::<Result<Vec<_>, _>>()?;
        Ok((page, total, exact))
    }

    /// The page of [`Store::text_page_counted`] read from the text index's newest matches by
    /// number (the text index returns them in that order, and stops after the page's), with
    /// the matches counted to `at_most` (after a cursor, from the cursor on when its place in
    /// the numbers is its place in time: the filter's offset and those after it). An entry's
    /// number and time nearly always agree (each is written when its action starts), and the
    /// statement checks that no entry outside the matches read could sort into the page (see
    /// [`TEXT_PAGE_BY_SEQ`]); None when it cannot say so (entries written out of time order near
    /// the page, or the last page after a cursor): the caller then finds the page down the time
    /// index.
    async fn text_page_by_seq(
        &self,
        filter: &AuditFilter,
        phrase: &str,
        limit: u32,
        skipped: u64,
        at_most: i64,
    ) -> Result<Option<(Vec<AuditRecord>, u64)>, AppError> {
        let (cursor_at, cursor_seq) = filter
            .after
            .map_or((i64::MAX, i64::MAX), |c| (c.at_ms, c.seq));
        let skipped = i64::try_from(skipped).unwrap_or(i64::MAX);
        let reach = skipped.saturating_add(i64::from(limit));
        let before = i64::from(filter.offset.unwrap_or(0));
        let row = sqlx::query(TEXT_PAGE_BY_SEQ)
            .bind(phrase)
            .bind(cursor_seq)
            .bind(cursor_at)
            .bind(reach)
            .bind(i64::from(limit))
            .bind(skipped)
            .bind(at_most)
            .bind(before)
            .bind(at_most.saturating_sub(before))
            .fetch_one(&self.pool)
            .await
            .map_err(db("Reading the audit log"))?;
        if !row.get::<bool, _>(1) {
            return Ok(None);
        }
        let n = u64::try_from(row.get::<i64, _>(2)).unwrap_or(0);
        // No entry on the page: NULL.
        let page = match row.get::<Option<String>, _>(0) {
            Some(json) => serde_json::from_str::<Vec<PageEntry>>(&json)
                .map_err(|e| internal("Reading the audit log", e))?
                .into_iter()
                .map(PageEntry::record)
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        Ok(Some((page, n)))
    }

    async fn select_audit(
        &self,
        filter: &AuditFilter,
        drive: Drive,
    ) -> Result<Vec<AuditRecord>, AppError> {
        self.select_audit_except(filter, drive, None).await
    }

    /// [`Store::select_audit`], leaving out the actions starting with `except` (a family, e.g.
    /// `timeline.`).
    async fn select_audit_except(
        &self,
        filter: &AuditFilter,
        drive: Drive,
        except: Option<&str>,
    ) -> Result<Vec<AuditRecord>, AppError> {
        let actions = self.family_actions(filter).await?;
        self.select_audit_with(filter, drive, except, actions.as_deref())
            .await
    }

    /// [`Store::select_audit_except`] with the filter's actions already looked up
    /// ([`Store::family_actions`]). `Drive::ByAction` needs them (at least one); without them it
    /// walks the time index.
    async fn select_audit_with(
        &self,
        filter: &AuditFilter,
        drive: Drive,
        except: Option<&str>,
        actions: Option<&[String]>,
    ) -> Result<Vec<AuditRecord>, AppError> {
        // A page comes back as one row, its entries as one JSON array: each row of a result is
        // a message between SQLite's thread and this one. An export, row by row.
        let page = filter.limit.is_some_and(|l| l <= JSON_PAGE_MAX);
        let mut q = QueryBuilder::<Sqlite>::new(if page {
            "SELECT '[' || group_concat(json_array(seq, at_ms, actor, profile_id, action, target, params, outcome, message, duration_ms), ',' ORDER BY at_ms DESC, seq DESC) || ']' FROM ("
        } else {
            ""
        });
        push_page_select(&mut q, filter, drive, except, actions);
        if page {
            q.push(")");
            return crate::json_page::<PageEntry>(&mut q, &self.pool, "Reading the audit log")
                .await?
                .into_iter()
                .map(PageEntry::record)
                .collect();
        }
        let rows = q
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db("Reading the audit log"))?;
        rows.iter().map(record).collect()
    }

    /// How many entries `filter` selects in all (its limit and offset aside).
    pub async fn count_audit(&self, filter: &AuditFilter) -> Result<u64, AppError> {
        let actions = self.family_actions(filter).await?;
        let mut q = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM audit_log");
        push_audit_filter(&mut q, filter, Drive::Matches, actions.as_deref());
        let n: i64 = q
            .build()
            .fetch_one(&self.pool)
            .await
            .map_err(db("Reading the audit log"))?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How many entries `filter` selects, counting no further than `at_most` (the cost of
    /// `at_most` entries, however many match).
    pub async fn count_audit_up_to(
        &self,
        filter: &AuditFilter,
        at_most: u64,
    ) -> Result<u64, AppError> {
        let actions = self.family_actions(filter).await?;
        let mut q = match text_alone(filter) {
            // Every entry is in the text index once: its matches are the answer, and no entry
            // is looked up (nor the whole list of matches built to test entries against).
            Some(phrase) => {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "SELECT COUNT(*) FROM (SELECT rowid FROM audit_fts WHERE audit_fts MATCH ",
                );
                q.push_bind(phrase);
                q
            }
            None => {
                let mut q =
                    QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM (SELECT 1 FROM audit_log");
                push_audit_filter(&mut q, filter, Drive::Matches, actions.as_deref());
                q
            }
        };
        q.push(" LIMIT ")
            .push_bind(i64::try_from(at_most).unwrap_or(i64::MAX))
            .push(")");
        let n: i64 = q
            .build()
            .fetch_one(&self.pool)
            .await
            .map_err(db("Reading the audit log"))?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The actions the filter's action (a family) selects, as the log holds them: a seek per
    /// action in its range (however long the log is). None without an action filter, or when
    /// the family has more than [`FAMILY_ACTIONS_MAX`] actions (then it is a range).
    async fn family_actions(&self, filter: &AuditFilter) -> Result<Option<Vec<String>>, AppError> {
        let Some((exact, prefix)) = filter.action_match() else {
            return Ok(None);
        };
        let lo = exact.clone().unwrap_or_else(|| prefix.clone());
        let hi = prefix_end(&prefix);
        let rows = sqlx::query(
            "WITH RECURSIVE next (action) AS (
                 SELECT MIN(action) FROM audit_log WHERE action >= ?1 AND action < ?2
                 UNION ALL
                 SELECT (SELECT MIN(action) FROM audit_log WHERE action > next.action AND action < ?2)
                 FROM next WHERE next.action IS NOT NULL
             )
             SELECT action FROM next WHERE action IS NOT NULL LIMIT ?3",
        )
        .bind(lo)
        .bind(hi)
        .bind(FAMILY_ACTIONS_MAX + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the audit log"))?;
        if rows.len() > FAMILY_ACTIONS_MAX as usize {
            return Ok(None);
        }
        Ok(Some(
            rows.iter()
                .map(|r| r.get::<String, _>(0))
                // `deploy` and `deploy.…`, not `deploy-x` (between them in the range).
                .filter(|a| exact.as_deref() == Some(a.as_str()) || a.starts_with(&prefix))
                .collect(),
        ))
    }

    /// Every action the log holds (of any profile), in order: the choices of the action filter.
    pub async fn audit_actions(&self) -> Result<Vec<String>, AppError> {
        // One index seek per distinct action, however long the log is.
        let rows = sqlx::query(
            "WITH RECURSIVE next (action) AS (
                 SELECT MIN(action) FROM audit_log
                 UNION ALL
                 SELECT (SELECT MIN(action) FROM audit_log WHERE action > next.action)
                 FROM next WHERE next.action IS NOT NULL
             )
             SELECT action FROM next WHERE action IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading the audit log"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

/// A page of at most this many entries is read as one JSON array (a longer read, an export, row
/// by row).
const JSON_PAGE_MAX: u32 = 5_000;

/// A family of at most this many actions is looked for action by action.
const FAMILY_ACTIONS_MAX: i64 = 64;

/// The columns `record` reads, in its order.
const COLUMNS: &str =
    "seq, at_ms, actor, profile_id, action, target, params, outcome, message, duration_ms";

/// An entry as [`TEXT_PAGE_BY_SEQ`] writes it: COLUMNS in a JSON array (`params` as the text
/// stored, a JSON string).
#[derive(serde::Deserialize)]
struct PageEntry(
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
);

impl PageEntry {
    fn record(self) -> Result<AuditRecord, AppError> {
        let PageEntry(
            seq,
            at_ms,
            actor,
            profile_id,
            action,
            target,
            params,
            outcome,
            message,
            duration_ms,
        ) = self;
        Ok(AuditRecord {
            seq,
            entry: AuditEntry {
                at_ms,
                actor,
                profile_id,
                action,
                target,
                params: serde_json::from_str(&params)
                    .map_err(|e| internal("Reading the audit log", e))?,
                outcome,
                message,
                duration_ms,
            },
        })
    }
}

fn record(r: &SqliteRow) -> Result<AuditRecord, AppError> {
    let params: String = r.get(6);
    Ok(AuditRecord {
        seq: r.get(0),
        entry: AuditEntry {
            at_ms: r.get(1),
            actor: r.get(2),
            profile_id: r.get(3),
            action: r.get(4),
            target: r.get(5),
            params: serde_json::from_str(&params)
                .map_err(|e| internal("Reading the audit log", e))?,
            outcome: r.get(7),
            message: r.get(8),
            duration_ms: r.get(9),
        },
    })
}

/// A page of a text search alone, newest first, from the text index's matches with the
/// highest numbers (seq): ?1 the FTS5 phrase; ?2, ?3 the cursor's seq and time (i64::MAX both
/// without one); ?4 how many matches are read (the page's offset + limit: `reach`); ?5 limit;
/// ?6 offset; ?7 how far the matches are counted from the start; ?8 how many entries come
/// before the cursor (the filter's offset) and ?9 how far the matches are counted after it
/// (?7 - ?8). One row: the page's entries as a JSON array of COLUMNS (NULL when it is empty),
/// whether the page is exact, the count.
///
/// The text index returns its matches by number, newest number first, and stops after `reach`
/// of them (`cand`); the page is those after the cursor, in time order. It is the page of the
/// whole list when no other match sorts into it, which the statement checks on the time index
/// over the page's times alone: the entries numbered above the cursor's between the page's last
/// time and the cursor, and those numbered below the matches read after the page's last time
/// (up to the cursor), are out of order (`out_of_order`); none may match the text (each is
/// looked up in the text index by its number). Entries are numbered as they are written, their
/// time that of the action's start, so there are few or none (an entry written by a sync
/// between older ones, say); past 16 the page is read as before (down the time index). When
/// fewer than `reach` matches come before the cursor, every match was read: exact without a
/// cursor, and left to the other way after one (the last page).
///
/// Of two entries whose number and time disagree, one is in `audit_out_of_order` (migration
/// 0014) unless it holds -1 (more than 64 were written: `few` is false, and the page is checked
/// as above). Each check of it is in a CASE on `few`, and it holds at most 65 rows whatever the
/// log, so a log written out of time order at scale costs one primary-key step here. With none of
/// its entries timed within the page's times up to the cursor's and the cursor an entry of the
/// log (`calm`), no entry is out of order there, and the walk of
/// the time index over the page's times (~4,000 entries for `refused`'s 200: ~0.6 ms) is not
/// made. With neither the cursor's entry nor any entry disagreeing with it there
/// (`from_cursor`), the matches after the cursor in time order are those numbered below it: they
/// are counted from the cursor on, ?8 + up to ?9 (at row 2,000: the 1,800 matches before the
/// cursor are no longer read again). The page comes as one row, as sqlx hands rows over one by
/// one: 2.2 ms against 4.5 ms for the page at row 2,000 at 100,000 entries, all three together.
const TEXT_PAGE_BY_SEQ: &str = "
WITH cand(seq) AS MATERIALIZED (
    SELECT rowid FROM audit_fts WHERE audit_fts MATCH ?1 AND rowid < ?2
    ORDER BY rowid DESC LIMIT ?4),
cn(k, lo) AS MATERIALIZED (SELECT count(*), min(seq) FROM cand),
kept(seq, at_ms) AS MATERIALIZED (
    SELECT a.seq, a.at_ms FROM cand CROSS JOIN audit_log a ON a.seq = cand.seq
    WHERE a.at_ms <= ?3 AND (a.at_ms < ?3 OR a.seq < ?2)),
page(seq, at_ms) AS MATERIALIZED (
    SELECT seq, at_ms FROM kept ORDER BY at_ms DESC, seq DESC LIMIT ?5 OFFSET ?6),
edge(lo) AS MATERIALIZED (SELECT min(at_ms) FROM page),
few(v) AS MATERIALIZED (
    SELECT NOT EXISTS (SELECT 1 FROM audit_out_of_order WHERE seq = -1)),
cursor(v) AS MATERIALIZED (
    SELECT ?2 = 9223372036854775807 OR EXISTS (SELECT 1 FROM audit_log WHERE seq = ?2 AND at_ms = ?3)),
calm(v) AS MATERIALIZED (
    SELECT CASE WHEN (SELECT v FROM few) AND (SELECT v FROM cursor) THEN NOT EXISTS (
        SELECT 1 FROM edge, audit_out_of_order o CROSS JOIN audit_log a ON a.seq = o.seq
        WHERE a.at_ms >= edge.lo AND a.at_ms <= ?3) ELSE 0 END),
out_of_order(seq) AS MATERIALIZED (
    SELECT seq FROM cn, edge CROSS JOIN audit_log
    WHERE NOT (SELECT v FROM calm) AND at_ms >= edge.lo AND at_ms <= ?3
      AND ((at_ms < ?3 AND seq > ?2) OR (at_ms > edge.lo AND seq < cn.lo))
    LIMIT 17),
ok(v) AS MATERIALIZED (
    SELECT CASE
        WHEN cn.k < ?4 THEN ?2 = 9223372036854775807
        WHEN (SELECT count(*) FROM kept) < cn.k THEN 0
        WHEN (SELECT count(*) FROM out_of_order) > 16 THEN 0
        ELSE NOT EXISTS (
            SELECT 1 FROM out_of_order o
            WHERE EXISTS (SELECT 1 FROM audit_fts WHERE audit_fts MATCH ?1 AND rowid = o.seq))
    END FROM cn),
from_cursor(v) AS MATERIALIZED (
    SELECT CASE WHEN ?2 < 9223372036854775807 AND (SELECT v FROM few) AND (SELECT v FROM cursor)
        THEN NOT EXISTS (
            SELECT 1 FROM audit_out_of_order o CROSS JOIN audit_log a ON a.seq = o.seq
            WHERE a.seq = ?2 OR (a.seq < ?2 AND a.at_ms > ?3) OR (a.seq > ?2 AND a.at_ms < ?3))
        ELSE 0 END),
n(c) AS MATERIALIZED (
    SELECT CASE WHEN (SELECT v FROM from_cursor) THEN ?8 ELSE 0 END + count(*) FROM (
        SELECT rowid FROM audit_fts WHERE audit_fts MATCH ?1
            AND rowid < CASE WHEN (SELECT v FROM from_cursor) THEN ?2 ELSE 9223372036854775807 END
        LIMIT CASE WHEN (SELECT v FROM from_cursor) THEN ?9 ELSE ?7 END))
SELECT '[' || group_concat(
           json_array(a.seq, a.at_ms, a.actor, a.profile_id, a.action, a.target, a.params,
                      a.outcome, a.message, a.duration_ms),
           ',' ORDER BY page.at_ms DESC, page.seq DESC) || ']',
       (SELECT v FROM ok), (SELECT c FROM n)
FROM page CROSS JOIN audit_log a ON a.seq = page.seq";

/// The trigram index finds text of at least this many characters; shorter text is looked for
/// row by row.
const MIN_INDEXED_TEXT: usize = 3;

/// An entry's outcome as the filter groups them, written exactly as the index
/// `audit_by_outcome` (migration 0006) is, so that SQLite uses it.
const OUTCOME_CLASS: &str =
    "(CASE WHEN outcome IN ('ok', 'started', 'interrupted') THEN outcome ELSE 'error' END)";

/// How SQLite should find a page of entries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Drive {
    /// From the narrowest index (an action, an outcome, the text matches), then sorted by time:
    /// best when few entries match.
    Matches,
    /// Down the time index (of the profile, or of all), testing each entry: best when many
    /// match, as a page of the newest is found after a few rows. The action, outcome and text
    /// conditions are written `+column` so SQLite cannot drive by their indexes.
    TimeOrder,
    /// An action filter: each of its actions' entries down its action index (the profile's,
    /// with a profile) — already in time order — merged, so a page reads its own entries and
    /// one more of each action, however many or few match.
    ByAction,
}

/// The select of the entries `filter` selects (its page, when it has a limit or an offset),
/// newest first, found as `drive` says, without the actions starting with `except`.
/// `Drive::ByAction` needs the filter's actions (at least one); without them it walks the time
/// index.
fn push_page_select(
    q: &mut QueryBuilder<Sqlite>,
    filter: &AuditFilter,
    drive: Drive,
    except: Option<&str>,
    actions: Option<&[String]>,
) {
    let except_actions = |q: &mut QueryBuilder<Sqlite>| {
        if let Some(prefix) = except {
            // Not in [prefix, the string after every one starting with it).
            q.push(" AND NOT (action >= ")
                .push_bind(prefix.to_owned())
                .push(" AND action < ")
                .push_bind(prefix_end(prefix))
                .push(")");
        }
    };
    match actions {
        Some(each) if drive == Drive::ByAction && !each.is_empty() => {
            // One select per action, each down its index in the page's order; SQLite merges
            // them (a compound select's ORDER BY) and stops at the page's end.
            let index = if filter.profile_id.is_some() {
                "audit_by_profile_action"
            } else {
                "audit_by_action"
            };
            for (i, action) in each.iter().enumerate() {
                if i > 0 {
                    q.push(" UNION ALL ");
                }
                q.push(format!(
                    "SELECT {COLUMNS} FROM audit_log INDEXED BY {index}"
                ));
                push_audit_filter(q, filter, drive, Some(std::slice::from_ref(action)));
                except_actions(q);
            }
        }
        _ => {
            // Not by action (or more actions than are looked for one by one: a range): down
            // the time index.
            let drive = if drive == Drive::ByAction {
                Drive::TimeOrder
            } else {
                drive
            };
            q.push(format!("SELECT {COLUMNS} FROM audit_log"));
            push_audit_filter(q, filter, drive, actions);
            except_actions(q);
        }
    }
    q.push(" ORDER BY at_ms DESC, seq DESC");
    match (filter.limit, filter.offset) {
        (None, None) => {}
        (limit, offset) => {
            q.push(" LIMIT ")
                .push_bind(limit.map_or(-1, i64::from))
                .push(" OFFSET ")
                .push_bind(if filter.after.is_some() {
                    0
                } else {
                    i64::from(offset.unwrap_or(0))
                });
        }
    }
}

/// ` WHERE …` for every condition of `filter` (not its order or page). User text only ever
/// reaches the SQL as bound values.
fn push_audit_filter(
    q: &mut QueryBuilder<Sqlite>,
    filter: &AuditFilter,
    drive: Drive,
    actions: Option<&[String]>,
) {
    let plus = if drive == Drive::TimeOrder { "+" } else { "" };
    q.push(" WHERE 1 = 1");
    if let Some(t) = filter.since_ms {
        q.push(" AND at_ms >= ").push_bind(t);
    }
    if let Some(t) = filter.until_ms {
        q.push(" AND at_ms < ").push_bind(t);
    }
    if let Some(c) = filter.after {
        // After the cursor in the order `at_ms DESC, seq DESC`: the first condition bounds the
        // walk of any time-ordered index, the second drops the cursor's own time's first ones.
        q.push(" AND at_ms <= ")
            .push_bind(c.at_ms)
            .push(" AND (at_ms < ")
            .push_bind(c.at_ms)
            .push(" OR seq < ")
            .push_bind(c.seq)
            .push(")");
    }
    if let Some(p) = &filter.profile_id {
        q.push(" AND profile_id = ").push_bind(p.clone());
    }
    if let Some(actions) = actions.filter(|_| filter.action_match().is_some()) {
        // The family's actions one by one: each an equality, so an action index gives the
        // entries of a time range in time order (a range of actions would be walked whole).
        q.push(" AND ").push(plus).push("action IN (");
        if actions.is_empty() {
            q.push("NULL");
        }
        for (i, a) in actions.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push_bind(a.clone());
        }
        q.push(")");
    } else if let Some((exact, prefix)) = filter.action_match() {
        // One range of the action indexes: [prefix, prefix with its last char + 1), from the
        // action itself when it counts too (`deploy` sorts just before `deploy.`; what sorts
        // between them, `deploy-x`, is left out by the last condition).
        let end = prefix_end(&prefix);
        q.push(" AND ")
            .push(plus)
            .push("action >= ")
            .push_bind(exact.clone().unwrap_or_else(|| prefix.clone()))
            .push(" AND ")
            .push(plus)
            .push("action < ")
            .push_bind(end);
        if let Some(exact) = exact {
            q.push(" AND (")
                .push(plus)
                .push("action = ")
                .push_bind(exact)
                .push(" OR ")
                .push(plus)
                .push("action >= ")
                .push_bind(prefix)
                .push(")");
        }
    }
    if let Some(o) = filter.outcome {
        let class = match o {
            AuditOutcome::Ok => AuditOutcome::OK,
            AuditOutcome::Started => AuditOutcome::STARTED,
            AuditOutcome::Interrupted => AuditOutcome::INTERRUPTED,
            AuditOutcome::Error => "error",
        };
        q.push(" AND ")
            .push(plus)
            .push(OUTCOME_CLASS)
            .push(" = ")
            .push_bind(class);
    }
    if let Some(text) = filter.text_query() {
        if text.chars().count() >= MIN_INDEXED_TEXT {
            // One FTS5 string (quotes doubled): the text as a substring, whatever it holds.
            let phrase = format!("\"{}\"", text.replace('"', "\"\""));
            q.push(" AND ")
                .push(plus)
                .push("seq IN (SELECT rowid FROM audit_fts WHERE audit_fts MATCH ")
                .push_bind(phrase)
                .push(")");
        } else {
            let like = format!(
                "%{}%",
                text.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            q.push(" AND (");
            for (i, column) in ["actor", "action", "target", "params", "message"]
                .iter()
                .enumerate()
            {
                if i > 0 {
                    q.push(" OR ");
                }
                q.push(*column)
                    .push(" LIKE ")
                    .push_bind(like.clone())
                    .push(" ESCAPE '\\'");
            }
            q.push(")");
        }
    }
}

/// The FTS5 phrase of the filter's text when the text is its only condition (its page, count
/// mode and cursor aside) and the text index can find it.
fn text_alone(filter: &AuditFilter) -> Option<String> {
    let text = filter.text_query()?;
    let rest = AuditFilter {
        text: None,
        limit: None,
        offset: None,
        exact_count: None,
        ..filter.clone()
    };
    (rest == AuditFilter::default() && text.chars().count() >= MIN_INDEXED_TEXT)
        .then(|| format!("\"{}\"", text.replace('"', "\"\"")))
}

/// Whether walking the outcome index gives the page in its order (newest first, ties by seq):
/// an outcome with no profile, action or text (a time range and a cursor are ranges of it).
fn ordered_by_matches(filter: &AuditFilter) -> bool {
    filter.outcome.is_some()
        && filter.profile_id.is_none()
        && filter.action_match().is_none()
        && filter.text_query().is_none()
}

/// The smallest string after every string starting with `prefix`.
fn prefix_end(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    match chars.pop() {
        None => String::new(),
        Some(last) => {
            let next = char::from_u32(u32::from(last) + 1).unwrap_or(char::MAX);
            chars.push(next);
            chars.into_iter().collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact;
    use serde_json::json;

    #[test]
    fn redacts_secret_looking_parameters_at_any_depth() {
        let v = json!({"service": "gateway", "apiKey": "sk_live_1", "nested": {"CF_API_TOKEN": "t"},
                       "list": [{"password": "p", "ok": 1}]});
        let r = redact(&v);
        assert_eq!(r["service"], "gateway");
        assert_eq!(r["apiKey"], "***");
        assert_eq!(r["nested"]["CF_API_TOKEN"], "***");
        assert_eq!(r["list"][0]["password"], "***");
        assert_eq!(r["list"][0]["ok"], 1);
    }
}

#[cfg(test)]
mod plan_tests {
    use super::*;
    use switchyard_core::AuditCursor;

    /// How SQLite runs the count and the page query for `filter`, driven each way.
    async fn plans(store: &Store, filter: &AuditFilter) -> Vec<String> {
        let mut out = Vec::new();
        for (count, drive) in [
            (true, Drive::Matches),
            (false, Drive::Matches),
            (false, Drive::TimeOrder),
        ] {
            let mut q = QueryBuilder::<Sqlite>::new(if count {
                "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM audit_log".to_owned()
            } else {
                format!("EXPLAIN QUERY PLAN SELECT {COLUMNS} FROM audit_log")
            });
            let actions = store.family_actions(filter).await.unwrap();
            push_audit_filter(&mut q, filter, drive, actions.as_deref());
            if !count {
                q.push(" ORDER BY at_ms DESC, seq DESC LIMIT 200 OFFSET 0");
            }
            let rows = q.build().fetch_all(&store.pool).await.unwrap();
            let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>(3)).collect();
            out.push(plan.join(" | "));
        }
        out
    }

    #[tokio::test]
    async fn every_filter_is_answered_from_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).await.unwrap();
        let f = AuditFilter::default;
        let filters = [
            f(),
            AuditFilter {
                profile_id: Some("p".into()),
                ..f()
            },
            AuditFilter {
                action: Some("deploy.".into()),
                ..f()
            },
            AuditFilter {
                action: Some("deploy".into()),
                profile_id: Some("p".into()),
                ..f()
            },
            AuditFilter {
                outcome: Some(AuditOutcome::Error),
                ..f()
            },
            AuditFilter {
                since_ms: Some(5),
                until_ms: Some(10),
                ..f()
            },
            AuditFilter {
                text: Some("gateway".into()),
                ..f()
            },
        ];
        for filter in &filters {
            for plan in plans(&store, filter).await {
                for step in plan.split(" | ") {
                    assert!(
                        !step.starts_with("SCAN audit_log") || step.contains(" INDEX "),
                        "a full scan for {filter:?}: {plan}"
                    );
                }
            }
        }
        // Newest first of all, or of one profile, straight from the time indexes: no sort.
        for filter in &filters[..2] {
            let plans = plans(&store, filter).await;
            assert!(!plans[1].contains("TEMP B-TREE"), "{}", plans[1]);
        }
        // An outcome is found by its index (the expression must match the migration's).
        let plans = plans(&store, &filters[4]).await;
        assert!(plans[0].contains("audit_by_outcome"), "{}", plans[0]);
        // ... and its page walks that index in the page's order: nothing sorted, however
        // deep the page (`ordered_by_matches`).
        assert!(ordered_by_matches(&filters[4]));
        assert!(plans[1].contains("audit_by_outcome"), "{}", plans[1]);
        assert!(!plans[1].contains("TEMP B-TREE"), "{}", plans[1]);
    }

    /// An action filter's page (a family of several actions, with a profile or not, after a
    /// cursor or not) walks each action's index in the page's order and merges them: nothing
    /// sorted, no walk of the time index.
    #[tokio::test]
    async fn an_action_page_merges_its_actions_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).await.unwrap();
        let actions: Vec<String> = ["deploy.apply", "deploy.prepare", "deploy.rollback"]
            .map(String::from)
            .into();
        for filter in [
            AuditFilter {
                action: Some("deploy.".into()),
                limit: Some(200),
                ..Default::default()
            },
            AuditFilter {
                action: Some("deploy.".into()),
                profile_id: Some("p".into()),
                outcome: Some(AuditOutcome::Error),
                limit: Some(200),
                after: Some(AuditCursor { at_ms: 5, seq: 9 }),
                ..Default::default()
            },
        ] {
            let mut q = QueryBuilder::<Sqlite>::new("EXPLAIN QUERY PLAN ");
            push_page_select(&mut q, &filter, Drive::ByAction, None, Some(&actions));
            let rows = q.build().fetch_all(&store.pool).await.unwrap();
            let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>(3)).collect();
            let plan = plan.join(" | ");
            assert!(plan.contains("MERGE"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
            let index = if filter.profile_id.is_some() {
                "audit_by_profile_action"
            } else {
                "audit_by_action"
            };
            assert_eq!(plan.matches(index).count(), 3, "{plan}");
        }
    }

    /// A text search's page comes from the text index's newest matches (no walk of the time
    /// index against every match) when the log is in time order, and is left to the walk when
    /// an entry written out of time order could sort into it.
    #[tokio::test]
    async fn a_text_page_is_read_by_number_unless_entries_are_out_of_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).await.unwrap();
        let add = |at_ms: i64, target: &str| AuditEntry {
            at_ms,
            actor: "ana".into(),
            profile_id: "p".into(),
            action: "deploy.apply".into(),
            target: target.into(),
            params: serde_json::json!({}),
            outcome: "ok".into(),
            message: None,
            duration_ms: 1,
        };
        // Written first, timed among the newest (as a sync's entry before older ones are
        // imported): out of order, but not a match, so it cannot sort into a page of matches.
        store.append_audit(&add(1_475, "db")).await.unwrap();
        for i in 0..50 {
            let target = if i % 2 == 0 { "gateway" } else { "db" };
            store
                .append_audit(&add(1_000 + i * 10, target))
                .await
                .unwrap();
        }
        let phrase = "\"gateway\"";
        let page = |after: Option<AuditCursor>| AuditFilter {
            text: Some("gateway".into()),
            limit: Some(5),
            after,
            ..Default::default()
        };
        let first = store
            .text_page_by_seq(&page(None), phrase, 5, 0, 100)
            .await
            .unwrap()
            .expect("read by number");
        assert_eq!(first.1, 25);
        let last = first.0.last().unwrap();
        let cursor = AuditCursor {
            at_ms: last.entry.at_ms,
            seq: last.seq,
        };
        assert!(store
            .text_page_by_seq(&page(Some(cursor)), phrase, 5, 0, 100)
            .await
            .unwrap()
            .is_some());
        // A non-matching entry written late, timed within the first page, changes nothing; a
        // match written late, timed just after it, would be taken for the page's last.
        store.append_audit(&add(1_455, "db")).await.unwrap();
        assert!(store
            .text_page_by_seq(&page(None), phrase, 5, 0, 100)
            .await
            .unwrap()
            .is_some_and(|(rows, _)| rows.len() == 5));
        store.append_audit(&add(1_395, "gateway")).await.unwrap();
        assert!(store
            .text_page_by_seq(&page(None), phrase, 5, 0, 100)
            .await
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_prefix_ends_just_after_its_last_character() {
        assert_eq!(prefix_end("deploy."), "deploy/");
        assert_eq!(prefix_end(""), "");
    }
}
