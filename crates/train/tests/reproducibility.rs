//! Same seed, same run, bit for bit, on the CPU backend.

mod common;

use common::{evaluations, quick, small_model, train};
use qnn_train::TrainConfig;

#[test]
fn same_seed_gives_bit_identical_runs() {
    let run = || {
        let (events, trained, _, _) = train(small_model(), quick(2), 2000);
        (evaluations(&events), trained.weights)
    };
    let (evals_a, weights_a) = run();
    let (evals_b, weights_b) = run();
    assert_eq!(evals_a, evals_b);
    assert_eq!(weights_a, weights_b);
    let other_seed = {
        let (events, _, _, _) = train(
            small_model(),
            TrainConfig {
                seed: 8,
                ..quick(2)
            },
            2000,
        );
        evaluations(&events)
    };
    assert_ne!(evals_a, other_seed);
}
