//! The QNN model (KDD'25 quadratic neural networks for CTR prediction) in Burn.
//!
//! One source for every backend: the backend is chosen at run time through a Burn [`Device`]
//! (`Device::flex()` on CPU, `Device::wgpu(..)`, `Device::cuda(0)`, …), natively and in wasm.
//!
//! [`Device`]: burn::tensor::Device

pub mod budget;
pub mod config;
pub mod dropout;
pub mod embedding;
pub mod file;
pub mod fused;
pub mod input;
pub mod interaction;
pub mod objective;
pub mod params;
pub mod qnn;
pub mod quadratic;
pub mod regularizer;

pub use config::{MODEL_NAMES, QnnConfig};
pub use dropout::DropoutKey;
pub use file::{FileConfig, ModelFile};
pub use input::{InputLayout, ModelInput};
pub use interaction::{
    FieldMatrix, HeadMaps, InteractionMaps, LayerMaps, MapView, interaction_maps,
};
pub use objective::{Loss, Task, bce, output, self_ensemble_loss};
pub use params::{HostTensor, ParamStore, read_values};
pub use qnn::{ParamRef, Qnn, SelfEnsembleOutput};
pub use quadratic::LayerKernel;
pub use regularizer::Regularizer;

/// Burn's options for the CubeCL backends (wgpu, WebGPU, CUDA) built into this crate: its
/// `fusion` and `autotune` features, in that order.
pub const GPU_OPTIONS: &[&str] = &[
    #[cfg(feature = "fusion")]
    "fusion",
    #[cfg(feature = "autotune")]
    "autotune",
];

/// Training or evaluation behaviour of dropout and batch norm (PyTorch's `train()`/`eval()`).
/// Training takes its dropout masks from the step's key (see [`dropout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Train(DropoutKey),
    Eval,
}

/// Errors of the model layer.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("invalid model config key `{key}`: {reason}")]
    Config { key: &'static str, reason: String },
    #[error("input does not fit the model: {0}")]
    Input(String),
    #[error("weights do not fit the model: {0}")]
    Weights(String),
    #[error("device error: {0}")]
    Device(String),
    #[error("{0}")]
    File(String),
    #[error("the run is too large: {0}")]
    TooLarge(String),
}
