//! Interaction maps: which pairs of fields the quadratic layers use (design.md).
//!
//! Output position (h, j) of a layer multiplies the input value x_π(h,j), which belongs to field
//! a = field(π(h, j)), by Σ_r ReLU(W_(h,r,j)·x + b). Row (h, r, j) of W reads every input column c,
//! which belongs to field b = field(c). So cell [a, b] of a head's map says how much field a's
//! values are scaled by what field b contributes:
//!
//! - **weight map** (data-free): mean |W[(h,r,j), c]| over rows with field(π(h,j)) = a and
//!   columns c of field b;
//! - **activation map** (on a batch): in eval mode the product term of output (h, j) splits
//!   exactly into per-field pieces x_π(h,j) · Σ_r m·s·Σ_(c∈b) W[(h,r,j), c]·x_c plus a bias piece
//!   (m the ReLU mask, s the batch-norm scale); cell [a, b] is the mean over samples of
//!   |Σ of those pieces over outputs (h, j) with field(π(h, j)) = a|.

use std::ops::Range;

use burn::tensor::{Tensor, TensorData};

use crate::input::ModelInput;
use crate::params::{HostTensor, read, read_transposed};
use crate::quadratic::{BatchNorm, LayerCall, QuadraticLayer};
use crate::{Mode, ModelError, Qnn};

pub use qnn_maps::{FieldMatrix, HeadMaps, InteractionMaps, LayerMaps, MapView};

struct Geometry {
    fields: usize,
    /// The field of each input column c of x₀.
    field_of: Vec<usize>,
    /// The layer's view of x₀ as [view_fields, view_dim] (the real fields when they all have
    /// one width; see [`crate::qnn::layer_view`]).
    view_dim: usize,
    heads: usize,
    rows: usize,
}

impl Geometry {
    fn of(model: &Qnn) -> Self {
        let layer = &model.layers[0];
        let field_of = model
            .embedding
            .widths
            .iter()
            .enumerate()
            .flat_map(|(f, &w)| std::iter::repeat_n(f, w))
            .collect();
        Self {
            fields: model.num_fields(),
            field_of,
            view_dim: layer.embedding_dim,
            heads: layer.num_heads,
            rows: layer.num_row,
        }
    }

    fn d(&self) -> usize {
        self.field_of.len()
    }

    fn head_width(&self) -> usize {
        self.d() / self.heads
    }

    /// field(π(h, j)): the field whose value output (h, j) of a layer multiplies.
    fn output_field(&self, h: usize, j: usize) -> usize {
        let s = self.view_dim / self.heads;
        self.field_of[(j / s) * self.view_dim + h * s + j % s]
    }

    /// The columns of each field in x₀.
    fn field_columns(&self) -> Vec<Range<usize>> {
        let mut columns = vec![0..0; self.fields];
        for (c, &f) in self.field_of.iter().enumerate() {
            if columns[f].is_empty() {
                columns[f] = c..c;
            }
            columns[f].end = c + 1;
        }
        columns
    }

    /// [D, H·F]: 1 where output o = h·d + j of a layer multiplies a value of field a, in column
    /// h·F + a, so that a [B, D] product term times it sums each head's outputs per field.
    fn output_grouping(&self, device: &burn::tensor::Device) -> Tensor<2> {
        let (d, f) = (self.d(), self.fields);
        let dh = self.head_width();
        let mut ones = vec![0f32; d * self.heads * f];
        for h in 0..self.heads {
            for j in 0..dh {
                ones[(h * dh + j) * self.heads * f + h * f + self.output_field(h, j)] = 1.0;
            }
        }
        Tensor::from_data(TensorData::new(ones, [d, self.heads * f]), device)
    }
}

/// S_w per head, from W in PyTorch layout [D·R, D].
fn weight_maps(w: &HostTensor, g: &Geometry) -> Vec<FieldMatrix> {
    let (d, dh, f) = (g.d(), g.head_width(), g.fields);
    let widths: Vec<usize> = g.field_columns().iter().map(|c| c.len()).collect();
    let mut maps = vec![FieldMatrix::zeros(f); g.heads];
    for (h, map) in maps.iter_mut().enumerate() {
        // Rows (h, r, j) whose output multiplies field a, per a.
        let mut rows_of = vec![0usize; f];
        for j in 0..dh {
            let a = g.output_field(h, j);
            rows_of[a] += g.rows;
            for r in 0..g.rows {
                let row = &w.values[(h * g.rows * dh + r * dh + j) * d..][..d];
                for (c, v) in row.iter().enumerate() {
                    map.values[a * f + g.field_of[c]] += f64::from(v.abs());
                }
            }
        }
        for (cell, i) in map.values.iter_mut().zip(0..) {
            let count = (rows_of[i / f] * widths[i % f]) as f64;
            *cell = if count > 0.0 { *cell / count } else { 0.0 };
        }
    }
    maps
}

