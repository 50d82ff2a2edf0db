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
        let b = input.batch_size;
        let e = self.embedding_dim;
        let table = self.table.val();
        let mut parts: Vec<Tensor<3>> = Vec::new();
        if let Some(rows) = &input.categorical {
            parts.push(embedding(table.clone(), rows.clone()));
        }
        for seq in &input.sequences {
            // Multiplying by the mask keeps the padding rows out of the gradient, like
            // `padding_idx` does in PyTorch; padding rows are zero, so the sum is unchanged.
            let mask = seq.mask.clone();
            let items =
                embedding(table.clone(), seq.rows.clone()) * mask.clone().unsqueeze_dim::<3>(2);
            let count = mask.sum_dim(1).add_scalar(POOLING_EPS); // [B, 1]
            parts.push(items.sum_dim(1) / count.unsqueeze_dim::<3>(2));
        }
        if let (Some(values), Some(w)) = (&input.numeric, &self.numeric) {
            let w = w.val().unsqueeze_dim::<3>(0); // [1, Fn, E]
            parts.push(values.clone().unsqueeze_dim::<3>(2) * w);
        }
        let mut fields = Tensor::cat(parts, 1); // [B, F, E]
        if let Some(order) = &self.field_order {
            fields = fields.select(1, order.clone());
        }
        let num_fields = fields.dims()[1];
        fields.reshape([b, num_fields * e])
    }
}
