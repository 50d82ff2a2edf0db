//! The model zoo's networks through the same training loop as QNN, on the planted-interaction
//! data: the ones that model feature interactions find it, LR (first order only) cannot.

mod common;

use common::{best_auc, quick, train};
use qnn_train::{TrainConfig, TrainEvent};
use qnn_zoo::{DcnStructure, DcnV2Config, FinalMlpConfig, Tower, ZooConfig};

fn tower(units: &[usize]) -> Tower {
    Tower::new(units.to_vec())
}

fn networks() -> Vec<ZooConfig> {
    let d = 8;
    vec![
        ZooConfig::LR,
        ZooConfig::FM { embedding_dim: d },
        ZooConfig::DNN {
            embedding_dim: d,
            dnn: tower(&[32, 16]),
        },
        ZooConfig::DeepFM {
            embedding_dim: d,
            dnn: Tower {
                batch_norm: true,
                dropout: 0.1,
                ..tower(&[32, 16])
            },
        },
        ZooConfig::DCNv2(DcnV2Config {
            embedding_dim: d,
            model_structure: DcnStructure::Parallel,
            num_cross_layers: 2,
            stacked_dnn: tower(&[]),
            parallel_dnn: tower(&[32, 16]),
        }),
        ZooConfig::FinalMLP(FinalMlpConfig {
            embedding_dim: d,
            mlp1: tower(&[32, 16]),
            mlp2: tower(&[32, 8]),
            use_fs: true,
            fs_hidden_units: vec![16],
            fs1_context: vec![],
            fs2_context: vec!["f0".into()],
            num_heads: 2,
        }),
        ZooConfig::DualMLP {
            embedding_dim: d,
            mlp1: tower(&[32, 16]),
            mlp2: tower(&[16]),
        },
    ]
}

#[test]
fn every_zoo_network_trains_and_the_interaction_models_find_the_planted_pair() {
    for network in networks() {
        let name = network.name();
        let config = TrainConfig {
            // FuxiCTR's loss for the zoo: the trainer must not report a Self-Ensemble gap.
            self_ensemble: true,
            ..quick(6)
        };
        let (events, trained, _, _) = train(network, config, 6000);
        let auc = best_auc(&events);
        assert!(trained.model.as_qnn().is_none(), "{name}");
        assert!(
            events.iter().all(|e| !matches!(
                e,
                TrainEvent::Step {
                    ensemble_gap: Some(_),
                    ..
                }
            )),
            "{name}: no Self-Ensemble gap outside QNN"
        );
        let losses: Vec<f64> = events
            .iter()
            .filter_map(|e| match e {
                TrainEvent::Evaluated { train_loss, .. } => Some(*train_loss),
                _ => None,
            })
            .collect();
        assert!(losses.last() < losses.first(), "{name}: {losses:?}");
        if name == "LR" {
            // The label depends on a pair of fields, not on any field alone.
            assert!(
                auc < 0.65,
                "LR cannot model the pair, yet reached AUC {auc}"
            );
        } else {
            assert!(auc > 0.8, "{name} reached validation AUC {auc} only");
        }
        eprintln!("{name}: best validation AUC {auc:.4}");
    }
}
