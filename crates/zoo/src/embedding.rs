//! FuxiCTR's `FeatureEmbedding` (baselines spec §1.2) over all fields or a subset of them.
//!
//! As in QNN, the categorical and sequence fields of one embedding width share one table on the
//! device (one lookup per batch and width); by name each field still has its own PyTorch table
//! `<prefix>.embedding_layer.embedding_layers.<field>.weight` ([V, d], row 0 padding) and each
//! numeric field its bias-free `Linear(1, d)` weight ([d, 1]).

use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};
use qnn_model::embedding::{TableGroup, concat_groups, group_column_order};
use qnn_model::input::{FieldPlace, FieldSubset};
use qnn_model::{InputLayout, ModelError, ModelInput, ParamRef};

use crate::weights::{HostLayout, Init, NamedParam, WeightSource, named, tensor2};

/// The width of each field's embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// Each field's own `embedding_dim` where its spec gives one, else this (the model's).
    Fields(usize),
    /// This width for every field (the first-order term's 1: FuxiCTR ignores per-field widths
    /// there).
    All(usize),
}

#[derive(Module, Debug)]
pub struct FieldEmbedding {
    /// One table (and numeric weights) per embedding width; one group when all fields share it.
    pub groups: Vec<TableGroup>,
    /// Puts the groups' concatenated columns back into field order; `None` with one group.
    pub column_order: Option<Tensor<1, Int>>,
    /// Per field, in feature-map order: its name, its group and its place within the group.
    #[module(skip)]
    fields: Vec<(String, usize, usize)>,
}

impl FieldEmbedding {
    /// The embedding of every field of `layout`, named `<prefix>.embedding_layer.…`.
    pub fn build(
        source: &mut dyn WeightSource,
        prefix: &str,
        layout: &InputLayout,
        width: Width,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let all: Vec<usize> = (0..layout.num_fields()).collect();
        Self::build_subset(source, prefix, layout, &all, width, device)
    }

    /// The embedding of the fields named in `fields` only, in feature-map order whatever order
    /// they are listed in (FinalMLP's context embeddings). `key` names the config key in errors.
    pub fn build_for(
        source: &mut dyn WeightSource,
        prefix: &str,
        layout: &InputLayout,
        key: &'static str,
        fields: &[String],
        width: Width,
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
        Self::build_subset(source, prefix, layout, &picked, width, device)
    }

    fn build_subset(
        source: &mut dyn WeightSource,
        prefix: &str,
        layout: &InputLayout,
        picked: &[usize],
        width: Width,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let widths = match width {
            Width::Fields(default) => layout.widths(default),
            Width::All(dim) => vec![dim; layout.num_fields()],
        };
        // Fields grouped by width, widths in order of first appearance.
        let mut members: Vec<(usize, Vec<usize>)> = Vec::new();
        for &f in picked {
            match members.iter_mut().find(|(w, _)| *w == widths[f]) {
                Some((_, fields)) => fields.push(f),
                None => members.push((widths[f], vec![f])),
            }
        }
        let subsets: Vec<FieldSubset> = members.iter().map(|(_, f)| layout.subset(f)).collect();
        let mut tables: Vec<Vec<f32>> = vec![Vec::new(); members.len()];
        let mut numerics: Vec<Vec<f32>> = vec![Vec::new(); members.len()];
        let mut fields = Vec::with_capacity(picked.len());
        // FuxiCTR's state_dict order: one tensor per field, in feature-map order.
        for &f in picked {
            let name = &layout.field_names[f];
            let dim = widths[f];
            let g = members
                .iter()
                .position(|(w, _)| *w == dim)
                .expect("grouped above");
            let k = members[g].1.iter().position(|&m| m == f).expect("a member");
            let weight = format!("{prefix}.embedding_layer.embedding_layers.{name}.weight");
            match subsets[g].places[k] {
                FieldPlace::Table { rows, .. } => {
                    tables[g].extend(source.take(&weight, &[rows, dim], Init::EmbeddingTable)?);
                }
                FieldPlace::Numeric { .. } => {
                    let init = Init::XavierNormal {
                        fan_in: 1,
                        fan_out: dim,
                    };
                    // [d, 1] holds the same values in the same order as our row [1, d].
                    numerics[g].extend(source.take(&weight, &[dim, 1], init)?);
                }
            }
            fields.push((name.clone(), g, k));
        }
        let index = |perm: Vec<usize>| {
            let perm: Vec<i64> = perm.into_iter().map(|p| p as i64).collect();
            let n = perm.len();
            Tensor::<1, Int>::from_data(TensorData::new(perm, [n]), device)
        };
        let column_order = group_column_order(
            &members
                .iter()
                .map(|(w, f)| (*w, f.as_slice()))
                .collect::<Vec<_>>(),
        )
        .map(index);
        let groups = subsets
            .into_iter()
            .zip(tables.into_iter().zip(numerics))
            .zip(&members)
            .map(|((subset, (table, numeric)), &(dim, _))| {
                let matrix = |values: Vec<f32>| {
                    let rows = values.len() / dim;
                    (rows > 0).then(|| Param::from_tensor(tensor2(values, [rows, dim], device)))
                };
                TableGroup {
                    table: matrix(table),
                    numeric: matrix(numeric),
                    field_order: subset.field_order.clone().map(index),
                    dim,
                    subset,
                }
            })
            .collect();
        Ok(Self {
            groups,
            column_order,
            fields,
        })
    }

