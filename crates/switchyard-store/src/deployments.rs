//! The deployment history cache and its sync bookkeeping.

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite};
use switchyard_core::{AppError, Deployment, DeploymentStatus, Environment};

use crate::error::{db, internal};
use crate::Store;

/// What an upsert changed.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct UpsertReport {
    pub inserted: u64,
    pub updated: u64,
    /// Records whose status changed (e.g. deployed → rolled_back), as (id, from, to).
    pub status_changes: Vec<(String, DeploymentStatus, DeploymentStatus)>,
}

/// A query window of the Deploy API: `GET /deployments` with these filters (None = any).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SyncWindow {
    pub service: Option<String>,
    pub environment: Option<Environment>,
}

impl SyncWindow {
    pub fn global() -> Self {
        SyncWindow {
            service: None,
            environment: None,
        }
    }

    fn keys(&self) -> (String, String) {
        (
            self.service.clone().unwrap_or_default(),
            self.environment
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
        )
    }
}

/// What the store knows about the last sync of a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncWindowState {
    pub window: SyncWindow,
    /// Last successful sync, epoch ms; None if never.
    pub as_of_ms: Option<i64>,
    pub attempted_ms: i64,
    /// Safe message of the last failure; None after a success.
    pub last_error: Option<String>,
    pub records_seen: i64,
}

/// Filters users apply to the cached history. Empty filter = everything, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct DeploymentFilter {
    pub service: Option<String>,
    pub environment: Option<Environment>,
    pub status: Option<DeploymentStatus>,
    pub author: Option<String>,
    pub branch: Option<String>,
    /// Free text over id, service, environment, status, version tag, commit, branch, author.
    pub text: Option<String>,
    /// Epoch ms (a JS number represents it exactly).
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub since_ms: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub until_ms: Option<i64>,
    /// At most this many rows; None = all of them.
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// Order of the rows; None = newest first.
    pub sort: Option<HistorySort>,
    /// Count every matching row (the view's "Count exactly"); otherwise a page's count stops at
    /// [`COUNT_BOUND`] rows past the page, and says it is a lower bound.
    pub exact_count: Option<bool>,
}

/// How far past a page the history's count goes before it says "at least": counting a million
/// rows takes ~80 ms, counting 2,000 well under one.
pub const COUNT_BOUND: u64 = 2_000;

/// A column the history can be ordered by. Ties are broken newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum HistorySortKey {
    Service,
    Environment,
    Status,
    VersionTag,
    Commit,
    Branch,
    Author,
    Time,
    Url,
}

impl HistorySortKey {
    /// The column it orders by (a fixed list: never user text in the SQL).
    fn column(self) -> &'static str {
        match self {
            HistorySortKey::Service => "service",
            HistorySortKey::Environment => "environment",
            HistorySortKey::Status => "status",
            HistorySortKey::VersionTag => "version_tag",
            HistorySortKey::Commit => "commit_sha",
            HistorySortKey::Branch => "branch",
            HistorySortKey::Author => "author",
            HistorySortKey::Time => "ts_ms",
            HistorySortKey::Url => "url",
        }
    }
}

/// How the history is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HistorySort {
    pub key: HistorySortKey,
    pub descending: bool,
}

/// How SQLite should find the rows of a text search.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Drive {
    /// By the profile's indexes (its time order), testing each row against the text matches:
    /// best when the text matches many rows.
    Indexes,
    /// From the text matches, one row lookup each (`+profile_id` keeps the profile's indexes
    /// out of it): best when the text matches few rows.
    TextMatches,
}

/// At most this many text matches are looked up one by one to count them with other filters
/// (each ~2 µs); more, and scanning the profile's index is cheaper. A text search alone is
/// counted in the text index, with no row looked up.
const COUNT_BY_MATCHES_UP_TO: i64 = 5_000;
/// At most this many text matches are sorted to find a page; more, and walking the time index
/// finds a page of the newest sooner — unless the page reaches past half of them (a deep page,
/// an export), which the walk would reach only near the end of the profile's rows.
const PAGE_BY_MATCHES_UP_TO: i64 = 1_000;

/// The columns of `deployments_fts` an operator's text is searched in; its last column,
/// `profile_key`, only narrows a search to one profile (migrations 0007, 0012).
const SEARCHED: &str = "{id service environment status version_tag commit_sha branch author}";

/// The token a profile's rows carry in `deployments_fts.profile_key`: `p` and the lowercase hex
/// of the id's UTF-8, as the generated column `'p' || lower(hex(profile_id))` writes it. One
/// token per profile, which no other profile's token equals.
fn profile_token(profile_id: &str) -> String {
    let mut t = String::with_capacity(1 + 2 * profile_id.len());
    t.push('p');
    for b in profile_id.bytes() {
        t.push_str(&format!("{b:02x}"));
    }
    t
}

