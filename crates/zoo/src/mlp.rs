//! `nn.Linear` and FuxiCTR's `MLP_Block` (baselines spec §1.4–1.5).

use burn::module::{Module, Param};
use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::{Device, Tensor};
use qnn_model::dropout::{MaskStream, Site, mask_like};
use qnn_model::params::transpose;
use qnn_model::quadratic::BatchNorm;
use qnn_model::{Mode, ModelError, ParamRef};
use serde::{Deserialize, Serialize};

use crate::weights::{HostLayout, Init, NamedParam, WeightSource, named, param1, tensor1, tensor2};

/// `nn.Linear`: x Wᵀ + b, with W kept as [in, out] so that the product needs no transpose.
#[derive(Module, Debug)]
pub struct Linear {
    pub weight: Param<Tensor<2>>,
    pub bias: Option<Param<Tensor<1>>>,
    #[module(skip)]
    pub input: usize,
    #[module(skip)]
    pub output: usize,
}

impl Linear {
    /// `name.weight` [output, input] and, with `bias`, `name.bias` [output].
    pub fn build(
        source: &mut dyn WeightSource,
        name: &str,
        input: usize,
        output: usize,
        bias: bool,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let init = Init::XavierNormal {
            fan_in: input,
            fan_out: output,
        };
        let w = source.take(&format!("{name}.weight"), &[output, input], init)?;
        let weight = tensor2(transpose(&w, output, input), [input, output], device);
        let bias = bias
            .then(|| source.take(&format!("{name}.bias"), &[output], Init::Zeros))
            .transpose()?
            .map(|b| param1(b, device));
        Ok(Self {
            weight: Param::from_tensor(weight),
            bias,
            input,
            output,
        })
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match &self.bias {
            // One fused product with its own backward on the CPU (see `fused::linear`).
            Some(b) => qnn_model::fused::linear::linear(x, self.weight.val(), b.val()),
            None => x.matmul(self.weight.val()),
        }
    }

    pub fn named<'a>(&'a self, name: &str, out: &mut Vec<NamedParam<'a>>) {
        out.push(named(
            format!("{name}.weight"),
            vec![self.output, self.input],
            ParamRef::Matrix(&self.weight),
            HostLayout::Transposed {
                rows: self.input,
                cols: self.output,
            },
        ));
        if let Some(b) = &self.bias {
            out.push(named(
                format!("{name}.bias"),
                vec![self.output],
                ParamRef::Vector(b),
                HostLayout::Same,
            ));
        }
    }
}

/// The parameter-free activations FuxiCTR's `get_activation` knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    Sigmoid,
    Tanh,
}

impl Activation {
    /// A config's spelling, case-insensitive as in FuxiCTR. PReLU and Dice carry parameters and
    /// softmax makes no sense on a hidden layer of these models: they are refused by name.
    pub fn parse(key: &'static str, name: &str) -> Result<Self, ModelError> {
        match name.to_ascii_lowercase().as_str() {
            "relu" => Ok(Self::Relu),
            "sigmoid" => Ok(Self::Sigmoid),
            "tanh" => Ok(Self::Tanh),
            _ => Err(ModelError::Config {
                key,
                reason: format!("activation `{name}` is not supported (relu, sigmoid, tanh)"),
            }),
        }
    }

    pub fn apply(self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Relu => relu(x),
            Self::Sigmoid => sigmoid(x),
            Self::Tanh => tanh(x),
        }
    }
}

/// The shape of one `MLP_Block`: hidden layers (each with its activation and dropout rate),
/// batch norm, and an optional output layer.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpSpec {
    pub hidden_units: Vec<usize>,
    pub activations: Vec<Activation>,
    pub dropout: Vec<f64>,
    pub batch_norm: bool,
    pub output_dim: Option<usize>,
    pub output_activation: Option<Activation>,
}

impl MlpSpec {
    /// Hidden layers sharing one activation and one dropout rate, no output layer.
    pub fn hidden(
        hidden_units: Vec<usize>,
        activation: Activation,
        dropout: f64,
        batch_norm: bool,
    ) -> Self {
        let n = hidden_units.len();
        Self {
            hidden_units,
            activations: vec![activation; n],
            dropout: vec![dropout; n],
            batch_norm,
            output_dim: None,
            output_activation: None,
        }
    }

    pub fn with_output(mut self, dim: usize, activation: Option<Activation>) -> Self {
        self.output_dim = Some(dim);
        self.output_activation = activation;
        self
    }
}

/// One hidden layer: Linear, BatchNorm1d?, activation, Dropout?.
#[derive(Module, Debug)]
pub struct Hidden {
    pub linear: Linear,
    pub batch_norm: Option<BatchNorm>,
    /// Position of the Linear in FuxiCTR's `nn.Sequential` (the BN sits at the next one).
    #[module(skip)]
    pub index: usize,
    #[module(skip)]
    pub activation: Activation,
    #[module(skip)]
    pub dropout: f64,
}

