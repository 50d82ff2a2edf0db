//! Everything a person sets before training — the dataset choice and the model's
//! hyper-parameters — as one value that lives in the page's URL and becomes FuxiCTR's
//! `model_config.yaml`. Which keys there are, their ranges, help texts, URL names and which
//! network reads which key come from the vocabulary (`qnn_keys`); this module only ties the
//! settings the page shows to the fields of [`ModelSettings`].

use qnn_data::yaml::{Mapping, Value, to_document};
use qnn_data::{Metric, Task};
use qnn_keys::{self as keys, Key, Kind};

/// One setting the page shows: a key of the vocabulary and the field it lives in.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub key: &'static Key,
    /// The keys this setting is written as for networks that read them instead of `key`
    /// (FinalMLP's towers take the page's dropout as `mlp1_dropout` and `mlp2_dropout`; LR and
    /// FM take the embedding regularizer as their one `regularizer`).
    pub written_as: &'static [&'static Key],
    field: Field,
}

/// A setting's field in [`ModelSettings`], by type: the one place that ties a key to a field.
#[derive(Debug, Clone, Copy)]
enum Field {
    Count(fn(&ModelSettings) -> usize, fn(&mut ModelSettings, usize)),
    Number(fn(&ModelSettings) -> f64, fn(&mut ModelSettings, f64)),
    Flag(fn(&ModelSettings) -> bool, fn(&mut ModelSettings, bool)),
    Seed(fn(&ModelSettings) -> u64, fn(&mut ModelSettings, u64)),
}

const fn setting(key: &'static Key, field: Field) -> Setting {
    Setting {
        key,
        written_as: &[],
        field,
    }
}

impl Setting {
    /// The key's name (the input's id is `param-<name>`).
    pub fn name(&self) -> &'static str {
        self.key.name
    }

    /// The short name in the shareable link.
    pub fn url(&self) -> &'static str {
        self.key.url.unwrap_or(self.key.name)
    }

    /// Whether the setting is on or off (a checkbox in the page).
    pub fn is_flag(&self) -> bool {
        matches!(self.field, Field::Flag(..))
    }

    /// Whether `model` reads this setting, as its own key or as one it is written as.
    pub fn read_by(&self, model: &str) -> bool {
        std::iter::once(self.key)
            .chain(self.written_as.iter().copied())
            .any(|k| k.read_by(model))
    }

    /// The setting's value in `model_config.yaml`.
    fn yaml(&self, s: &ModelSettings) -> Value {
        match self.field {
            Field::Count(get, _) => Value::Int(get(s) as i64),
            Field::Number(get, _) if self.key.kind == Kind::Regularizer => regularizer(get(s)),
            Field::Number(get, _) => Value::Float(get(s)),
            Field::Flag(get, _) => Value::Bool(get(s)),
            Field::Seed(get, _) => Value::Int(get(s) as i64),
        }
    }
}

/// The networks the page trains: QNN and FuxiCTR's model zoo.
pub const MODELS: [&str; 8] = keys::NETWORKS;

/// The hidden layers the page gives every MLP of the zoo: small, for data a tab can hold.
const HIDDEN_UNITS: &[usize] = &[64, 32];

/// Values the page gives the zoo's keys it does not show, where the network reads them; the
/// others keep the network's FuxiCTR default.
const FIXED: [(&Key, Fixed); 12] = [
    (&keys::HIDDEN_UNITS, Fixed::Units(HIDDEN_UNITS)),
    (&keys::HIDDEN_ACTIVATIONS, Fixed::Text("relu")),
    (&keys::MODEL_STRUCTURE, Fixed::Text("parallel")),
    (&keys::NUM_CROSS_LAYERS, Fixed::Count(2)),
    (&keys::PARALLEL_DNN_HIDDEN_UNITS, Fixed::Units(HIDDEN_UNITS)),
    (&keys::DNN_ACTIVATIONS, Fixed::Text("relu")),
    (&keys::MLP1_HIDDEN_UNITS, Fixed::Units(HIDDEN_UNITS)),
    (&keys::MLP1_HIDDEN_ACTIVATIONS, Fixed::Text("relu")),
    (&keys::MLP2_HIDDEN_UNITS, Fixed::Units(HIDDEN_UNITS)),
    (&keys::MLP2_HIDDEN_ACTIVATIONS, Fixed::Text("relu")),
    (&keys::USE_FS, Fixed::Flag(true)),
    (&keys::FS_HIDDEN_UNITS, Fixed::Units(&[64])),
];