/// The FTS5 query of `text`: its terms in the searched columns (never the profile's token).
/// None when the text has no term.
fn text_query(text: &str) -> Option<String> {
    Some(format!("{SEARCHED} : ({})", fts_query(text)?))
}

/// ` WHERE …` for the profile and the filter's conditions (not its order or page).
fn push_filter(
    q: &mut QueryBuilder<Sqlite>,
    profile_id: &str,
    filter: &DeploymentFilter,
    drive: Drive,
) {
    q.push(match drive {
        Drive::Indexes => " WHERE profile_id = ",
        Drive::TextMatches => " WHERE +profile_id = ",
    })
    .push_bind(profile_id.to_owned());
    if let Some(s) = &filter.service {
        q.push(" AND service = ").push_bind(s.clone());
    }
    if let Some(e) = filter.environment {
        q.push(" AND environment = ").push_bind(e.as_str());
    }
    if let Some(s) = filter.status {
        q.push(" AND status = ").push_bind(s.as_str());
    }
    if let Some(a) = &filter.author {
        q.push(" AND author = ").push_bind(a.clone());
    }
    if let Some(b) = &filter.branch {
        q.push(" AND branch = ").push_bind(b.clone());
    }
    if let Some(t) = filter.since_ms {
        q.push(" AND ts_ms >= ").push_bind(t);
    }
    if let Some(t) = filter.until_ms {
        q.push(" AND ts_ms < ").push_bind(t);
    }
    // Every row is also tested for its profile here, so the text index need not narrow to it
    // (which costs more than the test). The text index is keyed by time key (migration 0012).
    if let Some(m) = filter.text.as_deref().and_then(text_query) {
        match drive {
            // Each row walked is looked up by its key (one index step) in the list of matches:
            // the matches are not looked up one by one.
            Drive::Indexes => q.push(
                " AND (SELECT key FROM deployments_fts_keys WHERE row = deployments.rowid) IN \
                 (SELECT rowid FROM deployments_fts WHERE deployments_fts MATCH ",
            ),
            Drive::TextMatches => q.push(
                " AND rowid IN (SELECT row FROM deployments_fts_keys WHERE key IN \
                 (SELECT rowid FROM deployments_fts WHERE deployments_fts MATCH ",
            ),
        }
        .push_bind(m)
        .push(match drive {
            Drive::Indexes => ")",
            Drive::TextMatches => "))",
        });
    }
}

/// Whether the filter's only condition is its text (its page, order and count mode aside).
fn text_alone(filter: &DeploymentFilter) -> bool {
    filter.text.is_some()
        && DeploymentFilter {
            text: None,
            limit: None,
            offset: None,
            sort: None,
            exact_count: None,
            ..filter.clone()
        } == DeploymentFilter::default()
}

/// Whether the filter asks the history's default order: newest first.
fn newest_first(filter: &DeploymentFilter) -> bool {
    filter
        .sort
        .is_none_or(|s| s.key == HistorySortKey::Time && s.descending)
}

