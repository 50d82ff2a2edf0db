//! The zoo's networks, each composed from the blocks as FuxiCTR 2.0.1 composes them, and one
//! enum over them that the rest of QNN Lab handles.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use qnn_model::{
    InputLayout, Mode, ModelError, ModelInput, ParamRef, ParamStore, Regularizer, read_values,
};

use crate::config::{DcnStructure, DcnV2Config, FinalMlpConfig, Tower, ZooConfig};
use crate::embedding::{FieldEmbedding, Width};
use crate::layers::{CrossNet, FeatureSelection, FirstOrder, Fusion, pairwise_interactions};
use crate::mlp::{Linear, Mlp};
use crate::weights::{NamedParam, RegGroup, WeightSource, export, param_id};

/// Dropout streams of a model's second MLP start here, so its masks never repeat the first's.
const SECOND_MLP_STREAMS: u32 = 64;

/// LR: logit = lr(x).
#[derive(Module, Debug)]
pub struct Lr {
    pub lr: FirstOrder,
}

/// FM: logit = lr(x) + ½ Σ_k [(Σ_f e_f,k)² − Σ_f e_f,k²].
#[derive(Module, Debug)]
pub struct Fm {
    pub embedding: FieldEmbedding,
    pub lr: FirstOrder,
}

/// DNN: logit = MLP(concatenated embeddings).
#[derive(Module, Debug)]
pub struct Dnn {
    pub embedding: FieldEmbedding,
    pub mlp: Mlp,
}

/// DeepFM: logit = lr(x) + FM's pairwise term + MLP(concatenated embeddings).
#[derive(Module, Debug)]
pub struct DeepFm {
    pub embedding: FieldEmbedding,
    pub lr: FirstOrder,
    pub mlp: Mlp,
}

/// DCNv2: CrossNetV2 and MLPs arranged by `model_structure`, then `fc`.
#[derive(Module, Debug)]
pub struct DcnV2 {
    pub embedding: FieldEmbedding,
    pub crossnet: CrossNet,
    pub stacked: Option<Mlp>,
    pub parallel: Option<Mlp>,
    pub fc: Linear,
}

/// FinalMLP: two towers on (optionally feature-selected) embeddings, fused bilinearly.
#[derive(Module, Debug)]
pub struct FinalMlp {
    pub embedding: FieldEmbedding,
    pub mlp1: Mlp,
    pub mlp2: Mlp,
    pub fs: Option<FeatureSelection>,
    pub fusion: Fusion,
}

/// DualMLP: the sum of two MLPs' logits.
#[derive(Module, Debug)]
pub struct DualMlp {
    pub embedding: FieldEmbedding,
    pub mlp1: Mlp,
    pub mlp2: Mlp,
}

/// One of the zoo's networks.
// One network per run: its size does not matter, and Burn's derive takes modules, not boxes.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum ZooNetwork {
    Lr(Lr),
    Fm(Fm),
    Dnn(Dnn),
    DeepFm(DeepFm),
    DcnV2(DcnV2),
    FinalMlp(FinalMlp),
    DualMlp(DualMlp),
}

/// The network's `embedding_layer`: each field its own width where its spec gives one, else `dim`.
fn embedding(
    source: &mut dyn WeightSource,
    layout: &InputLayout,
    dim: usize,
    device: &Device,
) -> Result<FieldEmbedding, ModelError> {
    FieldEmbedding::build(
        source,
        "embedding_layer",
        layout,
        Width::Fields(dim),
        device,
    )
}

fn tower(
    source: &mut dyn WeightSource,
    name: &str,
    input: usize,
    tower: &Tower,
    output: bool,
    streams: u32,
    device: &Device,
) -> Result<Mlp, ModelError> {
    let mut spec = tower.spec();
    if output {
        spec = spec.with_output(1, None);
    }
    Mlp::build(source, name, input, &spec, streams, device)
}

