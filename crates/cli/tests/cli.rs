//! End-to-end tests of the `qnn` binary: each runs it in a fresh directory, as a user would.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::{Scratch, TINY_COLS, assert_fails, repo_root, text, tiny};

#[test]
fn absurd_sizes_are_one_error_before_anything_is_allocated() {
    let s = Scratch::new("absurd-sizes");
    s.dataset_config(
        &tiny("train_sample.csv"),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    // Beyond a size the vocabulary allows (the key's line), or more than the machine has; both
    // name the key.
    for (key, value, error) in [
        ("num_row", "16000000", "error: the run is too large: "),
        ("embedding_dim", "16000000", "error: the run is too large: "),
        ("num_layers", "16000000", "error: the run is too large: "),
        (
            "num_row",
            "1000000000",
            "more than QNN Lab allows (16777216)",
        ),
        (
            "embedding_dim",
            "8000000000000000000",
            "more than QNN Lab allows (16777216)",
        ),
    ] {
        let mut config = vec![
            ("embedding_dim", "8"),
            ("num_layers", "1"),
            ("num_row", "2"),
        ];
        config.retain(|(k, _)| *k != key);
        config.push((key, value));
        let keys: String = config
            .iter()
            .map(|(k, v)| format!("  {k}: {v}\n"))
            .collect();
        s.write(
            "config/model_config.yaml",
            &format!("E:\n  model: QNN\n  dataset_id: D\n  batch_size: 32\n  epochs: 1\n{keys}"),
        );
        let started = std::time::Instant::now();
        let o = s.train();
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{key}: {value}: {out}");
        assert!(out.contains(error), "{out}");
        assert!(
            (out.contains("more than the")
                || out.contains("overflow")
                || out.contains("config/model_config.yaml:"))
                && out.contains(key),
            "{key}: {value}: {out}"
        );
        assert!(started.elapsed().as_secs() < 30, "{key}: {value}");
    }
    // A zoo network's wide hidden layers: a step's activations (about 33 GB at batch 32) are
    // refused before anything is allocated; on a machine with more memory, its parameters.
    s.write(
        "config/model_config.yaml",
        "E:\n  model: DeepFM\n  dataset_id: D\n  batch_size: 32\n  epochs: 1\n  \
         embedding_dim: 4\n  hidden_units: [16000000, 16000000]\n",
    );
    let started = std::time::Instant::now();
    let o = s.train();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("error: the run is too large: ") && out.contains("the hidden units"),
        "{out}"
    );
    assert!(started.elapsed().as_secs() < 30);
}

#[test]
fn a_diverging_run_says_what_diverged_and_saves_no_broken_model() {
    let s = Scratch::new("diverge");
    // An absurd learning rate: Adam's first update sends the weights to ±1e30 and on to NaN.
    s.model_config("  learning_rate: 1.e+30\n  eval_steps: 1\n");
    s.dataset_config(
        &tiny("train_sample.csv"),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    let o = s.train();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("error: training diverged at epoch 1, batch 1"),
        "{out}"
    );
    assert!(out.contains("this run saved no model"), "{out}");
    assert!(out.contains("A lower learning_rate"), "{out}");
    assert!(!out.contains("panicked"), "{out}");
    assert!(!s.path("checkpoints/D/E.qnn").exists());
}

#[test]
fn a_run_that_diverges_after_an_evaluation_keeps_the_best_model_so_far() {
    let s = Scratch::new("diverge-late");
    // Batch 2 of the unshuffled train rows has prices of 1e30, unscaled: the products of the
    // quadratic layer overflow. Batch 1 is ordinary and is evaluated (eval_steps 1) and saved.
    let train = fs::read_to_string(tiny("train_sample.csv")).unwrap();
    let mut lines: Vec<String> = train.lines().map(str::to_string).collect();
    let price = lines[0].split(',').position(|c| c == "price").unwrap();
    for line in &mut lines[1 + 32..1 + 64] {
        let mut cells: Vec<&str> = line.split(',').collect();
        cells[price] = "1e30";
        *line = cells.join(",");
    }
    let train = s.write("data/train.csv", &(lines.join("\n") + "\n"));
    s.model_config("  eval_steps: 1\n  shuffle: False\n");
    let cols = TINY_COLS.replace(", normalizer: MinMaxScaler", "");
    s.dataset_config(train.to_str().unwrap(), &tiny("valid_sample.csv"), &cols);
    let o = s.train();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("error: training diverged at epoch 1, batch 2"),
        "{out}"
    );
    assert!(
        out.contains("the best model so far (epoch 1) is kept in"),
        "{out}"
    );
    assert!(!out.contains("panicked"), "{out}");
    // The kept model is whole and evaluates to finite metrics.
    let line = s.qnn_ok(&[
        "evaluate",
        "--model",
        "checkpoints/D/E.qnn",
        "--data",
        &tiny("test_sample.csv"),
    ]);
    assert!(line.starts_with("100 rows: logloss: "), "{line}");
    assert!(!line.contains("NaN") && !line.contains("inf"), "{line}");
}

