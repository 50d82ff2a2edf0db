//! FuxiCTR configs opened in the page: a `model_config.yaml` and a `dataset_config.yaml`, read
//! exactly as `qnn train` reads them, each key explained from the vocabulary, run on the page's
//! data, with the `qnn train` command for the full-scale run. Free of the page, so that it is
//! tested natively.

use qnn_data::yaml::{self, Value};
use qnn_data::{ConfigFile, Experiment};
use qnn_keys::Effect;

/// The two files.
#[derive(Debug, Clone)]
pub struct OpenedConfigs {
    pub model: ConfigFile,
    pub dataset: ConfigFile,
    /// The model config's experiments (its blocks but `Base`), in file order.
    pub experiments: Vec<String>,
}

/// One key of the merged experiment, as the page lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyLine {
    pub key: String,
    pub value: String,
    /// The file it came from.
    pub file: String,
    pub help: String,
    /// Read, or accepted without effect here (FuxiCTR runtime settings).
    pub read: bool,
}

/// An experiment of the opened configs, read and explained.
#[derive(Debug, Clone)]
pub struct Explained {
    pub expid: String,
    pub keys: Vec<KeyLine>,
    /// The data files the dataset block names (`train_data`, `valid_data`, `test_data`).
    pub data_files: Vec<(String, String)>,
    pub notes: Vec<String>,
}

/// The model config and the dataset config among two files: by name when the names say it
/// (`model_config.yaml`, `dataset_config.yaml`), else by which one has a block with `model:`.
pub fn open(files: Vec<(String, String)>) -> Result<OpenedConfigs, String> {
    let [a, b]: [(String, String); 2] = files.try_into().map_err(|f: Vec<_>| {
        format!(
            "open two files together, model_config.yaml and dataset_config.yaml (got {})",
            f.len()
        )
    })?;
    let blocks = |(name, text): &(String, String)| -> Result<Vec<(String, bool)>, String> {
        let root = yaml::parse(text).map_err(|e| format!("{name}: {e}"))?;
        let map = root
            .as_map()
            .ok_or_else(|| format!("{name}: is not a YAML mapping of blocks"))?;
        Ok(map
            .entries()
            .iter()
            .map(|e| {
                let has_model = e.value.as_map().is_some_and(|m| m.get("model").is_some());
                (e.key.clone(), has_model)
            })
            .collect())
    };
    let (blocks_a, blocks_b) = (blocks(&a)?, blocks(&b)?);
    let says = |name: &str, what: &str| name.to_ascii_lowercase().contains(what);
    let a_is_model = if says(&a.0, "model") || says(&b.0, "dataset") {
        true
    } else if says(&b.0, "model") || says(&a.0, "dataset") {
        false
    } else {
        blocks_a.iter().any(|(_, m)| *m)
    };
    let ((model, model_blocks), dataset) = if a_is_model {
        ((a, blocks_a), b)
    } else {
        ((b, blocks_b), a)
    };
    let experiments: Vec<String> = model_blocks
        .into_iter()
        .filter(|(name, _)| name != "Base")
        .map(|(name, _)| name)
        .collect();
    if experiments.is_empty() {
        return Err(format!("{}: has no experiment block", model.0));
    }
    let file = |(name, text): (String, String)| ConfigFile { name, text };
    Ok(OpenedConfigs {
        model: file(model),
        dataset: file(dataset),
        experiments,
    })
}

