//! Every network QNN Lab trains, behind one interface: QNN (from `qnn-model`) and the zoo's
//! FuxiCTR baselines. The trainer, evaluation, the model file, the CLI and the browser worker
//! handle a [`Network`] built from a [`NetworkConfig`]; what only QNN has (interaction maps,
//! the Self-Ensemble loss's two passes, the fused layer kernel) is reached through
//! [`Network::as_qnn`].
//!
//! Adding a network: a module in `network.rs`'s style, a variant of [`ZooConfig`] with its keys
//! read in [`ZooConfig::read`], and its arm in [`ZooNetwork`]'s methods.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::tensor::{Device, Tensor};
use qnn_model::{
    FileConfig, InputLayout, MODEL_NAMES, Mode, ModelError, ModelFile, ModelInput, ParamRef,
    ParamStore, Qnn, QnnConfig, Regularizer, Task, output,
};
use serde::{Deserialize, Serialize};

use crate::config::{ZOO_MODELS, ZooConfig};
use crate::network::ZooNetwork;
use crate::weights::{Budgeted, FreshInit, FromStore, WeightSource, param_id};

/// A network's shape. Stored as is in model files and saved training states: a QNN's config
/// is the JSON it always was (files written before the zoo still load); a zoo network's is
/// tagged with its FuxiCTR name (`{"model": "DeepFM", …}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum NetworkConfig {
    Zoo(ZooConfig),
    Qnn(QnnConfig),
}

impl<'de> Deserialize<'de> for NetworkConfig {
    /// A config with a `model` tag is the zoo's, any other QNN's: each error is then the one
    /// network's (a damaged QNN header says which field is wrong).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(deserializer)?;
        if value.get("model").is_some() {
            ZooConfig::deserialize(value)
                .map(Self::Zoo)
                .map_err(D::Error::custom)
        } else {
            QnnConfig::deserialize(value)
                .map(Self::Qnn)
                .map_err(D::Error::custom)
        }
    }
}

impl From<QnnConfig> for NetworkConfig {
    fn from(config: QnnConfig) -> Self {
        Self::Qnn(config)
    }
}

impl From<ZooConfig> for NetworkConfig {
    fn from(config: ZooConfig) -> Self {
        Self::Zoo(config)
    }
}

/// A model file of any network.
pub type NetworkFile = ModelFile<NetworkConfig>;

/// Every model name a config may give: QNN's spellings and the zoo's.
pub fn model_names() -> Vec<&'static str> {
    MODEL_NAMES
        .iter()
        .chain(ZOO_MODELS.iter())
        .copied()
        .collect()
}

impl NetworkConfig {
    /// The name reports and the page show (QNN, or FuxiCTR's name of a zoo network).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Qnn(_) => "QNN",
            Self::Zoo(z) => z.name(),
        }
    }

    pub fn as_qnn(&self) -> Option<&QnnConfig> {
        match self {
            Self::Qnn(q) => Some(q),
            Self::Zoo(_) => None,
        }
    }

    /// Whether the network has interaction maps (QNN's quadratic layers).
    pub fn has_interaction_maps(&self) -> bool {
        matches!(self, Self::Qnn(_))
    }

    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            Self::Qnn(q) => q.validate(),
            Self::Zoo(z) => z.validate(),
        }
    }
}

impl FileConfig for NetworkConfig {
    fn check_weights(&self, layout: &InputLayout, weights: &ParamStore) -> Result<(), ModelError> {
        match self {
            Self::Qnn(q) => q.check_weights(layout, weights),
            Self::Zoo(z) => {
                z.validate()?;
                // The header is outside the checksum: every size it names must be within the
                // weights the file holds before anything is computed from it. Each tensor's
                // name and shape are checked when the network is built from the file
                // (`Network::from_store`, before the tensor is allocated): building here too
                // would hold a second copy of a large model.
                let held: usize = weights.tensors.values().map(|t| t.values.len()).sum();
                match z.sizes().into_iter().find(|&(_, n)| n > held.max(1)) {
                    Some((key, size)) => Err(ModelError::Weights(format!(
                        "the config's {key} ({size}) is larger than the weights the file holds \
                         ({held})"
                    ))),
                    None => Ok(()),
                }
            }
        }
    }
}

/// One trainable network.
// One network per run: its size does not matter, and Burn's derive takes modules, not boxes.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Network {
    Qnn(Qnn),
    Zoo(ZooNetwork),
}

