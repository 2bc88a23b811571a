//! Log excerpts for the incident timeline: while any tail runs (a logs session — the Logs area,
//! a runbook's `logs` step — or a staged rollout's gate), each worker's recent invocations are
//! kept in a small ring; a failure (an outcome other than `ok`, an exception, an HTTP status of
//! 500 or more, or a `console.error` line) is stored with up to [`AROUND`] invocations before it
//! and the next [`AROUND`] after it.
//!
//! The live stream is never slowed: [`ExcerptCapture::observe`] only updates the ring under a
//! short lock and hands the lines to keep to a bounded queue; a writer task formats, redacts
//! (the profile's keys, bearer tokens, `key=…` values, random-looking strings) and writes them in
//! batches. When the queue is full the lines are dropped and counted, and the writer says how
//! many in the app's log.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use switchyard_store::{NewLogExcerptLine, Store, LOG_EXCERPT_ROWS_PER_PROFILE};
use tokio::sync::mpsc;

use super::LogLine;
use crate::runbooks::redact;

/// Invocations kept before a failure, and after it.
pub const AROUND: usize = 5;
/// Lines waiting for the writer; more are dropped (and counted).
const QUEUE: usize = 2_048;
/// Lines the writer writes in one transaction.
const BATCH: usize = 256;
/// Workers whose rings are kept; past it, the least recently seen is forgotten.
const MAX_RINGS: usize = 256;
/// Invocations remembered per worker to recognise one seen by two tails at once.
const SEEN: usize = 256;
/// The longest text kept of one invocation (bytes).
const TEXT_MAX: usize = 4_096;

/// Whether an invocation is a failure worth an excerpt.
pub(crate) fn is_failure(line: &LogLine) -> bool {
    line.outcome != "ok"
        || !line.exceptions.is_empty()
        || line.status.is_some_and(|s| s >= 500)
        || line.logs.iter().any(|l| l.level == "error")
}

/// A line on its way to the writer.
struct Pending {
    profile_id: Arc<str>,
    secrets: Arc<[String]>,
    excerpt_id: i64,
    failure: bool,
    line: LogLine,
}

/// The excerpt being written for one worker.
struct Open {
    excerpt_id: i64,
    /// Invocations still to keep after the last failure.
    after_left: usize,
}

/// One worker's recent invocations (of one profile).
#[derive(Default)]
struct Ring {
    /// Invocations not stored, newest last, at most [`AROUND`].
    recent: VecDeque<LogLine>,
    /// Whether `recent` holds every invocation since the last stored one (none was pushed out):
    /// a failure then continues the same excerpt.
    contiguous: bool,
    open: Option<Open>,
    seen: VecDeque<u64>,
    seen_set: HashSet<u64>,
    /// When it was last used (a counter), to forget the least recently seen worker.
    used: u64,
}

impl Ring {
    /// Whether this invocation was seen already (another tail of the same worker); remembers it.
    fn seen_before(&mut self, fingerprint: u64) -> bool {
        if !self.seen_set.insert(fingerprint) {
            return true;
        }
        self.seen.push_back(fingerprint);
        if self.seen.len() > SEEN {
            if let Some(old) = self.seen.pop_front() {
                self.seen_set.remove(&old);
            }
        }
        false
    }
}

/// Each worker's ring, by (profile, worker), and a counter of observations (for `Ring::used`).
type Rings = (HashMap<(Arc<str>, String), Ring>, u64);

/// The rings and the writer's queue, shared by every tail of the app.
#[derive(Default)]
pub(crate) struct Excerpts {
    rings: Mutex<Rings>,
    queue: OnceLock<mpsc::Sender<Pending>>,
    dropped: Arc<AtomicU64>,
    next: AtomicU32,
}

/// What one tail needs to record excerpts: the profile, its keys to redact, the shared rings.
#[derive(Clone)]
pub(crate) struct ExcerptCapture {
    excerpts: Arc<Excerpts>,
    profile_id: Arc<str>,
    secrets: Arc<[String]>,
    queue: mpsc::Sender<Pending>,
}

fn fingerprint(line: &LogLine) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    line.timestamp_ms.to_bits().hash(&mut h);
    line.script.hash(&mut h);
    line.method.hash(&mut h);
    line.url.hash(&mut h);
    line.status.hash(&mut h);
    line.outcome.hash(&mut h);
    line.logs.len().hash(&mut h);
    line.exceptions.len().hash(&mut h);
    if let Some(l) = line.logs.first() {
        l.text.hash(&mut h);
    }
    h.finish()
}