/// Signed per-field pieces of one layer's product term, each [B, D] (head-major), and the bias
/// piece: their sum is exactly x_π ⊙ Σ_r ReLU(BN(W x + b)) in eval mode. `field_columns` are
/// the columns of each field in x.
pub fn product_pieces(
    layer: &QuadraticLayer,
    x: Tensor<2>,
    field_columns: &[Range<usize>],
) -> (Vec<Tensor<2>>, Tensor<2>) {
    let weight = layer.weight.val(); // [D, D·R]
    // ReLU is active exactly where its output is positive.
    let mask = layer
        .gates(x.clone(), Mode::Eval, 1)
        .greater_elem(0.0)
        .float(); // m
    // Batch norm in eval mode is affine per channel: BN(z) = scale·z + shift.
    let affine = layer.batch_norm.as_ref().map(BatchNorm::eval_affine);
    let gate = match &affine {
        Some((scale, _)) => mask.clone() * scale.clone().unsqueeze_dim::<2>(0), // m·s
        None => mask.clone(),
    };
    let x_pi = layer.head_view(x.clone());
    let pieces = field_columns
        .iter()
        .map(|cols| {
            let contribution = x
                .clone()
                .slice([0..x.dims()[0], cols.clone()])
                .matmul(weight.clone().slice([cols.clone(), 0..weight.dims()[1]]));
            layer.row_sum(contribution * gate.clone()) * x_pi.clone()
        })
        .collect();
    // Bias piece: m·(s·b + shift) (or m·b without batch norm).
    let mut bias = layer.bias.val();
    if let Some((scale, shift)) = affine {
        bias = bias * scale + shift;
    }
    let bias_piece = layer.row_sum(mask * bias.unsqueeze_dim::<2>(0)) * x_pi;
    (pieces, bias_piece)
}

