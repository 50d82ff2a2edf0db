//! One quadratic layer (spec §A.3): y = x_π ⊙ Σ_r ReLU(BN(W x + b))_r + x.
//!
//! The whole layer is one function of (x, parameters, dropout mask), so that a fused kernel with its
//! own backward can replace [`QuadraticLayer::forward`] without touching the rest of the model.

use std::cell::RefCell;

use burn::module::{Module, Param, RunningState};
use burn::tensor::module::batch_norm;
use burn::tensor::{Int, Tensor, TensorData, activation::relu};
use qnn_data::random::{self, Purpose};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

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

    /// Eval-mode batch norm as a per-channel affine map BN(z) = scale·z + shift.
    pub fn eval_affine(&self) -> (Tensor<1>, Tensor<1>) {
        let scale = self.gamma.val() / self.running_var.value().add_scalar(BATCH_NORM_EPS).sqrt();
        let shift = self.beta.val() - self.running_mean.value() * scale.clone();
        (scale, shift)
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
            Mode::Train(_) => {
                let n = h.dims()[0] as f64;
                // Composed from row reductions and broadcasts: on the CPU backend this is ~3× faster
                // forward and ~1.7× faster with its backward than Burn's `batch_norm_train`, which
                // transposes the activations to reduce them.
                let batch_mean = h.clone().mean_dim(0); // [1, C]
                let centered = h - batch_mean.clone();
                let batch_var = (centered.clone() * centered.clone()).mean_dim(0); // biased
                let scale = batch_var.clone().add_scalar(BATCH_NORM_EPS).sqrt().recip()
                    * self.gamma.val().unsqueeze_dim::<2>(0);
                let out = centered * scale + self.beta.val().unsqueeze_dim::<2>(0);

                let channels = batch_mean.dims()[1];
                let unbiased = if n > 1.0 { n / (n - 1.0) } else { 1.0 };
                let m = BATCH_NORM_MOMENTUM;
                let mean = self.running_mean.value_sync().mul_scalar(1.0 - m)
                    + batch_mean.detach().reshape([channels]).mul_scalar(m);
                let var = self.running_var.value_sync().mul_scalar(1.0 - m)
                    + batch_var
                        .detach()
                        .reshape([channels])
                        .mul_scalar(m * unbiased);
                self.running_mean.update(mean.detach());
                self.running_var.update(var.detach());
                out
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

/// Source of dropout masks: a seeded ChaCha8 stream owned by whoever trains.
///
/// Masks are drawn on the host rather than by the backend's RNG: the stream belongs to one
/// training run (Burn's CPU backend has a single process-wide RNG that concurrent runs would
/// share), is the same natively and in wasm, and is ~3× faster than `random_like` on the CPU
/// backend.
#[derive(Debug)]
pub struct DropoutRng {
    rng: RefCell<ChaCha8Rng>,
}

impl DropoutRng {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: RefCell::new(random::stream(seed, Purpose::Dropout)),
        }
    }

    /// Inverted-dropout mask: 1/(1−p) with probability 1−p, else 0.
    pub fn mask(&self, shape: [usize; 2], p: f64, device: &burn::tensor::Device) -> Tensor<2> {
        let keep = 1.0 - p;
        // P(u32 < threshold) = keep, exact to 2⁻³².
        let threshold = (keep * 4_294_967_296.0).round().min(u32::MAX as f64) as u32;
        let scale = (1.0 / keep) as f32;
        let mut bits = vec![0u32; shape[0] * shape[1]];
        self.rng.borrow_mut().fill(&mut bits[..]);
        let values: Vec<f32> = bits
            .into_iter()
            .map(|r| if r < threshold { scale } else { 0.0 })
            .collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }
}

/// Inverted dropout, active in training only.
pub fn dropout_forward(x: Tensor<2>, mode: Mode, p: f64) -> Tensor<2> {
    match mode {
        Mode::Train(rng) if p > 0.0 => {
            let mask = rng.mask(x.dims(), p, &x.device());
            x * mask
        }
        _ => x,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn training_batch_norm_matches_burns_and_updates_running_stats_like_pytorch() {
        let device = Device::flex();
        let h = Tensor::<2>::random([64, 5], Distribution::Normal(1.0, 2.0), &device);
        let gamma = Tensor::<1>::random([5], Distribution::Normal(1.0, 0.5), &device);
        let beta = Tensor::<1>::random([5], Distribution::Normal(0.0, 0.5), &device);
        let bn = BatchNorm::new(
            gamma.clone(),
            beta.clone(),
            Tensor::zeros([5], &device),
            Tensor::ones([5], &device),
        );
        let rng = DropoutRng::new(0);
        let ours = values(bn.forward(h.clone(), Mode::Train(&rng)));
        let reference =
            burn::tensor::module::batch_norm_train(h.clone(), gamma, beta, BATCH_NORM_EPS);
        for (a, b) in ours.iter().zip(values(reference.output)) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        // running = 0.9·running + 0.1·batch statistic, with the unbiased variance.
        let mean = values(reference.mean);
        let var = values(reference.variance);
        let running_mean = values(bn.running_mean.value_sync());
        let running_var = values(bn.running_var.value_sync());
        for c in 0..5 {
            assert!((running_mean[c] - 0.1 * mean[c]).abs() < 1e-5);
            let expected = 0.9 + 0.1 * var[c] * 64.0 / 63.0;
            assert!(
                (running_var[c] - expected).abs() < 1e-5,
                "{} vs {expected}",
                running_var[c]
            );
        }
    }

    #[test]
    fn dropout_masks_keep_the_expected_fraction_and_are_seeded() {
        let device = Device::flex();
        let rng = DropoutRng::new(42);
        let m = values(rng.mask([100, 100], 0.1, &device));
        let kept = m.iter().filter(|&&v| v != 0.0).count() as f64 / 1e4;
        assert!((kept - 0.9).abs() < 0.02, "{kept}");
        assert!(m.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.9).abs() < 1e-6));
        let again = values(DropoutRng::new(42).mask([100, 100], 0.1, &device));
        assert_eq!(m, again);
        let next = values(rng.mask([100, 100], 0.1, &device));
        assert_ne!(m, next);
    }

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
