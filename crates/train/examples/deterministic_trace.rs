//! Cross-framework check of the training loop: no dropout, no shuffling, so a run is a pure
//! function of the initial weights and the data. Writes the initial weights (PyTorch names and
//! layouts) for `benches/torch_trace.py`, which replays the same run in PyTorch, then prints the
//! train loss and validation metrics of every epoch.
//!
//! `cargo run --release -p qnn-train --example deterministic_trace -- DATA_DIR OUT_DIR [EPOCHS]`
//! where DATA_DIR is a `qnn train` cache (`data/<dataset_id>` with feature_map.json and
//! train/valid.safetensors).

use std::path::PathBuf;

use burn::tensor::Device;
use qnn_data::cache::{read_feature_map_json, split_from_bytes};
use qnn_model::{InputLayout, ModelFile, ParamStore, QnnConfig};
use qnn_train::{TrainConfig, TrainEvent, Trainer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let data = PathBuf::from(&args[1]);
    let out = PathBuf::from(&args[2]);
    let epochs: usize = args.get(3).map_or(Ok(8), |e| e.parse())?;
    let (map, _) = read_feature_map_json(&std::fs::read_to_string(data.join("feature_map.json"))?)?;
    let train = split_from_bytes(&map, &std::fs::read(data.join("train.safetensors"))?)?;
    let valid = split_from_bytes(&map, &std::fs::read(data.join("valid.safetensors"))?)?;
    let model = QnnConfig {
        net_dropout: 0.0,
        ..QnnConfig::paper_frappe()
    };
    let config = TrainConfig {
        shuffle: false,
        epochs,
        early_stop_patience: usize::MAX,
        reduce_lr_on_plateau: false,
        loss_read_interval: 1,
        ..TrainConfig::paper_frappe()
    };
    let layout = InputLayout::new(&map)?;
    std::fs::create_dir_all(&out)?;
    ModelFile {
        config: model.clone(),
        feature_map: map.clone(),
        weights: ParamStore::init(&model, &layout, config.seed),
        info: Default::default(),
    }
    .save(&out.join("init.qnn"))?;
    let mut trainer = Trainer::new(model, config, &map, train, valid, Device::flex().autodiff())?;
    while !trainer.is_finished() {
        for event in pollster::block_on(trainer.step())? {
            if let TrainEvent::Evaluated {
                epoch,
                train_loss,
                metrics,
                ..
            } = event
            {
                let m: Vec<String> = metrics
                    .iter()
                    .map(|(k, v)| format!("{} {v:.6}", k.name()))
                    .collect();
                println!("epoch {epoch} train_loss {train_loss:.6} {}", m.join(" "));
            }
        }
    }
    Ok(())
}
