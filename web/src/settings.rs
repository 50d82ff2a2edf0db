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
    /// What values it takes, and where it lives in [`ModelSettings`].
    pub kind: ParamKind,
}

/// A hyper-parameter's type and valid range, with its field's getter and setter: the one place
/// that ties a key to a field.
#[derive(Debug, Clone, Copy)]
pub enum ParamKind {
    /// A whole number, at least `min`.
    Count {
        min: usize,
        get: fn(&ModelSettings) -> usize,
        set: fn(&mut ModelSettings, usize),
    },
    /// A number in `lo..=hi`.
    Number {
        lo: f64,
        hi: f64,
        get: fn(&ModelSettings) -> f64,
        set: fn(&mut ModelSettings, f64),
    },
    Flag {
        get: fn(&ModelSettings) -> bool,
        set: fn(&mut ModelSettings, bool),
    },
    /// Any 64-bit whole number.
    Seed {
        get: fn(&ModelSettings) -> u64,
        set: fn(&mut ModelSettings, u64),
    },
}

/// The networks the page trains: QNN and FuxiCTR's model zoo (`qnn_zoo::ZOO_MODELS`).
pub const MODELS: [&str; 8] = [
    "QNN", "LR", "FM", "DNN", "DeepFM", "DCNv2", "FinalMLP", "DualMLP",
];

/// The hidden layers the page gives every MLP of the zoo: small, for data a tab can hold.
const HIDDEN_UNITS: [usize; 2] = [64, 32];

/// Whether `model` reads the setting `key` (the settings screen hides the others).
pub fn reads(model: &str, key: &str) -> bool {
    match key {
        "num_layers" | "num_row" | "num_heads" | "self_ensemble" => model == "QNN",
        "embedding_dim" => model != "LR",
        "net_dropout" | "batch_norm" => !matches!(model, "LR" | "FM"),
        // LR and FM take one `regularizer` (the embedding one's value).
        "net_regularizer" => !matches!(model, "LR" | "FM"),
        _ => true,
    }
}

