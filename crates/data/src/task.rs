//! What the label is: FuxiCTR's `task` (`binary_classification` or `regression`).

use serde::{Deserialize, Serialize};

/// FuxiCTR's `task`: it decides the model's output activation (σ or none), which labels are
/// valid and which metrics mean anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Labels 0 or 1; the output is a probability, σ(logit).
    #[default]
    BinaryClassification,
    /// Any finite label; the output is the logit itself.
    Regression,
}

impl Task {
    pub const NAMES: &'static [&'static str] = &["binary_classification", "regression"];

    /// FuxiCTR's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Task::BinaryClassification => "binary_classification",
            Task::Regression => "regression",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "binary_classification" => Some(Task::BinaryClassification),
            "regression" => Some(Task::Regression),
            _ => None,
        }
    }

    pub fn is_binary(&self) -> bool {
        *self == Task::BinaryClassification
    }

    /// FuxiCTR's name of the loss a run of this task trains with when `loss` is left out.
    pub fn default_loss(self) -> &'static str {
        match self {
            Task::BinaryClassification => "binary_crossentropy",
            Task::Regression => "mse_loss",
        }
    }

    /// The name of the column a prediction adds to a CSV (`qnn predict`, the page).
    pub fn prediction_column(self) -> &'static str {
        match self {
            Task::BinaryClassification => "probability",
            Task::Regression => "prediction",
        }
    }

    /// `value` as a label of this task, or what it is not (to follow the value in a message).
    pub fn label(self, value: f64) -> Result<f32, &'static str> {
        match self {
            Task::BinaryClassification if value == 0.0 || value == 1.0 => Ok(value as f32),
            Task::BinaryClassification => Err("is not 0 or 1 (task: regression takes any number)"),
            // f32 is what the model sees: a finite f64 beyond its range would become ±inf.
            Task::Regression if value.is_finite() && value.abs() <= f64::from(f32::MAX) => {
                Ok(value as f32)
            }
            Task::Regression => Err("is not a finite number within f32's range"),
        }
    }

    /// The first label of `labels` that is not one of this task's: its index and why.
    pub fn check_labels(self, labels: &[f32]) -> Result<(), (usize, String)> {
        match labels.iter().enumerate().find_map(|(i, &y)| {
            self.label(f64::from(y))
                .err()
                .map(|e| (i, format!("{y} {e}")))
        }) {
            Some(bad) => Err(bad),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_labels_are_zero_or_one_and_regression_labels_any_finite_f32() {
        let b = Task::BinaryClassification;
        assert_eq!(b.label(1.0), Ok(1.0));
        assert_eq!(
            b.label(0.5),
            Err("is not 0 or 1 (task: regression takes any number)")
        );
        let r = Task::Regression;
        assert_eq!(r.label(-3.25), Ok(-3.25));
        assert!(r.label(f64::NAN).is_err());
        assert!(r.label(1e39).is_err(), "beyond f32 it would become inf");
        assert_eq!(
            b.check_labels(&[0.0, 1.0, 2.0]),
            Err((
                2,
                "2 is not 0 or 1 (task: regression takes any number)".to_string()
            ))
        );
        assert!(r.check_labels(&[0.0, 1.0, 2.0]).is_ok());
    }

    #[test]
    fn names_round_trip_and_serde_uses_fuxictrs_spelling() {
        for &name in Task::NAMES {
            assert_eq!(Task::parse(name).unwrap().name(), name);
        }
        assert_eq!(
            serde_json::to_string(&Task::Regression).unwrap(),
            "\"regression\""
        );
        assert_eq!(Task::parse("classification"), None);
    }
}
