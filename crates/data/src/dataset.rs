//! Encoded, columnar datasets and their batching.

use rand::seq::SliceRandom;

use crate::DataError;
use crate::buffer::Buffer;
use crate::feature_map::{FeatureKind, FeatureMap};
use crate::random::{self, Purpose};

/// One encoded model field, one entry (or `max_len` entries) per row.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Token ids of a categorical field.
    Ids(Buffer<u32>),
    /// Values of a numeric field.
    Values(Buffer<f32>),
    /// Token ids of a sequence field, `max_len` per row, row-major.
    Sequences { ids: Buffer<u32>, max_len: usize },
}

impl Column {
    fn rows(&self) -> usize {
        match self {
            Column::Ids(v) => v.len(),
            Column::Values(v) => v.len(),
            Column::Sequences { ids, max_len } => ids.len() / (*max_len).max(1),
        }
    }

    fn gather(&self, rows: &[usize]) -> Column {
        match self {
            Column::Ids(v) => Column::Ids(rows.iter().map(|&r| v[r]).collect()),
            Column::Values(v) => Column::Values(rows.iter().map(|&r| v[r]).collect()),
            Column::Sequences { ids, max_len } => Column::Sequences {
                ids: rows
                    .iter()
                    .flat_map(|&r| &ids[r * max_len..(r + 1) * max_len])
                    .copied()
                    .collect(),
                max_len: *max_len,
            },
        }
    }
}

/// A dataset after feature processing: one column per model field (feature-map order) and a
/// label per row (one of the feature map's task).
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedDataset {
    columns: Vec<Column>,
    labels: Buffer<f32>,
    /// The group of each row (a hash of its `group_id` value), when the map has a `group_id`
    /// and the rows carried it.
    groups: Option<Buffer<u64>>,
}

impl EncodedDataset {
    /// Checks that the columns agree with `feature_map` and with each other, so that later
    /// lookups cannot go out of range.
    pub fn new(
        feature_map: &FeatureMap,
        columns: Vec<Column>,
        labels: impl Into<Buffer<f32>>,
    ) -> Result<Self, DataError> {
        let labels = labels.into();
        let fields: Vec<_> = feature_map.fields().collect();
        if fields.len() != columns.len() {
            return Err(DataError::Shape(format!(
                "{} columns given for {} fields",
                columns.len(),
                fields.len()
            )));
        }
        for (field, column) in fields.iter().zip(&columns) {
            if column.rows() != labels.len() {
                return Err(DataError::Shape(format!(
                    "field `{}` has {} rows, labels have {}",
                    field.name,
                    column.rows(),
                    labels.len()
                )));
            }
            let ok = match (&field.kind, column) {
                (FeatureKind::Categorical { vocab }, Column::Ids(ids)) => {
                    check_ids(&field.name, ids, vocab.size())?;
                    true
                }
                (FeatureKind::Numeric { .. }, Column::Values(_)) => true,
                (
                    FeatureKind::Sequence { vocab, max_len, .. },
                    Column::Sequences { ids, max_len: m },
                ) => {
                    check_ids(&field.name, ids, vocab.size())?;
                    max_len == m
                }
                _ => false,
            };
            if !ok {
                return Err(DataError::Shape(format!(
                    "column for field `{}` does not match its feature type",
                    field.name
                )));
            }
        }
        if let Err((row, reason)) = feature_map.task.check_labels(&labels) {
            return Err(DataError::Label { row, reason });
        }
        Ok(Self {
            columns,
            labels,
            groups: None,
        })
    }

    /// The dataset with the group of each row (gAUC, avgAUC).
    pub fn with_groups(self, groups: impl Into<Buffer<u64>>) -> Result<Self, DataError> {
        let groups = groups.into();
        if groups.len() != self.len() {
            return Err(DataError::Shape(format!(
                "{} groups for {} rows",
                groups.len(),
                self.len()
            )));
        }
        Ok(Self {
            groups: Some(groups),
            ..self
        })
    }