/// Weight maps of every layer and head, and activation maps on `input` when given.
///
/// Reads are awaited, so this runs in the browser as well. Pass a model on a plain (non-autodiff)
/// device to avoid recording a graph.
pub async fn interaction_maps(
    model: &Qnn,
    input: Option<&ModelInput>,
) -> Result<InteractionMaps, ModelError> {
    if model.layers.is_empty() {
        // A model of num_layers: 0 (FuxiCTR trains it: a linear model of the embeddings) has
        // no field-pair interactions to show.
        return Err(ModelError::File(
            "the model has no quadratic layers (num_layers: 0), so it has no interaction maps"
                .into(),
        ));
    }
    let g = Geometry::of(model);
    let (f, heads) = (g.fields, g.heads);
    let columns = g.field_columns();
    let mut x = input.map(|i| model.embed(i));
    let mut layers = Vec::with_capacity(model.layers.len());
    for (index, layer) in model.layers.iter().enumerate() {
        let w = read_transposed(layer.weight.val()).await?;
        let weight = weight_maps(&w, &g);
        let activation = match x.take() {
            Some(xl) => {
                let (pieces, _) = product_pieces(layer, xl.clone(), &columns);
                let grouping = g.output_grouping(&xl.device());
                // Per piece b: sum each head's outputs by the field a they multiply, |·|, mean
                // over samples.
                let cells: Vec<Tensor<2>> = pieces
                    .into_iter()
                    .map(|p| {
                        p.matmul(grouping.clone())
                            .abs()
                            .mean_dim(0)
                            .reshape([heads, f])
                    })
                    .collect();
                let stacked = Tensor::stack::<3>(cells, 2); // [H, F(a), F(b)]
                let host = read(stacked).await?;
                let call = LayerCall {
                    layer: index,
                    passes: &[0],
                    mode: Mode::Eval,
                    dropout: 0.0,
                };
                x = layer.forward(xl, call, model.kernel).pop();
                Some(host)
            }
            None => None,
        };
        let heads_maps = weight
            .into_iter()
            .enumerate()
            .map(|(h, weight)| HeadMaps {
                weight,
                activation: activation.as_ref().map(|t| FieldMatrix {
                    size: f,
                    values: t.values[h * f * f..(h + 1) * f * f]
                        .iter()
                        .map(|&v| f64::from(v))
                        .collect(),
                }),
            })
            .collect();
        layers.push(LayerMaps { heads: heads_maps });
    }
    Ok(InteractionMaps {
        field_names: model.embedding.field_names.clone(),
        layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QnnConfig;
    use crate::input::InputLayout;
    use crate::params::ParamStore;
    use burn::tensor::Device;
    use qnn_data::synthetic::SyntheticSpec;
    use rand::{Rng, SeedableRng};

    fn model_with(config: &QnnConfig, tweak: impl Fn(&mut ParamStore)) -> (Qnn, ModelInput) {
        let spec = SyntheticSpec {
            vocab_sizes: vec![6, 7, 8],
            ..SyntheticSpec::planted(16, 1)
        };
        let spec = SyntheticSpec {
            planted: vec![0, 2],
            ..spec
        };
        let (map, data) = spec.generate();
        let layout = InputLayout::new(&map).unwrap();
        let mut store = ParamStore::init(config, &layout, 9);
        // Embeddings of unit scale (the 1e-4 initialisation would make every piece ~0) and
        // non-trivial batch-norm statistics.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        for (name, t) in store.tensors.iter_mut() {
            if name == "embedding.table" || name.contains("linear.1") {
                for v in t.values.iter_mut() {
                    *v = rng.random_range(0.2..1.5);
                }
            }
        }
        tweak(&mut store);
        let device = Device::flex();
        let model = Qnn::from_store(config, &layout, &store, &device).unwrap();
        let input = ModelInput::new(&data.range(0, 16), &layout, &device).unwrap();
        (model, input)
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn pieces_add_up_to_the_product_term() {
        let config = QnnConfig {
            embedding_dim: 4,
            num_layers: 1,
            num_row: 3,
            num_heads: 2,
            batch_norm: true,
            net_dropout: 0.0,
        };
        let (model, input) = model_with(&config, |_| {});
        let layer = &model.layers[0];
        let x = model.embed(&input);
        let (pieces, bias) = product_pieces(layer, x.clone(), &[0..4, 4..8, 8..12]);
        assert_eq!(pieces.len(), 3);
        let total = pieces.into_iter().fold(bias, |a, b| a + b);
        let product = layer.head_view(x.clone()) * layer.row_sum(layer.gates(x, Mode::Eval, 1));
        let (got, want) = (values(total), values(product));
        let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(scale > 0.1);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-4 * scale, "{g} vs {w}");
        }
    }

    #[test]
    fn weight_map_sees_only_the_wired_pair() {
        let config = QnnConfig {
            embedding_dim: 2,
            num_layers: 1,
            num_row: 2,
            num_heads: 1,
            batch_norm: false,
            net_dropout: 0.0,
        };
        // W [D·R, D] = [12, 6]: only rows whose output reads field 1 (j ∈ {2, 3}) get weights,
        // and only in columns of field 2 (c ∈ {4, 5}).
        let (model, input) = model_with(&config, |store| {
            let w = store.tensors.get_mut("layer.0.linear.0.weight").unwrap();
            w.values.fill(0.0);
            for r in 0..2 {
                for j in 2..4 {
                    for c in 4..6 {
                        w.values[(r * 6 + j) * 6 + c] = 0.5;
                    }
                }
            }
        });
        let maps = pollster::block_on(interaction_maps(&model, Some(&input))).unwrap();
        let head = &maps.layers[0].heads[0];
        let (a, b, _) = head.weight.top_off_diagonal().unwrap();
        assert_eq!((a, b), (1, 2));
        assert_eq!(head.weight.get(1, 2), 0.5);
        let nonzero: Vec<_> = (0..9).filter(|&i| head.weight.values[i] != 0.0).collect();
        assert_eq!(nonzero, [5]);
        let act = head.activation.as_ref().unwrap();
        let (a, b, v) = act.top_off_diagonal().unwrap();
        assert_eq!((a, b), (1, 2));
        assert!(v > 0.0);
        assert_eq!(act.row_normalized().get(1, 2), 1.0);
        assert_eq!(maps.field_names, ["f0", "f1", "f2"]);
    }
}