/// The QNN hyper-parameters of the spec's model table, each with one line of explanation.
pub const PARAMS: [ParamInfo; 15] = [
    ParamInfo {
        key: "embedding_dim",
        url: "E",
        label: "embedding_dim (E)",
        help: "width of each field's embedding vector; the layers work on F·E numbers",
        kind: ParamKind::Count {
            min: 1,
            get: |s| s.embedding_dim,
            set: |s, v| s.embedding_dim = v,
        },
    },
    ParamInfo {
        key: "num_layers",
        url: "L",
        label: "num_layers (L)",
        help: "quadratic layers stacked; each multiplies its input by a learned mix of it",
        kind: ParamKind::Count {
            min: 1,
            get: |s| s.num_layers,
            set: |s, v| s.num_layers = v,
        },
    },
    ParamInfo {
        key: "num_row",
        url: "R",
        label: "num_row (R, the paper's M)",
        help: "rank of each Khatri-Rao product: ReLU units summed per output position",
        kind: ParamKind::Count {
            min: 1,
            get: |s| s.num_row,
            set: |s, v| s.num_row = v,
        },
    },
    ParamInfo {
        key: "num_heads",
        url: "H",
        label: "num_heads (H)",
        help: "heads split the embedding into H slices that interact separately; must divide E",
        kind: ParamKind::Count {
            min: 1,
            get: |s| s.num_heads,
            set: |s, v| s.num_heads = v,
        },
    },
    ParamInfo {
        key: "batch_norm",
        url: "bn",
        label: "batch_norm",
        help: "normalise each layer's linear part over the batch before the ReLU",
        kind: ParamKind::Flag {
            get: |s| s.batch_norm,
            set: |s, v| s.batch_norm = v,
        },
    },
    ParamInfo {
        key: "net_dropout",
        url: "p",
        label: "net_dropout (p)",
        help: "dropout rate: of both of QNN's dropouts (the Self-Ensemble loss compares two dropout passes), or of every hidden layer of a baseline's MLPs",
        kind: ParamKind::Number {
            lo: 0.0,
            hi: 0.95,
            get: |s| s.net_dropout,
            set: |s, v| s.net_dropout = v,
        },
    },
    ParamInfo {
        key: "self_ensemble",
        url: "se",
        label: "self_ensemble",
        help: "train on two dropout passes that teach each other (QNN's loss); off: one pass and plain cross-entropy, the paper's ablation",
        kind: ParamKind::Flag {
            get: |s| s.self_ensemble,
            set: |s, v| s.self_ensemble = v,
        },
    },
    ParamInfo {
        key: "learning_rate",
        url: "lr",
        label: "learning_rate",
        help: "Adam's step size; divided by 10 whenever validation stops improving",
        kind: ParamKind::Number {
            lo: 1e-6,
            hi: 1.0,
            get: |s| s.learning_rate,
            set: |s, v| s.learning_rate = v,
        },
    },
    ParamInfo {
        key: "batch_size",
        url: "bs",
        label: "batch_size",
        help: "rows per training step",
        kind: ParamKind::Count {
            min: 1,
            get: |s| s.batch_size,
            set: |s, v| s.batch_size = v,
        },
    },
    ParamInfo {
        key: "epochs",
        url: "ep",
        label: "epochs",
        help: "upper bound on passes over the training rows (early stopping may end sooner)",
        kind: ParamKind::Count {
            min: 1,
            get: |s| s.epochs,
            set: |s, v| s.epochs = v,
        },
    },
    ParamInfo {
        key: "embedding_regularizer",
        url: "er",
        label: "embedding_regularizer",
        help: "L2 weight on the embedding tables (FuxiCTR's convention, 0 for none)",
        kind: ParamKind::Number {
            lo: 0.0,
            hi: 10.0,
            get: |s| s.embedding_regularizer,
            set: |s, v| s.embedding_regularizer = v,
        },
    },
    ParamInfo {
        key: "net_regularizer",
        url: "nr",
        label: "net_regularizer",
        help: "L2 weight on the layers' weights and biases (0 for none)",
        kind: ParamKind::Number {
            lo: 0.0,
            hi: 10.0,
            get: |s| s.net_regularizer,
            set: |s, v| s.net_regularizer = v,
        },
    },
    ParamInfo {
        key: "early_stop_patience",
        url: "pat",
        label: "early_stop_patience",
        help: "evaluations without improvement before training stops",
        kind: ParamKind::Count {
            min: 1,
            get: |s| s.early_stop_patience,
            set: |s, v| s.early_stop_patience = v,
        },
    },
    ParamInfo {
        key: "seed",
        url: "seed",
        label: "seed",
        help: "one seed for the split, initialisation, shuffling and dropout: same seed, same run",
        kind: ParamKind::Seed {
            get: |s| s.seed,
            set: |s, v| s.seed = v,
        },
    },
    ParamInfo {
        key: "shuffle",
        url: "sh",
        label: "shuffle",
        help: "shuffle the training rows every epoch",
        kind: ParamKind::Flag {
            get: |s| s.shuffle,
            set: |s, v| s.shuffle = v,
        },
    },
];

fn param(key: &str) -> Option<&'static ParamInfo> {
    PARAMS.iter().find(|p| p.key == key)
}

/// The model and training settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelSettings {
    /// One of [`MODELS`]; links and stored settings from before the key existed mean QNN.
    #[serde(default = "qnn")]
    pub model: String,
    pub embedding_dim: usize,
    pub num_layers: usize,
    pub num_row: usize,
    pub num_heads: usize,
    pub batch_norm: bool,
    pub net_dropout: f64,
    /// Links and stored settings from before the key existed mean QNN's own loss.
    #[serde(default = "on")]
    pub self_ensemble: bool,
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
                model: qnn(),
                embedding_dim: 8,
                num_layers: 2,
                num_row: 4,
                num_heads: 1,
                batch_norm: true,
                net_dropout: 0.1,
                self_ensemble: true,
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
                model: qnn(),
                embedding_dim: 16,
                num_layers: 2,
                num_row: 13,
                num_heads: 1,
                batch_norm: true,
                net_dropout: 0.1,
                self_ensemble: true,
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

