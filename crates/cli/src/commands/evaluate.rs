//! `qnn evaluate --model FILE --data CSV`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::Device;
use qnn_data::{EncodedDataset, Metric};
use qnn_model::{InputLayout, ModelFile, Qnn};

use crate::commands::train::metric_line;
use crate::data;
use crate::device::DeviceArg;

/// A model file and where to run it: shared by the commands that use a trained model.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// A model file written by `qnn train` or the browser trainer.
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Rows per forward pass.
    #[arg(long, default_value_t = 4096)]
    pub batch_size: usize,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,
    /// CSV with a header, the model's feature columns and its label column.
    #[arg(long)]
    pub data: PathBuf,
}

/// A model file loaded and built on a device.
#[derive(Debug)]
pub struct Loaded {
    pub file: ModelFile,
    pub model: Qnn,
    pub layout: InputLayout,
    pub device: Device,
}

pub fn load_model(path: &Path, device: DeviceArg) -> Result<Loaded> {
    // The model crate's errors already name the file.
    let file = ModelFile::load(path)?;
    let device = device.device()?;
    let model = file.build(&device)?;
    let layout = InputLayout::new(&file.feature_map)?;
    Ok(Loaded {
        file,
        model,
        layout,
        device,
    })
}

/// Loads the model, encodes `data` with its feature map and predicts every row.
pub fn predict_csv(
    args: &ModelArgs,
    data: &Path,
    with_label: bool,
) -> Result<(EncodedDataset, Vec<f32>)> {
    let loaded = load_model(&args.model, args.device)?;
    let encoded = data::encode_csv(&loaded.file.feature_map, data, with_label)?;
    let probs = pollster::block_on(qnn_train::predict(
        &loaded.model,
        &loaded.layout,
        &encoded,
        args.batch_size.max(1),
        &loaded.device,
    ))?;
    Ok((encoded, probs))
}

pub fn run(args: Args) -> Result<()> {
    let (data, probs) = predict_csv(&args.model, &args.data, true)?;
    let metrics = [Metric::Logloss, Metric::Auc]
        .into_iter()
        .map(|m| Ok((m, m.compute(data.labels(), &probs)?)))
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("{}", args.data.display()))?;
    println!("{} rows: {}", data.len(), metric_line(&metrics));
    Ok(())
}
