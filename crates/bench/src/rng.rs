//! A tiny deterministic PRNG (SplitMix64): the same seed gives the same dataset and the same
//! check mix on every machine, without pulling in `rand`.

/// SplitMix64 (Steele, Lea, Flood 2014): one `u64` of state, good enough statistics for
/// picking entities, and trivially reproducible.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// A generator for a sub-stream, so that adding draws in one phase does not shift
    /// another phase's draws.
    pub fn fork(&self, stream: u64) -> Rng {
        let mut r = Rng::new(self.state ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is `0`), by Lemire's multiply-shift.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    /// A uniformly chosen element, `None` for an empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() { None } else { items.get(self.below(items.len())) }
    }

    /// An index chosen with the given weights (`weights` must not sum to zero).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(total as usize) as u32;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Splits `total` into `n` counts, each at least `min`, spread uniformly around the mean
    /// (±50 %), summing to exactly `total` (when `total >= n * min`).
    pub fn spread(&mut self, total: usize, n: usize, min: usize) -> Vec<usize> {
        if n == 0 {
            return Vec::new();
        }
        let mean = total / n;
        let mut counts: Vec<usize> =
            (0..n).map(|_| self.between(mean / 2, mean + mean / 2).max(min)).collect();
        let mut sum: usize = counts.iter().sum();
        while sum < total {
            let i = self.below(n);
            counts[i] += 1;
            sum += 1;
        }
        let mut guard = 0usize;
        while sum > total && guard < 64 * total + 1024 {
            let i = self.below(n);
            if counts[i] > min {
                counts[i] -= 1;
                sum -= 1;
            }
            guard += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn same_seed_same_stream_and_spread_sums_exactly() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(
            (0..10).map(|_| a.next_u64()).collect::<Vec<_>>(),
            (0..10).map(|_| b.next_u64()).collect::<Vec<_>>()
        );
        let counts = a.spread(1_000, 37, 1);
        assert_eq!(counts.iter().sum::<usize>(), 1_000);
        assert!(counts.iter().all(|c| *c >= 1));
        assert!((0..1000).all(|_| a.below(10) < 10));
    }
}
