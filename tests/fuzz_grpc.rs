//! Fuzzing the gRPC request path: random and mutated protobuf bytes for each request message
//! go through prost's decoding and then the service's conversions to library types
//! (`credence::service::convert`), which must return a value or an error, never panic.
//!
//! `CREDENCE_FUZZ_CASES=N` runs N cases per message type (default 200); `CREDENCE_FUZZ_SEED=S`
//! picks the random stream (default 0), as in `tests/fuzz.rs`.

use credence::Network;
use credence::service::{convert, pb};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use prost::Message;
use std::path::PathBuf;

fn runner() -> TestRunner {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    TestRunner::new(Config {
        cases: env("CREDENCE_FUZZ_CASES", 200) as u32,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(env("CREDENCE_FUZZ_SEED", 0)),
        ..Config::default()
    })
}

fn asia() -> Network {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("networks/asia.bif");
    credence::io::read_network(&path).unwrap()
}

/// Valid messages to start mutating from: each field set, some to extreme values.
fn seeds() -> Vec<Vec<u8>> {
    let evidence = pb::Evidence {
        hard: [("smoke".to_string(), "yes".to_string())]
            .into_iter()
            .collect(),
        soft: [(
            "dysp".to_string(),
            pb::Likelihood {
                values: vec![1e-320, 1.0],
            },
        )]
        .into_iter()
        .collect(),
    };
    let sampling = pb::SamplingOptions {
        n_samples: u64::MAX,
        seed: 7,
        precision: 0.01,
        max_time: Some(prost_types::Duration {
            seconds: -1,
            nanos: 2_000_000_000,
        }),
        n_chains: 4,
        burn_in: 10,
        thinning: 3,
    };
    vec![
        pb::QueryRequest {
            network: "asia".into(),
            evidence: Some(evidence.clone()),
            targets: vec!["lung".into(), "either".into()],
            engine: 5,
            case_id: "c1".into(),
            timeout: Some(prost_types::Duration {
                seconds: 3,
                nanos: 0,
            }),
            sampling: Some(sampling),
        }
        .encode_to_vec(),
        pb::UpdateEvidenceRequest {
            id: "s000001-abcd".into(),
            changes: vec![
                pb::EvidenceChange {
                    change: Some(pb::evidence_change::Change::SetSoft(pb::SoftFinding {
                        variable: "dysp".into(),
                        values: vec![0.5, f64::MAX],
                    })),
                },
                pb::EvidenceChange {
                    change: Some(pb::evidence_change::Change::Retract("smoke".into())),
                },
            ],
            expected_revision: 3,
            check_revision: true,
            source: "fuzz".into(),
            note: "n".into(),
        }
        .encode_to_vec(),
        pb::GetPosteriorsRequest {
            id: "s1".into(),
            targets: vec!["lung".into()],
            engine: 4,
            sampling: Some(sampling),
            at_revision: true,
            revision: -1,
        }
        .encode_to_vec(),
        pb::UploadNetworkRequest {
            name: "x".into(),
            format: 1,
            content: "network x {}".into(),
            replace: true,
        }
        .encode_to_vec(),
        pb::ListSessionsRequest {
            page_size: -5,
            page_token: "s0".into(),
        }
        .encode_to_vec(),
        pb::WatchRequest {
            id: "s1".into(),
            targets: vec!["lung".into()],
        }
        .encode_to_vec(),
    ]
}

/// Every conversion the service applies to a decoded request of each type.
fn convert_all(bytes: &[u8], network: &Network) {
    if let Ok(query) = pb::QueryRequest::decode(bytes) {
        let _ = convert::engine_kind(query.engine);
        let _ = convert::check_targets(&query.targets);
        let _ = convert::evidence(network, query.evidence.as_ref());
        if let Some(timeout) = &query.timeout {
            let _ = convert::duration(timeout, "timeout");
        }
        if let Ok(config) = convert::sampling_config(
            query.sampling.as_ref(),
            Some(std::time::Duration::from_millis(100)),
        ) {
            // Whatever is accepted is within the bounds, and capped by the deadline.
            use convert::bounds;
            assert!(config.n_samples <= bounds::MAX_SAMPLES, "{config:?}");
            assert!(config.n_chains <= bounds::MAX_CHAINS as usize, "{config:?}");
            assert!(config.burn_in <= bounds::MAX_BURN_IN, "{config:?}");
            assert!(config.thinning <= bounds::MAX_THINNING, "{config:?}");
            assert!(
                config.max_time <= Some(std::time::Duration::from_millis(90)),
                "{config:?}"
            );
            assert!(
                config
                    .precision
                    .is_none_or(|p| (bounds::MIN_PRECISION..1.0).contains(&p))
            );
        }
    }
    if let Ok(update) = pb::UpdateEvidenceRequest::decode(bytes) {
        for change in &update.changes {
            let _ = convert::change(change);
        }
    }
    if let Ok(posteriors) = pb::GetPosteriorsRequest::decode(bytes) {
        let _ = convert::engine_kind(posteriors.engine);
        let _ = convert::check_targets(&posteriors.targets);
        let _ = convert::sampling_config(posteriors.sampling.as_ref(), None);
    }
    if let Ok(list) = pb::ListSessionsRequest::decode(bytes) {
        let _ = convert::page_size(list.page_size);
    }
    if let Ok(watch) = pb::WatchRequest::decode(bytes) {
        let _ = convert::check_targets(&watch.targets);
    }
    let _ = pb::UploadNetworkRequest::decode(bytes);
}

#[derive(Clone, Debug)]
enum Mutation {
    Byte(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let at = |i: usize, bytes: &Vec<u8>| {
            if bytes.is_empty() {
                0
            } else {
                i % (bytes.len() + 1)
            }
        };
        match m {
            Mutation::Byte(i, b) => {
                let i = at(*i, &bytes);
                if i < bytes.len() {
                    bytes[i] = *b;
                }
            }
            Mutation::Delete(i, n) => {
                let i = at(*i, &bytes);
                let end = (i + n).min(bytes.len());
                bytes.drain(i..end);
            }
            Mutation::Insert(i, piece) => {
                let i = at(*i, &bytes);
                bytes.splice(i..i, piece.iter().copied());
            }
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
        (any::<usize>(), 1..16usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..12)
        )
            .prop_map(|(i, piece)| Mutation::Insert(i, piece)),
    ]
}

#[test]
fn mutated_requests_decode_and_convert_without_panicking() {
    let network = asia();
    let seeds = seeds();
    for seed in &seeds {
        convert_all(seed, &network);
    }
    let strategy = (0..seeds.len(), proptest::collection::vec(mutation(), 1..8));
    runner()
        .run(&strategy, |(which, mutations)| {
            convert_all(&mutate(seeds[which].clone(), &mutations), &network);
            Ok(())
        })
        .unwrap();
}

#[test]
fn random_bytes_decode_and_convert_without_panicking() {
    let network = asia();
    runner()
        .run(&proptest::collection::vec(any::<u8>(), 0..512), |bytes| {
            convert_all(&bytes, &network);
            Ok(())
        })
        .unwrap();
}
