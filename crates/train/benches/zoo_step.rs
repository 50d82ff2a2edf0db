//! Training throughput of every network QNN Lab has, through the same training loop, on
//! Frappe-shaped synthetic data (ten categorical fields with Frappe's vocabulary sizes): QNN in
//! the paper's Frappe configuration beside the model zoo's networks with the hyper-parameters of
//! FuxiCTR 2.0.1's `<Model>_default` sections (baselines spec §8.2).
//!
//! `cargo bench -p qnn-train --bench zoo_step -- [--batch N] [--steps N] [--models A,B]`
//! (default batch 4096, the paper's Frappe batch; FuxiCTR's model-zoo defaults use 10000).

use std::time::Instant;

// The allocator `qnn` runs with, so that the figures are the CLI's.
use qnn_alloc as _;

use burn::tensor::Device;
use qnn_data::synthetic::SyntheticSpec;
use qnn_model::{QnnConfig, Regularizer};
use qnn_train::{TrainConfig, Trainer};
use qnn_zoo::{DcnStructure, DcnV2Config, FinalMlpConfig, NetworkConfig, Tower, ZooConfig};

fn arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

fn tower(units: &[usize]) -> Tower {
    Tower::new(units.to_vec())
}

/// The networks and their settings: QNN as the paper trains it on Frappe, the zoo as FuxiCTR's
/// `<Model>_default` sections set it.
fn networks() -> Vec<(&'static str, NetworkConfig)> {
    vec![
        ("QNN", QnnConfig::paper_frappe().into()),
        ("LR", ZooConfig::LR.into()),
        ("FM", ZooConfig::FM { embedding_dim: 10 }.into()),
        (
            "DNN",
            ZooConfig::DNN {
                embedding_dim: 40,
                dnn: tower(&[500, 500, 500]),
            }
            .into(),
        ),
        (
            "DeepFM",
            ZooConfig::DeepFM {
                embedding_dim: 40,
                dnn: tower(&[300, 300, 300]),
            }
            .into(),
        ),
        (
            "DCNv2",
            ZooConfig::DCNv2(DcnV2Config {
                embedding_dim: 40,
                model_structure: DcnStructure::Parallel,
                num_cross_layers: 3,
                stacked_dnn: tower(&[500, 500, 500]),
                parallel_dnn: tower(&[500, 500, 500]),
            })
            .into(),
        ),
        (
            "FinalMLP",
            ZooConfig::FinalMLP(FinalMlpConfig {
                embedding_dim: 16,
                mlp1: tower(&[1024, 512]),
                mlp2: tower(&[1024, 512, 256]),
                use_fs: true,
                fs_hidden_units: vec![1024, 512],
                fs1_context: vec![],
                fs2_context: vec![],
                num_heads: 2,
            })
            .into(),
        ),
        (
            "DualMLP",
            ZooConfig::DualMLP {
                embedding_dim: 16,
                mlp1: tower(&[64, 32]),
                mlp2: tower(&[64, 64, 64]),
            }
            .into(),
        ),
    ]
}

fn main() {
    let steps: usize = arg("--steps").and_then(|s| s.parse().ok()).unwrap_or(5);
    let batch: usize = arg("--batch").and_then(|s| s.parse().ok()).unwrap_or(4096);
    let chosen: Option<Vec<String>> =
        arg("--models").map(|m| m.split(',').map(str::to_owned).collect());
    let (map, data) = SyntheticSpec::frappe_shaped(batch * (steps + 2), 1).generate();
    let device = Device::flex().autodiff();
    println!("## Training steps of every network, Frappe-shaped data, CPU\n");
    println!(
        "threads: {}; batch {batch}; {steps} timed steps after 1 warm-up",
        rayon::current_num_threads()
    );
    if cfg!(target_os = "linux") {
        println!("allocator: jemalloc ({})", qnn_alloc::MALLOC_CONF);
    }
    println!("\n| network | parameters | seconds per step | training samples/s | vs QNN |");
    println!("|---|---:|---:|---:|---:|");
    let mut qnn_rate = None;
    for (name, network) in networks() {
        if chosen
            .as_ref()
            .is_some_and(|c| !c.iter().any(|m| m == name))
        {
            continue;
        }
        let train = TrainConfig {
            epochs: 1,
            batch_size: batch,
            learning_rate: 1e-3,
            loss_read_interval: steps + 2,
            embedding_regularizer: Regularizer::l2(0.1),
            ..TrainConfig::paper_frappe()
        };
        let valid = data.slice(0, batch);
        let mut trainer = Trainer::new(network, train, &map, data.clone(), valid, device.clone())
            .expect("trainer");
        let parameters = trainer.model().num_parameters();
        pollster::block_on(trainer.step()).expect("warm-up step");
        device.sync().expect("device sync");
        let start = Instant::now();
        for _ in 0..steps {
            pollster::block_on(trainer.step()).expect("step");
        }
        device.sync().expect("device sync");
        let step_secs = start.elapsed().as_secs_f64() / steps as f64;
        let rate = batch as f64 / step_secs;
        let qnn = *qnn_rate.get_or_insert(rate);
        println!(
            "| {name} | {parameters} | {step_secs:.4} | {rate:.0} | {:.2}× |",
            rate / qnn
        );
    }
}
