//! The task's output and loss: FuxiCTR's `task` and `loss` (baselines spec §1.6), and QNN's
//! Self-Ensemble loss built on that loss (spec §A.5).

use burn::tensor::Tensor;
use burn::tensor::activation::sigmoid;
pub use qnn_data::Task;
use serde::{Deserialize, Serialize};

/// FuxiCTR's `loss`, by the names its `BaseModel` accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// PyTorch's `binary_cross_entropy` on probabilities, batch mean.
    #[default]
    BinaryCrossentropy,
    /// `torch.nn.functional.mse_loss`, batch mean.
    MseLoss,
}

impl Loss {
    /// The names a config may use for each loss.
    pub const NAMES: &'static [&'static str] = match qnn_keys::LOSS.kind {
        qnn_keys::Kind::Choice(names) => names,
        _ => panic!("`loss` is a choice"),
    };

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "binary_crossentropy" | "bce" | "binary_cross_entropy" => {
                Some(Loss::BinaryCrossentropy)
            }
            "mse_loss" => Some(Loss::MseLoss),
            _ => None,
        }
    }

    /// The loss a task gets when the config names none.
    pub fn for_task(task: Task) -> Self {
        Loss::parse(task.default_loss()).expect("each task's default loss is a loss")
    }

    /// Why this loss cannot train `task`, if it cannot: cross-entropy needs outputs in [0, 1],
    /// which a regression's identity output is not. (MSE on probabilities is FuxiCTR-legal.)
    pub fn unfit_for(self, task: Task) -> Option<String> {
        (self == Loss::BinaryCrossentropy && task == Task::Regression).then(|| {
            "binary_crossentropy needs probabilities, and task: regression has no output \
             sigmoid; use mse_loss"
                .to_string()
        })
    }

    /// Batch mean of the loss of outputs `y` against (possibly soft) targets `t`, [1].
    pub fn of(self, y: Tensor<1>, t: Tensor<1>) -> Tensor<1> {
        match self {
            Loss::BinaryCrossentropy => bce(y, t),
            Loss::MseLoss => (y - t).powi_scalar(2).mean(),
        }
    }
}

/// The model's output for `task` from its logits: σ for binary classification, the logit
/// itself for regression (FuxiCTR's `output_activation`).
pub fn output(task: Task, logits: Tensor<1>) -> Tensor<1> {
    match task {
        Task::BinaryClassification => sigmoid(logits),
        Task::Regression => logits,
    }
}

/// PyTorch's BCE clamps each log at −100, so a certain wrong prediction costs 100. The log is
/// taken of the probability clamped at the smallest normal f32 (log ≈ −87.3, so the backward
/// has no 0·∞ even where subnormals flush to zero), and set to −100 below it: the value of
/// PyTorch's for p = 0 or 1, with the gradient and the rounding of every other case unchanged.
/// (PyTorch's clamp reaches −100 only for subnormal p, which GPUs flush to zero.)
const MIN_PROB: f32 = f32::MIN_POSITIVE;
const MIN_LOG: f32 = -100.0;

/// loss(ȳ, y) + loss(y₁, sg(ȳ)) + loss(y₂, sg(ȳ)) with ȳ = (y₁ + y₂)/2, [1]: the authors'
/// BCE(p̄, y) + BCE(p₁, sg(p̄)) + BCE(p₂, sg(p̄)) with the task's loss in place of BCE.
pub fn self_ensemble_loss(
    y1: Tensor<1>,
    y2: Tensor<1>,
    labels: Tensor<1>,
    loss: Loss,
) -> Tensor<1> {
    let mean = (y1.clone() + y2.clone()).mul_scalar(0.5);
    let target = mean.clone().detach();
    loss.of(mean, labels) + loss.of(y1, target.clone()) + loss.of(y2, target)
}