impl Network {
    /// A freshly initialised network, deterministic in `seed` on every backend (QNN: spec §A.6;
    /// the zoo: FuxiCTR's initialisation).
    pub fn init(
        config: &NetworkConfig,
        layout: &InputLayout,
        seed: u64,
        device: &Device,
    ) -> Result<Self, ModelError> {
        match config {
            NetworkConfig::Qnn(q) => Qnn::init(q, layout, seed, device).map(Self::Qnn),
            NetworkConfig::Zoo(z) => {
                z.validate()?;
                let available = qnn_model::budget::available_memory();
                let mut source = Budgeted::new(FreshInit::new(seed), available);
                ZooNetwork::build(z, layout, &mut source, device).map(Self::Zoo)
            }
        }
    }

    /// The network with the named weights of `store` (a model file's, a checkpoint's); every
    /// tensor must be used.
    pub fn from_store(
        config: &NetworkConfig,
        layout: &InputLayout,
        store: &ParamStore,
        device: &Device,
    ) -> Result<Self, ModelError> {
        match config {
            NetworkConfig::Qnn(q) => Qnn::from_store(q, layout, store, device).map(Self::Qnn),
            NetworkConfig::Zoo(z) => {
                z.validate()?;
                let mut source = FromStore::new(store);
                let network =
                    ZooNetwork::build(z, layout, &mut source as &mut dyn WeightSource, device)?;
                match source.unused() {
                    Some(extra) => Err(ModelError::Weights(format!(
                        "unexpected tensor `{extra}` for a {} network",
                        z.name()
                    ))),
                    None => Ok(Self::Zoo(network)),
                }
            }
        }
    }

    /// The network of a model file, with the layout of its feature map.
    pub fn from_file(
        file: &NetworkFile,
        device: &Device,
    ) -> Result<(Self, InputLayout), ModelError> {
        let layout = InputLayout::new(&file.feature_map)?;
        let network = Self::from_store(&file.config, &layout, &file.weights, device)?;
        Ok((network, layout))
    }

    pub fn as_qnn(&self) -> Option<&Qnn> {
        match self {
            Self::Qnn(q) => Some(q),
            Self::Zoo(_) => None,
        }
    }

    pub fn as_qnn_mut(&mut self) -> Option<&mut Qnn> {
        match self {
            Self::Qnn(q) => Some(q),
            Self::Zoo(_) => None,
        }
    }

    /// Logits, [B].
    pub fn logits(&self, input: &ModelInput, mode: Mode) -> Tensor<1> {
        match self {
            Self::Qnn(q) => q.logits(input, mode),
            Self::Zoo(z) => z.logits(input, mode),
        }
    }

    /// The outputs for `task` in evaluation mode (click probabilities for binary
    /// classification), [B].
    pub fn predict(&self, input: &ModelInput, task: Task) -> Tensor<1> {
        output(task, self.logits(input, Mode::Eval))
    }

    pub fn regularization(&self, embedding: &Regularizer, net: &Regularizer) -> Option<Tensor<1>> {
        match self {
            Self::Qnn(q) => q.regularization(embedding, net),
            Self::Zoo(z) => z.regularization(embedding, net),
        }
    }

    /// Every trainable parameter once.
    pub fn params(&self) -> Vec<ParamRef<'_>> {
        match self {
            Self::Qnn(q) => q.params(),
            Self::Zoo(z) => z.params().into_iter().map(|(p, _)| p).collect(),
        }
    }

    /// The optimizer's key of each parameter, in [`Network::params`] order (saved with a
    /// training state so that the optimizer's moments find their parameters after a resume).
    pub fn param_ids(&self) -> Vec<u64> {
        self.params().iter().map(param_id).collect()
    }

    /// The same network with its parameters keyed by `ids` (from [`Network::param_ids`] of the
    /// network whose optimizer state is being restored).
    pub fn with_param_ids(self, ids: &[u64]) -> Result<Self, ModelError> {
        match self {
            Self::Qnn(q) => q.with_param_ids(ids).map(Self::Qnn),
            Self::Zoo(z) => {
                let current: Vec<u64> = z.params().iter().map(|(p, _)| param_id(p)).collect();
                if ids.len() != current.len() {
                    return Err(ModelError::Weights(format!(
                        "{} parameter ids for a network with {} parameters",
                        ids.len(),
                        current.len()
                    )));
                }
                let mut rekey = Rekey(current.into_iter().zip(ids.iter().copied()).collect());
                Ok(Self::Zoo(z.map(&mut rekey)))
            }
        }
    }

    /// Every parameter and buffer on the host, by name.
    pub async fn to_store(&self) -> Result<ParamStore, ModelError> {
        match self {
            Self::Qnn(q) => q.to_store().await,
            Self::Zoo(z) => z.to_store().await,
        }
    }

    /// The network with `by` added to the bias added straight to its logit. A regression run
    /// starts from the mean of its training labels this way.
    pub fn shift_output(self, by: f32) -> Self {
        match self {
            Self::Qnn(q) => Self::Qnn(q.shift_output(by)),
            Self::Zoo(z) => Self::Zoo(z.shift_output(by)),
        }
    }

    /// FuxiCTR's "Total number of parameters".
    pub fn num_parameters(&self) -> usize {
        match self {
            Self::Qnn(q) => q.num_parameters(),
            Self::Zoo(z) => z.num_parameters(),
        }
    }
}

