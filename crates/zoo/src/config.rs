//! The zoo's hyper-parameters under FuxiCTR's key names, with FuxiCTR 2.0.1's constructor
//! defaults for a missing key (baselines spec §8.1). Regularizers are the trainer's business
//! (`embedding_regularizer`, `net_regularizer`; LR and FM's single `regularizer`), as for QNN.

use qnn_model::ModelError;
use serde::{Deserialize, Serialize};

use crate::mlp::{Activation, MlpSpec};

/// Reads a model's keys from wherever the config came from (a FuxiCTR YAML section, a golden
/// case, the page's settings). Each method returns `Ok(None)` for a missing key and an error
/// naming the key for a value of the wrong type; [`Keys::invalid`] turns a value the network
/// refuses into the source's own error (which knows the file and line).
pub trait Keys {
    type Error;
    fn count(&self, key: &'static str) -> Result<Option<usize>, Self::Error>;
    fn float(&self, key: &'static str) -> Result<Option<f64>, Self::Error>;
    fn boolean(&self, key: &'static str) -> Result<Option<bool>, Self::Error>;
    fn string(&self, key: &'static str) -> Result<Option<String>, Self::Error>;
    /// A list of counts (`[]` is an empty list).
    fn counts(&self, key: &'static str) -> Result<Option<Vec<usize>>, Self::Error>;
    /// One string or a list of strings.
    fn strings(&self, key: &'static str) -> Result<Option<Vec<String>>, Self::Error>;
    /// A key's value is refused: `error` is a [`ModelError::Config`] naming the key.
    fn invalid(&self, error: ModelError) -> Self::Error;
}

fn refuse<K: Keys + ?Sized>(keys: &K, key: &'static str, reason: String) -> K::Error {
    keys.invalid(ModelError::Config { key, reason })
}

/// The largest width, depth or count a zoo config may give.
pub const MAX_SIZE: usize = qnn_keys::MAX_SIZE;

/// The networks of FuxiCTR's model zoo that QNN Lab has, under their FuxiCTR names (which
/// keys each reads is in the vocabulary, `qnn_keys::network_keys`).
pub const ZOO_MODELS: [&str; 7] = ["LR", "FM", "DNN", "DeepFM", "DCNv2", "FinalMLP", "DualMLP"];

/// The keys of each tower: hidden units, activations, dropout rate, batch norm.
type TowerKeys = [&'static str; 4];
const DNN_KEYS: TowerKeys = [
    "hidden_units",
    "hidden_activations",
    "net_dropout",
    "batch_norm",
];
const STACKED_KEYS: TowerKeys = [
    "stacked_dnn_hidden_units",
    "dnn_activations",
    "net_dropout",
    "batch_norm",
];
const PARALLEL_KEYS: TowerKeys = [
    "parallel_dnn_hidden_units",
    "dnn_activations",
    "net_dropout",
    "batch_norm",
];
const MLP1_KEYS: TowerKeys = [
    "mlp1_hidden_units",
    "mlp1_hidden_activations",
    "mlp1_dropout",
    "mlp1_batch_norm",
];
const MLP2_KEYS: TowerKeys = [
    "mlp2_hidden_units",
    "mlp2_hidden_activations",
    "mlp2_dropout",
    "mlp2_batch_norm",
];

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
    /// Hidden layers with FuxiCTR's defaults for the rest: ReLU, no dropout, no batch norm.
    pub fn new(hidden_units: Vec<usize>) -> Self {
        Self {
            hidden_units,
            hidden_activations: vec![Activation::Relu],
            dropout: 0.0,
            batch_norm: false,
        }
    }

    /// Width of the tower's output on an input of `input` values (the input itself when the
    /// tower has no layer).
    pub fn output_width(&self, input: usize) -> usize {
        self.hidden_units.last().copied().unwrap_or(input)
    }

    fn read<K: Keys + ?Sized>(
        keys: &K,
        [units_key, activations_key, dropout_key, batch_norm_key]: TowerKeys,
        default_units: &[usize],
    ) -> Result<Self, K::Error> {
        let hidden_units = keys
            .counts(units_key)?
            .unwrap_or_else(|| default_units.to_vec());
        let names = keys
            .strings(activations_key)?
            .unwrap_or_else(|| vec!["ReLU".into()]);
        let hidden_activations = names
            .iter()
            .map(|n| Activation::parse(activations_key, n).map_err(|e| keys.invalid(e)))
            .collect::<Result<Vec<_>, _>>()?;
        let dropout = keys.float(dropout_key)?.unwrap_or(0.0);
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
    pub fn read<K: Keys + ?Sized>(model: &str, keys: &K) -> Result<Self, K::Error> {
        let dim = |default| keys.count("embedding_dim").map(|d| d.unwrap_or(default));
        let tower = |tower_keys| Tower::read(keys, tower_keys, &[64, 64, 64]);
        let config = match model {
            "LR" => Self::LR,
            "FM" => Self::FM {
                embedding_dim: dim(10)?,
            },
            "DNN" => Self::DNN {
                embedding_dim: dim(10)?,
                dnn: tower(DNN_KEYS)?,
            },
            "DeepFM" => Self::DeepFM {
                embedding_dim: dim(10)?,
                dnn: tower(DNN_KEYS)?,
            },
            "DCNv2" => {
                if keys.boolean("use_low_rank_mixture")?.unwrap_or(false) {
                    return Err(refuse(
                        keys,
                        "use_low_rank_mixture",
                        "the low-rank mixture cross net (CrossNetMix) is not in QNN Lab".into(),
                    ));
                }
                let structure = match keys.string("model_structure")?.as_deref() {
                    None | Some("parallel") => DcnStructure::Parallel,
                    Some("stacked") => DcnStructure::Stacked,
                    Some("stacked_parallel") => DcnStructure::StackedParallel,
                    Some("crossnet_only") => DcnStructure::CrossnetOnly,
                    Some(other) => {
                        return Err(refuse(
                            keys,
                            "model_structure",
                            format!(
                                "'{other}' is not parallel, stacked, stacked_parallel or \
                                 crossnet_only"
                            ),
                        ));
                    }
                };
                let tower = |tower_keys| Tower::read(keys, tower_keys, &[]);
                Self::DCNv2(DcnV2Config {
                    embedding_dim: dim(10)?,
                    model_structure: structure,
                    num_cross_layers: keys.count("num_cross_layers")?.unwrap_or(3),
                    stacked_dnn: tower(STACKED_KEYS)?,
                    parallel_dnn: tower(PARALLEL_KEYS)?,
                })
            }
            "FinalMLP" => {
                let config = FinalMlpConfig {
                    embedding_dim: dim(10)?,
                    mlp1: tower(MLP1_KEYS)?,
                    mlp2: tower(MLP2_KEYS)?,
                    use_fs: keys.boolean("use_fs")?.unwrap_or(true),
                    fs_hidden_units: keys.counts("fs_hidden_units")?.unwrap_or_else(|| vec![64]),
                    fs1_context: keys.strings("fs1_context")?.unwrap_or_default(),
                    fs2_context: keys.strings("fs2_context")?.unwrap_or_default(),
                    num_heads: keys.count("num_heads")?.unwrap_or(1),
                };
                Self::FinalMLP(config)
            }
            "DualMLP" => Self::DualMLP {
                embedding_dim: dim(10)?,
                mlp1: tower(MLP1_KEYS)?,
                mlp2: tower(MLP2_KEYS)?,
            },
            other => {
                return Err(refuse(
                    keys,
                    "model",
                    format!("'{other}' is not one of {}", ZOO_MODELS.join(", ")),
                ));
            }
        };
        config.validate().map_err(|e| keys.invalid(e))?;
        Ok(config)
    }

    /// Everything a network of this config needs to be well defined, for a config from any
    /// source (a model file's header too, which no reader checked): sizes at least 1 and at most
    /// [`MAX_SIZE`] (products of a few stay far inside 64 bits; the memory a network of such
    /// sizes needs is checked where it is built), rates in [0, 1), one activation or one per
    /// layer, the hidden layers a structure needs, heads that divide the towers.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |key, reason: String| Err(ModelError::Config { key, reason });
        if let Some((key, size)) = self.sizes().into_iter().find(|&(_, n)| n > MAX_SIZE) {
            return bad(
                key,
                format!("{size} is more than QNN Lab allows ({MAX_SIZE})"),
            );
        }
        let dim = match self {
            Self::LR => None,
            Self::FM { embedding_dim }
            | Self::DNN { embedding_dim, .. }
            | Self::DeepFM { embedding_dim, .. }
            | Self::DualMLP { embedding_dim, .. } => Some(*embedding_dim),
            Self::DCNv2(c) => Some(c.embedding_dim),
            Self::FinalMLP(c) => Some(c.embedding_dim),
        };
        if dim == Some(0) {
            return bad("embedding_dim", "must be at least 1".into());
        }
        let towers: Vec<(TowerKeys, &Tower)> = match self {
            Self::LR | Self::FM { .. } => vec![],
            Self::DNN { dnn, .. } | Self::DeepFM { dnn, .. } => vec![(DNN_KEYS, dnn)],
            Self::DCNv2(c) => vec![
                (STACKED_KEYS, &c.stacked_dnn),
                (PARALLEL_KEYS, &c.parallel_dnn),
            ],
            Self::FinalMLP(FinalMlpConfig { mlp1, mlp2, .. })
            | Self::DualMLP { mlp1, mlp2, .. } => {
                vec![(MLP1_KEYS, mlp1), (MLP2_KEYS, mlp2)]
            }
        };
        for ([units_key, activations_key, dropout_key, _], tower) in towers {
            if tower.hidden_units.contains(&0) {
                return bad(units_key, "a hidden layer of 0 units".into());
            }
            let activations = tower.hidden_activations.len();
            if activations != 1 && activations != tower.hidden_units.len() {
                return bad(
                    activations_key,
                    format!(
                        "{activations} activations for {} hidden layers (give one, or one per \
                         layer)",
                        tower.hidden_units.len()
                    ),
                );
            }
            if !(0.0..1.0).contains(&tower.dropout) {
                return bad(
                    dropout_key,
                    format!("{} is not a rate in [0, 1)", tower.dropout),
                );
            }
        }
        match self {
            Self::DCNv2(c) => {
                let (stacked, parallel) = match c.model_structure {
                    DcnStructure::Parallel => (false, true),
                    DcnStructure::Stacked => (true, false),
                    DcnStructure::StackedParallel => (true, true),
                    DcnStructure::CrossnetOnly => (false, false),
                };
                // FuxiCTR fails with an IndexError here; we say which key.
                let structure = c.model_structure;
                for (needed, [key, ..], tower) in [
                    (stacked, STACKED_KEYS, &c.stacked_dnn),
                    (parallel, PARALLEL_KEYS, &c.parallel_dnn),
                ] {
                    if needed && tower.hidden_units.is_empty() {
                        return bad(
                            key,
                            format!(
                                "model_structure {structure:?} needs at least one hidden layer"
                            ),
                        );
                    }
                }
                Ok(())
            }
            Self::FinalMLP(c) => c.validate(),
            _ => Ok(()),
        }
    }

    /// Every size the config names (for bounding a model file's header by its weights).
    pub fn sizes(&self) -> Vec<(&'static str, usize)> {
        let tower = |key: &'static str, t: &Tower| {
            let mut v = vec![(key, t.hidden_units.len())];
            v.extend(t.hidden_units.iter().map(|&u| (key, u)));
            v
        };
        match self {
            Self::LR => vec![],
            Self::FM { embedding_dim } => vec![("embedding_dim", *embedding_dim)],
            Self::DNN { embedding_dim, dnn } | Self::DeepFM { embedding_dim, dnn } => {
                let mut v = vec![("embedding_dim", *embedding_dim)];
                v.extend(tower("hidden_units", dnn));
                v
            }
            Self::DCNv2(c) => {
                let mut v = vec![
                    ("embedding_dim", c.embedding_dim),
                    ("num_cross_layers", c.num_cross_layers),
                ];
                v.extend(tower("stacked_dnn_hidden_units", &c.stacked_dnn));
                v.extend(tower("parallel_dnn_hidden_units", &c.parallel_dnn));
                v
            }
            Self::FinalMLP(c) => {
                let mut v = vec![
                    ("embedding_dim", c.embedding_dim),
                    ("num_heads", c.num_heads),
                    ("fs_hidden_units", c.fs_hidden_units.len()),
                ];
                v.extend(c.fs_hidden_units.iter().map(|&u| ("fs_hidden_units", u)));
                v.extend(tower("mlp1_hidden_units", &c.mlp1));
                v.extend(tower("mlp2_hidden_units", &c.mlp2));
                v
            }
            Self::DualMLP {
                embedding_dim,
                mlp1,
                mlp2,
            } => {
                let mut v = vec![("embedding_dim", *embedding_dim)];
                v.extend(tower("mlp1_hidden_units", mlp1));
                v.extend(tower("mlp2_hidden_units", mlp2));
                v
            }
        }
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    use super::*;

    /// Every key is missing; records which keys were asked for.
    #[derive(Default)]
    struct AskedKeys(RefCell<BTreeSet<&'static str>>);

    impl AskedKeys {
        fn none<T>(&self, key: &'static str) -> Result<Option<T>, String> {
            self.0.borrow_mut().insert(key);
            Ok(None)
        }
    }

    impl Keys for AskedKeys {
        type Error = String;
        fn count(&self, key: &'static str) -> Result<Option<usize>, String> {
            self.none(key)
        }
        fn float(&self, key: &'static str) -> Result<Option<f64>, String> {
            self.none(key)
        }
        fn boolean(&self, key: &'static str) -> Result<Option<bool>, String> {
            self.none(key)
        }
        fn string(&self, key: &'static str) -> Result<Option<String>, String> {
            self.none(key)
        }
        fn counts(&self, key: &'static str) -> Result<Option<Vec<usize>>, String> {
            self.none(key)
        }
        fn strings(&self, key: &'static str) -> Result<Option<Vec<String>>, String> {
            self.none(key)
        }
        fn invalid(&self, error: ModelError) -> String {
            error.to_string()
        }
    }

    /// The vocabulary says which keys each network reads; each network reads exactly those
    /// (besides the regularizers, which the trainer reads).
    #[test]
    fn each_network_reads_the_keys_the_vocabulary_gives_it() {
        assert_eq!(&qnn_keys::NETWORKS[1..], &ZOO_MODELS[..]);
        let regularizers = ["regularizer", "embedding_regularizer", "net_regularizer"];
        for model in ZOO_MODELS {
            let asked = AskedKeys::default();
            // DCNv2's defaults alone are refused (parallel with no hidden layers, an IndexError
            // in FuxiCTR), after every key was read.
            let read = ZooConfig::read(model, &asked);
            assert!(read.is_ok() || model == "DCNv2", "{model}: {read:?}");
            let vocabulary: BTreeSet<_> = qnn_keys::network_keys(model)
                .map(|k| k.name)
                .filter(|k| !regularizers.contains(k))
                // Settings of the low-rank mixture, which is refused: FuxiCTR's DCNv2 configs
                // write them, so they are accepted and unused.
                .filter(|k| !["low_rank", "num_experts"].contains(k))
                .collect();
            assert_eq!(asked.0.into_inner(), vocabulary, "{model}");
        }
    }
}
