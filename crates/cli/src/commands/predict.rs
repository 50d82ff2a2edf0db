//! `qnn predict --model FILE --data CSV --out CSV`: every input row, plus a probability column.
//! A parquet input gives the probability column alone, row for row.

use std::fs;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::commands::evaluate::{ModelArgs, predict_csv};
use crate::files::write_atomic_with;
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
    /// Name of the added column.
    #[arg(long, default_value = "probability")]
    pub column: String,
}

pub fn run(args: Args) -> Result<()> {
    if qnn_data::raw_rows::is_parquet_path(&args.data.display().to_string()) {
        return predict_parquet(args);
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
            &args.column,
            BufWriter::with_capacity(1 << 20, out),
        )
        .map_err(|e| match &e.column {
            Some(c) if *c == args.column => {
                anyhow::anyhow!("{e}: choose another name with --column")
            }
            _ => e.into(),
        })?;
        rows = predict_csv(&args.model, &args.data, false, |_, probs| {
            Ok(copy.append(probs)?)
        })?;
        copy.finish()?.flush()?;
        Ok(())
    })?;
    println!(
        "{rows} rows with `{}` written to {}",
        args.column,
        args.out.display()
    );
    Ok(())
}

/// A parquet input's rows are not copied (a CSV could not hold every parquet type); its
/// probabilities are written in row order under a header, to be joined back by position.
fn predict_parquet(args: Args) -> Result<()> {
    let mut rows = 0;
    write_atomic_with(&args.out, |out| {
        let mut csv = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, out));
        csv.write_record([&args.column])?;
        rows = predict_csv(&args.model, &args.data, false, |_, probs| {
            for p in probs {
                csv.write_record([p.to_string()])?;
            }
            Ok(())
        })?;
        csv.into_inner()
            .map_err(|e| anyhow::anyhow!("{}", e.error()))?
            .flush()?;
        Ok(())
    })?;
    println!(
        "{rows} rows: `{}` of each, in row order, written to {}",
        args.column,
        args.out.display()
    );
    Ok(())
}
