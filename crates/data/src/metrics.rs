//! Evaluation metrics exactly as FuxiCTR computes them (spec §C.9): float64, over a whole split.

use serde::{Deserialize, Serialize};

use crate::{DataError, Task};

/// Probability clipping of sklearn's `log_loss(eps=1e-7)`.
pub const LOGLOSS_EPS: f64 = 1e-7;

/// A metric FuxiCTR can monitor or report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Metric {
    #[serde(rename = "AUC")]
    Auc,
    #[serde(rename = "logloss")]
    Logloss,
    /// AUC within each `group_id` group, weighted by the group's rows (DIN's gAUC); groups with
    /// one class only are left out.
    #[serde(rename = "gAUC")]
    GAuc,
    /// The unweighted mean of the groups' AUCs (MIND's avgAUC).
    #[serde(rename = "avgAUC")]
    AvgAuc,
    /// Mean squared error (regression; FuxiCTR 2.0.1 has no regression metric).
    #[serde(rename = "MSE")]
    Mse,
    /// √MSE, in the label's unit.
    #[serde(rename = "RMSE")]
    Rmse,
    /// Mean absolute error.
    #[serde(rename = "MAE")]
    Mae,
}

impl Metric {
    /// FuxiCTR's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Auc => "AUC",
            Metric::Logloss => "logloss",
            Metric::GAuc => "gAUC",
            Metric::AvgAuc => "avgAUC",
            Metric::Mse => "MSE",
            Metric::Rmse => "RMSE",
            Metric::Mae => "MAE",
        }
    }

    /// The task whose predictions this metric judges: AUC and logloss need 0/1 labels and
    /// probabilities.
    pub fn task(self) -> Task {
        match self {
            Metric::Auc | Metric::Logloss | Metric::GAuc | Metric::AvgAuc => {
                Task::BinaryClassification
            }
            Metric::Mse | Metric::Rmse | Metric::Mae => Task::Regression,
        }
    }

    /// Whether a larger value is better (what `monitor_mode` should be when it is monitored).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Auc | Metric::GAuc | Metric::AvgAuc)
    }

    /// What evaluating a model file reports (`qnn evaluate`, the page's predictions): the
    /// task's metrics, and the grouped AUCs when the rows carry groups.
    pub fn reported(task: Task, grouped: bool) -> Vec<Metric> {
        let mut metrics = Self::defaults(task);
        if grouped && task.is_binary() {
            metrics.extend([Metric::GAuc, Metric::AvgAuc]);
        }
        metrics
    }

    /// Whether the metric needs each row's group (`group_id`).
    pub fn is_grouped(self) -> bool {
        matches!(self, Metric::GAuc | Metric::AvgAuc)
    }

    /// What a run of `task` reports when the config names no metrics.
    pub fn defaults(task: Task) -> Vec<Metric> {
        match task {
            Task::BinaryClassification => vec![Metric::Logloss, Metric::Auc],
            Task::Regression => vec![Metric::Mse, Metric::Rmse, Metric::Mae],
        }
    }

    /// What a run of `task` watches for early stopping when the config names no monitor
    /// (higher is better for AUC, lower for MSE).
    pub fn monitored(task: Task) -> Metric {
        match task {
            Task::BinaryClassification => Metric::Auc,
            Task::Regression => Metric::Mse,
        }
    }

    /// Every metric, in the order FuxiCTR's configs usually list them.
    pub const ALL: [Metric; 7] = [
        Metric::Logloss,
        Metric::Auc,
        Metric::GAuc,
        Metric::AvgAuc,
        Metric::Mse,
        Metric::Rmse,
        Metric::Mae,
    ];

    /// Parses FuxiCTR's spelling (case-insensitive, as users type it both ways).
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "auc" => Some(Metric::Auc),
            "logloss" | "binary_crossentropy" => Some(Metric::Logloss),
            "gauc" => Some(Metric::GAuc),
            "avgauc" => Some(Metric::AvgAuc),
            "mse" => Some(Metric::Mse),
            "rmse" => Some(Metric::Rmse),
            "mae" => Some(Metric::Mae),
            _ => None,
        }
    }

    /// The metric of predictions `probs` against `labels`; `groups` (each row's group) is
    /// needed by the grouped metrics only.
    pub fn compute(
        self,
        labels: &[f32],
        probs: &[f32],
        groups: Option<&[u64]>,
    ) -> Result<f64, DataError> {
        let grouped = |weighted| match groups {
            Some(g) => grouped_auc(labels, probs, g, weighted),
            None => Err(DataError::Metric(format!(
                "{} needs each row's group: set group_id to a column of the data",
                self.name()
            ))),
        };
        match self {
            Metric::Auc => auc(labels, probs),
            Metric::Logloss => logloss(labels, probs),
            Metric::GAuc => grouped(true),
            Metric::AvgAuc => grouped(false),
            Metric::Mse => mse(labels, probs),
            Metric::Rmse => mse(labels, probs).map(f64::sqrt),
            Metric::Mae => mae(labels, probs),
        }
    }
}

