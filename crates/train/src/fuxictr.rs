//! Model and training settings from a FuxiCTR experiment (spec §B, §C.7–C.9).

use qnn_data::yaml::Value;
use qnn_data::{ConfigError, Experiment, Metric};
use qnn_model::{Loss, MODEL_NAMES, ModelError, QnnConfig, Regularizer};
use qnn_zoo::{Keys, NetworkConfig, ZOO_MODELS, ZooConfig, model_names};

use crate::config::{Monitor, MonitorMode, TrainConfig};

/// The authors' name for QNN_T26 in their Frappe and Criteo configs (spec §B.4, §E.4).
const MODEL_ALIASES: &[&str] = &["QNN_T26v3"];

/// The network and the training settings of `exp`; a missing key takes the default of the
/// seed's configuration table (`QnnConfig::default`, `TrainConfig::default`) for QNN and
/// FuxiCTR's constructor defaults for the zoo's networks. Errors name the key and where it was
/// written.
pub fn configs(exp: &Experiment) -> Result<(NetworkConfig, TrainConfig), ConfigError> {
    let names = model_names().join(", ");
    let model = exp.string("model")?.ok_or_else(|| {
        exp.bad(
            "model",
            format!("is missing (FuxiCTR's default is FinalMLP); write one of {names}"),
        )
    })?;
    let is_qnn = MODEL_NAMES.contains(&model.as_str()) || MODEL_ALIASES.contains(&model.as_str());
    let network = if is_qnn { "QNN" } else { model.as_str() };
    if !is_qnn && !ZOO_MODELS.contains(&network) {
        return Err(exp.bad(
            "model",
            format!("'{model}' is not a model QNN Lab has ({names})"),
        ));
    }
    // A key of another network was meant for that one: FuxiCTR would ignore it silently.
    for key in exp.params().keys() {
        if let Some(k) = qnn_keys::find(key)
            && k.is_network_key()
            && !k.read_by(network)
        {
            return Err(exp.bad(key, format!("is not a key of {model}")));
        }
    }
    expect_string(exp, "optimizer", &["adam", "Adam"])?;
    let train = train_config(exp)?;
    if !is_qnn {
        let zoo = ZooConfig::read(&model, &ExperimentKeys(exp))?;
        let mut train = train;
        // LR and FM take one `regularizer` for both groups.
        if let Some(r) = regularizer(exp, "regularizer")? {
            train.embedding_regularizer = r;
            train.net_regularizer = r;
        }
        return Ok((zoo.into(), train));
    }

    let d = QnnConfig::default();
    let qnn = QnnConfig {
        embedding_dim: exp.count("embedding_dim")?.unwrap_or(d.embedding_dim),
        num_layers: exp.count("num_layers")?.unwrap_or(d.num_layers),
        num_row: exp.count("num_row")?.unwrap_or(d.num_row),
        num_heads: exp.count("num_heads")?.unwrap_or(d.num_heads),
        batch_norm: exp.boolean("batch_norm")?.unwrap_or(d.batch_norm),
        net_dropout: exp.float("net_dropout")?.unwrap_or(d.net_dropout),
    };
    qnn.validate().map_err(|e| match e {
        ModelError::Config { key, reason } => exp.bad(key, reason),
        other => exp.bad("model", other.to_string()),
    })?;

    Ok((qnn.into(), train))
}

