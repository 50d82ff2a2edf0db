//! From host batches to the tensors the model reads.
//!
//! All categorical and sequence vocabularies share one embedding table (rows of field f start at
//! `offset_f`): one lookup per batch instead of one per field. Mathematically this is FuxiCTR's
//! one-table-per-field layout, including the padding row (zero, no gradient) of each field.

use burn::tensor::{Device, Int, Tensor, TensorData};
use qnn_data::{Batch, Column, FeatureKind, FeatureMap, Task};

use crate::ModelError;

/// Where each model field's values live in [`ModelInput`].
#[derive(Debug, Clone, PartialEq)]
pub enum FieldSlot {
    /// Column `column` of `categorical`; table rows start at `offset`.
    Categorical { column: usize, offset: usize },
    /// Entry `index` of `sequences`; table rows start at `offset`.
    Sequence {
        index: usize,
        offset: usize,
        max_len: usize,
    },
    /// Column `column` of `numeric`.
    Numeric { column: usize },
}

/// The model's view of a feature map.
#[derive(Debug, Clone, PartialEq)]
pub struct InputLayout {
    pub field_names: Vec<String>,
    pub slots: Vec<FieldSlot>,
    /// Rows of the shared table (Σ vocabulary sizes).
    pub table_rows: usize,
    /// First row of each vocabulary: its padding row.
    pub padding_rows: Vec<usize>,
    pub num_categorical: usize,
    pub num_sequences: usize,
    pub num_numeric: usize,
    /// What the labels are, from the feature map: it decides the output activation.
    pub task: Task,
}

impl InputLayout {
    pub fn new(feature_map: &FeatureMap) -> Result<Self, ModelError> {
        let mut layout = InputLayout {
            field_names: Vec::new(),
            slots: Vec::new(),
            table_rows: 0,
            padding_rows: Vec::new(),
            num_categorical: 0,
            num_sequences: 0,
            num_numeric: 0,
            task: feature_map.task,
        };
        for feature in feature_map.fields() {
            let slot = match &feature.kind {
                FeatureKind::Categorical { vocab } => {
                    let slot = FieldSlot::Categorical {
                        column: layout.num_categorical,
                        offset: layout.table_rows,
                    };
                    layout.padding_rows.push(layout.table_rows);
                    layout.table_rows += vocab.size();
                    layout.num_categorical += 1;
                    slot
                }
                FeatureKind::Sequence { vocab, max_len, .. } => {
                    if *max_len == 0 {
                        return Err(ModelError::Input(format!(
                            "sequence field `{}` has max_len 0",
                            feature.name
                        )));
                    }
                    let slot = FieldSlot::Sequence {
                        index: layout.num_sequences,
                        offset: layout.table_rows,
                        max_len: *max_len,
                    };
                    layout.padding_rows.push(layout.table_rows);
                    layout.table_rows += vocab.size();
                    layout.num_sequences += 1;
                    slot
                }
                FeatureKind::Numeric { .. } => {
                    let slot = FieldSlot::Numeric {
                        column: layout.num_numeric,
                    };
                    layout.num_numeric += 1;
                    slot
                }
                FeatureKind::Meta => unreachable!("fields() skips meta features"),
            };
            layout.field_names.push(feature.name.clone());
            layout.slots.push(slot);
        }
        if layout.slots.is_empty() {
            return Err(ModelError::Input(
                "the feature map has no model fields".into(),
            ));
        }
        Ok(layout)
    }

    pub fn num_fields(&self) -> usize {
        self.slots.len()
    }

    /// The table offset (the padding row) of each categorical column, in column order.
    pub fn categorical_offsets(&self) -> Vec<usize> {
        let mut offsets = vec![0; self.num_categorical];
        for slot in &self.slots {
            if let FieldSlot::Categorical { column, offset } = slot {
                offsets[*column] = *offset;
            }
        }
        offsets
    }

    /// Position of each field in the concatenation [categorical, sequences, numeric], or `None`
    /// when that concatenation is already in field order.
    pub fn field_permutation(&self) -> Option<Vec<usize>> {
        let perm: Vec<usize> = self
            .slots
            .iter()
            .map(|slot| match *slot {
                FieldSlot::Categorical { column, .. } => column,
                FieldSlot::Sequence { index, .. } => self.num_categorical + index,
                FieldSlot::Numeric { column } => self.num_categorical + self.num_sequences + column,
            })
            .collect();
        let identity = perm.iter().enumerate().all(|(i, &p)| i == p);
        (!identity).then_some(perm)
    }
}