#[derive(Debug, Clone, Copy)]
enum Fixed {
    Units(&'static [usize]),
    Text(&'static str),
    Count(usize),
    Flag(bool),
}

impl Fixed {
    fn yaml(self) -> Value {
        match self {
            Fixed::Units(units) => {
                Value::List(units.iter().map(|&u| Value::Int(u as i64)).collect())
            }
            Fixed::Text(t) => Value::Str(t.into()),
            Fixed::Count(n) => Value::Int(n as i64),
            Fixed::Flag(b) => Value::Bool(b),
        }
    }
}

/// The settings the page shows, in the order it shows them.
pub const SETTINGS: [Setting; 15] = [
    setting(
        &keys::EMBEDDING_DIM,
        Field::Count(|s| s.embedding_dim, |s, v| s.embedding_dim = v),
    ),
    setting(
        &keys::NUM_LAYERS,
        Field::Count(|s| s.num_layers, |s, v| s.num_layers = v),
    ),
    setting(
        &keys::NUM_ROW,
        Field::Count(|s| s.num_row, |s, v| s.num_row = v),
    ),
    setting(
        &keys::NUM_HEADS,
        Field::Count(|s| s.num_heads, |s, v| s.num_heads = v),
    ),
    Setting {
        key: &keys::BATCH_NORM,
        written_as: &[&keys::MLP1_BATCH_NORM, &keys::MLP2_BATCH_NORM],
        field: Field::Flag(|s| s.batch_norm, |s, v| s.batch_norm = v),
    },
    Setting {
        key: &keys::NET_DROPOUT,
        written_as: &[&keys::MLP1_DROPOUT, &keys::MLP2_DROPOUT],
        field: Field::Number(|s| s.net_dropout, |s, v| s.net_dropout = v),
    },
    setting(
        &keys::SELF_ENSEMBLE,
        Field::Flag(|s| s.self_ensemble, |s, v| s.self_ensemble = v),
    ),
    setting(
        &keys::LEARNING_RATE,
        Field::Number(|s| s.learning_rate, |s, v| s.learning_rate = v),
    ),
    setting(
        &keys::BATCH_SIZE,
        Field::Count(|s| s.batch_size, |s, v| s.batch_size = v),
    ),
    setting(
        &keys::EPOCHS,
        Field::Count(|s| s.epochs, |s, v| s.epochs = v),
    ),
    Setting {
        key: &keys::EMBEDDING_REGULARIZER,
        written_as: &[&keys::REGULARIZER],
        field: Field::Number(
            |s| s.embedding_regularizer,
            |s, v| s.embedding_regularizer = v,
        ),
    },
    setting(
        &keys::NET_REGULARIZER,
        Field::Number(|s| s.net_regularizer, |s, v| s.net_regularizer = v),
    ),
    setting(
        &keys::EARLY_STOP_PATIENCE,
        Field::Count(|s| s.early_stop_patience, |s, v| s.early_stop_patience = v),
    ),
    setting(&keys::SEED, Field::Seed(|s| s.seed, |s, v| s.seed = v)),
    setting(
        &keys::SHUFFLE,
        Field::Flag(|s| s.shuffle, |s, v| s.shuffle = v),
    ),
];

fn setting_of(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|p| p.key.name == name)
}

/// Whether `model` reads the setting `name` (the settings screen hides the others).
pub fn reads(model: &str, name: &str) -> bool {
    setting_of(name).is_some_and(|p| p.read_by(model))
}

/// The model and training settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelSettings {
    /// One of [`MODELS`]; links and stored settings from before the key existed mean QNN.
    #[serde(default = "qnn")]
    pub model: String,
    /// What the label is; links and stored settings from before the key existed are binary.
    #[serde(default)]
    pub task: Task,
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
                task: Task::BinaryClassification,
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
                task: Task::BinaryClassification,
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
    /// The value of the setting `name` as text (what an input box shows).
    pub fn get(&self, name: &str) -> Option<String> {
        Some(match setting_of(name)?.field {
            Field::Count(get, _) => get(self).to_string(),
            Field::Number(get, _) => get(self).to_string(),
            Field::Flag(get, _) => get(self).to_string(),
            Field::Seed(get, _) => get(self).to_string(),
        })
    }

