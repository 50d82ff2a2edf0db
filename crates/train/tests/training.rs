//! The training loop end to end on synthetic data with a planted interaction.

mod common;

use burn::tensor::Device;
use common::{evaluations, maps_on, metric_of, quick, small_model, splits, train};
use qnn_data::Metric;
use qnn_model::{InputLayout, Loss, Mode, ModelInput, ParamRef, Qnn, Task};
use qnn_train::{Monitor, MonitorMode, TrainConfig, TrainEvent, Trainer, clip_grad_norm};

#[test]
fn learns_the_planted_interaction_and_reloads_the_best_checkpoint() {
    let (events, trained, map, valid) = train(small_model(), quick(6), 6000);
    let evals = evaluations(&events);
    assert!(!evals.is_empty());
    let best_auc = evals
        .iter()
        .map(|(_, m, _)| m.iter().find(|(k, _)| *k == Metric::Auc).unwrap().1)
        .fold(0.0, f64::max);
    assert!(
        best_auc > 0.8,
        "validation AUC only reached {best_auc}: {evals:?}"
    );
    assert_eq!(trained.best_monitor, Some(best_auc));
    // The reloaded model is the best checkpoint, not the last weights.
    assert_eq!(metric_of(&trained, &map, &valid, Metric::Auc), best_auc);
    // Training loss is reported at each evaluation and falls.
    let losses: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Evaluated { train_loss, .. } => Some(*train_loss),
            _ => None,
        })
        .collect();
    assert!(losses.last().unwrap() < &losses[0], "{losses:?}");
}

#[test]
fn evaluates_every_eval_steps_and_stops_on_plateau() {
    // Monitoring "max logloss" while training lowers the logloss: the monitor soon stops
    // improving, which must cut the learning rate at each plateau and stop at the second one.
    let config = TrainConfig {
        eval_steps: Some(5),
        monitor: Monitor::metric(Metric::Logloss),
        monitor_mode: MonitorMode::Max,
        ..quick(10)
    };
    let (events, _, _, _) = train(small_model(), config, 4000);
    let steps_at_eval: Vec<usize> = events
        .windows(2)
        .filter_map(|w| match (&w[0], &w[1]) {
            (TrainEvent::Step { global_step, .. }, TrainEvent::Evaluated { .. }) => {
                Some(*global_step)
            }
            _ => None,
        })
        .collect();
    assert!(
        steps_at_eval.iter().all(|s| s % 5 == 0),
        "{steps_at_eval:?}"
    );
    let evals = evaluations(&events);
    let improvements: Vec<bool> = evals.iter().map(|e| e.2).collect();
    assert!(improvements.ends_with(&[false, false]), "{improvements:?}");
    assert!(events.contains(&TrainEvent::EarlyStopped {
        epoch: evals.last().unwrap().0
    }));
    let lrs: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::LearningRateReduced { learning_rate } => Some(*learning_rate),
            _ => None,
        })
        .collect();
    assert!(lrs.len() >= 2);
    assert!(lrs.windows(2).all(|w| w[1] <= w[0]));
    assert!((lrs[0] - 1e-3).abs() < 1e-12, "{lrs:?}");
}

#[test]
fn clipping_scales_the_global_norm() {
    let (map, train, _) = splits(512);
    let layout = InputLayout::new(&map).unwrap();
    let device = Device::flex().autodiff();
    let model = Qnn::init(&small_model(), &layout, 1, &device).unwrap();
    let input = ModelInput::new(&train.range(0, 512), &layout, &device).unwrap();
    let norm_of = |grads: &burn::optim::GradientsParams| -> f64 {
        model
            .params()
            .iter()
            .map(|p| match p {
                ParamRef::Vector(p) => grads
                    .get::<1>(p.id)
                    .unwrap()
                    .square()
                    .sum()
                    .into_scalar::<f32>() as f64,
                ParamRef::Matrix(p) => grads
                    .get::<2>(p.id)
                    .unwrap()
                    .square()
                    .sum()
                    .into_scalar::<f32>() as f64,
            })
            .sum::<f64>()
            .sqrt()
    };
    let loss = || {
        model
            .self_ensemble(
                &input,
                Mode::Eval,
                Task::BinaryClassification,
                Loss::BinaryCrossentropy,
            )
            .loss
    };
    let unclipped = norm_of(&clip_grad_norm(&model.params(), loss().backward(), 1e9));
    assert!(unclipped > 1e-3, "{unclipped}");
    let clipped = norm_of(&clip_grad_norm(
        &model.params(),
        loss().backward(),
        unclipped / 4.0,
    ));
    assert!(
        (clipped - unclipped / 4.0).abs() < 1e-4 * unclipped,
        "{clipped} vs {unclipped}"
    );
}

