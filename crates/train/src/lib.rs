//! The QNN training loop, exactly as FuxiCTR 2.0.1 trains (spec §C.7–C.9): Adam, global
//! gradient-norm clipping, regularizers, periodic evaluation, monitor, early stopping,
//! learning-rate decay on plateau and best-checkpoint reload.
//!
//! Shared by the CLI and the browser app: one loop, one set of numerics.

pub mod checkpoint;
pub mod config;
pub mod evaluate;
pub mod fuxictr;
pub mod plateau;
pub mod session;
pub mod trainer;

pub use checkpoint::{Progress, RunIdentity, StateError, TrainState};
pub use config::{Monitor, MonitorMode, TrainConfig};
pub use evaluate::{FinalReport, RunRecord, evaluate, predict};
pub use session::{Finished, RunData, Session};
pub use trainer::{TrainEvent, TrainedModel, Trainer, clip_grad_norm};

/// Errors of the training loop.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("invalid training config key `{key}`: {reason}")]
    Config { key: &'static str, reason: String },
    #[error(transparent)]
    Model(#[from] qnn_model::ModelError),
    #[error(transparent)]
    Dataset(#[from] qnn_data::DataError),
    #[error("{0}")]
    Data(String),
    #[error("device error: {0}")]
    Device(String),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("training diverged at epoch {epoch}, batch {batch}: {what}")]
    Diverged {
        epoch: usize,
        batch: usize,
        what: &'static str,
    },
}