/// FuxiCTR's `MLP_Block`, named `<name>.mlp.<i>` as its `nn.Sequential` numbers its modules.
#[derive(Module, Debug)]
pub struct Mlp {
    pub hidden: Vec<Hidden>,
    pub output: Option<Linear>,
    #[module(skip)]
    pub output_index: usize,
    #[module(skip)]
    pub output_activation: Option<Activation>,
    /// First dropout stream of this block (each model numbers its blocks' dropouts apart).
    #[module(skip)]
    pub dropout_stream: u32,
}

impl Mlp {
    pub fn build(
        source: &mut dyn WeightSource,
        name: &str,
        input: usize,
        spec: &MlpSpec,
        dropout_stream: u32,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let mut index = 0;
        let mut width = input;
        let mut hidden = Vec::with_capacity(spec.hidden_units.len());
        for (i, &units) in spec.hidden_units.iter().enumerate() {
            let linear_at = index;
            let linear = Linear::build(
                source,
                &format!("{name}.mlp.{index}"),
                width,
                units,
                true,
                device,
            )?;
            index += 1;
            let batch_norm = if spec.batch_norm {
                let p = |what: &str| format!("{name}.mlp.{index}.{what}");
                let bn = BatchNorm::new(
                    tensor1(source.take(&p("weight"), &[units], Init::Ones)?, device),
                    tensor1(source.take(&p("bias"), &[units], Init::Zeros)?, device),
                    tensor1(
                        source.take(&p("running_mean"), &[units], Init::Zeros)?,
                        device,
                    ),
                    tensor1(
                        source.take(&p("running_var"), &[units], Init::Ones)?,
                        device,
                    ),
                );
                index += 1;
                Some(bn)
            } else {
                None
            };
            index += 1; // the activation
            let dropout = spec.dropout[i];
            if dropout > 0.0 {
                index += 1;
            }
            hidden.push(Hidden {
                linear,
                batch_norm,
                index: linear_at,
                activation: spec.activations[i],
                dropout,
            });
            width = units;
        }
        let output = spec
            .output_dim
            .map(|dim| {
                Linear::build(
                    source,
                    &format!("{name}.mlp.{index}"),
                    width,
                    dim,
                    true,
                    device,
                )
            })
            .transpose()?;
        Ok(Self {
            hidden,
            output,
            output_index: index,
            output_activation: spec.output_activation,
            dropout_stream,
        })
    }

    pub fn forward(&self, x: Tensor<2>, mode: Mode) -> Tensor<2> {
        let mut x = x;
        for (i, layer) in self.hidden.iter().enumerate() {
            x = match (&layer.batch_norm, mode) {
                // Under training-mode batch norm the bias cancels out (it shifts the batch
                // mean), so its exact gradient is zero; autodiff would give rounding noise
                // that Adam turns into lr-sized random steps. It still enters the running mean.
                (Some(bn), Mode::Train(_)) => {
                    let h = x.matmul(layer.linear.weight.val());
                    let h = match &layer.linear.bias {
                        Some(b) => h + b.val().detach().unsqueeze_dim::<2>(0),
                        None => h,
                    };
                    bn.forward(h, mode, 1)
                }
                (Some(bn), Mode::Eval) => bn.forward(layer.linear.forward(x), mode, 1),
                (None, _) => layer.linear.forward(x),
            };
            x = layer.activation.apply(x);
            if let (Mode::Train(key), true) = (mode, layer.dropout > 0.0) {
                let stream = MaskStream {
                    layer: self.dropout_stream + i as u32,
                    pass: 0,
                    site: Site::Hidden,
                };
                let [rows, cols] = x.dims();
                x = x.clone() * mask_like(key.mask(stream, layer.dropout), rows, cols, &x);
            }
        }
        if let Some(output) = &self.output {
            x = output.forward(x);
        }
        match self.output_activation {
            Some(a) => a.apply(x),
            None => x,
        }
    }

    /// Parameters by name; batch-norm statistics are buffers, listed by [`Mlp::buffers`].
    pub fn named<'a>(&'a self, name: &str, out: &mut Vec<NamedParam<'a>>) {
        for layer in &self.hidden {
            layer
                .linear
                .named(&format!("{name}.mlp.{}", layer.index), out);
            if let Some(bn) = &layer.batch_norm {
                let units = layer.linear.output;
                let p = |what: &str| format!("{name}.mlp.{}.{what}", layer.index + 1);
                out.push(named(
                    p("weight"),
                    vec![units],
                    ParamRef::Vector(&bn.gamma),
                    HostLayout::Same,
                ));
                out.push(named(
                    p("bias"),
                    vec![units],
                    ParamRef::Vector(&bn.beta),
                    HostLayout::Same,
                ));
            }
        }
        if let Some(output) = &self.output {
            output.named(&format!("{name}.mlp.{}", self.output_index), out);
        }
    }

    /// Batch-norm running statistics by PyTorch name: (name, values).
    pub fn buffers(&self, name: &str, out: &mut Vec<(String, Tensor<1>)>) {
        for layer in &self.hidden {
            if let Some(bn) = &layer.batch_norm {
                let p = |what: &str| format!("{name}.mlp.{}.{what}", layer.index + 1);
                out.push((p("running_mean"), bn.running_mean.value_sync()));
                out.push((p("running_var"), bn.running_var.value_sync()));
            }
        }
    }
}
