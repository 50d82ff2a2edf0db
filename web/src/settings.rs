//! Everything a person sets before training — the dataset choice and the model's
//! hyper-parameters — as one value that lives in the page's URL and becomes FuxiCTR's
//! `model_config.yaml`.

use qnn_data::yaml::{Mapping, Value, to_document};

/// One hyper-parameter as the settings screen shows it.
#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    /// The key in `model_config.yaml` (and, shortened, in the URL).
    pub key: &'static str,
    pub url: &'static str,
    pub label: &'static str,
    pub help: &'static str,
}

/// The QNN hyper-parameters of the spec's model table, each with one line of explanation.
pub const PARAMS: [ParamInfo; 14] = [
    ParamInfo {
        key: "embedding_dim",
        url: "E",
        label: "embedding_dim (E)",
        help: "width of each field's embedding vector; the layers work on F·E numbers",
    },
    ParamInfo {
        key: "num_layers",
        url: "L",
        label: "num_layers (L)",
        help: "quadratic layers stacked; each multiplies its input by a learned mix of it",
    },
    ParamInfo {
        key: "num_row",
        url: "R",
        label: "num_row (R, the paper's M)",
        help: "rank of each Khatri-Rao product: ReLU units summed per output position",
    },
    ParamInfo {
        key: "num_heads",
        url: "H",
        label: "num_heads (H)",
        help: "heads split the embedding into H slices that interact separately; must divide E",
    },
    ParamInfo {
        key: "batch_norm",
        url: "bn",
        label: "batch_norm",
        help: "normalise each layer's linear part over the batch before the ReLU",
    },
    ParamInfo {
        key: "net_dropout",
        url: "p",
        label: "net_dropout (p)",
        help: "dropout rate of both dropouts; the Self-Ensemble loss compares two dropout passes",
    },
    ParamInfo {
        key: "learning_rate",
        url: "lr",
        label: "learning_rate",
        help: "Adam's step size; divided by 10 whenever validation stops improving",
    },
    ParamInfo {
        key: "batch_size",
        url: "bs",
        label: "batch_size",
        help: "rows per training step",
    },
    ParamInfo {
        key: "epochs",
        url: "ep",
        label: "epochs",
        help: "upper bound on passes over the training rows (early stopping may end sooner)",
    },
    ParamInfo {
        key: "embedding_regularizer",
        url: "er",
        label: "embedding_regularizer",
        help: "L2 weight on the embedding tables (FuxiCTR's convention, 0 for none)",
    },
    ParamInfo {
        key: "net_regularizer",
        url: "nr",
        label: "net_regularizer",
        help: "L2 weight on the layers' weights and biases (0 for none)",
    },
    ParamInfo {
        key: "early_stop_patience",
        url: "pat",
        label: "early_stop_patience",
        help: "evaluations without improvement before training stops",
    },
    ParamInfo {
        key: "seed",
        url: "seed",
        label: "seed",
        help: "one seed for the split, initialisation, shuffling and dropout: same seed, same run",
    },
    ParamInfo {
        key: "shuffle",
        url: "sh",
        label: "shuffle",
        help: "shuffle the training rows every epoch",
    },
];

/// The model and training settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelSettings {
    pub embedding_dim: usize,
    pub num_layers: usize,
    pub num_row: usize,
    pub num_heads: usize,
    pub batch_norm: bool,
    pub net_dropout: f64,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub epochs: usize,
    pub embedding_regularizer: f64,
    pub net_regularizer: f64,
    pub early_stop_patience: usize,
    pub seed: u64,
    pub shuffle: bool,
}

/// Named starting points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Small and fast: learns the planted example in seconds on a laptop's CPU.
    QuickDemo,
    /// The paper's Frappe setting (spec §B.1).
    PaperFrappe,
}

impl Preset {
    pub const ALL: [Preset; 2] = [Preset::QuickDemo, Preset::PaperFrappe];

    pub fn label(self) -> &'static str {
        match self {
            Preset::QuickDemo => "quick demo",
            Preset::PaperFrappe => "paper's Frappe",
        }
    }

    pub fn settings(self) -> ModelSettings {
        match self {
            Preset::QuickDemo => ModelSettings {
                embedding_dim: 8,
                num_layers: 2,
                num_row: 4,
                num_heads: 1,
                batch_norm: true,
                net_dropout: 0.1,
                learning_rate: 1e-2,
                batch_size: 128,
                epochs: 8,
                embedding_regularizer: 1e-5,
                net_regularizer: 0.0,
                early_stop_patience: 2,
                seed: 2024,
                shuffle: true,
            },
            Preset::PaperFrappe => ModelSettings {
                embedding_dim: 16,
                num_layers: 2,
                num_row: 13,
                num_heads: 1,
                batch_norm: true,
                net_dropout: 0.1,
                learning_rate: 1e-3,
                batch_size: 4096,
                epochs: 100,
                embedding_regularizer: 0.1,
                net_regularizer: 0.0,
                early_stop_patience: 2,
                seed: 2024,
                shuffle: true,
            },
        }
    }
}