/// What evaluating a model on labelled rows reports (`qnn evaluate`, the page's predictions).
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The task's metrics, and the grouped AUCs when the rows carry groups, that the rows define.
    pub values: Vec<(Metric, f64)>,
    /// Those the rows leave undefined (AUC over rows of one class), each with the reason, which
    /// names the metric.
    pub undefined: Vec<(Metric, String)>,
}

impl Evaluation {
    /// Each metric on its own, so that one the rows cannot define leaves the others; rows and
    /// predictions that do not match are an error.
    pub fn of(
        task: Task,
        labels: &[f32],
        probs: &[f32],
        groups: Option<&[u64]>,
    ) -> Result<Self, DataError> {
        check_lengths(labels, probs)?;
        let mut evaluation = Evaluation {
            values: Vec::new(),
            undefined: Vec::new(),
        };
        for metric in Metric::reported(task, groups.is_some()) {
            match metric.compute(labels, probs, groups) {
                Ok(v) => evaluation.values.push((metric, v)),
                Err(DataError::Metric(reason)) => evaluation.undefined.push((metric, reason)),
                Err(e) => return Err(e),
            }
        }
        Ok(evaluation)
    }
}

fn check_lengths(labels: &[f32], probs: &[f32]) -> Result<(), DataError> {
    if labels.len() != probs.len() {
        return Err(DataError::Shape(format!(
            "{} labels but {} predictions",
            labels.len(),
            probs.len()
        )));
    }
    if labels.is_empty() {
        return Err(DataError::Metric("no rows to evaluate".into()));
    }
    Ok(())
}

/// Mean negative log-likelihood with probabilities clipped to `[1e-7, 1 - 1e-7]`.
pub fn logloss(labels: &[f32], probs: &[f32]) -> Result<f64, DataError> {
    check_lengths(labels, probs)?;
    let total: f64 = labels
        .iter()
        .zip(probs)
        .map(|(&y, &p)| {
            let p = f64::from(p).clamp(LOGLOSS_EPS, 1.0 - LOGLOSS_EPS);
            let y = f64::from(y);
            -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        })
        .sum();
    Ok(total / labels.len() as f64)
}

/// Mean squared error in float64.
pub fn mse(labels: &[f32], predictions: &[f32]) -> Result<f64, DataError> {
    mean_error(labels, predictions, |d| d * d)
}

/// Mean absolute error in float64.
pub fn mae(labels: &[f32], predictions: &[f32]) -> Result<f64, DataError> {
    mean_error(labels, predictions, f64::abs)
}

fn mean_error(
    labels: &[f32],
    predictions: &[f32],
    error: impl Fn(f64) -> f64,
) -> Result<f64, DataError> {
    check_lengths(labels, predictions)?;
    let total: f64 = labels
        .iter()
        .zip(predictions)
        .map(|(&y, &p)| error(f64::from(p) - f64::from(y)))
        .sum();
    Ok(total / labels.len() as f64)
}