    /// Sets the setting `name` from text, in the vocabulary's range; the error says what was
    /// expected.
    pub fn set(&mut self, name: &str, text: &str) -> Result<(), String> {
        let text = text.trim();
        fn parse<T: std::str::FromStr>(key: &str, text: &str, what: &str) -> Result<T, String> {
            text.parse()
                .map_err(|_| format!("{key}: `{text}` is not {what}"))
        }
        let setting = setting_of(name).ok_or_else(|| format!("unknown setting `{name}`"))?;
        let key = setting.key;
        let out_of_range = |reason| format!("{name}: {reason}");
        match setting.field {
            Field::Count(_, set) => {
                let v = parse(name, text, "a whole number")?;
                set(self, key.check_count(v).map_err(out_of_range)?);
            }
            Field::Number(_, set) => {
                let v = parse(name, text, "a number")?;
                set(self, key.check_number(v).map_err(out_of_range)?);
            }
            Field::Flag(_, set) => set(
                self,
                match text {
                    "true" | "1" | "True" => true,
                    "false" | "0" | "False" => false,
                    _ => return Err(format!("{name}: `{text}` is not true or false")),
                },
            ),
            Field::Seed(_, set) => set(self, parse(name, text, "a whole number")?),
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

    /// Chooses the task by its FuxiCTR name; the error lists the ones there are.
    pub fn set_task(&mut self, task: &str) -> Result<(), String> {
        self.task = Task::parse(task)
            .ok_or_else(|| format!("task: `{task}` is not one of {}", Task::NAMES.join(", ")))?;
        Ok(())
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

    /// FuxiCTR's `model_config.yaml` with one experiment, `expid`, on `dataset_id`: the page's
    /// settings where the network reads them, and the vocabulary's default for the keys the
    /// page does not set (written out, so that the file says what the run was).
    pub fn to_yaml(&self, expid: &str, dataset_id: &str) -> String {
        let default = |key: &Key| match key.default {
            keys::SeedDefault::Text(t) => Value::Str(t.into()),
            keys::SeedDefault::Texts(t) => {
                Value::List(t.iter().map(|&m| Value::Str(m.into())).collect())
            }
            keys::SeedDefault::Flag(b) => Value::Bool(b),
            _ => Value::Null,
        };
        let mut base = Mapping::new();
        for key in [&keys::MODEL_ROOT, &keys::SAVE_BEST_ONLY, &keys::EVAL_STEPS] {
            base.insert(key.name, default(key), 0);
        }
        // The task decides the loss, the metrics and what early stopping watches (as
        // `qnn train` decides them when the keys are left out).
        let task = self.task;
        let text = |t: &str| Value::Str(t.into());
        let monitored = Metric::monitored(task);
        let mut e = Mapping::new();
        e.insert(keys::MODEL.name, text(&self.model), 0);
        e.insert(keys::DATASET_ID.name, text(dataset_id), 0);
        e.insert(keys::LOSS.name, text(task.default_loss()), 0);
        let metrics = Metric::defaults(task)
            .iter()
            .map(|m| text(m.name()))
            .collect();
        e.insert(keys::METRICS.name, Value::List(metrics), 0);
        e.insert(keys::TASK.name, text(task.name()), 0);
        e.insert(keys::OPTIMIZER.name, default(&keys::OPTIMIZER), 0);
        for setting in SETTINGS.iter().filter(|p| !p.key.is_network_key()) {
            e.insert(setting.key.name, setting.yaml(self), 0);
        }
        self.insert_network_keys(&mut e);
        e.insert(keys::MONITOR.name, text(monitored.name()), 0);
        let mode = if monitored.higher_is_better() {
            "max"
        } else {
            "min"
        };
        e.insert(keys::MONITOR_MODE.name, text(mode), 0);
        let mut root = Mapping::new();
        root.insert("Base", Value::Map(base), 0);
        root.insert(expid, Value::Map(e), 0);
        to_document(&root)
    }

    /// The keys the chosen network reads, in the vocabulary's order: from the page's settings
    /// (as the key itself or a key it is written as), else the page's [`FIXED`] choice; a key
    /// with neither keeps the network's default.
    fn insert_network_keys(&self, e: &mut Mapping) {
        for key in keys::network_keys(&self.model) {
            let shown = SETTINGS.iter().find(|p| {
                std::iter::once(p.key)
                    .chain(p.written_as.iter().copied())
                    .any(|k| k == key)
            });
            let value = match shown {
                Some(setting) if key.kind == Kind::Regularizer => {
                    regularizer(match setting.field {
                        Field::Number(get, _) => get(self),
                        _ => 0.0,
                    })
                }
                Some(setting) => setting.yaml(self),
                None => match FIXED.iter().find(|(k, _)| *k == key) {
                    Some((_, fixed)) => fixed.yaml(),
                    None => continue,
                },
            };
            e.insert(key.name, value, 0);
        }
    }

    /// `key=value` pairs for the URL: the model (when it is not QNN) and each setting, under
    /// the vocabulary's URL names.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let model =
            (self.model != "QNN").then(|| (keys::MODEL.url.unwrap_or("m"), self.model.clone()));
        let task = (!self.task.is_binary()).then(|| {
            (
                keys::TASK.url.unwrap_or("task"),
                self.task.name().to_string(),
            )
        });
        model
            .into_iter()
            .chain(task)
            .chain(SETTINGS.iter().map(|p| {
                (
                    p.url(),
                    self.get(p.name()).expect("every setting has a value"),
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
            let result = match keys::find_url(k) {
                Some(key) if *key == keys::MODEL => self.set_model(v),
                Some(key) if *key == keys::TASK => self.set_task(v),
                Some(key) if setting_of(key.name).is_some() => self.set(key.name, v),
                _ => Ok(()),
            };
            if let Err(e) = result {
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
        let names: std::collections::BTreeSet<_> = SETTINGS.iter().map(|p| p.name()).collect();
        let urls: std::collections::BTreeSet<_> = SETTINGS.iter().map(|p| p.url()).collect();
        assert_eq!((names.len(), urls.len()), (SETTINGS.len(), SETTINGS.len()));
        let base = ModelSettings::default();
        for p in SETTINGS {
            let new = match p.field {
                Field::Count(get, _) => (get(&base) + 7).to_string(),
                Field::Number(get, _) => (get(&base) / 3.0 + 0.125).to_string(),
                Field::Flag(get, _) => (!get(&base)).to_string(),
                Field::Seed(..) => "987654321".to_string(),
            };
            let mut s = base.clone();
            s.set(p.name(), &new).unwrap();
            assert_eq!(s.get(p.name()).unwrap(), new, "{}", p.name());
            for other in SETTINGS.iter().filter(|o| o.name() != p.name()) {
                assert_eq!(
                    s.get(other.name()),
                    base.get(other.name()),
                    "{} moved {}",
                    p.name(),
                    other.name()
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
        let problems = s.apply_query([("E", "x"), ("p", "2"), ("zz", "1"), ("R", "99999999")]);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("embedding_dim"));
        // The vocabulary's ranges, with its words.
        assert_eq!(problems[1], "net_dropout: must be in [0, 1), not 2");
        assert!(
            problems[2].contains("more than QNN Lab allows"),
            "{problems:?}"
        );
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

    /// A setting the page shows for a network changes the config `qnn train` reads, and one it
    /// hides changes nothing: no shown setting is dropped, no hidden one matters.
    #[test]
    fn shown_settings_are_exactly_those_the_network_reads() {
        for model in MODELS {
            let mut base = Preset::QuickDemo.settings();
            base.set_model(model).unwrap();
            let (_, _, yaml) = configs_of(&base);
            for p in SETTINGS {
                let mut s = base.clone();
                let new = match p.field {
                    Field::Count(get, _) => (get(&s) * 2).to_string(),
                    Field::Number(get, _) => (get(&s) / 2.0 + 0.125).to_string(),
                    Field::Flag(get, _) => (!get(&s)).to_string(),
                    Field::Seed(get, _) => (get(&s) + 1).to_string(),
                };
                s.set(p.name(), &new).unwrap();
                let (_, _, changed) = configs_of(&s);
                assert_eq!(
                    changed != yaml,
                    p.read_by(model),
                    "{model}, {}: {changed}",
                    p.name()
                );
            }
        }
    }

    /// A regression run exports the loss, metrics and monitor `qnn train` would choose for it,
    /// for every network, and the link carries the task.
    #[test]
    fn the_task_chooses_loss_metrics_and_monitor() {
        for model in MODELS {
            let mut s = Preset::QuickDemo.settings();
            s.set_model(model).unwrap();
            s.set_task("regression").unwrap();
            let (_, train, yaml) = configs_of(&s);
            assert_eq!(
                train,
                qnn_train::TrainConfig {
                    learning_rate: s.learning_rate,
                    batch_size: s.batch_size,
                    epochs: s.epochs,
                    seed: s.seed,
                    embedding_regularizer: train.embedding_regularizer,
                    net_regularizer: train.net_regularizer,
                    self_ensemble: train.self_ensemble,
                    ..qnn_train::TrainConfig::for_task(Task::Regression)
                },
                "{yaml}"
            );
            assert!(yaml.contains("task: regression"), "{yaml}");
            let query = s.to_query();
            assert!(query.contains(&("task", "regression".to_string())));
            let mut back = Preset::PaperFrappe.settings();
            assert!(
                back.apply_query(query.iter().map(|(k, v)| (*k, v.as_str())))
                    .is_empty()
            );
            assert_eq!(back, s);
        }
        let mut s = ModelSettings::default();
        assert!(!s.to_query().iter().any(|(k, _)| *k == "task"));
        let problems = s.apply_query([("task", "ranking")]);
        assert_eq!(
            problems,
            ["task: `ranking` is not one of binary_classification, regression"]
        );
        assert_eq!(s.task, Task::BinaryClassification);
    }
}