/// The FTS5 query of a text search, `q(m)`, chosen in the statement that searches (so in its
/// snapshot): ?1 the query over every profile up to its terms (`{…} : (`); ?2 the same narrowed
/// to the profile, used when the store holds another profile's rows; ?3 the profile; the
/// macro's parameter: the terms as [`text_search`] writes them. `terms.whole` says whether every
/// term is searched whole.
///
/// FTS5 (no prefix index) reads every match of every word starting with a prefix term before it
/// returns the first: 20,000 for `"hotfix"*` at a million rows (~0.7 ms), every row for
/// `"main"*` (~45 ms). A word alone is read lazily, as far as the page and its count go (~0.2 ms
/// for `hotfix`'s first 2,001). So a term whose last token no longer word of the text index
/// starts with is searched whole (`"hotfix"`: the same rows), read from the index's word list
/// (`deployments_fts_words`, migration 0013): ~0.05 ms for `hotfix`, ~2.5-4 ms for a word of
/// every row, which FTS5 steps over to the next word. A token holds letters, digits and
/// private-use characters only (unicode61), never U+0001 nor U+10FFFF: the longer words starting
/// with `t` are those from `t || U+0001` to `t || U+10FFFF`, bounds the word list seeks to
/// itself (with `term > t` it would step through every instance of `t`).
macro_rules! text_terms_cte {
    ($terms:literal) => {
        concat!(
            "terms(s, whole) AS MATERIALIZED (
    SELECT group_concat('\"' || value || '\"' || CASE WHEN w THEN '' ELSE '*' END, ' ' ORDER BY key),
           min(w)
    FROM (SELECT t.key, t.value ->> 0 AS value,
                 t.value ->> 1 IS NOT NULL AND NOT EXISTS (
                     SELECT 1 FROM deployments_fts_words
                     WHERE term >= (t.value ->> 1) || char(1)
                       AND term <= (t.value ->> 1) || char(1114111)) AS w
          FROM json_each(?",
            $terms,
            ") t)),
q(m) AS MATERIALIZED (
    SELECT CASE WHEN EXISTS (SELECT 1 FROM deployments WHERE profile_id < ?3)
                  OR EXISTS (SELECT 1 FROM deployments WHERE profile_id > ?3)
           THEN ?2 ELSE ?1 END || (SELECT s FROM terms) || ')')"
        )
    };
}

/// How many of a profile's rows match a text, counted in the text index alone (no row looked
/// up), up to ?4 (-1: all); ?1-?3 and ?5 as [`text_terms_cte`] says. Narrowing to the profile's
/// token costs ~1 ms at 100,000 rows: skipped when no other profile has any row (two steps into
/// the primary key), in the same statement, so the same snapshot.
const TEXT_MATCHES: &str = concat!(
    "WITH ",
    text_terms_cte!("5"),
    "
SELECT count(*) FROM (
    SELECT rowid FROM deployments_fts WHERE deployments_fts MATCH (SELECT m FROM q) LIMIT ?4)"
);

/// The arguments of [`text_terms_cte`] for `text` searched in the profile's rows: the query over
/// every profile up to its terms, the same narrowed to the profile, and the terms as a JSON array
/// of `[term, token]`, the token being what [`last_token`] says (null: searched as a prefix).
/// None when the text has no term.
fn text_search(profile_id: &str, text: &str) -> Result<Option<(String, String, String)>, AppError> {
    let terms = fts_terms(text);
    if terms.is_empty() {
        return Ok(None);
    }
    let terms: Vec<(&str, Option<String>)> =
        terms.iter().map(|t| (t.as_str(), last_token(t))).collect();
    let terms = serde_json::to_string(&terms).map_err(|e| internal("Searching deployments", e))?;
    Ok(Some((
        format!("{SEARCHED} : ("),
        format!(
            "profile_key : \"{}\" AND {SEARCHED} : (",
            profile_token(profile_id)
        ),
        terms,
    )))
}

/// A page of a text search alone, newest first ([`Store::text_page_newest_first`]). ?1-?3 and
/// ?7 (the terms) as [`text_terms_cte`] says; ?4: the rows the page reaches (offset + limit;
/// -1 = all); ?5: limit; ?6: offset.
///
/// A time key is `(8e12 - time) * 2^20 + n` (migration 0012): `key - (key & 1048575)` is its
/// millisecond. Only rows sharing a millisecond with another (rare) are looked up for their time
/// and id before the page is cut; the page's own rows are then read for their records.
const TEXT_PAGE_NEWEST_FIRST: &str = concat!(
    "
WITH ",
    text_terms_cte!("7"),
    ",
top(key) AS MATERIALIZED (
    SELECT rowid FROM deployments_fts WHERE deployments_fts MATCH (SELECT m FROM q)
    ORDER BY rowid LIMIT ?4),
edge(k, bound) AS MATERIALIZED (
    SELECT max(key), max(key) - (max(key) & 1048575) + 1048576 FROM top),
m(key) AS (
    SELECT key FROM top
    UNION ALL
    SELECT s.rowid FROM edge CROSS JOIN deployments_fts s
    WHERE EXISTS (SELECT 1 FROM deployments_fts_keys WHERE key > edge.k AND key < edge.bound)
      AND s.deployments_fts MATCH (SELECT m FROM q) AND s.rowid > edge.k AND s.rowid < edge.bound),
b(key, ms, n) AS (
    SELECT key, key - (key & 1048575), count(*) OVER (PARTITION BY key - (key & 1048575)) FROM m),
page(key, ms, ts, id) AS (
    SELECT key, ms,
           CASE WHEN n > 1 THEN (SELECT d.ts_ms FROM deployments_fts_keys t
                                 JOIN deployments d ON d.rowid = t.row WHERE t.key = b.key) END,
           CASE WHEN n > 1 THEN (SELECT d.id FROM deployments_fts_keys t
                                 JOIN deployments d ON d.rowid = t.row WHERE t.key = b.key) END
    FROM b ORDER BY 2, 3 DESC, 4 DESC LIMIT ?5 OFFSET ?6)
SELECT d.record FROM page
CROSS JOIN deployments_fts_keys t ON t.key = page.key
CROSS JOIN deployments d ON d.rowid = t.row
WHERE +d.profile_id = ?3
ORDER BY page.ms, page.ts DESC, page.id DESC"
);

/// A page of a text search alone, newest first, when no other row shares a millisecond with the
/// page's first or last row (nearly always): the page is then the text index's matches from
/// `offset` in key order, as they come (no sort, no row looked up but the page's), its own ties
/// ordered by time and id. ?1-?3 and ?7 as [`text_terms_cte`] says; ?4: limit; ?5: offset; ?6:
/// how far the matches are counted (at least offset + limit).
///
/// A page of at most this many records is read as one JSON array (a longer read, an export,
/// row by row: one string of all of them would be as large as they are).
const JSON_PAGE_MAX: u32 = 5_000;

/// One row: the page's records as one JSON array (NULL when the page is empty), whether a row
/// outside the page shares the millisecond of its first or last (then [`TEXT_PAGE_NEWEST_FIRST`]
/// reads the page instead), and the matches counted up to ?6. One row rather than 200, as sqlx
/// hands rows over one by one: the statement took 1.0 ms against 1.3-1.8 ms with a row per
/// record (interleaved, `hotfix` at a million rows); the array is decoded in one go (~0.13 ms,
/// as 200 records one by one). Words searched whole are read twice, lazily: the page's keys, and
/// the count (0.66 ms against 1.0 ms keeping all ?6 keys and sorting them to cut the page); a
/// prefix's matches, which FTS5 reads whole anyway, are read once, kept (`hits`), and the page
/// cut from them. The way not taken has a limit of 0: SQLite stops before its first step.
const TEXT_PAGE_BY_KEY: &str = concat!(
    "
WITH ",
    text_terms_cte!("7"),
    ",
hits(key) AS MATERIALIZED (
    SELECT rowid FROM deployments_fts WHERE deployments_fts MATCH (SELECT m FROM q)
    ORDER BY rowid LIMIT CASE WHEN (SELECT whole FROM terms) THEN 0 ELSE ?6 END),
page(key) AS MATERIALIZED (
    SELECT * FROM (SELECT key FROM hits ORDER BY key LIMIT ?4 OFFSET ?5)
    UNION ALL
    SELECT * FROM (
        SELECT rowid FROM deployments_fts WHERE deployments_fts MATCH (SELECT m FROM q)
        ORDER BY rowid LIMIT CASE WHEN (SELECT whole FROM terms) THEN ?4 ELSE 0 END OFFSET ?5)),
n(c) AS MATERIALIZED (
    SELECT (SELECT count(*) FROM hits) + (SELECT count(*) FROM (
        SELECT rowid FROM deployments_fts WHERE deployments_fts MATCH (SELECT m FROM q)
        LIMIT CASE WHEN (SELECT whole FROM terms) THEN ?6 ELSE 0 END))),
edge(lo, hi) AS MATERIALIZED (SELECT min(key), max(key) FROM page),
tie(t) AS MATERIALIZED (
    SELECT EXISTS (SELECT 1 FROM edge CROSS JOIN deployments_fts_keys k
                   WHERE k.key >= edge.lo - (edge.lo & 1048575) AND k.key < edge.lo)
        OR EXISTS (SELECT 1 FROM edge CROSS JOIN deployments_fts_keys k
                   WHERE k.key > edge.hi AND k.key < edge.hi - (edge.hi & 1048575) + 1048576))
SELECT '[' || group_concat(d.record, ','
                           ORDER BY page.key - (page.key & 1048575), d.ts_ms DESC, d.id DESC) || ']',
       (SELECT t FROM tie), (SELECT c FROM n)
FROM page
CROSS JOIN deployments_fts_keys t ON t.key = page.key
CROSS JOIN deployments d ON d.rowid = t.row
WHERE +d.profile_id = ?3"
);

fn timestamp_ms(d: &Deployment) -> i64 {
    chrono::DateTime::parse_from_rfc3339(&d.timestamp)
        .map(|t| t.timestamp_millis())
        .ok()
        .or_else(|| d.id_millis())
        .unwrap_or(0)
}

/// The terms of user text, as [`fts_query`] searches them.
fn fts_terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '_' && c != '@' && c != '.' && c != '-')
        .filter(|t| !t.is_empty())
        .map(|t| t.replace('"', ""))
        .collect()
}