impl OpenedConfigs {
    /// Reads experiment `expid` as `qnn train --expid` would (Base, the block, the dataset
    /// block; every key checked) and explains each key.
    pub fn explain(&self, expid: &str) -> Result<Explained, String> {
        let exp = Experiment::load(
            std::slice::from_ref(&self.model),
            std::slice::from_ref(&self.dataset),
            expid,
        )
        .map_err(|e| e.to_string())?;
        let keys = exp
            .params()
            .entries()
            .iter()
            .map(|e| {
                let known = qnn_keys::find(&e.key);
                KeyLine {
                    key: e.key.clone(),
                    value: e.value.to_string(),
                    file: exp.origin(&e.key).unwrap_or(&self.model.name).to_string(),
                    help: known.map(|k| k.help.to_string()).unwrap_or_default(),
                    read: known.is_some_and(|k| k.effect != Effect::NoEffect),
                }
            })
            .collect();
        let data_files = ["train_data", "valid_data", "test_data"]
            .into_iter()
            .filter_map(|k| match exp.get(k) {
                Some(Value::Str(path)) => Some((k.to_string(), path.clone())),
                _ => None,
            })
            .collect();
        Ok(Explained {
            expid: expid.to_string(),
            keys,
            data_files,
            notes: exp.notes.clone(),
        })
    }
}

impl Explained {
    /// The full-scale run of the same experiment.
    pub fn command(&self) -> String {
        format!(
            "qnn train --config DIR --expid {}    # DIR: the folder holding these two files; run where the data paths lead",
            self.expid
        )
    }

    /// The data files the configs name that are not among `uploaded` (matched by file name, as
    /// the page's data files are).
    pub fn missing(&self, uploaded: &[String]) -> Vec<String> {
        self.data_files
            .iter()
            .map(|(_, path)| path.rsplit(['/', '\\']).next().unwrap_or(path).to_string())
            .filter(|name| !uploaded.contains(name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Vec<(String, String)> {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../crates/cli/configs/tiny_csv/"
        );
        ["dataset_config.yaml", "model_config.yaml"]
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    std::fs::read_to_string(format!("{dir}{n}")).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn the_bundled_configs_open_and_every_key_is_explained() {
        let opened = open(tiny()).unwrap();
        assert_eq!(opened.model.name, "model_config.yaml");
        assert_eq!(opened.experiments, ["QNN_tiny", "DeepFM_tiny"]);
        let qnn = opened.explain("QNN_tiny").unwrap();
        let key = |k: &str| qnn.keys.iter().find(|l| l.key == k).unwrap();
        assert_eq!(key("embedding_dim").value, "8");
        assert_eq!(key("embedding_dim").file, "model_config.yaml");
        assert_eq!(key("min_categr_count").file, "dataset_config.yaml");
        assert!(
            qnn.keys.iter().all(|l| !l.help.is_empty()),
            "{:?}",
            qnn.keys
        );
        assert_eq!(
            qnn.missing(&["train_sample.csv".into(), "valid_sample.csv".into()]),
            ["test_sample.csv"]
        );
        assert!(
            qnn.command()
                .starts_with("qnn train --config DIR --expid QNN_tiny")
        );
        assert!(opened.explain("DeepFM_tiny").is_ok());
    }

    #[test]
    fn files_are_told_apart_by_content_when_their_names_do_not_say() {
        let mut files = tiny();
        files.reverse();
        files[0].0 = "a.yaml".into();
        files[1].0 = "b.yaml".into();
        let opened = open(files).unwrap();
        assert_eq!(opened.model.name, "a.yaml");
        assert_eq!(opened.dataset.name, "b.yaml");
    }

    #[test]
    fn bad_configs_are_refused_with_the_file_and_key() {
        let mut files = tiny();
        files[1].1 = files[1].1.replace("embedding_dim: 8", "embeding_dim: 8");
        let e = open(files).unwrap().explain("QNN_tiny").unwrap_err();
        assert!(
            e.contains("model_config.yaml") && e.contains("embeding_dim"),
            "{e}"
        );
        let e = open(tiny()[..1].to_vec()).unwrap_err();
        assert!(e.contains("open two files together"), "{e}");
        let mut files = tiny();
        files[0].1 = "tiny_csv: [unclosed".into();
        assert!(open(files).unwrap_err().starts_with("dataset_config.yaml"));
    }
}
