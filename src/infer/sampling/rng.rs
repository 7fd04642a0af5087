//! The random streams behind every sampler: xoshiro256++ (Blackman & Vigna, "Scrambled linear
//! pseudorandom number generators", ACM TOMS 2021), seeded through SplitMix64.
//!
//! Why our own few lines rather than a `rand` generator: the output for a seed must never change
//! with a dependency upgrade (`--seed` promises bit-identical answers), and the hot loops want
//! one inlined 64-bit step per draw.

/// One SplitMix64 step: advances `state` and returns a well-mixed 64-bit value.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A xoshiro256++ stream.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
}

/// Stream kinds, so that (seed, index) pairs of different uses never share a stream.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stream {
    /// Sample block `index` of an independent-sample engine.
    Block,
    /// Gibbs chain `index`.
    Chain,
    /// Pilot runs (Gibbs starting states, the automatic engine's choice).
    Pilot,
}

impl Rng {
    /// The stream for `(seed, kind, index)`: a pure function of its arguments, so a block or chain
    /// draws the same numbers whichever thread runs it.
    pub(crate) fn stream(seed: u64, kind: Stream, index: u64) -> Rng {
        let tag = match kind {
            Stream::Block => 0x0B10_C000_0000_0000u64,
            Stream::Chain => 0xC4A1_0000_0000_0000,
            Stream::Pilot => 0x9110_7000_0000_0000,
        };
        let mut state = seed;
        let mixed_seed = splitmix64(&mut state);
        let mut state = mixed_seed ^ tag ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut s = [0u64; 4];
        for word in &mut s {
            *word = splitmix64(&mut state);
        }
        // The all-zero state is xoshiro's one fixed point; SplitMix64 cannot produce four zeros
        // in a row, but the guard costs nothing.
        if s == [0; 4] {
            s[0] = 1;
        }
        Rng { s }
    }

    /// The next 64 random bits.
    #[inline(always)]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[0]
            .wrapping_add(self.s[3])
            .rotate_left(23)
            .wrapping_add(self.s[0]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A uniform draw from `[0, 1)` with 53 random bits.
    #[inline(always)]
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_pure_functions_of_their_arguments() {
        let mut a = Rng::stream(7, Stream::Block, 3);
        let mut b = Rng::stream(7, Stream::Block, 3);
        let mut c = Rng::stream(7, Stream::Block, 4);
        let mut d = Rng::stream(7, Stream::Chain, 3);
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..4).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(xs, (0..4).map(|_| c.next_u64()).collect::<Vec<_>>());
        assert_ne!(xs, (0..4).map(|_| d.next_u64()).collect::<Vec<_>>());
    }

    #[test]
    fn uniforms_are_in_range_and_balanced() {
        let mut rng = Rng::stream(1, Stream::Pilot, 0);
        let n = 100_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let u = rng.uniform();
            assert!((0.0..1.0).contains(&u));
            sum += u;
        }
        // Mean of n uniforms: sd 1/sqrt(12 n) ≈ 0.0009.
        assert!((sum / n as f64 - 0.5).abs() < 0.005);
    }
}
