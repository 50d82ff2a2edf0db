//! Helpers shared by the training tests.
#![allow(dead_code)]

use burn::tensor::Device;
use qnn_data::synthetic::SyntheticSpec;
use qnn_data::{EncodedDataset, FeatureMap, Metric};
use qnn_model::InputLayout;
use qnn_model::{QnnConfig, Regularizer};
use qnn_train::{TrainConfig, TrainEvent, TrainedModel, Trainer, evaluate};

pub fn splits(rows: usize) -> (FeatureMap, EncodedDataset, EncodedDataset) {
    let (map, data) = SyntheticSpec::planted(rows, 11).generate();
    let cut = rows * 4 / 5;
    (map, data.slice(0, cut), data.slice(cut, rows))
}

pub fn small_model() -> QnnConfig {
    QnnConfig {
        embedding_dim: 8,
        num_layers: 1,
        num_row: 4,
        num_heads: 1,
        batch_norm: false,
        net_dropout: 0.1,
    }
}

pub fn quick(epochs: usize) -> TrainConfig {
    TrainConfig {
        learning_rate: 1e-2,
        batch_size: 256,
        epochs,
        seed: 7,
        embedding_regularizer: Regularizer::l2(1e-4),
        loss_read_interval: 1,
        ..TrainConfig::paper_frappe()
    }
}

pub fn train(
    model: impl Into<qnn_zoo::NetworkConfig>,
    config: TrainConfig,
    rows: usize,
) -> (Vec<TrainEvent>, TrainedModel, FeatureMap, EncodedDataset) {
    let (map, train, valid) = splits(rows);
    let (events, trained) = train_on(model, config, &map, train, valid.clone());
    (events, trained, map, valid)
}

/// Trains `model` on the given splits to the end: its events and the trained model.
pub fn train_on(
    model: impl Into<qnn_zoo::NetworkConfig>,
    config: TrainConfig,
    map: &FeatureMap,
    train: EncodedDataset,
    valid: EncodedDataset,
) -> (Vec<TrainEvent>, TrainedModel) {
    let mut trainer =
        Trainer::new(model, config, map, train, valid, Device::flex().autodiff()).unwrap();
    let mut events = Vec::new();
    while !trainer.is_finished() {
        events.extend(pollster::block_on(trainer.step()).unwrap());
    }
    (events, pollster::block_on(trainer.finish()).unwrap())
}

/// (epoch, metrics, improved) of each evaluation.
pub type Evaluation = (usize, Vec<(Metric, f64)>, bool);

pub fn evaluations(events: &[TrainEvent]) -> Vec<Evaluation> {
    events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Evaluated {
                epoch,
                metrics,
                improved,
                ..
            } => Some((*epoch, metrics.clone(), *improved)),
            _ => None,
        })
        .collect()
}

/// `metric` of the trained (reloaded) model on `data`, on the plain CPU device.
pub fn metric_of(
    trained: &TrainedModel,
    map: &FeatureMap,
    data: &EncodedDataset,
    metric: Metric,
) -> f64 {
    let layout = InputLayout::new(map).unwrap();
    let metrics = pollster::block_on(evaluate(
        &trained.model,
        &layout,
        data,
        256,
        &[metric],
        &Device::flex(),
    ))
    .unwrap();
    metrics[0].1
}

/// The best validation AUC of a run's evaluations.
pub fn best_auc(events: &[TrainEvent]) -> f64 {
    evaluations(events)
        .iter()
        .map(|(_, m, _)| m.iter().find(|(k, _)| *k == Metric::Auc).unwrap().1)
        .fold(0.0, f64::max)
}

/// The interaction maps of a trained QNN with activation maps on the first `rows` rows of `data`.
pub fn maps_on(
    trained: &TrainedModel,
    map: &FeatureMap,
    data: &EncodedDataset,
    rows: usize,
) -> qnn_model::InteractionMaps {
    let layout = InputLayout::new(map).unwrap();
    let input = qnn_model::ModelInput::new(&data.range(0, rows), &layout, &Device::flex()).unwrap();
    let model = trained.model.as_qnn().expect("a QNN");
    pollster::block_on(qnn_model::interaction_maps(model, Some(&input))).unwrap()
}
