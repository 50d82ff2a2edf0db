//! The zoo's building blocks beyond the MLP: the first-order term, the factorization machine's
//! pairwise term, DCNv2's cross network and FinalMLP's feature selection and fusion
//! (baselines spec §1.3, §3, §6, §7).

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use qnn_model::{InputLayout, Mode, ModelError, ModelInput, ParamRef};

use crate::embedding::{FieldEmbedding, Width};
use crate::mlp::{Activation, Linear, Mlp, MlpSpec};
use crate::weights::{HostLayout, Init, NamedParam, WeightSource, named, param1, tensor2};

/// `LogisticRegression`: β + Σ_f u_f(x_f), with its own dim-1 embedding of every field.
#[derive(Module, Debug)]
pub struct FirstOrder {
    pub weights: FieldEmbedding,
    pub bias: Param<Tensor<1>>,
}

impl FirstOrder {
    /// `name.embedding_layer.…` (the tables) and `name.bias`, in FuxiCTR's order.
    pub fn build(
        source: &mut dyn WeightSource,
        name: &str,
        layout: &InputLayout,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let bias = source.take(&format!("{name}.bias"), &[1], Init::Zeros)?;
        let weights = FieldEmbedding::build(
            source,
            &format!("{name}.embedding_layer"),
            layout,
            Width::All(1),
            device,
        )?;
        Ok(Self {
            weights,
            bias: param1(bias, device),
        })
    }

    /// [B].
    pub fn forward(&self, input: &ModelInput) -> Tensor<1> {
        let per_field = self.weights.forward(input); // [B, F]
        let b = per_field.dims()[0];
        per_field.sum_dim(1).reshape([b]) + self.bias.val()
    }

    pub fn named<'a>(&'a self, name: &str, out: &mut Vec<NamedParam<'a>>) {
        out.push(named(
            format!("{name}.bias"),
            vec![1],
            ParamRef::Vector(&self.bias),
            HostLayout::Same,
        ));
        self.weights.named(&format!("{name}.embedding_layer"), out);
    }
}

/// ½ Σ_k [(Σ_f e_f,k)² − Σ_f e_f,k²] of field embeddings `v` [B, F·d], [B].
pub fn pairwise_interactions(v: Tensor<2>, num_fields: usize, dim: usize) -> Tensor<1> {
    let b = v.dims()[0];
    let e = v.reshape([b, num_fields, dim]);
    let sum = e.clone().sum_dim(1); // [B, 1, d]
    let square_of_sum = sum.clone() * sum;
    let sum_of_squares = (e.clone() * e).sum_dim(1);
    (square_of_sum - sum_of_squares)
        .sum_dim(2)
        .reshape([b])
        .mul_scalar(0.5)
}

/// CrossNetV2: x_{l+1} = x_l + x₀ ⊙ (W_l x_l + b_l).
#[derive(Module, Debug)]
pub struct CrossNet {
    pub layers: Vec<Linear>,
}

impl CrossNet {
    pub fn build(
        source: &mut dyn WeightSource,
        name: &str,
        width: usize,
        num_layers: usize,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let layers = (0..num_layers)
            .map(|l| {
                Linear::build(
                    source,
                    &format!("{name}.cross_layers.{l}"),
                    width,
                    width,
                    true,
                    device,
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { layers })
    }

    pub fn forward(&self, x0: Tensor<2>) -> Tensor<2> {
        let mut x = x0.clone();
        for layer in &self.layers {
            x = x.clone() + x0.clone() * layer.forward(x);
        }
        x
    }

    pub fn named<'a>(&'a self, name: &str, out: &mut Vec<NamedParam<'a>>) {
        for (l, layer) in self.layers.iter().enumerate() {
            layer.named(&format!("{name}.cross_layers.{l}"), out);
        }
    }
}

/// Where one feature-selection branch's gate reads its context from.
// Two per model: the size does not matter, and Burn's derive takes a module, not a box.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Context {
    /// A learned vector, the same for every sample, [1, d].
    Bias(Param<Tensor<2>>),
    /// The sample's embeddings of the context fields.
    Fields(FieldEmbedding),
}

/// FinalMLP's feature selection: two gates g_k = 2·σ(MLP(z_k)) scale the embeddings.
#[derive(Module, Debug)]
pub struct FeatureSelection {
    pub contexts: Vec<Context>,
    pub gates: Vec<Mlp>,
}

