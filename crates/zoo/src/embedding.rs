//! FuxiCTR's `FeatureEmbedding` (baselines spec §1.2) over all fields or a subset of them.
//!
//! As in QNN, the categorical and sequence fields share one table on the device (one lookup per
//! batch); by name each field still has its own PyTorch table
//! `<prefix>.embedding_layer.embedding_layers.<field>.weight` ([V, d], row 0 padding) and each
//! numeric field its bias-free `Linear(1, d)` weight ([d, 1]).

use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};
use qnn_model::embedding::embed_fields;
use qnn_model::input::{FieldSlot, SequenceInput};
use qnn_model::{InputLayout, ModelError, ModelInput, ParamRef};

use crate::weights::{HostLayout, Init, NamedParam, WeightSource, named, tensor2};

/// Where one field's PyTorch tensor sits in ours.
#[derive(Debug, Clone, PartialEq)]
enum FieldTensor {
    /// Rows `start .. start + rows` of the shared table.
    Table { start: usize, rows: usize },
    /// Row `row` of the numeric weights.
    Numeric { row: usize },
}

/// How an embedding of a subset of fields picks its inputs from the model's [`ModelInput`].
#[derive(Debug, Clone, PartialEq)]
struct Subset {
    /// (column in the full input, row shift into this table), per categorical field.
    categorical: Vec<(usize, i64)>,
    /// (index in the full input, row shift), per sequence field.
    sequences: Vec<(usize, i64)>,
    /// Column in the full input, per numeric field.
    numeric: Vec<usize>,
}

#[derive(Module, Debug)]
pub struct FieldEmbedding {
    /// [Σ V_f, d] over this embedding's categorical and sequence fields; `None` without any.
    pub table: Option<Param<Tensor<2>>>,
    /// [num_numeric, d].
    pub numeric: Option<Param<Tensor<2>>>,
    pub field_order: Option<Tensor<1, Int>>,
    #[module(skip)]
    pub dim: usize,
    #[module(skip)]
    names: Vec<String>,
    #[module(skip)]
    tensors: Vec<FieldTensor>,
    #[module(skip)]
    subset: Option<Subset>,
}

impl FieldEmbedding {
    /// The embedding of every field of `layout`, named `<prefix>.embedding_layer.…`.
    pub fn build(
        source: &mut dyn WeightSource,
        prefix: &str,
        layout: &InputLayout,
        dim: usize,
        device: &Device,
    ) -> Result<Self, ModelError> {
        Self::build_subset(source, prefix, layout, None, dim, device)
    }

    /// The embedding of the fields named in `fields` only, in feature-map order whatever order
    /// they are listed in (FinalMLP's context embeddings). `key` names the config key in errors.
    pub fn build_for(
        source: &mut dyn WeightSource,
        prefix: &str,
        layout: &InputLayout,
        key: &'static str,
        fields: &[String],
        dim: usize,
        device: &Device,
    ) -> Result<Self, ModelError> {
        for name in fields {
            if !layout.field_names.contains(name) {
                return Err(ModelError::Config {
                    key,
                    reason: format!("`{name}` is not a field of the dataset"),
                });
            }
        }
        let picked: Vec<usize> = (0..layout.num_fields())
            .filter(|&f| fields.contains(&layout.field_names[f]))
            .collect();
        Self::build_subset(source, prefix, layout, Some(&picked), dim, device)
    }

    fn build_subset(
        source: &mut dyn WeightSource,
        prefix: &str,
        layout: &InputLayout,
        picked: Option<&[usize]>,
        dim: usize,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let all: Vec<usize> = (0..layout.num_fields()).collect();
        let picked = picked.unwrap_or(&all);
        let full_rows = table_sizes(layout);
        let mut table = Vec::new();
        let mut numeric = Vec::new();
        let mut names = Vec::new();
        let mut tensors = Vec::new();
        let mut subset = Subset {
            categorical: Vec::new(),
            sequences: Vec::new(),
            numeric: Vec::new(),
        };
        // Position of each picked field in [categorical, sequences, numeric] of this subset.
        let mut order = Vec::new();
        let (mut n_cat, mut n_seq) = (0, 0);
        for &f in picked {
            let name = &layout.field_names[f];
            let weight = format!("{prefix}.embedding_layer.embedding_layers.{name}.weight");
            match &layout.slots[f] {
                slot @ (FieldSlot::Categorical { offset, .. }
                | FieldSlot::Sequence { offset, .. }) => {
                    let rows = full_rows[f];
                    let start = table.len() / dim;
                    table.extend(source.take(&weight, &[rows, dim], Init::EmbeddingTable)?);
                    let shift = start as i64 - *offset as i64;
                    match slot {
                        FieldSlot::Categorical { column, .. } => {
                            order.push((0, n_cat));
                            n_cat += 1;
                            subset.categorical.push((*column, shift));
                        }
                        FieldSlot::Sequence { index, .. } => {
                            order.push((1, n_seq));
                            n_seq += 1;
                            subset.sequences.push((*index, shift));
                        }
                        FieldSlot::Numeric { .. } => unreachable!(),
                    }
                    tensors.push(FieldTensor::Table { start, rows });
                }
                FieldSlot::Numeric { column } => {
                    let init = Init::XavierNormal {
                        fan_in: 1,
                        fan_out: dim,
                    };
                    // [d, 1] holds the same values in the same order as our row [1, d].
                    numeric.extend(source.take(&weight, &[dim, 1], init)?);
                    order.push((2, subset.numeric.len()));
                    tensors.push(FieldTensor::Numeric {
                        row: subset.numeric.len(),
                    });
                    subset.numeric.push(*column);
                }
            }
            names.push(name.clone());
        }
        let perm: Vec<i64> = order
            .iter()
            .map(|&(kind, i)| match kind {
                0 => i,
                1 => n_cat + i,
                _ => n_cat + n_seq + i,
            } as i64)
            .collect();
        let identity = perm.iter().enumerate().all(|(i, &p)| i as i64 == p);
        let n = perm.len();
        let field_order =
            (!identity).then(|| Tensor::from_data(TensorData::new(perm, [n]), device));
        let table_rows = table.len() / dim;
        let numeric_rows = numeric.len() / dim;
        let whole = picked.len() == layout.num_fields();
        Ok(Self {
            table: (table_rows > 0)
                .then(|| Param::from_tensor(tensor2(table, [table_rows, dim], device))),
            numeric: (numeric_rows > 0)
                .then(|| Param::from_tensor(tensor2(numeric, [numeric_rows, dim], device))),
            field_order,
            dim,
            names,
            tensors,
            subset: (!whole).then_some(subset),
        })
    }