/// FuxiCTR's gAUC (`weighted`: each group's AUC weighted by its rows) or avgAUC (unweighted)
/// over the groups that have both classes; an error when none has.
pub fn grouped_auc(
    labels: &[f32],
    probs: &[f32],
    groups: &[u64],
    weighted: bool,
) -> Result<f64, DataError> {
    check_lengths(labels, probs)?;
    if groups.len() != labels.len() {
        return Err(DataError::Shape(format!(
            "{} groups for {} labels",
            groups.len(),
            labels.len()
        )));
    }
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by_key(|&i| groups[i]);
    let (mut sum, mut weight) = (0.0f64, 0.0f64);
    let (mut group_labels, mut group_probs) = (Vec::new(), Vec::new());
    for rows in order.chunk_by(|&a, &b| groups[a] == groups[b]) {
        group_labels.clear();
        group_probs.clear();
        group_labels.extend(rows.iter().map(|&i| labels[i]));
        group_probs.extend(rows.iter().map(|&i| probs[i]));
        let positives = group_labels.iter().filter(|&&y| y > 0.5).count();
        if positives == 0 || positives == rows.len() {
            continue;
        }
        let n = if weighted { rows.len() as f64 } else { 1.0 };
        sum += auc(&group_labels, &group_probs)? * n;
        weight += n;
    }
    if weight == 0.0 {
        let name = if weighted { "gAUC" } else { "avgAUC" };
        return Err(DataError::Metric(format!(
            "{name} is undefined: no group has both classes, so no group has an AUC"
        )));
    }
    Ok(sum / weight)
}

