//! From host batches to the tensors the model reads.
//!
//! All categorical and sequence vocabularies of one embedding width share one table (rows of
//! field f start at `offset_f`; fields of other widths are a [`FieldSubset`] with their own
//! table): one lookup per batch and width instead of one per field. Mathematically this is
//! FuxiCTR's one-table-per-field layout, including the padding row (zero, no gradient) of each
//! field.

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
    /// Each field's own embedding width, where its feature spec gives one (FuxiCTR's
    /// per-feature `embedding_dim`).
    pub field_dims: Vec<Option<usize>>,
}

/// Where one field's embedding weights sit in the tensors of a [`FieldSubset`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldPlace {
    /// Rows `start .. start + rows` of the subset's table.
    Table { start: usize, rows: usize },
    /// Row `row` of the subset's numeric weights.
    Numeric { row: usize },
}

/// Some of a layout's fields embedded with their own table: how they pick their inputs from the
/// full [`ModelInput`] and where their weights sit.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSubset {
    /// The fields, in feature-map order.
    pub fields: Vec<usize>,
    /// (column in the full input, row shift into this table), per categorical field.
    pub categorical: Vec<(usize, i64)>,
    /// (index in the full input, row shift), per sequence field.
    pub sequences: Vec<(usize, i64)>,
    /// Column in the full input, per numeric field.
    pub numeric: Vec<usize>,
    /// Rows of this subset's table (Σ of its vocabulary sizes).
    pub table_rows: usize,
    /// First row of each vocabulary in this subset's table: its padding row.
    pub padding_rows: Vec<usize>,
    /// Per field, in `fields` order.
    pub places: Vec<FieldPlace>,
    /// Position of each field in the concatenation [categorical, sequences, numeric], or `None`
    /// when that is already field order.
    pub field_order: Option<Vec<usize>>,
    /// Whether the subset is every field of the layout (its inputs need no restriction).
    pub whole: bool,
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
            field_dims: Vec::new(),
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
            if let Some(dim) = feature.embedding_dim
                && let Err(reason) = qnn_keys::EMBEDDING_DIM.check_count(dim)
            {
                return Err(ModelError::Input(format!(
                    "field `{}`: embedding_dim {reason}",
                    feature.name
                )));
            }
            layout.field_dims.push(feature.embedding_dim);
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

    /// Each field's embedding width: its own where its spec gives one, else `default`.
    pub fn widths(&self, default: usize) -> Vec<usize> {
        self.field_dims
            .iter()
            .map(|d| d.unwrap_or(default))
            .collect()
    }

    /// D = Σ_f E_f, the width of the concatenated embeddings; `None` when it overflows.
    pub fn width(&self, default: usize) -> Option<usize> {
        self.widths(default)
            .into_iter()
            .try_fold(0usize, |sum, w| sum.checked_add(w))
    }

    /// The fields of each width, widths in order of first appearance, fields in feature-map
    /// order: one group when every field has the same width.
    pub fn width_groups(&self, default: usize) -> Vec<(usize, Vec<usize>)> {
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for (f, width) in self.widths(default).into_iter().enumerate() {
            match groups.iter_mut().find(|(w, _)| *w == width) {
                Some((_, fields)) => fields.push(f),
                None => groups.push((width, vec![f])),
            }
        }
        groups
    }

    /// Rows of each field's vocabulary; 0 for numeric fields.
    pub fn table_sizes(&self) -> Vec<usize> {
        let mut offsets: Vec<usize> = self
            .slots
            .iter()
            .filter_map(|slot| match slot {
                FieldSlot::Categorical { offset, .. } | FieldSlot::Sequence { offset, .. } => {
                    Some(*offset)
                }
                FieldSlot::Numeric { .. } => None,
            })
            .collect();
        offsets.sort_unstable();
        self.slots
            .iter()
            .map(|slot| match slot {
                FieldSlot::Categorical { offset, .. } | FieldSlot::Sequence { offset, .. } => {
                    let next = offsets
                        .iter()
                        .find(|&&o| o > *offset)
                        .copied()
                        .unwrap_or(self.table_rows);
                    next - offset
                }
                FieldSlot::Numeric { .. } => 0,
            })
            .collect()
    }

    /// The subset of `fields` (indices in feature-map order, ascending).
    pub fn subset(&self, fields: &[usize]) -> FieldSubset {
        let sizes = self.table_sizes();
        let mut subset = FieldSubset {
            fields: fields.to_vec(),
            categorical: Vec::new(),
            sequences: Vec::new(),
            numeric: Vec::new(),
            table_rows: 0,
            padding_rows: Vec::new(),
            places: Vec::new(),
            field_order: None,
            whole: fields.len() == self.num_fields(),
        };
        // (kind, index within kind) of each field, to order the concatenation.
        let mut order = Vec::with_capacity(fields.len());
        for &f in fields {
            match &self.slots[f] {
                FieldSlot::Categorical { column, offset } => {
                    let shift = subset.table_rows as i64 - *offset as i64;
                    order.push((0, subset.categorical.len()));
                    subset.categorical.push((*column, shift));
                }
                FieldSlot::Sequence { index, offset, .. } => {
                    let shift = subset.table_rows as i64 - *offset as i64;
                    order.push((1, subset.sequences.len()));
                    subset.sequences.push((*index, shift));
                }
                FieldSlot::Numeric { column } => {
                    order.push((2, subset.numeric.len()));
                    subset.places.push(FieldPlace::Numeric {
                        row: subset.numeric.len(),
                    });
                    subset.numeric.push(*column);
                    continue;
                }
            }
            subset.places.push(FieldPlace::Table {
                start: subset.table_rows,
                rows: sizes[f],
            });
            subset.padding_rows.push(subset.table_rows);
            subset.table_rows += sizes[f];
        }
        let (n_cat, n_seq) = (subset.categorical.len(), subset.sequences.len());
        let perm: Vec<usize> = order
            .iter()
            .map(|&(kind, i)| match kind {
                0 => i,
                1 => n_cat + i,
                _ => n_cat + n_seq + i,
            })
            .collect();
        let identity = perm.iter().enumerate().all(|(i, &p)| i == p);
        subset.field_order = (!identity).then_some(perm);
        subset
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

impl ModelInput {
    /// The inputs of `subset`'s fields, with rows moved into the subset's own table.
    pub fn restrict(&self, subset: &FieldSubset) -> ModelInput {
        let device = self.labels.device();
        let columns = |picks: Vec<i64>| {
            let n = picks.len();
            Tensor::<1, Int>::from_data(TensorData::new(picks, [n]), &device)
        };
        let categorical_columns =
            || columns(subset.categorical.iter().map(|&(c, _)| c as i64).collect());
        let categorical = (!subset.categorical.is_empty()).then(|| {
            let full = self.categorical.clone().expect("the full input has them");
            let shifts: Vec<i64> = subset.categorical.iter().map(|&(_, s)| s).collect();
            let n = shifts.len();
            let shifts = Tensor::<2, Int>::from_data(TensorData::new(shifts, [1, n]), &device);
            full.select(1, categorical_columns()) + shifts
        });
        let categorical_mask = match (&self.categorical_mask, subset.categorical.is_empty()) {
            (Some(mask), false) => Some(mask.clone().select(1, categorical_columns())),
            _ => None,
        };
        let sequences = subset
            .sequences
            .iter()
            .map(|&(i, shift)| SequenceInput {
                rows: self.sequences[i].rows.clone().add_scalar(shift),
                mask: self.sequences[i].mask.clone(),
            })
            .collect();
        let numeric = (!subset.numeric.is_empty()).then(|| {
            let full = self.numeric.clone().expect("the full input has them");
            full.select(
                1,
                columns(subset.numeric.iter().map(|&c| c as i64).collect()),
            )
        });
        ModelInput {
            batch_size: self.batch_size,
            categorical,
            categorical_mask,
            sequences,
            numeric,
            labels: self.labels.clone(),
        }
    }
}
