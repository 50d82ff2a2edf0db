//! `task: regression`: the planted-interaction data with a real-valued label, trained through
//! the same loop with `mse_loss` and the identity output. Only a network that models the
//! planted pair can get below the label's variance.

mod common;

use burn::tensor::Device;
use common::{evaluations, quick, small_model, splits, train_on};
use qnn_data::{EncodedDataset, FeatureMap, Metric, Task};
use qnn_model::Loss;
use qnn_train::{Monitor, MonitorMode, TrainConfig, TrainError, Trainer, predict};
use qnn_zoo::{NetworkConfig, ZooConfig};

/// y = 2·click + 1: a rating-like label whose best predictor has MSE 4·0.9·0.1 = 0.36 and
/// whose variance (the MSE of any model that misses the pair) is 1.
fn regression(map: &FeatureMap, data: &EncodedDataset) -> (FeatureMap, EncodedDataset) {
    let map = FeatureMap {
        task: Task::Regression,
        ..map.clone()
    };
    let labels: Vec<f32> = data.labels().iter().map(|y| 2.0 * y + 1.0).collect();
    let data = EncodedDataset::new(&map, data.columns().to_vec(), labels).unwrap();
    (map, data)
}

fn config(self_ensemble: bool) -> TrainConfig {
    TrainConfig {
        self_ensemble,
        loss: Loss::MseLoss,
        metrics: vec![Metric::Mse, Metric::Mae],
        monitor: Monitor::metric(Metric::Mse),
        monitor_mode: MonitorMode::Min,
        ..quick(8)
    }
}

/// The best validation MSE, and the trained model's predictions on the validation rows.
fn train(network: impl Into<NetworkConfig>, config: TrainConfig) -> (f64, Vec<f32>) {
    let (map, train, valid) = splits(6000);
    let (map, train) = regression(&map, &train);
    let (_, valid) = regression(&map, &valid);
    let (events, trained) = train_on(network, config, &map, train, valid.clone());
    let best = evaluations(&events)
        .iter()
        .map(|(_, m, _)| m.iter().find(|(k, _)| *k == Metric::Mse).unwrap().1)
        .fold(f64::INFINITY, f64::min);
    let predictions = pollster::block_on(predict(
        &trained.model,
        &trained.layout,
        &valid,
        512,
        &Device::flex(),
    ))
    .unwrap();
    (best, predictions)
}

#[test]
fn qnn_learns_a_real_valued_label_with_and_without_the_self_ensemble_loss() {
    for self_ensemble in [true, false] {
        let (mse, predictions) = train(small_model(), config(self_ensemble));
        assert!(
            mse < 0.5,
            "self_ensemble {self_ensemble}: valid MSE {mse} (best possible 0.36, variance 1)"
        );
        // The identity output: predictions around 1 and 3, not probabilities.
        let above_one = predictions.iter().filter(|&&p| p > 1.5).count();
        assert!(
            above_one > predictions.len() / 4,
            "{above_one} of {} predictions above 1.5",
            predictions.len()
        );
    }
}

#[test]
fn deepfm_finds_the_pair_and_lr_cannot() {
    let deepfm = ZooConfig::DeepFM {
        embedding_dim: 8,
        dnn: qnn_zoo::Tower::new(vec![32, 16]),
    };
    let (mse, _) = train(deepfm, config(false));
    assert!(mse < 0.5, "DeepFM: valid MSE {mse}");
    let (mse, _) = train(ZooConfig::LR, config(false));
    assert!(mse > 0.9, "LR has no interaction term, yet valid MSE {mse}");
}

#[test]
fn a_regression_run_refuses_cross_entropy_and_classification_metrics() {
    let (map, train, valid) = splits(200);
    let (map, train) = regression(&map, &train);
    let (_, valid) = regression(&map, &valid);
    let start = |config: TrainConfig| {
        Trainer::new(
            small_model(),
            config,
            &map,
            train.clone(),
            valid.clone(),
            Device::flex().autodiff(),
        )
        .err()
        .map(|e| match e {
            TrainError::Config { key, .. } => key.to_string(),
            other => other.to_string(),
        })
    };
    assert_eq!(start(config(true)), None);
    let bce = TrainConfig {
        loss: Loss::BinaryCrossentropy,
        ..config(true)
    };
    assert_eq!(start(bce).as_deref(), Some("loss"));
    let auc = TrainConfig {
        metrics: vec![Metric::Auc],
        ..config(true)
    };
    assert_eq!(start(auc).as_deref(), Some("metrics"));
    // A binary map refuses the real-valued labels before anything trains.
    let err = EncodedDataset::new(
        &FeatureMap {
            task: Task::BinaryClassification,
            ..map.clone()
        },
        train.columns().to_vec(),
        train.labels().to_vec(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not 0 or 1"), "{err}");
}

/// FuxiCTR starts every bias at 0; a regression starts at the training labels' mean instead
/// (without it the test above stays at MSE 1.0 for labels 1 and 3), for QNN and the zoo.
#[test]
fn a_fresh_regression_network_predicts_the_training_label_mean() {
    let (map, train, valid) = splits(2000);
    let (map, train) = regression(&map, &train);
    let (_, valid) = regression(&map, &valid);
    let label_mean = train.labels().iter().map(|&y| f64::from(y)).sum::<f64>() / train.len() as f64;
    let networks: Vec<NetworkConfig> = vec![
        small_model().into(),
        ZooConfig::LR.into(),
        ZooConfig::DNN {
            embedding_dim: 4,
            dnn: qnn_zoo::Tower::new(vec![8]),
        }
        .into(),
    ];
    for network in networks {
        let trainer = Trainer::new(
            network.clone(),
            config(true),
            &map,
            train.clone(),
            valid.clone(),
            Device::flex().autodiff(),
        )
        .unwrap();
        let p = pollster::block_on(predict(
            trainer.model(),
            trainer.layout(),
            &valid,
            512,
            &Device::flex(),
        ))
        .unwrap();
        for v in p {
            assert!(
                (f64::from(v) - label_mean).abs() < 0.05,
                "{network:?}: {v} vs the mean {label_mean}"
            );
        }
    }
}
