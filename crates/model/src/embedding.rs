//! Feature embedding (spec §A.2, §C.6): x₀ = [e_1 ‖ … ‖ e_F], field-major.

use burn::module::{Module, Param};
use burn::tensor::{Int, Tensor, TensorData, module::embedding};

use crate::input::{FieldSubset, InputLayout, ModelInput};

/// Sequence pooling divides by the number of items plus this, as FuxiCTR's MaskedAveragePooling.
const POOLING_EPS: f64 = 1e-12;

/// The fields of one embedding width and the tensors they share.
#[derive(Module, Debug)]
pub struct TableGroup {
    /// Shared table of the group's categorical and sequence vocabularies, [Σ V_f, E_g].
    pub table: Option<Param<Tensor<2>>>,
    /// One learned vector per numeric field of the group, [num_numeric, E_g]: e_f = value · w_f.
    pub numeric: Option<Param<Tensor<2>>>,
    /// Reorders [categorical, sequences, numeric] into field order when they interleave.
    pub field_order: Option<Tensor<1, Int>>,
    #[module(skip)]
    pub dim: usize,
    #[module(skip)]
    pub subset: FieldSubset,
}

/// Every field's embedding, concatenated in field order. Fields of the same width share one
/// table (one lookup per batch); a dataset whose fields all have one width — the usual case —
/// has a single group, and its columns need no reordering.
#[derive(Module, Debug)]
pub struct FeatureEmbedding {
    pub groups: Vec<TableGroup>,
    /// Puts the groups' concatenated columns back into field order; `None` with one group.
    pub column_order: Option<Tensor<1, Int>>,
    /// Each field's embedding width E_f, in field order.
    #[module(skip)]
    pub widths: Vec<usize>,
    #[module(skip)]
    pub field_names: Vec<String>,
}

/// The store names and fields of one width group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    pub dim: usize,
    pub subset: FieldSubset,
    /// `embedding.table` (with `.E` appended when the fields have several widths); `None` for a
    /// group of numeric fields among several groups.
    pub table: Option<String>,
    /// `embedding.numeric` (likewise), `None` without numeric fields.
    pub numeric: Option<String>,
}

/// The width groups of `layout` with `default_dim` for fields without their own width.
pub fn group_specs(layout: &InputLayout, default_dim: usize) -> Vec<GroupSpec> {
    let groups = layout.width_groups(default_dim);
    let several = groups.len() > 1;
    groups
        .into_iter()
        .map(|(dim, fields)| {
            let subset = layout.subset(&fields);
            let name = |base| group_tensor_name(base, dim, several);
            GroupSpec {
                dim,
                table: (!several || subset.table_rows > 0).then(|| name("embedding.table")),
                numeric: (!subset.numeric.is_empty()).then(|| name("embedding.numeric")),
                subset,
            }
        })
        .collect()
}

/// `base` (`embedding.table` or `embedding.numeric`), with the group's width appended when
/// the fields have several.
pub fn group_tensor_name(base: &str, dim: usize, several: bool) -> String {
    if several {
        format!("{base}.{dim}")
    } else {
        base.to_string()
    }
}

impl FeatureEmbedding {
    /// The embedding of `layout` from its groups' tensors (in [`group_specs`] order).
    pub fn new(
        layout: &InputLayout,
        groups: Vec<(GroupSpec, Option<Tensor<2>>, Option<Tensor<2>>)>,
    ) -> Self {
        let device = groups
            .iter()
            .find_map(|(_, t, n)| t.as_ref().or(n.as_ref()).map(Tensor::device))
            .expect("an embedding has at least one field");
        let index = |perm: Vec<usize>| {
            let perm: Vec<i64> = perm.into_iter().map(|p| p as i64).collect();
            let n = perm.len();
            Tensor::<1, Int>::from_data(TensorData::new(perm, [n]), &device)
        };
        let widths: Vec<usize> = {
            let mut widths = vec![0; layout.num_fields()];
            for (spec, _, _) in &groups {
                for &f in &spec.subset.fields {
                    widths[f] = spec.dim;
                }
            }
            widths
        };
        let column_order = group_column_order(
            &groups
                .iter()
                .map(|(spec, _, _)| (spec.dim, spec.subset.fields.as_slice()))
                .collect::<Vec<_>>(),
        )
        .map(index);
        Self {
            groups: groups
                .into_iter()
                .map(|(spec, table, numeric)| TableGroup {
                    table: table.map(Param::from_tensor),
                    numeric: numeric.map(Param::from_tensor),
                    field_order: spec.subset.field_order.clone().map(index),
                    dim: spec.dim,
                    subset: spec.subset,
                })
                .collect(),
            column_order,
            widths,
            field_names: layout.field_names.clone(),
        }
    }

