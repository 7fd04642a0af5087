//! The machine's memory bandwidth, for the peer comparison's "how far from the limit" column:
//! a streaming copy of a 1 GiB `f64` buffer (counted as bytes read plus bytes written, the same
//! way the junction tree's traffic is counted) and a streaming sum (bytes read), one thread,
//! median of several passes. Prints one JSON object.
//!
//! Far larger than any cache, so this is DRAM bandwidth as one core sees it. A clique-table pass
//! (`Projection::multiply`, `sum_into`) is a streaming walk of the same kind, which makes these
//! the right yardsticks; `memcpy` may use non-temporal stores that a read-modify-write pass
//! cannot, so the copy figure is the optimistic one.
//!
//! Run: `cargo bench --bench bandwidth` (or `-- --mib 256` for a smaller buffer).

use serde_json::json;
use std::time::Instant;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mib: usize = args
        .iter()
        .position(|a| a == "--mib")
        .map_or(1024, |i| args[i + 1].parse().expect("--mib N"));
    let n = mib * 1024 * 1024 / 8;
    // Filled with non-zero values so that every page is really mapped before timing.
    let source: Vec<f64> = (0..n).map(|i| (i % 1000) as f64 + 0.5).collect();
    let mut target = vec![1.0f64; n];
    let bytes = (n * 8) as f64;
    let passes = 7;

    let copy = median(
        (0..passes)
            .map(|_| {
                let start = Instant::now();
                target.copy_from_slice(&source);
                std::hint::black_box(&mut target);
                2.0 * bytes / start.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let read = median(
        (0..passes)
            .map(|_| {
                let start = Instant::now();
                // Four accumulators so that the adds do not serialise on one dependency chain.
                let mut acc = [0.0f64; 4];
                for chunk in source.chunks_exact(4) {
                    for (a, v) in acc.iter_mut().zip(chunk) {
                        *a += v;
                    }
                }
                std::hint::black_box(acc);
                bytes / start.elapsed().as_secs_f64()
            })
            .collect(),
    );
    println!(
        "{}",
        json!({"buffer_mib": mib, "copy_bytes_per_s": copy, "read_bytes_per_s": read})
    );
}