/// The training keys every network shares.
fn train_config(exp: &Experiment) -> Result<TrainConfig, ConfigError> {
    let task = qnn_data::dataset_config::task(exp)?;
    let t = TrainConfig::for_task(task);
    let loss = match exp.string("loss")? {
        None => t.loss,
        Some(name) => Loss::parse(&name).ok_or_else(|| {
            exp.bad(
                "loss",
                format!("'{name}' is not one of {}", Loss::NAMES.join(", ")),
            )
        })?,
    };
    let metrics = match exp.get("metrics") {
        None => t.metrics.clone(),
        Some(Value::List(items)) => items
            .iter()
            .map(|v| metric(exp, "metrics", v))
            .collect::<Result<_, _>>()?,
        Some(v) => vec![metric(exp, "metrics", v)?],
    };
    let monitor = match exp.get("monitor") {
        None => t.monitor.clone(),
        Some(Value::Map(terms)) => Monitor {
            terms: terms
                .entries()
                .iter()
                .map(|e| {
                    let m = metric(exp, "monitor", &Value::Str(e.key.clone()))?;
                    let w = qnn_data::config::number(&e.value)
                        .map_err(|r| exp.bad("monitor", format!("weight of {}: {r}", e.key)))?;
                    Ok((m, w))
                })
                .collect::<Result<_, ConfigError>>()?,
        },
        Some(v) => Monitor::metric(metric(exp, "monitor", v)?),
    };
    let monitor_mode = match exp.string("monitor_mode")?.as_deref() {
        None => t.monitor_mode,
        Some("max") => MonitorMode::Max,
        Some("min") => MonitorMode::Min,
        Some(other) => return Err(exp.bad("monitor_mode", format!("'{other}' is not max or min"))),
    };
    let train = TrainConfig {
        learning_rate: exp.float("learning_rate")?.unwrap_or(t.learning_rate),
        batch_size: exp.count("batch_size")?.unwrap_or(t.batch_size),
        epochs: exp.count("epochs")?.unwrap_or(t.epochs),
        shuffle: exp.boolean("shuffle")?.unwrap_or(t.shuffle),
        seed: exp.count("seed")?.map_or(t.seed, |s| s as u64),
        embedding_regularizer: regularizer(exp, "embedding_regularizer")?
            .unwrap_or(t.embedding_regularizer),
        net_regularizer: regularizer(exp, "net_regularizer")?.unwrap_or(t.net_regularizer),
        metrics,
        monitor,
        monitor_mode,
        early_stop_patience: exp
            .count("early_stop_patience")?
            .unwrap_or(t.early_stop_patience),
        save_best_only: exp.boolean("save_best_only")?.unwrap_or(t.save_best_only),
        eval_steps: exp.count("eval_steps")?,
        max_gradient_norm: exp
            .float("max_gradient_norm")?
            .unwrap_or(t.max_gradient_norm),
        reduce_lr_on_plateau: exp
            .boolean("reduce_lr_on_plateau")?
            .unwrap_or(t.reduce_lr_on_plateau),
        loss_read_interval: t.loss_read_interval,
        self_ensemble: exp.boolean("self_ensemble")?.unwrap_or(t.self_ensemble),
        loss,
    };
    let grouped = exp.string("group_id")?.is_some();
    train.validate(task, grouped).map_err(|e| match e {
        crate::TrainError::Config { key, reason } => exp.bad(key, reason),
        other => exp.bad("model", other.to_string()),
    })?;
    Ok(train)
}

/// The zoo reads its keys from the experiment; a refused value is located like any other.
struct ExperimentKeys<'a>(&'a Experiment);

impl Keys for ExperimentKeys<'_> {
    type Error = ConfigError;

    fn count(&self, key: &'static str) -> Result<Option<usize>, ConfigError> {
        self.0.count(key)
    }

    fn float(&self, key: &'static str) -> Result<Option<f64>, ConfigError> {
        self.0.float(key)
    }

    fn boolean(&self, key: &'static str) -> Result<Option<bool>, ConfigError> {
        self.0.boolean(key)
    }

    fn string(&self, key: &'static str) -> Result<Option<String>, ConfigError> {
        self.0.string(key)
    }

    fn counts(&self, key: &'static str) -> Result<Option<Vec<usize>>, ConfigError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::List(items)) => items
                .iter()
                .map(|v| {
                    qnn_data::config::count(v)
                        .map_err(|r| self.0.bad(key, format!("list item {v}: {r}")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.0.bad(
                key,
                format!("must be a list of layer sizes, not {}", other.kind()),
            )),
        }
    }

    fn strings(&self, key: &'static str) -> Result<Option<Vec<String>>, ConfigError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(vec![s.clone()])),
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Str(s) => Ok(s.clone()),
                    other => Err(self.0.bad(key, format!("list item {other} is not a name"))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.0.bad(
                key,
                format!("must be a name or a list of names, not {}", other.kind()),
            )),
        }
    }

    fn invalid(&self, error: ModelError) -> ConfigError {
        match error {
            ModelError::Config { key, reason } => self.0.bad(key, reason),
            other => self.0.bad("model", other.to_string()),
        }
    }
}

fn expect_string(exp: &Experiment, key: &str, allowed: &[&str]) -> Result<(), ConfigError> {
    match exp.string(key)? {
        Some(v) if !allowed.contains(&v.as_str()) => Err(exp.bad(
            key,
            format!(
                "'{v}' is not supported (QNN Lab trains with {})",
                allowed[0]
            ),
        )),
        _ => Ok(()),
    }
}