/// Area under the ROC curve, with tied scores given their averaged rank (sklearn's
/// `roc_auc_score`). Fails when only one class is present, as sklearn does.
pub fn auc(labels: &[f32], probs: &[f32]) -> Result<f64, DataError> {
    check_lengths(labels, probs)?;
    if let Some(i) = probs.iter().position(|p| p.is_nan()) {
        return Err(DataError::Metric(format!("prediction {i} is NaN")));
    }
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_unstable_by(|&a, &b| probs[a].total_cmp(&probs[b]));

    let mut positive_rank_sum = 0.0f64;
    let mut positives = 0usize;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && probs[order[end]] == probs[order[start]] {
            end += 1;
        }
        // Ranks are 1-based; a tie group [start, end) shares the mean of its ranks.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            if labels[i] > 0.5 {
                positive_rank_sum += mean_rank;
                positives += 1;
            }
        }
        start = end;
    }
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(DataError::Metric(
            "AUC is undefined: only one class is present in the labels".into(),
        ));
    }
    let p = positives as f64;
    Ok((positive_rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// How a score spreads over runs that differ only in their seed: one run is a draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub runs: usize,
    pub mean: f64,
    /// The sample standard deviation (n − 1; 0 for one run).
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` for none.
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Some(Spread {
            runs: values.len(),
            mean,
            std,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn auc_of_perfect_reversed_and_hand_computed_ties() {
        assert_eq!(auc(&[0., 0., 1., 1.], &[0.1, 0.2, 0.3, 0.4]).unwrap(), 1.0);
        assert_eq!(auc(&[1., 1., 0., 0.], &[0.1, 0.2, 0.3, 0.4]).unwrap(), 0.0);
        // Pairs (pos, neg): (0.5 vs 0.5) tie = 1/2, (0.5 vs 0.1) = 1, (0.9 vs 0.5) = 1,
        // (0.9 vs 0.1) = 1 → 3.5 / 4.
        assert_eq!(
            auc(&[1., 0., 1., 0.], &[0.5, 0.5, 0.9, 0.1]).unwrap(),
            0.875
        );
        // All scores tied: 0.5 whatever the labels.
        assert_eq!(auc(&[1., 0., 0.], &[0.3, 0.3, 0.3]).unwrap(), 0.5);
        // Positives 0.4, 0.4, 0.8 against negatives 0.2, 0.4, 0.1: each 0.4 wins twice and ties
        // once (2.5), 0.8 wins three times → 8 / 9.
        let v = auc(&[0., 1., 1., 0., 1., 0.], &[0.2, 0.4, 0.4, 0.4, 0.8, 0.1]).unwrap();
        assert!((v - 8.0 / 9.0).abs() < 1e-15, "{v}");
    }

    #[test]
    fn auc_needs_both_classes() {
        assert!(auc(&[1., 1.], &[0.2, 0.3]).is_err());
        assert!(auc(&[], &[]).is_err());
    }

    #[test]
    fn logloss_clips_like_sklearn() {
        // -ln(1e-7) for a certain wrong answer, 0-ish for certain right ones.
        let v = logloss(&[1.0], &[0.0]).unwrap();
        assert!((v - 16.118_095_650_958_32).abs() < 1e-9, "{v}");
        let v = logloss(&[1.0, 0.0], &[0.8, 0.4]).unwrap();
        let expected = -(0.8f64.ln() + 0.6f64.ln()) / 2.0;
        assert!((v - expected).abs() < 1e-7, "{v} vs {expected}");
    }

    fn brute_force_auc(labels: &[f32], probs: &[f32]) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for (i, &yi) in labels.iter().enumerate() {
            for (j, &yj) in labels.iter().enumerate() {
                if yi == 1.0 && yj == 0.0 {
                    den += 1.0;
                    num += if probs[i] > probs[j] {
                        1.0
                    } else if probs[i] == probs[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        num / den
    }

    proptest! {
        #[test]
        fn auc_equals_pairwise_definition(
            rows in prop::collection::vec((0u8..2, 0u8..6), 2..40)
        ) {
            let labels: Vec<f32> = rows.iter().map(|r| r.0 as f32).collect();
            // Few distinct scores so that ties are common.
            let probs: Vec<f32> = rows.iter().map(|r| r.1 as f32 / 5.0).collect();
            prop_assume!(labels.contains(&0.0) && labels.contains(&1.0));
            let fast = auc(&labels, &probs).unwrap();
            prop_assert!((fast - brute_force_auc(&labels, &probs)).abs() < 1e-12);
        }
    }

    #[test]
    fn regression_metrics_by_hand() {
        let (y, p) = ([1.0, -2.0, 0.5, 4.0], [1.5, -2.0, -0.5, 2.0]);
        // errors 0.5, 0, −1, −2: squares 0.25 + 0 + 1 + 4 = 5.25, absolutes 3.5.
        assert_eq!(Metric::Mse.compute(&y, &p, None).unwrap(), 5.25 / 4.0);
        assert_eq!(
            Metric::Rmse.compute(&y, &p, None).unwrap(),
            (5.25f64 / 4.0).sqrt()
        );
        assert_eq!(Metric::Mae.compute(&y, &p, None).unwrap(), 3.5 / 4.0);
        assert!(Metric::Mse.compute(&y, &p[..3], None).is_err());
        for m in Metric::defaults(Task::Regression) {
            assert_eq!(m.task(), Task::Regression);
            assert_eq!(Metric::parse(m.name()), Some(m));
            assert!(!m.higher_is_better());
        }
    }

    #[test]
    fn every_metric_is_listed_once_and_read_back_by_its_name() {
        for (i, m) in Metric::ALL.into_iter().enumerate() {
            assert_eq!(Metric::parse(m.name()), Some(m));
            assert!(!Metric::ALL[..i].contains(&m), "{m:?} twice");
        }
    }

    #[test]
    fn an_evaluation_keeps_what_the_rows_define_and_names_what_they_do_not() {
        let binary = Task::BinaryClassification;
        let labels = [1., 0., 1., 1.];
        let probs = [0.9, 0.5, 0.6, 0.4];
        let all = Evaluation::of(binary, &labels, &probs, None).unwrap();
        assert_eq!(
            all.values.iter().map(|(m, _)| *m).collect::<Vec<_>>(),
            [Metric::Logloss, Metric::Auc]
        );
        assert_eq!(all.values[1].1, 2.0 / 3.0);
        assert!(all.undefined.is_empty());
        // Positives only: logloss stands, AUC cannot, and says why.
        let ones = [1.; 4];
        let some = Evaluation::of(binary, &ones, &probs, None).unwrap();
        assert_eq!(
            some.values,
            [(Metric::Logloss, logloss(&ones, &probs).unwrap())]
        );
        assert_eq!(some.undefined.len(), 1);
        assert_eq!(some.undefined[0].0, Metric::Auc);
        assert_eq!(
            some.undefined[0].1,
            "AUC is undefined: only one class is present in the labels"
        );
        // Groups with one class each: the grouped AUCs are undefined, the plain ones are not.
        let grouped = Evaluation::of(binary, &labels, &probs, Some(&[1, 2, 3, 4])).unwrap();
        assert_eq!(grouped.values.len(), 2);
        assert_eq!(
            grouped
                .undefined
                .iter()
                .map(|(m, _)| *m)
                .collect::<Vec<_>>(),
            [Metric::GAuc, Metric::AvgAuc]
        );
        assert!(
            grouped.undefined[1].1.starts_with("avgAUC is undefined: "),
            "{grouped:?}"
        );
        // Rows and predictions that do not match are no evaluation at all.
        assert!(Evaluation::of(binary, &labels, &probs[..3], None).is_err());
        let regression = Evaluation::of(Task::Regression, &[3., 4.], &[3.5, 4.], None).unwrap();
        assert_eq!(regression.values.len(), 3);
    }

    /// By hand: group 1 (rows 0, 3, 6) has AUC 1/2 — (0.9 > 0.4) but (0.3 < 0.4); group 2
    /// (rows 1, 4, 7, 8) has AUC 3.5/4 with one tie; group 3 (positives only) and group 4 (one
    /// row) have no AUC and are left out, as FuxiCTR leaves them out.
    /// gAUC = (0.5·3 + 0.875·4) / 7 = 5/7, avgAUC = (0.5 + 0.875) / 2.
    #[test]
    fn grouped_aucs_by_hand() {
        let labels = [1., 0., 1., 0., 1., 1., 1., 0., 1., 0.];
        let probs = [0.9, 0.1, 0.2, 0.4, 0.8, 0.7, 0.3, 0.5, 0.5, 0.6];
        let groups = [1, 2, 3, 1, 2, 3, 1, 2, 2, 4];
        let g = Metric::GAuc
            .compute(&labels, &probs, Some(&groups))
            .unwrap();
        assert!((g - 5.0 / 7.0).abs() < 1e-12, "{g}");
        let a = Metric::AvgAuc
            .compute(&labels, &probs, Some(&groups))
            .unwrap();
        assert!((a - 0.6875).abs() < 1e-12, "{a}");
        // One group of everything is the plain AUC.
        let one = [7u64; 10];
        assert_eq!(
            Metric::GAuc.compute(&labels, &probs, Some(&one)).unwrap(),
            auc(&labels, &probs).unwrap()
        );
        assert!(
            Metric::GAuc
                .compute(&labels, &probs, None)
                .unwrap_err()
                .to_string()
                .contains("group_id")
        );
        let singles: Vec<u64> = (0..10).collect();
        assert!(
            Metric::AvgAuc
                .compute(&labels, &probs, Some(&singles))
                .is_err()
        );
        assert!(
            Metric::GAuc
                .compute(&labels, &probs, Some(&groups[..9]))
                .is_err()
        );
        assert_eq!(
            Metric::reported(Task::BinaryClassification, true),
            [Metric::Logloss, Metric::Auc, Metric::GAuc, Metric::AvgAuc]
        );
        assert_eq!(
            Metric::reported(Task::Regression, true),
            Metric::defaults(Task::Regression)
        );
        assert_eq!(Metric::parse("gAUC"), Some(Metric::GAuc));
        assert_eq!(Metric::parse("avgAUC"), Some(Metric::AvgAuc));
    }

    #[test]
    fn a_spread_by_hand() {
        // Mean 0.8; squared deviations 0.01, 0, 0.01 over n − 1 = 2: variance 0.01.
        let s = Spread::of(&[0.7, 0.8, 0.9]).unwrap();
        assert_eq!((s.runs, s.min, s.max), (3, 0.7, 0.9));
        assert!(
            (s.mean - 0.8).abs() < 1e-12 && (s.std - 0.1).abs() < 1e-12,
            "{s:?}"
        );
        assert_eq!(Spread::of(&[0.5]).unwrap().std, 0.0);
        assert_eq!(Spread::of(&[]), None);
    }
}
