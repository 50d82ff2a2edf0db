//! The model zoo through the CLI: `qnn train` reads FuxiCTR's model keys, and `evaluate`,
//! `predict` and `inspect` work from the model file alone (inspect says the network has no
//! interaction maps instead of failing somewhere inside).

mod common;

use std::fs;

use common::{Scratch, TINY_COLS, assert_fails, text, tiny};

/// Experiment `E` of `model` on the bundled sample (categorical, numeric and sequence fields).
fn zoo_run(name: &str, model: &str, keys: &str) -> Scratch {
    let s = Scratch::new(name);
    s.write(
        "config/model_config.yaml",
        &format!(
            "Base:\n  model_root: ./checkpoints/\nE:\n  model: {model}\n  dataset_id: D\n  \
             batch_size: 32\n  epochs: 2\n  metrics: [logloss, AUC]\n  monitor: AUC\n{keys}"
        ),
    );
    s.dataset_config(
        &tiny("train_sample.csv"),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    s
}

#[test]
fn zoo_networks_train_evaluate_and_predict_from_their_model_file() {
    let runs = [
        (
            "DeepFM",
            "  embedding_dim: 4\n  hidden_units: [16, 8]\n  batch_norm: True\n  net_dropout: 0.1\n  \
             embedding_regularizer: 1.e-5\n",
        ),
        (
            "DCNv2",
            "  embedding_dim: 4\n  model_structure: stacked_parallel\n  num_cross_layers: 2\n  \
             stacked_dnn_hidden_units: [16]\n  parallel_dnn_hidden_units: [8, 8]\n",
        ),
        // Contexts from a sequence and a numeric field.
        (
            "FinalMLP",
            "  embedding_dim: 4\n  mlp1_hidden_units: [16, 8]\n  mlp2_hidden_units: [8, 4]\n  \
             fs_hidden_units: [8]\n  fs1_context: [click_sequence]\n  fs2_context: [price, pid]\n  \
             num_heads: 2\n",
        ),
        ("LR", "  regularizer: 1.e-6\n"),
    ];
    for (model, keys) in runs {
        let s = zoo_run(&format!("zoo-{model}"), model, keys);
        let o = s.train();
        assert!(o.status.success(), "{model}: {}", text(&o));
        assert!(text(&o).contains("test:       logloss: "), "{}", text(&o));
        let log = fs::read_to_string(s.path("checkpoints/D/E.log")).unwrap();
        assert!(log.contains("Total number of parameters"), "{log}");

        let model_file = "checkpoints/D/E.qnn";
        let o = s.qnn(&[
            "evaluate",
            "--model",
            model_file,
            "--data",
            &tiny("test_sample.csv"),
        ]);
        assert!(o.status.success(), "{model}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).starts_with("100 rows: logloss: "),
            "{}",
            text(&o)
        );
        let o = s.qnn(&[
            "predict",
            "--model",
            model_file,
            "--data",
            &tiny("test_sample.csv"),
            "--out",
            "p.csv",
        ]);
        assert!(o.status.success(), "{model}: {}", text(&o));
        let mut reader = csv::Reader::from_path(s.path("p.csv")).unwrap();
        let probabilities: Vec<f64> = reader
            .records()
            .map(|r| r.unwrap()[19].parse().unwrap())
            .collect();
        assert_eq!(probabilities.len(), 100);
        assert!(probabilities.iter().all(|p| (0.0..=1.0).contains(p)));

        let o = s.qnn(&["inspect", "--model", model_file]);
        assert_fails(
            &o,
            &[
                model_file,
                &format!("a {model} network has no interaction maps"),
            ],
        );
    }
}

#[test]
fn zoo_config_mistakes_name_the_key() {
    let s = zoo_run("zoo-bad-key", "DeepFM", "  num_row: 2\n");
    assert_fails(&s.train(), &["num_row", "is not a key of DeepFM"]);
    let s = zoo_run("zoo-bad-context", "FinalMLP", "  fs1_context: [nope]\n");
    assert_fails(
        &s.train(),
        &["fs1_context", "`nope` is not a field of the dataset"],
    );
    let s = zoo_run("zoo-absurd", "DNN", "  hidden_units: [1000000000000]\n");
    assert_fails(&s.train(), &["hidden_units", "is more than QNN Lab allows"]);
    // Allowed sizes whose parameters do not fit in memory (one row a step, so the step is
    // small): refused before the tensor is allocated.
    let s = zoo_run(
        "zoo-too-large",
        "DNN",
        "  embedding_dim: 1000\n  hidden_units: [4000000, 4000000]\n",
    );
    let config = s.path("config/model_config.yaml");
    let yaml = fs::read_to_string(&config).unwrap();
    fs::write(&config, yaml.replace("batch_size: 32", "batch_size: 1")).unwrap();
    assert_fails(
        &s.train(),
        &[
            "needs more memory to train than this machine has",
            "mlp.mlp.0.weight",
        ],
    );
    // Wide layers at batch 32: a step's activations (30.5 GiB) are refused before anything is
    // built (on a machine with that much free, the parameters are).
    let s = zoo_run(
        "zoo-step-too-large",
        "DNN",
        "  embedding_dim: 1000\n  hidden_units: [16000000, 16000000]\n",
    );
    let out = text(&s.train());
    assert!(
        out.contains("error: the run is too large: one training step of this DNN at batch_size 32")
            || out.contains("needs more memory to train than this machine has"),
        "{out}"
    );
    let s = zoo_run("zoo-bad-model", "xDeepFM", "");
    assert_fails(
        &s.train(),
        &["model", "'xDeepFM' is not a model QNN Lab has"],
    );
}
