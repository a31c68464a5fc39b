//! A small, fixed pseudo-random generator, so that the same seed gives the same bytes forever.
//!
//! Floating-point functions beyond `+ - * /` (powers, cosines) go through the pure-Rust `libm`,
//! never the platform's math library, whose last bits differ between systems.
//!
//! We do not use the `rand` crate here on purpose: its algorithms and sampling methods may
//! change between releases, and the generator promises byte-identical output for a seed.

/// xoshiro256** seeded through SplitMix64 (Blackman and Vigna).
#[derive(Debug, Clone)]
pub struct Rng {
    state: [u64; 4],
}

impl Rng {
    /// A generator for `seed`; `stream` derives independent generators from one seed.
    pub fn new(seed: u64, stream: u64) -> Rng {
        // Each stream starts from its own SplitMix64 state, itself mixed from the seed, so
        // that neighbouring streams share no state words.
        let mut mix = splitmix(splitmix(seed) ^ stream);
        let mut next = || {
            mix = mix.wrapping_add(0x9E37_79B9_7F4A_7C15);
            splitmix(mix)
        };
        Rng {
            state: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let [a, b, c, d] = &mut self.state;
        let result = b.wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let shifted = *b << 17;
        *c ^= *a;
        *d ^= *b;
        *b ^= *c;
        *a ^= *d;
        *c ^= shifted;
        *d = d.rotate_left(45);
        result
    }

    /// A uniform number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `[0, bound)`; `bound` must be positive.
    pub fn below(&mut self, bound: u64) -> u64 {
        // Lemire's multiply-shift; the tiny bias is irrelevant for synthetic data.
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// A uniform index into a slice of `len` items; `len` must be positive.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// True with probability `probability`.
    pub fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    /// A uniformly chosen item; `items` must not be empty.
    pub fn pick<'item, T>(&mut self, items: &'item [T]) -> &'item T {
        &items[self.index(items.len())]
    }
}

/// The SplitMix64 output function.
fn splitmix(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}

/// Samples ranks `0..n` with probability proportional to `1 / (rank + 1)^exponent`: few
/// accounts post most, as on every real platform.
#[derive(Debug, Clone)]
pub struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    /// A sampler over `n` ranks (`n` at least 1).
    pub fn new(n: usize, exponent: f64) -> Zipf {
        let mut total = 0.0;
        let cumulative = (0..n.max(1))
            .map(|rank| {
                total += 1.0 / libm::pow((rank + 1) as f64, exponent);
                total
            })
            .collect();
        Zipf { cumulative }
    }

    /// A rank, 0 being the most frequent.
    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative[self.cumulative.len() - 1];
        let target = rng.unit() * total;
        self.cumulative
            .partition_point(|value| *value <= target)
            .min(self.cumulative.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_streams_differ() {
        let first: Vec<u64> = (0..5)
            .map({
                let mut rng = Rng::new(7, 1);
                move |_| rng.next_u64()
            })
            .collect();
        let again: Vec<u64> = (0..5)
            .map({
                let mut rng = Rng::new(7, 1);
                move |_| rng.next_u64()
            })
            .collect();
        let other: Vec<u64> = (0..5)
            .map({
                let mut rng = Rng::new(7, 2);
                move |_| rng.next_u64()
            })
            .collect();
        assert_eq!(first, again);
        assert_ne!(first, other);
    }

    #[test]
    fn zipf_favours_low_ranks() {
        let zipf = Zipf::new(1000, 1.1);
        let mut rng = Rng::new(1, 0);
        let mut counts = vec![0u32; 1000];
        for _ in 0..100_000 {
            counts[zipf.sample(&mut rng)] += 1;
        }
        assert!(counts[0] > counts[9] * 5, "{} vs {}", counts[0], counts[9]);
        assert!(counts[999] > 0 || counts[998] > 0 || counts[997] > 0);
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Rng::new(3, 0);
        assert!((0..10_000).all(|_| rng.below(7) < 7));
        assert!((0..10_000).all(|_| (0.0..1.0).contains(&rng.unit())));
    }
}