impl FeatureSelection {
    /// `fs_module.fs{1,2}_ctx_bias` or `fs_module.fs{1,2}_ctx_emb.…`, then both gates.
    pub fn build(
        source: &mut dyn WeightSource,
        layout: &InputLayout,
        contexts: [&[String]; 2],
        hidden_units: &[usize],
        dim: usize,
        width: usize,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let keys = ["fs1_context", "fs2_context"];
        let mut built = Vec::with_capacity(2);
        for (k, fields) in contexts.iter().enumerate() {
            let prefix = format!("fs_module.fs{}_ctx", k + 1);
            built.push(if fields.is_empty() {
                // FuxiCTR initialises the context bias to zeros (spec §1.8).
                let values = source.take(&format!("{prefix}_bias"), &[1, dim], Init::Zeros)?;
                Context::Bias(Param::from_tensor(tensor2(values, [1, dim], device)))
            } else {
                Context::Fields(FieldEmbedding::build_for(
                    source,
                    &format!("{prefix}_emb"),
                    layout,
                    keys[k],
                    fields,
                    Width::Fields(dim),
                    device,
                )?)
            });
        }
        let mut gates = Vec::with_capacity(2);
        for (k, context) in built.iter().enumerate() {
            let input = match context {
                Context::Bias(_) => dim,
                Context::Fields(e) => e.width(),
            };
            let spec = MlpSpec::hidden(hidden_units.to_vec(), Activation::Relu, 0.0, false)
                .with_output(width, Some(Activation::Sigmoid));
            gates.push(Mlp::build(
                source,
                &format!("fs_module.fs{}_gate", k + 1),
                input,
                &spec,
                0,
                device,
            )?);
        }
        Ok(Self {
            contexts: built,
            gates,
        })
    }

    /// The two gated copies of `v` [B, F·d].
    pub fn forward(&self, v: Tensor<2>, input: &ModelInput, mode: Mode) -> [Tensor<2>; 2] {
        let b = v.dims()[0];
        let gated = |k: usize| {
            let z = match &self.contexts[k] {
                Context::Bias(bias) => {
                    let [_, d] = bias.val().dims();
                    bias.val().expand([b, d])
                }
                Context::Fields(embedding) => embedding.forward(input),
            };
            v.clone() * self.gates[k].forward(z, mode).mul_scalar(2.0)
        };
        [gated(0), gated(1)]
    }

    pub fn named<'a>(&'a self, out: &mut Vec<NamedParam<'a>>) {
        for (k, context) in self.contexts.iter().enumerate() {
            let prefix = format!("fs_module.fs{}_ctx", k + 1);
            match context {
                Context::Bias(bias) => {
                    let [_, d] = bias.val().dims();
                    out.push(named(
                        format!("{prefix}_bias"),
                        vec![1, d],
                        ParamRef::Matrix(bias),
                        HostLayout::Same,
                    ));
                }
                Context::Fields(embedding) => embedding.named(&format!("{prefix}_emb"), out),
            }
        }
        for (k, gate) in self.gates.iter().enumerate() {
            gate.named(&format!("fs_module.fs{}_gate", k + 1), out);
        }
    }
}

/// FinalMLP's `InteractionAggregation` with one output: w_x·a + w_y·c + Σ_h a_hᵀ M_h c_h.
#[derive(Module, Debug)]
pub struct Fusion {
    /// w_xy as [H·h_x, h_y] (row h·h_x + i holds M_h's row i).
    pub w_xy: Param<Tensor<2>>,
    pub w_x: Linear,
    pub w_y: Linear,
    #[module(skip)]
    pub num_heads: usize,
}

impl Fusion {
    pub fn build(
        source: &mut dyn WeightSource,
        x_dim: usize,
        y_dim: usize,
        num_heads: usize,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let (hx, hy) = (x_dim / num_heads, y_dim / num_heads);
        let n = num_heads * hx * hy;
        let w_xy = source.take(
            "fusion_module.w_xy",
            &[n, 1],
            Init::XavierNormal {
                fan_in: 1,
                fan_out: n,
            },
        )?;
        let w_x = Linear::build(source, "fusion_module.w_x", x_dim, 1, true, device)?;
        let w_y = Linear::build(source, "fusion_module.w_y", y_dim, 1, true, device)?;
        Ok(Self {
            w_xy: Param::from_tensor(tensor2(w_xy, [num_heads * hx, hy], device)),
            w_x,
            w_y,
            num_heads,
        })
    }

    /// [B].
    pub fn forward(&self, a: Tensor<2>, c: Tensor<2>) -> Tensor<1> {
        let [b, x_dim] = a.dims();
        let y_dim = c.dims()[1];
        let h = self.num_heads;
        let (hx, hy) = (x_dim / h, y_dim / h);
        let linear = self.w_x.forward(a.clone()) + self.w_y.forward(c.clone()); // [B, 1]
        let a = a.reshape([b, h, hx]).swap_dims(0, 1); // [H, B, hx]
        let c = c.reshape([b, h, hy]).swap_dims(0, 1); // [H, B, hy]
        let m = self.w_xy.val().reshape([h, hx, hy]);
        let bilinear = (a.matmul(m) * c).sum_dim(2).sum_dim(0).reshape([b]); // Σ_h a_hᵀ M_h c_h
        linear.reshape([b]) + bilinear
    }

    pub fn named<'a>(&'a self, out: &mut Vec<NamedParam<'a>>) {
        let [rows, cols] = self.w_xy.val().dims();
        out.push(named(
            "fusion_module.w_xy".into(),
            vec![rows * cols, 1],
            ParamRef::Matrix(&self.w_xy),
            HostLayout::Same,
        ));
        self.w_x.named("fusion_module.w_x", out);
        self.w_y.named("fusion_module.w_y", out);
    }
}