#[test]
fn train_evaluate_predict_inspect_on_the_bundled_sample() {
    let s = Scratch::new("flow");
    s.model_config("");
    s.dataset_config(
        &tiny("train_sample.csv"),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    let o = s.train();
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("test:       logloss: "), "{out}");
    let log = fs::read_to_string(s.path("checkpoints/D/E.log")).unwrap();
    assert!(log.contains("Total number of parameters"), "{log}");
    assert!(log.contains("Evaluation @epoch 2"), "{log}");
    let results = fs::read_to_string(s.path("config.csv")).unwrap();
    assert!(
        results.contains(",[exp_id] E,[dataset_id] D,[train] N.A.,[val] logloss: "),
        "{results}"
    );
    for f in [
        "feature_map.json",
        "feature_vocab.json",
        "train.safetensors",
        "valid.safetensors",
    ] {
        assert!(s.path("data/D").join(f).is_file(), "{f} missing");
    }

    // A second run reuses the cache; the results file gets a second line.
    let o = s.train();
    assert!(o.status.success(), "{}", text(&o));
    let log = fs::read_to_string(s.path("checkpoints/D/E.log")).unwrap();
    assert!(log.contains("Load feature_map from json"), "{log}");
    assert!(!log.contains("Fit feature processor"), "{log}");
    assert_eq!(
        fs::read_to_string(s.path("config.csv"))
            .unwrap()
            .lines()
            .count(),
        2
    );

    let model = "checkpoints/D/E.qnn";
    let o = s.qnn(&[
        "evaluate",
        "--model",
        model,
        "--data",
        &tiny("test_sample.csv"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("100 rows: logloss: "),
        "{}",
        text(&o)
    );
    // Clicks only: logloss, and a warning instead of an AUC these rows cannot have.
    let test = fs::read_to_string(tiny("test_sample.csv")).unwrap();
    let clicks: Vec<&str> = test
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.starts_with("1,"))
        .map(|(_, l)| l)
        .collect();
    assert!(test.starts_with("clk,") && clicks.len() > 2);
    s.write("clicks.csv", &(clicks.join("\n") + "\n"));
    let o = s.qnn(&["evaluate", "--model", model, "--data", "clicks.csv"]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let rows = clicks.len() - 1;
    assert!(
        stdout.starts_with(&format!("{rows} rows: logloss: ")),
        "{stdout}"
    );
    assert!(!stdout.contains("AUC"), "{stdout}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("clicks.csv: AUC is undefined: only one class is present in the labels"),
        "{stderr}"
    );

    // Predict works from the model file alone and keeps every row and column.
    s.qnn_ok(&[
        "predict",
        "--model",
        model,
        "--data",
        &tiny("test_sample.csv"),
        "--out",
        "p.csv",
    ]);
    let mut reader = csv::Reader::from_path(s.path("p.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    assert_eq!(header.len(), 20);
    assert_eq!(&header[19], "probability");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 100);
    let original = fs::read_to_string(tiny("test_sample.csv")).unwrap();
    let first_data_line = original.lines().nth(1).unwrap();
    assert_eq!(
        rows[0].iter().take(19).collect::<Vec<_>>().join(","),
        first_data_line
    );
    for r in &rows {
        let p: f64 = r[19].parse().unwrap();
        assert!((0.0..=1.0).contains(&p));
    }

    let table = s.qnn_ok(&[
        "inspect",
        "--model",
        model,
        "--data",
        &tiny("test_sample.csv"),
        "--svg",
        "maps.svg",
    ]);
    assert!(table.contains("layer 1, head 1, weight map"), "{table}");
    assert!(table.contains("layer 1, head 1, activation map"), "{table}");
    assert!(
        table.contains("strongest field pairs (activation"),
        "{table}"
    );
    let svg = fs::read_to_string(s.path("maps.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("<title>userid × adgroup_id: "),
        "{svg:.300}"
    );
    // Each panel says what its darkest shade stands for; the numeric price times itself
    // outweighs every pair of the activation maps, and is drawn beyond the scale.
    assert_eq!(
        svg.matches("the largest pair; dashed cells lie beyond it")
            .count(),
        svg.matches(" map</text>").count()
    );
    let beyond = svg
        .split("<rect ")
        .filter(|r| r.contains(r#"class="beyond""#))
        .map(|r| {
            r.split("<title>")
                .nth(1)
                .unwrap()
                .split(':')
                .next()
                .unwrap()
        })
        .collect::<Vec<_>>();
    assert!(beyond.contains(&"price × price"), "{beyond:?}");
    assert!(
        beyond.iter().all(|cell| {
            let (a, b) = cell.split_once(" × ").unwrap();
            a == b
        }),
        "only a field with itself lies beyond the largest pair: {beyond:?}"
    );
    let o = s.qnn(&["inspect", "--model", model, "--format", "csv"]);
    let csv_text = String::from_utf8_lossy(&o.stdout);
    // 8 fields → 64 cells of one weight map, plus the header.
    assert_eq!(csv_text.lines().count(), 65, "{csv_text}");
    s.qnn_ok(&[
        "inspect",
        "--model",
        model,
        "--format",
        "json",
        "--out",
        "maps.json",
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(s.path("maps.json")).unwrap()).unwrap();
    assert_eq!(json["field_names"][6], "price");

    // --row explains one row: its maps are those of a file holding that row alone, and the
    // prediction is qnn predict's for that row.
    let lines: Vec<&str> = original.lines().collect();
    s.write("row3.csv", &format!("{}\n{}\n", lines[0], lines[3]));
    let maps_json = |data: &str, row: Option<&str>, out: &str| {
        let mut args = vec![
            "inspect", "--model", model, "--data", data, "--format", "json", "--out", out,
        ];
        args.extend(row.map(|r| ["--row", r]).into_iter().flatten());
        s.qnn_ok(&args);
        fs::read_to_string(s.path(out)).unwrap()
    };
    let explained = maps_json(&tiny("test_sample.csv"), Some("3"), "row.json");
    assert_eq!(explained, maps_json("row3.csv", None, "alone.json"));
    assert_ne!(
        explained,
        maps_json(&tiny("test_sample.csv"), Some("4"), "row4.json")
    );
    let o = s.qnn(&[
        "inspect",
        "--model",
        model,
        "--data",
        &tiny("test_sample.csv"),
        "--row",
        "3",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    let predicted: f64 = rows[2][19].parse().unwrap();
    let shown: f64 = out
        .lines()
        .next()
        .and_then(|l| {
            l.strip_prefix(&format!(
                "row 3 of {}: probability ",
                tiny("test_sample.csv")
            ))
        })
        .unwrap_or_else(|| panic!("{out}"))
        .parse()
        .unwrap();
    assert!((shown - predicted).abs() < 1e-5, "{shown} vs {predicted}");
    assert!(out.contains("activation maps of this row alone"), "{out}");
    // Rows that are not there, and --row without data, are refused.
    for (args, message) in [
        (
            vec!["--data", &tiny("test_sample.csv"), "--row", "101"],
            "has only 100 data rows",
        ),
        (
            vec!["--data", &tiny("test_sample.csv"), "--row", "0"],
            "counts data rows from 1",
        ),
        (vec!["--row", "3"], "--data"),
    ] {
        let o = s.qnn(&[&["inspect", "--model", model][..], &args].concat());
        assert!(
            !o.status.success() && text(&o).contains(message),
            "{}",
            text(&o)
        );
    }
}

#[test]
fn tune_over_seeds_alone_reports_the_spread_of_the_test_metrics() {
    let s = Scratch::new("tune-seeds");
    s.model_config("  seed: 2021\n");
    s.dataset_config(
        &tiny("train_sample.csv"),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    s.write(
        "seeds.yaml",
        "base_config: ./config/\nbase_expid: E\ndataset_id: D\ntuner_space:\n  seed: [1, 2, 3]\n  \
         num_row: 2\n",
    );
    let out = s.qnn_ok(&["tune", "--config", "seeds.yaml"]);
    assert!(
        out.contains("seed sweep over 3 seeds (test; mean ± sample standard deviation"),
        "{out}"
    );
    let auc = out
        .lines()
        .find(|l| l.trim_start().starts_with("AUC: "))
        .unwrap_or_else(|| panic!("{out}"));
    let mean: f64 = auc.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!((0.0..=1.0).contains(&mean), "{auc}");
    // A grid over other keys is not a seed sweep.
    s.write(
        "grid.yaml",
        "base_config: ./config/\nbase_expid: E\ndataset_id: D\ntuner_space:\n  seed: [1, 2]\n  \
         num_row: [1, 2]\n",
    );
    let stdout = s.qnn_ok(&["tune", "--config", "grid.yaml", "--tag", "E_001"]);
    assert!(!stdout.contains("seed sweep"));
}

#[test]
fn tune_runs_the_grid_and_names_the_best() {
    let s = Scratch::new("tune");
    s.model_config("  learning_rate: 1.e-3\n");
    s.dataset_config(
        &tiny("train_sample.csv"),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    s.write(
        "tuner.yaml",
        "base_config: ./config/\nbase_expid: E\ndataset_id: D\ntuner_space:\n  num_row: [1, 2]\n  \
         embedding_dim: 8\n  learning_rate: [1.e-3, 1.e-2]\n",
    );
    let out = s.qnn_ok(&["tune", "--config", "tuner.yaml", "--tag", "E_00"]);
    assert!(
        out.contains("best experiment (validation monitor): E_00"),
        "{out}"
    );
    let results = fs::read_to_string(s.path("tuner.csv")).unwrap();
    assert_eq!(results.lines().count(), 4, "{results}");
    let generated = fs::read_to_string(s.path("tuner/model_config.yaml")).unwrap();
    assert!(
        generated.contains("E_001_") && generated.contains("E_004_"),
        "{generated}"
    );
    let o = s.qnn(&["tune", "--config", "tuner.yaml", "--tag", "nothing-matches"]);
    assert_fails(&o, &["no experiment id contains"]);
    s.write(
        "bad.yaml",
        "base_config: ./config/\nbase_expid: E\ntuner_space:\n  num_rows: [1, 2]\n",
    );
    let o = s.qnn(&["tune", "--config", "bad.yaml"]);
    assert_fails(&o, &["bad.yaml", "num_rows"]);
}

/// Runs `qnn train` on a dataset whose train CSV is `csv` and checks the error line and that no
/// model, results line or completed cache was left behind.
fn train_fails_on(name: &str, csv: &str, cols: &str, extra_model: &str, fragments: &[&str]) {
    let s = Scratch::new(name);
    s.model_config(extra_model);
    let path = s.write("train.csv", csv);
    s.dataset_config(&path.display().to_string(), &tiny("valid_sample.csv"), cols);
    let o = s.train();
    assert_fails(&o, fragments);
    assert!(!s.path("checkpoints/D/E.qnn").exists());
    assert!(!s.path("config.csv").exists());
    assert!(!s.path("data/D/feature_map.json").exists());
}

const AB: &str = "    - {name: [userid, price], active: True, dtype: str, type: categorical}\n";

#[test]
fn bad_csv_input_names_file_line_and_column() {
    train_fails_on(
        "ragged",
        "clk,userid,price\n0,1,2\n1,2\n",
        AB,
        "",
        &["train.csv:3", "2 fields, the header has 3"],
    );
    train_fails_on(
        "missing-col",
        "clk,userid\n0,1\n",
        AB,
        "",
        &["train.csv:1", "column `price`", "no such column"],
    );
    train_fails_on(
        "label",
        "clk,userid,price\n0,1,2\n2,1,2\n",
        AB,
        "",
        &["train.csv:3", "column `clk`", "not 0 or 1"],
    );
    let numeric = "    - {name: price, active: True, dtype: float, type: numeric}\n";
    train_fails_on(
        "nan",
        "clk,price\n0,1.5\n1,NaN\n",
        numeric,
        "",
        &["train.csv:3", "column `price`", "fill_na"],
    );
    train_fails_on(
        "inf",
        "clk,price\n0,inf\n",
        numeric,
        "",
        &["train.csv:2", "column `price`", "finite"],
    );
    train_fails_on("empty", "", AB, "", &["train.csv", "empty"]);
    train_fails_on(
        "header-only",
        "clk,userid,price\n",
        AB,
        "",
        &["train.csv", "no data rows"],
    );
}

#[test]
fn bad_configs_name_the_key() {
    let csv = "clk,userid,price\n0,1,2\n1,2,3\n";
    train_fails_on(
        "type",
        csv,
        "    - {name: userid, active: True, dtype: str, type: picture}\n",
        "",
        &[
            "dataset_config.yaml",
            "feature_cols",
            "unknown feature type 'picture'",
        ],
    );
    train_fails_on(
        "heads",
        csv,
        AB,
        "  num_heads: 3\n",
        &[
            "model_config.yaml:",
            "`num_heads`",
            "does not divide embedding_dim 8",
        ],
    );
    train_fails_on(
        "unknown-key",
        csv,
        AB,
        "  num_rows: 3\n",
        &[
            "model_config.yaml:",
            "`num_rows`",
            "not a key",
            "(did you mean `num_row`?)",
        ],
    );
    let s = Scratch::new("expid");
    s.model_config("");
    s.dataset_config("x.csv", "x.csv", AB);
    assert_fails(
        &s.qnn(&["train", "--config", "config", "--expid", "F"]),
        &["no experiment `F`"],
    );
    s.write(
        "config/model_config.yaml",
        "QNN_tiny:\n  model: QNN\n  dataset_id: D\n",
    );
    assert_fails(
        &s.qnn(&["train", "--config", "config", "--expid", "QNN_tin"]),
        &["no experiment `QNN_tin` in the model config (did you mean `QNN_tiny`?)"],
    );
    assert_fails(
        &s.qnn(&["train", "--config", "nowhere", "--expid", "E"]),
        &["nowhere", "model_config.yaml"],
    );
    let s = Scratch::new("h5");
    s.model_config("");
    s.write(
        "config/dataset_config.yaml",
        "D:\n  data_format: h5\n  train_data: t.h5\n",
    );
    assert_fails(&s.train(), &["data/D/feature_map.json", "data_format: h5"]);
    s.write(
        "config/dataset_config.yaml",
        "D:\n  data_format: parquet\n  rebuild_dataset: False\n  train_data: t.parquet\n",
    );
    assert_fails(
        &s.train(),
        &["data/D/feature_map.json", "data_format: parquet"],
    );
}

/// The dataset of `tests/fixtures/make_fuxictr_formats.py`, which wrote the fixtures.
const FIXTURE_COLS: &str = "    - {name: [userid, adgroup_id, pid, cate_id, campaign_id, customer, brand, cms_segid, cms_group_id, final_gender_code, age_level, pvalue_level, shopping_level, occupation], active: True, dtype: str, type: categorical}\n\
    \x20   - {name: cms_segid_int, active: False, dtype: int, type: categorical}\n\
    \x20   - {name: price, active: True, dtype: float, type: numeric, fill_na: 0}\n\
    \x20   - {name: click_sequence, active: True, dtype: str, type: sequence, splitter: ^, max_len: 3, padding: post}\n";

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn fuxictr_encoded_files_train_as_their_csv_does() {
    let s = Scratch::new("formats");
    let fixtures = repo_root().join("tests/fixtures/fuxictr_formats");
    let mut model = String::from("Base:\n  model_root: ./checkpoints/\n");
    let mut datasets = format!(
        "csv:\n  data_root: ./data/\n  data_format: csv\n  min_categr_count: 2\n  train_data: {}\n  \
         valid_data: {}\n  test_data: {}\n  feature_cols:\n{FIXTURE_COLS}  label_col: {{name: clk, dtype: float}}\n",
        tiny("train_sample.csv"),
        tiny("valid_sample.csv"),
        tiny("test_sample.csv")
    );
    // `parquet` is FuxiCTR 2.3's encoded parquet (rebuild_dataset: False); `parquet_raw` the
    // raw rows as typed parquet.
    for (format, ext) in [
        ("csv", ""),
        ("h5", "h5"),
        ("npz", "npz"),
        ("tfrecord", "tfrecord"),
        ("parquet", "parquet"),
        ("parquet_raw", "parquet"),
    ] {
        model.push_str(&format!(
            "E_{format}:\n  model: QNN\n  dataset_id: {}\n  batch_size: 32\n  embedding_dim: 8\n  \
             num_layers: 1\n  num_row: 2\n  num_heads: 1\n  epochs: 2\n  seed: 7\n  monitor: AUC\n",
            if format == "csv" {
                "csv".to_string()
            } else {
                format!("tiny_{format}")
            }
        ));
        if format == "csv" {
            continue;
        }
        let id = format!("tiny_{format}");
        copy_dir(&fixtures.join(&id), &s.path(&format!("data/{id}")));
        // With the same feature_cols for h5, so that its model can encode raw rows as the CSV's
        // (raw parquet needs them to read its rows at all).
        let columns = match format {
            "h5" => {
                format!("  feature_cols:\n{FIXTURE_COLS}  label_col: {{name: clk, dtype: float}}\n")
            }
            "parquet_raw" => format!(
                "  min_categr_count: 2\n  feature_cols:\n{FIXTURE_COLS}  label_col: {{name: clk, dtype: float}}\n"
            ),
            _ => String::new(),
        };
        let (data_format, rebuild) = match format {
            "parquet" => ("parquet", "  rebuild_dataset: False\n"),
            "parquet_raw" => ("parquet", ""),
            other => (other, ""),
        };
        datasets.push_str(&format!(
            "{id}:\n  data_root: ./data/\n  data_format: {data_format}\n{rebuild}  train_data: ./data/{id}/train.{ext}\n  \
             valid_data: ./data/{id}/valid.{ext}\n  test_data: ./data/{id}/test.{ext}\n{columns}"
        ));
    }
    // The raw parquet train rows as a folder of three part files.
    model.push_str(
        "E_parts:\n  model: QNN\n  dataset_id: tiny_parts\n  batch_size: 32\n  embedding_dim: 8\n  \
         num_layers: 1\n  num_row: 2\n  num_heads: 1\n  epochs: 2\n  seed: 7\n  monitor: AUC\n",
    );
    datasets.push_str(&format!(
        "tiny_parts:\n  data_root: ./data/\n  data_format: parquet\n  \
         train_data: ./data/tiny_parquet_raw/train_parts\n  valid_data: ./data/tiny_parquet_raw/valid.parquet\n  \
         test_data: ./data/tiny_parquet_raw/test.parquet\n  min_categr_count: 2\n  feature_cols:\n{FIXTURE_COLS}  \
         label_col: {{name: clk, dtype: float}}\n"
    ));
    s.write("config/model_config.yaml", &model);
    s.write("config/dataset_config.yaml", &datasets);
    let test_line = |expid: &str| {
        let o = s.qnn(&["train", "--config", "config", "--expid", expid]);
        assert!(o.status.success(), "{expid}: {}", text(&o));
        let out = text(&o);
        out.lines()
            .find(|l| l.contains("test:") && l.contains("logloss"))
            .unwrap_or_else(|| panic!("{expid}: no test metrics in {out}"))
            .split("test:")
            .nth(1)
            .unwrap()
            .trim()
            .to_string()
    };
    let csv = test_line("E_csv");
    // The h5 files and the TFRecords hold the very ids the CSV route makes: same model, same
    // numbers.
    assert_eq!(test_line("E_h5"), csv);
    assert_eq!(test_line("E_tfrecord"), csv);
    // Raw parquet rows are read as the CSV of the same table: the same model again, from one
    // file or from a folder of part files.
    assert_eq!(test_line("E_parquet_raw"), csv);
    assert_eq!(test_line("E_parts"), csv);
    // A part file added to the folder is new data: the cache is rebuilt with its rows.
    fs::copy(
        s.path("data/tiny_parquet_raw/train_parts/part-000000.parquet"),
        s.path("data/tiny_parquet_raw/train_parts/part-000003.parquet"),
    )
    .unwrap();
    assert_ne!(test_line("E_parts"), csv);
    let log = fs::read_to_string(s.path("checkpoints/tiny_parts/E_parts.log")).unwrap();
    assert!(log.contains("rebuilding"), "{log}");
    assert!(
        log.contains("Fit feature processor on 140 train rows"),
        "{log}"
    );
    // FuxiCTR 2.2 and 2.3 number tokens by frequency: other ids, so other initial embeddings.
    assert!(test_line("E_npz").starts_with("logloss: "));
    assert!(test_line("E_parquet").starts_with("logloss: "));
    for format in ["h5", "npz", "tfrecord", "parquet"] {
        let id = format!("tiny_{format}");
        assert!(
            s.path(&format!("data/{id}/qnn_lab/train.safetensors"))
                .is_file()
        );
        // FuxiCTR's own feature map is left as it was.
        assert_eq!(
            fs::read(s.path(&format!("data/{id}/feature_map.json"))).unwrap(),
            fs::read(fixtures.join(&id).join("feature_map.json")).unwrap()
        );
    }
    let log = fs::read_to_string(s.path("checkpoints/tiny_h5/E_h5.log")).unwrap();
    assert!(
        log.contains("Read 100 train rows encoded by FuxiCTR (h5)"),
        "{log}"
    );
    // A second run reads the cache.
    assert_eq!(test_line("E_h5"), csv);
    let log = fs::read_to_string(s.path("checkpoints/tiny_h5/E_h5.log")).unwrap();
    assert!(log.contains("Load feature_map from json"), "{log}");

    // The model trained on h5 predicts raw rows (its vocabularies came from feature_vocab.json)
    // exactly as the one trained on the CSV.
    let predict = |model: &str, out: &str| {
        s.qnn_ok(&[
            "predict",
            "--model",
            model,
            "--data",
            &tiny("test_sample.csv"),
            "--out",
            out,
        ]);
        fs::read_to_string(s.path(out)).unwrap()
    };
    assert_eq!(
        predict("checkpoints/tiny_h5/E_h5.qnn", "h5.csv"),
        predict("checkpoints/csv/E_csv.qnn", "csv.csv")
    );

    // evaluate, predict and inspect take the parquet file of the same rows: the same metrics,
    // the same probabilities (predict writes the column alone for a parquet input), the same maps.
    let parquet_test = "data/tiny_parquet_raw/test.parquet";
    let run = |args: &[&str]| {
        let o = s.qnn(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let model = "checkpoints/csv/E_csv.qnn";
    let evaluate = |data: &str| {
        run(&["evaluate", "--model", model, "--data", data])
            .lines()
            .last()
            .unwrap()
            .to_string()
    };
    assert_eq!(evaluate(parquet_test), evaluate(&tiny("test_sample.csv")));
    let from_csv = predict(model, "from_csv.csv");
    run(&[
        "predict",
        "--model",
        model,
        "--data",
        parquet_test,
        "--out",
        "from_parquet.csv",
    ]);
    let from_parquet = fs::read_to_string(s.path("from_parquet.csv")).unwrap();
    let last_column: Vec<&str> = from_csv
        .lines()
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(from_parquet.lines().collect::<Vec<_>>(), last_column);
    let inspect = |data: &str| run(&["inspect", "--model", model, "--data", data]);
    assert_eq!(inspect(parquet_test), inspect(&tiny("test_sample.csv")));

    // A damaged encoded file: one error line naming it, and no cache left behind.
    let damaged = s.path("data/tiny_tfrecord/valid.tfrecord");
    let mut bytes = fs::read(&damaged).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x40;
    fs::write(&damaged, bytes).unwrap();
    assert_fails(
        &s.qnn(&["train", "--config", "config", "--expid", "E_tfrecord"]),
        &["valid.tfrecord", "checksum"],
    );
    let left: Vec<_> = fs::read_dir(s.path("data/tiny_tfrecord/qnn_lab"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n != ".lock")
        .collect();
    assert!(
        !left
            .iter()
            .any(|n| n.contains("valid") || n == "feature_map.json"),
        "{left:?}"
    );

    // A damaged parquet page that makes the parquet crate panic (a length past the end of its
    // data, at this byte of the fixture) is the same one error line, without a panic message.
    let damaged = s.path("data/tiny_parquet_raw/valid.parquet");
    let mut bytes = fs::read(&damaged).unwrap();
    bytes[677] ^= 0x5a;
    fs::write(&damaged, bytes).unwrap();
    assert_fails(
        &s.qnn(&["train", "--config", "config", "--expid", "E_parquet_raw"]),
        &["valid.parquet", "column `pid`", "damaged parquet data"],
    );
}

#[test]
fn damaged_model_files_and_incomplete_predict_input() {
    let s = Scratch::new("model-errors");
    s.model_config("");
    s.dataset_config(
        &tiny("train_sample.csv"),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    assert!(s.train().status.success());
    let model = s.path("checkpoints/D/E.qnn");
    let bytes = fs::read(&model).unwrap();
    let cut = s.path("cut.qnn");
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let data = tiny("test_sample.csv");
    let o = s.qnn(&[
        "predict", "--model", "cut.qnn", "--data", &data, "--out", "p.csv",
    ]);
    assert_fails(&o, &["cut.qnn"]);
    assert!(!s.path("p.csv").exists());
    let mut flipped = bytes.clone();
    let n = flipped.len();
    flipped[n - 10] ^= 0xff;
    fs::write(s.path("flipped.qnn"), &flipped).unwrap();
    assert_fails(
        &s.qnn(&["evaluate", "--model", "flipped.qnn", "--data", &data]),
        &["flipped.qnn", "checksum"],
    );
    // Predict refuses each of these inputs with one error line and writes nothing.
    let refused = |data: &str, extra: &[&str], fragments: &[&str]| {
        let model = model.to_str().unwrap();
        let mut args = vec![
            "predict", "--model", model, "--data", data, "--out", "p.csv",
        ];
        args.extend_from_slice(extra);
        assert_fails(&s.qnn(&args), fragments);
        assert!(!s.path("p.csv").exists());
    };
    let without_price = s.write("noprice.csv", "clk,userid\n0,1\n");
    refused(
        without_price.to_str().unwrap(),
        &[],
        &["noprice.csv:1", "no such column"],
    );
    // Saved with tabs: the header is one column, and the error says why.
    let tabs = s.write("tabs.csv", "clk\tuserid\tprice\n0\t1\t2.5\n");
    refused(
        tabs.to_str().unwrap(),
        &[],
        &[
            "tabs.csv:1",
            "the header looks like 3 columns separated by tabs",
            "save the file with commas",
        ],
    );
    // The added column may not overwrite one the input has.
    refused(
        &data,
        &["--column", "userid"],
        &[
            "test_sample.csv:1",
            "column `userid`",
            "choose another name with --column",
        ],
    );
    // An output that is an input, however spelt, is refused before anything is written: the
    // input stays as it was.
    let mine = s.write("mine.csv", &fs::read_to_string(&data).unwrap());
    let before = (fs::read(&mine).unwrap(), fs::read(&model).unwrap());
    let model_arg = model.to_str().unwrap();
    let predict_to = |out| {
        vec![
            "predict", "--model", model_arg, "--data", "mine.csv", "--out", out,
        ]
    };
    for (args, fragments) in [
        (
            predict_to("./mine.csv"),
            ["--out ./mine.csv is the --data file", "choose another path"],
        ),
        (
            predict_to("checkpoints/D/../D/E.qnn"),
            [
                "--out checkpoints/D/../D/E.qnn is the --model file",
                "choose another path",
            ],
        ),
        (
            vec![
                "inspect", "--model", model_arg, "--data", "mine.csv", "--svg", "mine.csv",
            ],
            ["--svg mine.csv is the --data file", "choose another path"],
        ),
        (
            vec!["inspect", "--model", model_arg, "--out", model_arg],
            ["is the --model file", "choose another path"],
        ),
    ] {
        assert_fails(&s.qnn(&args), &fragments);
        assert_eq!(
            (fs::read(&mine).unwrap(), fs::read(&model).unwrap()),
            before,
            "{args:?}"
        );
    }

    // A model without quadratic layers (num_layers: 0, which FuxiCTR trains too) has no
    // interaction maps: inspect says so instead of panicking.
    let config = fs::read_to_string(s.path("config/model_config.yaml"))
        .unwrap()
        .replace("num_layers: 1", "num_layers: 0");
    s.write("config/model_config.yaml", &config);
    assert!(s.train().status.success());
    assert_fails(
        &s.qnn(&["inspect", "--model", model.to_str().unwrap()]),
        &["num_layers: 0", "no interaction maps"],
    );
}

#[test]
fn version_says_what_the_binary_was_built_with() {
    let s = Scratch::new("version");
    let long = s.qnn_ok(&["--version"]);
    assert!(
        long.starts_with(&format!("qnn {}\n", env!("CARGO_PKG_VERSION"))),
        "{long}"
    );
    let backends = if cfg!(feature = "cuda") && cfg!(feature = "wgpu") {
        "backends: cpu, wgpu, cuda"
    } else if cfg!(feature = "cuda") {
        "backends: cpu, cuda"
    } else if cfg!(feature = "wgpu") {
        "backends: cpu, wgpu"
    } else {
        "backends: cpu\n"
    };
    assert!(long.contains(backends), "{long}");
    let fusion = long.contains("fusion") && !long.contains("no fusion");
    assert_eq!(fusion, cfg!(feature = "fusion"), "{long}");
    // -V stays the one-line version scripts parse.
    let short = s.qnn_ok(&["-V"]);
    assert_eq!(short.trim(), format!("qnn {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn every_subcommand_has_help() {
    let s = Scratch::new("help");
    for sub in ["train", "evaluate", "predict", "inspect", "tune"] {
        let o = s.qnn(&[sub, "--help"]);
        assert!(o.status.success(), "{sub}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("Usage: qnn"),
            "{sub}"
        );
    }
}

#[test]
fn cache_is_rebuilt_when_the_data_or_settings_change() {
    let s = Scratch::new("stale-cache");
    s.model_config("");
    let train = s.write(
        "train.csv",
        &fs::read_to_string(tiny("train_sample.csv")).unwrap(),
    );
    s.dataset_config(
        &train.display().to_string(),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    assert!(s.train().status.success());
    let log = || fs::read_to_string(s.path("checkpoints/D/E.log")).unwrap();
    assert!(log().contains("Fit feature processor"));
    assert!(s.train().status.success());
    assert!(log().contains("Load feature_map from json"));

    // Same size would not be enough to notice on coarse clocks, so the file grows by a row.
    let mut rows = fs::read_to_string(&train).unwrap();
    let last = rows.lines().last().unwrap().to_string();
    rows.push_str(&last);
    rows.push('\n');
    fs::write(&train, rows).unwrap();
    let o = s.train();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        log().contains("was built from other settings or files; rebuilding"),
        "{}",
        log()
    );
    assert!(
        log().contains("Fit feature processor on 101 train rows"),
        "{}",
        log()
    );

    // A dataset setting changes: rebuilt as well.
    s.dataset_config(
        &train.display().to_string(),
        &tiny("valid_sample.csv"),
        &TINY_COLS.replace("max_len: 3", "max_len: 4"),
    );
    assert!(s.train().status.success());
    assert!(log().contains("rebuilding"), "{}", log());
}

/// The outcome lines `qnn train` prints: validation and test metrics, epochs.
fn outcome(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| {
            l.starts_with("validation:") || l.starts_with("test:") || l.contains(" epochs in ")
        })
        .map(|l| l.split(" epochs in ").next().unwrap().to_string())
        .collect()
}

#[test]
fn a_run_killed_mid_epoch_resumes_to_the_same_result() {
    let s = Scratch::new("resume");
    let planted = repo_root()
        .join("static/examples/planted/planted.csv")
        .canonicalize()
        .unwrap();
    // A test file apart from the train file (the same path would be skipped as FuxiCTR does).
    let test = s.write("test.csv", &fs::read_to_string(&planted).unwrap());
    // 4,000 training rows in batches of 64: 63 steps per epoch, evaluated every 20 steps, so
    // most evaluations (and the state they save) fall inside an epoch.
    s.write(
        "config/model_config.yaml",
        "E:\n  model: QNN\n  dataset_id: P\n  model_root: ./checkpoints/\n  batch_size: 64\n  \
         embedding_dim: 8\n  num_layers: 2\n  num_row: 4\n  net_dropout: 0.1\n  batch_norm: true\n  \
         learning_rate: 0.01\n  epochs: 10\n  eval_steps: 20\n  early_stop_patience: 100\n  \
         monitor: AUC\n  seed: 5\n",
    );
    s.write(
        "config/dataset_config.yaml",
        &format!(
            "P:\n  data_root: ./data/\n  data_format: csv\n  train_data: {p}\n  valid_size: 1000\n  \
             split_type: sequential\n  test_data: {t}\n  \
             feature_cols: [{{name: [f0, f1, f2, f3, f4, f5], active: True, dtype: str, type: categorical}}]\n  \
             label_col: {{name: label, dtype: float}}\n",
            p = planted.display(),
            t = test.display()
        ),
    );
    let whole = s.train();
    assert!(whole.status.success(), "{}", text(&whole));
    let expected = outcome(&whole);
    assert_eq!(expected.len(), 3, "{}", text(&whole));
    let model = s.path("checkpoints/P/E.qnn");
    let state = s.path("checkpoints/P/E.state");
    let log = s.path("checkpoints/P/E.log");
    let whole_model = qnn_zoo::NetworkFile::load(&model).unwrap();
    assert!(!state.exists(), "a finished run removes its training state");
    fs::remove_dir_all(s.path("checkpoints")).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_qnn"))
        .args(["train", "--config", "config", "--expid", "E"])
        .current_dir(&s.0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once epoch 3 has started and a state from an evaluation exists.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    loop {
        let started = fs::read_to_string(&log).is_ok_and(|l| l.contains("Epoch=3 start"));
        if started && state.exists() {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the run never reached epoch 3"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let killed_log = fs::read_to_string(&log).unwrap();
    assert!(!killed_log.contains("Training finished"), "{killed_log}");
    // The best model so far is a complete model file while the run is away.
    let partial = qnn_zoo::NetworkFile::load(&model).unwrap();
    assert_eq!(partial.info["in_progress"], true);

    let resumed = s.qnn(&["train", "--config", "config", "--expid", "E", "--resume"]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    let log = fs::read_to_string(&log).unwrap();
    assert!(log.contains("Resuming from"), "{log}");
    assert_eq!(outcome(&resumed), expected);
    let resumed_model = qnn_zoo::NetworkFile::load(&model).unwrap();
    assert!(
        resumed_model.weights == whole_model.weights,
        "the resumed run's final weights differ from the uninterrupted run's"
    );
    assert!(!state.exists());

    // Without a saved state, --resume starts over (a restarted job script needs no special case).
    fs::remove_dir_all(s.path("checkpoints")).unwrap();
    let fresh = s.qnn(&["train", "--config", "config", "--expid", "E", "--resume"]);
    assert!(fresh.status.success(), "{}", text(&fresh));
    assert_eq!(outcome(&fresh), expected);

    // A damaged state is a one-line error naming the file, not a fresh start over it.
    fs::create_dir_all(s.path("checkpoints/P")).unwrap();
    fs::write(&state, b"not a state").unwrap();
    let o = s.qnn(&["train", "--config", "config", "--expid", "E", "--resume"]);
    assert_fails(&o, &["E.state", "not a valid QNN Lab training state"]);
}

#[test]
fn a_random_split_is_cached_per_seed() {
    let s = Scratch::new("split-seed");
    let planted = repo_root().join("static/examples/planted/planted.csv");
    let write = |seed: u32| {
        s.model_config(&format!("  seed: {seed}\n"));
        s.write(
            "config/dataset_config.yaml",
            &format!(
                "D:\n  data_root: ./data/\n  data_format: csv\n  train_data: {}\n  valid_size: 0.2\n  \
                 split_type: random\n  \
                 feature_cols: [{{name: [f0, f1, f2, f3, f4, f5], active: True, dtype: str, type: categorical}}]\n  \
                 label_col: {{name: label, dtype: float}}\n",
                planted.canonicalize().unwrap().display()
            ),
        );
    };
    let valid = || fs::read(s.path("data/D/valid.safetensors")).unwrap();
    write(1);
    assert!(s.train().status.success());
    let first = valid();
    write(2);
    let o = s.train();
    assert!(o.status.success(), "{}", text(&o));
    let log = fs::read_to_string(s.path("checkpoints/D/E.log")).unwrap();
    assert!(log.contains("rebuilding"), "{log}");
    assert_ne!(valid(), first, "seed 2 has its own validation rows");
    write(1);
    assert!(s.train().status.success());
    assert_eq!(valid(), first, "seed 1 gets its split back");

    // `qnn tune` over seeds: every experiment builds the split of its own seed.
    s.write(
        "tuner.yaml",
        "base_config: ./config/\nbase_expid: E\ndataset_id: D\ntuner_space:\n  seed: [3, 4]\n",
    );
    s.qnn_ok(&["tune", "--config", "tuner.yaml"]);
    let logs: Vec<String> = fs::read_dir(s.path("checkpoints/D"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("E_00"))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(logs.len(), 2);
    for log in logs {
        assert!(log.contains("Fit feature processor"), "{log}");
    }
}

#[test]
fn four_runs_started_together_share_one_cache_and_keep_every_result() {
    let s = Scratch::new("concurrent");
    let experiments: String = (1..=4)
        .map(|i| {
            format!(
                "E{i}:\n  model: QNN\n  dataset_id: D\n  batch_size: 32\n  embedding_dim: 4\n  \
                 num_layers: 1\n  num_row: {i}\n  epochs: 2\n  seed: {i}\n"
            )
        })
        .collect();
    s.write(
        "config/model_config.yaml",
        &format!("Base:\n  model_root: ./checkpoints/\n{experiments}"),
    );
    s.dataset_config(
        &tiny("train_sample.csv"),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    let children: Vec<_> = (1..=4)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_qnn"))
                .args(["train", "--config", "config", "--expid", &format!("E{i}")])
                .current_dir(&s.0)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    let results = fs::read_to_string(s.path("config.csv")).unwrap();
    for i in 1..=4 {
        let lines = results
            .lines()
            .filter(|l| l.contains(&format!(",[exp_id] E{i},")) && l.contains(",[test] logloss: "))
            .count();
        assert_eq!(lines, 1, "E{i}:\n{results}");
    }
    assert_eq!(results.lines().count(), 4, "{results}");
    let mut builds = 0;
    for i in 1..=4 {
        let log = fs::read_to_string(s.path(&format!("checkpoints/D/E{i}.log"))).unwrap();
        assert!(log.contains("Training finished."), "{log}");
        assert!(
            log.contains("Load feature_map from json") || log.contains("Fit feature processor"),
            "{log}"
        );
        builds += usize::from(log.contains("Fit feature processor"));
        qnn_zoo::NetworkFile::load(&s.path(&format!("checkpoints/D/E{i}.qnn"))).unwrap();
    }
    assert_eq!(
        builds, 1,
        "the cache is built by one run and read by the others"
    );
}

#[test]
fn the_same_experiment_cannot_run_twice_at_once() {
    let s = Scratch::new("same-expid");
    s.model_config("");
    s.dataset_config(
        &tiny("train_sample.csv"),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    // Hold the run's lock as a running `qnn train` would.
    let lock = fs::File::create({
        fs::create_dir_all(s.path("checkpoints/D")).unwrap();
        s.path("checkpoints/D/.E.lock")
    })
    .unwrap();
    lock.lock().unwrap();
    let o = s.train();
    assert_fails(
        &o,
        &["`E` is being trained by another qnn process", ".E.lock"],
    );
    drop(lock);
    assert!(s.train().status.success());
}

#[test]
fn results_never_go_into_a_data_file_of_the_same_name() {
    // The config dir is named `planted` and the working directory holds the data `planted.csv`:
    // FuxiCTR's results file name would append to the data.
    let s = Scratch::new("results-name");
    let data = fs::read_to_string(repo_root().join("static/examples/planted/planted.csv")).unwrap();
    let csv = s.write("planted.csv", &data);
    s.write(
        "planted/model_config.yaml",
        "E:\n  model: QNN\n  dataset_id: P\n  epochs: 1\n  embedding_dim: 4\n  num_row: 2\n",
    );
    s.write(
        "planted/dataset_config.yaml",
        &format!(
            "P:\n  train_data: {}\n  valid_size: 1000\n  \
             feature_cols: [{{name: [f0, f1, f2, f3, f4, f5], active: True, dtype: str, type: categorical}}]\n  \
             label_col: {{name: label, dtype: float}}\n",
            csv.display()
        ),
    );
    let o = s.qnn(&["train", "--config", "planted", "--expid", "E"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("planted.csv is not a results file"),
        "{}",
        text(&o)
    );
    assert_eq!(
        fs::read_to_string(&csv).unwrap(),
        data,
        "the data file is untouched"
    );
    let results = fs::read_to_string(s.path("planted.results.csv")).unwrap();
    assert!(results.contains(",[exp_id] E,"), "{results}");
    // A real results file keeps getting the lines.
    s.qnn_ok(&["train", "--config", "planted", "--expid", "E"]);
    let results = fs::read_to_string(s.path("planted.results.csv")).unwrap();
    assert_eq!(results.lines().count(), 2, "{results}");
}

#[test]
fn a_truncated_or_damaged_cache_is_rebuilt() {
    let s = Scratch::new("truncated-cache");
    s.model_config("");
    s.dataset_config(
        &tiny("train_sample.csv"),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    let first = s.train();
    assert!(first.status.success(), "{}", text(&first));
    let log = || fs::read_to_string(s.path("checkpoints/D/E.log")).unwrap();
    let split = s.path("data/D/train.safetensors");
    let bytes = fs::read(&split).unwrap();
    // Cut short (a copy interrupted, a full disk), then garbage of the same length.
    for damaged in [bytes[..bytes.len() / 2].to_vec(), vec![b'x'; bytes.len()]] {
        fs::write(&split, &damaged).unwrap();
        let o = s.train();
        assert!(o.status.success(), "{}", text(&o));
        assert!(log().contains("train.safetensors"), "{}", log());
        assert!(log().contains("rebuilding the dataset"), "{}", log());
        assert!(log().contains("Fit feature processor"), "{}", log());
        assert_eq!(
            outcome(&o),
            outcome(&first),
            "the rebuilt cache trains the same"
        );
        assert_eq!(fs::read(&split).unwrap(), bytes, "the cache is whole again");
    }
}

/// `--device wgpu` end to end (Mesa's lavapipe in CI): `cargo test -p qnn-cli --features wgpu`.
#[cfg(feature = "wgpu")]
#[test]
fn trains_and_predicts_on_wgpu() {
    let s = Scratch::new("wgpu");
    s.model_config("");
    s.dataset_config(
        &tiny("train_sample.csv"),
        &tiny("valid_sample.csv"),
        TINY_COLS,
    );
    s.qnn_ok(&[
        "train", "--config", "config", "--expid", "E", "--device", "wgpu",
    ]);
    let stdout = s.qnn_ok(&[
        "evaluate",
        "--model",
        "checkpoints/D/E.qnn",
        "--data",
        &tiny("test_sample.csv"),
        "--device",
        "wgpu",
    ]);
    assert!(stdout.starts_with("100 rows: logloss: "));
}