/// Over five seeds (how clearly the pair wins is a draw of the dropout masks and the batch order:
/// over seeds 1-10 the margin over the runner-up ranged from 1.45× to 11×).
#[test]
fn activation_map_finds_the_planted_pair() {
    let mut margins = Vec::new();
    for seed in 1..=5 {
        let model = qnn_model::QnnConfig {
            num_layers: 1,
            ..small_model()
        };
        let config = TrainConfig { seed, ..quick(6) };
        let (_, trained, map, valid) = train(model, config, 6000);
        let maps = maps_on(&trained, &map, &valid, 1000);
        let activation = maps.total_activation().unwrap();
        let (a, b, top) = activation.top_off_diagonal().unwrap();
        let pair = (a.min(b), a.max(b));
        assert_eq!(
            pair,
            (2, 5),
            "seed {seed}: top cell {a},{b} = {top}; map {activation:?}"
        );
        let runner_up = (0..6)
            .flat_map(|a| (0..6).map(move |b| (a, b)))
            .filter(|&(a, b)| a != b && (a.min(b), a.max(b)) != (2, 5))
            .map(|(a, b)| activation.get(a, b))
            .fold(0.0, f64::max);
        assert!(
            top > 1.3 * runner_up,
            "seed {seed}: top {top}, runner-up {runner_up}"
        );
        margins.push(top / runner_up);
    }
    // Clearly on top, not by a hair: the median margin over the seeds.
    margins.sort_by(f64::total_cmp);
    assert!(margins[2] > 2.0, "margins {margins:?}");
}

