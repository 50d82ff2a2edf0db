//! What each fuzz target does with one input, shared by the targets (`fuzz_targets/`) and the
//! workspace test that replays the corpora (`crates/train/tests/fuzz_corpus.rs`). Each returns
//! whether the input was accepted; rejecting it with an error is as fine as accepting it, a panic
//! is the bug.

use burn::tensor::Device;
use qnn_data::schema::{ColumnRole, DatasetChoice, SplitChoice, profile_csv};
use qnn_data::{ConfigFile, DatasetSpec, Experiment, MemoryFiles, MemoryStore};
use qnn_maps::{InteractionMaps, MapView};
use qnn_protocol::{FromWorker, ToWorker};
use qnn_zoo::{Network, NetworkFile};

/// A model file as `qnn evaluate/predict/inspect` and the page read it (any network's): parse
/// and validate the safetensors file, then build the network on the CPU backend.
pub fn model_file(data: &[u8]) -> bool {
    match NetworkFile::from_bytes(data) {
        Ok(file) => Network::from_file(&file, &Device::flex()).is_ok(),
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
    config_texts(&expid, model, dataset)
}

/// [`config`] on the three texts.
fn config_texts(expid: &str, model: String, dataset: String) -> bool {
    let model = [ConfigFile {
        name: "model_config.yaml".into(),
        text: model,
    }];
    let dataset = [ConfigFile {
        name: "dataset_config.yaml".into(),
        text: dataset,
    }];
    let Ok(exp) = Experiment::load(&model, &dataset, expid) else {
        return false;
    };
    let dataset_ok = DatasetSpec::from_experiment(&exp).is_ok();
    qnn_train::fuxictr::configs(&exp).is_ok() && dataset_ok
}

/// A CSV file as the page takes it, through to the encoded splits `qnn train` makes of it: profile
/// the file and guess each column's role (the first column is the label when none is guessed)
/// and the task from the label's values,
/// export the schema as `dataset_config.yaml`, read that back — it must read, with the chosen
/// columns, since the page offers it for download and trains from it — then fit and encode the
/// data (vocabularies, scalers, sequences, the seeded random split). The input's length picks
/// `min_categr_count` 1 or 2.
pub fn csv(data: &[u8]) -> bool {
    let Ok(profile) = profile_csv(data, "fuzz.csv", Some(200_000)) else {
        return false;
    };
    let mut columns: Vec<(String, ColumnRole)> = profile
        .columns
        .iter()
        .map(|c| c.name.clone())
        .zip(profile.guess_roles())
        .collect();
    if !columns.iter().any(|(_, r)| *r == ColumnRole::Label) {
        columns[0].1 = ColumnRole::Label;
    }
    // The last feature column gets its own embedding width half the time.
    let widths = columns
        .iter()
        .rev()
        .find(|(_, r)| !matches!(r, ColumnRole::Label | ColumnRole::Ignore))
        .filter(|_| data.len() % 4 < 2)
        .map(|(name, _)| (name.clone(), 1 + data.len() % 3))
        .into_iter()
        .collect();
    let choice = DatasetChoice {
        dataset_id: "fuzz".into(),
        train_file: "fuzz.csv".into(),
        split: SplitChoice::Random {
            valid: 0.2,
            test: 0.2,
        },
        min_categr_count: 1 + data.len() % 2,
        with_missing: profile
            .columns
            .iter()
            .filter(|c| c.missing > 0)
            .map(|c| c.name.clone())
            .collect(),
        columns,
        widths,
    };
    let Ok(yaml) = choice.to_yaml() else {
        return false;
    };
    // The page sets the task the label's values call for (regression for numbers other than
    // 0 and 1), and so the labels are read as that task's.
    let task = choice
        .label()
        .ok()
        .and_then(|label| profile.task_of(label))
        .unwrap_or_default();
    let read_back = Experiment::load(
        &[ConfigFile {
            name: "model_config.yaml".into(),
            text: format!("E:\n    dataset_id: fuzz\n    task: {}\n", task.name()),
        }],
        &[ConfigFile {
            name: "dataset_config.yaml".into(),
            text: yaml.clone(),
        }],
        "E",
    )
    .map_err(|e| e.to_string())
    .and_then(|exp| DatasetSpec::from_experiment(&exp).map_err(|e| e.to_string()));
    let spec = match read_back {
        Ok((spec, _)) => spec,
        Err(e) => panic!("the exported dataset_config.yaml does not read back: {e}\n{yaml}"),
    };
    let chosen: Vec<&str> = choice
        .columns
        .iter()
        .filter(|(_, r)| !matches!(r, ColumnRole::Label | ColumnRole::Ignore))
        .map(|(n, _)| n.as_str())
        .collect();
    let read: Vec<&str> = spec.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        read, chosen,
        "the exported columns read back differently:\n{yaml}"
    );
    assert_eq!(Ok(spec.label.as_str()), choice.label(), "{yaml}");
    assert_eq!(spec.task, task);
    let files = MemoryFiles {
        files: vec![("fuzz.csv".into(), data.to_vec())],
    };
    qnn_data::prepare_dataset(&spec, 2024, &mut &files, &mut MemoryStore).is_ok()
}

/// A message between the page and the worker as the receiver reads it (JSON here stands in for
/// the JavaScript value the page posts: serde-wasm-bindgen and serde_json drive the same
/// `Deserialize`). A message from the worker must be drawable: its interaction maps in every view,
/// layer and head the page offers, normalised or not. A `Train` message from the page goes
/// through the config readers the worker runs first.
pub fn message(data: &[u8]) -> bool {
    if let Ok(msg) = serde_json::from_slice::<FromWorker>(data) {
        if let FromWorker::Finished { maps: Some(m), .. }
        | FromWorker::Evaluated { maps: Some(m), .. }
        | FromWorker::Progress { maps: Some(m), .. }
        | FromWorker::ModelLoaded { maps: Some(m), .. } = &msg
        {
            draw(m);
        }
        if let FromWorker::Finished { samples, .. } = &msg {
            samples
                .iter()
                .filter_map(|s| s.maps.as_ref())
                .for_each(draw);
        }
        return true;
    }
    match serde_json::from_slice::<ToWorker>(data) {
        Ok(ToWorker::Train {
            dataset_yaml,
            model_yaml,
            expid,
            ..
        }) => config_texts(&expid, model_yaml, dataset_yaml),
        Ok(_) => true,
        Err(_) => false,
    }
}

/// What the page's heatmap computes from maps: each view, layer (or all) and head (or all),
/// normalised or not, every cell with its two field names, and the hottest pair.
fn draw(m: &InteractionMaps) {
    let heads = m.layers.first().map_or(0, |l| l.heads.len());
    for view in [MapView::Weight, MapView::Activation] {
        for layer in std::iter::once(None).chain((0..=m.layers.len()).map(Some)) {
            for head in std::iter::once(None).chain((0..=heads).map(Some)) {
                let Some(matrix) = m.select(view, layer, head) else {
                    continue;
                };
                for matrix in [matrix.row_normalized(), matrix] {
                    if let Some((a, b, _)) = matrix.top_off_diagonal() {
                        let _ = (&m.field_names[a], &m.field_names[b]);
                    }
                    for a in 0..matrix.size {
                        for b in 0..matrix.size {
                            let _ = (matrix.get(a, b), &m.field_names[a], &m.field_names[b]);
                        }
                    }
                }
            }
        }
    }
}
