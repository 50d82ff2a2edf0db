//! `qnn predict --model FILE --data CSV --out CSV`: every input row, plus the model's output
//! (a probability for binary classification, the predicted value for regression). A parquet
//! input gives that column alone, row for row.

use std::fs;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::commands::evaluate::{Loaded, ModelArgs, load_model, predict_csv};
use crate::files::{refuse_overwriting_inputs, write_atomic_with};
use qnn_data::csv_table::AppendColumn;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,
    /// CSV with a header and the model's feature columns (a label column is not needed), or a
    /// parquet file (`.parquet`) with those columns.
    #[arg(long)]
    pub data: PathBuf,
    /// Where to write the input rows with the added column (a CSV; for a parquet input, the
    /// added column alone, one line per input row).
    #[arg(long)]
    pub out: PathBuf,
    /// Name of the added column [default: `probability`, or `prediction` for a regression
    /// model].
    #[arg(long)]
    pub column: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    refuse_overwriting_inputs(
        ("--out", &args.out),
        &[("--data", &args.data), ("--model", &args.model.model)],
    )?;
    let loaded = load_model(&args.model.model, args.model.device)?;
    let column = args
        .column
        .clone()
        .unwrap_or_else(|| loaded.layout.task.prediction_column().to_string());
    if qnn_data::raw_rows::is_parquet_path(&args.data.display().to_string()) {
        return predict_parquet(args, &loaded, &column);
    }
    // One pass encodes and predicts a chunk of rows; a second reader copies the same rows to the
    // output with their probabilities, so memory holds one chunk whatever the file's size.
    let input = fs::File::open(&args.data)
        .with_context(|| format!("cannot open {}", args.data.display()))?;
    let source = args.data.display().to_string();
    let mut rows = 0;
    write_atomic_with(&args.out, |out| {
        let mut copy = AppendColumn::new(
            BufReader::new(input),
            &source,
            &column,
            BufWriter::with_capacity(1 << 20, out),
        )
        .map_err(|e| match &e.column {
            Some(c) if *c == column => {
                anyhow::anyhow!("{e}: choose another name with --column")
            }
            _ => e.into(),
        })?;
        rows = predict_csv(&loaded, args.model.batch_size, &args.data, false, |_, p| {
            Ok(copy.append(p)?)
        })?;
        copy.finish()?.flush()?;
        Ok(())
    })?;
    println!(
        "{rows} rows with `{column}` written to {}",
        args.out.display()
    );
    Ok(())
}

/// A parquet input's rows are not copied (a CSV could not hold every parquet type); its
/// predictions are written in row order under a header, to be joined back by position.
fn predict_parquet(args: Args, loaded: &Loaded, column: &str) -> Result<()> {
    let mut rows = 0;
    write_atomic_with(&args.out, |out| {
        let mut csv = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, out));
        csv.write_record([column])?;
        rows = predict_csv(
            loaded,
            args.model.batch_size,
            &args.data,
            false,
            |_, probs| {
                for p in probs {
                    csv.write_record([p.to_string()])?;
                }
                Ok(())
            },
        )?;
        csv.into_inner()
            .map_err(|e| anyhow::anyhow!("{}", e.error()))?
            .flush()?;
        Ok(())
    })?;
    println!(
        "{rows} rows: `{column}` of each, in row order, written to {}",
        args.out.display()
    );
    Ok(())
}
