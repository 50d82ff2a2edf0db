//! Data side of QNN Lab: feature maps, encoded columnar datasets, batching, synthetic data and
//! FuxiCTR-exact metrics. Independent of Burn and of the filesystem so that the browser build can
//! use all of it.

pub mod buffer;
pub mod cache;
pub mod config;
pub mod criteo_like;
pub mod csv_table;
pub mod dataset;
pub mod dataset_config;
pub mod feature_map;
pub mod metrics;
mod par;
mod parquet_columns;
pub mod parquet_table;
pub mod pipeline;
pub mod processor;
pub mod random;
pub mod raw_rows;
pub mod schema;
pub mod synthetic;
pub mod tables;
pub mod task;
pub mod yaml;

pub use buffer::{AlignedBytes, Buffer, BufferError, SharedBytes};
pub use config::{ConfigError, ConfigFile, Experiment};
pub use csv_table::{CsvError, RawTable, ReadColumn};
pub use dataset::{Batch, Column, EncodedDataset, EpochOrder};
pub use dataset_config::{DataFormat, DatasetSpec, SplitType};
pub use feature_map::{
    Dtype, Feature, FeatureKind, FeatureMap, Normalizer, Padding, Preprocess, RawColumn, Vocabulary,
};
pub use metrics::{Evaluation, Metric, Spread, auc, logloss};
pub use parquet_columns::panic_becomes_error;
pub use pipeline::{
    CHUNK_ROWS, FileSource, MemoryFiles, MemoryStore, Part, Pass, PipelineError, SplitStore,
    Splits, build_splits, fuxictr_file, prepare_dataset, prepare_encoded_splits, prepare_splits,
    read_fuxictr_feature_map,
};
pub use tables::{EncodedTable, TableError};
pub use task::Task;

/// Errors of the data layer.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("inconsistent data: {0}")]
    Shape(String),
    #[error("label at row {row}: {reason}")]
    Label { row: usize, reason: String },
    #[error("cannot compute metric: {0}")]
    Metric(String),
}