impl Excerpts {
    /// A capture for tails of `profile_id`; starts the writer on first use.
    pub(crate) fn capture(
        self: &Arc<Self>,
        store: &Store,
        profile_id: &str,
        secrets: Vec<String>,
    ) -> ExcerptCapture {
        let queue = self
            .queue
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel(QUEUE);
                tokio::spawn(write(store.clone(), rx, self.dropped.clone()));
                tx
            })
            .clone();
        ExcerptCapture {
            excerpts: self.clone(),
            profile_id: Arc::from(profile_id),
            secrets: secrets.into(),
            queue,
        }
    }

    /// Lines dropped so far because the writer fell behind.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn new_excerpt_id(&self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let n = self.next.fetch_add(1, Ordering::Relaxed) % 1_000;
        now * 1_000 + i64::from(n)
    }
}

impl ExcerptCapture {
    /// Look at one invocation as it arrives: remember it, and queue what an excerpt keeps.
    /// Never waits (a short lock, no I/O).
    pub(crate) fn observe(&self, line: &LogLine) {
        let failure = is_failure(line);
        let mut keep: Vec<(i64, bool, LogLine)> = Vec::new();
        {
            let Ok(mut guard) = self.excerpts.rings.lock() else {
                return;
            };
            let (rings, clock) = &mut *guard;
            *clock += 1;
            let used = *clock;
            let key = (self.profile_id.clone(), line.script.clone());
            if !rings.contains_key(&key) && rings.len() >= MAX_RINGS {
                if let Some(oldest) = rings
                    .iter()
                    .min_by_key(|(_, r)| r.used)
                    .map(|(k, _)| k.clone())
                {
                    rings.remove(&oldest);
                }
            }
            let ring = rings.entry(key).or_default();
            ring.used = used;
            if ring.seen_before(fingerprint(line)) {
                return;
            }
            if failure {
                let excerpt_id = match &ring.open {
                    Some(o) if o.after_left > 0 || ring.contiguous => o.excerpt_id,
                    _ => self.excerpts.new_excerpt_id(),
                };
                keep.extend(ring.recent.drain(..).map(|l| (excerpt_id, false, l)));
                keep.push((excerpt_id, true, line.clone()));
                ring.open = Some(Open {
                    excerpt_id,
                    after_left: AROUND,
                });
                ring.contiguous = true;
            } else if let Some(o) = ring.open.as_mut().filter(|o| o.after_left > 0) {
                o.after_left -= 1;
                keep.push((o.excerpt_id, false, line.clone()));
            } else {
                ring.recent.push_back(line.clone());
                if ring.recent.len() > AROUND {
                    ring.recent.pop_front();
                    ring.contiguous = false;
                }
            }
        }
        for (excerpt_id, failure, line) in keep {
            let pending = Pending {
                profile_id: self.profile_id.clone(),
                secrets: self.secrets.clone(),
                excerpt_id,
                failure,
                line,
            };
            if self.queue.try_send(pending).is_err() {
                self.excerpts.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// `s` cut to at most `max` bytes (on a character boundary), marked when cut.
fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let at = (0..=max)
            .rev()
            .find(|i| s.is_char_boundary(*i))
            .unwrap_or(0);
        s.truncate(at);
        s.push('…');
    }
    s
}

/// One line: the worker, the request, and what went wrong.
fn summary(line: &LogLine) -> String {
    let mut out = format!(
        "{} {} {} → {} ({})",
        line.script,
        line.method.as_deref().unwrap_or("-"),
        line.url.as_deref().unwrap_or("-"),
        line.status.map_or("-".to_owned(), |s| s.to_string()),
        line.outcome
    );
    if let Some(x) = line.exceptions.first() {
        out.push_str(&format!(": {}: {}", x.name, x.message));
    } else if let Some(l) = line.logs.iter().find(|l| l.level == "error") {
        out.push_str(&format!(": [error] {}", l.text));
    }
    cut(out.split_whitespace().collect::<Vec<_>>().join(" "), 500)
}

/// The invocation as text without its leading time (kept in its own column, shown on each
/// reader's clock).
fn text_without_time(l: &LogLine) -> String {
    let text = l.to_text();
    let text = text.trim_end();
    text.split_once(' ')
        .map_or(text, |(_, rest)| rest)
        .to_owned()
}

fn row(p: Pending) -> NewLogExcerptLine {
    let r = |s: &str| redact(s, &p.secrets);
    let l = &p.line;
    let at_ms = if l.timestamp_ms > 0.0 {
        l.timestamp_ms as i64
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    };
    NewLogExcerptLine {
        profile_id: p.profile_id.to_string(),
        excerpt_id: p.excerpt_id,
        at_ms,
        service: l.service.clone(),
        script: l.script.clone(),
        outcome: l.outcome.clone(),
        status: l.status,
        method: l.method.clone(),
        url: l.url.as_deref().map(r),
        failure: p.failure,
        summary: r(&summary(l)),
        text: r(&cut(text_without_time(l), TEXT_MAX)),
    }
}

/// Writes queued lines in batches until every capture is gone.
async fn write(store: Store, mut rx: mpsc::Receiver<Pending>, dropped: Arc<AtomicU64>) {
    let mut reported = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let rows: Vec<NewLogExcerptLine> = batch.drain(..).map(row).collect();
        if let Err(e) = store
            .insert_log_excerpt_lines(&rows, LOG_EXCERPT_ROWS_PER_PROFILE)
            .await
        {
            tracing::warn!(error = %e.message, lines = rows.len(), "log excerpts could not be saved");
        }
        let now = dropped.load(Ordering::Relaxed);
        if now > reported {
            tracing::warn!(
                dropped = now - reported,
                total = now,
                "log excerpt lines were dropped: the writer fell behind the tails"
            );
            reported = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LogException;

    fn line(n: u32, failed: bool) -> LogLine {
        LogLine {
            service: "gateway".into(),
            script: "gateway".into(),
            namespace: None,
            outcome: if failed { "exception" } else { "ok" }.into(),
            method: Some("GET".into()),
            url: Some(format!("https://gateway.do/{n}")),
            status: Some(if failed { 500 } else { 200 }),
            timestamp_ms: f64::from(n),
            logs: Vec::new(),
            exceptions: if failed {
                vec![LogException {
                    name: "Error".into(),
                    message: "boom".into(),
                    stack: None,
                }]
            } else {
                Vec::new()
            },
        }
    }

    fn capture(excerpts: &Arc<Excerpts>, tx: mpsc::Sender<Pending>) -> ExcerptCapture {
        ExcerptCapture {
            excerpts: excerpts.clone(),
            profile_id: Arc::from("p"),
            secrets: Vec::new().into(),
            queue: tx,
        }
    }

    fn drain(rx: &mut mpsc::Receiver<Pending>) -> Vec<(i64, u32, bool)> {
        let mut out = Vec::new();
        while let Ok(p) = rx.try_recv() {
            out.push((p.excerpt_id, p.line.timestamp_ms as u32, p.failure));
        }
        out
    }

    #[test]
    fn a_failure_keeps_five_before_and_five_after_and_close_failures_share_an_excerpt() {
        let excerpts = Arc::new(Excerpts::default());
        let (tx, mut rx) = mpsc::channel(100);
        let c = capture(&excerpts, tx);
        for n in 0..10 {
            c.observe(&line(n, false));
        }
        assert!(
            drain(&mut rx).is_empty(),
            "nothing is stored without a failure"
        );
        c.observe(&line(10, true));
        for n in 11..20 {
            c.observe(&line(n, false));
        }
        let got = drain(&mut rx);
        let ats: Vec<u32> = got.iter().map(|g| g.1).collect();
        assert_eq!(ats, (5..16).collect::<Vec<_>>());
        assert_eq!(got.iter().filter(|g| g.2).count(), 1);
        let first = got[0].0;
        assert!(got.iter().all(|g| g.0 == first));
        // 16..19 are in the ring; a failure at 20 continues the same excerpt (nothing between
        // was lost), a later one after more than five quiet lines starts another.
        c.observe(&line(20, true));
        let got = drain(&mut rx);
        assert_eq!(
            got.iter().map(|g| g.1).collect::<Vec<_>>(),
            [16, 17, 18, 19, 20]
        );
        assert!(got.iter().all(|g| g.0 == first));
        for n in 21..40 {
            c.observe(&line(n, false));
        }
        c.observe(&line(40, true));
        let got = drain(&mut rx);
        assert_eq!(
            got.iter().map(|g| g.1).collect::<Vec<_>>(),
            [21, 22, 23, 24, 25, 35, 36, 37, 38, 39, 40]
        );
        assert!(got[5].0 != first && got[5..].iter().all(|g| g.0 == got[5].0));
    }

    #[test]
    fn an_invocation_seen_by_two_tails_is_kept_once_and_a_full_queue_drops_and_counts() {
        let excerpts = Arc::new(Excerpts::default());
        let (tx, mut rx) = mpsc::channel(3);
        let a = capture(&excerpts, tx.clone());
        let b = capture(&excerpts, tx);
        for n in 0..3 {
            a.observe(&line(n, false));
            b.observe(&line(n, false));
        }
        a.observe(&line(3, true));
        b.observe(&line(3, true));
        // Four lines to keep, room for three.
        assert_eq!(drain(&mut rx).len(), 3);
        assert_eq!(excerpts.dropped(), 1);
    }

    #[test]
    fn failures_are_exceptions_bad_outcomes_server_errors_and_error_lines() {
        assert!(!is_failure(&line(1, false)));
        assert!(is_failure(&line(1, true)));
        let mut l = line(1, false);
        l.status = Some(503);
        assert!(is_failure(&l));
        let mut l = line(1, false);
        l.outcome = "exceededCpu".into();
        assert!(is_failure(&l));
        let mut l = line(1, false);
        l.status = Some(404);
        l.logs.push(crate::LogMessage {
            level: "error".into(),
            text: "db down".into(),
            timestamp_ms: 1.0,
        });
        assert!(is_failure(&l));
        assert!(
            summary(&l).ends_with(": [error] db down"),
            "{}",
            summary(&l)
        );
    }
}