impl Default for ModelSettings {
    fn default() -> Self {
        Preset::QuickDemo.settings()
    }
}

impl ModelSettings {
    /// The value of `key` as text (what an input box shows).
    pub fn get(&self, key: &str) -> Option<String> {
        Some(match key {
            "embedding_dim" => self.embedding_dim.to_string(),
            "num_layers" => self.num_layers.to_string(),
            "num_row" => self.num_row.to_string(),
            "num_heads" => self.num_heads.to_string(),
            "batch_norm" => self.batch_norm.to_string(),
            "net_dropout" => self.net_dropout.to_string(),
            "learning_rate" => self.learning_rate.to_string(),
            "batch_size" => self.batch_size.to_string(),
            "epochs" => self.epochs.to_string(),
            "embedding_regularizer" => self.embedding_regularizer.to_string(),
            "net_regularizer" => self.net_regularizer.to_string(),
            "early_stop_patience" => self.early_stop_patience.to_string(),
            "seed" => self.seed.to_string(),
            "shuffle" => self.shuffle.to_string(),
            _ => return None,
        })
    }

    /// Sets `key` from text; the error says what was expected.
    pub fn set(&mut self, key: &str, text: &str) -> Result<(), String> {
        let text = text.trim();
        fn parse<T: std::str::FromStr>(key: &str, text: &str, what: &str) -> Result<T, String> {
            text.parse()
                .map_err(|_| format!("{key}: `{text}` is not {what}"))
        }
        let count = |min: usize| -> Result<usize, String> {
            let v: usize = parse(key, text, "a whole number")?;
            if v < min {
                return Err(format!("{key}: must be at least {min}"));
            }
            Ok(v)
        };
        let rate = |lo: f64, hi: f64| -> Result<f64, String> {
            let v: f64 = parse(key, text, "a number")?;
            if !(v >= lo && v <= hi) {
                return Err(format!("{key}: must be between {lo} and {hi}"));
            }
            Ok(v)
        };
        let flag = || -> Result<bool, String> {
            match text {
                "true" | "1" | "True" => Ok(true),
                "false" | "0" | "False" => Ok(false),
                _ => Err(format!("{key}: `{text}` is not true or false")),
            }
        };
        match key {
            "embedding_dim" => self.embedding_dim = count(1)?,
            "num_layers" => self.num_layers = count(1)?,
            "num_row" => self.num_row = count(1)?,
            "num_heads" => self.num_heads = count(1)?,
            "batch_norm" => self.batch_norm = flag()?,
            "net_dropout" => self.net_dropout = rate(0.0, 0.95)?,
            "learning_rate" => self.learning_rate = rate(1e-6, 1.0)?,
            "batch_size" => self.batch_size = count(1)?,
            "epochs" => self.epochs = count(1)?,
            "embedding_regularizer" => self.embedding_regularizer = rate(0.0, 10.0)?,
            "net_regularizer" => self.net_regularizer = rate(0.0, 10.0)?,
            "early_stop_patience" => self.early_stop_patience = count(1)?,
            "seed" => self.seed = parse(key, text, "a whole number")?,
            "shuffle" => self.shuffle = flag()?,
            _ => return Err(format!("unknown setting `{key}`")),
        }
        Ok(())
    }

    /// Problems that would stop training, in words, before anything runs.
    pub fn check(&self) -> Result<(), String> {
        if !self.embedding_dim.is_multiple_of(self.num_heads) {
            return Err(format!(
                "num_heads ({}) must divide embedding_dim ({})",
                self.num_heads, self.embedding_dim
            ));
        }
        Ok(())
    }