fn metric(exp: &Experiment, key: &str, v: &Value) -> Result<Metric, ConfigError> {
    let name = v
        .as_str()
        .ok_or_else(|| exp.bad(key, format!("{v} is not a metric name")))?;
    Metric::parse(name).ok_or_else(|| {
        let names = Metric::ALL.map(Metric::name);
        exp.bad(
            key,
            format!(
                "metric '{name}' is not one QNN Lab computes ({}){}",
                names.join(", "),
                qnn_keys::did_you_mean(name, names)
            ),
        )
    })
}

/// FuxiCTR's regularizer values (spec §C.8); `None` when absent.
fn regularizer(exp: &Experiment, key: &'static str) -> Result<Option<Regularizer>, ConfigError> {
    match exp.params().get(key) {
        None => Ok(None),
        Some(Value::Null) | Some(Value::Int(0)) => Ok(Some(Regularizer::NONE)),
        Some(Value::Int(i)) => Err(exp.bad(
            key,
            format!("FuxiCTR silently ignores an integer ({i}); write {i}.0 for an L2 weight"),
        )),
        Some(Value::Float(f)) => Regularizer::parse(key, &f.to_string())
            .map(Some)
            .map_err(|e| exp.bad(key, e.to_string())),
        Some(Value::Str(s)) if s.trim().parse::<f64>().is_ok() => Err(exp.bad(
            key,
            qnn_data::config::number(&Value::Str(s.clone())).unwrap_err(),
        )),
        Some(Value::Str(s)) => Regularizer::parse(key, s).map(Some).map_err(|e| match e {
            ModelError::Config { reason, .. } => exp.bad(key, reason),
            other => exp.bad(key, other.to_string()),
        }),
        Some(other) => Err(exp.bad(key, format!("must be a number or l2(x), not {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnn_data::ConfigFile;

    /// A QNN experiment's configs.
    fn qnn_configs(e: &Experiment) -> (QnnConfig, TrainConfig) {
        let (network, train) = configs(e).unwrap();
        (network.as_qnn().expect("a QNN").clone(), train)
    }

    fn exp(model_block: &str) -> Experiment {
        Experiment::load(
            &[ConfigFile {
                name: "model_config.yaml".into(),
                text: format!("E:\n  dataset_id: D\n  model: QNN\n{model_block}"),
            }],
            &[ConfigFile {
                name: "dataset_config.yaml".into(),
                text: "D:\n  data_format: h5\n".into(),
            }],
            "E",
        )
        .unwrap()
    }

    #[test]
    fn paper_frappe_block_gives_the_paper_settings() {
        let e = exp(concat!(
            "  loss: 'binary_crossentropy'\n  metrics: ['logloss', 'AUC']\n",
            "  task: binary_classification\n  optimizer: adam\n  learning_rate: 1.e-3\n",
            "  embedding_regularizer: 0.1\n  net_regularizer: 0\n  batch_size: 4096\n",
            "  embedding_dim: 16\n  num_layers: 2\n  num_row: 13\n  net_dropout: 0.1\n",
            "  batch_norm: True\n  num_heads: 1\n  epochs: 100\n  shuffle: True\n  seed: 2024\n",
            "  monitor: {'AUC': 1, 'logloss': 0}\n  monitor_mode: 'max'\n",
        ));
        let (q, t) = qnn_configs(&e);
        assert_eq!(q, QnnConfig::paper_frappe());
        assert_eq!(t, TrainConfig::paper_frappe());
    }

    #[test]
    fn an_unknown_metric_is_named_with_those_there_are() {
        let err = configs(&exp("  metrics: [logloss, MAPE]\n")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("metrics"), "{err}");
        assert!(
            err.reason.ends_with(
                "metric 'MAPE' is not one QNN Lab computes (logloss, AUC, gAUC, avgAUC, MSE, \
                 RMSE, MAE) (did you mean `MAE`?)"
            ),
            "{err}"
        );
        let err = configs(&exp("  monitor: precision\n")).unwrap_err();
        assert!(!err.reason.contains("did you mean"), "{err}");
    }

    #[test]
    fn the_self_ensemble_ablation_is_a_key() {
        let (_, t) = configs(&exp("  self_ensemble: False\n")).unwrap();
        assert!(!t.self_ensemble);
        let err = configs(&exp("  self_ensemble: 2\n")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("self_ensemble"), "{err}");
    }

    /// A key left out means the default of the seed's configuration table
    /// (../shared/docs/seed-config.md), the contract users read; never the paper's values.
    #[test]
    fn missing_keys_take_the_seed_tables_defaults() {
        let (q, t) = qnn_configs(&exp(""));
        assert_eq!(
            (q.embedding_dim, q.num_layers, q.num_row, q.num_heads),
            (32, 3, 3, 1)
        );
        assert_eq!((q.net_dropout, q.batch_norm), (0.0, false));
        assert_eq!(
            (t.learning_rate, t.batch_size, t.epochs),
            (1e-3, 10_000, 100)
        );
        assert_eq!((t.shuffle, t.seed, t.early_stop_patience), (true, 2021, 2));
        assert!(t.self_ensemble, "QNN trains with its Self-Ensemble loss");
        assert_eq!(
            (t.embedding_regularizer, t.net_regularizer),
            (Regularizer::NONE, Regularizer::NONE)
        );
        assert_eq!(t.metrics, [Metric::Logloss, Metric::Auc]);
        assert_eq!(t.monitor, Monitor::metric(Metric::Auc));
        assert_eq!(
            (t.monitor_mode, t.save_best_only, t.eval_steps),
            (MonitorMode::Max, true, None)
        );
        assert_eq!((q, t), (QnnConfig::default(), TrainConfig::default()));

        let e = Experiment::load(
            &[ConfigFile {
                name: "model_config.yaml".into(),
                text: "E:\n  dataset_id: D\n".into(),
            }],
            &[ConfigFile {
                name: "dataset_config.yaml".into(),
                text: "D:\n  data_format: h5\n".into(),
            }],
            "E",
        )
        .unwrap();
        let err = configs(&e).unwrap_err().to_string();
        assert!(err.contains("model") && err.contains("FinalMLP"), "{err}");
    }

    #[test]
    fn every_authors_experiment_loads_unchanged() {
        let model = ConfigFile {
            name: "model_config.yaml".into(),
            text: include_str!("../../../tests/fixtures/authors_config/model_config.yaml").into(),
        };
        let dataset = ConfigFile {
            name: "dataset_config.yaml".into(),
            text: include_str!("../../../tests/fixtures/authors_config/dataset_config.yaml").into(),
        };
        let load = |id: &str| {
            let e = Experiment::load(
                std::slice::from_ref(&model),
                std::slice::from_ref(&dataset),
                id,
            )
            .unwrap();
            let (q, t) = qnn_configs(&e);
            let (spec, notes) = qnn_data::DatasetSpec::from_experiment(&e).unwrap();
            (q, t, spec, notes)
        };
        let (q, t, spec, _) = load("QNN_T26_Frappe");
        assert_eq!(
            (q, t),
            (QnnConfig::paper_frappe(), TrainConfig::paper_frappe())
        );
        assert_eq!(spec.data_format, qnn_data::DataFormat::H5);
        let (q, t, ..) = load("QNN_T26_Criteo");
        assert_eq!((q.num_layers, q.num_row, q.batch_norm), (4, 5, false));
        assert_eq!(
            (t.batch_size, t.embedding_regularizer),
            (10_000, Regularizer::l2(1e-5))
        );
        let (q, t, ..) = load("QNN_T26_ML_1M");
        assert_eq!((q.num_heads, t.seed), (4, 2023));
        let (q, _, spec, notes) = load("QNN_T26_KKBox");
        assert_eq!((q.embedding_dim, q.num_heads), (128, 16));
        assert_eq!(spec.columns.len(), 12);
        assert!(
            notes.iter().any(|n| n.contains("`encoder` is ignored")),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|n| n.contains("without `splitter`")),
            "{notes:?}"
        );
        load("QNN_T26_iPinYou");
    }

    #[test]
    fn regularizer_spellings() {
        let (_, t) = configs(&exp(
            "  embedding_regularizer: 'l2(1.e-5)'\n  net_regularizer: l1_l2(0.1, 0.2)\n",
        ))
        .unwrap();
        assert_eq!(t.embedding_regularizer, Regularizer::l2(1e-5));
        assert_eq!(t.net_regularizer, Regularizer { l1: 0.1, l2: 0.2 });
        let err = configs(&exp("  embedding_regularizer: 1e-5\n")).unwrap_err();
        assert!(
            err.to_string().contains("embedding_regularizer") && err.reason.contains("dot"),
            "{err}"
        );
        let err = configs(&exp("  net_regularizer: 1\n")).unwrap_err();
        assert!(err.reason.contains("ignores"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key_and_line() {
        let err = configs(&exp("  embedding_dim: 10\n  num_heads: 4\n")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("num_heads"));
        assert_eq!(err.line, Some(5));
        assert!(err.reason.contains("does not divide"), "{err}");
        let err = configs(&exp("  monitor: gAUC\n")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("monitor"));
        let err = configs(&exp("  optimizer: sgd\n")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("optimizer"));
        let err = configs(&exp("  batch_size: 1.5\n")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("batch_size"));
        let err = Experiment::load(
            &[ConfigFile {
                name: "m".into(),
                text: "E:\n  dataset_id: D\n  model: xDeepFM\n".into(),
            }],
            &[ConfigFile {
                name: "d".into(),
                text: "D: {}\n".into(),
            }],
            "E",
        )
        .and_then(|e| configs(&e).map(|_| ()))
        .unwrap_err();
        assert!(err.reason.contains("not a model QNN Lab has"), "{err}");
        assert!(
            err.reason.contains("DeepFM"),
            "the list names the zoo: {err}"
        );
    }

    #[test]
    fn task_and_loss_choose_the_output_the_loss_and_the_metrics() {
        let (_, t) = configs(&exp("  task: regression\n  loss: mse_loss\n")).unwrap();
        assert_eq!(t.loss, Loss::MseLoss);
        assert_eq!(t.metrics, Metric::defaults(qnn_data::Task::Regression));
        assert_eq!(t.monitor, Monitor::metric(Metric::Mse));
        assert_eq!(t.monitor_mode, MonitorMode::Min);
        // FuxiCTR's other spellings of cross-entropy, and MSE on a classifier's probabilities.
        let (_, t) = configs(&exp("  loss: bce\n")).unwrap();
        assert_eq!(t.loss, Loss::BinaryCrossentropy);
        let (_, t) = configs(&exp("  loss: mse_loss\n")).unwrap();
        assert_eq!((t.loss, t.monitor_mode), (Loss::MseLoss, MonitorMode::Max));
        let bad = |block: &str| {
            let err = configs(&exp(block)).unwrap_err();
            (err.key.clone().unwrap_or_default(), err.reason.clone())
        };
        let (key, reason) = bad("  task: ranking\n");
        assert_eq!(key, "task");
        assert!(
            reason.contains("binary_classification, regression"),
            "{reason}"
        );
        assert_eq!(bad("  loss: hinge\n").0, "loss");
        assert_eq!(
            bad("  task: regression\n  loss: binary_crossentropy\n").0,
            "loss"
        );
        assert_eq!(
            bad("  task: regression\n  metrics: [MSE, AUC]\n").0,
            "metrics"
        );
        assert_eq!(bad("  task: regression\n  monitor: logloss\n").0, "monitor");
        assert_eq!(
            bad("  task: regression\n  monitor_mode: max\n").0,
            "monitor_mode"
        );
        assert_eq!(bad("  metrics: [logloss, MAE]\n").0, "metrics");
    }

    /// An experiment block of model `model` with `keys` (indented lines).
    fn zoo_exp(model: &str, keys: &str) -> Experiment {
        Experiment::load(
            &[ConfigFile {
                name: "model_config.yaml".into(),
                text: format!("E:\n  dataset_id: D\n  model: {model}\n{keys}"),
            }],
            &[ConfigFile {
                name: "dataset_config.yaml".into(),
                text: "D: {}\n".into(),
            }],
            "E",
        )
        .unwrap()
    }

    /// FuxiCTR 2.0.1's `<Model>_default` sections of the model zoo (baselines spec §8.2) load
    /// unchanged, with their values.
    #[test]
    fn the_model_zoos_default_sections_load_unchanged() {
        let common = "  loss: binary_crossentropy\n  metrics: [logloss, AUC]\n  task: binary_classification\n  optimizer: adam\n  learning_rate: 1.0e-3\n  batch_size: 10000\n  epochs: 100\n  shuffle: True\n  seed: 2019\n  monitor: {AUC: 1, logloss: -1}\n  monitor_mode: max\n";
        let sections = [
            ("LR", "  regularizer: 0\n"),
            ("FM", "  regularizer: 0\n  embedding_dim: 10\n"),
            (
                "DNN",
                "  embedding_regularizer: 0\n  net_regularizer: 0\n  embedding_dim: 40\n  hidden_units: [500, 500, 500]\n  hidden_activations: relu\n  net_dropout: 0\n  batch_norm: False\n",
            ),
            (
                "DeepFM",
                "  embedding_regularizer: 0\n  net_regularizer: 0\n  embedding_dim: 40\n  hidden_units: [300, 300, 300]\n  hidden_activations: relu\n  net_dropout: 0\n  batch_norm: False\n",
            ),
            (
                "DCNv2",
                "  model_structure: parallel\n  use_low_rank_mixture: False\n  low_rank: 32\n  num_experts: 4\n  embedding_regularizer: 0\n  net_regularizer: 0\n  embedding_dim: 40\n  stacked_dnn_hidden_units: [500, 500, 500]\n  parallel_dnn_hidden_units: [500, 500, 500]\n  dnn_activations: relu\n  num_cross_layers: 3\n  net_dropout: 0\n  batch_norm: False\n",
            ),
            (
                "FinalMLP",
                "  embedding_regularizer: 0\n  net_regularizer: 0\n  embedding_dim: 16\n  mlp1_hidden_units: [1024, 512]\n  mlp1_hidden_activations: relu\n  mlp1_dropout: 0\n  mlp1_batch_norm: False\n  mlp2_hidden_units: [1024, 512, 256]\n  mlp2_hidden_activations: relu\n  mlp2_dropout: 0\n  mlp2_batch_norm: False\n  use_fs: True\n  fs_hidden_units: [1024, 512]\n  fs1_context: []\n  fs2_context: []\n  num_heads: 2\n",
            ),
            (
                "DualMLP",
                "  embedding_regularizer: 0\n  net_regularizer: 0\n  embedding_dim: 16\n  mlp1_hidden_units: [64, 32]\n  mlp2_hidden_units: [64, 64, 64]\n",
            ),
        ];
        for (model, keys) in sections {
            let (network, train) = configs(&zoo_exp(model, &format!("{common}{keys}")))
                .unwrap_or_else(|e| panic!("{model}: {e}"));
            assert_eq!(network.name(), model);
            assert_eq!((train.batch_size, train.seed), (10000, 2019), "{model}");
        }
        let (network, _) = configs(&zoo_exp("FinalMLP", sections[5].1)).unwrap();
        let NetworkConfig::Zoo(ZooConfig::FinalMLP(c)) = network else {
            panic!("{network:?}")
        };
        assert_eq!(
            (
                c.embedding_dim,
                c.num_heads,
                c.mlp2.hidden_units,
                c.fs_hidden_units
            ),
            (16, 2, vec![1024, 512, 256], vec![1024, 512])
        );
    }

    #[test]
    fn zoo_keys_are_checked_per_network() {
        // A key of another network: FuxiCTR would ignore it silently.
        let err = configs(&zoo_exp("DeepFM", "  num_layers: 3\n")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("num_layers"));
        assert!(err.reason.contains("not a key of DeepFM"), "{err}");
        let err = configs(&exp("  hidden_units: [64]\n")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("hidden_units"));
        let err = configs(&zoo_exp("LR", "  embedding_regularizer: 0.1\n")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("embedding_regularizer"));
        // LR and FM's one regularizer is both groups'.
        let (_, t) = configs(&zoo_exp("FM", "  regularizer: 0.01\n")).unwrap();
        assert_eq!(t.embedding_regularizer, Regularizer::l2(0.01));
        assert_eq!(t.net_regularizer, Regularizer::l2(0.01));
        // Values the network refuses are located like any other key.
        let err = configs(&zoo_exp("DNN", "  hidden_activations: prelu\n")).unwrap_err();
        assert_eq!(
            (err.key.as_deref(), err.line),
            (Some("hidden_activations"), Some(4))
        );
        let err = configs(&zoo_exp("DCNv2", "  model_structure: stacked\n")).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("stacked_dnn_hidden_units"));
        let err = configs(&zoo_exp(
            "FinalMLP",
            "  mlp1_hidden_units: [6]\n  num_heads: 4\n",
        ))
        .unwrap_err();
        assert_eq!(err.key.as_deref(), Some("num_heads"));
        let err = configs(&zoo_exp("DNN", "  hidden_units: 64\n")).unwrap_err();
        assert!(err.reason.contains("list of layer sizes"), "{err}");
    }
}
