//! Large generated networks for the tests that need long computations (cancellation, bounded
//! estimates): deterministic, so a failure can be reproduced.

use credence::{Network, NetworkBuilder, VarId};

/// SplitMix64: a small deterministic generator, enough to pick parents and CPT entries.
pub struct Mix(u64);

impl Mix {
    pub fn new(seed: u64) -> Mix {
        Mix(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `[0.05, 1)`: no zeros, so every state stays possible.
    pub fn weight(&mut self) -> f64 {
        0.05 + 0.95 * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` variables of `card` states; variable `i` takes `max_parents` distinct parents among
/// the earlier ones (fewer at the start), the shape of the uploads in issue 18.
pub fn random_dag(n: usize, max_parents: usize, card: usize, seed: u64) -> Network {
    let mut mix = Mix::new(seed);
    let parents: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            let mut chosen: Vec<usize> = Vec::new();
            while chosen.len() < max_parents.min(i) {
                let p = mix.below(i);
                if !chosen.contains(&p) {
                    chosen.push(p);
                }
            }
            chosen
        })
        .collect();
    build(&format!("random{n}"), &vec![card; n], &parents, &mut mix)
}

/// A `width × height` grid of binary variables, each with its left and upper neighbours as
/// parents: treewidth about `width`, so exact inference has many cliques of about
/// `2^(width + 1)` entries.
pub fn grid(width: usize, height: usize, seed: u64) -> Network {
    let mut mix = Mix::new(seed);
    let parents: Vec<Vec<usize>> = (0..width * height)
        .map(|i| {
            let (row, column) = (i / width, i % width);
            let mut p = Vec::new();
            if column > 0 {
                p.push(i - 1);
            }
            if row > 0 {
                p.push(i - width);
            }
            p
        })
        .collect();
    build(
        &format!("grid{width}x{height}"),
        &vec![2; width * height],
        &parents,
        &mut mix,
    )
}

fn build(name: &str, cards: &[usize], parents: &[Vec<usize>], mix: &mut Mix) -> Network {
    let mut builder = NetworkBuilder::new(name);
    let ids: Vec<VarId> = cards
        .iter()
        .enumerate()
        .map(|(i, &card)| {
            builder
                .add_variable(format!("v{i}"), (0..card).map(|s| format!("s{s}")))
                .unwrap()
        })
        .collect();
    for (i, family) in parents.iter().enumerate() {
        let rows: usize = family.iter().map(|&p| cards[p]).product();
        let mut values = Vec::with_capacity(rows * cards[i]);
        for _ in 0..rows {
            let column: Vec<f64> = (0..cards[i]).map(|_| mix.weight()).collect();
            let sum: f64 = column.iter().sum();
            values.extend(column.iter().map(|w| w / sum));
        }
        let family = family.iter().map(|&p| ids[p]).collect();
        builder.set_cpt(ids[i], family, values).unwrap();
    }
    builder.build().unwrap()
}
