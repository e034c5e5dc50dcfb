//! Latency percentiles for the benchmark binaries (nearest-rank, microseconds).

/// The nearest-rank percentile `p` of `sorted` (non-empty, ascending).
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What a benchmark row reports.
pub struct Stats {
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
    pub n: usize,
}

/// Sorts the samples and takes their percentiles.
pub fn stats(mut samples: Vec<u64>) -> Stats {
    samples.sort_unstable();
    Stats {
        p50: percentile(&samples, 50.0),
        p99: percentile(&samples, 99.0),
        max: *samples.last().unwrap(),
        n: samples.len(),
    }
}
