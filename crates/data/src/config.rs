//! FuxiCTR experiment configs: `model_config.yaml` + `dataset_config.yaml`, merged as FuxiCTR's
//! `load_config` merges them (spec §C.1), with every key either honoured, accepted as a no-op
//! with a note, or rejected by name.
//!
//! Takes file contents, not paths: the CLI reads the files, the browser has them in memory.

use std::collections::HashMap;

use crate::yaml::{self, Mapping, Value};
use qnn_keys::{Effect, Key};

/// One YAML file: its name (for messages) and its text.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub name: String,
    pub text: String,
}

/// A config problem, located by file, line and key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}: {reason}", location(file, *line), key.as_ref().map(|k| format!(": key `{k}`")).unwrap_or_default())]
pub struct ConfigError {
    pub file: String,
    /// 1-based line of the key, when known.
    pub line: Option<usize>,
    pub key: Option<String>,
    pub reason: String,
}

fn location(file: &str, line: Option<usize>) -> String {
    match line {
        Some(l) => format!("{file}:{l}"),
        None => file.to_string(),
    }
}

/// A merged experiment: `Base`, then the experiment block, then the dataset block.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub expid: String,
    params: Mapping,
    /// File each key came from.
    origins: HashMap<String, String>,
    /// Things the user should know: keys accepted without effect.
    pub notes: Vec<String>,
    /// Where a missing key should have been written: the dataset block's file.
    dataset_file: String,
}

impl Experiment {
    /// FuxiCTR's `load_config(config_dir, expid)` over the files of a config directory.
    pub fn load(
        model_files: &[ConfigFile],
        dataset_files: &[ConfigFile],
        expid: &str,
    ) -> Result<Self, ConfigError> {
        let mut base = None;
        let mut block = None;
        let mut experiments = Vec::new();
        for file in model_files {
            let root = parse_root(file)?;
            if let Some(e) = root.entry("Base") {
                base = Some((file.name.clone(), block_of(file, e)?));
            }
            if let Some(e) = root.entry(expid) {
                block = Some((file.name.clone(), block_of(file, e)?));
            }
            experiments.extend(root.entries().iter().map(|e| e.key.clone()));
        }
        let names = || {
            model_files
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some((block_file, block)) = block else {
            return Err(ConfigError {
                file: names(),
                line: None,
                key: None,
                reason: format!(
                    "no experiment `{expid}` in the model config{}",
                    qnn_keys::did_you_mean(
                        expid,
                        experiments
                            .iter()
                            .map(String::as_str)
                            .filter(|e| *e != "Base")
                    )
                ),
            });
        };
        let mut exp = Experiment {
            expid: expid.to_string(),
            params: Mapping::new(),
            origins: HashMap::new(),
            notes: Vec::new(),
            dataset_file: block_file.clone(),
        };
        if let Some((file, base)) = base {
            exp.merge(&file, &base);
        }
        exp.merge(&block_file, &block);
        exp.params
            .insert("model_id", Value::Str(expid.to_string()), 0);
        let dataset_id = match exp.params.get("dataset_id") {
            Some(Value::Str(id)) => id.clone(),
            Some(other) => {
                return Err(exp.bad(
                    "dataset_id",
                    format!("must be a string, not {}", other.kind()),
                ));
            }
            None => {
                return Err(ConfigError {
                    file: block_file,
                    line: None,
                    key: Some("dataset_id".into()),
                    reason: format!("experiment `{expid}` names no dataset_id"),
                });
            }
        };
        let mut dataset = None;
        let mut datasets = Vec::new();
        for file in dataset_files {
            let root = parse_root(file)?;
            if let Some(e) = root.entry(&dataset_id) {
                dataset = Some((file.name.clone(), block_of(file, e)?));
            }
            datasets.extend(root.entries().iter().map(|e| e.key.clone()));
        }
        let Some((dataset_file, dataset)) = dataset else {
            return Err(ConfigError {
                file: dataset_files
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                line: None,
                key: None,
                reason: format!(
                    "no dataset `{dataset_id}` in the dataset config{}",
                    qnn_keys::did_you_mean(&dataset_id, datasets.iter().map(String::as_str))
                ),
            });
        };
        exp.merge(&dataset_file, &dataset);
        exp.dataset_file = dataset_file;
        exp.check_keys()?;
        Ok(exp)
    }

    fn merge(&mut self, file: &str, block: &Mapping) {
        for e in block.entries() {
            self.params.insert(e.key.clone(), e.value.clone(), e.line);
            self.origins.insert(e.key.clone(), file.to_string());
        }
    }

    fn check_keys(&mut self) -> Result<(), ConfigError> {
        for e in self.params.entries() {
            let key = e.key.as_str();
            match qnn_keys::find(key).map(|k| k.effect) {
                Some(Effect::Read) => {}
                Some(Effect::NoEffect) => self.notes.push(format!(
                    "`{key}` is a FuxiCTR runtime setting; it has no effect here"
                )),
                Some(Effect::NullOnly) if e.value.is_null() => {}
                Some(Effect::NullOnly) => {
                    return Err(
                        self.bad(key, "is not supported by QNN Lab (only null is accepted)")
                    );
                }
                None => {
                    let hint = qnn_keys::did_you_mean_key(key);
                    return Err(self.bad(key, format!("is not a key QNN Lab knows{hint}")));
                }
            }
        }
        Ok(())
    }

    /// The merged parameters, in FuxiCTR's order.
    pub fn params(&self) -> &Mapping {
        &self.params
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.params.get(key).filter(|v| !v.is_null())
    }

    /// The file a key was read from (the experiment block's for `model_id`, which FuxiCTR adds).
    pub fn origin(&self, key: &str) -> Option<&str> {
        self.origins.get(key).map(String::as_str)
    }

    /// An error about `key`, located where the key was written.
    pub fn bad(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self
                .origins
                .get(key)
                .cloned()
                .unwrap_or_else(|| self.dataset_file.clone()),
            line: self.params.entry(key).map(|e| e.line).filter(|&l| l > 0),
            key: Some(key.to_string()),
            reason: reason.into(),
        }
    }

