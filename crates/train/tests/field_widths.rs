//! Fields with their own `embedding_dim` (FuxiCTR's per-feature setting) through the training
//! loop, the interaction maps and the model file, for QNN and the zoo's networks that
//! concatenate their embeddings; the networks that stack them refuse with the key named.

mod common;

use burn::tensor::Device;
use common::{best_auc, maps_on, quick, small_model, splits, train_on};
use qnn_data::FeatureMap;
use qnn_model::QnnConfig;
use qnn_train::{TrainConfig, Trainer};
use qnn_zoo::{DcnStructure, DcnV2Config, Tower, ZooConfig};

/// The planted-pair data (six fields, pair f2×f5) with fields 0, 1 and 4 given widths 4, 12 and
/// 4 beside the model's 8: D = 44, which six fields do not divide. (The pair keeps width 8: with
/// every field 4 wide this small model does not pick the pair up within six epochs at all.)
fn mixed_splits() -> (
    FeatureMap,
    qnn_data::EncodedDataset,
    qnn_data::EncodedDataset,
) {
    let (mut map, train, valid) = splits(6000);
    for (f, width) in [(0, 4), (1, 12), (4, 4)] {
        map.features[f].embedding_dim = Some(width);
    }
    (map, train, valid)
}

#[test]
fn qnn_with_fields_of_several_widths_learns_the_pair_and_maps_it() {
    let (map, train, valid) = mixed_splits();
    for seed in [1, 2] {
        let config = TrainConfig { seed, ..quick(6) };
        let (events, trained) = train_on(small_model(), config, &map, train.clone(), valid.clone());
        let auc = best_auc(&events);
        assert!(auc > 0.8, "seed {seed}: validation AUC {auc}");
        let maps = maps_on(&trained, &map, &valid, 1000);
        let activation = maps.total_activation().unwrap();
        let (a, b, _) = activation.top_off_diagonal().unwrap();
        assert_eq!((a.min(b), a.max(b)), (2, 5), "seed {seed}: {activation:?}");
        // The weight map averages over each field's own columns: finite everywhere.
        let weight = &maps.layers[0].heads[0].weight;
        assert!(weight.values.iter().all(|v| v.is_finite() && *v > 0.0));
    }
}

#[test]
fn several_heads_view_mixed_widths_in_blocks_and_still_learn() {
    let (mut map, train, valid) = mixed_splits();
    // Widths 4, 12, 8, 8, 4, 12: D = 48, six blocks of 8 columns, two heads of 4 per block.
    map.features[5].embedding_dim = Some(12);
    let config = QnnConfig {
        num_heads: 2,
        ..small_model()
    };
    let (events, trained) = train_on(config, quick(6), &map, train, valid.clone());
    assert!(best_auc(&events) > 0.8, "{}", best_auc(&events));
    let maps = maps_on(&trained, &map, &valid, 500);
    assert_eq!(maps.layers[0].heads.len(), 2);
}

#[test]
fn a_model_file_keeps_each_fields_width() {
    let (map, train, valid) = mixed_splits();
    let (_, trained) = train_on(small_model(), quick(1), &map, train, valid.clone());
    let file = qnn_zoo::NetworkFile {
        config: small_model().into(),
        feature_map: map.clone(),
        weights: trained.weights.clone(),
        info: serde_json::json!({}),
    };
    let dir = std::env::temp_dir().join(format!("qnn-widths-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.qnn");
    file.save(&path).unwrap();
    let loaded = qnn_zoo::NetworkFile::load(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(loaded.feature_map.features[1].embedding_dim, Some(12));
    let device = Device::flex();
    let (reloaded, layout) = qnn_zoo::Network::from_file(&loaded, &device).unwrap();
    let predict = |model| {
        pollster::block_on(qnn_train::predict(model, &layout, &valid, 128, &device)).unwrap()
    };
    assert_eq!(predict(&trained.model), predict(&reloaded));
}

#[test]
fn dnn_and_dcnv2_concatenate_fields_of_several_widths() {
    let (map, train, valid) = mixed_splits();
    let networks = [
        ZooConfig::DNN {
            embedding_dim: 8,
            dnn: Tower::new(vec![32, 16]),
        },
        ZooConfig::DCNv2(DcnV2Config {
            embedding_dim: 8,
            model_structure: DcnStructure::Parallel,
            num_cross_layers: 2,
            stacked_dnn: Tower::new(vec![]),
            parallel_dnn: Tower::new(vec![32, 16]),
        }),
    ];
    for network in networks {
        let name = network.name();
        let (events, trained) = train_on(network, quick(6), &map, train.clone(), valid.clone());
        let auc = best_auc(&events);
        assert!(auc > 0.75, "{name}: validation AUC {auc}");
        // Each field's table has its own width, under FuxiCTR's name.
        let store = &trained.weights;
        let shape = |field: &str| {
            store.tensors
                [&format!("embedding_layer.embedding_layer.embedding_layers.{field}.weight")]
                .shape
                .clone()
        };
        assert_eq!(shape("f0"), [10, 4], "{name}");
        assert_eq!(shape("f1"), [10, 12], "{name}");
        assert_eq!(shape("f2"), [10, 8], "{name}");
    }
}

#[test]
fn networks_that_stack_embeddings_refuse_fields_of_several_widths() {
    let (map, train, valid) = mixed_splits();
    let fm = ZooConfig::FM { embedding_dim: 8 };
    let Err(err) = Trainer::new(fm, quick(1), &map, train, valid, Device::flex().autodiff()) else {
        panic!("FM cannot stack widths 4 and 8");
    };
    let err = err.to_string();
    assert!(
        err.contains("embedding_dim") && err.contains("`f0` has 4") && err.contains("`f1` has 12"),
        "{err}"
    );
}

#[test]
fn every_field_given_the_models_width_is_the_model_without_them() {
    let (mut map, train, valid) = splits(2000);
    let config = QnnConfig {
        embedding_dim: 4,
        ..small_model()
    };
    let (_, plain) = train_on(config, quick(1), &map, train.clone(), valid.clone());
    for feature in &mut map.features {
        feature.embedding_dim = Some(4);
    }
    let (_, widths) = train_on(small_model(), quick(1), &map, train, valid);
    assert_eq!(plain.weights, widths.weights);
}