fn on() -> bool {
    true
}

fn qnn() -> String {
    "QNN".into()
}

impl Default for ModelSettings {
    fn default() -> Self {
        Preset::QuickDemo.settings()
    }
}

impl ModelSettings {
    /// The value of `key` as text (what an input box shows).
    pub fn get(&self, key: &str) -> Option<String> {
        Some(match param(key)?.kind {
            ParamKind::Count { get, .. } => get(self).to_string(),
            ParamKind::Number { get, .. } => get(self).to_string(),
            ParamKind::Flag { get, .. } => get(self).to_string(),
            ParamKind::Seed { get, .. } => get(self).to_string(),
        })
    }

    /// Sets `key` from text; the error says what was expected.
    pub fn set(&mut self, key: &str, text: &str) -> Result<(), String> {
        let text = text.trim();
        fn parse<T: std::str::FromStr>(key: &str, text: &str, what: &str) -> Result<T, String> {
            text.parse()
                .map_err(|_| format!("{key}: `{text}` is not {what}"))
        }
        let info = param(key).ok_or_else(|| format!("unknown setting `{key}`"))?;
        match info.kind {
            ParamKind::Count { min, set, .. } => {
                let v: usize = parse(key, text, "a whole number")?;
                if v < min {
                    return Err(format!("{key}: must be at least {min}"));
                }
                set(self, v);
            }
            ParamKind::Number { lo, hi, set, .. } => {
                let v: f64 = parse(key, text, "a number")?;
                if !(v >= lo && v <= hi) {
                    return Err(format!("{key}: must be between {lo} and {hi}"));
                }
                set(self, v);
            }
            ParamKind::Flag { set, .. } => set(
                self,
                match text {
                    "true" | "1" | "True" => true,
                    "false" | "0" | "False" => false,
                    _ => return Err(format!("{key}: `{text}` is not true or false")),
                },
            ),
            ParamKind::Seed { set, .. } => set(self, parse(key, text, "a whole number")?),
        }
        Ok(())
    }

    /// Chooses the network; the error lists the ones there are.
    pub fn set_model(&mut self, model: &str) -> Result<(), String> {
        match MODELS.iter().find(|m| **m == model) {
            Some(m) => {
                self.model = (*m).to_string();
                Ok(())
            }
            None => Err(format!(
                "model: `{model}` is not one of {}",
                MODELS.join(", ")
            )),
        }
    }

