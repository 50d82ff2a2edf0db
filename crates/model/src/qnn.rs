//! The QNN network (spec §A.4–A.5): embedding, L quadratic layers each followed by dropout, a
//! linear head, and the Self-Ensemble loss.

use burn::module::{Module, Param, ParamId};
use burn::tensor::{Device, Tensor};

use crate::embedding::{FeatureEmbedding, group_specs};
use crate::input::{InputLayout, ModelInput};
use crate::objective::{Loss, Task, output, self_ensemble_loss};
use crate::params::ParamStore;
use crate::quadratic::{BatchNorm, LayerCall, LayerKernel, QuadraticLayer};
use crate::regularizer::Regularizer;
use crate::{Mode, ModelError, QnnConfig};

#[derive(Module, Debug)]
pub struct Qnn {
    pub embedding: FeatureEmbedding,
    pub layers: Vec<QuadraticLayer>,
    /// [D, 1].
    pub fc_weight: Param<Tensor<2>>,
    pub fc_bias: Param<Tensor<1>>,
    #[module(skip)]
    pub net_dropout: f64,
    /// Fused layers (the default) or the composed reference.
    #[module(skip)]
    pub kernel: LayerKernel,
}

/// The Self-Ensemble loss of one batch and the two passes' outputs (probabilities for binary
/// classification).
#[derive(Debug, Clone)]
pub struct SelfEnsembleOutput {
    /// loss(ȳ, y) + loss(y₁, sg(ȳ)) + loss(y₂, sg(ȳ)), [1].
    pub loss: Tensor<1>,
    pub y1: Tensor<1>,
    pub y2: Tensor<1>,
}

impl Qnn {
    /// A freshly initialised model (spec §A.6), deterministic in `seed` on every backend.
    pub fn init(
        config: &QnnConfig,
        layout: &InputLayout,
        seed: u64,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let store = ParamStore::init(config, layout, seed);
        Self::from_store(config, layout, &store, device)
    }

