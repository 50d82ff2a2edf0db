//! Every experiment of every config folder shipped in `crates/cli/configs` loads as `qnn train`
//! reads it (network, training settings, dataset), and every tuner file beside them names an
//! experiment that exists: a typo in an example is a failing test, not a user's first error.

use std::fs;
use std::path::{Path, PathBuf};

use qnn_data::config::ConfigFile;
use qnn_data::{DatasetSpec, Experiment};

fn configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs")
}

fn file(path: &Path) -> ConfigFile {
    ConfigFile {
        name: path.display().to_string(),
        text: fs::read_to_string(path).unwrap(),
    }
}

/// The top-level blocks of a YAML file but `Base` (experiment ids; FuxiCTR's layout).
fn blocks(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with([' ', '#', '-']) && l.trim_end().ends_with(':'))
        .map(|l| l.trim_end().trim_end_matches(':').to_string())
        .filter(|b| b != "Base")
        .collect()
}

#[test]
fn every_shipped_experiment_and_tuner_file_loads() {
    let mut loaded = 0;
    for dir in fs::read_dir(configs()).unwrap() {
        let dir = dir.unwrap().path();
        let model = dir.join("model_config.yaml");
        let dataset = dir.join("dataset_config.yaml");
        let expids = blocks(&fs::read_to_string(&model).unwrap());
        assert!(!expids.is_empty(), "{}", model.display());
        for expid in &expids {
            let exp = Experiment::load(&[file(&model)], &[file(&dataset)], expid)
                .unwrap_or_else(|e| panic!("{expid}: {e}"));
            qnn_train::fuxictr::configs(&exp).unwrap_or_else(|e| panic!("{expid}: {e}"));
            DatasetSpec::from_experiment(&exp).unwrap_or_else(|e| panic!("{expid}: {e}"));
            loaded += 1;
        }
        for tuner in fs::read_dir(&dir).unwrap() {
            let tuner = tuner.unwrap().path();
            let name = tuner.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with("_config.yaml") {
                continue;
            }
            let text = fs::read_to_string(&tuner).unwrap();
            let base = text
                .lines()
                .find_map(|l| l.strip_prefix("base_expid:"))
                .unwrap_or_else(|| panic!("{name}: no base_expid"))
                .trim();
            assert!(expids.iter().any(|e| e == base), "{name}: {base}");
        }
    }
    assert!(loaded >= 12, "only {loaded} experiments found");
}
