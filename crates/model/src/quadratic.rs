//! One quadratic layer (spec §A.3): y = x_π ⊙ Σ_r ReLU(BN(W x + b))_r + x.
//!
//! The whole layer is one function of (x, parameters, dropout mask), so that a fused kernel with its
//! own backward can replace [`QuadraticLayer::forward`] without touching the rest of the model.

use burn::module::{Module, Param, RunningState};
use burn::tensor::module::{batch_norm, batch_norm_train};
use burn::tensor::{Distribution, Int, Tensor, TensorData, activation::relu};

use crate::Mode;

pub const BATCH_NORM_EPS: f64 = 1e-5;
pub const BATCH_NORM_MOMENTUM: f64 = 0.1;

/// BatchNorm1d over the D·R channels, PyTorch semantics (biased variance to normalise, unbiased
/// variance in the running estimate).
#[derive(Module, Debug)]
pub struct BatchNorm {
    pub gamma: Param<Tensor<1>>,
    pub beta: Param<Tensor<1>>,
    pub running_mean: RunningState<Tensor<1>>,
    pub running_var: RunningState<Tensor<1>>,
}

impl BatchNorm {
    pub fn new(gamma: Tensor<1>, beta: Tensor<1>, mean: Tensor<1>, var: Tensor<1>) -> Self {
        Self {
            gamma: Param::from_tensor(gamma),
            beta: Param::from_tensor(beta),
            running_mean: RunningState::new(mean),
            running_var: RunningState::new(var),
        }
    }

    pub fn forward(&self, h: Tensor<2>, mode: Mode) -> Tensor<2> {
        match mode {
            Mode::Eval => batch_norm(
                h,
                self.gamma.val(),
                self.beta.val(),
                self.running_mean.value(),
                self.running_var.value(),
                BATCH_NORM_EPS,
            ),
            Mode::Train => {
                let n = h.dims()[0] as f64;
                let out = batch_norm_train(h, self.gamma.val(), self.beta.val(), BATCH_NORM_EPS);
                let unbiased = if n > 1.0 { n / (n - 1.0) } else { 1.0 };
                let m = BATCH_NORM_MOMENTUM;
                let mean = self.running_mean.value_sync().mul_scalar(1.0 - m)
                    + out.mean.detach().mul_scalar(m);
                let var = self.running_var.value_sync().mul_scalar(1.0 - m)
                    + out.variance.detach().mul_scalar(m * unbiased);
                self.running_mean.update(mean.detach());
                self.running_var.update(var.detach());
                out.output
            }
        }
    }
}

/// Input index read by each output position o = h·d + j (spec §A.3 step 4): π(h, f·s + k) =
/// f·E + h·s + k. The identity when there is one head.
pub fn head_permutation(num_fields: usize, embedding_dim: usize, num_heads: usize) -> Vec<usize> {
    let s = embedding_dim / num_heads;
    let mut perm = Vec::with_capacity(num_fields * embedding_dim);
    for h in 0..num_heads {
        for f in 0..num_fields {
            for k in 0..s {
                perm.push(f * embedding_dim + h * s + k);
            }
        }
    }
    perm
}

#[derive(Module, Debug)]
pub struct QuadraticLayer {
    /// [D, D·R] (the transpose of PyTorch's Linear weight); column (h, r, j) ↦ h·R·d + r·d + j.
    pub weight: Param<Tensor<2>>,
    pub bias: Param<Tensor<1>>,
    pub batch_norm: Option<BatchNorm>,
    /// π as an index tensor; `None` for one head (identity).
    pub head_inputs: Option<Tensor<1, Int>>,
    #[module(skip)]
    pub num_heads: usize,
    #[module(skip)]
    pub num_row: usize,
}

impl QuadraticLayer {
    pub fn new(
        weight: Tensor<2>,
        bias: Tensor<1>,
        batch_norm: Option<BatchNorm>,
        num_fields: usize,
        embedding_dim: usize,
        num_heads: usize,
        num_row: usize,
    ) -> Self {
        let device = weight.device();
        let head_inputs = (num_heads > 1).then(|| {
            let perm: Vec<i64> = head_permutation(num_fields, embedding_dim, num_heads)
                .into_iter()
                .map(|p| p as i64)
                .collect();
            let n = perm.len();
            Tensor::from_data(TensorData::new(perm, [n]), &device)
        });
        Self {
            weight: Param::from_tensor(weight),
            bias: Param::from_tensor(bias),
            batch_norm,
            head_inputs,
            num_heads,
            num_row,
        }
    }

    /// ReLU(BN(W x + b)) before dropout, [B, D·R]: the gates whose row sums multiply x_π.
    pub fn gates(&self, x: Tensor<2>, mode: Mode) -> Tensor<2> {
        let h = x.matmul(self.weight.val()) + self.bias.val().unsqueeze_dim::<2>(0);
        let h = match &self.batch_norm {
            Some(bn) => bn.forward(h, mode),
            None => h,
        };
        relu(h)
    }

    /// x_π: the input values that output positions multiply, [B, D].
    pub fn head_view(&self, x: Tensor<2>) -> Tensor<2> {
        match &self.head_inputs {
            Some(perm) => x.select(1, perm.clone()),
            None => x,
        }
    }

    /// Σ_r u[b, h, r, j], flattened head-major to [B, D].
    pub fn row_sum(&self, u: Tensor<2>) -> Tensor<2> {
        let [b, dr] = u.dims();
        let d = dr / self.num_row;
        let head_width = d / self.num_heads;
        u.reshape([b, self.num_heads, self.num_row, head_width])
            .sum_dim(2)
            .reshape([b, d])
    }

    pub fn forward(&self, x: Tensor<2>, mode: Mode, dropout: f64) -> Tensor<2> {
        let u = dropout_forward(self.gates(x.clone(), mode), mode, dropout);
        self.head_view(x.clone()) * self.row_sum(u) + x
    }
}

/// Inverted dropout, active in training only.
pub fn dropout_forward(x: Tensor<2>, mode: Mode, p: f64) -> Tensor<2> {
    if mode == Mode::Eval || p == 0.0 {
        return x;
    }
    let keep = 1.0 - p;
    let mask = x.random_like(Distribution::Bernoulli(keep));
    (x * mask).mul_scalar(1.0 / keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_matches_the_worked_example_of_the_spec() {
        // F=3, E=8, H=4 (s=2, d=6): head 0 reads {0,1,8,9,16,17}, head 1 reads {2,3,10,11,18,19},
        // and output 8 (h1, j2) reads x[10].
        let p = head_permutation(3, 8, 4);
        assert_eq!(&p[0..6], &[0, 1, 8, 9, 16, 17]);
        assert_eq!(&p[6..12], &[2, 3, 10, 11, 18, 19]);
        assert_eq!(p[8], 10);
        let mut sorted = p.clone();
        sorted.sort();
        assert_eq!(sorted, (0..24).collect::<Vec<_>>());
        assert_eq!(head_permutation(3, 8, 1), (0..24).collect::<Vec<_>>());
    }
}
