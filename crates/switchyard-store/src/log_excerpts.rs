//! Log excerpts: the invocations of a worker around each failure seen in a tail, for the incident
//! timeline. One row per invocation; the rows around failures close together share an excerpt id
//! and follow each other by row id. Bounded per profile (the oldest rows are pruned as new ones
//! are written). Texts arrive redacted: the store never holds a secret.

use sqlx::Row;
use switchyard_core::AppError;

use crate::error::db;
use crate::Store;

/// The most rows kept per profile; writing more prunes the oldest.
pub const LOG_EXCERPT_ROWS_PER_PROFILE: u32 = 20_000;

/// One invocation to keep (its texts already redacted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLogExcerptLine {
    pub profile_id: String,
    /// The stretch of invocations it belongs to (shared by the lines around one or more
    /// failures close together).
    pub excerpt_id: i64,
    pub at_ms: i64,
    pub service: String,
    pub script: String,
    pub outcome: String,
    pub status: Option<u16>,
    pub method: Option<String>,
    pub url: Option<String>,
    /// This invocation failed (the excerpt is kept for it).
    pub failure: bool,
    /// One line: the request and what went wrong.
    pub summary: String,
    /// The whole invocation: request, console lines, exceptions.
    pub text: String,
}

/// A stored invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogExcerptLine {
    pub id: i64,
    pub excerpt_id: i64,
    pub at_ms: i64,
    pub service: String,
    pub script: String,
    pub outcome: String,
    pub status: Option<u16>,
    pub method: Option<String>,
    pub url: Option<String>,
    pub failure: bool,
    pub summary: String,
    pub text: String,
}

/// A failure with the invocations stored around it (same excerpt), oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogExcerpt {
    pub failure: LogExcerptLine,
    pub before: Vec<LogExcerptLine>,
    pub after: Vec<LogExcerptLine>,
}

const COLUMNS: &str =
    "id, excerpt_id, at_ms, service, script, outcome, status, method, url, failure, summary, text";

fn line(r: &sqlx::sqlite::SqliteRow) -> LogExcerptLine {
    LogExcerptLine {
        id: r.get(0),
        excerpt_id: r.get(1),
        at_ms: r.get(2),
        service: r.get(3),
        script: r.get(4),
        outcome: r.get(5),
        status: r
            .get::<Option<i64>, _>(6)
            .and_then(|s| u16::try_from(s).ok()),
        method: r.get(7),
        url: r.get(8),
        failure: r.get::<i64, _>(9) != 0,
        summary: r.get(10),
        text: r.get(11),
    }
}

/// The failures of a profile in a window (binds: profile, since, until, then each service).
fn failures_filter(services: Option<&[String]>) -> String {
    let services = match services {
        None => String::new(),
        Some(s) => format!(" AND service IN ({})", vec!["?"; s.len().max(1)].join(", ")),
    };
    format!(
        "FROM log_excerpts WHERE profile_id = ? AND failure = 1 AND at_ms >= ? AND at_ms < ?{services}"
    )
}

/// Every line of some excerpts (binds: their ids as a JSON array, the profile). `+profile_id`
/// keeps the planner on the excerpt index (an excerpt is one profile's anyway).
fn around_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM log_excerpts WHERE excerpt_id IN (SELECT value FROM json_each(?))
         AND +profile_id = ? ORDER BY excerpt_id, id"
    )
}

/// Prune a profile to a cap (binds: profile, cap): the newest row past the cap and every older
/// one go.
const PRUNE_SQL: &str = "DELETE FROM log_excerpts WHERE profile_id = ?1 AND id <= (
     SELECT id FROM log_excerpts WHERE profile_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)";