/// Mean binary cross-entropy of probabilities `p` against (possibly soft) targets `t`, [1].
pub fn bce(p: Tensor<1>, t: Tensor<1>) -> Tensor<1> {
    let clamped_log = |q: Tensor<1>| {
        let below = q.clone().lower_elem(MIN_PROB);
        q.clamp_min(MIN_PROB).log().mask_fill(below, MIN_LOG)
    };
    let log_p = clamped_log(p.clone());
    let log_q = clamped_log(p.neg().add_scalar(1.0));
    let nll = t.clone() * log_p + t.neg().add_scalar(1.0) * log_q;
    nll.mean().neg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn vector(v: &[f64], device: &Device) -> Tensor<1> {
        let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        let n = v.len();
        Tensor::from_data(TensorData::new(v, [n]), device)
    }

    fn bce(q: f64, t: f64) -> f64 {
        -(t * q.ln() + (1.0 - t) * (1.0 - q).ln())
    }

    #[test]
    fn certain_wrong_predictions_cost_100_as_in_pytorch_with_finite_gradients() {
        let device = Device::flex().autodiff();
        let p = vector(&[0.0, 1.0, 0.0, 0.25], &device).require_grad();
        let t = vector(&[1.0, 0.0, 0.0, 1.0], &device);
        let loss = super::bce(p.clone(), t);
        let value = loss.clone().into_data().try_to_vec::<f32>().unwrap()[0];
        // torch.nn.functional.binary_cross_entropy: (100 + 100 + 0 − ln 0.25) / 4.
        let expected = (200.0 - 0.25f64.ln()) / 4.0;
        assert!(
            (f64::from(value) - expected).abs() < 1e-5,
            "{value} vs {expected}"
        );
        let g = p
            .grad(&loss.backward())
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(g.iter().all(|v| v.is_finite()), "{g:?}");
        assert!(
            (f64::from(g[3]) - (-1.0 / 0.25 / 4.0)).abs() < 1e-6,
            "{g:?}"
        );
    }

    /// The two distillation terms act only when the dropout passes disagree (p₁ ≠ p₂), so a
    /// replay without dropout cannot check them: their value and gradient, by hand.
    #[test]
    fn self_ensemble_loss_and_gradient_when_the_passes_disagree() {
        let device = Device::flex().autodiff();
        let (p1v, p2v, y) = ([0.2, 0.7, 0.9], [0.4, 0.5, 0.6], [0.0, 1.0, 1.0]);
        let p1 = vector(&p1v, &device).require_grad();
        let p2 = vector(&p2v, &device).require_grad();
        let labels = vector(&y, &device);
        let loss = self_ensemble_loss(p1.clone(), p2.clone(), labels, Loss::BinaryCrossentropy);
        let n = 3.0;
        let m: Vec<f64> = (0..3).map(|i| (p1v[i] + p2v[i]) / 2.0).collect();
        let expected: f64 = (0..3)
            .map(|i| bce(m[i], y[i]) + bce(p1v[i], m[i]) + bce(p2v[i], m[i]))
            .sum::<f64>()
            / n;
        let value = loss.clone().into_data().try_to_vec::<f32>().unwrap()[0] as f64;
        assert!((value - expected).abs() < 1e-5, "{value} vs {expected}");

        let grads = loss.backward();
        // ∂/∂pₖ = [½·(m−y)/(m(1−m)) + (pₖ−m)/(pₖ(1−pₖ))] / n, with m a constant in the second term.
        let by_hand = |p: &[f64; 3], i: usize| {
            (0.5 * (m[i] - y[i]) / (m[i] * (1.0 - m[i])) + (p[i] - m[i]) / (p[i] * (1.0 - p[i])))
                / n
        };
        for (p, pv) in [(&p1, &p1v), (&p2, &p2v)] {
            let g = p
                .grad(&grads)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            for (i, &got) in g.iter().enumerate() {
                let want = by_hand(pv, i);
                assert!(
                    (got as f64 - want).abs() < 1e-5,
                    "grad {i}: {got} vs {want}"
                );
            }
        }
    }

    /// With MSE the consistency terms pull each pass towards the detached mean: by hand,
    /// L = mean[(m−y)² + (y₁−m)² + (y₂−m)²] and ∂L/∂yₖ = [(m−y) + 2(yₖ−m)]/n.
    #[test]
    fn self_ensemble_loss_with_mse_by_hand() {
        let device = Device::flex().autodiff();
        let (y1v, y2v, y) = ([0.5, -1.0, 3.0], [1.5, -2.0, 2.0], [1.0, 0.0, 2.0]);
        let y1 = vector(&y1v, &device).require_grad();
        let y2 = vector(&y2v, &device).require_grad();
        let loss = self_ensemble_loss(y1.clone(), y2.clone(), vector(&y, &device), Loss::MseLoss);
        let m: Vec<f64> = (0..3).map(|i| (y1v[i] + y2v[i]) / 2.0).collect();
        let expected: f64 = (0..3)
            .map(|i| (m[i] - y[i]).powi(2) + (y1v[i] - m[i]).powi(2) + (y2v[i] - m[i]).powi(2))
            .sum::<f64>()
            / 3.0;
        let value = loss.clone().into_data().try_to_vec::<f32>().unwrap()[0] as f64;
        assert!((value - expected).abs() < 1e-5, "{value} vs {expected}");
        let grads = loss.backward();
        for (t, tv) in [(&y1, &y1v), (&y2, &y2v)] {
            let g = t
                .grad(&grads)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            for i in 0..3 {
                let want = ((m[i] - y[i]) + 2.0 * (tv[i] - m[i])) / 3.0;
                assert!(
                    (f64::from(g[i]) - want).abs() < 1e-5,
                    "grad {i}: {} vs {want}",
                    g[i]
                );
            }
        }
    }

    #[test]
    fn the_output_is_a_probability_for_classification_and_the_logit_for_regression() {
        let device = Device::flex();
        let logits = vector(&[-2.0, 0.0, 3.5], &device);
        let p = output(Task::BinaryClassification, logits.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!((p[1] - 0.5).abs() < 1e-7 && p[0] < 0.5 && p[2] > 0.5);
        let r = output(Task::Regression, logits)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(r, vec![-2.0, 0.0, 3.5]);
        assert!(
            Loss::BinaryCrossentropy
                .unfit_for(Task::Regression)
                .is_some()
        );
        assert!(
            Loss::MseLoss
                .unfit_for(Task::BinaryClassification)
                .is_none()
        );
        for name in Loss::NAMES {
            assert!(Loss::parse(name).is_some(), "{name}");
        }
    }
}
