//! What each fuzz target does with one input, shared by the targets (`fuzz_targets/`) and the
//! workspace test that replays the corpora (`crates/train/tests/fuzz_corpus.rs`). Each returns
//! whether the input was accepted; rejecting it with an error is as fine as accepting it, a panic
//! is the bug.

use burn::tensor::Device;
use qnn_data::{ConfigFile, DatasetSpec, Experiment};
use qnn_model::ModelFile;

/// A model file as `qnn evaluate/predict/inspect` and the page read it: parse and validate the
/// safetensors file, then build the model on the CPU backend.
pub fn model_file(data: &[u8]) -> bool {
    match ModelFile::from_bytes(data) {
        Ok(file) => file.build(&Device::flex()).is_ok(),
        Err(_) => false,
    }
}

/// FuxiCTR config files as `qnn train --config DIR --expid ID` reads them, through to the typed
/// dataset, model and training configs. The input is `expid NUL model_config.yaml NUL
/// dataset_config.yaml`, each part lossily decoded as UTF-8.
pub fn config(data: &[u8]) -> bool {
    let mut parts = data.splitn(3, |&b| b == 0);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (expid, model, dataset) = (next(), next(), next());
    let model = [ConfigFile {
        name: "model_config.yaml".into(),
        text: model,
    }];
    let dataset = [ConfigFile {
        name: "dataset_config.yaml".into(),
        text: dataset,
    }];
    let Ok(exp) = Experiment::load(&model, &dataset, &expid) else {
        return false;
    };
    let dataset_ok = DatasetSpec::from_experiment(&exp).is_ok();
    qnn_train::fuxictr::configs(&exp).is_ok() && dataset_ok
}