    /// FuxiCTR's `model_config.yaml` with one experiment, `expid`, on `dataset_id`.
    pub fn to_yaml(&self, expid: &str, dataset_id: &str) -> String {
        let mut base = Mapping::new();
        base.insert("model_root", Value::Str("./checkpoints/".into()), 0);
        base.insert("save_best_only", Value::Bool(true), 0);
        base.insert("eval_steps", Value::Null, 0);
        let mut e = Mapping::new();
        let s = |v: &str| Value::Str(v.into());
        let int = |v: usize| Value::Int(v as i64);
        e.insert("model", s("QNN"), 0);
        e.insert("dataset_id", s(dataset_id), 0);
        e.insert("loss", s("binary_crossentropy"), 0);
        e.insert("metrics", Value::List(vec![s("logloss"), s("AUC")]), 0);
        e.insert("task", s("binary_classification"), 0);
        e.insert("optimizer", s("adam"), 0);
        e.insert("learning_rate", Value::Float(self.learning_rate), 0);
        e.insert(
            "embedding_regularizer",
            regularizer(self.embedding_regularizer),
            0,
        );
        e.insert("net_regularizer", regularizer(self.net_regularizer), 0);
        e.insert("batch_size", int(self.batch_size), 0);
        e.insert("embedding_dim", int(self.embedding_dim), 0);
        e.insert("num_layers", int(self.num_layers), 0);
        e.insert("num_row", int(self.num_row), 0);
        e.insert("net_dropout", Value::Float(self.net_dropout), 0);
        e.insert("batch_norm", Value::Bool(self.batch_norm), 0);
        e.insert("num_heads", int(self.num_heads), 0);
        e.insert("epochs", int(self.epochs), 0);
        e.insert("shuffle", Value::Bool(self.shuffle), 0);
        e.insert("seed", Value::Int(self.seed as i64), 0);
        e.insert("early_stop_patience", int(self.early_stop_patience), 0);
        e.insert("monitor", s("AUC"), 0);
        e.insert("monitor_mode", s("max"), 0);
        let mut root = Mapping::new();
        root.insert("Base", Value::Map(base), 0);
        root.insert(expid, Value::Map(e), 0);
        to_document(&root)
    }

    /// `key=value` pairs for the URL, with the short keys of [`PARAMS`].
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        PARAMS
            .iter()
            .map(|p| {
                (
                    p.url,
                    self.get(p.key).expect("every PARAMS key has a value"),
                )
            })
            .collect()
    }

    /// Applies the URL's pairs; unknown keys are left to the caller, bad values are reported.
    pub fn apply_query<'a>(
        &mut self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for (k, v) in pairs {
            if let Some(p) = PARAMS.iter().find(|p| p.url == k)
                && let Err(e) = self.set(p.key, v)
            {
                problems.push(e);
            }
        }
        problems
    }
}

/// `0` stays an integer (FuxiCTR reads it as "no regularizer"); anything else is a float.
fn regularizer(v: f64) -> Value {
    if v == 0.0 {
        Value::Int(0)
    } else {
        Value::Float(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnn_data::{ConfigFile, Experiment};

    #[test]
    fn every_preset_becomes_a_config_the_cli_reads() {
        for preset in Preset::ALL {
            let s = preset.settings();
            let yaml = s.to_yaml("QNN_demo", "demo");
            let exp = Experiment::load(
                &[ConfigFile {
                    name: "model_config.yaml".into(),
                    text: yaml.clone(),
                }],
                &[ConfigFile {
                    name: "dataset_config.yaml".into(),
                    text: "demo:\n    data_root: ./data/\n".into(),
                }],
                "QNN_demo",
            )
            .unwrap();
            let (model, train) = qnn_train::fuxictr::configs(&exp).unwrap();
            assert_eq!(model.embedding_dim, s.embedding_dim, "{yaml}");
            assert_eq!(model.num_row, s.num_row);
            assert_eq!(model.batch_norm, s.batch_norm);
            assert_eq!(train.learning_rate, s.learning_rate);
            assert_eq!(train.batch_size, s.batch_size);
            assert_eq!(train.seed, s.seed);
            assert_eq!(train.epochs, s.epochs);
        }
    }

    #[test]
    fn url_round_trip_and_bad_values() {
        let mut s = ModelSettings {
            seed: 7,
            num_heads: 2,
            learning_rate: 0.003,
            batch_norm: false,
            ..Default::default()
        };
        let query = s.to_query();
        let mut back = Preset::PaperFrappe.settings();
        let problems = back.apply_query(query.iter().map(|(k, v)| (*k, v.as_str())));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(back, s);
        let problems = s.apply_query([("E", "x"), ("p", "2"), ("zz", "1")]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("embedding_dim"));
    }

    #[test]
    fn heads_must_divide_the_embedding() {
        let s = ModelSettings {
            embedding_dim: 8,
            num_heads: 3,
            ..Default::default()
        };
        assert!(s.check().unwrap_err().contains("num_heads"));
    }
}