impl Store {
    /// Write invocations of excerpts in one transaction, then prune each profile written to down
    /// to `cap_per_profile` rows (the oldest go). How many rows were pruned.
    pub async fn insert_log_excerpt_lines(
        &self,
        lines: &[NewLogExcerptLine],
        cap_per_profile: u32,
    ) -> Result<u64, AppError> {
        let what = "Saving log excerpts";
        if lines.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool.begin().await.map_err(db(what))?;
        for l in lines {
            sqlx::query(
                "INSERT INTO log_excerpts (profile_id, excerpt_id, at_ms, service, script, outcome,
                 status, method, url, failure, summary, text)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&l.profile_id)
            .bind(l.excerpt_id)
            .bind(l.at_ms)
            .bind(&l.service)
            .bind(&l.script)
            .bind(&l.outcome)
            .bind(l.status.map(i64::from))
            .bind(&l.method)
            .bind(&l.url)
            .bind(i64::from(l.failure))
            .bind(&l.summary)
            .bind(&l.text)
            .execute(&mut *tx)
            .await
            .map_err(db(what))?;
        }
        let mut profiles: Vec<&str> = lines.iter().map(|l| l.profile_id.as_str()).collect();
        profiles.sort_unstable();
        profiles.dedup();
        let mut pruned = 0;
        for p in profiles {
            pruned += sqlx::query(PRUNE_SQL)
                .bind(p)
                .bind(i64::from(cap_per_profile))
                .execute(&mut *tx)
                .await
                .map_err(db(what))?
                .rows_affected();
        }
        tx.commit().await.map_err(db(what))?;
        Ok(pruned)
    }

    /// The failures of a profile in `[since_ms, until_ms)` (of `services` only, when given),
    /// oldest first, each with up to `around` stored invocations before and after it: the first
    /// `limit` of them, and how many failures the window has in all.
    pub async fn log_excerpts(
        &self,
        profile_id: &str,
        since_ms: i64,
        until_ms: i64,
        services: Option<&[String]>,
        around: u32,
        limit: u32,
    ) -> Result<(Vec<LogExcerpt>, u64), AppError> {
        self.log_excerpts_from(
            profile_id, since_ms, until_ms, services, around, limit, false,
        )
        .await
    }

    /// [`Store::log_excerpts`], or with `newest` the last `limit` failures, newest first.
    #[allow(clippy::too_many_arguments)]
    pub async fn log_excerpts_from(
        &self,
        profile_id: &str,
        since_ms: i64,
        until_ms: i64,
        services: Option<&[String]>,
        around: u32,
        limit: u32,
        newest: bool,
    ) -> Result<(Vec<LogExcerpt>, u64), AppError> {
        let what = "Reading log excerpts";
        if services.is_some_and(<[String]>::is_empty) {
            return Ok((Vec::new(), 0));
        }
        let filter = failures_filter(services);
        let count_sql = format!("SELECT COUNT(*) {filter}");
        let mut count = sqlx::query(&count_sql)
            .bind(profile_id)
            .bind(since_ms)
            .bind(until_ms);
        for s in services.unwrap_or_default() {
            count = count.bind(s);
        }
        let total: i64 = count.fetch_one(&self.pool).await.map_err(db(what))?.get(0);
        let order = if newest {
            "at_ms DESC, id DESC"
        } else {
            "at_ms, id"
        };
        let read_sql = format!("SELECT {COLUMNS} {filter} ORDER BY {order} LIMIT ?");
        let mut q = sqlx::query(&read_sql)
            .bind(profile_id)
            .bind(since_ms)
            .bind(until_ms);
        for s in services.unwrap_or_default() {
            q = q.bind(s);
        }
        let failures: Vec<LogExcerptLine> = q
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db(what))?
            .iter()
            .map(line)
            .collect();
        // Every line of the excerpts those failures are in, in order.
        let mut excerpt_ids: Vec<i64> = failures.iter().map(|f| f.excerpt_id).collect();
        excerpt_ids.sort_unstable();
        excerpt_ids.dedup();
        let rows: Vec<LogExcerptLine> = if excerpt_ids.is_empty() {
            Vec::new()
        } else {
            sqlx::query(&around_sql())
                .bind(serde_json::to_string(&excerpt_ids).unwrap_or_else(|_| "[]".into()))
                .bind(profile_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db(what))?
                .iter()
                .map(line)
                .collect()
        };
        let around = around as usize;
        let excerpts = failures
            .into_iter()
            .map(|failure| {
                let start = rows.partition_point(|r| r.excerpt_id < failure.excerpt_id);
                let end = rows.partition_point(|r| r.excerpt_id <= failure.excerpt_id);
                let same = &rows[start..end];
                let at = same.partition_point(|r| r.id < failure.id);
                let before = same[at.saturating_sub(around)..at].to_vec();
                let after_from = (at + 1).min(same.len());
                let after = same[after_from..(after_from + around).min(same.len())].to_vec();
                LogExcerpt {
                    failure,
                    before,
                    after,
                }
            })
            .collect();
        Ok((excerpts, u64::try_from(total).unwrap_or(0)))
    }

    /// How many excerpt rows a profile has (at most the cap).
    pub async fn log_excerpt_rows(&self, profile_id: &str) -> Result<u64, AppError> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM log_excerpts WHERE profile_id = ?")
            .bind(profile_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db("Reading log excerpts"))?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(
        profile: &str,
        excerpt: i64,
        at_ms: i64,
        service: &str,
        failure: bool,
    ) -> NewLogExcerptLine {
        NewLogExcerptLine {
            profile_id: profile.into(),
            excerpt_id: excerpt,
            at_ms,
            service: service.into(),
            script: service.into(),
            outcome: if failure { "exception" } else { "ok" }.into(),
            status: Some(if failure { 500 } else { 200 }),
            method: Some("GET".into()),
            url: Some(format!("https://{service}.do/{at_ms}")),
            failure,
            summary: format!("GET /{at_ms}"),
            text: format!("GET /{at_ms}\n    [log] line {at_ms}"),
        }
    }

    fn ats(lines: &[LogExcerptLine]) -> Vec<i64> {
        lines.iter().map(|l| l.at_ms).collect()
    }

    #[tokio::test]
    async fn a_window_reads_failures_with_their_neighbours_of_the_same_excerpt() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).await.unwrap();
        // Excerpt 1: 7 lines before, a failure at 108, 2 after, another failure at 111, 5 after.
        let mut rows: Vec<_> = (100..108).map(|t| l("p", 1, t, "gateway", false)).collect();
        rows.push(l("p", 1, 108, "gateway", true));
        rows.extend((109..111).map(|t| l("p", 1, t, "gateway", false)));
        rows.push(l("p", 1, 111, "gateway", true));
        rows.extend((112..117).map(|t| l("p", 1, t, "gateway", false)));
        // Another service's excerpt, interleaved in time, and another profile's.
        rows.push(l("p", 2, 109, "db", false));
        rows.push(l("p", 2, 110, "db", true));
        rows.push(l("q", 3, 108, "gateway", true));
        store
            .insert_log_excerpt_lines(&rows, LOG_EXCERPT_ROWS_PER_PROFILE)
            .await
            .unwrap();

        let (got, total) = store
            .log_excerpts("p", 0, 1_000, None, 5, 100)
            .await
            .unwrap();
        assert_eq!(total, 3);
        assert_eq!(
            got.iter().map(|e| e.failure.at_ms).collect::<Vec<_>>(),
            [108, 110, 111]
        );
        assert_eq!(ats(&got[0].before), [103, 104, 105, 106, 107]);
        assert_eq!(ats(&got[0].after), [109, 110, 111, 112, 113]);
        assert_eq!(got[1].failure.service, "db");
        assert_eq!(ats(&got[1].before), [109], "only its own excerpt's lines");
        assert!(got[1].after.is_empty());
        assert_eq!(ats(&got[2].before), [106, 107, 108, 109, 110]);
        assert_eq!(ats(&got[2].after), [112, 113, 114, 115, 116]);
        assert!(
            got[2].before.iter().any(|b| b.failure),
            "the earlier failure is a line before"
        );

        // Filtered to services, and to a window; the limit keeps the oldest, the total counts all.
        let only_db = ["db".to_owned()];
        let (got, total) = store
            .log_excerpts("p", 0, 1_000, Some(&only_db), 5, 100)
            .await
            .unwrap();
        assert_eq!(
            (
                ats(&got.iter().map(|e| e.failure.clone()).collect::<Vec<_>>()),
                total
            ),
            (vec![110], 1)
        );
        let (got, total) = store
            .log_excerpts("p", 109, 111, None, 5, 100)
            .await
            .unwrap();
        assert_eq!((got.len(), total), (1, 1));
        let (got, total) = store.log_excerpts("p", 0, 1_000, None, 5, 1).await.unwrap();
        assert_eq!((got.len(), got[0].failure.at_ms, total), (1, 108, 3));
        assert_eq!(
            store
                .log_excerpts("p", 0, 1_000, Some(&[]), 5, 100)
                .await
                .unwrap()
                .1,
            0
        );
    }

    #[tokio::test]
    async fn each_profile_keeps_its_newest_rows_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).await.unwrap();
        let first: Vec<_> = (0..8).map(|t| l("p", 1, t, "gateway", t == 2)).collect();
        assert_eq!(store.insert_log_excerpt_lines(&first, 10).await.unwrap(), 0);
        store
            .insert_log_excerpt_lines(&[l("q", 9, 0, "gateway", true)], 10)
            .await
            .unwrap();
        let more: Vec<_> = (8..14).map(|t| l("p", 2, t, "gateway", t == 12)).collect();
        // 14 rows of p with a cap of 10: the 4 oldest go (the failure at 2 with them).
        assert_eq!(store.insert_log_excerpt_lines(&more, 10).await.unwrap(), 4);
        assert_eq!(store.log_excerpt_rows("p").await.unwrap(), 10);
        assert_eq!(
            store.log_excerpt_rows("q").await.unwrap(),
            1,
            "other profiles keep theirs"
        );
        let (got, total) = store.log_excerpts("p", 0, 100, None, 5, 100).await.unwrap();
        assert_eq!(total, 1);
        assert_eq!(got[0].failure.at_ms, 12);
        assert_eq!(ats(&got[0].before), [8, 9, 10, 11]);
        assert_eq!(ats(&got[0].after), [13]);
        let (_, total) = store.log_excerpts("p", 0, 8, None, 5, 100).await.unwrap();
        assert_eq!(total, 0, "the pruned failure is gone");
    }

    #[tokio::test]
    async fn the_window_query_and_the_prune_use_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).await.unwrap();
        let plan = |sql: String, binds: Vec<serde_json::Value>| {
            let pool = store.pool.clone();
            async move {
                let sql = format!("EXPLAIN QUERY PLAN {sql}");
                let mut q = sqlx::query(&sql);
                for b in binds {
                    q = match b {
                        serde_json::Value::Number(n) => q.bind(n.as_i64().unwrap()),
                        other => q.bind(other.as_str().unwrap().to_owned()),
                    };
                }
                q.fetch_all(&pool)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<String, _>(3))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        };
        use serde_json::json;
        let services = ["a".to_owned(), "b".to_owned()];
        let window = plan(
            format!(
                "SELECT {COLUMNS} {} ORDER BY at_ms, id LIMIT ?",
                failures_filter(Some(&services))
            ),
            vec![
                json!("p"),
                json!(0),
                json!(10),
                json!("a"),
                json!("b"),
                json!(5),
            ],
        )
        .await;
        assert!(
            window.contains("USING INDEX log_excerpts_failures"),
            "{window}"
        );
        let around = plan(around_sql(), vec![json!("[1,2]"), json!("p")]).await;
        assert!(
            around.contains("USING INDEX log_excerpts_by_excerpt"),
            "{around}"
        );
        let prune = plan(PRUNE_SQL.to_owned(), vec![json!("p"), json!(20_000)]).await;
        assert!(prune.contains("log_excerpts_by_profile"), "{prune}");
        assert!(!prune.contains("SCAN log_excerpts"), "{prune}");
    }
}