/// One sequence field of a batch: table rows [B, max_len] and the non-padding mask.
#[derive(Debug, Clone)]
pub struct SequenceInput {
    pub rows: Tensor<2, Int>,
    pub mask: Tensor<2>,
}

/// A batch on the device.
#[derive(Debug, Clone)]
pub struct ModelInput {
    pub batch_size: usize,
    /// Table rows of the categorical fields, [B, num_categorical].
    pub categorical: Option<Tensor<2, Int>>,
    /// 0 where a categorical id is the padding id 0, else 1, [B, num_categorical]; `None` when
    /// the batch has no padding id (ids read from FuxiCTR's encoded files can be 0).
    pub categorical_mask: Option<Tensor<2>>,
    pub sequences: Vec<SequenceInput>,
    /// Values of the numeric fields, [B, num_numeric].
    pub numeric: Option<Tensor<2>>,
    /// Labels, [B].
    pub labels: Tensor<1>,
}

impl ModelInput {
    pub fn new(batch: &Batch, layout: &InputLayout, device: &Device) -> Result<Self, ModelError> {
        let b = batch.len();
        if batch.columns.len() != layout.num_fields() {
            return Err(ModelError::Input(format!(
                "batch has {} columns, the model has {} fields",
                batch.columns.len(),
                layout.num_fields()
            )));
        }
        let mut categorical = vec![0i64; b * layout.num_categorical];
        let mut any_padding = false;
        let mut numeric = vec![0f32; b * layout.num_numeric];
        let mut sequences = Vec::new();
        for (f, (slot, column)) in layout.slots.iter().zip(&batch.columns).enumerate() {
            match (slot, column) {
                (FieldSlot::Categorical { column: c, offset }, Column::Ids(ids)) => {
                    for (row, &id) in ids.iter().enumerate() {
                        let at = row * layout.num_categorical + c;
                        categorical[at] = (offset + id as usize) as i64;
                        any_padding |= id == 0;
                    }
                }
                (
                    FieldSlot::Sequence {
                        offset, max_len, ..
                    },
                    Column::Sequences { ids, max_len: m },
                ) if m == max_len => {
                    let rows: Vec<i64> = ids
                        .iter()
                        .map(|&id| (offset + id as usize) as i64)
                        .collect();
                    let mask: Vec<f32> =
                        ids.iter().map(|&id| f32::from(u8::from(id != 0))).collect();
                    sequences.push(SequenceInput {
                        rows: Tensor::from_data(TensorData::new(rows, [b, *max_len]), device),
                        mask: Tensor::from_data(TensorData::new(mask, [b, *max_len]), device),
                    });
                }
                (FieldSlot::Numeric { column: c }, Column::Values(values)) => {
                    for (row, &v) in values.iter().enumerate() {
                        numeric[row * layout.num_numeric + c] = v;
                    }
                }
                _ => {
                    return Err(ModelError::Input(format!(
                        "column of field `{}` does not match its type",
                        layout.field_names[f]
                    )));
                }
            }
        }
        // Built only for the rare batch that holds a padding id: a column's padding row is its
        // table offset (id 0), so the mask follows from the rows already gathered.
        let categorical_mask = any_padding.then(|| {
            let offsets = layout.categorical_offsets();
            let mask: Vec<f32> = categorical
                .iter()
                .enumerate()
                .map(|(at, &row)| {
                    f32::from(u8::from(
                        row as usize != offsets[at % layout.num_categorical],
                    ))
                })
                .collect();
            Tensor::from_data(TensorData::new(mask, [b, layout.num_categorical]), device)
        });
        Ok(ModelInput {
            batch_size: b,
            categorical: (layout.num_categorical > 0).then(|| {
                Tensor::from_data(
                    TensorData::new(categorical, [b, layout.num_categorical]),
                    device,
                )
            }),
            categorical_mask,
            sequences,
            numeric: (layout.num_numeric > 0).then(|| {
                Tensor::from_data(TensorData::new(numeric, [b, layout.num_numeric]), device)
            }),
            labels: Tensor::from_data(TensorData::new(batch.labels.clone(), [b]), device),
        })
    }
}