    /// The vocabulary's entry for a key a reader asks for; every key a reader reads is in it
    /// (a misspelt name in the code would skip the range check, so tests catch it here).
    fn key(key: &str) -> Option<&'static Key> {
        let found = qnn_keys::find(key);
        debug_assert!(found.is_some(), "`{key}` is not in qnn_keys::KEYS");
        found
    }

    /// A string; for a key with choices, one of them.
    pub fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Str(s)) => match Self::key(key).map(|k| k.check_text(s)) {
                Some(Err(reason)) => Err(self.bad(key, reason)),
                _ => Ok(Some(s.clone())),
            },
            Some(other) => Err(self.bad(key, format!("must be a string, not {}", other.kind()))),
        }
    }

    /// A finite number in the key's range.
    pub fn float(&self, key: &str) -> Result<Option<f64>, ConfigError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let v = number(v).map_err(|r| self.bad(key, r))?;
        match Self::key(key) {
            Some(k) => k.check_number(v).map(Some).map_err(|r| self.bad(key, r)),
            None => Ok(Some(v)),
        }
    }

    /// A whole number in the key's range.
    pub fn count(&self, key: &str) -> Result<Option<usize>, ConfigError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let v = count(v).map_err(|r| self.bad(key, r))?;
        match Self::key(key) {
            Some(k) => k.check_count(v).map(Some).map_err(|r| self.bad(key, r)),
            None => Ok(Some(v)),
        }
    }

    pub fn boolean(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => {
                Err(self.bad(key, format!("must be True or False, not {}", other.kind())))
            }
        }
    }
}

/// A number as FuxiCTR would accept it; explains PyYAML's `1e-5`-is-a-string trap.
pub fn number(v: &Value) -> Result<f64, String> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        Value::Str(s) if s.parse::<f64>().is_ok() => Err(format!(
            "'{s}' is a string to PyYAML (a number needs a dot, e.g. 1.e-5), and FuxiCTR would \
             reject it too"
        )),
        other => Err(format!("must be a number, not {}", other.kind())),
    }
}

/// A non-negative integer.
pub fn count(v: &Value) -> Result<usize, String> {
    match v {
        Value::Int(i) if *i >= 0 => Ok(*i as usize),
        Value::Int(i) => Err(format!("must not be negative, got {i}")),
        other => Err(format!("must be a whole number, not {}", other.kind())),
    }
}

fn parse_root(file: &ConfigFile) -> Result<Mapping, ConfigError> {
    let err = |line, reason| ConfigError {
        file: file.name.clone(),
        line,
        key: None,
        reason,
    };
    match yaml::parse(&file.text) {
        Ok(Value::Map(m)) => Ok(m),
        Ok(Value::Null) => Err(err(None, "the file is empty".into())),
        Ok(other) => Err(err(
            Some(1),
            format!("expected a mapping of blocks, found {}", other.kind()),
        )),
        Err(e) => Err(err(
            Some(e.line),
            format!("column {}: {}", e.column, e.message),
        )),
    }
}

