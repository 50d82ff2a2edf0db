//! The quadratic layer as one fused backend operation with its own backward pass.
//!
//! [`quadratic_layer`] computes, for P Self-Ensemble passes that share the layer's input (P = 2
//! for layer 0 in training, else 1):
//!
//! ```text
//! z   = norm(x·W + b)                       (batch norm, an affine map, or nothing)
//! u_p = ReLU(z) ⊙ gate_mask_p
//! y_p = (x_π ⊙ Σ_r u_p + x) ⊙ output_mask_p
//! ```
//!
//! The composed Burn version of the same layer (`QuadraticLayer::forward_composed`) stays in the
//! crate as the oracle the tests compare against. Backends: Burn's CPU backend (flex, natively
//! and in wasm) here, and its CubeCL backend (wgpu, WebGPU, CUDA) in `cube` with the
//! `gpu-kernels` feature; on other devices the model uses the composed layer.

mod autodiff;
pub mod cpu;
#[cfg(feature = "gpu-kernels")]
mod cube;
pub mod gemm;
pub mod linear;
mod pool;

use std::sync::Arc;

use burn::backend::flex::{Flex, FlexTensor};
#[cfg(feature = "fusion")]
use burn::backend::fusion::custom::TensorSpec;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, DispatchDevice, backend_extension};
use burn::tensor::{Device, Shape, Tensor, TensorData};

use crate::dropout::MaskSpec;

/// How the layer normalises x·W + b before the ReLU; γ and β are the two per-gate vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Norm {
    /// z = h (γ and β are not read).
    None,
    /// z = h·γ + β: batch norm in eval mode, with γ the scale and β the shift it folds into.
    Affine,
    /// z = (h − μ_B)/√(σ²_B + ε)·γ + β with the batch's mean and biased variance.
    Batch,
}

/// The dropout masks of one Self-Ensemble pass through the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PassMasks {
    pub gates: Option<MaskSpec>,
    pub output: Option<MaskSpec>,
}

/// The static description of one call: shapes, normalisation and each pass's masks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuadraticSpec {
    pub num_fields: usize,
    pub embedding_dim: usize,
    pub num_heads: usize,
    pub num_row: usize,
    pub norm: Norm,
    /// One entry per pass sharing the gates (at least one).
    pub passes: Vec<PassMasks>,
}

impl QuadraticSpec {
    /// D = F·E, the layer's width.
    pub fn width(&self) -> usize {
        self.num_fields * self.embedding_dim
    }

    /// D·R, the number of gates.
    pub fn gates(&self) -> usize {
        self.width() * self.num_row
    }
}

/// The layer as a backend operation: returns the passes' outputs stacked, [P·B, D], and the
/// batch statistics [2, D·R] (mean and biased variance under [`Norm::Batch`], else zeros), which
/// carry no gradient.
#[backend_extension(
    Autodiff,
    Flex,
    Cube: cfg(feature = "gpu-kernels"),
    Fusion: cfg(feature = "fusion")
)]
pub trait QuadraticOps: Backend {
    #[fusion(meta = layer_outputs)]
    fn quadratic_layer(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        spec: QuadraticSpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

/// The shapes of [`QuadraticOps::quadratic_layer`]'s outputs (y, stats), for Burn's fusion.
#[cfg(feature = "fusion")]
pub(crate) fn layer_outputs(
    x: &TensorSpec,
    _weight: &TensorSpec,
    _bias: &TensorSpec,
    _gamma: &TensorSpec,
    _beta: &TensorSpec,
    spec: &QuadraticSpec,
) -> (TensorSpec, TensorSpec) {
    let f32 = |shape: Shape| TensorSpec::new(shape, burn::tensor::DType::F32);
    (
        f32(Shape::from([spec.passes.len() * x.shape[0], spec.width()])),
        f32(Shape::from([2, spec.gates()])),
    )
}

/// The gradients of one call with respect to its five inputs.
#[derive(Debug)]
pub struct QuadraticGrads<B: Backend> {
    pub x: FloatTensor<B>,
    pub weight: FloatTensor<B>,
    pub bias: FloatTensor<B>,
    pub gamma: FloatTensor<B>,
    pub beta: FloatTensor<B>,
}

/// A backend's forward and backward kernels; the autodiff wrapper ties them together.
pub trait QuadraticKernels: Backend {
    /// What the forward pass keeps for the backward pass.
    type Saved: Clone + Send + Sync + std::fmt::Debug + 'static;

    #[allow(clippy::too_many_arguments)]
    fn quadratic_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        spec: &QuadraticSpec,
        save: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, Option<Self::Saved>);

    fn quadratic_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        saved: &Self::Saved,
        spec: &QuadraticSpec,
        grad_out: FloatTensor<Self>,
    ) -> QuadraticGrads<Self>;
}

