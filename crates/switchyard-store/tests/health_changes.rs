//! The health reads that find what changed without reading every check (migration 0015): the
//! timeline's (`Store::health_changes`: each target's state when a window opens and the samples
//! in it where that state changes) and the health board's (`Store::health_run`: how long a
//! target has been in its state), against every raw sample read the long way — for samples
//! written in any order, partly folded away, or written before the `changed` mark existed.

mod support;

use std::collections::BTreeMap;

use switchyard_store::{HealthRun, HealthSample, HealthState, Store};

const P: &str = "prod";
const T0: i64 = 1_764_000_000_000;
const MINUTE: i64 = 60_000;

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the timeline shows of a target's checks: (target, time, went down, the first check of
/// it known was in the window) for each change, from the state before the window (`before`, a
/// target's last sample) and the samples in it (by target, then time).
fn changes(before: &[HealthSample], inside: &[HealthSample]) -> Vec<(String, i64, bool, bool)> {
    let mut last: BTreeMap<&str, bool> = before
        .iter()
        .map(|s| (s.target.as_str(), s.state == HealthState::Down))
        .collect();
    let mut out = Vec::new();
    for s in inside {
        let down = s.state == HealthState::Down;
        let was = last.insert(s.target.as_str(), down);
        let changed = match was {
            Some(was_down) => was_down != down,
            None => down,
        };
        if changed {
            out.push((s.target.clone(), s.at_ms, down, was.is_none()));
        }
    }
    out
}

/// Every raw sample of `targets`, read one target at a time, oldest first.
async fn every_sample(store: &Store, targets: &[&str]) -> Vec<HealthSample> {
    let mut all = Vec::new();
    for t in targets {
        all.extend(store.health_samples(P, t, 0).await.unwrap());
    }
    all
}

/// For windows across the samples: the changes `health_changes` gives are those every sample
/// gives, read the long way (the state before the window: a target's last sample in the
/// lookback).
async fn changes_match_every_sample(store: &Store, targets: &[&str], rng: &mut Rng) {
    let all = every_sample(store, targets).await;
    let span = all.iter().map(|s| s.at_ms).max().unwrap_or(T0) - T0;
    for _ in 0..40 {
        let from = T0 - 5 * MINUTE + rng.below((span + 10 * MINUTE) as u64) as i64;
        let to = from + 1 + rng.below((span / 2 + 1) as u64) as i64;
        let lookback = from - rng.below((span / 3 + 1) as u64) as i64;
        let mut before: BTreeMap<&str, &HealthSample> = BTreeMap::new();
        for s in all.iter().filter(|s| s.at_ms >= lookback && s.at_ms < from) {
            before.insert(s.target.as_str(), s);
        }
        let before: Vec<HealthSample> = before.into_values().cloned().collect();
        let inside: Vec<HealthSample> = all
            .iter()
            .filter(|s| s.at_ms >= from && s.at_ms < to)
            .cloned()
            .collect();
        let expected = changes(&before, &inside);

        let (got_before, got_inside) = store.health_changes(P, lookback, from, to).await.unwrap();
        assert_eq!(got_before, before, "the state before [{from}, {to})");
        assert_eq!(
            changes(&got_before, &got_inside),
            expected,
            "the changes in [{from}, {to}) (lookback {lookback})"
        );
        assert!(
            got_inside.len() <= expected.len() + targets.len(),
            "only the changes and each target's first sample are read: {} for {} changes",
            got_inside.len(),
            expected.len()
        );
    }
}

/// The states the health board reads as one status (up, up needing a key, down).
const STATUSES: [&[HealthState]; 3] = [
    &[HealthState::Up],
    &[HealthState::UpNeedsKey],
    &[HealthState::Degraded, HealthState::Down],
];

/// For each target, status and a few starts: `health_run` is the run the samples end with,
/// read the long way (from the newest back while the state is in the status).
async fn runs_match_every_sample(store: &Store, targets: &[&str], rng: &mut Rng) {
    let all = every_sample(store, targets).await;
    let newest = all.iter().map(|s| s.at_ms).max().unwrap_or(T0);
    for target in targets {
        for states in STATUSES {
            for since in [
                0,
                T0 + rng.below((newest - T0 + 1) as u64) as i64,
                newest + 1,
            ] {
                let kept: Vec<&HealthSample> = all
                    .iter()
                    .filter(|s| s.target == *target && s.at_ms >= since)
                    .collect();
                let last = kept.last().copied();
                let expected = match last.filter(|l| states.contains(&l.state)) {
                    None => HealthRun {
                        newest: last.cloned(),
                        started_ms: None,
                        after_other: false,
                    },
                    Some(l) => {
                        let run = kept
                            .iter()
                            .rev()
                            .take_while(|s| states.contains(&s.state))
                            .count();
                        HealthRun {
                            newest: Some(l.clone()),
                            started_ms: Some(kept[kept.len() - run].at_ms),
                            after_other: run < kept.len(),
                        }
                    }
                };
                let got = store.health_run(P, target, since, states).await.unwrap();
                assert_eq!(got, expected, "{target} {states:?} since {since}");
            }
        }
    }
}