#[test]
fn model_file_round_trip_predicts_identically() {
    let (_, trained, map, valid) = train(small_model(), quick(2), 2000);
    let file = qnn_zoo::NetworkFile {
        config: small_model().into(),
        feature_map: map.clone(),
        weights: trained.weights.clone(),
        info: serde_json::json!({ "test": true }),
    };
    let dir = std::env::temp_dir().join(format!("qnn-train-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.qnn");
    file.save(&path).unwrap();
    let loaded = qnn_zoo::NetworkFile::load(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let device = Device::flex();
    let (reloaded, layout) = qnn_zoo::Network::from_file(&loaded, &device).unwrap();
    let before = pollster::block_on(qnn_train::predict(
        &trained.model,
        &layout,
        &valid,
        128,
        &device,
    ))
    .unwrap();
    let after =
        pollster::block_on(qnn_train::predict(&reloaded, &layout, &valid, 128, &device)).unwrap();
    assert_eq!(before, after);
}

#[test]
fn without_save_best_only_the_last_evaluation_is_kept() {
    // "max logloss" stops improving early, so best and last checkpoints differ.
    let config = TrainConfig {
        save_best_only: false,
        monitor: Monitor::metric(Metric::Logloss),
        monitor_mode: MonitorMode::Max,
        early_stop_patience: 3,
        ..quick(4)
    };
    let (events, trained, map, valid) = train(small_model(), config, 3000);
    let evals = common::evaluations(&events);
    let last = evals.last().unwrap();
    assert!(
        !last.2,
        "the last evaluation should not be an improvement: {evals:?}"
    );
    let last_logloss = last
        .1
        .iter()
        .find(|(m, _)| *m == Metric::Logloss)
        .unwrap()
        .1;
    assert_eq!(
        metric_of(&trained, &map, &valid, Metric::Logloss),
        last_logloss
    );
}

#[test]
fn finish_with_report_scores_the_best_weights_on_valid_and_test() {
    let (map, train, held_out) = splits(5000);
    let (valid, test) = (held_out.slice(0, 500), held_out.slice(500, held_out.len()));
    let mut trainer = Trainer::new(
        small_model(),
        quick(3),
        &map,
        train,
        valid.clone(),
        Device::flex().autodiff(),
    )
    .unwrap();
    let mut best_auc = f64::MIN;
    while !trainer.is_finished() {
        for event in pollster::block_on(trainer.step()).unwrap() {
            if let TrainEvent::Evaluated { metrics, .. } = event {
                let auc = metrics.iter().find(|(k, _)| *k == Metric::Auc).unwrap().1;
                best_auc = best_auc.max(auc);
            }
        }
    }
    let (trained, report) = pollster::block_on(trainer.finish_with_report(Some(&test))).unwrap();
    // Reported in the config's metric order, on the reloaded best weights.
    let names: Vec<Metric> = report.valid.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, [Metric::Logloss, Metric::Auc]);
    assert_eq!(report.valid[1].1, best_auc);
    assert_eq!(report.monitor_score, best_auc);
    let on_test = report.test.expect("a test split was given");
    assert_eq!(
        on_test[0].1,
        metric_of(&trained, &map, &test, Metric::Logloss)
    );
    assert_eq!(on_test[1].1, metric_of(&trained, &map, &test, Metric::Auc));
    assert_eq!(trained.layout, InputLayout::new(&map).unwrap());
}

/// The first step's reported loss: the loss of the initial weights on the first batch.
fn first_step_loss(model: qnn_model::QnnConfig, config: TrainConfig) -> (f64, Option<f64>, f64) {
    let (map, train, valid) = splits(1000);
    let layout = InputLayout::new(&map).unwrap();
    let device = Device::flex().autodiff();
    let first = train.slice(0, config.batch_size);
    let mut trainer = Trainer::new(model, config, &map, train, valid, device.clone()).unwrap();
    // Without dropout and batch norm, a training pass computes what prediction computes.
    let input = ModelInput::new(&first.range(0, first.len()), &layout, &device).unwrap();
    let p = trainer.model().predict(&input, Task::BinaryClassification);
    let plain_bce = f64::from(qnn_model::bce(p, input.labels.clone()).into_scalar::<f32>());
    let events = pollster::block_on(trainer.step()).unwrap();
    let (loss, gap) = events
        .iter()
        .find_map(|e| match e {
            TrainEvent::Step {
                loss, ensemble_gap, ..
            } => Some((loss.expect("read every step"), *ensemble_gap)),
            _ => None,
        })
        .unwrap();
    (loss, gap, plain_bce)
}

#[test]
fn the_ablation_without_self_ensemble_trains_on_plain_bce_of_one_pass() {
    let model = qnn_model::QnnConfig {
        net_dropout: 0.0,
        batch_norm: false,
        ..small_model()
    };
    let config = TrainConfig {
        shuffle: false,
        embedding_regularizer: qnn_model::Regularizer::NONE,
        ..quick(1)
    };
    let ablation = TrainConfig {
        self_ensemble: false,
        ..config.clone()
    };
    let (loss, gap, plain_bce) = first_step_loss(model.clone(), ablation);
    assert!((loss - plain_bce).abs() < 1e-6, "{loss} vs BCE {plain_bce}");
    assert_eq!(gap, None, "no second pass, no gap");
    // With the Self-Ensemble loss the same two identical passes add 2·BCE(p, p) ≥ 0.
    let (se_loss, se_gap, _) = first_step_loss(model, config);
    assert!(se_loss > loss + 0.1, "{se_loss} vs {loss}");
    assert_eq!(se_gap, Some(0.0));
}

#[test]
fn the_ablation_learns_the_planted_interaction_too() {
    let config = TrainConfig {
        self_ensemble: false,
        ..quick(6)
    };
    let (events, _, _, _) = train(small_model(), config, 6000);
    let best = evaluations(&events)
        .iter()
        .map(|(_, m, _)| m.iter().find(|(k, _)| *k == Metric::Auc).unwrap().1)
        .fold(0.0, f64::max);
    assert!(best > 0.8, "validation AUC only reached {best}");
}
