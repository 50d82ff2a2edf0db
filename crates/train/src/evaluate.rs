//! Prediction and evaluation over whole splits (spec §C.7 "Evaluation", §C.9).

use burn::module::Module;
use burn::tensor::Device;
use qnn_data::{EncodedDataset, Metric};
use qnn_model::{InputLayout, ModelInput, read_values};
use qnn_zoo::Network;

use crate::TrainError;

/// The model's outputs (probabilities for binary classification) for every row of `data`, in
/// row order, from one eval-mode pass.
pub async fn predict(
    model: &Network,
    layout: &InputLayout,
    data: &EncodedDataset,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<f32>, TrainError> {
    // Evaluation needs no graph: run on the plain device.
    let model = model.valid();
    let device = device.clone().without_autodiff();
    let mut probs = Vec::with_capacity(data.len());
    let mut start = 0;
    while start < data.len() {
        let end = (start + batch_size).min(data.len());
        let input = ModelInput::new(&data.range(start, end), layout, &device)?;
        probs.extend(read_values(model.predict(&input, layout.task)).await?);
        start = end;
    }
    Ok(probs)
}

/// The given metrics of `model` on `data`, in the given order.
pub async fn evaluate(
    model: &Network,
    layout: &InputLayout,
    data: &EncodedDataset,
    batch_size: usize,
    metrics: &[Metric],
    device: &Device,
) -> Result<Vec<(Metric, f64)>, TrainError> {
    let probs = predict(model, layout, data, batch_size, device).await?;
    scores(metrics, data, &probs)
}

/// The given metrics of predictions `probs` for the rows of `data`, in the given order.
pub fn scores(
    metrics: &[Metric],
    data: &EncodedDataset,
    probs: &[f32],
) -> Result<Vec<(Metric, f64)>, TrainError> {
    metrics
        .iter()
        .map(|&m| Ok((m, m.compute(data.labels(), probs, data.groups())?)))
        .collect()
}

/// What FuxiCTR reports after training: the configured metrics on valid and test, and the
/// monitor on valid (signed so that higher is better).
#[derive(Debug, Clone, PartialEq)]
pub struct FinalReport {
    pub valid: Vec<(Metric, f64)>,
    pub monitor_score: f64,
    pub test: Option<Vec<(Metric, f64)>>,
}

/// Who made a model file and how: the run a model file's `info` records (`qnn inspect` and the
/// page show it).
#[derive(Debug, Clone, Copy)]
pub struct RunRecord<'a> {
    pub expid: &'a str,
    pub dataset_id: &'a str,
    /// The program and version, e.g. `qnn 0.1.0`.
    pub trained_by: &'a str,
    pub epochs: usize,
    pub train: &'a crate::TrainConfig,
}

/// Metrics as a JSON object keyed by FuxiCTR's metric names.
fn metrics_json(metrics: &[(Metric, f64)]) -> serde_json::Value {
    serde_json::Value::Object(
        metrics
            .iter()
            .map(|(k, v)| (k.name().to_string(), serde_json::json!(v)))
            .collect(),
    )
}

impl FinalReport {
    /// The model file's `info` for a run that ended with this report; the CLI and the browser
    /// write the same keys, so each reads the other's files.
    pub fn model_info(&self, run: RunRecord<'_>) -> serde_json::Value {
        serde_json::json!({
            "expid": run.expid,
            "dataset_id": run.dataset_id,
            "trained_by": run.trained_by,
            "epochs": run.epochs,
            "train": run.train,
            "valid": metrics_json(&self.valid),
            "test": self.test.as_deref().map(metrics_json),
        })
    }
}

/// The end of `run_expid.py`: one validation pass (monitor and reported metrics together), then
/// the test split when there is one.
pub(crate) async fn final_report(
    model: &Network,
    layout: &InputLayout,
    valid: &EncodedDataset,
    test: Option<&EncodedDataset>,
    config: &crate::TrainConfig,
    device: &Device,
) -> Result<FinalReport, TrainError> {
    let batch = config.batch_size;
    let all = evaluate(
        model,
        layout,
        valid,
        batch,
        &config.evaluated_metrics(),
        device,
    )
    .await?;
    let valid_metrics = config
        .metrics
        .iter()
        .filter_map(|m| all.iter().find(|(k, _)| k == m).copied())
        .collect();
    let monitor = config.monitor.value(&all);
    let monitor_score = match config.monitor_mode {
        crate::MonitorMode::Max => monitor,
        crate::MonitorMode::Min => -monitor,
    };
    let test = match test {
        Some(t) => Some(evaluate(model, layout, t, batch, &config.metrics, device).await?),
        None => None,
    };
    Ok(FinalReport {
        valid: valid_metrics,
        monitor_score,
        test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrainConfig;

    #[test]
    fn model_info_names_the_run_and_its_scores() {
        let train = TrainConfig::paper_frappe();
        let report = FinalReport {
            valid: vec![(Metric::Logloss, 0.25), (Metric::Auc, 0.75)],
            monitor_score: 0.75,
            test: None,
        };
        let info = report.model_info(RunRecord {
            expid: "QNN_demo",
            dataset_id: "planted",
            trained_by: "qnn 9.9",
            epochs: 3,
            train: &train,
        });
        assert_eq!(info["expid"], "QNN_demo");
        assert_eq!(info["dataset_id"], "planted");
        assert_eq!(info["trained_by"], "qnn 9.9");
        assert_eq!(info["epochs"], 3);
        assert_eq!(info["valid"]["AUC"], 0.75);
        assert_eq!(info["valid"]["logloss"], 0.25);
        assert!(info["test"].is_null());
        assert_eq!(info["train"]["batch_size"], train.batch_size);
    }
}
