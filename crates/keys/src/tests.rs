use std::collections::BTreeSet;

use super::*;

#[test]
fn each_key_and_each_url_name_is_written_once() {
    let names: BTreeSet<_> = KEYS.iter().map(|k| k.name).collect();
    assert_eq!(names.len(), KEYS.len());
    let urls: Vec<_> = KEYS.iter().filter_map(|k| k.url).collect();
    assert_eq!(urls.iter().collect::<BTreeSet<_>>().len(), urls.len());
    for k in KEYS {
        assert_eq!(find(k.name), Some(k));
        if let Some(url) = k.url {
            assert_eq!(find_url(url), Some(k));
        }
    }
    assert_eq!(find("nope"), None);
}

#[test]
fn every_key_has_one_line_of_help() {
    for k in KEYS {
        assert!(!k.help.is_empty() && !k.help.contains('\n'), "{}", k.name);
    }
}

/// A default of the wrong type for its key would be a compile error where it is read in a
/// `const`, and a wrong value here.
#[test]
fn defaults_fit_their_keys() {
    for k in KEYS {
        match (k.kind, k.default) {
            (_, SeedDefault::Required | SeedDefault::Null | SeedDefault::OfNetwork) => {}
            (Kind::Count { .. } | Kind::Seed, SeedDefault::Count(n)) => {
                assert_eq!(k.check_count(n), Ok(n), "{}", k.name)
            }
            (Kind::Number(_), SeedDefault::Number(v)) => {
                assert_eq!(k.check_number(v), Ok(v), "{}", k.name)
            }
            (Kind::Regularizer, SeedDefault::Number(v)) => assert_eq!(v, 0.0),
            (Kind::Flag, SeedDefault::Flag(_)) => {}
            (Kind::Choice(c), SeedDefault::Text(t)) => assert!(c.contains(&t), "{}", k.name),
            (Kind::Text | Kind::Monitor, SeedDefault::Text(_)) => {}
            (Kind::Metrics, SeedDefault::Texts(_)) => {}
            other => panic!("{}: {other:?}", k.name),
        }
        if k.default == SeedDefault::OfNetwork {
            assert!(k.is_network_key(), "{}", k.name);
        }
    }
}

/// The seed's model table, row by row (`../shared/docs/seed-config.md`).
#[test]
fn the_seed_tables_defaults() {
    assert_eq!(MODEL.default.text(), "FinalMLP");
    assert_eq!(LOSS.default.text(), "binary_crossentropy");
    assert_eq!(METRICS.default.texts(), ["logloss", "AUC"]);
    assert_eq!(LEARNING_RATE.default.number(), 1.0e-3);
    assert_eq!(BATCH_SIZE.default.count(), 10_000);
    assert_eq!(
        [EMBEDDING_DIM, NUM_LAYERS, NUM_ROW, NUM_HEADS].map(|k| k.default.count()),
        [32, 3, 3, 1]
    );
    assert_eq!(NET_DROPOUT.default.number(), 0.0);
    assert!(!BATCH_NORM.default.flag());
    assert_eq!(EPOCHS.default.count(), 100);
    assert_eq!(SEED.default.count(), 2021);
    assert_eq!(MONITOR.default.text(), "AUC");
    assert_eq!(EARLY_STOP_PATIENCE.default.count(), 2);
    assert_eq!(EVAL_STEPS.default, SeedDefault::Null);
}

#[test]
fn ranges_name_themselves() {
    assert_eq!(NET_DROPOUT.check_number(0.5), Ok(0.5));
    assert_eq!(
        NET_DROPOUT.check_number(1.0).unwrap_err(),
        "must be in [0, 1), not 1"
    );
    assert_eq!(
        LEARNING_RATE.check_number(0.0).unwrap_err(),
        "must be above 0, not 0"
    );
    assert!(LEARNING_RATE.check_number(f64::INFINITY).is_err());
    assert!(BATCH_SIZE.check_number(f64::NAN).is_err());
    assert_eq!(
        BATCH_SIZE.check_count(0).unwrap_err(),
        "must be at least 1, not 0"
    );
    assert!(
        EMBEDDING_DIM
            .check_count(MAX_SIZE + 1)
            .unwrap_err()
            .contains("allows")
    );
    assert_eq!(NUM_LAYERS.check_count(0), Ok(0));
    assert_eq!(TASK.check_text("regression"), Ok("regression"));
    assert!(
        TASK.check_text("ranking")
            .unwrap_err()
            .contains("binary_classification")
    );
    assert_eq!(MODEL_ROOT.check_text("anything"), Ok("anything"));
}

