//! Prediction and evaluation over whole splits (spec §C.7 "Evaluation", §C.9).

use burn::module::Module;
use burn::tensor::Device;
use qnn_data::{EncodedDataset, Metric};
use qnn_model::{InputLayout, ModelInput, Qnn, read_values};

use crate::TrainError;

/// Probabilities for every row of `data`, in row order, from one eval-mode pass.
pub async fn predict(
    model: &Qnn,
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
        probs.extend(read_values(model.predict(&input)).await?);
        start = end;
    }
    Ok(probs)
}

/// The given metrics of `model` on `data`, in the given order.
pub async fn evaluate(
    model: &Qnn,
    layout: &InputLayout,
    data: &EncodedDataset,
    batch_size: usize,
    metrics: &[Metric],
    device: &Device,
) -> Result<Vec<(Metric, f64)>, TrainError> {
    let probs = predict(model, layout, data, batch_size, device).await?;
    metrics
        .iter()
        .map(|&m| Ok((m, m.compute(data.labels(), &probs)?)))
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

/// The end of `run_expid.py`: one validation pass (monitor and reported metrics together), then
/// the test split when there is one. The CLI and the browser both report through this.
pub async fn final_report(
    model: &Qnn,
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