    pub fn num_fields(&self) -> usize {
        self.names.len()
    }

    /// The field embeddings concatenated in feature-map order, [B, F·d].
    pub fn forward(&self, input: &ModelInput) -> Tensor<2> {
        let restricted;
        let input = match &self.subset {
            Some(subset) => {
                restricted = restrict(input, subset);
                &restricted
            }
            None => input,
        };
        embed_fields(
            self.table.as_ref().map(|t| t.val()),
            self.numeric.as_ref().map(|w| w.val()),
            self.field_order.as_ref(),
            input,
            self.dim,
        )
    }

    pub fn named<'a>(&'a self, prefix: &str, out: &mut Vec<NamedParam<'a>>) {
        for (name, tensor) in self.names.iter().zip(&self.tensors) {
            let weight = format!("{prefix}.embedding_layer.embedding_layers.{name}.weight");
            match (tensor, &self.table, &self.numeric) {
                (FieldTensor::Table { start, rows }, Some(table), _) => out.push(named(
                    weight,
                    vec![*rows, self.dim],
                    ParamRef::Matrix(table),
                    HostLayout::TableRows {
                        start: *start,
                        rows: *rows,
                        width: self.dim,
                    },
                )),
                (FieldTensor::Numeric { row }, _, Some(numeric)) => out.push(named(
                    weight,
                    vec![self.dim, 1],
                    ParamRef::Matrix(numeric),
                    HostLayout::TableRows {
                        start: *row,
                        rows: 1,
                        width: self.dim,
                    },
                )),
                _ => unreachable!("built together"),
            }
        }
    }
}

/// Rows of each field's table (its vocabulary size); 0 for numeric fields.
fn table_sizes(layout: &InputLayout) -> Vec<usize> {
    let mut offsets: Vec<usize> = layout
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
    layout
        .slots
        .iter()
        .map(|slot| match slot {
            FieldSlot::Categorical { offset, .. } | FieldSlot::Sequence { offset, .. } => {
                let next = offsets
                    .iter()
                    .find(|&&o| o > *offset)
                    .copied()
                    .unwrap_or(layout.table_rows);
                next - offset
            }
            FieldSlot::Numeric { .. } => 0,
        })
        .collect()
}

/// The inputs of a subset of fields, with rows moved into the subset's own table.
fn restrict(input: &ModelInput, subset: &Subset) -> ModelInput {
    let device = input.labels.device();
    let columns = |picks: Vec<i64>| {
        let n = picks.len();
        Tensor::<1, Int>::from_data(TensorData::new(picks, [n]), &device)
    };
    let categorical = (!subset.categorical.is_empty()).then(|| {
        let full = input.categorical.clone().expect("the full input has them");
        let picks = columns(subset.categorical.iter().map(|&(c, _)| c as i64).collect());
        let shifts: Vec<i64> = subset.categorical.iter().map(|&(_, s)| s).collect();
        let n = shifts.len();
        let shifts = Tensor::<2, Int>::from_data(TensorData::new(shifts, [1, n]), &device);
        full.select(1, picks) + shifts
    });
    let categorical_mask = match (&input.categorical_mask, subset.categorical.is_empty()) {
        (Some(mask), false) => Some(mask.clone().select(
            1,
            columns(subset.categorical.iter().map(|&(c, _)| c as i64).collect()),
        )),
        _ => None,
    };
    let sequences = subset
        .sequences
        .iter()
        .map(|&(i, shift)| SequenceInput {
            rows: input.sequences[i].rows.clone().add_scalar(shift),
            mask: input.sequences[i].mask.clone(),
        })
        .collect();
    let numeric = (!subset.numeric.is_empty()).then(|| {
        let full = input.numeric.clone().expect("the full input has them");
        full.select(
            1,
            columns(subset.numeric.iter().map(|&c| c as i64).collect()),
        )
    });
    ModelInput {
        batch_size: input.batch_size,
        categorical,
        categorical_mask,
        sequences,
        numeric,
        labels: input.labels.clone(),
    }
}
