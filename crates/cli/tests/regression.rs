//! `task: regression` through the CLI: the bundled MovieLens rating example trains QNN and
//! DeepFM with `mse_loss`, reports MSE/RMSE/MAE, and the model file predicts ratings; a
//! classification config on the same labels says which cell is not 0 or 1.

mod common;

use std::fs;

use common::{Scratch, assert_fails, repo_root, text};

/// The worked example `crates/cli/configs/movielens_rating` with its data, in a scratch dir.
fn movielens(name: &str) -> Scratch {
    let s = Scratch::new(name);
    let root = repo_root();
    for file in ["dataset_config.yaml", "model_config.yaml"] {
        let text = fs::read_to_string(root.join("crates/cli/configs/movielens_rating").join(file))
            .unwrap();
        s.write(&format!("config/{file}"), &text);
    }
    let csv = "static/examples/movielens/movielens_sample.csv";
    s.write(csv, &fs::read_to_string(root.join(csv)).unwrap());
    s
}

#[test]
fn the_rating_example_trains_reports_errors_and_predicts_ratings() {
    let s = movielens("regression");
    for expid in ["QNN_rating", "DeepFM_rating"] {
        let o = s.qnn(&["train", "--config", "config", "--expid", expid]);
        assert!(o.status.success(), "{expid}: {}", text(&o));
        let out = text(&o);
        assert!(out.contains("test:       MSE: "), "{out}");
        assert!(
            out.contains(" - RMSE: ") && out.contains(" - MAE: "),
            "{out}"
        );
        assert!(!out.contains("AUC"), "{out}");

        let model = format!("checkpoints/movielens_rating/{expid}.qnn");
        let data = "static/examples/movielens/movielens_sample.csv";
        let line = s.qnn_ok(&["evaluate", "--model", &model, "--data", data]);
        assert!(line.starts_with("200 rows: MSE: "), "{line}");
        // Predicting the mean rating (3.6) already gives MSE 1.25: a trained model must not
        // be far off it (the sample is 120 training rows).
        let mse: f64 = line["200 rows: MSE: ".len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(mse < 2.0, "{expid}: MSE {mse}");

        s.qnn_ok(&[
            "predict", "--model", &model, "--data", data, "--out", "p.csv",
        ]);
        let written = fs::read_to_string(s.path("p.csv")).unwrap();
        let mut lines = written.lines();
        assert!(lines.next().unwrap().ends_with(",prediction"));
        let ratings: Vec<f32> = lines
            .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(ratings.len(), 200);
        let mean = ratings.iter().sum::<f32>() / 200.0;
        assert!(
            (2.5..4.5).contains(&mean),
            "{expid}: mean prediction {mean}"
        );
    }
}

#[test]
fn a_classification_run_on_ratings_names_the_first_label_that_is_not_0_or_1() {
    let s = movielens("regression-as-binary");
    let config = fs::read_to_string(s.path("config/model_config.yaml")).unwrap();
    let config = config
        .replace("task: regression", "task: binary_classification")
        .replace("loss: mse_loss", "loss: binary_crossentropy")
        .replace("metrics: [MSE, RMSE, MAE]", "metrics: [logloss, AUC]")
        .replace("monitor: MSE", "monitor: AUC")
        .replace("monitor_mode: min", "monitor_mode: max");
    s.write("config/model_config.yaml", &config);
    let o = s.qnn(&["train", "--config", "config", "--expid", "QNN_rating"]);
    // Data line 1 has rating 4.
    assert_fails(
        &o,
        &[
            "movielens_sample.csv:2",
            "`rating`",
            "label '4' is not 0 or 1",
        ],
    );
}

#[test]
fn regression_settings_that_cannot_work_are_refused_by_key() {
    let s = movielens("regression-bad-keys");
    let config = fs::read_to_string(s.path("config/model_config.yaml")).unwrap();
    for (from, to, key) in [
        (
            "    loss: mse_loss",
            "    loss: binary_crossentropy",
            "loss",
        ),
        (
            "    metrics: [MSE, RMSE, MAE]",
            "    metrics: [MSE, AUC]",
            "metrics",
        ),
        ("    task: regression", "    task: ranking", "task"),
    ] {
        s.write("config/model_config.yaml", &config.replacen(from, to, 1));
        let o = s.qnn(&["train", "--config", "config", "--expid", "QNN_rating"]);
        assert_fails(&o, &[&format!("`{key}`")]);
    }
}
