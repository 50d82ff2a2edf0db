//! The shipped Frappe parity experiment (`crates/cli/configs/frappe_x1`) loads unchanged and
//! yields the split on the real data: 46,177 / 11,545 / 28,860 rows, ten fields.
//! The full training run is the acceptance run reported in the README (too long for a test).

use std::path::{Path, PathBuf};

use qnn_data::config::ConfigFile;
use qnn_data::processor::{encode, fit, split_rows, training_columns};
use qnn_data::{DatasetSpec, Experiment, RawTable};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn file(path: &Path) -> ConfigFile {
    ConfigFile {
        name: path.display().to_string(),
        text: std::fs::read_to_string(path).unwrap(),
    }
}

#[test]
fn frappe_example_config_gives_the_parity_split() {
    let dir = root().join("crates/cli/configs/frappe_x1");
    let exp = Experiment::load(
        &[file(&dir.join("model_config.yaml"))],
        &[file(&dir.join("dataset_config.yaml"))],
        "QNN_Frappe_x1",
    )
    .unwrap();
    let (model, train) = qnn_train::fuxictr::configs(&exp).unwrap();
    assert_eq!(model, qnn_model::QnnConfig::paper_frappe().into());
    assert_eq!(train, qnn_train::TrainConfig::paper_frappe());
    let (spec, _) = DatasetSpec::from_experiment(&exp).unwrap();

    // Paths in FuxiCTR configs are relative to the working directory: the repository root here.
    let valid_csv = root().join(spec.train_data.as_deref().unwrap());
    if !valid_csv.exists() {
        // CI has ../shared: a lost data file there must fail the run, not pass it quietly.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is missing (CI must have ../shared)",
            valid_csv.display()
        );
        eprintln!(
            "skipped: {} is absent (../shared is not beside the repository)",
            valid_csv.display()
        );
        return;
    }
    let read = |path: &Path| {
        RawTable::read(
            std::fs::File::open(path).unwrap(),
            &path.display().to_string(),
            &training_columns(&spec),
            &mut |_| {},
        )
        .unwrap()
    };
    let table = read(&valid_csv);
    let (train_rows, valid_rows, test_rows) = split_rows(table.len(), &spec, 2024);
    assert_eq!(test_rows, None);
    let valid_rows = valid_rows.unwrap();
    assert_eq!((train_rows.len(), valid_rows.len()), (46_177, 11_545));
    assert_eq!(valid_rows[0], 46_177, "valid is the tail of the file");
    let map = fit(&spec, &table, &train_rows).unwrap();
    assert_eq!(map.num_fields(), 10);
    let test = read(&root().join(spec.test_data.as_deref().unwrap()));
    let test_data = encode(&map, &test, &(0..test.len()).collect::<Vec<_>>()).unwrap();
    assert_eq!(test_data.len(), 28_860);
}