impl ZooNetwork {
    /// The network with `by` added to the bias that is added straight to its logit (the LR
    /// term's, or the last `nn.Linear`'s): a regression starts from the label mean this way.
    pub fn shift_output(self, by: f32) -> Self {
        let shift = |p: Param<Tensor<1>>| p.map(|t| t.add_scalar(by).detach().require_grad());
        let shift_linear = |mut l: Linear| {
            l.bias = l.bias.map(shift);
            l
        };
        let shift_mlp = |mut m: Mlp| {
            m.output = m.output.map(shift_linear);
            m
        };
        match self {
            Self::Lr(mut m) => {
                m.lr.bias = shift(m.lr.bias);
                Self::Lr(m)
            }
            Self::Fm(mut m) => {
                m.lr.bias = shift(m.lr.bias);
                Self::Fm(m)
            }
            Self::Dnn(mut m) => {
                m.mlp = shift_mlp(m.mlp);
                Self::Dnn(m)
            }
            Self::DeepFm(mut m) => {
                m.lr.bias = shift(m.lr.bias);
                Self::DeepFm(m)
            }
            Self::DcnV2(mut m) => {
                m.fc = shift_linear(m.fc);
                Self::DcnV2(m)
            }
            Self::FinalMlp(mut m) => {
                m.fusion.w_x = shift_linear(m.fusion.w_x);
                Self::FinalMlp(m)
            }
            Self::DualMlp(mut m) => {
                m.mlp1 = shift_mlp(m.mlp1);
                Self::DualMlp(m)
            }
        }
    }

    /// The network of `config` for the fields of `layout`, its weights taken from `source` in
    /// FuxiCTR's `state_dict` order.
    pub fn build(
        config: &ZooConfig,
        layout: &InputLayout,
        source: &mut dyn WeightSource,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let embed = |source: &mut dyn WeightSource, dim| embedding(source, layout, dim, device);
        // FM, DeepFM and DualMLP stack the embeddings as [B, F, d]: one width for every field.
        let stacked = |source: &mut dyn WeightSource, dim, model| {
            let embedding = embed(source, dim)?;
            embedding.stacked_dim(model)?;
            Ok::<_, ModelError>(embedding)
        };
        Ok(match config {
            ZooConfig::LR => Self::Lr(Lr {
                lr: FirstOrder::build(source, "lr_layer", layout, device)?,
            }),
            ZooConfig::FM { embedding_dim } => Self::Fm(Fm {
                embedding: stacked(source, *embedding_dim, "FM")?,
                lr: FirstOrder::build(source, "fm.lr_layer", layout, device)?,
            }),
            ZooConfig::DNN { embedding_dim, dnn } => {
                let embedding = embed(source, *embedding_dim)?;
                let width = embedding.width();
                Self::Dnn(Dnn {
                    embedding,
                    mlp: tower(source, "mlp", width, dnn, true, 0, device)?,
                })
            }
            ZooConfig::DeepFM { embedding_dim, dnn } => {
                let embedding = stacked(source, *embedding_dim, "DeepFM")?;
                let width = embedding.width();
                Self::DeepFm(DeepFm {
                    embedding,
                    lr: FirstOrder::build(source, "fm.lr_layer", layout, device)?,
                    mlp: tower(source, "mlp", width, dnn, true, 0, device)?,
                })
            }
            ZooConfig::DCNv2(c) => Self::DcnV2(Self::dcn(c, layout, source, device)?),
            ZooConfig::FinalMLP(c) => Self::FinalMlp(Self::final_mlp(c, layout, source, device)?),
            ZooConfig::DualMLP {
                embedding_dim,
                mlp1,
                mlp2,
            } => {
                let embedding = stacked(source, *embedding_dim, "DualMLP")?;
                let width = embedding.width();
                Self::DualMlp(DualMlp {
                    embedding,
                    mlp1: tower(source, "mlp1", width, mlp1, true, 0, device)?,
                    mlp2: tower(
                        source,
                        "mlp2",
                        width,
                        mlp2,
                        true,
                        SECOND_MLP_STREAMS,
                        device,
                    )?,
                })
            }
        })
    }

    fn dcn(
        c: &DcnV2Config,
        layout: &InputLayout,
        source: &mut dyn WeightSource,
        device: &Device,
    ) -> Result<DcnV2, ModelError> {
        let embedding = embedding(source, layout, c.embedding_dim, device)?;
        let width = embedding.width();
        let crossnet = CrossNet::build(source, "crossnet", width, c.num_cross_layers, device)?;
        let (stacked, parallel) = match c.model_structure {
            DcnStructure::Parallel => (false, true),
            DcnStructure::Stacked => (true, false),
            DcnStructure::StackedParallel => (true, true),
            DcnStructure::CrossnetOnly => (false, false),
        };
        let stacked = stacked
            .then(|| {
                tower(
                    source,
                    "stacked_dnn",
                    width,
                    &c.stacked_dnn,
                    false,
                    0,
                    device,
                )
            })
            .transpose()?;
        let parallel = parallel
            .then(|| {
                tower(
                    source,
                    "parallel_dnn",
                    width,
                    &c.parallel_dnn,
                    false,
                    SECOND_MLP_STREAMS,
                    device,
                )
            })
            .transpose()?;
        let (stacked_out, parallel_out) = (
            c.stacked_dnn.output_width(width),
            c.parallel_dnn.output_width(width),
        );
        let fc_input = match c.model_structure {
            DcnStructure::Parallel => width + parallel_out,
            DcnStructure::Stacked => stacked_out,
            DcnStructure::StackedParallel => stacked_out + parallel_out,
            DcnStructure::CrossnetOnly => width,
        };
        let fc = Linear::build(source, "fc", fc_input, 1, true, device)?;
        Ok(DcnV2 {
            embedding,
            crossnet,
            stacked,
            parallel,
            fc,
        })
    }