#[test]
fn each_network_reads_its_own_keys() {
    for k in KEYS {
        if let Readers::Networks(names) = k.readers {
            assert!(names.iter().all(|n| NETWORKS.contains(n)), "{}", k.name);
        }
    }
    let qnn: Vec<_> = network_keys("QNN").map(|k| k.name).collect();
    assert_eq!(
        qnn,
        [
            "embedding_regularizer",
            "net_regularizer",
            "embedding_dim",
            "num_layers",
            "num_row",
            "net_dropout",
            "batch_norm",
            "num_heads",
            "self_ensemble"
        ]
    );
    let lr: Vec<_> = network_keys("LR").map(|k| k.name).collect();
    assert_eq!(lr, ["regularizer"]);
    assert_eq!(network_keys("xDeepFM").count(), 0);
    assert!(LEARNING_RATE.read_by("LR") && !LEARNING_RATE.is_network_key());
    assert!(!DATA_ROOT.read_by("QNN"));
}

#[test]
fn types_and_defaults_read_as_the_seed_table_writes_them() {
    assert_eq!(EMBEDDING_DIM.kind.to_string(), "int in 1..=16777216");
    assert_eq!(NET_DROPOUT.kind.to_string(), "float in [0, 1)");
    assert_eq!(LEARNING_RATE.kind.to_string(), "float above 0");
    assert_eq!(
        TASK.kind.to_string(),
        "str: binary_classification | regression"
    );
    assert_eq!(LEARNING_RATE.default.to_string(), "0.001");
    assert_eq!(METRICS.default.to_string(), "[logloss, AUC]");
    assert_eq!(BATCH_NORM.default.to_string(), "False");
    assert_eq!(EVAL_STEPS.default.to_string(), "None");
    assert_eq!(HIDDEN_UNITS.default.to_string(), "(the network's)");
    assert_eq!(EMBEDDING_DIM.default_for("QNN"), SeedDefault::Count(32));
    // DeepFM's constructor says 10; the seed's table is QNN's.
    assert_eq!(EMBEDDING_DIM.default_for("DeepFM"), SeedDefault::OfNetwork);
    assert_eq!(
        NET_REGULARIZER.default_for("DeepFM"),
        SeedDefault::Number(0.0)
    );
    assert_eq!(BATCH_SIZE.default_for("DeepFM"), SeedDefault::Count(10_000));
}

#[test]
fn a_misspelt_name_gets_the_closest_and_a_far_one_nothing() {
    assert_eq!(
        did_you_mean_key("learning_rat"),
        " (did you mean `learning_rate`?)"
    );
    assert_eq!(
        did_you_mean_key("embeding_dim"),
        " (did you mean `embedding_dim`?)"
    );
    assert_eq!(did_you_mean_key("use_features"), "");
    assert_eq!(
        did_you_mean_key("learning_rate"),
        "",
        "a known key needs no hint"
    );
    assert_eq!(
        did_you_mean("QNN_tin", ["Base", "QNN_tiny", "DeepFM_tiny"]),
        " (did you mean `QNN_tiny`?)"
    );
    // Short names: every other short name is as close, so no guess.
    assert_eq!(did_you_mean("E", ["F", "EE", "G"]), "");
    assert_eq!(did_you_mean("ab", ["ac"]), "");
    assert_eq!(did_you_mean("abc", ["abd"]), " (did you mean `abd`?)");
}
