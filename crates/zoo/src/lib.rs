//! FuxiCTR 2.0.1's classic CTR networks in Burn, exact to FuxiCTR's own code (baselines spec,
//! checked against `../shared/golden/baselines_golden.json`): LR, FM, DNN, DeepFM, DCNv2,
//! FinalMLP and DualMLP, to compare QNN against on the same split.
//!
//! They reuse QNN's input path ([`qnn_model::InputLayout`], [`qnn_model::ModelInput`]), its
//! batch norm, dropout masks and regularizers; their weights are named and laid out as in
//! FuxiCTR's PyTorch `state_dict` ([`weights`]).

pub mod budget;
pub mod config;
pub mod embedding;
pub mod layers;
pub mod mlp;
pub mod network;
pub mod registry;
pub mod weights;

pub use config::{DcnStructure, DcnV2Config, FinalMlpConfig, Keys, Tower, ZOO_MODELS, ZooConfig};
pub use mlp::Activation;
pub use network::ZooNetwork;
pub use registry::{Network, NetworkConfig, NetworkFile, model_names};
pub use weights::{FreshInit, FromStore, Init, NamedParam, RegGroup, WeightSource};