fn block_of(file: &ConfigFile, entry: &yaml::Entry) -> Result<Mapping, ConfigError> {
    match &entry.value {
        Value::Map(m) => Ok(m.clone()),
        Value::Null => Ok(Mapping::new()),
        other => Err(ConfigError {
            file: file.name.clone(),
            line: Some(entry.line),
            key: Some(entry.key.clone()),
            reason: format!("must be a mapping of settings, not {}", other.kind()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn file(name: &str, text: &str) -> ConfigFile {
        ConfigFile {
            name: name.into(),
            text: text.into(),
        }
    }

    /// The authors' experiments as their config files write them (spec §B.1, §B.4).
    pub(crate) const AUTHORS_MODEL_CONFIG: &str =
        include_str!("../../../tests/fixtures/authors_config/model_config.yaml");
    pub(crate) const AUTHORS_DATASET_CONFIG: &str =
        include_str!("../../../tests/fixtures/authors_config/dataset_config.yaml");

    fn load(model: &str, dataset: &str, expid: &str) -> Result<Experiment, ConfigError> {
        Experiment::load(
            &[file("model_config.yaml", model)],
            &[file("dataset_config.yaml", dataset)],
            expid,
        )
    }

    #[test]
    fn authors_config_merges_base_experiment_and_dataset() {
        let exp = load(
            AUTHORS_MODEL_CONFIG,
            AUTHORS_DATASET_CONFIG,
            "QNN_T26_Frappe",
        )
        .unwrap();
        assert_eq!(exp.float("learning_rate").unwrap(), Some(1e-3));
        assert_eq!(exp.count("early_stop_patience").unwrap(), Some(2));
        assert_eq!(exp.string("data_format").unwrap().as_deref(), Some("h5"));
        assert_eq!(
            exp.string("model_id").unwrap().as_deref(),
            Some("QNN_T26_Frappe")
        );
        assert_eq!(exp.get("eval_steps"), None);
        assert!(exp.notes.iter().any(|n| n.contains("num_workers")));
        // Base keys first, then the experiment's, in file order.
        let keys: Vec<_> = exp.params().keys().collect();
        assert_eq!(keys[0], "model_root");
        assert!(
            keys.iter().position(|k| *k == "model") < keys.iter().position(|k| *k == "data_root")
        );
    }

    #[test]
    fn experiment_keys_override_base_and_dataset_keys_win() {
        let exp = load(
            "Base:\n  seed: 1\n  batch_size: 7\nE:\n  dataset_id: D\n  seed: 2\n",
            "D:\n  batch_size: 9\n  data_format: csv\n",
            "E",
        )
        .unwrap();
        assert_eq!(exp.count("seed").unwrap(), Some(2));
        assert_eq!(exp.count("batch_size").unwrap(), Some(9));
    }

    #[test]
    fn unknown_keys_are_named_with_file_and_line() {
        let err = load(
            "E:\n  dataset_id: D\n  learning_rat: 0.1\n",
            "D:\n  data_format: csv\n",
            "E",
        )
        .unwrap_err();
        assert_eq!(err.key.as_deref(), Some("learning_rat"));
        assert_eq!(err.line, Some(3));
        assert!(
            err.to_string()
                .starts_with("model_config.yaml:3: key `learning_rat`"),
            "{err}"
        );
        assert!(
            err.to_string()
                .ends_with("is not a key QNN Lab knows (did you mean `learning_rate`?)"),
            "{err}"
        );
        let err = load("E:\n  dataset_id: D\n  use_features: [a]\n", "D: {}\n", "E").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("use_features"));
    }

    #[test]
    fn missing_experiment_dataset_and_syntax_errors_are_clear() {
        let err = load(AUTHORS_MODEL_CONFIG, AUTHORS_DATASET_CONFIG, "nope").unwrap_err();
        assert!(err.reason.contains("no experiment `nope`"), "{err}");
        assert!(!err.reason.contains("did you mean"), "{err}");
        let err = load("Base: {}\nE_1:\n  dataset_id: D\n", "D: {}\n", "E_2").unwrap_err();
        assert!(
            err.reason
                .ends_with("no experiment `E_2` in the model config (did you mean `E_1`?)"),
            "{err}"
        );
        let err = load("E:\n  dataset_id: X\n", AUTHORS_DATASET_CONFIG, "E").unwrap_err();
        assert!(err.reason.contains("no dataset `X`"), "{err}");
        let err = load("E:\n  dataset_id: tiny\n", "tiny_csv: {}\ntimy: {}\n", "E").unwrap_err();
        assert!(err.reason.ends_with("(did you mean `timy`?)"), "{err}");
        let err = load("E:\n  dataset_id: [D\n", "", "E").unwrap_err();
        assert_eq!(err.file, "model_config.yaml");
        assert!(err.line.is_some(), "{err}");
        let err = load("", "", "E").unwrap_err();
        assert!(err.reason.contains("empty"), "{err}");
    }

    #[test]
    fn numbers_without_a_dot_are_strings_as_in_pyyaml() {
        let exp = load(
            "E:\n  dataset_id: D\n  learning_rate: 1e-3\n",
            "D: {}\n",
            "E",
        )
        .unwrap();
        let err = exp.float("learning_rate").unwrap_err();
        assert!(err.reason.contains("needs a dot"), "{err}");
    }
}