    /// D = Σ_f E_f: the width of x₀.
    pub fn width(&self) -> usize {
        self.widths.iter().sum()
    }

    /// Every table and numeric weight matrix.
    pub fn matrices(&self) -> impl Iterator<Item = &Param<Tensor<2>>> {
        self.groups
            .iter()
            .flat_map(|g| g.table.iter().chain(g.numeric.iter()))
    }

    /// [B, D].
    pub fn forward(&self, input: &ModelInput) -> Tensor<2> {
        concat_groups(&self.groups, self.column_order.as_ref(), input)
    }
}

impl TableGroup {
    /// The group's field embeddings, [B, F_g·E_g], in field order.
    pub fn forward(&self, input: &ModelInput) -> Tensor<2> {
        let restricted;
        let input = if self.subset.whole {
            input
        } else {
            restricted = input.restrict(&self.subset);
            &restricted
        };
        embed_fields(
            self.table.as_ref().map(|t| t.val()),
            self.numeric.as_ref().map(|w| w.val()),
            self.field_order.as_ref(),
            input,
            self.dim,
        )
    }
}

/// The embeddings of several width groups concatenated, their columns put in field order by
/// `column_order` (from [`group_column_order`]).
pub fn concat_groups(
    groups: &[TableGroup],
    column_order: Option<&Tensor<1, Int>>,
    input: &ModelInput,
) -> Tensor<2> {
    let mut parts: Vec<Tensor<2>> = groups.iter().map(|g| g.forward(input)).collect();
    match column_order {
        None => parts.pop().expect("an embedding has at least one group"),
        Some(order) => Tensor::cat(parts, 1).select(1, order.clone()),
    }
}

/// For groups of (width, fields), the column of the groups' concatenation that each column of
/// the field-ordered embedding comes from; `None` for a single group (already in order).
pub fn group_column_order(groups: &[(usize, &[usize])]) -> Option<Vec<usize>> {
    if groups.len() < 2 {
        return None;
    }
    // (field, its first column in the concatenation, its width)
    let mut starts: Vec<(usize, usize, usize)> = Vec::new();
    let mut start = 0;
    for &(dim, fields) in groups {
        for &f in fields {
            starts.push((f, start, dim));
            start += dim;
        }
    }
    starts.sort_unstable();
    Some(
        starts
            .into_iter()
            .flat_map(|(_, at, dim)| at..at + dim)
            .collect(),
    )
}