    fn final_mlp(
        c: &FinalMlpConfig,
        layout: &InputLayout,
        source: &mut dyn WeightSource,
        device: &Device,
    ) -> Result<FinalMlp, ModelError> {
        let embedding = embedding(source, layout, c.embedding_dim, device)?;
        embedding.stacked_dim("FinalMLP")?;
        let width = embedding.width();
        let mlp1 = tower(source, "mlp1", width, &c.mlp1, false, 0, device)?;
        let mlp2 = tower(
            source,
            "mlp2",
            width,
            &c.mlp2,
            false,
            SECOND_MLP_STREAMS,
            device,
        )?;
        let fs = c
            .use_fs
            .then(|| {
                FeatureSelection::build(
                    source,
                    layout,
                    [&c.fs1_context, &c.fs2_context],
                    &c.fs_hidden_units,
                    c.embedding_dim,
                    width,
                    device,
                )
            })
            .transpose()?;
        let (x_dim, y_dim) = (c.mlp1.output_width(width), c.mlp2.output_width(width));
        let fusion = Fusion::build(source, x_dim, y_dim, c.num_heads, device)?;
        Ok(FinalMlp {
            embedding,
            mlp1,
            mlp2,
            fs,
            fusion,
        })
    }

    /// The logits (before the task's output activation), [B].
    pub fn logits(&self, input: &ModelInput, mode: Mode) -> Tensor<1> {
        let b = input.batch_size;
        let flat = |t: Tensor<2>| t.reshape([b]);
        match self {
            Self::Lr(m) => m.lr.forward(input),
            Self::Fm(m) => {
                let v = m.embedding.forward(input);
                let pairs = pairwise_interactions(v, m.embedding.num_fields(), m.embedding.dim());
                m.lr.forward(input) + pairs
            }
            Self::Dnn(m) => flat(m.mlp.forward(m.embedding.forward(input), mode)),
            Self::DeepFm(m) => {
                let v = m.embedding.forward(input);
                let pairs =
                    pairwise_interactions(v.clone(), m.embedding.num_fields(), m.embedding.dim());
                m.lr.forward(input) + pairs + flat(m.mlp.forward(v, mode))
            }
            Self::DcnV2(m) => {
                let x0 = m.embedding.forward(input);
                let cross = m.crossnet.forward(x0.clone());
                let h = match (&m.stacked, &m.parallel) {
                    (None, None) => cross,
                    (Some(s), None) => s.forward(cross, mode),
                    (None, Some(p)) => Tensor::cat(vec![cross, p.forward(x0, mode)], 1),
                    (Some(s), Some(p)) => {
                        Tensor::cat(vec![s.forward(cross, mode), p.forward(x0, mode)], 1)
                    }
                };
                flat(m.fc.forward(h))
            }
            Self::FinalMlp(m) => {
                let v = m.embedding.forward(input);
                let [v1, v2] = match &m.fs {
                    Some(fs) => fs.forward(v, input, mode),
                    None => [v.clone(), v],
                };
                m.fusion
                    .forward(m.mlp1.forward(v1, mode), m.mlp2.forward(v2, mode))
            }
            Self::DualMlp(m) => {
                let v = m.embedding.forward(input);
                flat(m.mlp1.forward(v.clone(), mode) + m.mlp2.forward(v, mode))
            }
        }
    }