/// Whether [`quadratic_layer`] runs on this device (else use the composed layer).
pub fn is_supported(device: &Device) -> bool {
    match device.clone().without_autodiff().as_dispatch() {
        DispatchDevice::Flex(_) => true,
        #[cfg(feature = "gpu-kernels")]
        DispatchDevice::Cube(_) => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// The fused layer on tensors; see the module documentation. Only on devices for which
/// [`is_supported`] holds.
pub fn quadratic_layer(
    x: Tensor<2>,
    weight: Tensor<2>,
    bias: Tensor<1>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    spec: QuadraticSpec,
) -> (Tensor<2>, Tensor<2>) {
    let (y, stats) = Dispatch::quadratic_layer(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        spec,
    );
    (Tensor::from_dispatch(y), Tensor::from_dispatch(stats))
}

impl QuadraticOps for Flex {
    fn quadratic_layer(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        spec: QuadraticSpec,
    ) -> (FlexTensor, FlexTensor) {
        let (y, stats, _) = <Flex as QuadraticKernels>::quadratic_forward(
            x, weight, bias, gamma, beta, &spec, false,
        );
        (y, stats)
    }
}

fn values(t: FlexTensor) -> Vec<f32> {
    t.into_data()
        .try_into_vec::<f32>()
        .expect("the fused quadratic layer runs in f32")
}

fn tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.into()))
}

impl QuadraticKernels for Flex {
    type Saved = Arc<cpu::Saved>;

    fn quadratic_forward(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        spec: &QuadraticSpec,
        save: bool,
    ) -> (FlexTensor, FlexTensor, Option<Self::Saved>) {
        let batch = x.layout().shape()[0];
        let geometry = cpu::Geometry::new(spec, batch);
        let (d, dr) = (geometry.width, geometry.gates());
        let x = values(x);
        // Overwritten by the product.
        let mut pre = pool::take::<f32>(batch * dr);
        gemm::matmul(&mut pre, &x, &values(weight), [batch, d, dr]);
        let (y, stats, saved) = cpu::forward(
            &geometry,
            spec,
            &x,
            pre,
            &values(bias),
            &values(gamma),
            &values(beta),
            save,
        );
        let passes = spec.passes.len();
        (
            tensor(y, [passes * batch, d]),
            tensor(stats, [2, dr]),
            saved.map(Arc::new),
        )
    }

    fn quadratic_backward(
        x: FlexTensor,
        weight: FlexTensor,
        gamma: FlexTensor,
        saved: &Self::Saved,
        spec: &QuadraticSpec,
        grad_out: FlexTensor,
    ) -> QuadraticGrads<Self> {
        let batch = x.layout().shape()[0];
        let geometry = cpu::Geometry::new(spec, batch);
        let (d, dr) = (geometry.width, geometry.gates());
        let x = values(x);
        let mut grads = cpu::backward(
            &geometry,
            spec,
            saved,
            &x,
            &values(gamma),
            &values(grad_out),
        );
        let mut weight_grad = vec![0f32; d * dr];
        gemm::matmul_lhs_transposed(&mut weight_grad, &x, &grads.pre_grad, [d, batch, dr]);
        gemm::add_matmul_rhs_transposed(
            &mut grads.x,
            &grads.pre_grad,
            &values(weight),
            [batch, dr, d],
        );
        pool::give(std::mem::take(&mut grads.pre_grad));
        QuadraticGrads {
            x: tensor(grads.x, [batch, d]),
            weight: tensor(weight_grad, [d, dr]),
            bias: tensor(grads.bias, [dr]),
            gamma: tensor(grads.gamma, [dr]),
            beta: tensor(grads.beta, [dr]),
        }
    }
}
