//! The fused layer's backward pass, registered with Burn's autodiff.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::{Norm, QuadraticKernels, QuadraticOps, QuadraticSpec};

#[derive(Debug)]
struct QuadraticBackward;

impl<B: QuadraticKernels> Backward<B, 5> for QuadraticBackward {
    /// x, W, γ, the kernel's saved state and the call's spec.
    type State = (
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        B::Saved,
        QuadraticSpec,
    );

    fn backward(self, ops: Ops<Self::State, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x, weight, bias, gamma, beta] = ops.parents;
        let grad_out = grads.consume::<B>(&ops.node);
        let (x_value, weight_value, gamma_value, saved, spec) = ops.state;
        let g = B::quadratic_backward(x_value, weight_value, gamma_value, &saved, &spec, grad_out);
        for (node, grad) in [(x, g.x), (weight, g.weight), (bias, g.bias)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
        if spec.norm != Norm::None {
            for (node, grad) in [(gamma, g.gamma), (beta, g.beta)] {
                if let Some(node) = node {
                    grads.register::<B>(node.id, grad);
                }
            }
        }
    }
}

impl<B: QuadraticKernels, C: CheckpointStrategy> QuadraticOps for Autodiff<B, C> {
    fn quadratic_layer(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        spec: QuadraticSpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (x, x_node) = x.into_parts();
        let (weight, weight_node) = weight.into_parts();
        let (bias, bias_node) = bias.into_parts();
        let (gamma, gamma_node) = gamma.into_parts();
        let (beta, beta_node) = beta.into_parts();
        let prep = QuadraticBackward
            .prepare::<C>([x_node, weight_node, bias_node, gamma_node, beta_node])
            .compute_bound()
            .stateful();
        match prep {
            OpsKind::Tracked(prep) => {
                let (y, stats, saved) = B::quadratic_forward(
                    x.clone(),
                    weight.clone(),
                    bias,
                    gamma.clone(),
                    beta,
                    &spec,
                    true,
                );
                let saved = saved.expect("the forward saves when asked to");
                (
                    prep.finish((x, weight, gamma, saved, spec), y),
                    <FloatTensor<Self>>::new(stats),
                )
            }
            OpsKind::UnTracked(prep) => {
                let (y, stats, _) =
                    B::quadratic_forward(x, weight, bias, gamma, beta, &spec, false);
                (prep.finish(y), <FloatTensor<Self>>::new(stats))
            }
        }
    }
}