    /// Builds the model from named host values (PyTorch names and layouts, see [`ParamStore`]).
    pub fn from_store(
        config: &QnnConfig,
        layout: &InputLayout,
        store: &ParamStore,
        device: &Device,
    ) -> Result<Self, ModelError> {
        config.validate()?;
        let (view_fields, view_dim) = layer_view(config, layout)?;
        let d = view_fields * view_dim;
        let dr = d * config.num_row;
        let groups = group_specs(layout, config.embedding_dim)
            .into_iter()
            .map(|spec| {
                let table = spec
                    .table
                    .as_deref()
                    .map(|name| store.tensor2(name, [spec.subset.table_rows, spec.dim], device))
                    .transpose()?;
                let numeric = spec
                    .numeric
                    .as_deref()
                    .map(|name| store.tensor2(name, [spec.subset.numeric.len(), spec.dim], device))
                    .transpose()?;
                Ok((spec, table, numeric))
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        let embedding = FeatureEmbedding::new(layout, groups);
        let mut layers = Vec::with_capacity(config.num_layers);
        for i in 0..config.num_layers {
            let p = |name: &str| format!("layer.{i}.linear.{name}");
            let weight = store.tensor2_transposed(&p("0.weight"), [dr, d], device)?;
            let bias = store.tensor1(&p("0.bias"), dr, device)?;
            let bn = if config.batch_norm {
                Some(BatchNorm::new(
                    store.tensor1(&p("1.weight"), dr, device)?,
                    store.tensor1(&p("1.bias"), dr, device)?,
                    store.tensor1(&p("1.running_mean"), dr, device)?,
                    store.tensor1(&p("1.running_var"), dr, device)?,
                ))
            } else {
                None
            };
            layers.push(QuadraticLayer::new(
                weight,
                bias,
                bn,
                view_fields,
                view_dim,
                config.num_heads,
                config.num_row,
            ));
        }
        Ok(Self {
            embedding,
            layers,
            fc_weight: Param::from_tensor(store.tensor2_transposed("fc.weight", [1, d], device)?),
            fc_bias: Param::from_tensor(store.tensor1("fc.bias", 1, device)?),
            net_dropout: config.net_dropout,
            kernel: LayerKernel::default(),
        })
    }

    /// The model with `by` added to the head's bias (a regression starts from the label mean);
    /// the bias stays a trainable leaf.
    pub fn shift_output(mut self, by: f32) -> Self {
        self.fc_bias = self
            .fc_bias
            .map(|t| t.add_scalar(by).detach().require_grad());
        self
    }

    /// x₀, [B, F·E].
    pub fn embed(&self, input: &ModelInput) -> Tensor<2> {
        self.embedding.forward(input)
    }

    /// Logits of the quadratic stack and head on x₀ for each Self-Ensemble pass, [B] each.
    /// The passes share layer 0's input, so its matmul, batch norm and ReLU run once for all of
    /// them; each pass then has its own dropout masks (and the batch-norm running statistics are
    /// still updated once per pass, as in PyTorch).
    pub fn pass_logits(&self, x0: Tensor<2>, mode: Mode, passes: &[u32]) -> Vec<Tensor<1>> {
        let call = |layer, passes| LayerCall {
            layer,
            passes,
            mode,
            dropout: self.net_dropout,
        };
        let mut xs = match self.layers.first() {
            Some(first) => first.forward(x0, call(0, passes), self.kernel),
            None => vec![x0; passes.len()],
        };
        for (i, layer) in self.layers.iter().enumerate().skip(1) {
            xs = xs
                .into_iter()
                .zip(passes)
                .flat_map(|(x, pass)| {
                    layer.forward(x, call(i, std::slice::from_ref(pass)), self.kernel)
                })
                .collect();
        }
        xs.into_iter()
            .map(|x| {
                let b = x.dims()[0];
                (x.matmul(self.fc_weight.val()) + self.fc_bias.val().unsqueeze_dim::<2>(0))
                    .reshape([b])
            })
            .collect()
    }

    /// Logits of one pass of the quadratic stack and head on x₀, [B].
    pub fn logits_from(&self, x0: Tensor<2>, mode: Mode) -> Tensor<1> {
        self.pass_logits(x0, mode, &[0])
            .pop()
            .expect("one pass gives one output")
    }

    /// One pass: logits, [B].
    pub fn logits(&self, input: &ModelInput, mode: Mode) -> Tensor<1> {
        self.logits_from(self.embed(input), mode)
    }

    /// Evaluation output for `task` (σ(logit) for binary classification): one pass without
    /// dropout, BN on running statistics.
    pub fn predict(&self, input: &ModelInput, task: Task) -> Tensor<1> {
        output(task, self.logits(input, Mode::Eval))
    }

    /// The Self-Ensemble loss (spec §A.5) with `loss` on the outputs for `task`: one embedding
    /// lookup, two passes of the stack (in eval mode the two passes are the same computation,
    /// done once).
    pub fn self_ensemble(
        &self,
        input: &ModelInput,
        mode: Mode,
        task: Task,
        loss: Loss,
    ) -> SelfEnsembleOutput {
        let x0 = self.embed(input);
        let (y1, y2) = match mode {
            Mode::Eval => {
                let y = output(task, self.logits_from(x0, mode));
                (y.clone(), y)
            }
            Mode::Train(_) => {
                let mut outputs = self
                    .pass_logits(x0, mode, &[0, 1])
                    .into_iter()
                    .map(|logits| output(task, logits));
                let y1 = outputs.next().expect("two passes");
                let y2 = outputs.next().expect("two passes");
                (y1, y2)
            }
        };
        let loss = self_ensemble_loss(y1.clone(), y2.clone(), input.labels.clone(), loss);
        SelfEnsembleOutput { loss, y1, y2 }
    }

    /// The regularisation term of spec §C.8: embedding tables and numeric vectors use
    /// `embedding`, every other parameter (weights, biases, BN γ/β, head) uses `net`.
    pub fn regularization(&self, embedding: &Regularizer, net: &Regularizer) -> Option<Tensor<1>> {
        let mut terms: Vec<Tensor<1>> = Vec::new();
        if !embedding.is_zero() {
            for w in self.embedding.matrices() {
                terms.push(embedding.penalty(w.val()));
            }
        }
        if !net.is_zero() {
            for layer in &self.layers {
                terms.push(net.penalty(layer.weight.val()));
                terms.push(net.penalty(layer.bias.val()));
                if let Some(bn) = &layer.batch_norm {
                    terms.push(net.penalty(bn.gamma.val()));
                    terms.push(net.penalty(bn.beta.val()));
                }
            }
            terms.push(net.penalty(self.fc_weight.val()));
            terms.push(net.penalty(self.fc_bias.val()));
        }
        terms.into_iter().reduce(|a, b| a + b)
    }
}

/// A trainable parameter of either rank, for code that walks all of them (clipping, counting).
#[derive(Debug, Clone, Copy)]
pub enum ParamRef<'a> {
    Vector(&'a Param<Tensor<1>>),
    Matrix(&'a Param<Tensor<2>>),
}

impl Qnn {
    /// Every trainable parameter (batch-norm running statistics are buffers, not parameters).
    pub fn params(&self) -> Vec<ParamRef<'_>> {
        let mut out: Vec<ParamRef<'_>> = self.embedding.matrices().map(ParamRef::Matrix).collect();
        for layer in &self.layers {
            out.push(ParamRef::Matrix(&layer.weight));
            out.push(ParamRef::Vector(&layer.bias));
            if let Some(bn) = &layer.batch_norm {
                out.push(ParamRef::Vector(&bn.gamma));
                out.push(ParamRef::Vector(&bn.beta));
            }
        }
        out.push(ParamRef::Matrix(&self.fc_weight));
        out.push(ParamRef::Vector(&self.fc_bias));
        out
    }

    /// The optimizer's key of each parameter, in [`Qnn::params`] order. A saved training state
    /// stores them so that the optimizer's moments find their parameters again after a resume.
    pub fn param_ids(&self) -> Vec<u64> {
        self.params()
            .iter()
            .map(|p| match p {
                ParamRef::Vector(p) => p.id.val(),
                ParamRef::Matrix(p) => p.id.val(),
            })
            .collect()
    }

    /// The same model with the parameters keyed by `ids` (from [`Qnn::param_ids`] of the model
    /// whose optimizer state is being restored). Values and gradient settings are unchanged.
    pub fn with_param_ids(mut self, ids: &[u64]) -> Result<Self, ModelError> {
        let expected = self.params().len();
        if ids.len() != expected {
            return Err(ModelError::Weights(format!(
                "{} parameter ids for a model with {expected} parameters",
                ids.len()
            )));
        }
        fn rekey<const D: usize>(p: Param<Tensor<D>>, id: u64) -> Param<Tensor<D>> {
            let (_, value, mapper) = p.consume();
            Param::from_mapped_value(ParamId::from(id), value, mapper)
        }
        let mut ids = ids.iter().copied();
        let mut next = || ids.next().expect("length checked above");
        for group in &mut self.embedding.groups {
            group.table = group.table.take().map(|t| rekey(t, next()));
            group.numeric = group.numeric.take().map(|w| rekey(w, next()));
        }
        for layer in &mut self.layers {
            layer.weight = rekey(layer.weight.clone(), next());
            layer.bias = rekey(layer.bias.clone(), next());
            if let Some(bn) = &mut layer.batch_norm {
                bn.gamma = rekey(bn.gamma.clone(), next());
                bn.beta = rekey(bn.beta.clone(), next());
            }
        }
        self.fc_weight = rekey(self.fc_weight, next());
        self.fc_bias = rekey(self.fc_bias, next());
        Ok(self)
    }

    /// F: number of model fields.
    pub fn num_fields(&self) -> usize {
        self.embedding.field_names.len()
    }

    /// FuxiCTR's "Total number of parameters" (spec §A.7).
    pub fn num_parameters(&self) -> usize {
        self.params()
            .iter()
            .map(|p| match p {
                ParamRef::Vector(p) => p.val().dims().iter().product::<usize>(),
                ParamRef::Matrix(p) => p.val().dims().iter().product::<usize>(),
            })
            .sum()
    }
}

/// How the quadratic layers cut x₀ into fields and heads, as (fields, width): the authors' layer
/// views x₀ as [B, F, D / F] (`input_dim // num_fields`), so when the fields have several
/// embedding widths its "fields" are blocks of D / F columns. With one head the layer reads x₀
/// as it is, so any D works (the original's view fails when F does not divide D).
pub fn layer_view(config: &QnnConfig, layout: &InputLayout) -> Result<(usize, usize), ModelError> {
    let f = layout.num_fields();
    let h = config.num_heads;
    let bad = |reason| ModelError::Config {
        key: "num_heads",
        reason,
    };
    let d = layout
        .width(config.embedding_dim)
        .ok_or_else(|| ModelError::Config {
            key: "embedding_dim",
            reason: "the fields' embedding widths overflow when added up".into(),
        })?;
    if d.is_multiple_of(f) {
        let e = d / f;
        if h == 0 || !e.is_multiple_of(h) {
            return Err(bad(format!(
                "{h} does not divide the fields' mean embedding width {e} (D = {d} over {f} \
                 fields), which the layers cut into heads"
            )));
        }
        Ok((f, e))
    } else if h == 1 {
        Ok((1, d))
    } else {
        Err(bad(format!(
            "{h} heads need the fields' embedding widths to sum to a multiple of the {f} fields \
             (the layers view x₀ as {f} blocks of D / F columns), but they sum to {d}"
        )))
    }
}
