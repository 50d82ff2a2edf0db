//! Training on the CPU backend gives bit-identical results whatever the number of threads: the
//! fused layer cuts its work into fixed blocks of rows and adds per-block sums in block order,
//! and Burn's CPU kernels and matrix products split their work the same way at any thread count.

mod common;

use common::{quick, splits};
use qnn_model::QnnConfig;
use qnn_train::{TrainConfig, TrainEvent, Trainer};

/// Losses and evaluations of a short run, and its final weights, all as bits.
fn run(threads: usize) -> (Vec<u64>, Vec<(String, Vec<u32>)>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let model = QnnConfig {
            embedding_dim: 16,
            num_layers: 2,
            num_row: 5,
            num_heads: 2,
            batch_norm: true,
            net_dropout: 0.1,
        };
        // Batches of 1,000 rows: many blocks of the fused layer and matrix products large
        // enough for the GEMM to split.
        let config = TrainConfig {
            batch_size: 1000,
            ..quick(2)
        };
        let (map, train, valid) = splits(5000);
        let mut trainer = Trainer::new(
            model,
            config,
            &map,
            train,
            valid,
            burn::tensor::Device::flex().autodiff(),
        )
        .unwrap();
        let mut trace = Vec::new();
        while !trainer.is_finished() {
            for event in pollster::block_on(trainer.step()).unwrap() {
                match event {
                    TrainEvent::Step {
                        loss: Some(loss), ..
                    } => trace.push(loss.to_bits()),
                    TrainEvent::Evaluated { metrics, .. } => {
                        trace.extend(metrics.iter().map(|(_, v)| v.to_bits()))
                    }
                    _ => {}
                }
            }
        }
        let trained = pollster::block_on(trainer.finish()).unwrap();
        let weights = trained
            .weights
            .tensors
            .into_iter()
            .map(|(name, t)| (name, t.values.iter().map(|v| v.to_bits()).collect()))
            .collect();
        (trace, weights)
    })
}

#[test]
fn training_is_bit_identical_on_one_two_and_three_threads() {
    let one = run(1);
    assert!(one.0.len() > 5, "the run recorded losses and metrics");
    for threads in [2, 3] {
        let other = run(threads);
        assert_eq!(one.0, other.0, "losses and metrics, 1 vs {threads} threads");
        for ((name, a), (_, b)) in one.1.iter().zip(&other.1) {
            assert!(a == b, "{name}: weights differ, 1 vs {threads} threads");
        }
    }
}
