//! The README's library example: train on synthetic data, save a model file.
//! `cargo run --release -p qnn-train --example quickstart -- /tmp/model.qnn`

use burn::tensor::Device;
use qnn_data::synthetic::SyntheticSpec;
use qnn_model::{ModelFile, QnnConfig};
use qnn_train::{TrainConfig, Trainer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "model.qnn".into());
    let (feature_map, data) = SyntheticSpec::planted(20_000, 1).generate();
    let (train, valid) = (data.slice(0, 16_000), data.slice(16_000, 20_000));
    let mut trainer = Trainer::new(
        QnnConfig::paper_frappe(),
        TrainConfig {
            batch_size: 1024,
            ..TrainConfig::paper_frappe()
        },
        &feature_map,
        train,
        valid,
        Device::flex().autodiff(),
    )?;
    while !trainer.is_finished() {
        for event in pollster::block_on(trainer.step())? {
            println!("{event:?}");
        }
    }
    let trained = pollster::block_on(trainer.finish())?;
    ModelFile {
        config: QnnConfig::paper_frappe(),
        feature_map,
        weights: trained.weights,
        info: Default::default(),
    }
    .save(out.as_ref())?;
    println!("saved {out}");
    Ok(())
}