    pub fn num_fields(&self) -> usize {
        self.fields.len()
    }

    /// Σ_f d_f: the width of the concatenated embeddings.
    pub fn width(&self) -> usize {
        self.fields
            .iter()
            .map(|&(_, g, _)| self.groups[g].dim)
            .sum()
    }

    /// The width of the first field: every field's, once [`Self::stacked_dim`] has said so.
    pub fn dim(&self) -> usize {
        self.groups[0].dim
    }

    /// The one width of every field, for a model that stacks the embeddings as [B, F, d]; an
    /// error naming two fields of different widths otherwise.
    pub fn stacked_dim(&self, model: &str) -> Result<usize, ModelError> {
        // Groups come in the order their widths first appear, so the first field of the second
        // group is the first field whose width differs from the first field's.
        let first_of = |g: usize| self.fields.iter().find(|f| f.1 == g).map(|f| &f.0);
        let dim = self.groups[0].dim;
        match self.groups.get(1) {
            None => Ok(dim),
            Some(second) => Err(ModelError::Config {
                key: "embedding_dim",
                reason: format!(
                    "{model} stacks the field embeddings, so every field needs the same width, \
                     but `{}` has {dim} and `{}` has {} (per-field embedding_dim works with \
                     QNN, DNN and DCNv2)",
                    first_of(0).expect("a group has fields"),
                    first_of(1).expect("a group has fields"),
                    second.dim
                ),
            }),
        }
    }

    /// The field embeddings concatenated in feature-map order, [B, Σ d_f].
    pub fn forward(&self, input: &ModelInput) -> Tensor<2> {
        concat_groups(&self.groups, self.column_order.as_ref(), input)
    }

    pub fn named<'a>(&'a self, prefix: &str, out: &mut Vec<NamedParam<'a>>) {
        for (name, g, k) in &self.fields {
            let weight = format!("{prefix}.embedding_layer.embedding_layers.{name}.weight");
            let group = &self.groups[*g];
            let dim = group.dim;
            match (group.subset.places[*k], &group.table, &group.numeric) {
                (FieldPlace::Table { start, rows }, Some(table), _) => out.push(named(
                    weight,
                    vec![rows, dim],
                    ParamRef::Matrix(table),
                    HostLayout::TableRows {
                        start,
                        rows,
                        width: dim,
                    },
                )),
                (FieldPlace::Numeric { row }, _, Some(numeric)) => out.push(named(
                    weight,
                    vec![dim, 1],
                    ParamRef::Matrix(numeric),
                    HostLayout::TableRows {
                        start: row,
                        rows: 1,
                        width: dim,
                    },
                )),
                _ => unreachable!("built together"),
            }
        }
    }
}
