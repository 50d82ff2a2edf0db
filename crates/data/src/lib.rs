//! Data side of QNN Lab: feature maps, encoded columnar datasets, batching, synthetic data and
//! FuxiCTR-exact metrics. Independent of Burn and of the filesystem so that the browser build can
//! use all of it.

pub mod dataset;
pub mod feature_map;
pub mod metrics;
pub mod synthetic;

pub use dataset::{Batch, Column, EncodedDataset, EpochOrder};
pub use feature_map::{Feature, FeatureKind, FeatureMap, Normalizer, Padding, Vocabulary};
pub use metrics::{Metric, auc, logloss};

/// Errors of the data layer.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("inconsistent data: {0}")]
    Shape(String),
    #[error("label at row {row} is {value}, expected 0 or 1")]
    Label { row: usize, value: f32 },
    #[error("cannot compute metric: {0}")]
    Metric(String),
}
