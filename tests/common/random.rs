//! Random small networks and evidence for property tests: cardinalities, parents (earlier
//! positions only, so the graph is acyclic by construction), CPT weights with some zeros, and a
//! shuffled declaration order so that ids do not follow the topological order.

use credence::{Evidence, Network, NetworkBuilder, VarId};
use proptest::prelude::*;

/// A random network description.
#[derive(Clone, Debug)]
pub struct Spec {
    pub cards: Vec<usize>,
    pub parents: Vec<Vec<usize>>,
    pub weights: Vec<Vec<f64>>,
    pub declaration: Vec<usize>,
}

/// Networks of 1 to `max_variables` variables with 1 to `max_states` states and at most three
/// parents each.
pub fn spec(max_variables: usize, max_states: usize) -> impl Strategy<Value = Spec> {
    (1usize..=max_variables)
        .prop_flat_map(move |n| {
            (
                proptest::collection::vec(1usize..=max_states, n),
                proptest::collection::vec(proptest::collection::vec(any::<bool>(), n), n),
                Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
            )
        })
        .prop_flat_map(|(cards, parent_bits, declaration)| {
            let n = cards.len();
            let parents: Vec<Vec<usize>> = (0..n)
                .map(|i| (0..i).filter(|&j| parent_bits[i][j]).take(3).collect())
                .collect();
            let sizes: Vec<usize> = (0..n)
                .map(|i| parents[i].iter().map(|&p| cards[p]).product::<usize>() * cards[i])
                .collect();
            let weights = sizes
                .iter()
                .map(|&size| {
                    proptest::collection::vec(prop_oneof![1 => Just(0.0), 6 => 0.01f64..1.0], size)
                })
                .collect::<Vec<_>>();
            (Just(cards), Just(parents), weights, Just(declaration))
        })
        .prop_map(|(cards, parents, weights, declaration)| Spec {
            cards,
            parents,
            weights,
            declaration,
        })
}

/// The network a spec describes; an all-zero column becomes uniform.
pub fn build(spec: &Spec) -> Network {
    let n = spec.cards.len();
    let mut builder = NetworkBuilder::new("random");
    let mut id_of = vec![VarId::new(0); n];
    for &position in &spec.declaration {
        let states: Vec<String> = (0..spec.cards[position]).map(|s| format!("s{s}")).collect();
        id_of[position] = builder
            .add_variable(format!("v{position}"), states)
            .unwrap();
    }
    for position in 0..n {
        let card = spec.cards[position];
        let mut values = spec.weights[position].clone();
        for column in values.chunks_mut(card) {
            let sum: f64 = column.iter().sum();
            if sum == 0.0 {
                column.iter_mut().for_each(|v| *v = 1.0 / card as f64);
            } else {
                column.iter_mut().for_each(|v| *v /= sum);
            }
        }
        let parents = spec.parents[position].iter().map(|&p| id_of[p]).collect();
        builder.set_cpt(id_of[position], parents, values).unwrap();
    }
    builder.build().unwrap()
}

/// Random findings: (variable, hard state, hard?, likelihood), reduced modulo the network.
pub type Picks = Vec<(usize, usize, bool, Vec<f64>)>;

/// Up to three findings on variables below `max_variables`.
pub fn picks(max_variables: usize, max_states: usize) -> impl Strategy<Value = Picks> {
    proptest::collection::vec(
        (
            0usize..max_variables,
            0usize..max_states,
            any::<bool>(),
            proptest::collection::vec(prop_oneof![1 => Just(0.0), 4 => 0.0f64..3.0], 1..4),
        ),
        0..4,
    )
}

/// The evidence for `picks`; findings that conflict or rule everything out are skipped.
pub fn evidence_for(network: &Network, picks: &Picks) -> Evidence {
    let mut evidence = Evidence::new();
    for (var, state, hard, likelihood) in picks {
        let var = VarId::new(var % network.n_variables());
        let card = network.cardinality(var);
        if *hard {
            let _ = evidence.observe(network, var, state % card);
        } else {
            let values: Vec<f64> = (0..card)
                .map(|i| likelihood[i % likelihood.len()])
                .collect();
            let _ = evidence.add_likelihood(network, var, &values);
        }
    }
    evidence
}
