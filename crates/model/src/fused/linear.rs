//! `nn.Linear` — y = x·W + b — as one operation with its own backward on Burn's CPU backend,
//! on the same GEMM as the fused quadratic layer (faer natively, split over rayon's threads).
//! Burn's own CPU matmul takes 2–2.8 times as long on an MLP's shapes (x [4096, 400] by W [400,
//! 500], 2 threads: 15–21 ms per product against 7–7.5 ms), and the model zoo's MLP networks
//! spend their steps in those products. Other devices compose `x.matmul(W) + b` ([`linear`]
//! chooses).

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, DispatchDevice, backend_extension};
use burn::tensor::Tensor;

use super::{gemm, tensor, values};

/// x [B, in] · W [in, out] + b [out], as one backend operation.
#[backend_extension(Autodiff, Flex)]
pub trait LinearOps: Backend {
    fn fused_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// `x·weight + bias` for x [B, in], weight [in, out], bias [out]: the fused operation on the CPU
/// backend, Burn's composed one elsewhere. Same values either way (to rounding).
pub fn linear(x: Tensor<2>, weight: Tensor<2>, bias: Tensor<1>) -> Tensor<2> {
    let on_cpu = matches!(
        x.device().without_autodiff().as_dispatch(),
        DispatchDevice::Flex(_)
    );
    if on_cpu {
        Tensor::from_dispatch(Dispatch::fused_linear(
            x.into_dispatch(),
            weight.into_dispatch(),
            bias.into_dispatch(),
        ))
    } else {
        composed(x, weight, bias)
    }
}

/// The composed version: the oracle of the tests, and the path on other devices.
pub fn composed(x: Tensor<2>, weight: Tensor<2>, bias: Tensor<1>) -> Tensor<2> {
    x.matmul(weight) + bias.unsqueeze_dim::<2>(0)
}

fn dims(x: &FlexTensor, weight: &FlexTensor) -> [usize; 3] {
    let rows = x.layout().shape()[0];
    let w = weight.layout().shape();
    [rows, w[0], w[1]]
}

impl LinearOps for Flex {
    fn fused_linear(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
        let [rows, input, output] = dims(&x, &weight);
        let mut y = vec![0.0; rows * output];
        gemm::matmul(&mut y, &values(x), &values(weight), [rows, input, output]);
        let bias = values(bias);
        for row in y.chunks_exact_mut(output) {
            for (v, b) in row.iter_mut().zip(&bias) {
                *v += b;
            }
        }
        tensor(y, [rows, output])
    }
}

#[derive(Debug)]
struct LinearBackward;

impl Backward<Flex, 3> for LinearBackward {
    /// x and W.
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, weight_node, bias_node] = ops.parents;
        let (x, weight) = ops.state;
        let [rows, input, output] = dims(&x, &weight);
        let dy = values(grads.consume::<Flex>(&ops.node));
        if let Some(node) = x_node {
            // dx = dy·Wᵀ
            let mut dx = vec![0.0; rows * input];
            gemm::add_matmul_rhs_transposed(&mut dx, &dy, &values(weight), [rows, output, input]);
            grads.register::<Flex>(node.id, tensor(dx, [rows, input]));
        }
        if let Some(node) = weight_node {
            // dW = xᵀ·dy
            let mut dw = vec![0.0; input * output];
            gemm::matmul_lhs_transposed(&mut dw, &values(x), &dy, [input, rows, output]);
            grads.register::<Flex>(node.id, tensor(dw, [input, output]));
        }
        if let Some(node) = bias_node {
            let mut db = vec![0.0; output];
            for row in dy.chunks_exact(output) {
                for (d, g) in db.iter_mut().zip(row) {
                    *d += g;
                }
            }
            grads.register::<Flex>(node.id, tensor(db, [output]));
        }
    }
}

impl<C: CheckpointStrategy> LinearOps for Autodiff<Flex, C> {
    fn fused_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (x, x_node) = x.into_parts();
        let (weight, weight_node) = weight.into_parts();
        let (bias, bias_node) = bias.into_parts();
        match LinearBackward
            .prepare::<C>([x_node, weight_node, bias_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = Flex::fused_linear(x.clone(), weight.clone(), bias);
                prep.finish((x, weight), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::fused_linear(x, weight, bias)),
        }
    }
}
