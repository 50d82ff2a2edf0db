//! A run resumed from a saved training state ends exactly where the uninterrupted run ends: same
//! evaluations, same final weights, bit for bit (CPU backend).

mod common;

use burn::tensor::Device;
use common::{quick, splits};
use qnn_model::{ParamStore, QnnConfig};
use qnn_train::{TrainConfig, TrainEvent, TrainState, Trainer};
use qnn_zoo::{FinalMlpConfig, NetworkConfig, Tower, ZooConfig};

/// A FinalMLP with batch norm, dropout in both towers and feature selection on a field context:
/// every kind of zoo parameter and buffer goes through the saved state.
fn zoo_model() -> NetworkConfig {
    let tower = |units: Vec<usize>| Tower {
        dropout: 0.1,
        batch_norm: true,
        ..Tower::new(units)
    };
    ZooConfig::FinalMLP(FinalMlpConfig {
        embedding_dim: 4,
        mlp1: tower(vec![16, 8]),
        mlp2: tower(vec![12, 8]),
        use_fs: true,
        fs_hidden_units: vec![8],
        fs1_context: vec!["f2".into()],
        fs2_context: vec![],
        num_heads: 2,
    })
    .into()
}

fn model() -> QnnConfig {
    QnnConfig {
        embedding_dim: 8,
        num_layers: 2,
        num_row: 3,
        num_heads: 2,
        batch_norm: true,
        net_dropout: 0.1,
    }
}

/// The monitor values of the evaluations and the final weights, as bits.
type Trace = (Vec<u64>, Vec<(String, Vec<u32>)>);

fn bits(weights: &ParamStore) -> Vec<(String, Vec<u32>)> {
    weights
        .tensors
        .iter()
        .map(|(k, t)| (k.clone(), t.values.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

/// Steps `trainer` to the end (or until `stop_after` evaluations), recording monitor values;
/// returns the serialized state and best checkpoint taken after the last evaluation it saw.
fn drive(
    trainer: &mut Trainer,
    monitors: &mut Vec<u64>,
    stop_after: Option<usize>,
) -> Option<(Vec<u8>, Option<ParamStore>)> {
    let mut seen = 0;
    while !trainer.is_finished() {
        for event in pollster::block_on(trainer.step()).unwrap() {
            if let TrainEvent::Evaluated { monitor, .. } = event {
                monitors.push(monitor.to_bits());
                seen += 1;
                if Some(seen) == stop_after {
                    let state = pollster::block_on(trainer.state()).unwrap();
                    return Some((state.to_bytes().unwrap(), trainer.checkpoint().cloned()));
                }
            }
        }
    }
    None
}

fn run(model: &NetworkConfig, config: TrainConfig, interrupt_after: Option<usize>) -> Trace {
    let (map, train, valid) = splits(3000);
    let device = Device::flex().autodiff();
    let mut trainer = Trainer::new(
        model.clone(),
        config.clone(),
        &map,
        train.clone(),
        valid.clone(),
        device.clone(),
    )
    .unwrap();
    let mut monitors = Vec::new();
    if let Some((state, best)) = drive(&mut trainer, &mut monitors, interrupt_after) {
        // The process dies here: everything not in the saved bytes is lost, including a few
        // steps taken after the evaluation.
        for _ in 0..3 {
            let _ = pollster::block_on(trainer.step()).unwrap();
        }
        drop(trainer);
        let state = TrainState::from_bytes(&state).unwrap();
        trainer = Trainer::new(model.clone(), config, &map, train, valid, device).unwrap();
        trainer.restore(state, best).unwrap();
        drive(&mut trainer, &mut monitors, None);
    }
    let trained = pollster::block_on(trainer.finish()).unwrap();
    (monitors, bits(&trained.weights))
}

#[test]
fn resumed_runs_end_bit_identical_to_uninterrupted_ones() {
    // Evaluation at each epoch end, and mid-epoch (every 5 of 10 steps per epoch, so one
    // resume starts inside an epoch); early stopping and learning-rate decay in play.
    for (network, config) in [model().into(), zoo_model()]
        .into_iter()
        .flat_map(|m| configs().into_iter().map(move |c| (m.clone(), c)))
    {
        let whole = run(&network, config.clone(), None);
        assert!(whole.0.len() >= 3, "the run evaluates several times");
        for interrupt_after in [1, 2] {
            let resumed = run(&network, config.clone(), Some(interrupt_after));
            assert_eq!(
                resumed.0,
                whole.0,
                "{}: monitor values after a resume at evaluation {interrupt_after} ({config:?})",
                network.name()
            );
            assert!(
                resumed.1 == whole.1,
                "{}: final weights after a resume at evaluation {interrupt_after} differ",
                network.name()
            );
        }
    }
}

fn configs() -> [TrainConfig; 2] {
    [
        TrainConfig {
            early_stop_patience: 2,
            ..quick(6)
        },
        TrainConfig {
            eval_steps: Some(5),
            batch_size: 240,
            ..quick(3)
        },
    ]
}

#[test]
fn a_state_from_other_settings_is_refused_by_name() {
    let (map, train, valid) = splits(600);
    let device = Device::flex().autodiff();
    let config = quick(1);
    let mut trainer = Trainer::new(
        model(),
        config.clone(),
        &map,
        train.clone(),
        valid.clone(),
        device.clone(),
    )
    .unwrap();
    drive(&mut trainer, &mut Vec::new(), None);
    let state = pollster::block_on(trainer.state()).unwrap();
    let other = TrainConfig {
        batch_size: 128,
        ..config
    };
    let mut fresh = Trainer::new(model(), other, &map, train, valid, device).unwrap();
    let err = fresh.restore(state, None).unwrap_err().to_string();
    assert!(
        err.contains("`batch_size` is 256 in the saved state and 128 now"),
        "{err}"
    );
}
