//! FuxiCTR 2.0.1's own model-zoo configs (`tests/fixtures/fuxictr_model_zoo`, copied unchanged)
//! load as `qnn train` reads them: every experiment, its network and its dataset, with the keys
//! of their `Base` blocks (`ordered_features: null`, `feature_specs: null`, runtime settings).

use std::fs;
use std::path::{Path, PathBuf};

use qnn_data::config::ConfigFile;
use qnn_data::{DatasetSpec, Experiment};

fn zoo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fuxictr_model_zoo")
}

/// The top-level blocks of a YAML file but `Base`, with their `model:`.
fn experiments(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let code = line.split('#').next().unwrap().trim_end();
        if !line.starts_with([' ', '#', '-']) && code.ends_with(':') {
            out.push((code.trim_end_matches(':').to_string(), String::new()));
        } else if let (Some(m), Some(last)) = (code.trim().strip_prefix("model: "), out.last_mut())
        {
            last.1 = m.trim().to_string();
        }
    }
    out.retain(|(b, _)| b != "Base");
    out
}

#[test]
fn fuxictrs_model_zoo_configs_load_unchanged() {
    let mut loaded = Vec::new();
    for dir in fs::read_dir(zoo()).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let text = |name: &str| fs::read_to_string(dir.join(name)).unwrap();
        let model = text("model_config.yaml");
        for (expid, network) in experiments(&model) {
            // The `_default` blocks are templates whose dataset is `TBD` (FuxiCTR cannot run them
            // either): they are read with the first dataset of the folder in its place.
            let model = if expid.ends_with("_default") {
                assert!(model.contains("dataset_id: TBD"), "{expid}");
                let first = &experiments(&text("dataset_config.yaml"))[0].0;
                model.replace("dataset_id: TBD", &format!("dataset_id: {first}"))
            } else {
                model.clone()
            };
            let exp = Experiment::load(
                &[ConfigFile {
                    name: "model_config.yaml".into(),
                    text: model,
                }],
                &[ConfigFile {
                    name: "dataset_config.yaml".into(),
                    text: text("dataset_config.yaml"),
                }],
                &expid,
            )
            .unwrap_or_else(|e| panic!("{}: {expid}: {e}", dir.display()));
            let (config, _) = qnn_train::fuxictr::configs(&exp)
                .unwrap_or_else(|e| panic!("{}: {expid}: {e}", dir.display()));
            assert_eq!(config.name(), network, "{expid}");
            DatasetSpec::from_experiment(&exp)
                .unwrap_or_else(|e| panic!("{}: {expid}: {e}", dir.display()));
            loaded.push(expid);
        }
    }
    loaded.sort();
    assert_eq!(
        loaded,
        [
            "DCNv2_default",
            "DCNv2_test",
            "DNN_default",
            "DNN_test",
            "DeepFM_default",
            "DeepFM_test",
            "DeepFM_test2",
            "DualMLP_default",
            "DualMLP_test",
            "FM_default",
            "FM_test",
            "FinalMLP_default",
            "FinalMLP_test",
            "LR_default",
            "LR_test"
        ]
    );
}
