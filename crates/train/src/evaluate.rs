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
