//! The timing harnesses' one loop (`switchyard-store/tests/text_search_timing.rs`,
//! `switchyard-ops/tests/timeline_timing.rs`, both ignored): cases timed interleaved, with their
//! p50 and p99. Included with `#[path]`.

use std::time::Instant;

/// The `p` quantile of `samples` (sorted in place).
pub fn pct(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

/// One timed call.
pub type Run<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

/// Each case 20 times to warm up, then `rounds` times, interleaved (A, B, A, B …: the machine's
/// load drifts); prints the p50 and p99 (ms) of each.
pub async fn interleaved<'a>(rounds: usize, cases: &[(&str, &(dyn Fn() -> Run<'a> + 'a))]) {
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); cases.len()];
    for (_, f) in cases {
        for _ in 0..20 {
            f().await;
        }
    }
    for _ in 0..rounds {
        for (i, (_, f)) in cases.iter().enumerate() {
            let t = Instant::now();
            f().await;
            times[i].push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("{rounds} rounds, load {}", load.trim());
    for ((name, _), t) in cases.iter().zip(times.iter_mut()) {
        eprintln!(
            "  {name:<40} p50 {:6.3} ms  p99 {:6.3} ms",
            pct(t, 0.5),
            pct(t, 0.99)
        );
    }
}