    /// Every PyTorch parameter tensor, in FuxiCTR's `state_dict` order.
    pub fn named(&self) -> Vec<NamedParam<'_>> {
        let mut out = Vec::new();
        match self {
            Self::Lr(m) => m.lr.named("lr_layer", &mut out),
            Self::Fm(m) => {
                m.embedding.named("embedding_layer", &mut out);
                m.lr.named("fm.lr_layer", &mut out);
            }
            Self::Dnn(m) => {
                m.embedding.named("embedding_layer", &mut out);
                m.mlp.named("mlp", &mut out);
            }
            Self::DeepFm(m) => {
                m.embedding.named("embedding_layer", &mut out);
                m.lr.named("fm.lr_layer", &mut out);
                m.mlp.named("mlp", &mut out);
            }
            Self::DcnV2(m) => {
                m.embedding.named("embedding_layer", &mut out);
                m.crossnet.named("crossnet", &mut out);
                if let Some(s) = &m.stacked {
                    s.named("stacked_dnn", &mut out);
                }
                if let Some(p) = &m.parallel {
                    p.named("parallel_dnn", &mut out);
                }
                m.fc.named("fc", &mut out);
            }
            Self::FinalMlp(m) => {
                m.embedding.named("embedding_layer", &mut out);
                m.mlp1.named("mlp1", &mut out);
                m.mlp2.named("mlp2", &mut out);
                if let Some(fs) = &m.fs {
                    fs.named(&mut out);
                }
                m.fusion.named(&mut out);
            }
            Self::DualMlp(m) => {
                m.embedding.named("embedding_layer", &mut out);
                m.mlp1.named("mlp1", &mut out);
                m.mlp2.named("mlp2", &mut out);
            }
        }
        out
    }

    /// Batch-norm running statistics by PyTorch name.
    pub fn buffers(&self) -> Vec<(String, Tensor<1>)> {
        let mut out = Vec::new();
        let mlps: Vec<(&str, &Mlp)> = match self {
            Self::Lr(_) | Self::Fm(_) => vec![],
            Self::Dnn(m) => vec![("mlp", &m.mlp)],
            Self::DeepFm(m) => vec![("mlp", &m.mlp)],
            Self::DcnV2(m) => [("stacked_dnn", &m.stacked), ("parallel_dnn", &m.parallel)]
                .into_iter()
                .filter_map(|(n, mlp)| mlp.as_ref().map(|mlp| (n, mlp)))
                .collect(),
            Self::FinalMlp(m) => vec![("mlp1", &m.mlp1), ("mlp2", &m.mlp2)],
            Self::DualMlp(m) => vec![("mlp1", &m.mlp1), ("mlp2", &m.mlp2)],
        };
        for (name, mlp) in mlps {
            mlp.buffers(name, &mut out);
        }
        out
    }

    /// Every trainable parameter once (a shared table holds several PyTorch tensors).
    pub fn params(&self) -> Vec<(ParamRef<'_>, RegGroup)> {
        let mut seen = HashSet::new();
        self.named()
            .into_iter()
            .filter(|p| seen.insert(param_id(&p.param)))
            .map(|p| (p.param, p.group()))
            .collect()
    }

    /// FuxiCTR's regularization term (baselines spec §1.7) over whole tensors.
    pub fn regularization(&self, embedding: &Regularizer, net: &Regularizer) -> Option<Tensor<1>> {
        self.params()
            .into_iter()
            .filter_map(|(p, group)| {
                let r = match group {
                    RegGroup::Embedding => embedding,
                    RegGroup::Net => net,
                };
                (!r.is_zero()).then(|| match p {
                    ParamRef::Vector(p) => r.penalty(p.val()),
                    ParamRef::Matrix(p) => r.penalty(p.val()),
                })
            })
            .reduce(|a, b| a + b)
    }

    /// Every parameter and buffer read back to the host under its PyTorch name (asynchronously:
    /// the browser cannot block on device reads).
    pub async fn to_store(&self) -> Result<ParamStore, ModelError> {
        let named = self.named();
        let mut values: HashMap<u64, Vec<f32>> = HashMap::new();
        for p in &named {
            let id = param_id(&p.param);
            if let Entry::Vacant(slot) = values.entry(id) {
                slot.insert(match p.param {
                    ParamRef::Vector(v) => read_values(v.val()).await?,
                    ParamRef::Matrix(m) => read_values(m.val()).await?,
                });
            }
        }
        let mut store = export(&named, |p| values.get(&param_id(p)).cloned());
        for (name, value) in self.buffers() {
            let value = read_values(value).await?;
            store.insert(name, vec![value.len()], value);
        }
        Ok(store)
    }

    /// FuxiCTR's "Total number of parameters".
    pub fn num_parameters(&self) -> usize {
        self.named()
            .iter()
            .map(|p| p.shape.iter().product::<usize>())
            .sum()
    }
}
