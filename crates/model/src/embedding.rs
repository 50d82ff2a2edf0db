//! Feature embedding (spec §A.2, §C.6): x₀ = [e_1 ‖ … ‖ e_F], field-major.

use burn::module::{Module, Param};
use burn::tensor::{Int, Tensor, TensorData, module::embedding};

use crate::input::{InputLayout, ModelInput};

/// Sequence pooling divides by the number of items plus this, as FuxiCTR's MaskedAveragePooling.
const POOLING_EPS: f64 = 1e-12;

#[derive(Module, Debug)]
pub struct FeatureEmbedding {
    /// Shared table of all categorical and sequence vocabularies, [Σ V_f, E].
    pub table: Param<Tensor<2>>,
    /// One learned vector per numeric field, [num_numeric, E]: e_f = value · w_f.
    pub numeric: Option<Param<Tensor<2>>>,
    /// Reorders [categorical, sequences, numeric] into field order when they interleave.
    pub field_order: Option<Tensor<1, Int>>,
    #[module(skip)]
    pub embedding_dim: usize,
    #[module(skip)]
    pub field_names: Vec<String>,
}

impl FeatureEmbedding {
    pub fn new(
        layout: &InputLayout,
        table: Tensor<2>,
        numeric: Option<Tensor<2>>,
        embedding_dim: usize,
    ) -> Self {
        let device = table.device();
        let field_order = layout.field_permutation().map(|perm| {
            let perm: Vec<i64> = perm.into_iter().map(|p| p as i64).collect();
            let n = perm.len();
            Tensor::from_data(TensorData::new(perm, [n]), &device)
        });
        Self {
            table: Param::from_tensor(table),
            numeric: numeric.map(Param::from_tensor),
            field_order,
            embedding_dim,
            field_names: layout.field_names.clone(),
        }
    }

    /// [B, F·E].
    pub fn forward(&self, input: &ModelInput) -> Tensor<2> {
        embed_fields(
            Some(self.table.val()),
            self.numeric.as_ref().map(|w| w.val()),
            self.field_order.as_ref(),
            input,
            self.embedding_dim,
        )
    }
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

    /// As `setup`, with the categorical field's ids of the two rows given.
    fn setup_with(device: &Device, categorical_ids: Vec<u32>) -> (FeatureEmbedding, ModelInput) {
        let feature = |name: &str, kind| Feature::new(name, kind);
        let map = FeatureMap {
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
        };
        let layout = InputLayout::new(&map).unwrap();
        // Table rows in field order: s → 0..5, c → 5..9; E = 2, row r = [r, 10 r], padding 0.
        let mut table: Vec<f32> = (0..9).flat_map(|r| [r as f32, 10.0 * r as f32]).collect();
        for &p in &layout.padding_rows {
            table[2 * p] = 0.0;
            table[2 * p + 1] = 0.0;
        }
        let table = Tensor::from_data(TensorData::new(table, [9, 2]), device);
        let numeric = Tensor::from_data(TensorData::new(vec![1.0f32, -1.0], [1, 2]), device);
        let emb = FeatureEmbedding::new(&layout, table, Some(numeric), 2);
        let batch = Batch {
            columns: vec![
                Column::Values(vec![2.0, 0.5].into()),
                Column::Sequences {
                    ids: vec![1, 3, 0, 0, 0, 0].into(),
                    max_len: 3,
                },
                Column::Ids(categorical_ids.into()),
            ],
            labels: vec![1.0, 0.0],
        };
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

    #[test]
    fn padding_rows_get_no_gradient() {
        let device = Device::flex().autodiff();
        let (emb, input) = setup(&device);
        let grads = emb.forward(&input).sum().backward();
        let g = values(emb.table.val().grad(&grads).unwrap());
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
        let g = values(emb.table.val().grad(&grads).unwrap());
        assert_eq!(
            &g[10..12],
            &[0.0, 0.0],
            "padding row of the categorical field"
        );
        assert_eq!(&g[12..14], &[1.0, 1.0], "categorical token 1");
        // Batches without a padding id carry no mask (the common case costs nothing).
        assert!(setup(&device).1.categorical_mask.is_none());
    }
}