/// The token of a term FTS5's `unicode61` searches as a prefix (its last), when the term is
/// ASCII: its last run of letters and digits, lowercased (what the tokenizer makes of it). None
/// for other terms (their tokens are not worked out here) and for a term with no letter or digit.
fn last_token(term: &str) -> Option<String> {
    if !term.is_ascii() {
        return None;
    }
    term.rsplit(|c: char| !c.is_ascii_alphanumeric())
        .find(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
}

/// Turn user text into an FTS5 query of prefix terms, so punctuation cannot break the syntax.
fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = fts_terms(text)
        .iter()
        .map(|t| format!("\"{t}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

impl Store {
    /// Insert new records and update known ones by id, in one transaction, noting status changes.
    pub async fn upsert_deployments(
        &self,
        profile_id: &str,
        records: &[Deployment],
        now_ms: i64,
    ) -> Result<UpsertReport, AppError> {
        let mut report = UpsertReport::default();
        // IMMEDIATE: the transaction reads before it writes, and a deferred one could not take
        // the write lock once another connection had written since its read (SQLite answers
        // "database is locked" at once, without waiting): parallel syncs and version lists failed.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("Saving deployments"))?;
        // Newest first: the text index is keyed by time, newest first (migration 0012), and
        // FTS5 writes a segment of its own for every key lower than the one before it in a
        // transaction. In this order, a batch is one segment, however its records were ordered.
        let mut order: Vec<usize> = (0..records.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(timestamp_ms(&records[i])));
        // Status changes are reported in the records' order.
        let mut changes = Vec::new();
        for i in order {
            let d = &records[i];
            let json = serde_json::to_string(d).map_err(|e| internal("Saving deployments", e))?;
            let existing =
                sqlx::query("SELECT status FROM deployments WHERE profile_id = ? AND id = ?")
                    .bind(profile_id)
                    .bind(&d.id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db("Saving deployments"))?;
            match existing {
                None => {
                    sqlx::query(
                        "INSERT INTO deployments (profile_id, id, service, environment, status, ts_ms,
                         timestamp, version, version_tag, commit_sha, branch, author, url, namespace,
                         record, first_seen_ms, last_seen_ms)
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(profile_id)
                    .bind(&d.id)
                    .bind(&d.service)
                    .bind(d.environment.as_str())
                    .bind(d.status.as_str())
                    .bind(timestamp_ms(d))
                    .bind(&d.timestamp)
                    .bind(&d.version)
                    .bind(&d.version_tag)
                    .bind(&d.metadata.commit)
                    .bind(&d.metadata.branch)
                    .bind(&d.metadata.author)
                    .bind(&d.url)
                    .bind(&d.namespace)
                    .bind(&json)
                    .bind(now_ms)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("Saving deployments"))?;
                    report.inserted += 1;
                }
                Some(row) => {
                    let old: String = row.get(0);
                    let old: DeploymentStatus = old.parse()?;
                    sqlx::query(
                        "UPDATE deployments SET status = ?, record = ?, last_seen_ms = ?,
                         version_tag = ?, url = ?, namespace = ? WHERE profile_id = ? AND id = ?",
                    )
                    .bind(d.status.as_str())
                    .bind(&json)
                    .bind(now_ms)
                    .bind(&d.version_tag)
                    .bind(&d.url)
                    .bind(&d.namespace)
                    .bind(profile_id)
                    .bind(&d.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("Saving deployments"))?;
                    if old != d.status {
                        sqlx::query(
                            "INSERT INTO deployment_status_changes
                             (profile_id, deployment_id, from_status, to_status, observed_ms)
                             VALUES (?, ?, ?, ?, ?)",
                        )
                        .bind(profile_id)
                        .bind(&d.id)
                        .bind(old.as_str())
                        .bind(d.status.as_str())
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(db("Saving deployments"))?;
                        changes.push((i, (d.id.clone(), old, d.status)));
                    }
                    report.updated += 1;
                }
            }
        }
        tx.commit().await.map_err(db("Saving deployments"))?;
        changes.sort_by_key(|(i, _)| *i);
        report.status_changes = changes.into_iter().map(|(_, c)| c).collect();
        Ok(report)
    }

    /// Cached deployments matching `filter`, in its order (newest first by default), one page
    /// of `limit` rows from `offset`.
    pub async fn query_deployments(
        &self,
        profile_id: &str,
        filter: &DeploymentFilter,
    ) -> Result<Vec<Deployment>, AppError> {
        if text_alone(filter) && newest_first(filter) {
            if let Some((rows, _)) = self
                .text_page_newest_first(profile_id, filter, None)
                .await?
            {
                return Ok(rows);
            }
        }
        // Only whether there are more than these decides the drive.
        let cap = Some(COUNT_BY_MATCHES_UP_TO + 1);
        let drive = match self.text_matches(profile_id, filter, cap).await? {
            None => Drive::Indexes,
            Some(matches) => {
                // The rows the page needs to reach: past half of the matches, walking the time
                // index would visit most of the profile's rows to find them.
                let reach = filter.limit.map_or(i64::MAX, |l| {
                    i64::from(l) + i64::from(filter.offset.unwrap_or(0))
                });
                let deep = reach.saturating_mul(2) >= matches && matches <= COUNT_BY_MATCHES_UP_TO;
                if matches <= PAGE_BY_MATCHES_UP_TO || deep {
                    Drive::TextMatches
                } else {
                    Drive::Indexes
                }
            }
        };
        let sort_column = filter
            .sort
            .filter(|s| s.key != HistorySortKey::Time)
            .map(|s| (s.key.column(), if s.descending { "DESC" } else { "ASC" }));
        let time_dir = match filter.sort {
            Some(HistorySort {
                key: HistorySortKey::Time,
                descending: false,
            }) => "ASC",
            _ => "DESC",
        };
        let order = match sort_column {
            Some((column, dir)) => format!("{column} {dir}, ts_ms {time_dir}, id {time_dir}"),
            None => format!("ts_ms {time_dir}, id {time_dir}"),
        };
        // A page comes back as one row, its records as one JSON array: each row of a result is
        // a message between SQLite's thread and this one (1.0 against 1.3–1.8 ms for 200).
        let page = filter.limit.is_some_and(|l| l <= JSON_PAGE_MAX);
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(if page {
            format!(
                "SELECT '[' || group_concat(record, ',' ORDER BY {order}) || ']' FROM (SELECT record, ts_ms, id{} FROM deployments",
                sort_column.map(|(c, _)| format!(", {c}")).unwrap_or_default()
            )
        } else {
            "SELECT record FROM deployments".to_owned()
        });
        push_filter(&mut q, profile_id, filter, drive);
        q.push(format_args!(" ORDER BY {order}"));
        // SQLite: a negative LIMIT is no limit.
        q.push(" LIMIT ")
            .push_bind(filter.limit.map_or(-1, i64::from))
            .push(" OFFSET ")
            .push_bind(i64::from(filter.offset.unwrap_or(0)));
        if page {
            q.push(")");
            return crate::json_page(&mut q, &self.pool, "Reading deployments").await;
        }
        let rows = q
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db("Reading deployments"))?;
        rows.iter()
            .map(|r| {
                let json: String = r.get(0);
                serde_json::from_str(&json).map_err(|e| internal("Reading deployments", e))
            })
            .collect()
    }

    /// [`Store::query_deployments`], with the count [`Store::count_deployments_up_to`] gives
    /// for `at_most` when it comes with the page at no cost: for a page of a text search alone,
    /// newest first, the text index is searched once for both (else the count is None, and
    /// the caller counts when it needs to).
    pub async fn query_deployments_counted(
        &self,
        profile_id: &str,
        filter: &DeploymentFilter,
        at_most: u64,
    ) -> Result<(Vec<Deployment>, Option<u64>), AppError> {
        if filter.limit.is_some() && text_alone(filter) && newest_first(filter) {
            let at_most = i64::try_from(at_most).unwrap_or(i64::MAX);
            if let Some((rows, n)) = self
                .text_page_newest_first(profile_id, filter, Some(at_most))
                .await?
            {
                return Ok((rows, n.map(|n| u64::try_from(n).unwrap_or(0))));
            }
        }
        Ok((self.query_deployments(profile_id, filter).await?, None))
    }

    /// One page of a text search alone, newest first, read in the text index's own order: its
    /// keys are time keys (migration 0012), ascending keys newest first, so the page's rows are
    /// the index's first `offset + limit` matches — and the matches of the same millisecond as the
    /// last of them, which the row's own time and id order. Only these rows are looked up, and
    /// a word typed whole is searched as a word ([`text_terms_cte`]). None when the text has no
    /// term.
    ///
    /// With `count_up_to` (and a limit), the matches are also counted, no further than it, in
    /// the same search of the text index: the count comes back when the page is not empty.
    async fn text_page_newest_first(
        &self,
        profile_id: &str,
        filter: &DeploymentFilter,
        count_up_to: Option<i64>,
    ) -> Result<Option<(Vec<Deployment>, Option<i64>)>, AppError> {
        let Some(text) = filter.text.as_deref() else {
            return Ok(None);
        };
        let Some((any, mine, terms)) = text_search(profile_id, text)? else {
            return Ok(None);
        };
        let offset = i64::from(filter.offset.unwrap_or(0));
        let mut counted = None;
        if let Some(l) = filter.limit {
            let reach = offset + i64::from(l);
            let row = sqlx::query(TEXT_PAGE_BY_KEY)
                .bind(&any)
                .bind(&mine)
                .bind(profile_id)
                .bind(i64::from(l))
                .bind(offset)
                .bind(count_up_to.map_or(reach, |c| c.max(reach)))
                .bind(&terms)
                .fetch_one(&self.pool)
                .await
                .map_err(db("Searching deployments"))?;
            // One row: the page's records as one JSON array (NULL when it is empty), whether a
            // row outside it shares its first or last millisecond, the count.
            let page: Option<String> = row.get(0);
            counted = count_up_to
                .filter(|_| page.is_some())
                .map(|c| row.get::<i64, _>(2).min(c));
            if !row.get::<bool, _>(1) {
                let page = match page {
                    Some(json) => serde_json::from_str(&json)
                        .map_err(|e| internal("Reading deployments", e))?,
                    None => Vec::new(),
                };
                return Ok(Some((page, counted)));
            }
        }
        // SQLite: a negative LIMIT is no limit.
        let (reach, limit) = match filter.limit {
            Some(l) => (offset + i64::from(l), i64::from(l)),
            None => (-1, -1),
        };
        let rows = sqlx::query(TEXT_PAGE_NEWEST_FIRST)
            .bind(any)
            .bind(mine)
            .bind(profile_id)
            .bind(reach)
            .bind(limit)
            .bind(offset)
            .bind(terms)
            .fetch_all(&self.pool)
            .await
            .map_err(db("Searching deployments"))?;
        rows.iter()
            .map(|r| {
                let json: String = r.get(0);
                serde_json::from_str(&json).map_err(|e| internal("Reading deployments", e))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|rows| Some((rows, counted)))
    }

    /// How many of the profile's rows match the filter's text, counted in the text index alone
    /// (FTS5 reads its own doclists; no row is looked up). None when the filter has no text.
    ///
    /// With `cap`, it stops counting there (FTS5 reads its doclists lazily): enough to choose how
    /// to drive a query, and to bound a count.
    async fn text_matches(
        &self,
        profile_id: &str,
        filter: &DeploymentFilter,
        cap: Option<i64>,
    ) -> Result<Option<i64>, AppError> {
        let Some(text) = filter.text.as_deref() else {
            return Ok(None);
        };
        let Some((any, mine, terms)) = text_search(profile_id, text)? else {
            return Ok(None);
        };
        sqlx::query_scalar(TEXT_MATCHES)
            .bind(any)
            .bind(mine)
            .bind(profile_id)
            // SQLite: a negative LIMIT is no limit.
            .bind(cap.unwrap_or(-1))
            .bind(terms)
            .fetch_one(&self.pool)
            .await
            .map(Some)
            .map_err(db("Searching deployments"))
    }

    /// How many cached deployments match `filter` (its limit, offset and order aside), exactly.
    pub async fn count_deployments(
        &self,
        profile_id: &str,
        filter: &DeploymentFilter,
    ) -> Result<u64, AppError> {
        let text_alone = text_alone(filter);
        // Counted exactly only when it is the answer (the text alone); else the drive needs
        // only whether there are more than COUNT_BY_MATCHES_UP_TO.
        let cap = (!text_alone).then_some(COUNT_BY_MATCHES_UP_TO + 1);
        let matches = self.text_matches(profile_id, filter, cap).await?;
        let drive = match matches {
            // The text index holds each row's profile: its count is the answer.
            Some(n) if text_alone => return Ok(u64::try_from(n).unwrap_or(0)),
            Some(n) if n <= COUNT_BY_MATCHES_UP_TO => Drive::TextMatches,
            _ => Drive::Indexes,
        };
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT COUNT(*) FROM deployments");
        push_filter(&mut q, profile_id, filter, drive);
        let n: i64 = q
            .build()
            .fetch_one(&self.pool)
            .await
            .map_err(db("Counting deployments"))?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How many cached deployments match `filter` (its limit, offset and order aside), counting
    /// no further than `at_most`: the cost is that of `at_most` rows, however many match.
    pub async fn count_deployments_up_to(
        &self,
        profile_id: &str,
        filter: &DeploymentFilter,
        at_most: u64,
    ) -> Result<u64, AppError> {
        let at_most = i64::try_from(at_most).unwrap_or(i64::MAX);
        let text_alone = text_alone(filter);
        let cap = if text_alone {
            at_most
        } else {
            COUNT_BY_MATCHES_UP_TO + 1
        };
        let drive = match self.text_matches(profile_id, filter, Some(cap)).await? {
            // The text index holds each row's profile: its count is the answer.
            Some(n) if text_alone => return Ok(u64::try_from(n).unwrap_or(0)),
            Some(n) if n <= COUNT_BY_MATCHES_UP_TO => Drive::TextMatches,
            _ => Drive::Indexes,
        };
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM deployments");
        push_filter(&mut q, profile_id, filter, drive);
        q.push(" LIMIT ").push_bind(at_most).push(")");
        let n: i64 = q
            .build()
            .fetch_one(&self.pool)
            .await
            .map_err(db("Counting deployments"))?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Start a full sync of the profile — or go on with the one that stopped before its end,
    /// if it started at most `resume_within_ms` before `now_ms`: then its start (epoch ms) is
    /// returned, and the windows synced since then need not be asked again.
    pub async fn begin_sync_run(
        &self,
        profile_id: &str,
        now_ms: i64,
        resume_within_ms: i64,
    ) -> Result<Option<i64>, AppError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("Recording a sync"))?;
        let stopped: Option<i64> =
            sqlx::query_scalar("SELECT started_ms FROM sync_runs WHERE profile_id = ?")
                .bind(profile_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("Recording a sync"))?;
        let resumed = stopped.filter(|&t| t <= now_ms && now_ms - t <= resume_within_ms);
        if resumed.is_none() {
            sqlx::query(
                "INSERT INTO sync_runs (profile_id, started_ms) VALUES (?, ?)
                 ON CONFLICT (profile_id) DO UPDATE SET started_ms = excluded.started_ms",
            )
            .bind(profile_id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(db("Recording a sync"))?;
        }
        tx.commit().await.map_err(db("Recording a sync"))?;
        Ok(resumed)
    }

    /// The full sync of the profile reached its last window: the next one starts from the first.
    pub async fn finish_sync_run(&self, profile_id: &str) -> Result<(), AppError> {
        sqlx::query("DELETE FROM sync_runs WHERE profile_id = ?")
            .bind(profile_id)
            .execute(&self.pool)
            .await
            .map_err(db("Recording a sync"))?;
        Ok(())
    }

    /// Status changes seen for one deployment, oldest first, as (from, to, observed_ms).
    pub async fn status_history(
        &self,
        profile_id: &str,
        deployment_id: &str,
    ) -> Result<Vec<(DeploymentStatus, DeploymentStatus, i64)>, AppError> {
        let rows = sqlx::query(
            "SELECT from_status, to_status, observed_ms FROM deployment_status_changes
             WHERE profile_id = ? AND deployment_id = ? ORDER BY observed_ms, rowid",
        )
        .bind(profile_id)
        .bind(deployment_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading status history"))?;
        rows.iter()
            .map(|r| {
                let from: String = r.get(0);
                let to: String = r.get(1);
                Ok((from.parse()?, to.parse()?, r.get(2)))
            })
            .collect()
    }

    /// Note a successful sync of `window`.
    pub async fn record_sync_success(
        &self,
        profile_id: &str,
        window: &SyncWindow,
        now_ms: i64,
        records_seen: i64,
    ) -> Result<(), AppError> {
        let (service, environment) = window.keys();
        sqlx::query(
            "INSERT INTO sync_windows (profile_id, service, environment, as_of_ms, attempted_ms, last_error, records_seen)
             VALUES (?, ?, ?, ?, ?, NULL, ?)
             ON CONFLICT (profile_id, service, environment) DO UPDATE SET
             as_of_ms = excluded.as_of_ms, attempted_ms = excluded.attempted_ms,
             last_error = NULL, records_seen = excluded.records_seen",
        )
        .bind(profile_id)
        .bind(service)
        .bind(environment)
        .bind(now_ms)
        .bind(now_ms)
        .bind(records_seen)
        .execute(&self.pool)
        .await
        .map_err(db("Recording a sync"))?;
        Ok(())
    }

    /// Note a failed sync of `window`; its last success ("as of") is kept.
    pub async fn record_sync_failure(
        &self,
        profile_id: &str,
        window: &SyncWindow,
        now_ms: i64,
        message: &str,
    ) -> Result<(), AppError> {
        let (service, environment) = window.keys();
        sqlx::query(
            "INSERT INTO sync_windows (profile_id, service, environment, as_of_ms, attempted_ms, last_error)
             VALUES (?, ?, ?, NULL, ?, ?)
             ON CONFLICT (profile_id, service, environment) DO UPDATE SET
             attempted_ms = excluded.attempted_ms, last_error = excluded.last_error",
        )
        .bind(profile_id)
        .bind(service)
        .bind(environment)
        .bind(now_ms)
        .bind(message)
        .execute(&self.pool)
        .await
        .map_err(db("Recording a sync"))?;
        Ok(())
    }

    /// Every sync window of a profile.
    pub async fn sync_windows(&self, profile_id: &str) -> Result<Vec<SyncWindowState>, AppError> {
        let rows = sqlx::query(
            "SELECT service, environment, as_of_ms, attempted_ms, last_error, records_seen
             FROM sync_windows WHERE profile_id = ? ORDER BY service, environment",
        )
        .bind(profile_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db("Reading sync state"))?;
        rows.iter()
            .map(|r| {
                let service: String = r.get(0);
                let environment: String = r.get(1);
                Ok(SyncWindowState {
                    window: SyncWindow {
                        service: (!service.is_empty()).then_some(service),
                        environment: if environment.is_empty() {
                            None
                        } else {
                            Some(environment.parse()?)
                        },
                    },
                    as_of_ms: r.get(2),
                    attempted_ms: r.get(3),
                    last_error: r.get(4),
                    records_seen: r.get(5),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn fts_query_quotes_terms_so_syntax_cannot_break() {
        assert_eq!(
            fts_query("gateway main").as_deref(),
            Some("\"gateway\"* \"main\"*")
        );
        assert_eq!(
            fts_query("a\"b OR (").as_deref(),
            Some("\"a\"* \"b\"* \"OR\"*")
        );
        assert_eq!(fts_query("  ()  "), None);
    }
}