    /// The group of each row, when the rows carried their `group_id`.
    pub fn groups(&self) -> Option<&[u64]> {
        self.groups.as_deref()
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn labels(&self) -> &[f32] {
        &self.labels
    }

    /// The rows at `rows`, in that order.
    pub fn batch(&self, rows: &[usize]) -> Batch {
        Batch {
            columns: self.columns.iter().map(|c| c.gather(rows)).collect(),
            labels: rows.iter().map(|&r| self.labels[r]).collect(),
        }
    }

    /// Contiguous rows `[start, end)`.
    pub fn range(&self, start: usize, end: usize) -> Batch {
        let rows: Vec<usize> = (start..end.min(self.len())).collect();
        self.batch(&rows)
    }

    /// Rows `[start, end)` as a dataset of their own (e.g. to split train into train/valid).
    pub fn slice(&self, start: usize, end: usize) -> EncodedDataset {
        let b = self.range(start, end);
        EncodedDataset {
            columns: b.columns,
            labels: b.labels.into(),
            groups: self
                .groups()
                .map(|g| g[start.min(g.len())..end.min(g.len())].to_vec().into()),
        }
    }
}

fn check_ids(name: &str, ids: &[u32], vocab_size: usize) -> Result<(), DataError> {
    match ids.iter().position(|&id| id as usize >= vocab_size) {
        Some(pos) => Err(DataError::Shape(format!(
            "field `{name}`: id {} at position {pos} is outside its vocabulary of {vocab_size}",
            ids[pos]
        ))),
        None => Ok(()),
    }
}

/// Rows of a dataset gathered for one step; same column layout as the dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub columns: Vec<Column>,
    pub labels: Vec<f32>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// The order in which an epoch visits the rows: a seeded shuffle per epoch (or none), cut into
/// batches of `batch_size` with the last partial batch kept (FuxiCTR's DataLoader, spec §C.5).
#[derive(Debug, Clone)]
pub struct EpochOrder {
    rows: Vec<usize>,
    batch_size: usize,
}

impl EpochOrder {
    pub fn new(len: usize, batch_size: usize, shuffle: Option<(u64, usize)>) -> Self {
        let mut rows: Vec<usize> = (0..len).collect();
        if let Some((seed, epoch)) = shuffle {
            rows.shuffle(&mut random::stream(seed, Purpose::Shuffle { epoch }));
        }
        Self {
            rows,
            batch_size: batch_size.max(1),
        }
    }

    pub fn num_batches(&self) -> usize {
        self.rows.len().div_ceil(self.batch_size)
    }

    /// Row indices of batch `i`.
    pub fn batch_rows(&self, i: usize) -> &[usize] {
        let start = i * self.batch_size;
        &self.rows[start..(start + self.batch_size).min(self.rows.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature_map::{Feature, Vocabulary};

    fn map() -> FeatureMap {
        FeatureMap {
            dataset_id: "t".into(),
            features: vec![
                Feature::new(
                    "a",
                    FeatureKind::Categorical {
                        vocab: Vocabulary::anonymous(2),
                    },
                ),
                Feature::new(
                    "s",
                    FeatureKind::Sequence {
                        vocab: Vocabulary::anonymous(3),
                        max_len: 2,
                        splitter: "^".into(),
                        padding: Default::default(),
                    },
                ),
            ],
            labels: vec!["y".into()],
            task: Default::default(),
            group_id: None,
        }
    }

    #[test]
    fn batches_gather_rows_of_every_column() {
        let ds = EncodedDataset::new(
            &map(),
            vec![
                Column::Ids(vec![1, 2, 3].into()),
                Column::Sequences {
                    ids: vec![1, 0, 2, 3, 4, 0].into(),
                    max_len: 2,
                },
            ],
            vec![0.0, 1.0, 0.0],
        )
        .unwrap();
        let b = ds.batch(&[2, 0]);
        assert_eq!(b.columns[0], Column::Ids(vec![3, 1].into()));
        assert_eq!(
            b.columns[1],
            Column::Sequences {
                ids: vec![4, 0, 1, 0].into(),
                max_len: 2
            }
        );
        assert_eq!(b.labels, [0.0, 0.0]);
    }

    #[test]
    fn out_of_vocabulary_ids_and_bad_labels_are_rejected() {
        let err = EncodedDataset::new(
            &map(),
            vec![
                Column::Ids(vec![4].into()),
                Column::Sequences {
                    ids: vec![0, 0].into(),
                    max_len: 2,
                },
            ],
            vec![1.0],
        )
        .unwrap_err();
        assert!(err.to_string().contains("field `a`"), "{err}");
        let err = EncodedDataset::new(
            &map(),
            vec![
                Column::Ids(vec![1].into()),
                Column::Sequences {
                    ids: vec![0, 0].into(),
                    max_len: 2,
                },
            ],
            vec![0.5],
        )
        .unwrap_err();
        assert!(err.to_string().contains("0.5"), "{err}");
    }

    #[test]
    fn epoch_order_keeps_the_last_partial_batch_and_is_seeded() {
        let a = EpochOrder::new(10, 4, Some((7, 0)));
        assert_eq!(a.num_batches(), 3);
        assert_eq!(a.batch_rows(2).len(), 2);
        let mut all: Vec<usize> = (0..3).flat_map(|i| a.batch_rows(i).to_vec()).collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        let b = EpochOrder::new(10, 4, Some((7, 0)));
        assert_eq!(a.rows, b.rows);
        let c = EpochOrder::new(10, 4, Some((7, 1)));
        assert_ne!(a.rows, c.rows);
        let plain = EpochOrder::new(5, 2, None);
        assert_eq!(plain.batch_rows(0), [0, 1]);
    }
}
