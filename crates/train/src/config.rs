//! Training hyper-parameters (FuxiCTR's `model_config.yaml` training keys, spec §B, §C.7).

use qnn_data::Metric;
use qnn_model::{Loss, Regularizer, Task};
use serde::{Deserialize, Serialize};

use crate::TrainError;

/// Whether a larger or a smaller monitor value is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MonitorMode {
    Max,
    Min,
}

/// Σ_k weight_k · metric_k, FuxiCTR's `monitor` (a metric name means weight 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    pub terms: Vec<(Metric, f64)>,
}

impl Monitor {
    pub fn metric(metric: Metric) -> Self {
        Self {
            terms: vec![(metric, 1.0)],
        }
    }

    /// The paper's `{AUC: 1, logloss: 0}`.
    pub fn paper() -> Self {
        Self {
            terms: vec![(Metric::Auc, 1.0), (Metric::Logloss, 0.0)],
        }
    }

    pub fn value(&self, metrics: &[(Metric, f64)]) -> f64 {
        self.terms
            .iter()
            .map(|(m, w)| {
                let v = metrics
                    .iter()
                    .find(|(k, _)| k == m)
                    .map(|(_, v)| *v)
                    .expect("evaluation computes every monitored metric");
                w * v
            })
            .sum()
    }
}

/// Everything the loop needs besides the model shape and the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub learning_rate: f64,
    pub batch_size: usize,
    /// Upper bound on epochs.
    pub epochs: usize,
    pub shuffle: bool,
    pub seed: u64,
    pub embedding_regularizer: Regularizer,
    pub net_regularizer: Regularizer,
    /// Metrics reported after training (FuxiCTR's `metrics`).
    pub metrics: Vec<Metric>,
    pub monitor: Monitor,
    pub monitor_mode: MonitorMode,
    pub early_stop_patience: usize,
    pub save_best_only: bool,
    /// Evaluate every this many steps; `None` = once per epoch.
    pub eval_steps: Option<usize>,
    /// Global L2 norm to clip gradients to.
    pub max_gradient_norm: f64,
    pub reduce_lr_on_plateau: bool,
    /// Read the training loss back from the device every this many steps (each read waits for
    /// the device; the running mean is exact either way).
    pub loss_read_interval: usize,
    /// Train with the Self-Ensemble loss (two dropout passes, spec §A.5); `false` is the paper's
    /// ablation: one pass and plain binary cross-entropy (`self_ensemble: False`).
    #[serde(default = "self_ensemble_default")]
    pub self_ensemble: bool,
    /// FuxiCTR's `loss` (runs written before regression existed trained on cross-entropy).
    #[serde(default)]
    pub loss: Loss,
}

/// Model files written before the key existed were trained with the Self-Ensemble loss.
fn self_ensemble_default() -> bool {
    true
}

impl Default for TrainConfig {
    /// The defaults of the seed's model-configuration table (`model_config.yaml`), and
    /// FuxiCTR 2.0.1's for the keys the table leaves out (gradient clipping at norm 10, the
    /// learning rate reduced on a plateau): what a key left out of a config means.
    fn default() -> Self {
        use qnn_keys as k;
        let metric = |name| Metric::parse(name).expect("the vocabulary's default metrics exist");
        Self {
            learning_rate: k::LEARNING_RATE.default.number(),
            batch_size: k::BATCH_SIZE.default.count(),
            epochs: k::EPOCHS.default.count(),
            shuffle: k::SHUFFLE.default.flag(),
            seed: k::SEED.default.count() as u64,
            embedding_regularizer: Regularizer::l2(k::EMBEDDING_REGULARIZER.default.number()),
            net_regularizer: Regularizer::l2(k::NET_REGULARIZER.default.number()),
            metrics: k::METRICS
                .default
                .texts()
                .iter()
                .map(|m| metric(m))
                .collect(),
            monitor: Monitor::metric(metric(k::MONITOR.default.text())),
            monitor_mode: match k::MONITOR_MODE.default.text() {
                "min" => MonitorMode::Min,
                _ => MonitorMode::Max,
            },
            early_stop_patience: k::EARLY_STOP_PATIENCE.default.count(),
            save_best_only: k::SAVE_BEST_ONLY.default.flag(),
            eval_steps: None,
            max_gradient_norm: k::MAX_GRADIENT_NORM.default.number(),
            reduce_lr_on_plateau: k::REDUCE_LR_ON_PLATEAU.default.flag(),
            loss_read_interval: 10,
            self_ensemble: k::SELF_ENSEMBLE.default.flag(),
            loss: Loss::parse(k::LOSS.default.text())
                .expect("the vocabulary's default loss exists"),
        }
    }
}

