//! The zoo's hyper-parameters under FuxiCTR's key names, with FuxiCTR 2.0.1's constructor
//! defaults for a missing key (baselines spec §8.1). Regularizers are the trainer's business
//! (`embedding_regularizer`, `net_regularizer`; LR and FM's single `regularizer`), as for QNN.

use qnn_model::ModelError;
use serde::{Deserialize, Serialize};

use crate::mlp::{Activation, MlpSpec};

/// Reads a model's keys from wherever the config came from (a FuxiCTR YAML section, a golden
/// case, the page's settings). Each method returns `Ok(None)` for a missing key and an error
/// naming the key for a value of the wrong type.
pub trait Keys {
    fn count(&self, key: &'static str) -> Result<Option<usize>, ModelError>;
    fn float(&self, key: &'static str) -> Result<Option<f64>, ModelError>;
    fn boolean(&self, key: &'static str) -> Result<Option<bool>, ModelError>;
    fn string(&self, key: &'static str) -> Result<Option<String>, ModelError>;
    /// A list of counts (`[]` is an empty list).
    fn counts(&self, key: &'static str) -> Result<Option<Vec<usize>>, ModelError>;
    /// One string or a list of strings.
    fn strings(&self, key: &'static str) -> Result<Option<Vec<String>>, ModelError>;
}

/// The networks of FuxiCTR's model zoo that QNN Lab has, under their FuxiCTR names.
pub const ZOO_MODELS: [&str; 7] = ["LR", "FM", "DNN", "DeepFM", "DCNv2", "FinalMLP", "DualMLP"];

/// One hidden-layer stack: FuxiCTR's `hidden_units`, `hidden_activations` (one name for every
/// layer, or one per layer), dropout rate and `batch_norm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tower {
    pub hidden_units: Vec<usize>,
    pub hidden_activations: Vec<Activation>,
    pub dropout: f64,
    pub batch_norm: bool,
}

impl Tower {
    fn read(
        keys: &dyn Keys,
        [units_key, activations_key, dropout_key, batch_norm_key]: [&'static str; 4],
        default_units: &[usize],
    ) -> Result<Self, ModelError> {
        let hidden_units = keys
            .counts(units_key)?
            .unwrap_or_else(|| default_units.to_vec());
        let names = keys
            .strings(activations_key)?
            .unwrap_or_else(|| vec!["ReLU".into()]);
        let hidden_activations = names
            .iter()
            .map(|n| Activation::parse(activations_key, n))
            .collect::<Result<Vec<_>, _>>()?;
        if hidden_activations.len() != 1 && hidden_activations.len() != hidden_units.len() {
            return Err(ModelError::Config {
                key: activations_key,
                reason: format!(
                    "{} activations for {} hidden layers (give one, or one per layer)",
                    hidden_activations.len(),
                    hidden_units.len()
                ),
            });
        }
        let dropout = keys.float(dropout_key)?.unwrap_or(0.0);
        if !(0.0..1.0).contains(&dropout) {
            return Err(ModelError::Config {
                key: dropout_key,
                reason: format!("{dropout} is not a rate in [0, 1)"),
            });
        }
        if let Some(0) = hidden_units.iter().min() {
            return Err(ModelError::Config {
                key: units_key,
                reason: "a hidden layer of 0 units".into(),
            });
        }
        Ok(Self {
            hidden_units,
            hidden_activations,
            dropout,
            batch_norm: keys.boolean(batch_norm_key)?.unwrap_or(false),
        })
    }

    pub fn spec(&self) -> MlpSpec {
        let n = self.hidden_units.len();
        let activations = if self.hidden_activations.len() == 1 {
            vec![self.hidden_activations[0]; n]
        } else {
            self.hidden_activations.clone()
        };
        MlpSpec {
            hidden_units: self.hidden_units.clone(),
            activations,
            dropout: vec![self.dropout; n],
            batch_norm: self.batch_norm,
            output_dim: None,
            output_activation: None,
        }
    }
}

/// DCNv2's `model_structure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DcnStructure {
    Parallel,
    Stacked,
    StackedParallel,
    CrossnetOnly,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcnV2Config {
    pub embedding_dim: usize,
    pub model_structure: DcnStructure,
    pub num_cross_layers: usize,
    pub stacked_dnn: Tower,
    pub parallel_dnn: Tower,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalMlpConfig {
    pub embedding_dim: usize,
    pub mlp1: Tower,
    pub mlp2: Tower,
    pub use_fs: bool,
    pub fs_hidden_units: Vec<usize>,
    pub fs1_context: Vec<String>,
    pub fs2_context: Vec<String>,
    pub num_heads: usize,
}

/// One zoo network and its shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model")]
pub enum ZooConfig {
    LR,
    FM {
        embedding_dim: usize,
    },
    DNN {
        embedding_dim: usize,
        dnn: Tower,
    },
    DeepFM {
        embedding_dim: usize,
        dnn: Tower,
    },
    DCNv2(DcnV2Config),
    FinalMLP(FinalMlpConfig),
    DualMLP {
        embedding_dim: usize,
        mlp1: Tower,
        mlp2: Tower,
    },
}

impl ZooConfig {
    /// The network `model` (a FuxiCTR name, [`ZOO_MODELS`]) with its keys read from `keys`.
    pub fn read(model: &str, keys: &dyn Keys) -> Result<Self, ModelError> {
        let dim = |default| -> Result<usize, ModelError> {
            let d = keys.count("embedding_dim")?.unwrap_or(default);
            if d == 0 {
                return Err(ModelError::Config {
                    key: "embedding_dim",
                    reason: "must be at least 1".into(),
                });
            }
            Ok(d)
        };
        let dnn = |keys: &dyn Keys| {
            Tower::read(
                keys,
                [
                    "hidden_units",
                    "hidden_activations",
                    "net_dropout",
                    "batch_norm",
                ],
                &[64, 64, 64],
            )
        };
        let tower = |k: usize| {
            let key = |s: &str| -> &'static str {
                match (k, s) {
                    (1, "units") => "mlp1_hidden_units",
                    (1, "act") => "mlp1_hidden_activations",
                    (1, "drop") => "mlp1_dropout",
                    (1, _) => "mlp1_batch_norm",
                    (_, "units") => "mlp2_hidden_units",
                    (_, "act") => "mlp2_hidden_activations",
                    (_, "drop") => "mlp2_dropout",
                    _ => "mlp2_batch_norm",
                }
            };
            Tower::read(
                keys,
                [key("units"), key("act"), key("drop"), key("bn")],
                &[64, 64, 64],
            )
        };
        let config = match model {
            "LR" => Self::LR,
            "FM" => Self::FM {
                embedding_dim: dim(10)?,
            },
            "DNN" => Self::DNN {
                embedding_dim: dim(10)?,
                dnn: dnn(keys)?,
            },
            "DeepFM" => Self::DeepFM {
                embedding_dim: dim(10)?,
                dnn: dnn(keys)?,
            },
            "DCNv2" => {
                if keys.boolean("use_low_rank_mixture")?.unwrap_or(false) {
                    return Err(ModelError::Config {
                        key: "use_low_rank_mixture",
                        reason: "the low-rank mixture cross net (CrossNetMix) is not in QNN Lab"
                            .into(),
                    });
                }
                let structure = match keys.string("model_structure")?.as_deref() {
                    None | Some("parallel") => DcnStructure::Parallel,
                    Some("stacked") => DcnStructure::Stacked,
                    Some("stacked_parallel") => DcnStructure::StackedParallel,
                    Some("crossnet_only") => DcnStructure::CrossnetOnly,
                    Some(other) => {
                        return Err(ModelError::Config {
                            key: "model_structure",
                            reason: format!(
                                "'{other}' is not parallel, stacked, stacked_parallel or \
                                 crossnet_only"
                            ),
                        });
                    }
                };
                let tower = |units: &'static str| {
                    Tower::read(
                        keys,
                        [units, "dnn_activations", "net_dropout", "batch_norm"],
                        &[],
                    )
                };
                let config = DcnV2Config {
                    embedding_dim: dim(10)?,
                    model_structure: structure,
                    num_cross_layers: keys.count("num_cross_layers")?.unwrap_or(3),
                    stacked_dnn: tower("stacked_dnn_hidden_units")?,
                    parallel_dnn: tower("parallel_dnn_hidden_units")?,
                };
                // FuxiCTR fails with an IndexError here; we say which key.
                let needs = |units_key: &'static str, tower: &Tower| {
                    if tower.hidden_units.is_empty() {
                        Err(ModelError::Config {
                            key: units_key,
                            reason: format!(
                                "model_structure {structure:?} needs at least one hidden layer"
                            ),
                        })
                    } else {
                        Ok(())
                    }
                };
                if matches!(
                    structure,
                    DcnStructure::Parallel | DcnStructure::StackedParallel
                ) {
                    needs("parallel_dnn_hidden_units", &config.parallel_dnn)?;
                }
                if matches!(
                    structure,
                    DcnStructure::Stacked | DcnStructure::StackedParallel
                ) {
                    needs("stacked_dnn_hidden_units", &config.stacked_dnn)?;
                }
                Self::DCNv2(config)
            }
            "FinalMLP" => {
                let config = FinalMlpConfig {
                    embedding_dim: dim(10)?,
                    mlp1: tower(1)?,
                    mlp2: tower(2)?,
                    use_fs: keys.boolean("use_fs")?.unwrap_or(true),
                    fs_hidden_units: keys.counts("fs_hidden_units")?.unwrap_or_else(|| vec![64]),
                    fs1_context: keys.strings("fs1_context")?.unwrap_or_default(),
                    fs2_context: keys.strings("fs2_context")?.unwrap_or_default(),
                    num_heads: keys.count("num_heads")?.unwrap_or(1),
                };
                config.validate()?;
                Self::FinalMLP(config)
            }
            "DualMLP" => Self::DualMLP {
                embedding_dim: dim(10)?,
                mlp1: tower(1)?,
                mlp2: tower(2)?,
            },
            other => {
                return Err(ModelError::Config {
                    key: "model",
                    reason: format!("'{other}' is not one of {}", ZOO_MODELS.join(", ")),
                });
            }
        };
        Ok(config)
    }

    /// The FuxiCTR name of the network.
    pub fn name(&self) -> &'static str {
        match self {
            Self::LR => "LR",
            Self::FM { .. } => "FM",
            Self::DNN { .. } => "DNN",
            Self::DeepFM { .. } => "DeepFM",
            Self::DCNv2(_) => "DCNv2",
            Self::FinalMLP(_) => "FinalMLP",
            Self::DualMLP { .. } => "DualMLP",
        }
    }
}

impl FinalMlpConfig {
    fn validate(&self) -> Result<(), ModelError> {
        let bad = |key, reason: String| Err(ModelError::Config { key, reason });
        let heads = self.num_heads;
        if heads == 0 {
            return bad("num_heads", "must be at least 1".into());
        }
        for (key, tower) in [
            ("mlp1_hidden_units", &self.mlp1),
            ("mlp2_hidden_units", &self.mlp2),
        ] {
            match tower.hidden_units.last() {
                None => return bad(key, "FinalMLP needs at least one hidden layer".into()),
                Some(width) if width % heads != 0 => {
                    return bad(
                        "num_heads",
                        format!("{heads} heads do not divide the {width} outputs of {key}"),
                    );
                }
                Some(_) => {}
            }
        }
        if self.fs_hidden_units.contains(&0) {
            return bad("fs_hidden_units", "a hidden layer of 0 units".into());
        }
        Ok(())
    }
}