/// The field embeddings of `input`, [B, F·E], field-major: categorical rows looked up in
/// `table` (the padding row masked out of the gradient), sequences looked up and mean-pooled
/// over their items, numeric values times their row of `numeric`; `field_order` restores field
/// order when the three kinds interleave. Shared by QNN and the model zoo's networks.
pub fn embed_fields(
    table: Option<Tensor<2>>,
    numeric: Option<Tensor<2>>,
    field_order: Option<&Tensor<1, Int>>,
    input: &ModelInput,
    e: usize,
) -> Tensor<2> {
    let b = input.batch_size;
    let mut parts: Vec<Tensor<3>> = Vec::new();
    if let (Some(rows), Some(table)) = (&input.categorical, &table) {
        let mut looked_up = embedding(table.clone(), rows.clone());
        // As `padding_idx = 0` in PyTorch: the padding row gets no gradient (it stays
        // zero, so the values are unchanged).
        if let Some(mask) = &input.categorical_mask {
            looked_up = looked_up * mask.clone().unsqueeze_dim::<3>(2);
        }
        parts.push(looked_up);
    }
    if let Some(table) = &table {
        for seq in &input.sequences {
            // Multiplying by the mask keeps the padding rows out of the gradient, like
            // `padding_idx` does in PyTorch; padding rows are zero, so the sum is unchanged.
            let mask = seq.mask.clone();
            let items =
                embedding(table.clone(), seq.rows.clone()) * mask.clone().unsqueeze_dim::<3>(2);
            let count = mask.sum_dim(1).add_scalar(POOLING_EPS); // [B, 1]
            parts.push(items.sum_dim(1) / count.unsqueeze_dim::<3>(2));
        }
    }
    if let (Some(values), Some(w)) = (&input.numeric, numeric) {
        let w = w.unsqueeze_dim::<3>(0); // [1, Fn, E]
        parts.push(values.clone().unsqueeze_dim::<3>(2) * w);
    }
    let mut fields = Tensor::cat(parts, 1); // [B, F, E]
    if let Some(order) = field_order {
        fields = fields.select(1, order.clone());
    }
    let num_fields = fields.dims()[1];
    fields.reshape([b, num_fields * e])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};
    use qnn_data::{Batch, Column, Feature, FeatureKind, FeatureMap, Padding, Vocabulary};

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    /// Fields: numeric `n`, sequence `s` (3 tokens, max_len 3), categorical `c` (2 tokens), in
    /// that order, so the embedding must also restore field order.
    fn setup(device: &Device) -> (FeatureEmbedding, ModelInput) {
        setup_with(device, vec![2, 1])
    }

    /// Fields: numeric `n`, sequence `s` (3 tokens, max_len 3), categorical `c` (2 tokens).
    fn three_fields() -> FeatureMap {
        let feature = |name: &str, kind| Feature::new(name, kind);
        FeatureMap {
            dataset_id: "t".into(),
            features: vec![
                feature("n", FeatureKind::Numeric { normalizer: None }),
                feature(
                    "s",
                    FeatureKind::Sequence {
                        vocab: Vocabulary::anonymous(3),
                        max_len: 3,
                        splitter: "^".into(),
                        padding: Padding::Post,
                    },
                ),
                feature(
                    "c",
                    FeatureKind::Categorical {
                        vocab: Vocabulary::anonymous(2),
                    },
                ),
            ],
            labels: vec!["y".into()],
            task: Default::default(),
            group_id: None,
        }
    }

    /// Two rows of [`three_fields`]: n = 2 and 0.5; s = items 1, 3 and nothing; c = the ids given.
    fn two_rows(categorical_ids: Vec<u32>) -> Batch {
        Batch {
            columns: vec![
                Column::Values(vec![2.0, 0.5].into()),
                Column::Sequences {
                    ids: vec![1, 3, 0, 0, 0, 0].into(),
                    max_len: 3,
                },
                Column::Ids(categorical_ids.into()),
            ],
            labels: vec![1.0, 0.0],
        }
    }

    /// As `setup`, with the categorical field's ids of the two rows given.
    fn setup_with(device: &Device, categorical_ids: Vec<u32>) -> (FeatureEmbedding, ModelInput) {
        let map = three_fields();
        let layout = InputLayout::new(&map).unwrap();
        // Table rows in field order: s → 0..5, c → 5..9; E = 2, row r = [r, 10 r], padding 0.
        let mut table: Vec<f32> = (0..9).flat_map(|r| [r as f32, 10.0 * r as f32]).collect();
        for &p in &layout.padding_rows {
            table[2 * p] = 0.0;
            table[2 * p + 1] = 0.0;
        }
        let table = Tensor::from_data(TensorData::new(table, [9, 2]), device);
        let numeric = Tensor::from_data(TensorData::new(vec![1.0f32, -1.0], [1, 2]), device);
        let spec = group_specs(&layout, 2).remove(0);
        let emb = FeatureEmbedding::new(&layout, vec![(spec, Some(table), Some(numeric))]);
        let batch = two_rows(categorical_ids);
        let input = ModelInput::new(&batch, &layout, device).unwrap();
        (emb, input)
    }

    #[test]
    fn fields_are_embedded_in_field_order_with_masked_mean_sequences() {
        let device = Device::flex();
        let (emb, input) = setup(&device);
        let x = values(emb.forward(&input));
        // Row 0: n = 2·[1, −1]; s = mean(rows 1, 3) = [2, 20]; c = row 5 + 2 = [7, 70].
        // Row 1: n = 0.5·[1, −1]; s = all padding → 0; c = row 5 + 1 = [6, 60].
        assert_eq!(
            x,
            [
                2.0, -2.0, 2.0, 20.0, 7.0, 70.0, 0.5, -0.5, 0.0, 0.0, 6.0, 60.0
            ]
        );
    }

    /// The gradient of the (single) table.
    fn table_grad(emb: &FeatureEmbedding, grads: &burn::tensor::Gradients) -> Vec<f32> {
        let table = emb.groups[0].table.as_ref().expect("a table").val();
        values(table.grad(grads).expect("a gradient"))
    }

    #[test]
    fn padding_rows_get_no_gradient() {
        let device = Device::flex().autodiff();
        let (emb, input) = setup(&device);
        let grads = emb.forward(&input).sum().backward();
        let g = table_grad(&emb, &grads);
        assert_eq!(&g[0..2], &[0.0, 0.0], "padding row of the sequence field");
        assert_eq!(&g[2..4], &[0.5, 0.5], "item 1 of row 0: 1/2 of the mean");
        assert_eq!(&g[6..8], &[0.5, 0.5], "item 3 of row 0");
        assert_eq!(&g[14..16], &[1.0, 1.0], "categorical token 2");
    }

    #[test]
    fn categorical_padding_ids_get_no_gradient() {
        let device = Device::flex().autodiff();
        let (emb, input) = setup_with(&device, vec![0, 1]);
        assert!(input.categorical_mask.is_some());
        let x = values(emb.forward(&input));
        assert_eq!(&x[4..6], &[0.0, 0.0], "row 0's categorical id is padding");
        let grads = emb.forward(&input).sum().backward();
        let g = table_grad(&emb, &grads);
        assert_eq!(
            &g[10..12],
            &[0.0, 0.0],
            "padding row of the categorical field"
        );
        assert_eq!(&g[12..14], &[1.0, 1.0], "categorical token 1");
        // Batches without a padding id carry no mask (the common case costs nothing).
        assert!(setup(&device).1.categorical_mask.is_none());
    }

    #[test]
    fn fields_of_several_widths_get_one_table_per_width_and_keep_field_order() {
        let device = Device::flex();
        let mut map = three_fields();
        map.features[0].embedding_dim = Some(3); // n
        map.features[2].embedding_dim = Some(3); // c; s keeps the model's 2
        let layout = InputLayout::new(&map).unwrap();
        assert_eq!(layout.widths(2), [3, 2, 3]);
        let specs = group_specs(&layout, 2);
        let names: Vec<_> = specs
            .iter()
            .map(|g| {
                (
                    g.dim,
                    g.subset.fields.clone(),
                    g.table.clone(),
                    g.numeric.clone(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                (
                    3,
                    vec![0, 2],
                    Some("embedding.table.3".to_string()),
                    Some("embedding.numeric.3".to_string())
                ),
                (2, vec![1], Some("embedding.table.2".to_string()), None),
            ]
        );
        // Width 3: c's rows 0..4 = [r, 10 r, 100 r] (row 0 padding), n's vector [1, −1, 2].
        // Width 2: s's rows 0..5 = [r, 10 r].
        let rows = |n: usize, w: usize| -> Tensor<2> {
            let v: Vec<f32> = (0..n)
                .flat_map(|r| (0..w).map(move |k| r as f32 * 10f32.powi(k as i32)))
                .collect();
            Tensor::from_data(TensorData::new(v, [n, w]), &device)
        };
        let numeric = Tensor::from_data(TensorData::new(vec![1.0f32, -1.0, 2.0], [1, 3]), &device);
        let mut specs = specs.into_iter();
        let emb = FeatureEmbedding::new(
            &layout,
            vec![
                (specs.next().unwrap(), Some(rows(4, 3)), Some(numeric)),
                (specs.next().unwrap(), Some(rows(5, 2)), None),
            ],
        );
        assert_eq!(emb.width(), 8);
        let batch = two_rows(vec![2, 1]);
        let input = ModelInput::new(&batch, &layout, &device).unwrap();
        // Row 0: n = 2·[1, −1, 2]; s = mean(rows 1, 3) = [2, 20]; c = row 2 = [2, 20, 200].
        // Row 1: n = 0.5·[1, −1, 2]; s = all padding → 0; c = row 1 = [1, 10, 100].
        assert_eq!(
            values(emb.forward(&input)),
            [
                2.0, -2.0, 4.0, 2.0, 20.0, 2.0, 20.0, 200.0, //
                0.5, -0.5, 1.0, 0.0, 0.0, 1.0, 10.0, 100.0
            ]
        );
    }
}