impl TrainConfig {
    /// The paper's Frappe settings (spec §B.1).
    pub fn paper_frappe() -> Self {
        Self {
            batch_size: 4096,
            seed: 2024,
            embedding_regularizer: Regularizer::l2(0.1),
            monitor: Monitor::paper(),
            ..Self::default()
        }
    }

    /// The browser's quick-demo preset (with `QnnConfig::quick_demo`).
    pub fn quick_demo() -> Self {
        Self {
            batch_size: 128,
            learning_rate: 1e-2,
            embedding_regularizer: Regularizer::l2(1e-5),
            ..Self::paper_frappe()
        }
    }
}

impl TrainConfig {
    /// Settings for a run of `task`: its loss and metrics (MSE, monitored with mode min, for
    /// regression), the rest as [`TrainConfig::default`].
    pub fn for_task(task: Task) -> Self {
        let t = Self::default();
        let watched = Metric::monitored(task);
        let monitor = Monitor::metric(watched);
        let monitor_mode = if watched.higher_is_better() {
            MonitorMode::Max
        } else {
            MonitorMode::Min
        };
        Self {
            loss: Loss::for_task(task),
            metrics: Metric::defaults(task),
            monitor,
            monitor_mode,
            ..t
        }
    }

    /// The settings' own ranges, and that the loss and every metric fit `task` (and the rows'
    /// groups, which gAUC and avgAUC need: `grouped` when the data has a `group_id`).
    pub fn validate(&self, task: Task, grouped: bool) -> Result<(), TrainError> {
        let bad = |key: &'static str, reason: &str| {
            Err(TrainError::Config {
                key,
                reason: reason.into(),
            })
        };
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad("learning_rate", "must be a positive number");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        if self.eval_steps == Some(0) {
            return bad(
                "eval_steps",
                "must be at least 1 (or null for once per epoch)",
            );
        }
        if self.monitor.terms.is_empty() {
            return bad("monitor", "names no metric");
        }
        if !(self.max_gradient_norm.is_finite() && self.max_gradient_norm > 0.0) {
            return bad("max_gradient_norm", "must be a positive number");
        }
        if let Some(reason) = self.loss.unfit_for(task) {
            return bad("loss", &reason);
        }
        // Why a reported or monitored metric cannot be computed for this run, if it cannot.
        let problem = |m: Metric| {
            if m.task() != task {
                Some(format!(
                    "{} is a metric of {}, and task is {}",
                    m.name(),
                    m.task().name(),
                    task.name()
                ))
            } else if m.is_grouped() && !grouped {
                Some(format!(
                    "{} needs each row's group: set group_id to a meta (or categorical) column",
                    m.name()
                ))
            } else {
                None
            }
        };
        if let Some(reason) = self.metrics.iter().find_map(|&m| problem(m)) {
            return bad("metrics", &reason);
        }
        if let Some(reason) = self.monitor.terms.iter().find_map(|&(m, _)| problem(m)) {
            return bad("monitor", &reason);
        }
        // FuxiCTR's default mode is max whatever it monitors; regression is not FuxiCTR's, so
        // a mode that would keep the worst model is refused rather than copied.
        if task == Task::Regression
            && self.monitor_mode == MonitorMode::Max
            && self
                .monitor
                .terms
                .iter()
                .all(|(m, w)| *w >= 0.0 && !m.higher_is_better())
        {
            return bad(
                "monitor_mode",
                "max would keep the model with the largest error; write monitor_mode: min",
            );
        }
        Ok(())
    }

    /// Metrics an evaluation computes: the monitor's, then the reported ones.
    pub fn evaluated_metrics(&self) -> Vec<Metric> {
        let mut out: Vec<Metric> = self.monitor.terms.iter().map(|(m, _)| *m).collect();
        for m in &self.metrics {
            if !out.contains(m) {
                out.push(*m);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_monitor_sums_its_terms() {
        let m = Monitor {
            terms: vec![(Metric::Auc, 1.0), (Metric::Logloss, -1.0)],
        };
        assert_eq!(
            m.value(&[(Metric::Logloss, 0.25), (Metric::Auc, 0.75)]),
            0.5
        );
        assert_eq!(
            Monitor::paper().value(&[(Metric::Auc, 0.9), (Metric::Logloss, 0.3)]),
            0.9
        );
    }

    #[test]
    fn invalid_settings_name_their_key() {
        let c = TrainConfig {
            batch_size: 0,
            ..TrainConfig::paper_frappe()
        };
        assert!(
            c.validate(Task::BinaryClassification, false)
                .unwrap_err()
                .to_string()
                .contains("batch_size")
        );
        let c = TrainConfig {
            eval_steps: Some(0),
            ..TrainConfig::paper_frappe()
        };
        assert!(
            c.validate(Task::BinaryClassification, false)
                .unwrap_err()
                .to_string()
                .contains("eval_steps")
        );
    }

    #[test]
    fn a_regression_run_takes_its_loss_and_metrics_and_refuses_classification_ones() {
        // A binary run is the seed table's defaults (the vocabulary's).
        assert_eq!(
            TrainConfig::for_task(Task::BinaryClassification),
            TrainConfig::default()
        );
        let r = TrainConfig::for_task(Task::Regression);
        assert_eq!(r.loss, Loss::MseLoss);
        assert_eq!(r.monitor_mode, MonitorMode::Min);
        r.validate(Task::Regression, false).unwrap();
        let err = |c: TrainConfig| c.validate(Task::Regression, false).unwrap_err().to_string();
        let bce = TrainConfig {
            loss: Loss::BinaryCrossentropy,
            ..r.clone()
        };
        assert!(err(bce).contains("loss"));
        let auc = TrainConfig {
            metrics: vec![Metric::Auc],
            ..r.clone()
        };
        assert!(err(auc).contains("AUC is a metric of binary_classification"));
        let monitor = TrainConfig {
            monitor: Monitor::metric(Metric::Logloss),
            ..r.clone()
        };
        assert!(err(monitor).contains("monitor"));
        let max = TrainConfig {
            monitor_mode: MonitorMode::Max,
            ..r.clone()
        };
        assert!(err(max).contains("monitor_mode"));
        let mse = TrainConfig {
            metrics: vec![Metric::Mse],
            ..TrainConfig::default()
        };
        assert!(
            mse.validate(Task::BinaryClassification, false)
                .unwrap_err()
                .to_string()
                .contains("metrics")
        );
        // FuxiCTR lets MSE train a classifier's probabilities.
        let brier = TrainConfig {
            loss: Loss::MseLoss,
            ..TrainConfig::default()
        };
        brier.validate(Task::BinaryClassification, false).unwrap();
    }

    #[test]
    fn grouped_metrics_need_the_rows_groups() {
        let c = TrainConfig {
            metrics: vec![Metric::Logloss, Metric::GAuc],
            ..TrainConfig::default()
        };
        c.validate(Task::BinaryClassification, true).unwrap();
        let err = c
            .validate(Task::BinaryClassification, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("metrics") && err.contains("group_id"), "{err}");
        let m = TrainConfig {
            monitor: Monitor::metric(Metric::AvgAuc),
            ..TrainConfig::default()
        };
        let err = m
            .validate(Task::BinaryClassification, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("monitor"), "{err}");
    }
}