/// Each target checked every minute for `minutes`, its state changing now and then (mostly up;
/// degraded and up-needs-key count as not down), at times that never repeat for one target.
fn checks(targets: &[&str], minutes: i64, rng: &mut Rng) -> Vec<HealthSample> {
    let mut out = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let mut state = HealthState::Up;
        for m in 0..minutes {
            if rng.below(6) == 0 {
                state = match rng.below(5) {
                    0 | 1 => HealthState::Down,
                    2 => HealthState::Degraded,
                    3 => HealthState::UpNeedsKey,
                    _ => HealthState::Up,
                };
            }
            out.push(HealthSample {
                target: (*t).to_owned(),
                // Targets checked at the same minutes, a few ms apart.
                at_ms: T0 + m * MINUTE + i as i64,
                state,
                http_status: Some(if state == HealthState::Down { 503 } else { 200 }),
                latency_ms: Some(10),
            });
        }
    }
    out
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i as u64 + 1) as usize);
    }
}

#[tokio::test]
async fn a_windows_changes_are_those_of_every_sample_whatever_order_they_were_written_in() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join(switchyard_store::DB_FILE))
        .await
        .unwrap();
    let targets = ["api", "db", "gateway"];
    let mut rng = Rng(0x5eed_0015);

    // In time order, one check of every target at a time, as the health monitor writes them.
    let mut samples = checks(&targets, 120, &mut rng);
    samples.sort_by_key(|s| s.at_ms);
    for batch in samples.chunks(targets.len()) {
        store.insert_health_samples(P, batch).await.unwrap();
    }
    changes_match_every_sample(&store, &targets, &mut rng).await;
    runs_match_every_sample(&store, &targets, &mut rng).await;

    // Then more, out of order: later checks, and checks between those already written (a clock
    // set back, a salvaged file copied in).
    let later: Vec<HealthSample> = checks(&targets, 60, &mut rng)
        .into_iter()
        .map(|s| HealthSample {
            at_ms: s.at_ms + 120 * MINUTE + if s.at_ms % 2 == 0 { 0 } else { -90 * MINUTE } + 7,
            ..s
        })
        .collect();
    let mut later = later;
    shuffle(&mut later, &mut rng);
    for batch in later.chunks(5) {
        store.insert_health_samples(P, batch).await.unwrap();
    }
    changes_match_every_sample(&store, &targets, &mut rng).await;
    runs_match_every_sample(&store, &targets, &mut rng).await;

    // The oldest folded into buckets (their raw samples deleted).
    store
        .compact_health(T0 + 45 * MINUTE, 15 * MINUTE, 0)
        .await
        .unwrap();
    changes_match_every_sample(&store, &targets, &mut rng).await;
    runs_match_every_sample(&store, &targets, &mut rng).await;
}

#[tokio::test]
async fn samples_written_before_the_changes_were_marked_are_marked_at_the_upgrade() {
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(switchyard_store::DB_FILE);
    let mut conn = support::database_at_migration(&path, 14).await;
    let targets = ["api", "db", "gateway"];
    let mut rng = Rng(0x0014_0015);
    let mut samples = checks(&targets, 150, &mut rng);
    shuffle(&mut samples, &mut rng);
    for s in &samples {
        sqlx::query(
            "INSERT INTO health_samples (profile_id, target, at_ms, state, http_status, latency_ms)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(P)
        .bind(&s.target)
        .bind(s.at_ms)
        .bind(s.state.as_str())
        .bind(s.http_status)
        .bind(s.latency_ms)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();

    let store = Store::open(&path).await.unwrap();
    let kept = every_sample(&store, &targets).await;
    assert_eq!(kept.len(), samples.len(), "every sample is kept");
    changes_match_every_sample(&store, &targets, &mut rng).await;
    runs_match_every_sample(&store, &targets, &mut rng).await;
}
