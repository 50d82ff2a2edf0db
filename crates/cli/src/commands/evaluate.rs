//! `qnn evaluate --model FILE --data CSV|PARQUET`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::Device;
use qnn_data::{CHUNK_ROWS, EncodedDataset, Evaluation};
use qnn_model::InputLayout;
use qnn_zoo::{Network, NetworkFile};
use tracing::warn;

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
    /// CSV with a header, the model's feature columns and its label column (or a parquet file,
    /// `.parquet`, with those columns).
    #[arg(long)]
    pub data: PathBuf,
}

/// A model file loaded and built on a device.
#[derive(Debug)]
pub struct Loaded {
    pub file: NetworkFile,
    pub model: Network,
    pub layout: InputLayout,
    pub device: Device,
}

pub fn load_model(path: &Path, device: DeviceArg) -> Result<Loaded> {
    // The model crate's errors already name the file.
    let file = NetworkFile::load(path)?;
    let device = device.device()?;
    let (model, layout) =
        Network::from_file(&file, &device).with_context(|| format!("{}", path.display()))?;
    Ok(Loaded {
        file,
        model,
        layout,
        device,
    })
}

/// Predicts every row of `data` with `loaded`, a chunk of rows at a time: `on_chunk` gets each
/// encoded chunk with its predictions. Returns the number of rows.
pub fn predict_csv(
    loaded: &Loaded,
    batch_size: usize,
    data: &Path,
    with_label: bool,
    mut on_chunk: impl FnMut(&EncodedDataset, &[f32]) -> Result<()>,
) -> Result<usize> {
    let mut rows = 0;
    for chunk in data::EncodedChunks::open(&loaded.file.feature_map, data, with_label, CHUNK_ROWS)?
    {
        let chunk = chunk?;
        let probs = pollster::block_on(qnn_train::predict(
            &loaded.model,
            &loaded.layout,
            &chunk,
            batch_size.max(1),
            &loaded.device,
        ))?;
        on_chunk(&chunk, &probs)?;
        rows += chunk.len();
    }
    Ok(rows)
}

pub fn run(args: Args) -> Result<()> {
    let loaded = load_model(&args.model.model, args.model.device)?;
    // AUC needs every prediction at once: 8 bytes a row are kept (16 with groups), not the
    // rows.
    let (mut labels, mut probs, mut groups) = (Vec::new(), Vec::new(), Vec::new());
    let rows = predict_csv(
        &loaded,
        args.model.batch_size,
        &args.data,
        true,
        |chunk, p| {
            labels.extend_from_slice(chunk.labels());
            probs.extend_from_slice(p);
            groups.extend_from_slice(chunk.groups().unwrap_or_default());
            Ok(())
        },
    )?;
    // A model trained with a group_id reads that column too, and reports the grouped AUCs.
    let grouped = loaded.file.feature_map.group_id.is_some() && groups.len() == labels.len();
    let groups = grouped.then_some(groups.as_slice());
    let data = args.data.display();
    let evaluation = Evaluation::of(loaded.layout.task, &labels, &probs, groups)
        .with_context(|| format!("{data}"))?;
    // A metric these rows cannot define (AUC over one class) leaves the others.
    for (_, reason) in &evaluation.undefined {
        warn!("{data}: {reason}");
    }
    println!("{rows} rows: {}", metric_line(&evaluation.values));
    Ok(())
}
