//! A log-linear latency histogram in nanoseconds: exact below 256 ns, then 128 buckets per power
//! of two, so any recorded value is reported within 1/128 (0.8 %) of itself. Fixed size (7,424
//! counters), no allocation per sample, mergeable across connections. Quantiles report the upper
//! edge of the bucket they fall in, so they never understate a latency.

/// Bits of precision below the leading one bit.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Enough buckets for any `u64`.
const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) * SUB as usize;

/// Latency counts; see the module comment for the bucket layout.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            total: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }
}

/// The bucket holding `value`.
fn index(value: u64) -> usize {
    if value < SUB {
        return value as usize;
    }
    let msb = 63 - value.leading_zeros();
    let shift = msb - SUB_BITS;
    let top = value >> shift; // in [SUB, 2 * SUB)
    ((shift as u64 + 1) * SUB + (top - SUB)) as usize
}

/// The largest value that falls in bucket `i`.
fn upper_edge(i: usize) -> u64 {
    let i = i as u64;
    if i < 2 * SUB {
        return i;
    }
    let shift = i / SUB - 1;
    let top = i % SUB + SUB;
    let edge = (u128::from(top + 1) << shift) - 1;
    u64::try_from(edge).unwrap_or(u64::MAX)
}

impl Histogram {
    /// Records one latency of `nanos` nanoseconds.
    pub fn record(&mut self, nanos: u64) {
        if let Some(c) = self.counts.get_mut(index(nanos)) {
            *c += 1;
        }
        self.total += 1;
        self.sum += u128::from(nanos);
        self.min = self.min.min(nanos);
        self.max = self.max.max(nanos);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The smallest recorded value, or 0 when empty.
    pub fn min(&self) -> u64 {
        if self.total == 0 {
            0
        } else {
            self.min
        }
    }

    /// The largest recorded value.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The mean, or 0 when empty.
    pub fn mean(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum as f64 / self.total as f64
        }
    }

    /// The value at quantile `q` (0..=1): the upper edge of the bucket holding the sample of rank
    /// ceil(q * count), capped at the exact maximum. 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return upper_edge(i).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_tight() {
        let mut previous_edge = None;
        for i in 0..BUCKETS {
            let edge = upper_edge(i);
            if let Some(p) = previous_edge {
                assert!(edge > p, "bucket {i} edge {edge} after {p}");
                assert_eq!(index(p + 1), i, "first value of bucket {i}");
            }
            assert_eq!(index(edge), i, "upper edge of bucket {i}");
            previous_edge = Some(edge);
        }
        assert_eq!(index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn relative_error_is_below_one_percent() {
        for v in [1u64, 255, 256, 1_000, 123_456, 9_999_999, 3_000_000_000] {
            let edge = upper_edge(index(v));
            assert!(edge >= v);
            assert!((edge - v) as f64 <= v as f64 / 128.0 + 1.0, "{v} -> {edge}");
        }
    }

    #[test]
    fn quantiles_of_a_uniform_run() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v * 1_000);
        }
        let p50 = h.quantile(0.5) as f64;
        let p99 = h.quantile(0.99) as f64;
        assert!((p50 / 5_000_000.0 - 1.0).abs() < 0.01, "p50 {p50}");
        assert!((p99 / 9_900_000.0 - 1.0).abs() < 0.01, "p99 {p99}");
        assert_eq!(h.quantile(1.0), 10_000_000);
        assert_eq!(h.min(), 1_000);
        assert_eq!(h.count(), 10_000);
    }

    #[test]
    fn merge_adds_counts() {
        let mut a = Histogram::default();
        let mut b = Histogram::default();
        a.record(10);
        b.record(1_000_000);
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.max(), 1_000_000);
        assert_eq!(a.min(), 10);
        assert_eq!(a.quantile(0.5), 10);
    }

    #[test]
    fn empty_histogram_reports_zero() {
        let h = Histogram::default();
        assert_eq!(h.quantile(0.99), 0);
        assert_eq!(h.min(), 0);
        assert_eq!(h.mean(), 0.0);
    }
}
