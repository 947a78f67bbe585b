//! The timing loop of the benchmarks, shared by `benches/evaluate.rs` and
//! `e2e-tests/benches/wasm.rs` (included with `#[path]`): one warm-up call, then `batches`
//! batches of `batch_time` each; prints the median time per call.

use std::time::{Duration, Instant};

pub fn report_median(name: &str, batches: usize, batch_time: Duration, mut run: impl FnMut()) {
    run();
    let mut per_call: Vec<f64> = (0..batches)
        .map(|_| {
            let (start, mut calls) = (Instant::now(), 0u32);
            while start.elapsed() < batch_time {
                run();
                calls += 1;
            }
            start.elapsed().as_secs_f64() / f64::from(calls)
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    println!(
        "{name:<40} {:>10.2} µs/evaluation (median of {batches})",
        per_call[batches / 2] * 1e6
    );
}