    /// Problems that would stop training, in words, before anything runs.
    pub fn check(&self) -> Result<(), String> {
        if self.model == "QNN" && !self.embedding_dim.is_multiple_of(self.num_heads) {
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
        e.insert("model", s(&self.model), 0);
        e.insert("dataset_id", s(dataset_id), 0);
        e.insert("loss", s("binary_crossentropy"), 0);
        e.insert("metrics", Value::List(vec![s("logloss"), s("AUC")]), 0);
        e.insert("task", s("binary_classification"), 0);
        e.insert("optimizer", s("adam"), 0);
        e.insert("learning_rate", Value::Float(self.learning_rate), 0);
        e.insert("batch_size", int(self.batch_size), 0);
        self.insert_network_keys(&mut e);
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

    /// The keys of the chosen network, as FuxiCTR's model zoo names them (QNN's from the
    /// settings; the zoo's MLPs get [`HIDDEN_UNITS`] and ReLU).
    fn insert_network_keys(&self, e: &mut Mapping) {
        let int = |v: usize| Value::Int(v as i64);
        let units = || Value::List(HIDDEN_UNITS.iter().map(|&u| int(u)).collect());
        let relu = || Value::Str("relu".into());
        let dropout = Value::Float(self.net_dropout);
        let batch_norm = Value::Bool(self.batch_norm);
        let mut put = |k: &str, v: Value| e.insert(k, v, 0);
        if matches!(self.model.as_str(), "LR" | "FM") {
            put("regularizer", regularizer(self.embedding_regularizer));
        } else {
            put(
                "embedding_regularizer",
                regularizer(self.embedding_regularizer),
            );
            put("net_regularizer", regularizer(self.net_regularizer));
        }
        if self.model != "LR" {
            put("embedding_dim", int(self.embedding_dim));
        }
        match self.model.as_str() {
            "QNN" => {
                put("num_layers", int(self.num_layers));
                put("num_row", int(self.num_row));
                put("net_dropout", dropout);
                put("batch_norm", batch_norm);
                put("self_ensemble", Value::Bool(self.self_ensemble));
                put("num_heads", int(self.num_heads));
            }
            "DNN" | "DeepFM" => {
                put("hidden_units", units());
                put("hidden_activations", relu());
                put("net_dropout", dropout);
                put("batch_norm", batch_norm);
            }
            "DCNv2" => {
                put("model_structure", Value::Str("parallel".into()));
                put("num_cross_layers", int(2));
                put("parallel_dnn_hidden_units", units());
                put("dnn_activations", relu());
                put("net_dropout", dropout);
                put("batch_norm", batch_norm);
            }
            "FinalMLP" | "DualMLP" => {
                for tower in ["mlp1", "mlp2"] {
                    put(&format!("{tower}_hidden_units"), units());
                    put(&format!("{tower}_hidden_activations"), relu());
                    put(&format!("{tower}_dropout"), dropout.clone());
                    put(&format!("{tower}_batch_norm"), batch_norm.clone());
                }
                if self.model == "FinalMLP" {
                    put("use_fs", Value::Bool(true));
                    put("fs_hidden_units", Value::List(vec![int(HIDDEN_UNITS[0])]));
                    put("num_heads", int(1));
                }
            }
            _ => {}
        }
    }

    /// `key=value` pairs for the URL: the model (`m`, when it is not QNN) and the short keys of
    /// [`PARAMS`].
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let model = (self.model != "QNN").then(|| ("m", self.model.clone()));
        model
            .into_iter()
            .chain(PARAMS.iter().map(|p| {
                (
                    p.url,
                    self.get(p.key).expect("every PARAMS key has a value"),
                )
            }))
            .collect()
    }

    /// Applies the URL's pairs; unknown keys are left to the caller, bad values are reported.
    pub fn apply_query<'a>(
        &mut self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for (k, v) in pairs {
            if k == "m"
                && let Err(e) = self.set_model(v)
            {
                problems.push(e);
            }
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

    /// The network and training settings `qnn train` reads from the page's exported
    /// model_config.yaml, and that YAML.
    fn configs_of(s: &ModelSettings) -> (qnn_zoo::NetworkConfig, qnn_train::TrainConfig, String) {
        let yaml = s.to_yaml("E", "demo");
        let exp = Experiment::load(
            &[ConfigFile {
                name: "model_config.yaml".into(),
                text: yaml.clone(),
            }],
            &[ConfigFile {
                name: "dataset_config.yaml".into(),
                text: "demo:\n    data_root: ./data/\n".into(),
            }],
            "E",
        )
        .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let (network, train) =
            qnn_train::fuxictr::configs(&exp).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        (network, train, yaml)
    }

    /// The QNN configs `qnn train` reads from the page's exported model_config.yaml.
    fn read_back(s: &ModelSettings) -> (qnn_model::QnnConfig, qnn_train::TrainConfig) {
        let (network, train, _) = configs_of(s);
        let qnn = network.as_qnn().expect("the page trains QNN").clone();
        (qnn, train)
    }

    #[test]
    fn every_preset_becomes_a_config_the_cli_reads() {
        for preset in Preset::ALL {
            let s = preset.settings();
            let (model, train) = read_back(&s);
            assert_eq!(model.embedding_dim, s.embedding_dim);
            assert_eq!(model.num_row, s.num_row);
            assert_eq!(model.batch_norm, s.batch_norm);
            assert_eq!(train.learning_rate, s.learning_rate);
            assert_eq!(train.batch_size, s.batch_size);
            assert_eq!(train.seed, s.seed);
            assert_eq!(train.epochs, s.epochs);
            assert!(train.self_ensemble);
        }
        // The quick demo is the one the worker warms up with and frappe_step measures.
        let (model, train) = read_back(&Preset::QuickDemo.settings());
        assert_eq!(model, qnn_model::QnnConfig::quick_demo());
        let demo = qnn_train::TrainConfig::quick_demo();
        assert_eq!(
            (
                train.batch_size,
                train.learning_rate,
                train.embedding_regularizer
            ),
            (
                demo.batch_size,
                demo.learning_rate,
                demo.embedding_regularizer
            )
        );
        // The ablation travels through the exported config too.
        let mut s = Preset::QuickDemo.settings();
        s.set("self_ensemble", "false").unwrap();
        assert!(!read_back(&s).1.self_ensemble);
    }

    #[test]
    fn each_setting_reads_and_writes_its_own_field_only() {
        let keys: std::collections::BTreeSet<_> = PARAMS.iter().map(|p| p.key).collect();
        let urls: std::collections::BTreeSet<_> = PARAMS.iter().map(|p| p.url).collect();
        assert_eq!((keys.len(), urls.len()), (PARAMS.len(), PARAMS.len()));
        let base = ModelSettings::default();
        for p in PARAMS {
            let new = match p.kind {
                ParamKind::Count { min, .. } => (min + 7).to_string(),
                ParamKind::Number { lo, hi, .. } => ((lo + hi) / 3.0).to_string(),
                ParamKind::Flag { get, .. } => (!get(&base)).to_string(),
                ParamKind::Seed { .. } => "987654321".to_string(),
            };
            let mut s = base.clone();
            s.set(p.key, &new).unwrap();
            assert_eq!(s.get(p.key).unwrap(), new, "{}", p.key);
            for other in PARAMS.iter().filter(|o| o.key != p.key) {
                assert_eq!(
                    s.get(other.key),
                    base.get(other.key),
                    "{} moved {}",
                    p.key,
                    other.key
                );
            }
        }
        assert!(base.clone().set("nope", "1").is_err());
        assert_eq!(base.get("nope"), None);
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

    /// Every network of the page's list becomes a config `qnn train` reads, with the page's
    /// settings where the network has the key; the list is QNN and the model zoo.
    #[test]
    fn every_model_becomes_a_config_the_cli_reads() {
        let zoo: Vec<&str> = qnn_zoo::ZOO_MODELS.to_vec();
        assert_eq!(MODELS[0], "QNN");
        assert_eq!(&MODELS[1..], &zoo[..]);
        for model in MODELS {
            let mut s = Preset::QuickDemo.settings();
            s.set_model(model).unwrap();
            s.set("embedding_dim", "6").unwrap();
            s.set("net_dropout", "0.2").unwrap();
            let (network, train, yaml) = configs_of(&s);
            assert_eq!(network.name(), model, "{yaml}");
            assert_eq!(train.batch_size, s.batch_size);
            if model != "LR" {
                assert!(yaml.contains("embedding_dim: 6"), "{yaml}");
            }
            if reads(model, "net_dropout") {
                assert!(yaml.contains("dropout: 0.2"), "{model}: {yaml}");
            }
            // The link carries the model.
            let mut back = Preset::PaperFrappe.settings();
            let query = s.to_query();
            assert!(
                back.apply_query(query.iter().map(|(k, v)| (*k, v.as_str())))
                    .is_empty()
            );
            assert_eq!(back, s);
        }
        let mut s = ModelSettings::default();
        assert!(s.set_model("xDeepFM").unwrap_err().contains("DeepFM"));
        assert_eq!(s.apply_query([("m", "nope")]).len(), 1);
        assert!(!reads("DeepFM", "num_row") && reads("QNN", "num_row"));
    }
}