/// Gives parameters new optimizer keys (old id → new id); buffers and unknown ids are kept.
struct Rekey(HashMap<u64, u64>);

impl ModuleMapper for Rekey {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        match self.0.get(&param.id.val()) {
            Some(&id) => {
                let (_, value, mapper) = param.consume();
                Param::from_mapped_value(ParamId::from(id), value, mapper)
            }
            None => param,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_read_back_and_a_qnn_config_is_the_json_it_always_was() {
        let qnn = NetworkConfig::from(QnnConfig::paper_frappe());
        let json = serde_json::to_string(&qnn).unwrap();
        assert_eq!(
            json,
            serde_json::to_string(&QnnConfig::paper_frappe()).unwrap()
        );
        assert_eq!(serde_json::from_str::<NetworkConfig>(&json).unwrap(), qnn);
        let zoo = NetworkConfig::from(ZooConfig::FM { embedding_dim: 4 });
        let json = serde_json::to_string(&zoo).unwrap();
        assert_eq!(json, r#"{"model":"FM","embedding_dim":4}"#);
        assert_eq!(serde_json::from_str::<NetworkConfig>(&json).unwrap(), zoo);
        // Errors are the one network's.
        let err = serde_json::from_str::<NetworkConfig>(r#"{"embedding_dim":-1}"#).unwrap_err();
        assert!(
            err.to_string().contains("invalid value: integer `-1`"),
            "{err}"
        );
        let err = serde_json::from_str::<NetworkConfig>(r#"{"model":"FM"}"#).unwrap_err();
        assert!(
            err.to_string().contains("missing field `embedding_dim`"),
            "{err}"
        );
    }

    #[test]
    fn weights_of_another_shape_or_network_are_refused_by_name() {
        let map = qnn_data::synthetic::SyntheticSpec::planted(1, 0).feature_map();
        let layout = InputLayout::new(&map).unwrap();
        let device = Device::flex();
        let config = NetworkConfig::from(ZooConfig::FM { embedding_dim: 4 });
        let network = Network::init(&config, &layout, 1, &device).unwrap();
        let store = pollster::block_on(network.to_store()).unwrap();
        assert!(Network::from_store(&config, &layout, &store, &device).is_ok());
        assert!(config.check_weights(&layout, &store).is_ok());

        let mut wrong = store.clone();
        wrong.insert("fm.lr_layer.bias", vec![2], vec![0.0, 0.0]);
        let err = Network::from_store(&config, &layout, &wrong, &device).unwrap_err();
        assert!(
            err.to_string().contains("`fm.lr_layer.bias` has shape [2]"),
            "{err}"
        );
        let mut extra = store.clone();
        extra.insert("layer.0.linear.0.weight", vec![1], vec![0.0]);
        let err = Network::from_store(&config, &layout, &extra, &device).unwrap_err();
        assert!(
            err.to_string()
                .contains("unexpected tensor `layer.0.linear.0.weight`"),
            "{err}"
        );
        // A header whose values no reader checked: refused, not a division by zero.
        let zero_heads = NetworkConfig::from(ZooConfig::FinalMLP(crate::FinalMlpConfig {
            embedding_dim: 4,
            mlp1: crate::Tower {
                hidden_units: vec![4],
                hidden_activations: vec![crate::Activation::Relu],
                dropout: 0.0,
                batch_norm: false,
            },
            mlp2: crate::Tower {
                hidden_units: vec![4],
                hidden_activations: vec![],
                dropout: 0.0,
                batch_norm: false,
            },
            use_fs: false,
            fs_hidden_units: vec![],
            fs1_context: vec![],
            fs2_context: vec![],
            num_heads: 0,
        }));
        let err = zero_heads.check_weights(&layout, &store).unwrap_err();
        assert!(
            err.to_string()
                .contains("0 activations for 1 hidden layers"),
            "{err}"
        );
        let err = Network::init(&zero_heads, &layout, 1, &device).unwrap_err();
        assert!(err.to_string().contains("0 activations"), "{err}");
        // A header naming sizes beyond the weights held is refused before anything is built.
        let huge = NetworkConfig::from(ZooConfig::FM {
            embedding_dim: 1 << 20,
        });
        let err = huge.check_weights(&layout, &store).unwrap_err();
        assert!(
            err.to_string()
                .contains("embedding_dim (1048576) is larger"),
            "{err}"
        );
    }
}
