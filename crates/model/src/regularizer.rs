//! FuxiCTR's regularizers (spec §C.8): Σ (λ/p)·‖θ‖_p^p over whole tensors, p ∈ {1, 2}.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// λ₁·Σ|θ| + (λ₂/2)·Σθ².
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Regularizer {
    pub l1: f64,
    pub l2: f64,
}

impl Regularizer {
    pub const NONE: Regularizer = Regularizer { l1: 0.0, l2: 0.0 };

    /// A bare number: an L2 weight, as FuxiCTR reads a float.
    pub fn l2(weight: f64) -> Self {
        Self {
            l1: 0.0,
            l2: weight,
        }
    }

    /// FuxiCTR's spellings: a number (`0.1`, `1.e-3`, `1e-5`), `l2(x)`, `l1(x)`, `l1_l2(a, b)`.
    /// `key` names the config key in errors.
    pub fn parse(key: &'static str, text: &str) -> Result<Self, ModelError> {
        let bad = || ModelError::Config {
            key,
            reason: format!("`{text}` is not a number, l1(x), l2(x) or l1_l2(a, b)"),
        };
        let number = |s: &str| -> Result<f64, ModelError> {
            let v: f64 = s.trim().parse().map_err(|_| bad())?;
            if v.is_finite() && v >= 0.0 {
                Ok(v)
            } else {
                Err(bad())
            }
        };
        let text_trim = text.trim();
        let call = |name: &str| {
            text_trim
                .strip_prefix(name)
                .and_then(|rest| rest.trim_start().strip_prefix('('))
                .and_then(|rest| rest.strip_suffix(')'))
        };
        if let Some(args) = call("l1_l2") {
            let (a, b) = args.split_once(',').ok_or_else(bad)?;
            return Ok(Self {
                l1: number(a)?,
                l2: number(b)?,
            });
        }
        if let Some(arg) = call("l1") {
            return Ok(Self {
                l1: number(arg)?,
                l2: 0.0,
            });
        }
        if let Some(arg) = call("l2") {
            return Ok(Self::l2(number(arg)?));
        }
        Ok(Self::l2(number(text_trim)?))
    }

    pub fn is_zero(&self) -> bool {
        self.l1 == 0.0 && self.l2 == 0.0
    }

    /// The penalty on one tensor, [1].
    pub fn penalty<const D: usize>(&self, theta: Tensor<D>) -> Tensor<1> {
        let mut terms = Vec::with_capacity(2);
        if self.l1 != 0.0 {
            terms.push(theta.clone().abs().sum().mul_scalar(self.l1));
        }
        if self.l2 != 0.0 {
            terms.push(theta.square().sum().mul_scalar(self.l2 / 2.0));
        }
        terms
            .into_iter()
            .reduce(|a, b| a + b)
            .expect("penalty is only asked of non-zero regularizers")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fuxictr_spellings() {
        assert_eq!(Regularizer::parse("k", "0").unwrap(), Regularizer::NONE);
        assert_eq!(
            Regularizer::parse("k", "1.e-3").unwrap(),
            Regularizer::l2(1e-3)
        );
        assert_eq!(
            Regularizer::parse("k", "1e-5").unwrap(),
            Regularizer::l2(1e-5)
        );
        assert_eq!(
            Regularizer::parse("k", "l2(0.1)").unwrap(),
            Regularizer::l2(0.1)
        );
        assert_eq!(
            Regularizer::parse("k", "l1(0.5)").unwrap(),
            Regularizer { l1: 0.5, l2: 0.0 }
        );
        assert_eq!(
            Regularizer::parse("k", "l1_l2(1e-3, 2e-3)").unwrap(),
            Regularizer { l1: 1e-3, l2: 2e-3 }
        );
        let err = Regularizer::parse("net_regularizer", "l3(1)")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("net_regularizer") && err.contains("l3(1)"),
            "{err}"
        );
        assert!(Regularizer::parse("k", "-1").is_err());
        assert!(Regularizer::parse("k", "NaN").is_err());
    }
}
